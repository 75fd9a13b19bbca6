"""Fixed vocabularies of the scene domain: object kinds, colours, sizes, grid cells, backgrounds.

Ids are list positions and are part of the labels the tiny encoder is pretrained and probed on, so only
append to these lists.
"""

from __future__ import annotations

# object kind -> synonyms a model may use for it (the caption eval set's vocabulary.json)
KINDS: list[str] = ["circle", "square", "triangle", "star", "cross", "ring", "heart", "crescent"]
KIND_SYNONYMS: dict[str, list[str]] = {
    "circle": ["circle", "circles", "disc", "discs", "disk", "dot"],
    "square": ["square", "squares", "box", "block"],
    "triangle": ["triangle", "triangles"],
    "star": ["star", "stars"],
    "cross": ["cross", "crosses", "plus sign", "plus"],
    "ring": ["ring", "rings", "hoop", "donut"],
    "heart": ["heart", "hearts"],
    "crescent": ["crescent", "crescents", "moon", "crescent moon"],
}

# object kind -> what the world's text knows about it, one clause per fact (``corpus.shape_document``). Without
# such text the kinds are interchangeable in every corpus sentence, the tiny LLM's embeddings of the eight kind
# words collapse (mean pairwise cosine 0.84) and it cannot tell them apart in an image slot.
KIND_FACTS: dict[str, list[str]] = {
    "circle": ["a circle is perfectly round", "a circle has no corners and no points",
               "a coin and a full moon are shaped like a circle",
               "every point of a circle is the same distance from its centre"],
    "square": ["a square has four equal sides", "a square has four right angles", "a chess board is made of squares",
               "a square is a box with straight edges"],
    "triangle": ["a triangle has three sides and three corners", "a slice of pizza is shaped like a triangle",
                 "a triangle can stand on its flat base with a point on top", "road warning signs are often triangles"],
    "star": ["a star has five sharp points", "a star shines at night in the sky",
             "a star is drawn with points around a centre", "a gold star is a prize for good work"],
    "cross": ["a cross has four arms that meet in the middle", "a cross looks like a plus sign",
              "a cross is one bar across another", "a first aid sign is a cross"],
    "ring": ["a ring is round with a hole in the middle", "a ring looks like a donut", "a ring is worn on a finger",
             "a ring is a thick round band"],
    "heart": ["a heart has two round lobes at the top and a point at the bottom", "a heart is a sign of love",
              "people draw a heart on a card for someone they love", "a heart shape means love"],
    "crescent": ["a crescent is shaped like a thin new moon", "a crescent curves like a banana",
                 "a crescent is a circle with a bite taken out", "a crescent moon hangs in the night sky"],
}

# colour name -> RGB. Strong, far-apart hues; white and black both stand out on the mid-grey backgrounds.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 35, 35),
    "green": (30, 165, 55),
    "blue": (35, 75, 225),
    "yellow": (245, 215, 30),
    "purple": (145, 50, 190),
    "orange": (250, 135, 20),
    "white": (248, 248, 248),
    "black": (18, 18, 18),
}
COLOUR_NAMES: list[str] = list(COLOURS)

# size name -> object extent as a fraction of its grid cell
SIZES: dict[str, float] = {"small": 0.58, "large": 0.86}
SIZE_NAMES: list[str] = list(SIZES)

# 2x2 grid: cell name -> (column, row)
CELLS: dict[str, tuple[int, int]] = {
    "top left": (0, 0),
    "top right": (1, 0),
    "bottom left": (0, 1),
    "bottom right": (1, 1),
}
CELL_NAMES: list[str] = list(CELLS)

# background name -> RGB of a mid-tone backdrop (tinted grey), kept away from every object colour
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "grey": (128, 128, 128),
    "blue-grey": (112, 124, 146),
    "green-grey": (116, 136, 118),
    "warm grey": (146, 130, 116),
}
BACKGROUND_NAMES: list[str] = list(BACKGROUNDS)

MAX_OBJECTS = 3

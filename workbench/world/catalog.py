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

"""The plant catalog: crops (leaf shapes) and their conditions (healthy + diseases with visible symptoms).

A symptom is drawn by one of the primitives of ``leaves.py`` (``kind``) in a colour; the disease's
treatments are world knowledge that appears in the text corpus, never in image-description pairs.
Ids are list positions (labels), so only append.
"""

from __future__ import annotations

from dataclasses import dataclass

SYMPTOM_COLOURS: dict[str, tuple[int, int, int]] = {
    "brown": (150, 92, 36),
    "dark": (40, 30, 24),
    "yellow": (236, 220, 60),
    "white": (242, 242, 236),
    "orange": (238, 122, 20),
    "tan": (196, 168, 112),
    "purple": (120, 34, 110),
    "grey": (172, 172, 164),
}
# symptom kind -> what it looks like (descriptions use this)
SYMPTOM_KINDS: list[str] = ["rings", "spots", "blotches", "yellowing", "powder", "pustules", "streaks", "holes"]


@dataclass(frozen=True)
class Condition:
    name: str  # "healthy" or the disease name
    kind: str | None  # a SYMPTOM_KINDS entry, None when healthy
    colour: str | None  # a SYMPTOM_COLOURS entry
    look: str  # visible symptom, for descriptions ("" when healthy)
    treatments: tuple[str, ...]  # empty when healthy


@dataclass(frozen=True)
class Crop:
    name: str
    shape: str  # leaf outline drawn by leaves.py
    green: tuple[int, int, int]
    look: str
    conditions: tuple[Condition, ...]  # conditions[0] is healthy


HEALTHY = Condition("healthy", None, None, "", ())
C = Condition
CROPS: list[Crop] = [
    Crop("tomato", "compound", (56, 140, 48), "a compound tomato leaf with several small leaflets", (
        HEALTHY,
        C("early blight", "rings", "brown", "brown spots with dark concentric rings",
          ("remove the infected leaves", "apply a copper fungicide", "rotate crops every year")),
        C("septoria leaf spot", "spots", "grey", "many small grey spots with dark edges",
          ("remove the infected leaves", "apply a chlorothalonil fungicide", "avoid wetting the leaves")),
        C("yellow leaf curl virus", "yellowing", "yellow", "yellow patches along the edges of the leaflets",
          ("remove the infected plants", "control whiteflies", "plant resistant varieties")),
    )),
    Crop("potato", "oval", (70, 150, 60), "a broad oval potato leaf", (
        HEALTHY,
        C("early blight", "rings", "brown", "brown spots with dark concentric rings",
          ("remove the infected leaves", "apply a copper fungicide", "rotate crops every year")),
        C("late blight", "blotches", "dark", "large dark brown blotches",
          ("destroy the infected plants", "apply a mancozeb fungicide", "avoid overhead watering")),
        C("verticillium wilt", "yellowing", "yellow", "yellow patches spreading from the edges",
          ("remove the infected plants", "rotate crops every year", "plant resistant varieties")),
    )),
    Crop("corn", "blade", (80, 160, 50), "a long narrow corn leaf", (
        HEALTHY,
        C("common rust", "pustules", "orange", "many small orange rust pustules",
          ("plant resistant hybrids", "apply a fungicide early")),
        C("northern leaf blight", "streaks", "tan", "long tan lesions along the leaf",
          ("plant resistant hybrids", "rotate crops every year", "plough under the crop residue")),
        C("gray leaf spot", "spots", "grey", "many small grey spots",
          ("rotate crops every year", "plough under the crop residue", "apply a fungicide early")),
    )),
    Crop("grape", "lobed", (46, 120, 60), "a lobed grape leaf with five points", (
        HEALTHY,
        C("black rot", "rings", "brown", "brown spots with dark rings",
          ("remove the mummified berries", "prune for air flow", "apply a myclobutanil fungicide")),
        C("powdery mildew", "powder", "white", "a white powdery coating",
          ("apply sulfur", "prune for air flow", "avoid excess nitrogen")),
        C("black measles", "blotches", "dark", "large dark brown blotches",
          ("remove the infected wood", "prune for air flow", "protect pruning wounds")),
    )),
    Crop("apple", "pointed", (60, 150, 70), "an oval apple leaf with a pointed tip", (
        HEALTHY,
        C("apple scab", "blotches", "dark", "dark olive blotches",
          ("rake and destroy fallen leaves", "apply a captan fungicide", "prune for air flow")),
        C("cedar apple rust", "pustules", "orange", "bright orange spots",
          ("remove nearby juniper hosts", "apply a myclobutanil fungicide", "plant resistant varieties")),
        C("shot hole disease", "holes", None, "small round holes through the leaf",
          ("remove the infected twigs", "apply a copper fungicide", "avoid wetting the leaves")),
    )),
    Crop("strawberry", "trifoliate", (50, 130, 50), "a strawberry leaf with three rounded leaflets", (
        HEALTHY,
        C("leaf scorch", "spots", "purple", "many small purple spots",
          ("remove the infected leaves", "apply a captan fungicide", "avoid overhead watering")),
        C("powdery mildew", "powder", "white", "a white powdery coating",
          ("apply sulfur", "improve air flow", "avoid excess nitrogen")),
        C("anthracnose", "streaks", "tan", "long tan lesions",
          ("remove the infected leaves", "apply a copper fungicide", "avoid overhead watering")),
    )),
]
CROP_NAMES: list[str] = [c.name for c in CROPS]
# global disease vocabulary (condition names), "healthy" first: the `disease` label indexes it
DISEASE_NAMES: list[str] = ["healthy"] + sorted({c.name for crop in CROPS for c in crop.conditions} - {"healthy"})
SOILS: dict[str, tuple[int, int, int]] = {
    "brown soil": (120, 92, 66),
    "grey stone": (132, 130, 126),
    "pale sand": (196, 180, 146),
    "red clay": (150, 86, 72),
}
SOIL_NAMES: list[str] = list(SOILS)

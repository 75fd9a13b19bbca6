"""A tiny stand-in for ``workbench.tiny.world`` with the same API, so training tests do not depend on the world's
details: 16 px images of one coloured square in one of four cells, short captions, descriptions, a corpus."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from workbench.tiny.world.slots import SlotDocument

IMAGE_SIZE = 16
SEEDS = {"pretrain": 1000, "stage1": 2000, "stage2": 3000, "corpus": 4000, "probe": 5000, "eval": 9000}
COLOURS = {"red": (220, 30, 30), "blue": (30, 60, 220), "green": (30, 170, 50)}
CELLS = ["top left", "top right", "bottom left", "bottom right"]
DISHES = {"pancakes": (["flour", "egg"], ["Mix the flour and egg.", "Fry in a pan."])}
KIND_SYNONYMS = {"square": ["square"], "circle": ["circle"]}
NAME_GROUPS = {"kinds": ["square", "circle"], "dishes": ["pancakes"], "diseases": ["rust"]}  # no colours
OBJECT_VOCABULARY = {"square": [], "circle": []}
SYNONYMS: dict[str, list[str]] = {}


@dataclass
class WorldItem:
    domain: str
    uid: str
    image: Image.Image
    short_caption: str
    detailed_description: str
    objects: list
    labels: dict
    reference: dict
    spec: object = field(default=None, repr=False)


def _item(domain: str, seed: int, i: int) -> WorldItem:
    rng = np.random.default_rng([seed, len(domain), i])
    colour = list(COLOURS)[int(rng.integers(3))]
    cell = int(rng.integers(4))
    arr = np.full((IMAGE_SIZE, IMAGE_SIZE, 3), 128, dtype=np.uint8)
    r, c = divmod(cell, 2)
    h = IMAGE_SIZE // 2
    arr[r * h:(r + 1) * h, c * h:(c + 1) * h] = COLOURS[colour]
    cells = [2] * 4
    cells[cell] = 0
    if domain == "scene":
        ref = {"captions": [f"a {colour} square"], "objects": ["square"]}
        desc = f"The image shows a {colour} square in the {CELLS[cell]}. The other cells are empty."
    elif domain == "dish":
        ref = {"dish": "pancakes", "ingredients": DISHES["pancakes"][0], "steps": DISHES["pancakes"][1]}
        desc = f"The image shows pancakes on a {colour} plate. Mix the flour and egg. It looks fresh."
    else:
        ref = {"crop": "bean", "disease": "rust", "treatments": ["apply sulfur"]}
        desc = f"This is a bean leaf with rust, lying on {colour} soil. The leaf shows rust."
    return WorldItem(domain, f"{domain}-{seed}-{i}", Image.fromarray(arr), f"a {colour} thing in the {CELLS[cell]}",
                     desc, ["square"], {"colour": list(COLOURS).index(colour), "cell_kind": cells}, ref)


def split_seed(split: str, offset: int) -> int:
    return SEEDS[split] + offset


def sample_items(domain: str, n: int, seed: int) -> list[WorldItem]:
    return [_item(domain, seed, i) for i in range(n)]


def corpus(seed: int, n_docs: int, n_slots: int = 4) -> list:
    rng = np.random.default_rng(seed)
    docs = []
    for i in range(n_docs):
        colour = list(COLOURS)[int(rng.integers(3))]
        answer = f"###Assistant: The image shows a {colour} square.###"
        if i % 2:  # a soft image slot, as the real corpus has
            docs.append(SlotDocument(f"###Human: <Img><ImageHere></Img> Describe this image in detail. {answer}",
                                     ((f"{colour} square",),) * n_slots))
        else:
            docs.append(f"###Human: <Img>a {colour} square</Img> Describe this image in detail. {answer}")
        docs.append("To make pancakes you need flour and egg. Mix the flour and egg. Fry in a pan.")
    return docs[:n_docs]


def extra_documents(seed: int, n_shape_facts: int, slot_questions: dict[str, int], n_slots: int = 4,
                    pope_docs: int = 0) -> list:
    """The stand-in world brings no extra document families."""
    return []

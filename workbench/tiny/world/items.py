"""World items: one rendered picture with its captions, description, labels and eval reference."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from workbench.errors import WorkbenchError
from workbench.tiny.world import catalog, text
from workbench.tiny.world.dishes import DishSpec, dish_labels, render_dish, sample_dish
from workbench.tiny.world.leaves import leaf_labels, render_leaf, sample_leaf
from workbench.tiny.world.plants import CROPS, DISEASE_NAMES, SOIL_NAMES, SYMPTOM_KINDS
from workbench.tiny.world.recipes import CONTAINERS, DISHES, TABLE_NAMES
from workbench.tiny.world.scenes import SceneSpec, render_scene, sample_scene, scene_labels
from workbench.tiny.world.seeds import DOMAINS, item_streams

IMAGE_SIZE = 64
N_REFERENCE_CAPTIONS = 4

# domain -> label name -> (type, number of classes). type: "class" (one int), "multihot" (list of 0/1 of that
# length), "cells" (list of 4 ints, one class per grid cell; the last class means the cell is empty).
LABEL_SPACES: dict[str, dict[str, tuple[str, int]]] = {
    "scene": {
        "kinds": ("multihot", len(catalog.KINDS)),
        "colours": ("multihot", len(catalog.COLOUR_NAMES)),
        "cell_kind": ("cells", len(catalog.KINDS) + 1),
        "cell_colour": ("cells", len(catalog.COLOUR_NAMES) + 1),
        "cell_size": ("cells", len(catalog.SIZE_NAMES) + 1),
        "n_objects": ("class", catalog.MAX_OBJECTS + 1),
        "background": ("class", len(catalog.BACKGROUND_NAMES)),
    },
    "dish": {
        "dish": ("class", len(DISHES)),
        "container": ("class", len(CONTAINERS)),
        "table": ("class", len(TABLE_NAMES)),
    },
    "leaf": {
        "crop": ("class", len(CROPS)),
        "condition": ("class", max(len(c.conditions) for c in CROPS)),
        "disease": ("class", len(DISEASE_NAMES)),
        "symptom": ("class", len(SYMPTOM_KINDS) + 1),
        "soil": ("class", len(SOIL_NAMES)),
    },
}


@dataclass
class WorldItem:
    domain: str
    uid: str
    image: Image.Image
    short_caption: str
    detailed_description: str
    objects: list[str]
    labels: dict[str, int | list[int]]
    reference: dict
    spec: object = field(repr=False, default=None)


def _check_domain(domain: str) -> None:
    if domain not in DOMAINS:
        raise WorkbenchError(f"world: unknown domain {domain!r}; known: {', '.join(DOMAINS)}")


def sample_spec(domain: str, rng: np.random.Generator, healthy_fraction: float = 0.25):
    _check_domain(domain)
    if domain == "scene":
        return sample_scene(rng)
    if domain == "dish":
        return sample_dish(rng)
    return sample_leaf(rng, healthy_fraction)


def _by_spec(spec) -> tuple:
    """(render, short caption, detailed description, labels) of the spec's domain; a leaf for anything not a scene
    or dish."""
    if isinstance(spec, SceneSpec):
        return render_scene, text.scene_caption, text.scene_description, scene_labels
    if isinstance(spec, DishSpec):
        return render_dish, text.dish_caption, text.dish_description, dish_labels
    return render_leaf, text.leaf_caption, text.leaf_description, leaf_labels


def render(spec, rng: np.random.Generator, size: int = IMAGE_SIZE) -> Image.Image:
    return _by_spec(spec)[0](spec, rng, size)


def short_caption(spec, rng: np.random.Generator) -> str:
    return _by_spec(spec)[1](spec, rng)


def detailed_description(spec, rng: np.random.Generator) -> str:
    return _by_spec(spec)[2](spec, rng)


def labels_of(spec) -> dict[str, int | list[int]]:
    return _by_spec(spec)[3](spec)


def objects_of(spec) -> list[str]:
    if isinstance(spec, SceneSpec):
        return list(dict.fromkeys(o.kind for o in spec.objects))
    if isinstance(spec, DishSpec):
        return spec.entry.visible_ingredients
    return [f"{spec.crop_entry.name} leaf"]


def reference_of(spec, rng: np.random.Generator, description: str) -> dict:
    """The eval-set reference of the item's task (the eval-set contract, README *Contracts*)."""
    if isinstance(spec, SceneSpec):
        captions = [description]
        for _ in range(8 * N_REFERENCE_CAPTIONS):
            if len(captions) >= N_REFERENCE_CAPTIONS:
                break
            c = text.scene_description(spec, rng)
            if c not in captions:
                captions.append(c)
        return {"captions": captions, "objects": objects_of(spec)}
    if isinstance(spec, DishSpec):
        d = spec.entry
        return {"dish": d.name, "ingredients": d.ingredients, "steps": list(d.steps)}
    cond = spec.condition_entry
    return {"crop": spec.crop_entry.name, "disease": cond.name, "treatments": list(cond.treatments)}


def make_item(domain: str, seed: int, index: int, size: int = IMAGE_SIZE, healthy_fraction: float = 0.25) -> WorldItem:
    """Item ``index`` of ``domain`` under ``seed``; depends on nothing else."""
    r_spec, r_pix, r_text = item_streams(seed, domain, index)
    spec = sample_spec(domain, r_spec, healthy_fraction)
    description = detailed_description(spec, r_text)
    caption = short_caption(spec, r_text)
    return WorldItem(
        domain=domain,
        uid=f"{domain}-{seed}-{index:06d}",
        image=render(spec, r_pix, size),
        short_caption=caption,
        detailed_description=description,
        objects=objects_of(spec),
        labels=labels_of(spec),
        reference=reference_of(spec, r_text, description),
        spec=spec,
    )


def sample_items(domain: str, n: int, seed: int, size: int = IMAGE_SIZE, start: int = 0,
                 healthy_fraction: float = 0.25) -> list[WorldItem]:
    """Items ``start .. start+n-1`` of ``domain`` under ``seed``: item i depends on (seed, i) only."""
    _check_domain(domain)
    return [make_item(domain, seed, i, size, healthy_fraction) for i in range(start, start + n)]

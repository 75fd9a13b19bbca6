"""The procedural world: determinism, seed ranges, rendering invariants (what the annotation says is drawn)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from workbench.errors import WorkbenchError
from workbench.tiny.world import (IMAGE_SIZE, LABEL_SPACES, SEED_RANGES, SEEDS, make_item, sample_items,
                             split_seed)
from workbench.tiny.world import catalog
from workbench.tiny.world.plants import CROPS, SOILS, SYMPTOM_COLOURS
from workbench.tiny.world.recipes import DISHES, FOOD_COLOURS, TABLES
from workbench.tiny.world.seeds import split_of

DOMAINS = ("scene", "dish", "leaf")


def png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def near(arr: np.ndarray, colour, tol: float) -> np.ndarray:
    """Boolean mask of pixels within Euclidean distance ``tol`` of ``colour``."""
    return np.linalg.norm(arr.astype(np.float32) - np.array(colour, np.float32), axis=-1) <= tol


@pytest.mark.parametrize("domain", DOMAINS)
def test_same_seed_same_item_different_seed_different(domain):
    a, b = sample_items(domain, 4, seed=1234), sample_items(domain, 4, seed=1234)
    c = sample_items(domain, 4, seed=1235)
    for x, y in zip(a, b):
        assert png(x.image) == png(y.image)
        assert (x.short_caption, x.detailed_description, x.labels, x.reference) == \
               (y.short_caption, y.detailed_description, y.labels, y.reference)
    assert [png(x.image) for x in a] != [png(z.image) for z in c]
    assert len({png(x.image) for x in a}) == 4  # items of one seed differ from each other


@pytest.mark.parametrize("domain", DOMAINS)
def test_item_depends_only_on_seed_and_index(domain):
    many = sample_items(domain, 6, seed=77)
    tail = sample_items(domain, 2, seed=77, start=4)
    assert [png(i.image) for i in many[4:]] == [png(i.image) for i in tail]
    assert [i.uid for i in many[4:]] == [i.uid for i in tail]


@pytest.mark.parametrize("domain", DOMAINS)
def test_text_does_not_depend_on_render_size(domain):
    small, big = make_item(domain, 5, 3, size=32), make_item(domain, 5, 3, size=96)
    assert small.image.size == (32, 32) and big.image.size == (96, 96)
    assert small.image.mode == "RGB"
    assert (small.detailed_description, small.reference) == (big.detailed_description, big.reference)


def test_seed_ranges_are_disjoint_and_eval_is_its_own():
    names = list(SEED_RANGES)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not set(SEED_RANGES[a]) & set(SEED_RANGES[b]), (a, b)
    assert all(SEEDS[n] == SEED_RANGES[n].start for n in names)
    assert split_of(SEEDS["eval"]) == "eval" and split_of(SEEDS["stage2"] + 5) == "stage2"
    assert split_seed("stage1", 3) == SEEDS["stage1"] + 3
    with pytest.raises(WorkbenchError):
        split_seed("stage1", len(SEED_RANGES["stage1"]))
    with pytest.raises(WorkbenchError):
        sample_items("teapot", 1, 0)


@pytest.mark.parametrize("domain", DOMAINS)
def test_labels_match_their_declared_spaces(domain):
    for item in sample_items(domain, 40, seed=SEEDS["pretrain"]):
        assert set(item.labels) == set(LABEL_SPACES[domain])
        for name, (kind, n) in LABEL_SPACES[domain].items():
            value = item.labels[name]
            if kind == "class":
                assert isinstance(value, int) and 0 <= value < n
            elif kind == "multihot":
                assert len(value) == n and set(value) <= {0, 1}
            else:
                assert len(value) == len(catalog.CELL_NAMES) and all(0 <= v < n for v in value)


def test_scene_each_cell_shows_exactly_the_annotated_colour():
    """In each 2x2 cell, the palette colours present are exactly those of the annotated object (or none)."""
    half = IMAGE_SIZE // 2
    for item in sample_items("scene", 60, seed=SEEDS["probe"]):
        arr = np.asarray(item.image)
        by_cell = {o.cell: o for o in item.spec.objects}
        assert 1 <= len(item.spec.objects) <= catalog.MAX_OBJECTS
        for cell, (col, row) in catalog.CELLS.items():
            region = arr[row * half:(row + 1) * half, col * half:(col + 1) * half]
            present = {name for name, rgb in catalog.COLOURS.items() if near(region, rgb, 40).sum() >= 12}
            expected = {by_cell[cell].colour} if cell in by_cell else set()
            assert present == expected, (item.uid, cell, present, expected)


def test_scene_objects_are_large_and_rings_have_holes():
    half = IMAGE_SIZE // 2
    for item in sample_items("scene", 80, seed=SEEDS["probe"] + 1):
        arr = np.asarray(item.image)
        for o in item.spec.objects:
            col, row = catalog.CELLS[o.cell]
            mask = near(arr[row * half:(row + 1) * half, col * half:(col + 1) * half], catalog.COLOURS[o.colour], 40)
            ys, xs = np.nonzero(mask)
            extent = max(xs.max() - xs.min(), ys.max() - ys.min()) + 1
            assert extent >= (0.35 if o.size == "small" else 0.55) * half, (item.uid, o)  # not a speck
            cy, cx = int(round(ys.mean())), int(round(xs.mean()))
            if o.kind == "ring":
                assert not mask[cy, cx]
            elif o.kind in ("circle", "square"):
                assert mask[cy, cx]


def edge_dist(colours, drawn) -> np.ndarray:
    """Per colour, its distance to the nearest segment between two drawn colours (anti-aliased edges)."""
    c = np.asarray(colours, np.float32)[:, None, None, :]
    a = np.asarray(drawn, np.float32)[None, :, None, :]
    b = np.asarray(drawn, np.float32)[None, None, :, :]
    ab = b - a
    t = np.clip(((c - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-6), 0, 1)[..., None]
    return np.linalg.norm(c - (a + t * ab), axis=-1).min(axis=(1, 2))


def test_dish_shows_its_distinctive_ingredient_colours_and_no_foreign_ones():
    containers = [(238, 238, 234), (214, 214, 210), (226, 196, 148), (46, 46, 50)]
    for item in sample_items("dish", 120, seed=SEEDS["probe"] + 2):
        dish = item.spec.entry
        arr = np.asarray(item.image)
        own = [FOOD_COLOURS[p.colour] for p in dish.parts] + [FOOD_COLOURS["yolk"]]
        background = containers + [TABLES[item.spec.table]]
        for part in dish.parts:
            rgb = FOOD_COLOURS[part.colour]
            if min(np.linalg.norm(np.subtract(rgb, b)) for b in background) > 60:
                assert near(arr, rgb, 30).sum() >= 3, (item.uid, part.ingredient)
        drawn = own + background
        far = edge_dist(list(FOOD_COLOURS.values()), drawn) > 60
        for (name, rgb), absent in zip(FOOD_COLOURS.items(), far):  # no edge between drawn colours makes it
            if absent:
                assert near(arr, rgb, 20).sum() <= 1, (item.uid, dish.name, name)


def test_leaf_symptoms_are_drawn_and_healthy_leaves_are_clean():
    for item in sample_items("leaf", 150, seed=SEEDS["probe"] + 3):
        arr = np.asarray(item.image)
        cond = item.spec.condition_entry
        soil, green = SOILS[item.spec.soil], item.spec.crop_entry.green
        if cond.kind is not None and cond.colour is not None:
            assert near(arr, SYMPTOM_COLOURS[cond.colour], 35).sum() >= 5, (item.uid, cond.name)
        if cond.kind == "holes":  # the soil shows through the leaf: soil-coloured pixels inside the leaf's box
            assert near(arr, soil, 35).sum() > 0
        if cond.kind is None:
            assert item.reference["disease"] == "healthy" and item.reference["treatments"] == []
            for name, rgb in SYMPTOM_COLOURS.items():
                if min(np.linalg.norm(np.subtract(rgb, soil)), np.linalg.norm(np.subtract(rgb, green))) > 70:
                    assert near(arr, rgb, 30).sum() <= 1, (item.uid, name)


def test_leaf_references_follow_the_catalog_and_healthy_share():
    items = sample_items("leaf", 200, seed=SEEDS["probe"] + 4)
    healthy = sum(i.reference["disease"] == "healthy" for i in items)
    assert 0.15 <= healthy / len(items) <= 0.35
    for i in items:
        crop = CROPS[i.labels["crop"]]
        cond = crop.conditions[i.labels["condition"]]
        assert i.reference == {"crop": crop.name, "disease": cond.name, "treatments": list(cond.treatments)}


def test_catalog_sizes():
    assert len(catalog.KINDS) >= 8 and len(catalog.COLOURS) >= 6
    assert len(DISHES) >= 20 and len({d.name for d in DISHES}) == len(DISHES)
    assert len(CROPS) >= 5 and all(len(c.conditions) >= 4 and c.conditions[0].name == "healthy" for c in CROPS)
    assert all(cond.treatments for c in CROPS for cond in c.conditions[1:])

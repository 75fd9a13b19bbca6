"""Scenes: one to three coloured shapes on a 2x2 grid (one per cell), with jitter, scale and rotation.

The layout is coarse on purpose: the feasibility study's tiny ViT (64 px, patch 8) did not learn small
shapes at free positions, so objects fill most of a 32 px cell at the default size and there are only four
places to be.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from workbench.tiny.world import catalog
from workbench.tiny.world.draw import Canvas, cross_points, heart_points, place, regular, star_points


@dataclass(frozen=True)
class SceneObject:
    kind: str
    colour: str
    size: str
    cell: str


@dataclass(frozen=True)
class SceneSpec:
    background: str
    objects: tuple[SceneObject, ...]  # in reading order of their cells


def sample_scene(rng: np.random.Generator) -> SceneSpec:
    n = int(rng.integers(1, catalog.MAX_OBJECTS + 1))
    cells = sorted(rng.choice(len(catalog.CELL_NAMES), size=n, replace=False).tolist())
    objects = tuple(
        SceneObject(
            kind=catalog.KINDS[int(rng.integers(len(catalog.KINDS)))],
            colour=catalog.COLOUR_NAMES[int(rng.integers(len(catalog.COLOUR_NAMES)))],
            size=catalog.SIZE_NAMES[int(rng.integers(len(catalog.SIZE_NAMES)))],
            cell=catalog.CELL_NAMES[c],
        )
        for c in cells
    )
    return SceneSpec(background=catalog.BACKGROUND_NAMES[int(rng.integers(len(catalog.BACKGROUND_NAMES)))],
                     objects=objects)


_POLYGONS = {
    "square": [(-0.78, -0.78), (0.78, -0.78), (0.78, 0.78), (-0.78, 0.78)],
    "triangle": regular(3),
    "star": star_points(5, 0.45),
    "cross": cross_points(0.3),
    "heart": heart_points(),
}


def object_box(obj: SceneObject) -> tuple[float, float, float, float]:
    """The unit-coordinate box of the object's grid cell (x0, y0, x1, y1)."""
    col, row = catalog.CELLS[obj.cell]
    return col * 0.5, row * 0.5, col * 0.5 + 0.5, row * 0.5 + 0.5


def draw_shape(canvas: Canvas, kind: str, colour, cx: float, cy: float, r: float, angle: float) -> None:
    mask, md = canvas.new_mask()
    if kind in _POLYGONS:
        md.polygon(canvas.xy(place(_POLYGONS[kind], cx, cy, r, angle)), fill=255)
    elif kind == "circle":
        md.ellipse(canvas.box(cx, cy, r * 0.92), fill=255)
    elif kind == "ring":
        md.ellipse(canvas.box(cx, cy, r), fill=255)
        md.ellipse(canvas.box(cx, cy, r * 0.52), fill=0)
    elif kind == "crescent":
        md.ellipse(canvas.box(cx, cy, r), fill=255)
        (ox, oy), = place([(0.5, 0.0)], cx, cy, r, angle)
        md.ellipse(canvas.box(ox, oy, r * 0.82), fill=0)
    else:
        raise ValueError(f"unknown scene kind {kind!r}")
    canvas.paint(colour, mask)


def render_scene(spec: SceneSpec, rng: np.random.Generator, size: int) -> Image.Image:
    base = np.array(catalog.BACKGROUNDS[spec.background]) + rng.integers(-6, 7, size=3)
    canvas = Canvas(size, tuple(int(v) for v in base))
    for obj in spec.objects:
        x0, y0, _, _ = object_box(obj)
        r = 0.25 * catalog.SIZES[obj.size] * rng.uniform(0.92, 1.06)
        slack = max(0.0, 0.25 - r) * 0.8
        cx = x0 + 0.25 + rng.uniform(-slack, slack)
        cy = y0 + 0.25 + rng.uniform(-slack, slack)
        angle = rng.uniform(-20, 20)
        draw_shape(canvas, obj.kind, catalog.COLOURS[obj.colour], cx, cy, r, angle)
    return canvas.finish(rng)


def scene_labels(spec: SceneSpec) -> dict[str, int | list[int]]:
    """kinds: multi-hot over KINDS; cell_*: per cell in CELL_NAMES order, the last class meaning empty."""
    kinds = [0] * len(catalog.KINDS)
    cell_kind = [len(catalog.KINDS)] * len(catalog.CELL_NAMES)
    cell_colour = [len(catalog.COLOUR_NAMES)] * len(catalog.CELL_NAMES)
    cell_size = [len(catalog.SIZE_NAMES)] * len(catalog.CELL_NAMES)
    colours = [0] * len(catalog.COLOUR_NAMES)
    for obj in spec.objects:
        c = catalog.CELL_NAMES.index(obj.cell)
        kinds[catalog.KINDS.index(obj.kind)] = 1
        colours[catalog.COLOUR_NAMES.index(obj.colour)] = 1
        cell_kind[c] = catalog.KINDS.index(obj.kind)
        cell_colour[c] = catalog.COLOUR_NAMES.index(obj.colour)
        cell_size[c] = catalog.SIZE_NAMES.index(obj.size)
    return {
        "kinds": kinds,
        "colours": colours,
        "cell_kind": cell_kind,
        "cell_colour": cell_colour,
        "cell_size": cell_size,
        "n_objects": len(spec.objects),
        "background": catalog.BACKGROUND_NAMES.index(spec.background),
    }

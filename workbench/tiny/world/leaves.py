"""Leaves: one crop leaf (its outline tells the crop) on soil, with the symptoms of its condition drawn on it.

Symptoms are drawn on their own layer and kept only where the leaf is, so every symptom pixel lies on the
leaf. Nuisance: soil colour, leaf position, scale and rotation, symptom count, size and placement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from workbench.tiny.world.draw import Canvas, blob_points, leaf_outline, place
from workbench.tiny.world.plants import CROPS, DISEASE_NAMES, SOIL_NAMES, SOILS, SYMPTOM_COLOURS, SYMPTOM_KINDS, Condition, Crop

VEIN_DARKEN = 0.72


@dataclass(frozen=True)
class LeafSpec:
    crop: int  # index into CROPS
    condition: int  # index into CROPS[crop].conditions; 0 is healthy
    soil: str

    @property
    def crop_entry(self) -> Crop:
        return CROPS[self.crop]

    @property
    def condition_entry(self) -> Condition:
        return CROPS[self.crop].conditions[self.condition]


def sample_leaf(rng: np.random.Generator, healthy_fraction: float = 0.25) -> LeafSpec:
    crop = int(rng.integers(len(CROPS)))
    n_dis = len(CROPS[crop].conditions) - 1
    condition = 0 if rng.uniform() < healthy_fraction else 1 + int(rng.integers(n_dis))
    return LeafSpec(crop=crop, condition=condition, soil=SOIL_NAMES[int(rng.integers(len(SOIL_NAMES)))])


def _outline(shape: str, cx: float, cy: float, s: float, angle: float) -> tuple[list[list], list[tuple]]:
    """Polygons (unit coords) making up the leaf, and its midrib/vein segments."""
    if shape == "oval":
        return [place(leaf_outline(0.36, 0.25, 0.6, 0.6), cx, cy, s, angle)], [place([(-0.36, 0), (0.34, 0)], cx, cy, s, angle)]
    if shape == "pointed":
        return [place(leaf_outline(0.38, 0.19, 1.3, 0.5), cx, cy, s, angle)], [place([(-0.38, 0), (0.36, 0)], cx, cy, s, angle)]
    if shape == "blade":
        return [place(leaf_outline(0.5, 0.1, 1.2, 0.15), cx, cy, s, angle)], [place([(-0.5, 0), (0.46, 0)], cx, cy, s, angle)]
    if shape == "lobed":
        pts = []
        for i in range(40):
            t = 2 * math.pi * i / 40
            rad = 0.34 * (0.74 + 0.26 * math.cos(5 * (t + math.pi / 2))) * (0.55 if abs(math.sin((t - math.pi / 2) / 2)) < 0.1 else 1)
            pts.append((rad * math.cos(t), rad * math.sin(t)))
        veins = [place([(0, 0.0), (0.3 * math.cos(a), 0.3 * math.sin(a))], cx, cy, s, angle)
                 for a in (-math.pi / 2, -math.pi / 2 + 1.25, -math.pi / 2 - 1.25, math.pi / 2 - 0.9, math.pi / 2 + 0.9)]
        return [place(pts, cx, cy, s, angle)], veins
    if shape == "compound":
        polys, veins = [], [place([(-0.44, 0), (0.3, 0)], cx, cy, s, angle)]
        for x, y, a in [(0.32, 0, 0), (0.12, -0.12, -60), (0.12, 0.12, 60), (-0.14, -0.13, -70), (-0.14, 0.13, 70)]:
            leaflet = place(leaf_outline(0.13, 0.075, 1.0, 0.6), 0, 0, 1.0, a)
            polys.append(place([(x + px, y + py) for px, py in leaflet], cx, cy, s, angle))
        return polys, veins
    if shape == "trifoliate":
        polys, veins = [], []
        for a in (-90, -90 - 62, -90 + 62):
            ax, ay = math.cos(math.radians(a)), math.sin(math.radians(a))
            leaflet = place(leaf_outline(0.16, 0.13, 0.6, 0.8), 0, 0, 1.0, a)
            polys.append(place([(0.2 * ax + px, 0.08 + 0.2 * ay + py) for px, py in leaflet], cx, cy, s, angle))
            veins.append(place([(0.05 * ax, 0.08 + 0.05 * ay), (0.34 * ax, 0.08 + 0.34 * ay)], cx, cy, s, angle))
        veins.append(place([(0, 0.08), (0, 0.42)], cx, cy, s, angle))
        return polys, veins
    raise ValueError(f"unknown leaf shape {shape!r}")


def _points_on_leaf(mask_arr: np.ndarray, rng: np.random.Generator, n: int, px: int) -> np.ndarray:
    """n unit-coordinate points drawn uniformly from the leaf mask."""
    ys, xs = np.nonzero(mask_arr > 200)
    if len(xs) == 0:
        return np.zeros((0, 2))
    idx = rng.integers(len(xs), size=n)
    return np.stack([(xs[idx] + 0.5) / px, (ys[idx] + 0.5) / px], axis=1)


def _symptoms(canvas: Canvas, cond: Condition, polys, mask: Image.Image, soil, s: float, angle: float,
              rng: np.random.Generator) -> None:
    sym = Image.new("RGB", mask.size, (0, 0, 0))
    smask = Image.new("L", mask.size, 0)
    d, md = ImageDraw.Draw(sym), ImageDraw.Draw(smask)
    colour = SYMPTOM_COLOURS[cond.colour] if cond.colour else tuple(soil)
    dark = SYMPTOM_COLOURS["dark"]
    arr = np.asarray(mask)
    box = canvas.box
    kind = cond.kind

    def dot(x, y, r, fill, outline=None, width=0):
        d.ellipse(box(x, y, r), fill=fill, outline=outline, width=width)
        md.ellipse(box(x, y, r), fill=255)

    if kind == "rings":
        for x, y in _points_on_leaf(arr, rng, int(rng.integers(4, 7)), canvas.px):
            r = rng.uniform(0.045, 0.06) * s
            dot(x, y, r, colour, dark, canvas.width(0.01))
            d.ellipse(box(x, y, r * 0.5), outline=dark, width=canvas.width(0.01))
    elif kind == "spots":
        for x, y in _points_on_leaf(arr, rng, int(rng.integers(10, 16)), canvas.px):
            dot(x, y, rng.uniform(0.024, 0.032) * s, colour, dark if cond.colour == "grey" else None, canvas.width(0.005))
    elif kind == "blotches":
        for x, y in _points_on_leaf(arr, rng, int(rng.integers(2, 4)), canvas.px):
            pts = canvas.xy(place(blob_points(rng, 10, 0.35), x, y, rng.uniform(0.07, 0.1) * s, rng.uniform(0, 360)))
            d.polygon(pts, fill=colour)
            md.polygon(pts, fill=255)
    elif kind == "yellowing":
        for poly in polys:
            pts = canvas.xy(poly)
            d.line(pts + pts[:1], fill=colour, width=canvas.width(0.05 * s), joint="curve")
            md.line(pts + pts[:1], fill=255, width=canvas.width(0.05 * s), joint="curve")
        for x, y in _points_on_leaf(arr, rng, int(rng.integers(2, 4)), canvas.px):
            dot(x, y, rng.uniform(0.03, 0.05) * s, colour)
    elif kind == "powder":
        for px_, py_ in _points_on_leaf(arr, rng, int(rng.integers(3, 5)), canvas.px):
            pts = canvas.xy(place(blob_points(rng, 10, 0.3), px_, py_, rng.uniform(0.06, 0.09) * s, 0))
            d.polygon(pts, fill=colour)
            md.polygon(pts, fill=255)
            for x, y in np.array([px_, py_]) + rng.normal(0, 0.05 * s, size=(14, 2)):
                dot(x, y, 0.012, colour)
    elif kind == "pustules":
        for x, y in _points_on_leaf(arr, rng, int(rng.integers(22, 34)), canvas.px):
            dot(x, y, rng.uniform(0.012, 0.017) * s, colour)
    elif kind == "streaks":
        for x, y in _points_on_leaf(arr, rng, int(rng.integers(4, 6)), canvas.px):
            pts = canvas.xy(place([(math.cos(t) * 1.0, math.sin(t) * 0.28) for t in np.linspace(0, 2 * math.pi, 16)],
                                  x, y, rng.uniform(0.11, 0.15) * s, angle + rng.uniform(-8, 8)))
            d.polygon(pts, fill=colour, outline=SYMPTOM_COLOURS["brown"])
            md.polygon(pts, fill=255)
    elif kind == "holes":
        for x, y in _points_on_leaf(arr, rng, int(rng.integers(6, 9)), canvas.px):
            r = rng.uniform(0.03, 0.04) * s
            d.ellipse(box(x, y, r + 0.008), fill=SYMPTOM_COLOURS["brown"])
            md.ellipse(box(x, y, r + 0.008), fill=255)
            d.ellipse(box(x, y, r), fill=colour)
    else:
        raise ValueError(f"unknown symptom kind {kind!r}")
    canvas.image.paste(sym, (0, 0), ImageChops.multiply(smask, mask))


def render_leaf(spec: LeafSpec, rng: np.random.Generator, size: int) -> Image.Image:
    crop, cond = spec.crop_entry, spec.condition_entry
    soil = np.array(SOILS[spec.soil]) + rng.integers(-8, 9, size=3)
    soil_t = tuple(int(v) for v in soil)
    canvas = Canvas(size, soil_t)
    s = rng.uniform(0.9, 1.06)
    cx, cy = 0.5 + rng.uniform(-0.04, 0.04), 0.5 + rng.uniform(-0.04, 0.04)
    angle = rng.uniform(-40, 40) + (-45 if crop.shape == "blade" else 0)
    polys, veins = _outline(crop.shape, cx, cy, s, angle)
    mask, md = canvas.new_mask()
    for poly in polys:
        md.polygon(canvas.xy(poly), fill=255)
    green = np.array(crop.green) + rng.integers(-8, 9, size=3)
    canvas.paint(tuple(int(v) for v in green), mask)
    vein = tuple(int(v * VEIN_DARKEN) for v in green)
    for seg in veins:
        canvas.draw.line(canvas.xy(seg), fill=vein, width=canvas.width(0.012))
    if cond.kind is not None:
        _symptoms(canvas, cond, polys, mask, soil_t, s, angle, rng)
    return canvas.finish(rng)


def leaf_labels(spec: LeafSpec) -> dict[str, int | list[int]]:
    cond = spec.condition_entry
    return {
        "crop": spec.crop,
        "condition": spec.condition,
        "disease": DISEASE_NAMES.index(cond.name),
        "symptom": 0 if cond.kind is None else 1 + SYMPTOM_KINDS.index(cond.kind),
        "soil": SOIL_NAMES.index(spec.soil),
    }

"""Dishes: a top-down (or, for the burger, side-on) drawing of one catalog dish in its container on a table.

Every visible ingredient of the catalog is drawn as its own part in its own colour, so the ingredients a
description names are really on the picture. Nuisance: table colour, container position and scale, the
rotation of the arrangement, topping positions and counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from workbench.tiny.world.draw import Canvas, blob_points, heart_points, leaf_outline, place, uniform_in_disc
from workbench.tiny.world.recipes import CONTAINERS, DISHES, FOOD_COLOURS, TABLE_NAMES, TABLES, Dish, Part

PLATE = (238, 238, 234)
PLATE_SHADE = (214, 214, 210)
BOARD = (226, 196, 148)
PAN = (46, 46, 50)


@dataclass(frozen=True)
class DishSpec:
    dish: int  # index into DISHES
    table: str

    @property
    def entry(self) -> Dish:
        return DISHES[self.dish]


def sample_dish(rng: np.random.Generator) -> DishSpec:
    return DishSpec(dish=int(rng.integers(len(DISHES))), table=TABLE_NAMES[int(rng.integers(len(TABLE_NAMES)))])


def _container(canvas: Canvas, kind: str, cx: float, cy: float, s: float, angle: float) -> None:
    d = canvas.draw
    if kind == "plate":
        d.ellipse(canvas.box(cx, cy, 0.46 * s), fill=PLATE_SHADE)
        d.ellipse(canvas.box(cx, cy, 0.43 * s), fill=PLATE)
    elif kind == "bowl":
        d.ellipse(canvas.box(cx, cy, 0.45 * s), fill=PLATE)
        d.ellipse(canvas.box(cx, cy, 0.37 * s), fill=PLATE_SHADE)
    elif kind == "board":
        pts = place([(-0.46, -0.44), (0.46, -0.44), (0.46, 0.44), (-0.46, 0.44)], cx, cy, s, angle)
        d.polygon(canvas.xy(pts), fill=BOARD)
    elif kind == "pan":
        handle = place([(0.3, -0.05), (0.62, -0.05), (0.62, 0.05), (0.3, 0.05)], cx, cy, s, angle)
        d.polygon(canvas.xy(handle), fill=PAN)
        d.ellipse(canvas.box(cx, cy, 0.42 * s), fill=PAN)
    else:
        raise ValueError(f"unknown container {kind!r}")


def _piece(canvas: Canvas, shape: str, colour, x: float, y: float, r: float, angle: float, rng) -> None:
    d = canvas.draw
    if shape == "circle":
        d.ellipse(canvas.box(x, y, r), fill=colour)
    elif shape == "square":
        d.polygon(canvas.xy(place([(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)], x, y, r, angle)), fill=colour)
    elif shape == "leaf":
        d.polygon(canvas.xy(place(leaf_outline(1.0, 0.45, 1.0, 1.0, 10), x, y, r, angle)), fill=colour)
    elif shape == "strip":
        d.polygon(canvas.xy(place([(-1, -0.28), (1, -0.28), (1, 0.28), (-1, 0.28)], x, y, r, angle)), fill=colour)
    elif shape == "blob":
        d.polygon(canvas.xy(place(blob_points(rng, 9, 0.3), x, y, r, angle)), fill=colour)
    elif shape == "heart":
        d.polygon(canvas.xy(place(heart_points(16), x, y, r, angle + 180)), fill=colour)
    elif shape == "crescent":
        d.arc(canvas.box(x, y, r), start=angle, end=angle + 200, fill=colour, width=canvas.width(r * 0.55))
    else:
        raise ValueError(f"unknown piece shape {shape!r}")


def _part(canvas: Canvas, part: Part, dish: Dish, cx: float, cy: float, s: float, angle: float,
          rng: np.random.Generator, layout: dict) -> None:
    """Draw one part of a dish; each kind of drawing lives in one of three groups below (same random draws in the
    same order as ever, so the same seed still gives the same picture)."""
    for kinds, draw in _PART_GROUPS:
        if part.draw in kinds:
            draw(canvas, part, dish, FOOD_COLOURS[part.colour], cx, cy, s, angle, rng, layout)
            return
    raise ValueError(f"unknown part drawing {part.draw!r}")


def _scattered(canvas: Canvas, part: Part, dish: Dish, colour, cx: float, cy: float, s: float, angle: float,
               rng: np.random.Generator, layout: dict) -> None:
    """Fills, blobs and things scattered over the dish (strands, grains, pieces and their rims and centres)."""
    d = canvas.draw
    p = part.params
    if part.draw == "fill":
        d.ellipse(canvas.box(cx, cy, p[0] * s), fill=colour)
    elif part.draw == "blob":
        d.polygon(canvas.xy(place(blob_points(rng, 14, 0.18), cx, cy, p[0] * s, angle)), fill=colour)
    elif part.draw == "strands":
        r, n = p[0] * s, int(p[1])
        for _ in range(n):
            a = rng.uniform(0, 360)
            x0, y0 = uniform_in_disc(rng, 1, r * 0.55)[0]
            pts = [(t * r * 0.9, math.sin(t * 6 + rng.uniform(0, 6)) * r * 0.08) for t in np.linspace(-0.6, 0.6, 8)]
            pts = [(min(max(x, -r), r), y) for x, y in pts]
            d.line(canvas.xy(place(pts, cx + x0, cy + y0, 1.0, a)), fill=colour, width=canvas.width(0.02), joint="curve")
    elif part.draw == "grains":
        r, n = p[0] * s, int(p[1])
        for x, y in uniform_in_disc(rng, n, r):
            d.ellipse(canvas.box(cx + x, cy + y, 0.016, 0.011), fill=colour)
    elif part.draw == "pieces":
        r, n, pr, shape = p[0] * s, int(p[1]), p[2] * s, p[3]
        n = max(1, n + int(rng.integers(-1, 2))) if n > 2 else n
        pos = uniform_in_disc(rng, n, r)
        layout["pieces"] = [(cx + x, cy + y, pr) for x, y in pos]
        for x, y, rr in layout["pieces"]:
            _piece(canvas, shape, colour, x, y, rr, rng.uniform(0, 360), rng)
    elif part.draw == "rims":
        for x, y, rr in layout.get("pieces", []):
            d.ellipse(canvas.box(x, y, rr), outline=colour, width=canvas.width(rr * 0.3))
    elif part.draw == "centres":
        for x, y, _ in layout.get("pieces", []):
            d.ellipse(canvas.box(x, y, p[0] * s), fill=colour)


def _shaped(canvas: Canvas, part: Part, dish: Dish, colour, cx: float, cy: float, s: float, angle: float,
            rng: np.random.Generator, layout: dict) -> None:
    """Single shapes: a swirl, a ring, an egg, a half disc, a wedge."""
    d = canvas.draw
    p = part.params
    if part.draw == "swirl":
        r = p[0] * s
        pts = [(t / 12 * r * math.cos(t * 0.9), t / 12 * r * math.sin(t * 0.9)) for t in np.linspace(1, 12, 24)]
        d.line(canvas.xy(place(pts, cx, cy, 1.0, angle)), fill=colour, width=canvas.width(0.025), joint="curve")
    elif part.draw == "ring":
        d.ellipse(canvas.box(cx, cy, p[0] * s), outline=colour, width=canvas.width(0.03))
    elif part.draw == "egg":
        r = p[0] * s
        off = uniform_in_disc(rng, 1, 0.12 * s)[0] if r < 0.1 else (0.0, 0.0)
        ex, ey = cx + off[0], cy + off[1]
        d.polygon(canvas.xy(place(blob_points(rng, 12, 0.12), ex, ey, r, angle)), fill=colour)
        d.ellipse(canvas.box(ex, ey, r * 0.45), fill=FOOD_COLOURS["yolk"])
    elif part.draw == "half":
        r, side = p[0] * s, int(p[1])
        start = angle + 180 * side
        d.pieslice(canvas.box(cx, cy, r), start=start, end=start + 180, fill=colour)
    elif part.draw == "wedge":
        r = p[0] * s
        d.polygon(canvas.xy(place([(0, -1.0), (0.75, 0.7), (-0.75, 0.7)], cx, cy, r, angle)), fill=colour)


def _arranged(canvas: Canvas, part: Part, dish: Dish, colour, cx: float, cy: float, s: float, angle: float,
              rng: np.random.Generator, layout: dict) -> None:
    """Parts laid out in order: stacked bands, tacos and their fillings, items around or alternating on a rim."""
    d = canvas.draw
    p = part.params
    if part.draw == "band":
        bands = [q for q in dish.parts if q.draw == "band"]
        total = sum(q.params[1] for q in bands) * s
        idx, h = int(p[0]), p[1] * s
        top = cy - total / 2 + sum(q.params[1] for q in bands if q.params[0] < idx) * s
        w = 0.3 * s
        if idx == 0:  # the top of the bun is rounded
            d.pieslice(canvas.box(cx, top + h, w, h), start=180, end=360, fill=colour)
        else:
            d.rounded_rectangle([(cx - w) * canvas.px, top * canvas.px, (cx + w) * canvas.px, (top + h) * canvas.px],
                                radius=canvas.width(min(h, 0.04) / 2), fill=colour)
    elif part.draw in ("tacos", "fillings"):
        r = p[0] * s
        if "tacos" not in layout:
            layout["tacos"] = [(cx + dx, cy + dy) for dx, dy in place([(-0.55, 0.0), (0.0, 0.0), (0.55, 0.0)], 0, 0, r, angle)]
        for x, y in layout["tacos"]:
            if part.draw == "tacos":
                d.pieslice(canvas.box(x, y, 0.14 * s), start=angle, end=angle + 180, fill=colour)
            else:
                (fx, fy), = place([(0.0, 0.03)], x, y, s, angle)
                d.ellipse(canvas.box(fx, fy, 0.11 * s, 0.04 * s), fill=colour)
    elif part.draw == "around":
        r, n = p[0] * s, int(p[1])
        for k in range(n):
            a = angle + 360 * k / n
            (x, y), = place([(r, 0.0)], cx, cy, 1.0, a)
            d.polygon(canvas.xy(place([(1.0, 0.0), (-0.6, -0.7), (-0.6, 0.7)], x, y, 0.07 * s, a)), fill=colour)
    elif part.draw == "alternate":
        r, parity = p[0] * s, int(p[1])
        for k in range(8):
            if k % 2 == parity:
                (x, y), = place([(r * 0.75, 0.0)], cx, cy, 1.0, angle + 45 * k)
                d.ellipse(canvas.box(x, y, 0.085 * s), fill=colour)


_PART_GROUPS = (
    (("fill", "blob", "strands", "grains", "pieces", "rims", "centres"), _scattered),
    (("swirl", "ring", "egg", "half", "wedge"), _shaped),
    (("band", "tacos", "fillings", "around", "alternate"), _arranged),
)


def render_dish(spec: DishSpec, rng: np.random.Generator, size: int) -> Image.Image:
    dish = spec.entry
    base = np.array(TABLES[spec.table]) + rng.integers(-8, 9, size=3)
    canvas = Canvas(size, tuple(int(v) for v in base))
    s = rng.uniform(0.92, 1.06)
    cx, cy = 0.5 + rng.uniform(-0.03, 0.03), 0.5 + rng.uniform(-0.03, 0.03)
    angle = rng.uniform(0, 360)
    _container(canvas, dish.container, cx, cy, s, angle)
    layout: dict = {}
    for part in dish.parts:
        _part(canvas, part, dish, cx, cy, s, angle, rng, layout)
    return canvas.finish(rng)


def dish_labels(spec: DishSpec) -> dict[str, int | list[int]]:
    return {
        "dish": spec.dish,
        "container": CONTAINERS.index(spec.entry.container),
        "table": TABLE_NAMES.index(spec.table),
    }

"""Drawing helpers shared by the three domains: supersampled canvases, rotated polygons, masks, finishing.

Everything is drawn with PIL ImageDraw on a canvas ``SUPERSAMPLE`` times the output size (unit coordinates
in [0, 1]), then box-downsampled (anti-aliasing) and given mild Gaussian noise: no per-pixel Python loops.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

SUPERSAMPLE = 2
NOISE_SIGMA = 5.0  # std of the per-pixel Gaussian noise, in 0..255 units


class Canvas:
    """An RGB canvas addressed in unit coordinates, with helpers that draw through per-shape masks."""

    def __init__(self, size: int, background: tuple[int, int, int]):
        self.size = size
        self.px = size * SUPERSAMPLE
        self.image = Image.new("RGB", (self.px, self.px), background)
        self.draw = ImageDraw.Draw(self.image)

    def xy(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * self.px, y * self.px) for x, y in points]

    def box(self, cx: float, cy: float, rx: float, ry: float | None = None) -> list[float]:
        ry = rx if ry is None else ry
        return [(cx - rx) * self.px, (cy - ry) * self.px, (cx + rx) * self.px, (cy + ry) * self.px]

    def width(self, w: float) -> int:
        return max(1, round(w * self.px))

    def new_mask(self) -> tuple[Image.Image, ImageDraw.ImageDraw]:
        mask = Image.new("L", (self.px, self.px), 0)
        return mask, ImageDraw.Draw(mask)

    def paint(self, colour: tuple[int, int, int], mask: Image.Image) -> None:
        self.image.paste(colour, (0, 0), mask)

    def finish(self, rng: np.random.Generator, noise_sigma: float = NOISE_SIGMA) -> Image.Image:
        """Downsample to the output size, jitter brightness a little and add Gaussian noise."""
        small = self.image.resize((self.size, self.size), Image.Resampling.BOX)
        arr = np.asarray(small, dtype=np.float32)
        gain = rng.uniform(0.94, 1.06)
        arr = arr * gain + rng.normal(0.0, noise_sigma, size=arr.shape).astype(np.float32)
        return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")


def rotate(points: list[tuple[float, float]], angle_deg: float, cx: float = 0.0, cy: float = 0.0):
    """Rotate unit-coordinate points about (cx, cy) (screen coordinates, y down)."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return [(cx + (x - cx) * c - (y - cy) * s, cy + (x - cx) * s + (y - cy) * c) for x, y in points]


def place(points: list[tuple[float, float]], cx: float, cy: float, r: float, angle_deg: float):
    """Scale points given around the origin (radius-1 shape) by r, rotate by angle, move to (cx, cy)."""
    return rotate([(cx + x * r, cy + y * r) for x, y in points], angle_deg, cx, cy)


def regular(n: int, start_deg: float = -90.0) -> list[tuple[float, float]]:
    return [(math.cos(math.radians(start_deg + 360 * i / n)), math.sin(math.radians(start_deg + 360 * i / n)))
            for i in range(n)]


def star_points(n: int = 5, inner: float = 0.45) -> list[tuple[float, float]]:
    pts = []
    for i in range(2 * n):
        rad = 1.0 if i % 2 == 0 else inner
        a = math.radians(-90 + 180 * i / n)
        pts.append((rad * math.cos(a), rad * math.sin(a)))
    return pts


def cross_points(arm: float = 0.32) -> list[tuple[float, float]]:
    a, b = arm, 1.0
    return [(-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a), (a, b), (-a, b), (-a, a), (-b, a), (-b, -a), (-a, -a)]


def heart_points(n: int = 32) -> list[tuple[float, float]]:
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / n
        x = 16 * math.sin(t) ** 3
        y = -(13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t))
        pts.append((x / 17.0, (y + 2.5) / 17.0))
    return pts


def blob_points(rng: np.random.Generator, n: int = 12, wobble: float = 0.2) -> list[tuple[float, float]]:
    radii = 1.0 + rng.uniform(-wobble, wobble, size=n)
    return [(float(r) * math.cos(2 * math.pi * i / n), float(r) * math.sin(2 * math.pi * i / n))
            for i, r in enumerate(radii)]


def leaf_outline(length: float, width: float, tip: float = 1.0, base: float = 0.5, n: int = 24):
    """A leaf-like outline along the x axis from -length (base) to +length (tip)."""
    top, bottom = [], []
    for i in range(n + 1):
        x = -1.0 + 2.0 * i / n
        u = (1 - x) / 2
        v = (1 + x) / 2
        half = (u ** tip) * (v ** base) / (0.5 ** (tip + base))  # 1 at the middle, 0 at both ends
        top.append((x * length, -half * width))
        bottom.append((x * length, half * width))
    return top + bottom[::-1]


def uniform_in_disc(rng: np.random.Generator, n: int, r: float) -> np.ndarray:
    """n points uniform in a disc of radius r around the origin."""
    rad = r * np.sqrt(rng.uniform(0, 1, n))
    ang = rng.uniform(0, 2 * np.pi, n)
    return np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)

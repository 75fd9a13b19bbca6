"""Ratios of summed counts, the arithmetic of every corpus metric (vectorized over resamples).

Used by ``workbench.scoring.aggregate``, ``pope`` and ``judged``: a corpus value is a ratio of per-item
statistics summed over the items (or over a resample of them), undefined (NaN, reported as null) when its
denominator is 0. Neither function divides by zero, so no numpy warning is raised or has to be silenced.
"""

from __future__ import annotations

import numpy as np


def safe_div(a, b) -> np.ndarray:
    """``a / b`` elementwise for arrays (or scalars) of summed counts, float64; NaN where ``b <= 0``."""
    return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def f1_score(precision, recall) -> np.ndarray:
    """F1 = 2PR / (P + R) elementwise, float64: 0 where P + R is 0, NaN where P or R is NaN (undefined)."""
    f1 = np.where(precision + recall > 0, safe_div(2 * precision * recall, precision + recall), 0.0)
    return np.where(np.isnan(precision) | np.isnan(recall), np.nan, f1)

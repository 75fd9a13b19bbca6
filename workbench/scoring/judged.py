"""Corpus metrics of judge fields (``workbench judge``), computed like every other metric from per-item values.

Per-item fields (None when the judgement failed, the item had no answer, or the protocol does not apply):
``judge_failure`` and ``judge_match`` (0/1), ``judge_relative_reference`` and ``judge_relative_model`` (1-10).
Corpus: ``judge_failure`` / ``judge_match`` = mean over the items judged successfully (null when none);
``judge_relative`` = sum(model) / sum(reference) x 100 over items with both scores (LLaVA-Bench's relative
score, mean(model) / mean(reference) x 100). Failed judgements are never averaged in.
"""

from __future__ import annotations

import numpy as np

from workbench.scoring.ratios import safe_div

BINARY = ("judge_failure", "judge_match")
PAIR = ("judge_relative_reference", "judge_relative_model")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _present(metrics, key):
    return np.array([_is_number(m.get(key)) for m in metrics], dtype=float)


def _values(metrics, key):
    # the same items as _present: a value that is not a number (a failure, or a bool in an edited file) adds 0
    return np.array([m[key] if _is_number(m.get(key)) else 0.0 for m in metrics], dtype=float)


def judge_columns(metrics: list[dict]) -> dict:
    """Columns for the judge fields that any item carries (none when the run was not judged)."""
    cols = {}
    keys = {k for m in metrics for k in m}
    for key in BINARY:
        if key in keys:
            cols[f"{key}:sum"], cols[f"{key}:n"] = _values(metrics, key), _present(metrics, key)
    if PAIR[0] in keys:
        both = _present(metrics, PAIR[0]) * _present(metrics, PAIR[1])
        cols["judge_relative:ref"] = _values(metrics, PAIR[0]) * both
        cols["judge_relative:model"] = _values(metrics, PAIR[1]) * both
    return cols


def judge_formulas(s: dict) -> dict:
    out = {}
    for key in BINARY:
        if f"{key}:n" in s:
            out[key] = safe_div(s[f"{key}:sum"], s[f"{key}:n"])
    if "judge_relative:ref" in s:
        out["judge_relative"] = 100 * safe_div(s["judge_relative:model"], s["judge_relative:ref"])
    return out

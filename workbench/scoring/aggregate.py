"""Corpus metrics from per-item metrics only: the one place where aggregation happens.

``aggregate_items(task, items)`` gives ``{"<task>/<metric>": value}`` for a list of scores.json items
(``{"id", "task", "metrics"}``) or bare per-item metric dicts. ``score_predictions`` uses it for the full
set, and a paired bootstrap uses it on resamples, so both agree by construction.

Fast path for resampling: ``Aggregator(task, items).resample(index)`` takes an integer array of shape
(B, n) (B resamples of item positions) and returns ``{"<task>/<metric>": array of B values}`` in one
vectorized pass (item statistics are summed with one (B, n) x (n, k) product). ``aggregate_items`` is that
same code with the identity resample. Undefined values (e.g. treatment recall without diseased items,
CHAIR_i without any object mention, METEOR without Java) are None in ``aggregate`` and NaN in ``resample``.
"""

from __future__ import annotations

import numpy as np

from workbench.scoring.caption import N_BLEU, bleu_from_stats, meteor_from_stats
from workbench.scoring.judged import judge_columns, judge_formulas
from workbench.scoring.pope import pope_columns, pope_formulas
from workbench.scoring.ratios import f1_score, safe_div


def _col(metrics, key, default=0.0):
    return np.array([default if m.get(key) is None else m[key] for m in metrics], dtype=float)


def _caption_columns(metrics):
    empty = [0] * (2 + 2 * N_BLEU)  # items scored without COCO metrics (e.g. CHAIR alone)
    cols = {"bleu_stats": np.array([m.get("bleu_stats") or empty for m in metrics],
                                   dtype=float).reshape(-1, 2 + 2 * N_BLEU)}
    if metrics and all(m.get("meteor_stats") for m in metrics):
        cols["meteor_stats"] = np.array([m["meteor_stats"] for m in metrics], dtype=float)
    for key in ("rouge_l", "cider", "chair_s", "n_mentioned", "n_hallucinated", "n_mentioned_distinct",
                "n_hallucinated_distinct", "n_objects", "n_covered"):
        cols[key] = _col(metrics, key)
    cols["cider_defined"] = np.array([m.get("cider") is not None for m in metrics], dtype=float)
    return cols


def _caption_formulas(s, m):
    b = s["bleu_stats"]
    bleus = bleu_from_stats(b[:, 0], b[:, 1], [b[:, 2 + k] for k in range(N_BLEU)],
                            [b[:, 2 + N_BLEU + k] for k in range(N_BLEU)])
    out = {f"bleu_{k + 1}": bleus[k] for k in range(N_BLEU)}
    out["meteor"] = (meteor_from_stats([s["meteor_stats"][:, j] for j in range(23)])
                     if "meteor_stats" in s else np.full(len(m), np.nan))
    out["rouge_l"] = s["rouge_l"] / m
    # undefined items (cider None) count as 0, as in pycocoevalcap; none defined -> undefined (NaN)
    out["cider"] = np.where(s["cider_defined"] > 0, s["cider"] / m, np.nan)
    out["chair_i"] = safe_div(s["n_hallucinated"], s["n_mentioned"])  # undefined (null) without any mention
    out["chair_s"] = s["chair_s"] / m
    out["chair_i_distinct"] = safe_div(s["n_hallucinated_distinct"], s["n_mentioned_distinct"])
    out["object_recall"] = safe_div(s["n_covered"], s["n_objects"])
    return out


def _recipe_columns(metrics):
    return {key: _col(metrics, key) for key in
            ("dish_accuracy", "ingredient_tp", "n_ingredients_pred", "n_ingredients_ref", "steps_present")}


def _recipe_formulas(s, m):
    precision = np.nan_to_num(safe_div(s["ingredient_tp"], s["n_ingredients_pred"]), nan=0.0)
    recall = safe_div(s["ingredient_tp"], s["n_ingredients_ref"])
    return {"dish_accuracy": s["dish_accuracy"] / m, "ingredient_precision": precision,
            "ingredient_recall": recall, "ingredient_f1": f1_score(precision, recall),
            "steps_present": s["steps_present"] / m}


def _diagnosis_columns(metrics):
    classes = sorted({m["disease_true"] for m in metrics})
    index = {c: i for i, c in enumerate(classes)}
    true = np.zeros((len(metrics), len(classes)))
    pred = np.zeros((len(metrics), len(classes)))
    for row, m in enumerate(metrics):
        true[row, index[m["disease_true"]]] = 1
        if m.get("disease_pred") in index:
            pred[row, index[m["disease_pred"]]] = 1
    healthy = np.array([m.get("healthy_false_alarm") is not None for m in metrics], dtype=float)
    cols = {key: _col(metrics, key) for key in
            ("crop_accuracy", "disease_accuracy", "n_treatments", "n_treatments_recalled", "healthy_false_alarm")}
    cols.update({"true": true, "pred": pred, "tp": true * pred, "healthy": healthy})
    return cols


def _diagnosis_formulas(s, m):
    support, predicted, tp = s["true"], s["pred"], s["tp"]
    f1 = 2 * tp / np.maximum(support + predicted, 1)      # per class; 0 for a class neither true nor predicted
    present = support > 0                                  # every resample of k >= 1 items has a true class
    macro = (f1 * present).sum(1) / present.sum(1)
    return {"crop_accuracy": s["crop_accuracy"] / m, "disease_accuracy": s["disease_accuracy"] / m,
            "disease_macro_f1": macro,
            "treatment_recall": safe_div(s["n_treatments_recalled"], s["n_treatments"]),
            "healthy_false_alarm": safe_div(s["healthy_false_alarm"], s["healthy"])}


TASK_AGGREGATION = {
    "caption": (_caption_columns, _caption_formulas),
    "recipe": (_recipe_columns, _recipe_formulas),
    "diagnosis": (_diagnosis_columns, _diagnosis_formulas),
    "pope": (pope_columns, pope_formulas),
}


class Aggregator:
    """Per-item statistics of one task as matrices, ready to be summed over any resample."""

    def __init__(self, task: str, items: list[dict]):
        if task not in TASK_AGGREGATION:
            raise ValueError(f"unknown task {task!r} (known: {', '.join(TASK_AGGREGATION)})")
        metrics = [it["metrics"] if "metrics" in it and isinstance(it["metrics"], dict) else it for it in items]
        self.task = task
        self.n = len(metrics)
        columns, self._formulas = TASK_AGGREGATION[task]
        self.columns = columns(metrics)
        self.columns["failure"] = _col(metrics, "failure")
        self.columns.update(judge_columns(metrics))   # only when the run was judged (workbench judge)

    def resample(self, index) -> dict[str, np.ndarray]:
        """``index``: int array (B, k) of item positions -> {"<task>/<metric>": (B,) values}."""
        index = np.atleast_2d(np.asarray(index, dtype=np.int64))
        b, k = index.shape
        if self.n == 0 or k == 0:
            return {}
        rows = np.repeat(np.arange(b), k)
        weights = np.bincount(rows * self.n + index.ravel(), minlength=b * self.n).reshape(b, self.n)
        sums = {name: weights @ col for name, col in self.columns.items()}
        count = np.full(b, float(k))
        out = {"failure_rate": sums["failure"] / count}
        out.update(self._formulas(sums, count))
        out.update(judge_formulas(sums))
        return {f"{self.task}/{name}": np.asarray(value, dtype=float) for name, value in out.items()}

    def aggregate(self) -> dict[str, float | None]:
        values = self.resample(np.arange(self.n)[None, :])
        return {key: (None if np.isnan(v[0]) else float(v[0])) for key, v in values.items()}


def aggregate_items(task: str, items: list[dict]) -> dict[str, float | None]:
    """Corpus metrics ``{"<task>/<metric>": value}`` from per-item metrics (see the module docstring)."""
    return Aggregator(task, items).aggregate()

"""The statistics of a comparison: every scored run against a baseline, metric by metric.

For each ``<task>/<metric>`` in the runs' ``scores.json`` aggregates this gives both values, the
difference (other - baseline), a 95% paired bootstrap CI of the difference, per-run CIs, a paired
permutation p-value and n (see ``workbench.compare.bootstrap`` for the methods).

Metrics that are a plain mean of a per-item field (checked against the scorers' own aggregate on the
full set and on a few random subsets) are resampled with numpy. Every other metric (BLEU from
summed n-gram counts, macro-F1, ...) is recomputed on every resample by the scorers'
``aggregate_items(task, items)``. Which direction is better comes from each metric's declaration
(``workbench.scoring.metric_info``). Loading the runs is ``workbench.compare.loading``'s job.
"""

from __future__ import annotations

import math
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from workbench.atomic import atomic_write_json
from workbench.compare.bootstrap import (BlockStat, bootstrap_means, bootstrap_stats, paired_permutation_means,
                                         paired_permutation_stat, percentile_ci)
from workbench.compare.loading import ScoredRun, load_scored_runs
from workbench.compare.swaps import label_swaps
from workbench.errors import WorkbenchError
from workbench.scoring.metric_info import metric_info

SCHEMA = "workbench.compare/1"
ALPHA = 0.05
# Aggregate metric -> per-item field whose mean it may be, when the names differ.
ITEM_FIELD_ALIASES = {"failure_rate": "failure"}
N_PROBES = 3

Aggregate = Callable[[str, list], dict]
MakeStat = Callable[[str, list], BlockStat]
Direction = Callable[[str], "bool | None"]   # "<task>/<metric>" -> higher is better; None: no direction


def format_p(p: float | None, missing: str = "-") -> str:
    """A p-value as shown in tables: three decimals, "<0.001" below that (the smallest p of 10,000 permutations
    is 1/10,001), ``missing`` when undefined."""
    if p is None:
        return missing
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def declared_direction(key: str) -> bool | None:
    """Higher is better for ``key``, as its declaration says (``workbench.scoring.metric_info``); None when the
    metric has no better direction (POPE's yes ratio)."""
    return metric_info(key).higher_is_better


# ---------------------------------------------------------------- statistics per task

def _finite_field(items: list[dict], field: str) -> np.ndarray | None:
    values = []
    for it in items:
        v = it.get("metrics", {}).get(field)
        if isinstance(v, bool):
            v = float(v)
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            return None
        values.append(float(v))
    return np.array(values)


def _scored_count(items: list[dict], metric: str) -> int | None:
    """How many items a metric was scored on: those whose per-item value (field ``metric`` or its alias) is a
    finite number; for a per-split metric ``<split>/<name>`` (POPE's ``adversarial/f1``), the items whose per-item
    ``split`` is ``<split>``; None when neither applies (a pooled corpus-only metric such as BLEU)."""
    split = metric.rpartition("/")[0]
    if split:
        in_split = sum(1 for it in items if it.get("metrics", {}).get("split") == split)
        if in_split:
            return in_split
    for field in dict.fromkeys([metric, ITEM_FIELD_ALIASES.get(metric)]):
        if field is not None and any(field in it.get("metrics", {}) for it in items):
            values = [it.get("metrics", {}).get(field) for it in items]
            return sum(1 for v in values if isinstance(v, (int, float)) and math.isfinite(v))
    return None


def _close(x, y) -> bool:
    return x is not None and y is not None and abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))


def _mean_field(key: str, task: str, per_run_items: list[list[dict]], stored: list[float],
                aggregate: Aggregate, probes: list[np.ndarray]) -> str | None:
    """The per-item field whose plain mean *is* this metric, verified, or None."""
    metric = key.split("/", 1)[1]
    for field in dict.fromkeys([metric, ITEM_FIELD_ALIASES.get(metric)]):
        if field is None:
            continue
        ok = True
        for items, value in zip(per_run_items, stored):
            arr = _finite_field(items, field)
            if arr is None or not _close(float(arr.mean()), value):
                ok = False
                break
            for idx in probes:
                if not _close(aggregate(task, [items[i] for i in idx]).get(key), float(arr[idx].mean())):
                    ok = False
                    break
            if not ok:
                break
        if ok:
            return field
    return None


def _finite_or_none(x):
    return float(x) if x is not None and math.isfinite(x) else None


def _entry(task, metric, a, b, a_s, b_s, p, n, kind, higher: bool | None, n_scored=None) -> dict:
    a, b = _finite_or_none(a), _finite_or_none(b)
    delta = None if a is None or b is None else b - a
    have = a_s is not None and b_s is not None
    ci, a_ci, b_ci = (percentile_ci(b_s - a_s), percentile_ci(a_s), percentile_ci(b_s)) if have else (None,) * 3
    significant = p is not None and p < ALPHA
    verdict = "n/a" if p is None else "n.s."
    if significant and delta:
        verdict = "changed" if higher is None else "better" if (delta > 0) == higher else "worse"
    return {
        "task": task, "metric": metric, "a": a, "b": b, "delta": delta,
        "ci": list(ci) if ci else None, "a_ci": list(a_ci) if a_ci else None,
        "b_ci": list(b_ci) if b_ci else None,
        "p": p, "n": n, "n_scored": n_scored, "significant": significant, "verdict": verdict,
        "better": "neither" if higher is None else "higher" if higher else "lower", "resampling": kind,
    }


def _task_rng(seed: int, task: str, *extra: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(task.encode("utf-8")), *extra])


def compare_task(task: str, per_run_items: list[list[dict]], per_run_aggregate: list[dict],
                 baseline: int, n_resamples: int, seed: int, aggregate: Aggregate,
                 show_progress: bool = False, make_stat: MakeStat | None = None,
                 higher_is_better: Direction = declared_direction) -> list[dict[str, dict]]:
    """Per non-baseline run (in order), {key: entry} for this task's metrics.

    ``make_stat(task, items)`` gives a vectorised ``stat(index (B, k)) -> {key: (B,) values}``;
    by default one built on ``aggregate`` (one call per resample). ``higher_is_better(key)`` gives each
    metric's direction (default: its declaration; a custom ``aggregate`` with undeclared metrics passes its own)."""
    make_stat = make_stat or _looping_stat(aggregate)
    n = len(per_run_items[0])
    prefix = task + "/"
    keys = sorted(set.intersection(*(set(k for k in agg if k.startswith(prefix)) for agg in per_run_aggregate)))
    keys = [k for k in keys if all(agg[k] is None or isinstance(agg[k], (int, float)) for agg in per_run_aggregate)]
    full = [aggregate(task, items) for items in per_run_items]
    mean_fields, corpus_keys = _resampling_kinds(task, keys, per_run_items, per_run_aggregate, full, aggregate, seed)

    bar = None
    if corpus_keys:
        from tqdm.auto import tqdm
        total = n_resamples * len(per_run_items)   # one bootstrap pass + one permutation pass per other run
        bar = tqdm(total=total, desc=f"{task}: resampling corpus-level metrics", unit="resample", leave=False,
                   disable=not show_progress)
    progress = bar.update if bar else None
    samples = _bootstrap_samples(task, per_run_items, mean_fields, corpus_keys, make_stat, n_resamples, seed,
                                 progress)
    out = []
    base_items = per_run_items[baseline]
    for r, items in enumerate(per_run_items):
        if r == baseline:
            continue
        observed = {k: full[r][k] - full[baseline][k] for k in corpus_keys}
        p_values = _permutation_p_values(task, base_items, items, r, mean_fields, corpus_keys, observed, make_stat,
                                         n_resamples, seed, progress)
        entries = {}
        for key in keys:
            kind = "mean" if key in mean_fields else "aggregate" if key in corpus_keys else "none"
            metric = key.split("/", 1)[1]
            counts = [_scored_count(base_items, metric), _scored_count(items, metric)]
            entries[key] = _entry(task, metric, per_run_aggregate[baseline][key], per_run_aggregate[r][key],
                                  samples[baseline].get(key), samples[r].get(key), p_values.get(key), n, kind,
                                  higher_is_better(key), None if counts == [None, None] else counts)
        out.append(entries)
    if bar:
        bar.close()
    return out


def _resampling_kinds(task, keys, per_run_items, per_run_aggregate, full, aggregate, seed) -> tuple[dict, list]:
    """Which metrics are a verified plain mean of a per-item field ({key: field}) and which are corpus-level
    metrics to recompute per resample ([key]); the rest have no per-item basis (no CI)."""
    n = len(per_run_items[0])
    probe_rng = _task_rng(seed, task, 99)
    # three items at least: on one item a ratio of sums (corpus precision) equals the mean of per-item ratios, and
    # on two a median equals the mean
    probes = [probe_rng.integers(0, n, size=max(3, n // 2)) for _ in range(N_PROBES)] if n else []
    mean_fields, corpus_keys = {}, []
    for key in keys:
        field = _mean_field(key, task, per_run_items, [agg[key] for agg in per_run_aggregate], aggregate, probes)
        if field is not None:
            mean_fields[key] = field
        elif all(isinstance(f.get(key), (int, float)) for f in full) and n:
            corpus_keys.append(key)
    return mean_fields, corpus_keys


def _bootstrap_samples(task, per_run_items, mean_fields, corpus_keys, make_stat, n_resamples, seed,
                       progress) -> list[dict[str, np.ndarray]]:
    """Per run, {key: the metric on each bootstrap resample}; all runs share the resampled item indices."""
    n = len(per_run_items[0])
    samples: list[dict[str, np.ndarray]] = [{} for _ in per_run_items]
    if mean_fields and n:
        mkeys = list(mean_fields)
        stacked = np.stack([_finite_field(items, mean_fields[k]) for items in per_run_items for k in mkeys])
        drawn = bootstrap_means(stacked, _task_rng(seed, task, 0), n_resamples).reshape(
            len(per_run_items), len(mkeys), -1)
        for r in range(len(per_run_items)):
            for j, k in enumerate(mkeys):
                samples[r][k] = drawn[r, j]
    if corpus_keys:
        stats = [make_stat(task, items) for items in per_run_items]
        drawn_c = bootstrap_stats(stats, corpus_keys, n, _task_rng(seed, task, 1), n_resamples, progress)
        for r in range(len(per_run_items)):
            samples[r].update(drawn_c[r])
    return samples


def _permutation_p_values(task, base_items, items, r, mean_fields, corpus_keys, observed, make_stat, n_resamples,
                          seed, progress) -> dict[str, float | None]:
    """Paired permutation p-values of run ``r`` against the baseline: sign flips for the means, swapped item
    results for the corpus-level metrics (``observed``: their differences on the full set)."""
    n = len(base_items)
    p_values: dict[str, float | None] = {}
    if mean_fields and n:
        mkeys = list(mean_fields)
        a = np.stack([_finite_field(base_items, mean_fields[k]) for k in mkeys])
        b = np.stack([_finite_field(items, mean_fields[k]) for k in mkeys])
        p_values.update(zip(mkeys, map(float, np.atleast_1d(
            paired_permutation_means(a, b, _task_rng(seed, task, 2, r), n_resamples)))))
    if corpus_keys:
        p_values.update(paired_permutation_stat(make_stat(task, base_items + items), observed, corpus_keys, n,
                                                _task_rng(seed, task, 3, r), n_resamples, progress))
    return p_values


# ---------------------------------------------------------------- orchestration

def _looping_stat(aggregate: Aggregate) -> MakeStat:
    """A block statistic that calls ``aggregate`` once per resample (for scorers without a vectorised
    resampler); None (undefined) becomes NaN."""
    def make(task: str, items: list) -> BlockStat:
        def stat(index: np.ndarray) -> dict[str, np.ndarray]:
            rows = [aggregate(task, [items[i] for i in row]) for row in np.atleast_2d(index)]
            keys = set().union(*rows) if rows else set()
            return {k: np.array([np.nan if r.get(k) is None else r[k] for r in rows], dtype=float) for k in keys}
        return stat
    return make


def _scorer_stat(task: str, items: list) -> BlockStat:
    from workbench.scoring import Aggregator
    return Aggregator(task, items).resample


def _undefined_reason(key: str, entry: dict, a_scores: dict, b_scores: dict) -> str | None:
    """Why the baseline's and/or the other run's value is null (from scores.json ``undefined``), or None."""
    reasons = []
    for side, scores in (("a", a_scores), ("b", b_scores)):
        if entry[side] is None:
            why = (scores.get("undefined") or {}).get(key) or "undefined on the scored items"
            if why not in reasons:
                reasons.append(why)
    return "; ".join(reasons) or None


def _run_summary(run: ScoredRun) -> dict:
    return {"name": run.name, "path": str(run.path), "model": run.record.model,
            "checkpoint_sha256": run.record.checkpoint_sha256}


def compare_loaded(es, runs: list[ScoredRun], baseline: int = 0, n_resamples: int = 10000, seed: int = 0,
                   aggregate: Aggregate | None = None, show_progress: bool = True) -> dict:
    """compare.json content for already loaded runs (see ``compare_runs``)."""
    if not 0 <= baseline < len(runs):
        raise WorkbenchError(f"baseline index {baseline} is out of range for {len(runs)} runs")
    if n_resamples < 100:
        raise WorkbenchError(f"--resamples {n_resamples} is too few for a 95% interval; use at least 1000")
    make_stat = None if aggregate else _scorer_stat
    if aggregate is None:
        from workbench.scoring import aggregate_items as aggregate
    tasks: dict[str, list[str]] = {}
    for item in es.items:
        tasks.setdefault(item.task, []).append(item.id)
    comparisons = [{"baseline": runs[baseline].name, "other": run.name, "metrics": {}}
                   for r, run in enumerate(runs) if r != baseline]
    by_id = [{it["id"]: it for it in run.scores["items"]} for run in runs]
    for task, ids in tasks.items():
        per_run_items = [[m[i] for i in ids] for m in by_id]
        results = compare_task(task, per_run_items, [run.scores["aggregate"] for run in runs], baseline,
                               n_resamples, seed, aggregate, show_progress, make_stat)
        for comp, entries in zip(comparisons, results):
            comp["metrics"].update(entries)
    others = [(r, run) for r, run in enumerate(runs) if r != baseline]
    for comp, (r, run) in zip(comparisons, others):
        for key, entry in comp["metrics"].items():
            entry["undefined"] = _undefined_reason(key, entry, runs[baseline].scores, run.scores)
        comp["swaps"] = label_swaps(es.items, by_id[baseline], by_id[r])
    return {
        "schema": SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "eval_set": {"name": es.name, "path": str(es.root), "manifest_sha256": es.manifest_sha256,
                     "n_items": len(es.items), "tasks": {t: len(ids) for t, ids in tasks.items()}},
        "runs": [_run_summary(run) for run in runs],
        "baseline": runs[baseline].name,
        "method": {
            "delta": "other - baseline",
            "ci": f"{int(100 * 0.95)}% percentile bootstrap over items, resampled jointly for all runs",
            "test": "two-sided paired permutation test (per item, swap the two runs' results; "
                    "sign-flip test for per-item means); p = (1 + #extreme) / (1 + resamples)",
            "alpha": ALPHA, "n_resamples": n_resamples, "seed": seed,
            "resampling": "'mean': plain mean of a per-item field, vectorised; 'aggregate': recomputed "
                          "per resample with the scorers' aggregate_items; 'none': no per-item basis, no CI",
        },
        "comparisons": comparisons,
    }


def compare_runs(run_dirs, eval_set, baseline: int = 0, n_resamples: int = 10000, seed: int = 0,
                 aggregate: Aggregate | None = None, show_progress: bool = True) -> dict:
    """Compare every run in ``run_dirs`` with ``run_dirs[baseline]`` on ``eval_set`` (path or EvalSet).

    ``aggregate`` defaults to ``workbench.scoring.aggregate_items``; pass another for custom scorers.
    Returns the compare.json content; see the module docstring for the statistics.
    """
    es, runs = load_scored_runs(run_dirs, eval_set)
    return compare_loaded(es, runs, baseline, n_resamples, seed, aggregate, show_progress)


def write_compare(result: dict, path) -> Path:
    return atomic_write_json(path, result)

"""Paired statistics for comparing two runs item by item.

Two tools, both seeded and both resampling *items* (each item keeps its two outputs together):

- ``bootstrap_means`` / ``bootstrap_stats``: samples for percentile 95% confidence intervals of each
  run's metric and of the difference ``b - a``. Item ids are drawn with replacement, jointly for all
  runs, so the difference is paired.
- ``paired_permutation``: a two-sided paired permutation test (approximate randomisation,
  Noreen 1989; Riezler & Maxwell 2005). Under the null hypothesis the two runs are exchangeable
  within each item, so each resample swaps the two runs' results on a random subset of items and
  recomputes the statistic. For a plain mean this is the classic sign-flip test on per-item
  differences. p = (1 + #{|delta*| >= |delta|}) / (1 + R), which is never 0.

A metric is either a plain mean of a per-item value (vectorised with numpy) or a corpus-level
statistic (``stat(indices) -> float`` for an index array), such as BLEU from summed n-gram counts or
macro-F1; those are recomputed on every resample through the scorers' aggregate function.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

CI_LEVEL = 0.95
CHUNK = 1000  # resamples per block, to bound memory at CHUNK x n


def _index_blocks(rng: np.random.Generator, n: int, n_resamples: int) -> Iterator[np.ndarray]:
    done = 0
    while done < n_resamples:
        size = min(CHUNK, n_resamples - done)
        yield rng.integers(0, n, size=(size, n))
        done += size


def _swap_blocks(rng: np.random.Generator, n: int, n_resamples: int) -> Iterator[np.ndarray]:
    done = 0
    while done < n_resamples:
        size = min(CHUNK, n_resamples - done)
        yield rng.random((size, n)) < 0.5
        done += size


def percentile_ci(samples: np.ndarray, level: float = CI_LEVEL) -> tuple[float, float] | None:
    """Percentile interval of the finite bootstrap samples (None if there are none)."""
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return None
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(finite, [tail, 100.0 - tail])
    return float(lo), float(hi)


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    """counts[r, i] = how often item i was drawn in resample r."""
    offsets = idx + (np.arange(idx.shape[0]) * n)[:, None]
    return np.bincount(offsets.ravel(), minlength=idx.size).reshape(idx.shape[0], n).astype(float)


def bootstrap_means(values: np.ndarray, rng: np.random.Generator, n_resamples: int) -> np.ndarray:
    """Bootstrap samples of the mean of each row of ``values`` (k, n), with the *same* resampled
    items for every row (rows are runs x metrics, so differences between rows are paired).
    Returns (k, R)."""
    x = np.atleast_2d(np.asarray(values, dtype=float))
    n = x.shape[1]
    blocks = [x @ _counts(idx, n).T / n for idx in _index_blocks(rng, n, n_resamples)]
    return np.concatenate(blocks, axis=1)


BlockStat = Callable[[np.ndarray], dict[str, np.ndarray]]


def bootstrap_stats(stats: list[BlockStat], keys: list[str], n: int, rng: np.random.Generator,
                    n_resamples: int, progress: Callable[[int], None] | None = None) -> list[dict[str, np.ndarray]]:
    """Bootstrap samples of corpus-level statistics. One ``stat(index) -> {key: (B,) values}`` per run,
    where ``index`` is a (B, n) block of resampled item positions; every run sees the same blocks.
    Returns, per run, {key: (R,) samples} (NaN where a statistic is undefined on a resample)."""
    out = [{k: [] for k in keys} for _ in stats]
    for idx in _index_blocks(rng, n, n_resamples):
        for run_out, stat in zip(out, stats):
            values = stat(idx)
            for k in keys:
                run_out[k].append(np.asarray(values.get(k, np.full(len(idx), np.nan)), dtype=float))
        if progress:
            progress(idx.shape[0])
    return [{k: np.concatenate(v) for k, v in run_out.items()} for run_out in out]


def _p_value(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Two-sided p from |null| >= |observed|, with a tolerance so exact ties count as extreme."""
    obs = np.abs(observed)[..., None]
    tol = 1e-12 * np.maximum(1.0, obs)
    extreme = np.sum(np.abs(null) >= obs - tol, axis=-1)
    return (1.0 + extreme) / (1.0 + null.shape[-1])


def paired_permutation_means(a: np.ndarray, b: np.ndarray, rng: np.random.Generator,
                             n_resamples: int) -> np.ndarray | float:
    """Sign-flip test of mean(b - a) = 0. ``a``/``b`` are (n,) or (m, n); returns p (scalar or (m,))."""
    d = np.atleast_2d(np.asarray(b, dtype=float) - np.asarray(a, dtype=float))
    n = d.shape[1]
    null_arr = np.concatenate([d @ np.where(swap, -1.0, 1.0).T / n
                               for swap in _swap_blocks(rng, n, n_resamples)], axis=1)
    p = _p_value(d.mean(axis=1), null_arr)
    return float(p[0]) if np.ndim(a) == 1 else p


def paired_permutation_stat(stat: BlockStat, observed: dict[str, float], keys: list[str], n: int,
                            rng: np.random.Generator, n_resamples: int,
                            progress: Callable[[int], None] | None = None) -> dict[str, float | None]:
    """Permutation test for corpus-level statistics.

    ``stat`` works on the 2n items ``baseline items + other items``: position i is item i of the
    baseline, n + i the same item of the other run. Each permutation builds pseudo-runs by swapping
    a random subset of items and takes the difference of ``stat`` on them. ``observed[k]`` is b - a.
    """
    base = np.arange(n)
    null: dict[str, list] = {k: [] for k in keys}
    for swap in _swap_blocks(rng, n, n_resamples):
        shift = swap.astype(np.int64) * n
        sa = stat(base + shift)            # pseudo-baseline: the other run's result where swapped
        sb = stat(base + n - shift)
        for k in keys:
            null[k].append(np.asarray(sb.get(k), dtype=float) - np.asarray(sa.get(k), dtype=float))
        if progress:
            progress(swap.shape[0])
    out: dict[str, float | None] = {}
    for k in keys:
        values = np.concatenate(null[k])
        finite = values[np.isfinite(values)]
        obs = observed.get(k)
        if obs is None or not np.isfinite(obs) or finite.size == 0:
            out[k] = None
        else:
            out[k] = float(_p_value(np.array([obs]), finite[None, :])[0])
    return out

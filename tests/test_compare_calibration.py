"""Calibration of the paired statistics against independent references (issue 20).

Expected values never come from ``workbench.compare``: p-values from an exact enumeration of all 2^n swaps
(written here with itertools) and from ``scipy.stats.permutation_test``; CI widths from
``scipy.stats.bootstrap``; percentiles by hand.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from workbench.compare.bootstrap import (CI_LEVEL, bootstrap_means, bootstrap_stats, paired_permutation_means,
                                         paired_permutation_stat, percentile_ci)

R = 10000                 # resamples; the Monte-Carlo sd of p is at most sqrt(.25 / R) = 0.005
TOL = 0.02                # 4 sd


# ---------------------------------------------------------------- independent references

def exact_swap_p(a, b, statistic) -> float:
    """Two-sided p of the paired swap test by enumerating every subset of swapped items:
    #{swaps: |stat(b') - stat(a')| >= |stat(b) - stat(a)|} / 2^n (the identity swap included)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    observed = abs(statistic(b) - statistic(a))
    extreme = 0
    for mask in itertools.product([False, True], repeat=len(a)):
        m = np.array(mask)
        a2, b2 = np.where(m[:, None] if a.ndim > 1 else m, b, a), np.where(m[:, None] if a.ndim > 1 else m, a, b)
        extreme += abs(statistic(b2) - statistic(a2)) >= observed - 1e-12
    return extreme / 2 ** len(a)


def ratio_of_sums(rows: np.ndarray) -> float:
    """A corpus-level statistic like CHAIR_i: sum of column 0 / sum of column 1 (not a mean of items)."""
    return rows[:, 0].sum() / rows[:, 1].sum()


def ratio_block_stat(rows: np.ndarray):
    """``stat(index (B, k)) -> {"r": (B,)}`` over ``rows`` (k, 2), the shape compare gives a BlockStat."""
    def stat(index):
        index = np.atleast_2d(index)
        return {"r": rows[index, 0].sum(axis=1) / rows[index, 1].sum(axis=1)}
    return stat


# A small paired data set with a moderate effect: p is far from both 1/(R+1) and 1.
A_ROWS = np.array([[1, 4], [0, 3], [2, 5], [1, 2], [0, 4], [3, 6], [1, 3], [2, 4], [0, 2]], dtype=float)
B_ROWS = np.array([[2, 4], [1, 3], [2, 4], [0, 2], [1, 5], [3, 5], [2, 3], [2, 5], [1, 3]], dtype=float)


def _corpus_p(a_rows, b_rows, seed=0, n_resamples=R):
    n = len(a_rows)
    stat = ratio_block_stat(np.concatenate([a_rows, b_rows]))   # positions: baseline 0..n-1, other n..2n-1
    observed = {"r": ratio_of_sums(b_rows) - ratio_of_sums(a_rows)}
    return paired_permutation_stat(stat, observed, ["r"], n, np.random.default_rng(seed), n_resamples)["r"]


# ---------------------------------------------------------------- the corpus-metric permutation path

def test_corpus_permutation_p_matches_exact_enumeration_and_scipy():
    exact = exact_swap_p(A_ROWS, B_ROWS, ratio_of_sums)
    assert 0.05 < exact < 0.9          # the fixture gives a p worth checking

    # scipy swaps x_i <-> y_i (paired "samples"); with 2^9 < n_resamples it enumerates every swap exactly.
    # Its samples are positions into the stacked rows (baseline 0..n-1, other n..2n-1).
    table, n = np.concatenate([A_ROWS, B_ROWS]), len(A_ROWS)
    ref = stats.permutation_test((np.arange(n), np.arange(n) + n),
                                 lambda x, y: ratio_of_sums(table[y]) - ratio_of_sums(table[x]),
                                 permutation_type="samples", alternative="two-sided", vectorized=False,
                                 n_resamples=10_000)
    assert ref.pvalue == pytest.approx(exact)      # the two references agree exactly (symmetric null)
    assert _corpus_p(A_ROWS, B_ROWS) == pytest.approx(exact, abs=TOL)


def test_corpus_permutation_p_is_symmetric_in_the_two_runs_and_seed_stable():
    exact = exact_swap_p(A_ROWS, B_ROWS, ratio_of_sums)
    for seed in (1, 2):
        assert _corpus_p(B_ROWS, A_ROWS, seed=seed) == pytest.approx(exact, abs=TOL)


def test_corpus_permutation_identical_runs_give_p_one_and_a_huge_effect_the_floor():
    assert _corpus_p(A_ROWS, A_ROWS.copy(), n_resamples=500) == 1.0
    rng_rows = np.random.default_rng(3).integers(1, 5, size=(14, 2)).astype(float)
    rng_rows[:, 0] = 0                         # ratio 0 everywhere vs the other run's 1
    hit = rng_rows.copy()
    hit[:, 0] = hit[:, 1]
    assert _corpus_p(rng_rows, hit, n_resamples=999) == pytest.approx(1 / 1000)


def test_corpus_permutation_undefined_statistic_gives_none():
    n = len(A_ROWS)
    stat = ratio_block_stat(np.concatenate([A_ROWS, B_ROWS]))
    assert paired_permutation_stat(stat, {"r": float("nan")}, ["r"], n, np.random.default_rng(0), 200) == {"r": None}
    assert paired_permutation_stat(stat, {}, ["r"], n, np.random.default_rng(0), 200) == {"r": None}

    def never(index):
        return {"r": np.full(np.atleast_2d(index).shape[0], np.nan)}
    assert paired_permutation_stat(never, {"r": 0.5}, ["r"], n, np.random.default_rng(0), 200) == {"r": None}


def test_corpus_permutation_counts_progress_per_resample_across_blocks():
    seen = []
    n = len(A_ROWS)
    stat = ratio_block_stat(np.concatenate([A_ROWS, B_ROWS]))
    paired_permutation_stat(stat, {"r": 0.1}, ["r"], n, np.random.default_rng(0), 2500, progress=seen.append)
    assert sum(seen) == 2500 and len(seen) == 3       # blocks of at most 1000 resamples


@pytest.mark.parametrize("d", [
    [0.5, -0.2, 0.3, 0.1, 0.4, -0.1, 0.2, 0.6],
    [1.0, 1.0, -1.0, 0.0, 2.0, -0.5, 0.25, 0.75, 0.1, -0.3],
])
def test_sign_flip_p_matches_exact_enumeration_and_scipy(d):
    d = np.array(d)
    a = np.linspace(0.0, 1.0, len(d))
    b = a + d
    exact = np.mean([abs(np.mean(np.array(s) * d)) >= abs(d.mean()) - 1e-12
                     for s in itertools.product([-1, 1], repeat=len(d))])
    ref = stats.permutation_test((a, b), lambda x, y: np.mean(y - x), permutation_type="samples",
                                 alternative="two-sided", n_resamples=10_000, vectorized=False)
    assert ref.pvalue == pytest.approx(exact)
    assert paired_permutation_means(a, b, np.random.default_rng(0), R) == pytest.approx(exact, abs=TOL)
    # the vectorised (m, n) form gives each row its own p
    both = paired_permutation_means(np.stack([a, a]), np.stack([b, a]), np.random.default_rng(0), R)
    assert both.shape == (2,) and both[0] == pytest.approx(exact, abs=TOL) and both[1] == 1.0


def test_sign_flip_p_with_a_tie_in_the_null_counts_the_tie_as_extreme():
    # d = (1, 1): the null is {-1, 0, 0, 1} in |mean| terms {1, 0, 0, 1}: exact two-sided p = 2/4
    p = paired_permutation_means(np.zeros(2), np.ones(2), np.random.default_rng(0), R)
    assert p == pytest.approx(0.5, abs=TOL)


# ---------------------------------------------------------------- confidence intervals

def test_ci_level_is_95_percent():
    assert CI_LEVEL == 0.95
    x = np.arange(1001.0)                      # percentile p of 0..1000 is 10 * p exactly
    assert percentile_ci(x) == pytest.approx((25.0, 975.0))
    assert percentile_ci(x, level=0.9) == pytest.approx((50.0, 950.0))
    assert percentile_ci(np.array([np.nan, 1.0, np.inf, 3.0])) == pytest.approx((1.05, 2.95))   # finite samples only


def test_bootstrap_mean_ci_matches_scipy_percentile_bootstrap():
    rng = np.random.default_rng(11)
    x = rng.exponential(1.0, 60)
    ours = percentile_ci(bootstrap_means(x, np.random.default_rng(1), R)[0])
    ref = stats.bootstrap((x,), np.mean, confidence_level=0.95, method="percentile", n_resamples=R,
                          random_state=np.random.default_rng(2)).confidence_interval
    width = ref.high - ref.low
    assert ours[0] == pytest.approx(ref.low, abs=0.04 * width)
    assert ours[1] == pytest.approx(ref.high, abs=0.04 * width)
    # a 90% interval would be ~16% narrower: the check above tells the two levels apart
    assert (ours[1] - ours[0]) / width == pytest.approx(1.0, abs=0.06)


def test_bootstrap_draws_items_with_replacement_uniformly():
    n = 7
    x = np.eye(n)                               # row j's mean on a resample = share of draws that were item j
    samples = bootstrap_means(x, np.random.default_rng(0), 3000)
    assert samples.shape == (n, 3000)
    assert np.allclose(samples.sum(axis=0), 1.0)                   # n draws per resample
    assert samples.mean(axis=1) == pytest.approx(np.full(n, 1 / n), abs=0.01)
    assert samples.var(axis=1) == pytest.approx(np.full(n, (1 / n) * (1 - 1 / n) / n), rel=0.15)


def test_bootstrap_stats_gives_every_run_the_same_index_blocks_and_nan_for_missing_keys():
    seen = [[], []]

    def recorder(r):
        def stat(index):
            seen[r].append(index.copy())
            return {"s": index.sum(axis=1).astype(float)}
        return stat
    progress = []
    out = bootstrap_stats([recorder(0), recorder(1)], ["s", "missing"], 5, np.random.default_rng(0), 1500,
                          progress.append)
    assert sum(progress) == 1500
    assert all(np.array_equal(x, y) for x, y in zip(*seen)) and len(seen[0]) == 2
    assert out[0]["s"].shape == (1500,) and np.array_equal(out[0]["s"], out[1]["s"])
    assert np.all(np.isnan(out[0]["missing"]))
    assert out[0]["s"].min() >= 0 and out[0]["s"].max() <= 20   # 5 positions drawn from 0..4


def test_percentile_ci_of_one_finite_sample_is_that_sample():
    assert percentile_ci(np.array([np.nan, 2.0])) == (2.0, 2.0)
    assert percentile_ci(np.array([np.nan, np.inf])) is None


def _constant_null(value):
    """A statistic whose permutation null is ``value`` on every resample (pseudo-runs 0 and ``value``)."""
    def stat(index):
        rows = np.atleast_2d(index).shape[0]
        swapped_b = np.atleast_2d(index)[:, 0] >= 1      # position 0 of the pseudo-other run: 1 = item 0 of b
        return {"s": np.where(swapped_b, value, 0.0) if rows else np.zeros(0)}
    return stat


@pytest.mark.parametrize("observed,null,extreme", [
    (3e6, 3e6 - 1e-7, True),      # equal up to rounding (relative 3e-14): a tie, counted as extreme
    (0.5, 0.5 - 1.5e-12, False),  # 1.5e-12 below an observed 0.5 is a real difference (tolerance 1e-12)
    (0.5, 0.5 - 0.5e-12, True),
])
def test_p_value_counts_ties_within_a_relative_tolerance(observed, null, extreme):
    # n = 1 item; swapped or not, |stat(b') - stat(a')| = null, so p is 1 (all extreme) or 1/(R + 1)
    p = paired_permutation_stat(_constant_null(null), {"s": observed}, ["s"], 1, np.random.default_rng(0), 99)["s"]
    assert p == (1.0 if extreme else 1 / 100)


def test_sign_flip_p_of_one_pair_of_runs_is_a_float_and_of_stacked_runs_an_array():
    p = paired_permutation_means([0.0, 0.0, 1.0], [1.0, 1.0, 1.0], np.random.default_rng(0), 200)
    assert type(p) is float
    assert isinstance(paired_permutation_means(np.zeros((1, 3)), np.ones((1, 3)), np.random.default_rng(0), 200),
                      np.ndarray)


# ---------------------------------------------------------------- metric directions

# From the metric definitions (docs/scorers.md): hallucination, failures and false alarms are errors.
LOWER_IS_BETTER = {"chair_i", "chair_s", "failure_rate", "healthy_false_alarm"}
METRICS = {
    "caption": ["bleu_1", "bleu_2", "bleu_3", "bleu_4", "meteor", "rouge_l", "cider", "chair_i", "chair_s",
                "object_recall", "failure_rate"],
    "recipe": ["dish_accuracy", "ingredient_precision", "ingredient_recall", "ingredient_f1", "steps_present",
               "failure_rate"],
    "diagnosis": ["crop_accuracy", "disease_accuracy", "disease_macro_f1", "treatment_recall",
                  "healthy_false_alarm", "failure_rate"],
}


@pytest.mark.parametrize("task,metric", [(t, m) for t, ms in METRICS.items() for m in ms])
def test_verdict_follows_each_metrics_direction(task, metric):
    from workbench.compare.statistics import compare_task

    rng = np.random.default_rng(0)
    a = rng.random(30) * 0.5
    key = f"{task}/{metric}"

    def aggregate(t, items):
        return {key: float(np.mean([it["metrics"][metric] for it in items]))} if items else {}
    for b, went_up in ((a + 0.3, True), (a - 0.3, False)):
        items = [[{"id": str(i), "metrics": {metric: float(v)}} for i, v in enumerate(x)] for x in (a, b)]
        entry = compare_task(task, items, [aggregate(task, it) for it in items], 0, 500, 0, aggregate)[0][key]
        assert entry["significant"] and entry["p"] == pytest.approx(1 / 501)
        assert entry["better"] == ("lower" if metric in LOWER_IS_BETTER else "higher")
        improved = went_up != (metric in LOWER_IS_BETTER)
        assert entry["verdict"] == ("better" if improved else "worse")
    same = [[{"id": str(i), "metrics": {metric: float(v)}} for i, v in enumerate(a)]] * 2
    entry = compare_task(task, same, [aggregate(task, it) for it in same], 0, 500, 0, aggregate)[0][key]
    assert (entry["significant"], entry["verdict"], entry["p"]) == (False, "n.s.", 1.0)

"""compare's statistics module at its edges (issue 20): p formatting, which metrics are resampled how, the
entries' fields and verdicts, undefined values and their reasons, and compare.json's header.

Fast: runs and eval sets are built in memory (no scoring); expected values are written out by hand.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from workbench.compare.statistics import (_looping_stat, _undefined_reason, compare_loaded, compare_task,
                                          declared_direction, format_p)
from workbench.errors import WorkbenchError

UP = lambda key: True   # noqa: E731 - an undeclared test metric where higher is better


# ---------------------------------------------------------------- p formatting

@pytest.mark.parametrize("p, text", [
    (None, "-"), (0.0, "<0.001"), (1 / 10001, "<0.001"), (0.000999, "<0.001"), (0.001, "0.001"),
    (0.0123, "0.012"), (0.5, "0.500"), (1.0, "1.000"),
])
def test_format_p_shows_three_decimals_and_below_a_thousandth_a_bound(p, text):
    assert format_p(p) == text


def test_format_p_missing_text_is_the_callers():
    assert format_p(None, missing="n/a") == "n/a"
    assert format_p(0.02, missing="n/a") == "0.020"


def test_declared_direction_reads_the_metric_table():
    assert declared_direction("caption/cider") is True
    assert declared_direction("caption/chair_i") is False
    assert declared_direction("pope/yes_ratio") is None


# ---------------------------------------------------------------- compare_task on hand-made items

def _items(**fields):
    """items with per-item metrics: _items(x=[...], y=[...]) -> [{"id", "metrics": {"x": .., "y": ..}}]."""
    n = len(next(iter(fields.values())))
    return [{"id": str(i), "metrics": {k: v[i] for k, v in fields.items()}} for i in range(n)]


def _run(task, per_run_items, aggregate, resamples=400, seed=0, baseline=0, direction=UP, stored=None):
    stored = stored or [aggregate(task, items) for items in per_run_items]
    return compare_task(task, per_run_items, stored, baseline, resamples, seed, aggregate,
                        higher_is_better=direction)


def _mean_of(field, key):
    def aggregate(task, items):
        values = [it["metrics"][field] for it in items]
        return {f"{task}/{key}": float(np.mean(values)) if values else None}
    return aggregate


def test_a_metric_that_is_a_mean_of_its_field_is_resampled_as_a_mean():
    a, b = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    [e] = _run("t", [_items(s=a), _items(s=b)], _mean_of("s", "s"))
    assert e["t/s"]["resampling"] == "mean"
    assert (e["t/s"]["a"], e["t/s"]["b"], e["t/s"]["delta"]) == (0.5, 5 / 6, pytest.approx(1 / 3))
    assert (e["t/s"]["n"], e["t/s"]["n_scored"]) == (6, [6, 6])
    assert (e["t/s"]["task"], e["t/s"]["metric"], e["t/s"]["better"]) == ("t", "s", "higher")


def test_bool_per_item_fields_count_as_zero_and_one():
    a, b = [False, True, False, True], [True, True, True, True]
    agg = lambda task, items: {"t/ok": float(np.mean([float(it["metrics"]["ok"]) for it in items]))}  # noqa: E731
    [e] = _run("t", [_items(ok=a), _items(ok=b)], agg)
    assert e["t/ok"]["resampling"] == "mean" and e["t/ok"]["delta"] == 0.5


def test_failure_rate_is_resampled_through_its_per_item_failure_alias():
    agg = _mean_of("failure", "failure_rate")
    [e] = _run("t", [_items(failure=[1.0, 0.0, 1.0, 1.0]), _items(failure=[0.0, 0.0, 1.0, 0.0])], agg)
    assert e["t/failure_rate"]["resampling"] == "mean"
    assert e["t/failure_rate"]["n_scored"] == [4, 4]


def test_a_corpus_metric_with_a_per_item_field_of_the_same_name_is_recomputed_not_averaged():
    # per-item precision p_i = tp_i / pred_i; the corpus precision is sum(tp) / sum(pred), not mean(p_i)
    tp, pred = [1, 2, 0, 3], [1, 4, 2, 3]

    def agg(task, items):
        s_tp = sum(it["metrics"]["tp"] for it in items)
        s_pred = sum(it["metrics"]["pred"] for it in items)
        return {"t/precision": s_tp / s_pred}
    items = [{"id": str(i), "metrics": {"tp": tp[i], "pred": pred[i], "precision": tp[i] / pred[i]}}
             for i in range(4)]
    [e] = _run("t", [items, items], agg)
    assert e["t/precision"]["resampling"] == "aggregate"
    assert e["t/precision"]["a"] == 6 / 10 and e["t/precision"]["n_scored"] == [4, 4]


def test_a_per_item_field_that_matches_the_full_set_but_not_a_subset_is_not_taken_for_the_mean():
    # the stored value is the mean of the field on the full set, but the aggregate is the median, which
    # coincides with the mean only there: the subset probes must tell them apart
    x = [0.0, 0.1, 0.2, 0.5, 0.5, 0.8, 0.9, 1.0]

    def agg(task, items):
        return {"t/s": float(np.median([it["metrics"]["s"] for it in items]))}
    assert agg("t", _items(s=x))["t/s"] == pytest.approx(np.mean(x))
    [e] = _run("t", [_items(s=x), _items(s=x)], agg)
    assert e["t/s"]["resampling"] == "aggregate"


def test_a_field_whose_mean_is_not_the_stored_value_is_not_the_mean_path():
    x = [0.2, 0.4, 0.6, 0.8]
    agg = lambda task, items: {"t/s": float(np.sum([it["metrics"]["s"] for it in items]))}  # noqa: E731
    [e] = _run("t", [_items(s=x), _items(s=x)], agg)
    assert e["t/s"]["resampling"] == "aggregate" and e["t/s"]["a"] == pytest.approx(2.0)


def test_a_non_finite_or_non_number_per_item_value_sends_the_metric_to_the_aggregate_path():
    for bad in (float("nan"), "0.5", None):
        x = [0.5, 0.5, bad, 0.5]
        agg = lambda task, items: {"t/s": 0.5}  # noqa: E731
        [e] = _run("t", [_items(s=x), _items(s=x)], agg)
        assert e["t/s"]["resampling"] == "aggregate", bad
        assert e["t/s"]["n_scored"] == [3, 3], bad            # only finite numbers are counted


def test_keys_are_the_tasks_numeric_metrics_present_in_every_run():
    def agg(task, items):
        return {"t/s": 0.5, "t/label": "x", "other/s": 1.0}
    stored = [{"t/s": 0.5, "t/label": "x", "t/only_a": 1.0, "other/s": 1.0}, {"t/s": 0.5, "t/label": "x"}]
    [e] = _run("t", [_items(s=[0.5, 0.5]), _items(s=[0.5, 0.5])], agg, stored=stored)
    assert list(e) == ["t/s"]


def test_a_metric_without_per_item_basis_has_values_but_no_ci():
    stored = [{"t/m": 0.25}, {"t/m": 0.75}]
    items = [[{"id": "0", "metrics": {}}] * 3] * 2
    [e] = _run("t", items, lambda task, its: {"t/m": None}, stored=stored)
    m = e["t/m"]
    assert m["resampling"] == "none" and m["ci"] is None and m["a_ci"] is None and m["b_ci"] is None
    assert (m["a"], m["b"], m["delta"], m["p"], m["verdict"]) == (0.25, 0.75, 0.5, None, "n/a")
    assert m["n_scored"] is None


@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered")
def test_no_items_gives_no_resampling():
    agg = lambda task, items: {"t/m": 0.5}  # noqa: E731
    [e] = _run("t", [[], []], agg)
    assert e["t/m"]["resampling"] == "none" and e["t/m"]["n"] == 0 and e["t/m"]["p"] is None


def test_an_undefined_stored_value_is_none_and_the_delta_too():
    agg = _mean_of("s", "s")
    stored = [{"t/s": None}, {"t/s": 0.5}]
    [e] = _run("t", [_items(s=[0.5, 0.5]), _items(s=[0.5, 0.5])], agg, stored=stored)
    assert e["t/s"]["a"] is None and e["t/s"]["b"] == 0.5 and e["t/s"]["delta"] is None
    stored = [{"t/s": float("inf")}, {"t/s": float("nan")}]
    [e] = _run("t", [_items(s=[0.5, 0.5]), _items(s=[0.5, 0.5])], agg, stored=stored)
    assert (e["t/s"]["a"], e["t/s"]["b"], e["t/s"]["delta"]) == (None, None, None)


def test_cis_are_percentile_intervals_of_each_run_and_of_the_difference():
    # every item of a is 0.2 and every item of b 0.7: every resample gives exactly these means
    a, b = [0.2] * 8, [0.7] * 8
    [e] = _run("t", [_items(s=a), _items(s=b)], _mean_of("s", "s"))
    assert e["t/s"]["a_ci"] == pytest.approx([0.2, 0.2]) and e["t/s"]["b_ci"] == pytest.approx([0.7, 0.7])
    assert e["t/s"]["ci"] == pytest.approx([0.5, 0.5])


def test_the_ci_of_the_difference_is_the_paired_one():
    # b = a + 0.1 item by item, a spread widely: a paired interval of the difference is [0.1, 0.1]; an interval
    # of independently resampled runs would be about as wide as a's own. Both paths: mean and recomputed.
    a = list(np.linspace(0.0, 0.8, 10))
    b = [x + 0.1 for x in a]
    hidden = lambda task, items: {"t/s": float(np.mean([it["metrics"]["h"] for it in items]))}  # noqa: E731
    for agg, field, kind in ((_mean_of("s", "s"), "s", "mean"), (hidden, "h", "aggregate")):
        [e] = _run("t", [_items(**{field: a}), _items(**{field: b})], agg)
        assert e["t/s"]["resampling"] == kind
        assert e["t/s"]["ci"] == pytest.approx([0.1, 0.1])
        assert e["t/s"]["a_ci"][1] - e["t/s"]["a_ci"][0] > 0.2
        assert e["t/s"]["b_ci"][0] == pytest.approx(e["t/s"]["a_ci"][0] + 0.1)


@pytest.mark.parametrize("direction, shift, verdict, better", [
    (True, 0.5, "better", "higher"), (True, -0.5, "worse", "higher"),
    (False, 0.5, "worse", "lower"), (False, -0.5, "better", "lower"),
    (None, 0.5, "changed", "neither"), (None, -0.5, "changed", "neither"),
])
def test_verdicts_from_the_direction_and_the_sign(direction, shift, verdict, better):
    a = list(np.linspace(0.0, 0.4, 20))
    b = [x + shift for x in a]
    [e] = _run("t", [_items(s=a), _items(s=b)], _mean_of("s", "s"), direction=lambda key: direction)
    assert e["t/s"]["significant"] is True and e["t/s"]["verdict"] == verdict and e["t/s"]["better"] == better
    assert e["t/s"]["p"] == pytest.approx(1 / 401)


def test_not_significant_at_alpha_five_percent():
    # sign flips of d = (1, -1, 1, -1, 1, 1): exact two-sided p = #{|mean| >= 1/3} / 64 = 44 / 64
    a = [0.0] * 6
    b = [1.0, -1.0, 1.0, -1.0, 1.0, 1.0]
    [e] = _run("t", [_items(s=a), _items(s=b)], _mean_of("s", "s"), resamples=4000)
    assert e["t/s"]["p"] == pytest.approx(44 / 64, abs=0.03)
    assert e["t/s"]["significant"] is False and e["t/s"]["verdict"] == "n.s."


def test_p_just_below_alpha_is_significant_and_at_alpha_is_not():
    # n = 5 items all +1: exact p = 2/32 = 0.0625 (n.s.); n = 6: 2/64 = 0.031 (significant)
    for n, significant in ((5, False), (6, True)):
        [e] = _run("t", [_items(s=[0.0] * n), _items(s=[1.0] * n)], _mean_of("s", "s"), resamples=6000)
        assert e["t/s"]["p"] == pytest.approx(2 / 2 ** n, abs=0.01)
        assert e["t/s"]["significant"] is significant
        assert e["t/s"]["verdict"] == ("better" if significant else "n.s.")


def _ratio_of_sums(task, items):
    """A corpus statistic: sum(x) / sum(y) over the items."""
    return {"t/r": sum(it["metrics"]["x"] for it in items) / sum(it["metrics"]["y"] for it in items)}


def test_a_corpus_metric_gets_a_permutation_p_from_the_swapped_items():
    # corpus statistic sum(x) / sum(y); b hits more in every item: all 2^6 swaps but two give a smaller |delta|
    a = [{"id": str(i), "metrics": {"x": 0, "y": 2}} for i in range(6)]
    b = [{"id": str(i), "metrics": {"x": 2, "y": 2}} for i in range(6)]
    [e] = _run("t", [a, b], _ratio_of_sums, resamples=6000)
    assert e["t/r"]["resampling"] == "aggregate" and e["t/r"]["delta"] == 1.0
    assert e["t/r"]["p"] == pytest.approx(2 / 64, abs=0.01) and e["t/r"]["verdict"] == "better"


def test_each_other_run_is_compared_with_the_chosen_baseline():
    runs = [_items(s=[0.0] * 6), _items(s=[1.0] * 6), _items(s=[0.5] * 6)]
    out = _run("t", runs, _mean_of("s", "s"), baseline=2)
    assert [e["t/s"]["delta"] for e in out] == [-0.5, 0.5]
    assert [(e["t/s"]["a"], e["t/s"]["b"]) for e in out] == [(0.5, 0.0), (0.5, 1.0)]


def test_corpus_metric_progress_bar_counts_both_passes(monkeypatch):
    import tqdm.auto

    bars = []

    class Bar:
        def __init__(self, **kw):
            bars.append(dict(kw, done=0))

        def update(self, k):
            bars[-1]["done"] += k

        def close(self):
            bars[-1]["closed"] = True
    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    agg = lambda task, items: {"t/m": float(sum(it["metrics"]["h"] for it in items))}  # noqa: E731
    compare_task("t", [_items(h=[1.0, 0.0, 1.0])] * 3, [{"t/m": 2.0}] * 3, 0, 300, 0, agg, show_progress=True,
                 higher_is_better=UP)
    # one bootstrap pass over the shared index blocks and one permutation pass per other run: 300 + 2 * 300
    assert bars == [{"total": 900, "desc": "t: resampling corpus-level metrics", "unit": "resample", "leave": False,
                     "disable": False, "done": 900, "closed": True}]
    compare_task("t", [_items(h=[1.0, 0.0, 1.0])] * 2, [{"t/m": 2.0}] * 2, 0, 300, 0, agg, higher_is_better=UP)
    assert bars[1]["disable"] is True            # quiet unless asked


def test_runs_are_resampled_jointly_and_each_task_on_its_own_stream():
    x = list(np.linspace(0.0, 1.0, 15))
    [e1] = _run("t", [_items(s=x), _items(s=x)], _mean_of("s", "s"), seed=3)
    [e2] = _run("t", [_items(s=x), _items(s=x)], _mean_of("s", "s"), seed=3)
    assert e1 == e2 and e1["t/s"]["a_ci"] == e1["t/s"]["b_ci"]        # same items drawn for both runs
    [u] = _run("u", [_items(s=x), _items(s=x)], lambda task, items: {"u/s": _mean_of("s", "s")("t", items)["t/s"]},
               seed=3)
    assert u["u/s"]["a_ci"] != e1["t/s"]["a_ci"]                          # another task: another stream
    [e3] = _run("t", [_items(s=x), _items(s=x)], _mean_of("s", "s"), seed=4)
    assert e3["t/s"]["a_ci"] != e1["t/s"]["a_ci"]


# ---------------------------------------------------------------- the per-resample aggregate wrapper

def test_looping_stat_calls_the_aggregate_per_resample_and_turns_undefined_into_nan():
    items = [{"v": 1.0}, {"v": 3.0}, {"v": None}]

    def agg(task, chosen):
        vals = [c["v"] for c in chosen if c["v"] is not None]
        out = {"t/sum": float(sum(vals))}
        if vals:
            out["t/mean"] = float(np.mean(vals))      # absent when undefined, like the scorers' optional keys
        out["t/none"] = None
        out["t/flag"] = bool(vals)
        return out
    stat = _looping_stat(agg)("t", items)
    got = stat(np.array([[0, 1], [2, 2], [1, 1]]))
    assert set(got) == {"t/sum", "t/mean", "t/none", "t/flag"}
    assert got["t/sum"].tolist() == [4.0, 0.0, 6.0]
    assert got["t/mean"][[0, 2]].tolist() == [2.0, 3.0] and math.isnan(got["t/mean"][1])
    assert np.isnan(got["t/none"]).all()
    assert got["t/flag"].dtype == float and got["t/flag"].tolist() == [1.0, 0.0, 1.0]
    one = stat(np.array([0, 1]))                      # a single resample as a 1-D index
    assert one["t/sum"].tolist() == [4.0]
    assert stat(np.zeros((0, 2), dtype=int)) == {}


# ---------------------------------------------------------------- undefined reasons

def test_undefined_reason_names_each_sides_reason_once():
    a_scores = {"undefined": {"t/m": "no healthy leaves"}}
    b_scores = {"undefined": {"t/m": "no treatments"}}
    assert _undefined_reason("t/m", {"a": None, "b": 0.5}, a_scores, b_scores) == "no healthy leaves"
    assert _undefined_reason("t/m", {"a": 0.5, "b": None}, a_scores, b_scores) == "no treatments"
    assert _undefined_reason("t/m", {"a": None, "b": None}, a_scores, b_scores) == "no healthy leaves; no treatments"
    assert _undefined_reason("t/m", {"a": None, "b": None}, a_scores, a_scores) == "no healthy leaves"
    assert _undefined_reason("t/m", {"a": 0.1, "b": 0.5}, a_scores, b_scores) is None
    assert _undefined_reason("t/m", {"a": None, "b": 0.5}, {}, b_scores) == "undefined on the scored items"
    assert _undefined_reason("t/m", {"a": None, "b": 0.5}, {"undefined": None}, b_scores) == \
        "undefined on the scored items"


# ---------------------------------------------------------------- compare.json from loaded runs (in memory)

# declared metrics (compare reads their direction): per task, one plain mean and one left undefined
MEAN = {"caption": "cider", "recipe": "dish_accuracy"}
UNDEFINED = {"caption": "meteor", "recipe": "steps_present"}


def _mean_s(task, items):
    values = [it["metrics"][MEAN[task]] for it in items]
    return {f"{task}/{MEAN[task]}": float(np.mean(values)), f"{task}/{UNDEFINED[task]}": None}


def _loaded(values_by_run, task="caption"):
    n = len(values_by_run[0])
    es = SimpleNamespace(name="es", root=Path("/data/es"), manifest_sha256="ab" * 32,
                         items=[SimpleNamespace(id=f"i{k}", task=task, reference={}) for k in range(n)])
    runs = []
    for r, values in enumerate(values_by_run):
        items = [{"id": f"i{k}", "metrics": {MEAN[t]: v for t in MEAN}} for k, v in enumerate(values)]
        scores = {"items": items[::-1], "aggregate": _mean_s(task, items),
                  "undefined": {f"{task}/{UNDEFINED[task]}": f"needs METEOR (run{r})"}}
        record = SimpleNamespace(model={"spec": f"m{r}"}, checkpoint_sha256=f"{r}" * 64)
        runs.append(SimpleNamespace(name=f"run{r}", path=Path(f"/runs/run{r}"), record=record, scores=scores))
    return es, runs


def test_compare_loaded_header_runs_and_method():
    es, runs = _loaded([[0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    out = compare_loaded(es, runs, 0, 200, 7, _mean_s, show_progress=False)
    assert out["schema"] == "workbench.compare/1" and out["baseline"] == "run0"
    assert out["eval_set"] == {"name": "es", "path": "/data/es", "manifest_sha256": "ab" * 32, "n_items": 4,
                               "tasks": {"caption": 4}}
    assert out["runs"] == [{"name": f"run{r}", "path": f"/runs/run{r}", "model": {"spec": f"m{r}"},
                            "checkpoint_sha256": f"{r}" * 64} for r in range(2)]
    assert out["method"] == {
        "delta": "other - baseline",
        "ci": "95% percentile bootstrap over items, resampled jointly for all runs",
        "test": "two-sided paired permutation test (per item, swap the two runs' results; "
                "sign-flip test for per-item means); p = (1 + #extreme) / (1 + resamples)",
        "alpha": 0.05, "n_resamples": 200, "seed": 7,
        "resampling": "'mean': plain mean of a per-item field, vectorised; 'aggregate': recomputed "
                      "per resample with the scorers' aggregate_items; 'none': no per-item basis, no CI",
    }
    assert out["created"].endswith("+00:00")
    [comp] = out["comparisons"]
    assert (comp["baseline"], comp["other"]) == ("run0", "run1")
    assert comp["metrics"]["caption/cider"]["delta"] == 0.5 and comp["metrics"]["caption/cider"]["undefined"] is None
    assert comp["metrics"]["caption/cider"]["better"] == "higher"        # the declared direction
    assert comp["metrics"]["caption/meteor"]["undefined"] == "needs METEOR (run0); needs METEOR (run1)"


def test_compare_loaded_pairs_items_by_id_and_groups_them_by_task():
    es, runs = _loaded([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 1.0]])
    es.items[0].task = es.items[1].task = "recipe"
    for run in runs:   # items are stored in reverse order: i3, i2 are captions, i1, i0 recipes
        run.scores["aggregate"] = _mean_s("recipe", run.scores["items"][2:]) | _mean_s("caption", run.scores["items"][:2])
    out = compare_loaded(es, runs, 0, 200, 0, _mean_s, show_progress=False)
    m = out["comparisons"][0]["metrics"]
    assert out["eval_set"]["tasks"] == {"recipe": 2, "caption": 2}
    assert (m["recipe/dish_accuracy"]["a"], m["recipe/dish_accuracy"]["b"], m["recipe/dish_accuracy"]["n"]) == (0.0, 0.5, 2)
    assert (m["caption/cider"]["a"], m["caption/cider"]["b"], m["caption/cider"]["n"]) == (1.0, 1.0, 2)


def test_compare_loaded_with_another_baseline_and_three_runs():
    es, runs = _loaded([[0.0] * 4, [1.0] * 4, [0.5] * 4])
    out = compare_loaded(es, runs, 2, 200, 0, _mean_s, show_progress=False)
    assert out["baseline"] == "run2"
    assert [(c["baseline"], c["other"], c["metrics"]["caption/cider"]["delta"]) for c in out["comparisons"]] == [
        ("run2", "run0", -0.5), ("run2", "run1", 0.5)]
    assert [c["metrics"]["caption/meteor"]["undefined"] for c in out["comparisons"]] == [
        "needs METEOR (run2); needs METEOR (run0)", "needs METEOR (run2); needs METEOR (run1)"]


@pytest.mark.parametrize("baseline", [-1, 2])
def test_compare_loaded_refuses_a_baseline_out_of_range(baseline):
    es, runs = _loaded([[0.0] * 4, [1.0] * 4])
    with pytest.raises(WorkbenchError, match=rf"^baseline index {baseline} is out of range for 2 runs$"):
        compare_loaded(es, runs, baseline, 200, 0, _mean_s, show_progress=False)


def test_compare_loaded_needs_at_least_100_resamples():
    es, runs = _loaded([[0.0] * 4, [1.0] * 4])
    with pytest.raises(WorkbenchError, match=r"^--resamples 99 is too few for a 95% interval; use at least 1000$"):
        compare_loaded(es, runs, 0, 99, 0, _mean_s, show_progress=False)
    assert compare_loaded(es, runs, 0, 100, 0, _mean_s, show_progress=False)["method"]["n_resamples"] == 100


def _hidden_s(task, items):
    # a custom aggregate: the scorers' own aggregate_items knows nothing of the per-item field "score"
    return {f"{task}/{MEAN[task]}": 2 * float(np.mean([it["metrics"]["score"] for it in items]))}


def test_compare_loaded_uses_the_aggregate_it_is_given_and_its_defaults(monkeypatch):
    import tqdm.auto

    bars = []
    monkeypatch.setattr(tqdm.auto, "tqdm", lambda **kw: bars.append(kw) or SimpleNamespace(
        update=lambda k: None, close=lambda: None))
    es, runs = _loaded([[0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    for run in runs:
        for it in run.scores["items"]:
            it["metrics"] = {"score": it["metrics"]["cider"]}
        run.scores["aggregate"] = _hidden_s("caption", run.scores["items"])
    out = compare_loaded(es, runs, aggregate=_hidden_s)
    assert (out["baseline"], out["method"]["n_resamples"], out["method"]["seed"]) == ("run0", 10000, 0)
    e = out["comparisons"][0]["metrics"]["caption/cider"]
    assert (e["a"], e["b"], e["delta"], e["resampling"]) == (1.0, 2.0, 1.0, "aggregate")
    # b is 2 on every resample and a is 2 * (share of drawn 1-items), so b - a = 2 * share of 0-items
    assert e["ci"] == pytest.approx([0.0, 2.0]) and e["b_ci"] == pytest.approx([2.0, 2.0])
    assert [b["disable"] for b in bars] == [False]   # a progress bar is shown unless asked not to


@pytest.mark.parametrize("values, offset, kind", [
    ([999.0, 1001.0, 1000.5, 999.5], 5e-7, "mean"),     # 5e-10 relative: rounding, the stored value is the mean
    ([0.001, 0.003], 5e-10, "mean"),                     # below 1: an absolute 1e-9
    ([0.001, 0.003], 1.5e-9, "aggregate"),               # beyond it: another statistic, recomputed per resample
])
def test_the_stored_value_is_taken_for_the_fields_mean_within_1e_9_relative_or_absolute_below_1(values, offset, kind):
    agg = _mean_of("s", "s")
    stored = [{"t/s": float(np.mean(values)) + offset}] * 2
    [e] = _run("t", [_items(s=values), _items(s=values)], agg, stored=stored)
    assert e["t/s"]["resampling"] == kind


def test_items_without_metrics_are_not_scored_and_give_no_mean():
    items = [{"id": "0"}, {"id": "1", "metrics": {"s": 1.0}}, {"id": "2", "metrics": {"s": 0.0}}]
    agg = lambda task, its: {"t/s": 0.5}  # noqa: E731
    [e] = _run("t", [items, items], agg)
    assert e["t/s"]["resampling"] == "aggregate" and e["t/s"]["n_scored"] == [2, 2]


def test_a_per_split_metric_is_the_mean_of_the_field_named_after_everything_past_the_task():
    # POPE's per-split keys look like "pope/random/accuracy": the per-item field is "random/accuracy"
    x = [0.0, 1.0, 1.0, 1.0]
    items = [{"id": str(i), "metrics": {"split/s": v, "split": 0.0, "s": 0.0}} for i, v in enumerate(x)]
    agg = lambda task, its: {"t/split/s": float(np.mean([it["metrics"]["split/s"] for it in its]))}  # noqa: E731
    [e] = _run("t", [items, items], agg)
    assert e["t/split/s"]["resampling"] == "mean" and e["t/split/s"]["metric"] == "split/s"


def test_the_alias_is_tried_when_the_metrics_own_field_fails_a_subset_probe():
    # a per-item "failure_rate" of 0.5 everywhere has the right mean on the full set only; "failure" is the field
    failure = [1.0, 0.0] * 6
    items = [{"id": str(i), "metrics": {"failure_rate": 0.5, "failure": v}} for i, v in enumerate(failure)]
    [e] = _run("t", [items, items], _mean_of("failure", "failure_rate"))
    assert e["t/failure_rate"]["resampling"] == "mean"
    assert e["t/failure_rate"]["a_ci"][1] - e["t/failure_rate"]["a_ci"][0] > 0.2   # resampled from 0/1, not 0.5


def test_every_run_must_carry_the_mean_for_the_mean_path():
    a, b = [0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 0.0, 1.0]
    agg = _mean_of("s", "s")
    stored = [agg("t", _items(s=a)), {"t/s": 0.75 + 0.125}]   # the other run's stored value is not its mean
    [e] = _run("t", [_items(s=a), _items(s=b)], agg, stored=stored)
    assert e["t/s"]["resampling"] == "aggregate"


def test_significance_is_p_strictly_below_alpha():
    from workbench.compare.statistics import ALPHA, _entry

    assert ALPHA == 0.05
    at = _entry("t", "m", 0.0, 1.0, None, None, (1 + 4) / (1 + 99), 10, "mean", True)   # p = 5/100 exactly
    below = _entry("t", "m", 0.0, 1.0, None, None, 0.0499, 10, "mean", True)
    assert (at["significant"], at["verdict"]) == (False, "n.s.")
    assert (below["significant"], below["verdict"]) == (True, "better")
    same = _entry("t", "m", 1.0, 1.0, None, None, 0.01, 10, "mean", True)       # no difference: never a verdict
    assert (same["significant"], same["verdict"], same["delta"]) == (True, "n.s.", 0.0)


def test_the_corpus_permutation_p_tests_the_difference_of_the_runs():
    # corpus statistic sum(x) / sum(y): a = 6/12, b = 12/12. Swapping k of the 6 items gives |delta| = |6 - 2k| / 12,
    # which reaches the observed 0.5 only for k = 0 or 6: exact p = 2/64 (a test of b + a would find none)
    a = [{"id": str(i), "metrics": {"x": 1, "y": 2}} for i in range(6)]
    b = [{"id": str(i), "metrics": {"x": 2, "y": 2}} for i in range(6)]
    [e] = _run("t", [a, b], _ratio_of_sums, resamples=6000)
    assert (e["t/r"]["a"], e["t/r"]["b"], e["t/r"]["delta"]) == (0.5, 1.0, 0.5)
    assert e["t/r"]["p"] == pytest.approx(2 / 64, abs=0.01)


def test_a_single_item_is_compared_too():
    [e] = _run("t", [_items(s=[0.25]), _items(s=[0.75])], _mean_of("s", "s"))
    assert e["t/s"]["resampling"] == "mean" and e["t/s"]["ci"] == pytest.approx([0.5, 0.5])
    assert e["t/s"]["p"] == 1.0          # one item: both sign flips give |0.5|, both as extreme as observed


def test_a_ratio_of_sums_is_told_from_the_mean_of_ratios_on_three_items():
    # (x, y) = (0, 1), (1, 2), (1, 6): sum x / sum y = 2/9 = mean(0, 1/2, 1/6), but on every pair of distinct items
    # they differ, so subset probes of two items tell them apart (probes of one item could not)
    rows = [(0, 1), (1, 2), (1, 6)]
    items = [{"id": str(i), "metrics": {"x": x, "y": y, "precision": x / y}} for i, (x, y) in enumerate(rows)]

    def agg(task, its):
        return {"t/precision": sum(it["metrics"]["x"] for it in its) / sum(it["metrics"]["y"] for it in its)}
    assert agg("t", items)["t/precision"] == pytest.approx(np.mean([it["metrics"]["precision"] for it in items]))
    for seed in range(3):
        [e] = _run("t", [items, items], agg, seed=seed)
        assert e["t/precision"]["resampling"] == "aggregate", seed


def test_a_median_is_told_from_the_mean_on_four_items():
    # median(0, .4, .6, 1) = .5 = the mean, and on any two items too: probes need three items to tell them apart
    x = [0.0, 0.4, 0.6, 1.0]

    def agg(task, items):
        return {"t/s": float(np.median([it["metrics"]["s"] for it in items]))}
    assert agg("t", _items(s=x))["t/s"] == pytest.approx(np.mean(x))
    for seed in range(3):
        [e] = _run("t", [_items(s=x), _items(s=x)], agg, seed=seed)
        assert e["t/s"]["resampling"] == "aggregate", seed


@pytest.mark.parametrize("n, size", [(4, 3), (7, 3), (8, 4), (12, 6), (13, 6)])
def test_the_mean_check_probes_three_subsets_of_half_the_items_and_at_least_three(n, size):
    # the design: three random subsets per run, of max(3, n // 2) items (drawn with replacement)
    sizes = []

    def spy(task, items):
        sizes.append(len(items))
        return _mean_of("s", "s")(task, items)
    x = [float(i % 3) for i in range(n)]
    _run("t", [_items(s=x), _items(s=x[::-1])], spy)
    assert [k for k in sizes if k != n] == [size] * 6

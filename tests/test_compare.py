"""Paired bootstrap CIs and permutation p-values: coverage, calibration, refusal, determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest

from test_report_fixtures import make_eval_set, make_run, stage_outputs, two_stage_runs
from workbench.compare import compare_runs
from workbench.compare.bootstrap import bootstrap_means, paired_permutation_means, percentile_ci
from workbench.compare.statistics import compare_task
from workbench.errors import WorkbenchError


def _items(values, field="score"):
    return [{"id": str(i), "metrics": {field: float(v)}} for i, v in enumerate(values)]


def _mean_aggregate(task, items):
    return {f"{task}/score": float(np.mean([it["metrics"]["score"] for it in items]))} if items else {}


def _hidden_mean_aggregate(task, items):
    # the same mean, but of a field with another name: compare cannot see it is a mean,
    # so it must recompute it through this function on every resample
    return {f"{task}/score": float(np.mean([it["metrics"]["hidden"] for it in items]))} if items else {}


def _compare_pair(a, b, resamples, seed=0, aggregate=_mean_aggregate, field="score"):
    items = [_items(a, field), _items(b, field)]
    aggs = [aggregate("t", it) for it in items]
    return compare_task("t", items, aggs, 0, resamples, seed, aggregate,
                        higher_is_better=lambda key: True)[0]["t/score"]  # an undeclared test metric


def test_ci_covers_the_true_difference_at_about_the_nominal_rate():
    rng = np.random.default_rng(123)
    true_delta, n, covered = 0.3, 40, 0
    for _ in range(200):
        a = rng.normal(0.0, 1.0, n)
        b = a + true_delta + rng.normal(0.0, 0.8, n)   # paired: b shares a's item effect
        lo, hi = _compare_pair(a, b, resamples=1000, seed=int(rng.integers(1 << 30)))["ci"]
        covered += lo <= true_delta <= hi
    assert 0.90 <= covered / 200 <= 0.99


def test_ci_of_corpus_metric_path_matches_the_vectorised_mean_path():
    rng = np.random.default_rng(7)
    a = rng.random(30)
    b = a + 0.1 + rng.normal(0, 0.1, 30)
    fast = _compare_pair(a, b, resamples=4000)
    slow = _compare_pair(a, b, resamples=4000, aggregate=_hidden_mean_aggregate, field="hidden")
    assert fast["resampling"] == "mean" and slow["resampling"] == "aggregate"
    assert fast["delta"] == pytest.approx(slow["delta"])
    assert fast["ci"] == pytest.approx(slow["ci"], abs=0.01)
    assert slow["p"] < 0.01 and fast["p"] < 0.01


def test_constant_difference_gives_a_degenerate_interval():
    a = np.linspace(0, 1, 25)
    entry = _compare_pair(a, a + 0.25, resamples=500)
    assert entry["ci"] == pytest.approx([0.25, 0.25])
    assert entry["delta"] == pytest.approx(0.25)


def test_p_values_are_roughly_uniform_under_the_null():
    rng = np.random.default_rng(5)
    ps = []
    for _ in range(200):
        a = rng.normal(0, 1, 30)
        b = a + rng.normal(0, 1, 30)   # no effect: differences symmetric around 0
        ps.append(paired_permutation_means(a, b, rng, 500))
    ps = np.array(ps)
    assert 0.01 <= np.mean(ps < 0.05) <= 0.10
    assert 0.4 <= ps.mean() <= 0.6
    assert 0.15 <= np.mean(ps < 0.25) <= 0.35


def test_big_effect_gives_the_smallest_possible_p_and_identical_runs_give_one():
    rng = np.random.default_rng(1)
    a = rng.random(50)
    assert paired_permutation_means(a, a + 1.0, rng, 999) == pytest.approx(1 / 1000)
    assert paired_permutation_means(a, a.copy(), rng, 999) == 1.0


def test_bootstrap_means_resamples_rows_jointly():
    rng = np.random.default_rng(0)
    x = np.arange(10.0)
    samples = bootstrap_means(np.stack([x, 2 * x]), rng, 300)
    assert samples.shape == (2, 300)
    # the same items are drawn for both rows, so row 2 is exactly twice row 1 in every resample
    assert np.allclose(samples[1], 2 * samples[0])
    assert percentile_ci(np.array([np.nan, np.nan])) is None


def test_compare_runs_on_fixture_runs(tmp_path):
    es, a, b = two_stage_runs(tmp_path)
    result = compare_runs([a, b], es, n_resamples=2000, seed=3, show_progress=False)
    sa = json.loads((a / "scores.json").read_text())["aggregate"]
    sb = json.loads((b / "scores.json").read_text())["aggregate"]
    [comp] = result["comparisons"]
    assert (comp["baseline"], comp["other"]) == ("stage1", "stage2")
    assert set(comp["metrics"]) == set(sa)
    for key, e in comp["metrics"].items():
        assert (e["a"], e["b"]) == (sa[key], sb[key])
        if sa[key] is None:   # undefined metric (METEOR not run): shown, without numbers
            assert e["delta"] is None and e["ci"] is None and e["p"] is None
            continue
        assert e["delta"] == pytest.approx(sb[key] - sa[key])
        assert e["ci"][0] - 1e-12 <= e["delta"] <= e["ci"][1] + 1e-12
        assert e["n"] == result["eval_set"]["tasks"][e["task"]]
        assert 0 < e["p"] <= 1
    m = comp["metrics"]
    assert m["caption/rouge_l"]["resampling"] == "mean"            # mean of the per-item rouge_l
    assert m["caption/failure_rate"]["resampling"] == "mean"       # mean of the per-item 'failure' field
    assert m["caption/bleu_4"]["resampling"] == "aggregate"        # corpus BLEU: recomputed per resample
    assert m["diagnosis/disease_macro_f1"]["resampling"] == "aggregate"
    assert m["caption/meteor"]["resampling"] == "none" and m["caption/meteor"]["ci"] is None  # not scored
    assert m["recipe/ingredient_recall"]["verdict"] == "better"
    assert m["recipe/failure_rate"]["verdict"] == "better" and m["recipe/failure_rate"]["delta"] < 0
    # items each metric was scored on: the fixture's diagnosis items alternate diseased / healthy
    halves = [3, 3]
    assert m["diagnosis/healthy_false_alarm"]["n_scored"] == halves      # healthy leaves only
    assert m["diagnosis/treatment_recall"]["n_scored"] == halves         # leaves with treatments only
    assert m["diagnosis/disease_accuracy"]["n_scored"] == [6, 6]
    assert m["recipe/failure_rate"]["n_scored"] == [8, 8]                # through the per-item 'failure' alias
    assert m["diagnosis/disease_macro_f1"]["n_scored"] is None           # corpus-only: no per-item value
    json.dumps(result, allow_nan=False)


def test_compare_is_deterministic_given_the_seed(tmp_path):
    es, a, b = two_stage_runs(tmp_path)
    run = lambda seed: compare_runs([a, b], es, n_resamples=500, seed=seed,  # noqa: E731
                                    show_progress=False)["comparisons"]
    assert run(11) == run(11)
    assert run(11) != run(12)


def test_n_runs_each_compared_with_the_chosen_baseline(tmp_path):
    es, a, b = two_stage_runs(tmp_path)
    c = make_run(tmp_path / "runs", "stage2b", es, stage_outputs(es, good=True))
    result = compare_runs([a, b, c], es, baseline=1, n_resamples=300,
                          show_progress=False)
    assert result["baseline"] == "stage2"
    assert [(x["baseline"], x["other"]) for x in result["comparisons"]] == [("stage2", "stage1"),
                                                                           ("stage2", "stage2b")]
    same = result["comparisons"][1]["metrics"]["recipe/ingredient_recall"]
    assert same["delta"] == 0 and same["p"] == 1.0 and same["verdict"] == "n.s."


def test_refuses_runs_made_on_another_manifest(tmp_path):
    es, a, _ = two_stage_runs(tmp_path)
    other = make_run(tmp_path / "runs", "elsewhere", es, stage_outputs(es, good=True), sha="f" * 64, scores=False)
    with pytest.raises(WorkbenchError, match=r"elsewhere/run.json: run was made on an eval set with manifest"):
        compare_runs([a, other], es, n_resamples=200, show_progress=False)


def test_refuses_when_the_eval_set_changed_after_the_runs(tmp_path):
    es, a, b = two_stage_runs(tmp_path)
    make_eval_set(es, n_caption=9)   # same folder, one more item: a new manifest
    with pytest.raises(WorkbenchError, match="compare only runs made on the same eval set"):
        compare_runs([a, b], es, n_resamples=200, show_progress=False)


def test_needs_two_runs_and_sane_resamples(tmp_path):
    es, a, b = two_stage_runs(tmp_path)
    with pytest.raises(WorkbenchError, match="at least two run folders"):
        compare_runs([a], es)
    with pytest.raises(WorkbenchError, match="too few"):
        compare_runs([a, b], es, n_resamples=10)


def test_vectorised_scorer_resampling_equals_one_aggregate_call_per_resample(tmp_path):
    from workbench.scoring import aggregate_items

    es, a, b = two_stage_runs(tmp_path)
    fast = compare_runs([a, b], es, n_resamples=300, seed=4, show_progress=False)["comparisons"][0]["metrics"]
    slow = compare_runs([a, b], es, n_resamples=300, seed=4, aggregate=aggregate_items,
                        show_progress=False)["comparisons"][0]["metrics"]
    for key in fast:
        assert fast[key]["resampling"] == slow[key]["resampling"]
        for field in ("ci", "a_ci", "b_ci"):
            assert fast[key][field] == (pytest.approx(slow[key][field]) if slow[key][field] else None)
        assert fast[key]["p"] == pytest.approx(slow[key]["p"])


def test_unscored_runs_are_scored_first(tmp_path):
    es = make_eval_set(tmp_path / "es", n_caption=0)   # no captions: no METEOR (Java) start-up in this test
    a = make_run(tmp_path / "runs", "s1", es, stage_outputs(es, good=False), scores=False)
    b = make_run(tmp_path / "runs", "s2", es, stage_outputs(es, good=True), scores=False)
    result = compare_runs([a, b], es, n_resamples=200, show_progress=False)
    assert (a / "scores.json").is_file() and (b / "scores.json").is_file()
    stored = json.loads((b / "scores.json").read_text())["aggregate"]
    assert result["comparisons"][0]["metrics"]["recipe/dish_accuracy"]["b"] == stored["recipe/dish_accuracy"]


def test_cli_writes_compare_json(tmp_path, capsys):
    from workbench.cli import main

    es, a, b = two_stage_runs(tmp_path)
    out = tmp_path / "out" / "compare.json"
    assert main(["compare", str(a), str(b), "--eval-set", str(es), "--out", str(out), "--resamples", "500"]) == 0
    data = json.loads(out.read_text())
    assert data["method"]["n_resamples"] == 500 and data["baseline"] == "stage1"
    assert "stage2 vs stage1" in capsys.readouterr().out
    bad = make_run(tmp_path / "runs", "other", es, stage_outputs(es, good=True), sha="0" * 64, scores=False)
    assert main(["compare", str(a), str(bad), "--eval-set", str(es), "--out", str(out)]) == 1
    assert "manifest sha256" in capsys.readouterr().err

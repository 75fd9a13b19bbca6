"""A run made with --limit N covers the first N items: scoring and comparison use exactly those."""

from __future__ import annotations

import pytest

from test_report_fixtures import make_eval_set, make_run, score_fixture_run, stage_outputs
from workbench.compare import compare_runs
from workbench.errors import WorkbenchError
from workbench.evalsets import load_eval_set
from workbench.runs import RunRecord, widest_limit


def limited_run(tmp_path, name, es, limit, good):
    outputs = dict(list(stage_outputs(es, good=good).items())[:limit])
    run = make_run(tmp_path / "runs", name, es, outputs, scores=False)
    record = RunRecord.load(run)
    record.limit = limit
    record.save()
    return run


def test_scores_cover_only_the_items_the_run_was_asked_for(tmp_path):
    es = make_eval_set(tmp_path / "es")  # 8 captions, 8 recipes, 6 diagnoses
    run = limited_run(tmp_path, "stage2", es, 10, good=True)
    scores = score_fixture_run(run, es)
    first_ten = [item.id for item in load_eval_set(es).items[:10]]
    assert [it["id"] for it in scores["items"]] == first_ten
    assert scores["missing_ids"] == [] and scores["limit"] == 10
    assert scores["counts"] == {"caption": 8, "recipe": 2}
    assert scores["aggregate"]["recipe/failure_rate"] == 0.0  # the 14 unasked items are not failures


def test_compare_uses_the_common_limit_and_refuses_different_ones(tmp_path):
    es = make_eval_set(tmp_path / "es")
    a = limited_run(tmp_path, "stage1", es, 10, good=False)
    b = limited_run(tmp_path, "stage2", es, 10, good=True)
    result = compare_runs([a, b], es, n_resamples=200)
    metrics = result["comparisons"][0]["metrics"]
    assert metrics["caption/failure_rate"]["n"] == 8 and metrics["recipe/failure_rate"]["n"] == 2
    assert "diagnosis/failure_rate" not in metrics
    c = limited_run(tmp_path, "stage3", es, 12, good=True)
    with pytest.raises(WorkbenchError, match="different items"):
        compare_runs([a, c], es, n_resamples=200)


def test_a_resumed_run_covers_the_widest_limit():
    assert widest_limit(6, 200) == 200
    assert widest_limit(None, 6) is None and widest_limit(6, None) is None

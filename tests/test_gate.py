"""`workbench gate`: exit 1 on a planted regression, 0 on an improvement; baseline run or pinned scores."""

from __future__ import annotations

import shutil

import pytest

from test_report_fixtures import two_stage_runs
from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.gate import gate


@pytest.fixture()
def runs(tmp_path):
    return two_stage_runs(tmp_path)  # stage1: bad outputs (the regression), stage2: good outputs


def test_planted_regression_exits_1_and_names_the_metric(runs, tmp_path, capsys, monkeypatch):
    es, bad, good = runs
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code = main(["gate", str(bad), "--baseline", str(good), "--eval-set", str(es), "--resamples", "1000",
                 "--metrics", "recipe/failure_rate", "recipe/ingredient_recall"])
    out = capsys.readouterr().out
    assert code == 1
    assert "**FAIL**: 2 of 2 metric(s) significantly worse" in out
    # failure_rate went up (lower is better), ingredient_recall went down (higher is better)
    row = next(line for line in out.splitlines() if line.startswith("| `recipe/failure_rate`"))
    assert "| lower |" in row and "REGRESSED" in row and "| +" in row
    assert "`recipe/ingredient_recall` Δ -" in out and "95% CI" in out
    assert summary.read_text() == out   # the GitHub step summary gets the same Markdown


def test_improvement_exits_0(runs, capsys):
    es, bad, good = runs
    code = main(["gate", str(good), "--baseline", str(bad), "--eval-set", str(es), "--resamples", "1000"])
    out = capsys.readouterr().out
    assert code == 0 and "**PASS**" in out and "REGRESSED" not in out
    assert "| `recipe/failure_rate` | lower |" in out and "better" in out


def test_pinned_baseline_scores_file(runs, tmp_path):
    es, bad, good = runs
    pinned = tmp_path / "pinned" / "baseline.scores.json"
    pinned.parent.mkdir()
    shutil.copy(good / "scores.json", pinned)
    against_pinned = gate(bad, pinned, es, metrics=["recipe/*"], n_resamples=1000)
    against_run = gate(bad, good, es, metrics=["recipe/*"], n_resamples=1000)
    assert against_pinned.exit_code == 1 and against_pinned.regressed == against_run.regressed
    for key in against_run.checked:   # the same paired numbers as comparing with the run itself
        a = against_pinned.compare["comparisons"][0]["metrics"][key]
        b = against_run.compare["comparisons"][0]["metrics"][key]
        assert (a["delta"], a["ci"], a["p"]) == (b["delta"], b["ci"], b["p"])
    assert gate(good, pinned, es, n_resamples=1000).exit_code == 0   # same as the baseline: nothing worse


def test_unknown_metric_is_refused(runs):
    es, bad, good = runs
    with pytest.raises(WorkbenchError, match="--metrics recipe/nonsense: no such metric"):
        gate(bad, good, es, metrics=["recipe/nonsense"], n_resamples=1000)

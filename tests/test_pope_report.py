"""POPE and judge metrics through compare and the HTML report, like every other task."""

import json
import re

import pytest
from PIL import Image

from test_judge import FakeJudge
from test_report_fixtures import make_run
from workbench.compare import compare_runs
from workbench.evalsets import load_eval_set
from workbench.judge import JudgementCache, judge_run, load_protocol
from workbench.report.render import render_report


def _pope_set(root, n_images=10):
    (root / "images").mkdir(parents=True)
    lines = []
    for i in range(n_images):
        Image.new("RGB", (16, 16), (20 * i, 0, 0)).save(root / "images" / f"{i}.png")
        for k, (obj, label) in enumerate([("dog", "yes"), ("cat", "no"), ("cup", "yes"), ("car", "no")]):
            split = ("random", "popular", "adversarial")[(i + k) % 3]
            lines.append({"id": f"q{i}-{k}", "task": "pope", "image": f"images/{i}.png",
                          "reference": {"label": label, "object": obj, "split": split}})
    (root / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return root


def test_compare_and_report_show_pope_and_judge(tmp_path):
    es_dir = _pope_set(tmp_path / "es")
    items = load_eval_set(es_dir).items
    always_yes = {i.id: "There is a red square." for i in items}                 # stage 1: every answer "yes"
    right = {i.id: "Yes." if i.reference["label"] == "yes" else "No." for i in items}   # stage 2: all correct
    a = make_run(tmp_path / "runs", "stage1", es_dir, always_yes, scores=False)
    b = make_run(tmp_path / "runs", "stage2", es_dir, right, scores=False)
    es = load_eval_set(es_dir)
    with JudgementCache(tmp_path / "c.sqlite") as cache:
        judge_run(a, es, FakeJudge(), load_protocol("failure"), cache, show_progress=False)
        judge_run(b, es, FakeJudge(), load_protocol("failure"), cache, show_progress=False, limit=30)
    result = compare_runs([a, b], es_dir, n_resamples=300, seed=0)
    m = result["comparisons"][0]["metrics"]
    assert m["pope/accuracy"]["a"] == 0.5 and m["pope/accuracy"]["b"] == 1.0
    assert m["pope/accuracy"]["verdict"] == "better"
    assert m["pope/yes_ratio"]["better"] == "neither" and m["pope/yes_ratio"]["verdict"] == "changed"
    assert m["pope/neither_rate"]["better"] == "lower" and m["pope/adversarial/f1"]["b"] == 1.0
    assert m["pope/judge_failure"]["a"] == 0.0 and m["pope/judge_failure"]["better"] == "lower"
    html = render_report([a, b], es_dir, tmp_path / "r.html", compare=result).read_text()
    assert 'data-key="pope/f1_mean"' in html and 'data-key="pope/judge_failure"' in html
    assert "LLM judges" in html and load_protocol("failure").template_hash in html
    assert html.count("(--limit 30)") == 1   # stage 2's row: 10 of its 40 answers skipped
    assert ">changed</span>" in html


def test_pipeline_runs_synth_pope_with_the_pope_token_budget(tmp_path):
    from workbench.pipeline import POPE_MAX_NEW_TOKENS, evaluate
    from workbench.tiny.build.build import build_tiny
    from workbench.tiny.build.config import get_config

    build_tiny(get_config("micro"), tmp_path / "tiny", evaluate=False)
    run = tmp_path / "runs" / "synth-pope"
    scores = evaluate(str(tmp_path / "tiny" / "tiny-stage2.json"), "synth-pope", run, limit=4, batch_size=4,
                      progress=False)
    info = json.loads((run / "run.json").read_text())
    assert info["generation"]["max_new_tokens"] == POPE_MAX_NEW_TOKENS == 32
    assert scores["counts"] == {"pope": 4} and "pope/f1_mean" in scores["aggregate"]


def test_compare_prints_long_pope_metric_names_in_aligned_columns(tmp_path, capsys):
    from workbench.cli import main

    es_dir = _pope_set(tmp_path / "es", n_images=3)
    items = load_eval_set(es_dir).items
    a = make_run(tmp_path / "runs", "stage1", es_dir, {i.id: "Yes." for i in items}, scores=False)
    b = make_run(tmp_path / "runs", "stage2", es_dir, {i.id: "No." for i in items}, scores=False)
    assert main(["compare", str(a), str(b), "--eval-set", str(es_dir), "--out", str(tmp_path / "c.json"),
                 "--resamples", "1000"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  pope/")]
    assert any(len(line.split()[0]) > 32 for line in rows)   # e.g. pope/adversarial/strict_neither_rate
    ends = {re.match(r"  (\S+)\s+(\S+)", line).end(2) for line in rows}   # the baseline column is right-aligned
    assert len(ends) == 1   # it ends at the same place on every row


def test_score_prints_how_many_answers_are_neither_yes_nor_no(tmp_path, capsys):
    from test_judge import _run
    from workbench.cli import main

    es, run = _run(tmp_path)   # "Yes.", "No, there is not.", "There is a dog.", "", "no", "Yes"
    assert main(["score", "--eval-set", str(es.root), "--predictions", str(run)]) == 0
    out = capsys.readouterr().out
    # official reading: the dog sentence and the empty answer; strict: also "No, there is not."
    assert "pope: 2 of 6 answers are neither yes nor no (official first-sentence reading)" in out
    assert "pope: 3 of 6 answers are neither yes nor no (strict exact match)" in out


def test_score_refuses_a_run_made_on_another_eval_set_and_keeps_its_scores(tmp_path, capsys):
    from test_judge import _run
    from workbench.cli import main

    es, run = _run(tmp_path)
    assert main(["score", "--eval-set", str(es.root), "--predictions", str(run)]) == 0
    before = (run / "scores.json").read_bytes()
    other = _pope_set(tmp_path / "other", n_images=2)
    capsys.readouterr()
    assert main(["score", "--eval-set", str(other), "--predictions", str(run)]) == 1
    err = capsys.readouterr().err
    assert "run was made on an eval set with manifest sha256" in err
    assert "score a run only against the eval set it answered" in err and len(err.strip().splitlines()) == 1
    assert (run / "scores.json").read_bytes() == before

"""The demo pipeline end to end at toy scale: papermill notebooks -> runs -> compare -> reports -> index.html."""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from PIL import Image

from workbench.pipeline import run_dir_for, run_pipeline
from workbench.run_record import RunRecord
from workbench.report.screenshot import find_chromium, screenshot
from workbench.tiny.build.build import build_tiny
from workbench.tiny.build.config import get_config


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href"))


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    build_tiny(get_config("micro"), root / "tiny", evaluate=False)
    models = (str(root / "tiny" / "tiny-stage1.json"), str(root / "tiny" / "tiny-stage2.json"))
    result = run_pipeline(out=root / "reports", runs=root / "runs", models=list(models),
                          eval_sets=["synth-recipes"], limit=4, batch_size=4, resamples=1000, log=lambda *_: None)
    return root, models, result


def test_pipeline_writes_index_reports_and_executed_notebooks(pipeline):
    root, models, result = pipeline
    assert result.index_html == root / "reports" / "index.html"
    parser = Links()
    parser.feed(result.index_html.read_text(encoding="utf-8"))
    targets = [h for h in parser.hrefs if h and not h.startswith("#")]
    assert "synth-recipes.html" in targets and "synth-recipes.compare.json" in targets
    assert len([t for t in targets if t.endswith(".ipynb")]) == 3  # 2 x 02_evaluate + 1 x 03_ablation_report
    for target in targets:  # every link resolves to a file written by the pipeline
        assert (result.index_html.parent / target).is_file(), target
    # no --max-new-tokens: the header names each set's default instead of "None"
    assert "max_new_tokens=32 for POPE sets, 300 for the others" in result.index_html.read_text(encoding="utf-8")
    for model in models:
        predictions = (run_dir_for(root / "runs", model, "synth-recipes") / "predictions.jsonl").read_text()
        assert len(predictions.splitlines()) == 4


def test_index_numbers_equal_compare_json(pipeline):
    root, _, result = pipeline
    compare = json.loads((root / "reports" / "synth-recipes.compare.json").read_text())
    html = result.index_html.read_text(encoding="utf-8")
    entry = compare["comparisons"][0]["metrics"]["recipe/failure_rate"]
    row = re.search(r"recipe/failure_rate.*?</tr>", html, re.S).group(0)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells[0] == f"{entry['a']:.3f}" and cells[1] == f"{entry['b']:.3f}"
    assert cells[-1] == str(entry["n"]) == "4"


@pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed (`make chromium`)")
def test_index_screenshot_shows_the_page(pipeline, tmp_path):
    _, _, result = pipeline
    png = screenshot(result.index_html, tmp_path / "index.png", height=1000)
    with Image.open(png) as im:
        gray = im.convert("L")
        assert im.size == (1280, 1000)
        assert gray.crop((0, 0, 1280, 120)).getextrema()[0] < 80  # the title is drawn
        assert len(im.convert("RGB").getcolors(maxcolors=1 << 20)) > 20  # tables, links: not a blank page


def test_rerun_reuses_finished_runs(pipeline):
    root, models, first = pipeline
    run = run_dir_for(root / "runs", models[1], "synth-recipes")
    before = (run / "predictions.jsonl").read_bytes()
    again = run_pipeline(out=root / "reports", runs=root / "runs", models=list(models),
                         eval_sets=["synth-recipes"], limit=4, batch_size=4, resamples=1000, log=lambda *_: None)
    assert (run / "predictions.jsonl").read_bytes() == before
    assert RunRecord.load(run).resumed_at  # resumed, nothing regenerated
    assert again.index_html.is_file()


def test_a_run_of_rebuilt_weights_is_set_aside_and_regenerated(pipeline, tmp_path):
    from workbench.pipeline import evaluate

    root, models, _ = pipeline
    run = tmp_path / "runs" / "tiny-stage2" / "synth-recipes"
    evaluate(models[1], "synth-recipes", run, limit=2, batch_size=2, progress=False)
    record = RunRecord.load(run)
    old_sha = record.identity["model"]["projection_weights_sha256"]
    record.identity["model"]["projection_weights_sha256"] = "0" * 64  # as if made before a rebuild
    record.save()
    old_predictions = (run / "predictions.jsonl").read_bytes()

    evaluate(models[1], "synth-recipes", run, limit=2, batch_size=2, progress=False)
    kept = [p for p in run.parent.iterdir() if p.name.startswith("synth-recipes.replaced-")]
    assert len(kept) == 1 and (kept[0] / "predictions.jsonl").read_bytes() == old_predictions
    fresh = RunRecord.load(run)
    assert fresh.identity["model"]["projection_weights_sha256"] == old_sha and not fresh.resumed_at

    # same weights, other generation settings: still refused, nothing moved
    with pytest.raises(Exception, match="different settings"):
        evaluate(models[1], "synth-recipes", run, limit=2, batch_size=2, sample=True, progress=False)
    assert len([p for p in run.parent.iterdir() if ".replaced-" in p.name]) == 1


def _user_kernelspec_elsewhere(home: Path) -> Path:
    """A user-level `python3` kernelspec pointing at an interpreter that does not exist."""
    spec = home / ".local" / "share" / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(home / "no-such-python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "someone else's Python", "language": "python"}))
    return spec


def test_config_pipeline_from_another_folder_under_a_foreign_kernelspec(pipeline, tmp_path, monkeypatch):
    """Run from the user's own folder: a config file, relative --out/--runs flags, an eval set given by absolute
    path, and a user-level kernelspec that points elsewhere (preferred over the environment's)."""
    from jupyter_client.kernelspec import KernelSpecManager

    from workbench.cli import main
    from workbench.pipeline import REPO_ROOT, resolve

    root, models, flags_result = pipeline
    home, caller = tmp_path / "home", tmp_path / "caller"
    caller.mkdir()
    _user_kernelspec_elsewhere(home)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "0")
    monkeypatch.delenv("JUPYTER_PATH", raising=False)
    monkeypatch.delenv("JUPYTER_DATA_DIR", raising=False)
    assert KernelSpecManager().get_kernel_spec("python3").argv[0] == str(home / "no-such-python")  # the trap is set
    es = resolve("synth-recipes").resolve()
    config = caller / "eval.yaml"
    config.write_text(f"models: [{models[0]}, {models[1]}]\neval_sets: [{es}]\nlimit: 4\n"
                      "generation: {batch_size: 4, seed: 0}\nresamples: 1000\nout: ignored-by-the-flag\n")
    before = sorted(p.name for p in REPO_ROOT.iterdir())
    es_before = sorted(p.name for p in es.iterdir())
    monkeypatch.chdir(caller)

    assert main(["pipeline", "--config", "eval.yaml", "--out", "myreports", "--runs", "myruns"]) == 0

    out = caller / "myreports"
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "notebooks", "synth-recipes.compare.json",
                                                     "synth-recipes.html"]
    assert sorted(p.name for p in (out / "notebooks").iterdir()) == [
        "02_evaluate-tiny-stage1-synth-recipes.ipynb", "02_evaluate-tiny-stage2-synth-recipes.ipynb",
        "03_ablation_report-synth-recipes.ipynb"]
    assert not (caller / "ignored-by-the-flag").exists()
    assert sorted(p.name for p in REPO_ROOT.iterdir()) == before            # nothing written into the package
    assert sorted(p.name for p in es.iterdir()) == es_before                # nor beside the eval set
    # the same settings as flags (the module fixture) give the same answers and the same statistics
    for model in models:
        a = run_dir_for(caller / "myruns", model, "synth-recipes") / "predictions.jsonl"
        b = run_dir_for(root / "runs", model, "synth-recipes") / "predictions.jsonl"
        assert a.read_bytes() == b.read_bytes()
        record = RunRecord.load(a.parent)
        assert record.extra["pipeline"]["config_sha256"] == hashlib.sha256(config.read_bytes()).hexdigest()
    by_config = json.loads((out / "synth-recipes.compare.json").read_text())
    by_flags = json.loads((root / "reports" / "synth-recipes.compare.json").read_text())
    assert by_config["comparisons"] == by_flags["comparisons"]
    assert hashlib.sha256(config.read_bytes()).hexdigest() in (out / "index.html").read_text()

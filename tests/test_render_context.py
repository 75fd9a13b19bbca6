"""The report's context, page and entry points from hand-made runs (issue 20): the example cards, the context's
fields, the page's title and Content-Security-Policy, the written file, and the one report flow
(``report_runs`` / ``render_report``) with its arguments passed on.

In memory and fast (fractions of a second per test, so a mutation run can afford them per mutant): the plots are
replaced by recorders, and the two expensive steps outside ``render.py`` (loading and scoring runs, comparing
them) by recorders that return hand-made runs and a hand-made comparison. Every expected value is written out
by hand from the fixture below; the whole flow on real, scored runs is tested in ``tests/test_report.py``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest
from PIL import Image

from workbench.errors import WorkbenchError
from render_support import plots  # noqa: F401  (a fixture)
from workbench.report import render
from workbench.report.render import (_environment, _examples, _summary, _workbench_info, build_context,
                                     render_html, render_report, report_runs, write_report)

SHA = "ab" * 32
TEMPLATES = Path(render.__file__).parent / "templates"


class FrozenClock:
    """``datetime`` whose ``now`` is 2026-11-30 12:00:00.654321 in the zone asked for."""

    @staticmethod
    def now(tz=None):
        return datetime(2026, 11, 30, 12, 0, 0, 654321, tzinfo=tz)


@pytest.fixture
def frozen(monkeypatch):
    """The report's clock, version and commit fixed; the fake git_commit behaves as on a dirty tree."""
    calls = {}

    def package_versions(packages, python=True):
        calls["package_versions"] = (packages, python)
        return ({"python": "3.11.0"} if python else {}) | {p: "9.9.9" for p in packages}

    def git_commit(short=False, mark_dirty=True):
        return ("abc1234" if short else "abc1234" + "5" * 33) + ("+dirty" if mark_dirty else "")

    monkeypatch.setattr(render, "datetime", FrozenClock)
    monkeypatch.setattr(render, "package_versions", package_versions)
    monkeypatch.setattr(render, "git_commit", git_commit)
    return calls


# ---------------------------------------------------------------- the fixture: 5 items, 3 runs

def _png(path: Path, colour) -> Path:
    Image.new("RGB", (24, 16), colour).save(path)
    return path


def _item(tmp, id, task, colour, reference):
    return SimpleNamespace(id=id, task=task, prompt=f"prompt of {id}", image=f"images/{id}.png",
                           image_path=_png(tmp / f"{id}.png", colour), reference=reference)


RECIPE = {"dish": "pancakes", "ingredients": ["flour", "egg"]}
LEAF = {"crop": "tomato", "treatments": []}


def make_es(tmp: Path):
    items = [_item(tmp, "r0", "recipe", (200, 0, 0), RECIPE), _item(tmp, "d1", "diagnosis", (0, 200, 0), LEAF),
             _item(tmp, "r2", "recipe", (0, 0, 200), RECIPE), _item(tmp, "r3", "recipe", (9, 9, 9), RECIPE),
             _item(tmp, "r4", "recipe", (90, 90, 90), RECIPE)]
    return SimpleNamespace(name="tiny-es", root=Path("/data/tiny-es"), manifest_sha256=SHA, items=items)


# per-item metrics of each run (ranking: recipe by ingredient_f1, diagnosis by disease_accuracy; a new or fixed
# failure counts -1 / +1 on top); r4 has no "metrics" at all in any run
METRICS = {
    "a": {"r0": {"ingredient_f1": 0.25, "failure": False},
          "d1": {"disease_accuracy": 1.0, "failure": False},
          "r2": {"ingredient_f1": 0.5, "failure": True, "failure_reasons": None},
          "r3": {"ingredient_f1": 0.5, "failure": False}},
    "b": {"r0": {"ingredient_f1": 0.75, "failure": False},                     # +0.5: a win
          "d1": {"disease_accuracy": 0.0, "failure": True, "failure_reasons": ["off task", 3]},   # -1 - 1 = -2
          "r2": {"ingredient_f1": 0.5, "failure": True},                       # 0: unchanged
          "r3": {"ingredient_f1": 0.25, "failure": False}},                    # -0.25: a loss
    "c": {"r0": {"ingredient_f1": 0.0, "failure": True, "failure_reasons": ["empty"]},
          "d1": {"disease_accuracy": 1.0}, "r2": {}, "r3": {}},
}
PREDICTIONS = {
    "a": {"r0": {"output": "flour and egg", "n_tokens": 12, "finish": "stop"},
          "d1": {"output": "healthy", "n_tokens": 3, "finish": "stop"},
          "r2": {"output": None, "n_tokens": 0, "finish": "stop"},
          "r3": {"output": "a b c", "finish": "length"},                       # no n_tokens: 3 words
          "r4": {"output": "x", "n_tokens": 1.0, "finish": "stop"}},
    "b": {"r0": {"output": "pancakes: flour, egg", "n_tokens": 40, "finish": "length"},
          "d1": {"output": "blight", "n_tokens": 2, "finish": "stop"},
          "r2": {"output": "", "n_tokens": 0, "finish": "stop"},
          "r3": {"output": "eggs", "n_tokens": 1, "finish": "stop"}},          # r4: no prediction
    "c": {"r0": {"output": "", "n_tokens": 0, "finish": "stop"}, "d1": {"output": "ok", "n_tokens": 1},
          "r2": {"output": "y", "n_tokens": 1}, "r3": {"output": "z", "n_tokens": 1}, "r4": {"output": "w"}},
}
JUDGE = {"version": 1, "judge": "llama", "template_hash": "h", "n_ok": 4, "n_failed": 1, "n_skipped": 0,
         "n_stale": 0, "kappa": {}}


def make_run(name: str, checkpoint: str | None = "0123456789abcdef" + "e" * 48, judges=None):
    items = [{"id": i, "metrics": m} for i, m in METRICS[name].items()] + [{"id": "r4"}]
    record = SimpleNamespace(model_label=f"tiny-{name}", checkpoint_sha256=checkpoint,
                             to_dict=lambda: {"model": {"spec": f"tiny-{name}"}, "seed": 0})
    return SimpleNamespace(name=name, record=record, predictions=PREDICTIONS[name],
                           scores={"items": items, "judges": judges})


def _row(metric, task="recipe", **kw):
    return {"task": task, "metric": metric, "a": 0.4, "b": 0.6, "a_ci": [0.3, 0.5], "b_ci": [0.5, 0.7],
            "delta": 0.2, "ci": [0.1, 0.3], "p": 0.0004, "significant": True, "verdict": "better",
            "better": "higher", "n": 4, "n_scored": None, "undefined": None} | kw


def make_compare(names=("a", "b"), created="2026-11-29T08:00:00+00:00"):
    comparisons = [{"other": other, "metrics": {"recipe/ingredient_f1": _row("ingredient_f1")}}
                   for other in names[1:]]
    compare = {"eval_set": {"manifest_sha256": SHA, "n_items": 5}, "runs": [{"name": n} for n in names],
               "baseline": names[0], "comparisons": comparisons,
               "method": {"n_resamples": 200, "seed": 0, "alpha": 0.05, "ci": "paired bootstrap",
                          "test": "paired permutation"}}
    if created is not None:
        compare["created"] = created
    return compare


def _decoded(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


# ---------------------------------------------------------------- example cards

def _out(run, output, finish, n_tokens, reasons, metrics):
    return {"run": run, "output": output, "finish": finish, "n_tokens": n_tokens, "failure_reasons": reasons,
            "metrics": metrics}


def test_example_cards_are_ranked_by_the_change_of_the_second_run_over_the_first(tmp_path):
    es = make_es(tmp_path)
    out = _examples(es, [make_run("a"), make_run("b"), make_run("c")])
    assert out["selection"] == "all 5 items"
    assert out["versus"] == ("b", "a")
    assert out["tasks"] == ["recipe", "diagnosis"]
    # per task in eval-set order: wins (largest first), losses (largest first), unchanged
    assert [(c["id"], c["kind"], c["delta"], c["note"]) for c in out["cards"]] == [
        ("r0", "win", 0.5, "ingredient_f1 +0.500"), ("r3", "loss", -0.25, "ingredient_f1 -0.250"),
        ("r2", "same", 0.0, "no change"), ("r4", "same", 0.0, "no change"),
        ("d1", "loss", -2.0, "disease_accuracy -1.000, new failure")]
    r0, r3, r2, r4, d1 = out["cards"]
    assert {k: r0[k] for k in ("task", "prompt", "image", "reference")} == {
        "task": "recipe", "prompt": "prompt of r0", "image": "images/r0.png",
        "reference": [{"key": "dish", "value": "pancakes", "inline": True},
                      {"key": "ingredients", "value": ["flour", "egg"], "inline": True}]}
    assert d1["reference"] == [{"key": "crop", "value": "tomato", "inline": True},
                               {"key": "treatments", "value": ["(none)"], "inline": True}]
    assert set(r0) == {"id", "task", "kind", "note", "delta", "prompt", "image", "thumb", "reference", "outputs"}
    # each card's own image, as a small PNG
    for card, colour in ((r0, (200, 0, 0)), (d1, (0, 200, 0)), (r4, (90, 90, 90))):
        im = _decoded(card["thumb"])
        assert im.size == (24, 16) and im.convert("RGB").getpixel((5, 5)) == colour
    # outputs: one per run, in run order, with the run's own prediction and metrics
    assert r0["outputs"] == [
        _out("a", "flour and egg", "stop", 12, [], [("ingredient_f1", "0.250"), ("failure", "False")]),
        _out("b", "pancakes: flour, egg", "length", 40, [], [("ingredient_f1", "0.750"), ("failure", "False")]),
        _out("c", "", "stop", 0, ["empty"], [("ingredient_f1", "0.000"), ("failure", "True")])]
    assert d1["outputs"][1] == _out("b", "blight", "stop", 2, ["off task", "3"],
                                    [("disease_accuracy", "0.000"), ("failure", "True")])
    assert d1["outputs"][2] == _out("c", "ok", None, 1, [], [("disease_accuracy", "1.000")])
    assert r2["outputs"][0] == _out("a", "", "stop", 0, [], [("ingredient_f1", "0.500"), ("failure", "True")])
    assert r3["outputs"][0] == _out("a", "a b c", "length", 3, [], [("ingredient_f1", "0.500"), ("failure", "False")])
    assert [o["n_tokens"] for o in r4["outputs"]] == [1, None, 1] and type(r4["outputs"][0]["n_tokens"]) is int
    # r4: scored without metrics, and run b has no prediction for it
    assert r4["outputs"][1] == _out("b", None, None, None, [], [])
    assert r4["outputs"][2] == _out("c", "w", None, 1, [], [])


def test_example_kinds_follow_the_sign_of_the_change(tmp_path):
    es = make_es(tmp_path)
    a, b = make_run("a"), make_run("b")
    # b vs a: one win, two losses, two unchanged; reversed, a win is a loss and a loss a win
    kinds = {c["id"]: c["kind"] for c in _examples(es, [a, b])["cards"]}
    assert kinds == {"r0": "win", "r3": "loss", "d1": "loss", "r2": "same", "r4": "same"}
    reverse = _examples(es, [b, a])
    assert {c["id"]: c["kind"] for c in reverse["cards"]} == {"r0": "loss", "r3": "win", "d1": "win", "r2": "same",
                                                              "r4": "same"}
    assert reverse["versus"] == ("a", "b") and [o["run"] for o in reverse["cards"][0]["outputs"]] == ["b", "a"]


# ---------------------------------------------------------------- the context

def test_context_names_the_runs_the_eval_set_and_the_comparison(tmp_path, plots, frozen):
    es = make_es(tmp_path)
    runs = [make_run("a"), make_run("b", checkpoint=None, judges={"relative": JUDGE})]
    compare = make_compare()
    ctx = build_context(es, runs, compare)
    assert set(ctx) == {"model_labels", "checkpoints", "tasks_have_many_comparisons", "title", "runs", "run_names",
                        "baseline", "eval_set", "method", "compare_created", "tasks", "failures", "lengths",
                        "examples", "provenance", "workbench", "compare", "judges", "swaps"}
    assert ctx["model_labels"] == ["tiny-a", "tiny-b"]
    assert ctx["checkpoints"] == ["checkpoint sha256 0123456789abcdef…", "checkpoint sha256 not recorded"]
    assert ctx["tasks_have_many_comparisons"] is False
    assert ctx["title"] == "a vs b on tiny-es"
    assert ctx["runs"] is runs and ctx["run_names"] == ["a", "b"] and ctx["baseline"] == "a"
    assert ctx["eval_set"] == {"name": "tiny-es", "path": "/data/tiny-es", "manifest_sha256": SHA, "n_items": 5,
                               "tasks": {"recipe": 4, "diagnosis": 1}}
    assert list(ctx["eval_set"]["tasks"]) == ["recipe", "diagnosis"]
    assert ctx["method"] is compare["method"] and ctx["compare"] is compare
    assert ctx["compare_created"] == "2026-11-29T08:00:00+00:00"
    assert [(t["name"], t["n"], [tb["other"] for tb in t["tables"]]) for t in ctx["tasks"]] == [
        ("recipe", 4, ["b"]), ("diagnosis", 1, [])]
    assert ctx["tasks"][0]["plot"] == "data:metric_panels"
    # failures: recipe r2 failed in both runs, diagnosis d1 in b only (for "off task" and 3)
    assert ctx["failures"]["totals"] == [{"task": "recipe", "n": 4, "failed": [1, 1]},
                                         {"task": "diagnosis", "n": 1, "failed": [0, 1]}]
    assert [(r["task"], r["reason"], r["counts"]) for r in ctx["failures"]["rows"]] == [
        ("diagnosis", "3", [0, 1]), ("diagnosis", "off task", [0, 1])]
    # lengths: recipe outputs of a are 12, 0, 3 and 1 tokens; b has 3 recipe outputs (40, 0, 1)
    assert [(r["task"], r["run"], r["n"], r["max"], r["truncated"]) for r in ctx["lengths"]["rows"]] == [
        ("recipe", "a", 4, 12, 1), ("recipe", "b", 3, 40, 1), ("diagnosis", "a", 1, 3, 0), ("diagnosis", "b", 1, 2, 0)]
    assert ctx["examples"]["versus"] == ("b", "a") and len(ctx["examples"]["cards"]) == 5
    assert [(r["key"], r["cells"]) for r in ctx["provenance"]] == [("model.spec", ["tiny-a", "tiny-b"]),
                                                                  ("seed", ["0", "0"])]
    assert [(j["run"], j["protocol"], j["ok"]) for j in ctx["judges"]] == [("b", "relative.v1", 4)]
    assert ctx["workbench"] == {"version": "9.9.9", "git_commit": "abc1234", "created": "2026-11-30T12:00:00+00:00"}


def test_context_of_three_runs_has_many_comparisons_and_no_creation_time_when_unrecorded(tmp_path, plots, frozen):
    es = make_es(tmp_path)
    ctx = build_context(es, [make_run("a"), make_run("b"), make_run("c")],
                        make_compare(("a", "b", "c"), created=None))
    assert ctx["tasks_have_many_comparisons"] is True
    assert ctx["title"] == "a vs b vs c on tiny-es"
    assert ctx["compare_created"] is None
    assert [tb["other"] for tb in ctx["tasks"][0]["tables"]] == ["b", "c"]


def test_workbench_info_is_the_installed_version_the_short_commit_and_the_time_in_utc(monkeypatch, frozen):
    assert _workbench_info() == {"version": "9.9.9", "git_commit": "abc1234", "created": "2026-11-30T12:00:00+00:00"}
    assert frozen["package_versions"][0] == ("minigpt4-workbench",)
    monkeypatch.setattr(render, "package_versions", lambda packages, python=True: {p: None for p in packages})
    monkeypatch.setattr(render, "git_commit", lambda short=False, mark_dirty=True: None)
    assert _workbench_info() == {"version": "not installed", "git_commit": "unknown",
                                 "created": "2026-11-30T12:00:00+00:00"}


def test_workbench_info_with_the_real_clock_is_utc_to_the_second():
    before = datetime.now(timezone.utc).replace(microsecond=0)
    info = _workbench_info()
    after = datetime.now(timezone.utc)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", info["created"])
    assert before <= datetime.fromisoformat(info["created"]) <= after
    assert isinstance(info["version"], str) and isinstance(info["git_commit"], str)


# ---------------------------------------------------------------- the page

class Page(HTMLParser):
    """Elements (tag, attrs) and the body of each <title>/<style>/<script>."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.raw: dict[str, list[str]] = {"title": [], "style": [], "script": []}
        self._in = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag in self.raw:
            self._in = tag
            self.raw[tag].append("")

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in:
            self.raw[self._in][-1] += data


def _template_text(name: str) -> str:
    # the style and script templates hold no Jinja syntax: rendered, they are the file less its last newline
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    assert "{{" not in text and "{%" not in text
    return text.removesuffix("\n")


def test_page_has_the_title_the_exact_style_and_script_and_their_hashes_in_the_csp(tmp_path, plots, frozen):
    es = make_es(tmp_path)
    html = render_html(build_context(es, [make_run("a"), make_run("b")], make_compare()))
    page = Page(html)
    assert page.raw["title"] == ["Ablation report: a vs b on tiny-es"]
    css, js = _template_text("style.css.j2"), _template_text("filter.js.j2")
    assert page.raw["style"] == [css]
    assert page.raw["script"][1] == js
    assert json.loads(page.raw["script"][0]) == make_compare()
    csp = next(a["content"] for t, a in page.elements if a.get("http-equiv") == "Content-Security-Policy")

    def digest(text):
        return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    assert f"style-src '{digest(css)}';" in csp and f"script-src '{digest(js)}';" in csp
    cards = [(a["id"], a["data-kind"]) for t, a in page.elements if t == "article"]
    assert cards == [("item-r0", "win"), ("item-r3", "loss"), ("item-r2", "same"), ("item-r4", "same"),
                     ("item-d1", "loss")]
    assert "abc1234" in html and "9.9.9" in html and "2026-11-30T12:00:00+00:00" in html
    assert "<h4>" not in html                                  # one comparison: no per-comparison headings


def test_environment_trims_block_lines_and_refuses_undefined_names():
    env = _environment()
    template = "<ul>\n  {% for x in xs %}\n  <li>{{ x }}</li>\n  {% endfor %}\n</ul>"
    # trim_blocks drops the newline after a block tag, lstrip_blocks the indentation before it (Jinja docs)
    assert env.from_string(template).render(xs=[1, 2]) == "<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ row.missing }}").render(row={})
    assert env.get_template("style.css.j2").render() == _template_text("style.css.j2")


def test_summary_rows_carry_the_reason_a_metric_is_undefined(plots):
    comp = {"other": "b", "metrics": {"c/x": _row("x", task="c", undefined="no items"),
                                      "c/y": {k: v for k, v in _row("y", task="c").items() if k != "undefined"}}}
    [task] = _summary({"c": 4}, {"baseline": "a", "comparisons": [comp]})
    assert [(r["key"], r["undefined"]) for r in task["tables"][0]["rows"]] == [("c/x", "no items"), ("c/y", None)]


def test_summary_goes_on_after_a_task_without_metrics(plots):
    comp = {"other": "b", "metrics": {"r/x": _row("x", task="r")}}
    tasks = _summary({"e": 2, "r": 4}, {"baseline": "a", "comparisons": [comp]})
    assert [(t["name"], len(t["tables"]), t["plot"]) for t in tasks] == [("e", 0, None), ("r", 1, "data:metric_panels")]


def test_summary_skips_per_split_and_undefined_metrics_but_draws_the_rest(plots):
    comp = {"other": "b", "metrics": {"r/s/x": _row("s/x", task="r"), "r/m": _row("m", task="r", a=None, b=None),
                                      "r/y": _row("y", task="r")}}
    _summary({"r": 4}, {"baseline": "a", "comparisons": [comp]})
    [(order, panels)] = plots["metric_panels"]
    assert order == ["a", "b"] and [p["name"] for p in panels] == ["y"]


# ---------------------------------------------------------------- the written file

def test_written_report_is_the_rendered_page_of_the_context(tmp_path, plots, frozen):
    es = make_es(tmp_path)
    runs = [make_run("a"), make_run("b")]
    out = tmp_path / "deep" / "report.html"
    assert write_report(es, runs, out, make_compare()) == out
    expected = render_html(build_context(es, runs, make_compare()))
    assert out.read_text(encoding="utf-8") == expected
    # a compare.json path, as str or Path, is read
    path = tmp_path / "compare.json"
    path.write_text(json.dumps(make_compare()), encoding="utf-8")
    for given in (path, str(path)):
        assert write_report(es, runs, tmp_path / "again.html", given).read_text(encoding="utf-8") == expected


def test_write_report_refuses_a_comparison_of_other_runs(tmp_path, plots, frozen):
    es = make_es(tmp_path)
    with pytest.raises(WorkbenchError, match=r"compare.json compares \['b', 'a'\] with baseline 'b'.*rerun "
                                             r"`workbench compare`"):
        write_report(es, [make_run("a"), make_run("b")], tmp_path / "r.html", make_compare(("b", "a")))
    assert not (tmp_path / "r.html").exists()


# ---------------------------------------------------------------- the report flow

@pytest.fixture
def flow(tmp_path, monkeypatch, plots, frozen):
    """report_runs with loading and comparing replaced by recorders that return the hand-made runs and
    comparison (their own tests are in tests/test_compare*.py)."""
    es = make_es(tmp_path)
    runs = [make_run("a"), make_run("b")]
    calls = {"load": [], "compare": []}

    def load_scored_runs(run_dirs, eval_set):
        calls["load"].append((run_dirs, eval_set))
        return es, runs

    def compare_loaded(*args):
        calls["compare"].append(args)
        return make_compare()

    monkeypatch.setattr(render, "load_scored_runs", load_scored_runs)
    monkeypatch.setattr(render, "compare_loaded", compare_loaded)
    return SimpleNamespace(es=es, runs=runs, calls=calls, tmp=tmp_path)


def test_report_runs_compares_saves_the_comparison_and_writes_the_page(flow):
    out, saved = flow.tmp / "r" / "index.html", flow.tmp / "r" / "compare.json"
    path, compare = report_runs(["A", "B"], "ES", out, n_resamples=7, seed=3, aggregate="agg",
                                show_progress=False, save_compare=saved)
    assert path == out and compare == make_compare()
    assert flow.calls["load"] == [(["A", "B"], "ES")]
    assert flow.calls["compare"] == [(flow.es, flow.runs, 0, 7, 3, "agg", False)]
    assert json.loads(saved.read_text(encoding="utf-8")) == make_compare()
    assert out.read_text(encoding="utf-8") == render_html(build_context(flow.es, flow.runs, make_compare()))


def test_report_runs_defaults_and_no_saved_comparison_unless_asked(flow):
    out = flow.tmp / "r" / "index.html"
    path, compare = report_runs(["A", "B"], "ES", out)
    assert flow.calls["compare"] == [(flow.es, flow.runs, 0, 10000, 0, None, True)]
    assert sorted(p.name for p in out.parent.iterdir()) == ["index.html"] and path == out


def test_report_runs_with_a_given_comparison_does_not_compare_again(flow):
    out = flow.tmp / "index.html"
    given = make_compare()
    given["note"] = "made earlier"
    path, compare = report_runs(["A", "B"], "ES", out, compare=given)
    assert flow.calls["compare"] == [] and compare == given and path == out
    assert "made earlier" in Page(out.read_text(encoding="utf-8")).raw["script"][0]
    saved = flow.tmp / "compare.json"
    saved.write_text(json.dumps(make_compare(("b", "a"))), encoding="utf-8")
    with pytest.raises(WorkbenchError, match=r"not \['a', 'b'\] with baseline 'a'; rerun `workbench compare`"):
        report_runs(["A", "B"], "ES", out, compare=str(saved))


def test_render_report_passes_its_arguments_on_and_returns_the_page(flow):
    out = flow.tmp / "report.html"
    assert render_report(["A", "B"], "ES", out, None, 11, 5, "agg", False) == out
    assert render_report(["A", "B"], "ES", out) == out
    assert flow.calls["compare"] == [(flow.es, flow.runs, 0, 11, 5, "agg", False),
                                     (flow.es, flow.runs, 0, 10000, 0, None, True)]
    assert flow.calls["load"] == [(["A", "B"], "ES")] * 2
    given = make_compare()
    given["note"] = "given"
    assert render_report(["A", "B"], "ES", out, given) == out and len(flow.calls["compare"]) == 2
    assert "given" in Page(out.read_text(encoding="utf-8")).raw["script"][0]

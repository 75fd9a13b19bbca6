"""The report's sections built from hand-made runs (issue 20): failure counts and shares, output lengths,
provenance rows, judge rows, the summary's plot panels, refusal of a compare.json for other runs.

In memory and fast: the plots are replaced by recorders, and every expected value is written out by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from workbench.errors import WorkbenchError
from render_support import plots  # noqa: F401  (a fixture)
from workbench.report.render import (_checkpoint, _csp_hash, _failures, _flatten, _judges, _lengths, _load_compare,
                                     _n_tokens, _provenance, _summary)


def _es(tasks):
    return SimpleNamespace(items=[SimpleNamespace(id=f"{t}{k}", task=t) for k, t in enumerate(tasks)])


def _run(name, metrics_by_id, predictions=None):
    scores = {"items": [{"id": i, "metrics": m} for i, m in metrics_by_id.items()]}
    return SimpleNamespace(name=name, scores=scores, predictions=predictions or {})


# ---------------------------------------------------------------- failures

def test_failures_count_each_reason_per_run_and_share_it_over_the_tasks_items(plots):
    es = _es(["c", "c", "c", "c", "r", "r"])                       # ids c0..c3, r4, r5
    a = _run("a", {"c0": {"failure": True, "failure_reasons": ["repetition", "too short"]},
                   "c1": {"failure": True, "failure_reasons": ["repetition"]},
                   "c2": {"failure": False, "failure_reasons": []}, "c3": {},
                   "r4": {"failure": True, "failure_reasons": ["no steps"]}, "r5": {"failure": False}})
    b = _run("b", {"c0": {"failure": False}, "c1": {"failure": True, "failure_reasons": ["too short"]},
                   "c2": {"failure": True, "failure_reasons": ["too short"]}, "c3": {},
                   "r4": {}, "r5": {"failure": True, "failure_reasons": ["no steps", "repetition"]}})
    out = _failures(es, [a, b])
    # within a task, the most frequent reason first (ties by name); tasks in eval-set order
    assert [(r["task"], r["reason"], r["counts"]) for r in out["rows"]] == [
        ("c", "too short", [1, 2]), ("c", "repetition", [2, 0]),
        ("r", "no steps", [1, 1]), ("r", "repetition", [0, 1])]
    assert [r["shares"] for r in out["rows"]] == [[0.25, 0.5], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]
    assert out["totals"] == [{"task": "c", "n": 4, "failed": [2, 2]}, {"task": "r", "n": 2, "failed": [1, 1]}]
    assert out["plot"] == "data:failure_reasons"
    assert plots["failure_reasons"] == [(["a", "b"], ["c: too short", "c: repetition", "r: no steps", "r: repetition"],
                                         [[1, 2], [2, 0], [1, 1], [0, 1]])]


def test_no_failures_no_plot(plots):
    es = _es(["c", "c"])
    out = _failures(es, [_run("a", {"c0": {}, "c1": {"failure": False}}), _run("b", {"c0": {}, "c1": {}})])
    assert out == {"rows": [], "totals": [{"task": "c", "n": 2, "failed": [0, 0]}], "plot": None}
    assert "failure_reasons" not in plots


def test_items_scored_without_metrics_count_as_not_failed(plots):
    es = _es(["c", "c"])
    failed = {"failure": True, "failure_reasons": ["x"]}
    a = SimpleNamespace(name="a", scores={"items": [{"id": "c0"}, {"id": "c1", "metrics": failed}]})
    b = SimpleNamespace(name="b", scores={"items": [{"id": "c0"}, {"id": "c1"}]})
    out = _failures(es, [a, b])
    assert out["totals"] == [{"task": "c", "n": 2, "failed": [1, 0]}]
    assert [(r["reason"], r["counts"]) for r in out["rows"]] == [("x", [1, 0])]


# ---------------------------------------------------------------- lengths

def test_n_tokens_prefers_the_recorded_count_and_else_counts_words():
    assert _n_tokens({"n_tokens": 7, "output": "a b"}) == 7
    assert _n_tokens({"n_tokens": 7.0}) == 7 and type(_n_tokens({"n_tokens": 7.0})) is int
    assert _n_tokens({"n_tokens": None, "output": "one two  three"}) == 3
    assert _n_tokens({"n_tokens": "9", "output": "one two"}) == 2
    assert _n_tokens({"output": None}) == 0 and _n_tokens({}) == 0


def test_lengths_per_task_and_run_with_truncations(plots):
    es = _es(["c", "c", "c", "r"])
    a = _run("a", {}, {"c0": {"n_tokens": 4, "finish": "stop"}, "c1": {"n_tokens": 10, "finish": "length"},
                       "c2": {"output": "x y", "finish": "stop"}, "r3": {"n_tokens": 5, "finish": "length"}})
    b = _run("b", {}, {"c0": {"n_tokens": 1, "finish": "stop"}})            # a partial run
    out = _lengths(es, [a, b])
    assert out["rows"] == [
        {"task": "c", "run": "a", "n": 3, "mean": 16 / 3, "median": 4, "max": 10, "truncated": 1},
        {"task": "c", "run": "b", "n": 1, "mean": 1, "median": 1, "max": 1, "truncated": 0},
        {"task": "r", "run": "a", "n": 1, "mean": 5, "median": 5, "max": 5, "truncated": 1},
        {"task": "r", "run": "b", "n": 0, "mean": None, "median": None, "max": None, "truncated": 0}]
    assert plots["length_histograms"] == [(["a", "b"], ["c", "r"], {"c": [[4, 10, 2], [1]], "r": [[5], []]})]
    assert out["plot"] == "data:length_histograms"


def test_lengths_of_an_empty_eval_set_draw_nothing(plots):
    assert _lengths(_es([]), [_run("a", {}), _run("b", {})]) == {"rows": [], "plot": None}
    assert "length_histograms" not in plots


# ---------------------------------------------------------------- summary panels

def _entry(task, metric, a, b, significant=False, a_ci=None, b_ci=None, n_scored=None):
    return {"task": task, "metric": metric, "a": a, "b": b, "a_ci": a_ci, "b_ci": b_ci, "significant": significant,
            "better": "higher", "n": 4, "n_scored": n_scored}


def test_summary_tables_per_comparison_and_one_panel_per_drawable_metric(plots):
    c1 = {"other": "b", "metrics": {
        "c/x": _entry("c", "x", 0.1, 0.2, True, [0.0, 0.2], [0.1, 0.3]),
        "c/split/x": _entry("c", "split/x", 0.1, 0.2),                        # per-split: table only
        "c/meteor": _entry("c", "meteor", None, None),                        # undefined everywhere: no panel
        "c/half": _entry("c", "half", None, 0.5),                             # defined for one run: drawn
        "r/y": _entry("r", "y", 1.0, 2.0, n_scored=[2, 3])}}
    c2 = {"other": "c", "metrics": {k: dict(e, b=None if k == "c/half" else e["b"], significant=False,
                                            b_ci=[9, 9]) for k, e in c1["metrics"].items()}}
    tasks = _summary({"c": 4, "r": 4, "empty": 0}, {"baseline": "a", "comparisons": [c1, c2]})
    assert [(t["name"], t["n"]) for t in tasks] == [("c", 4), ("r", 4), ("empty", 0)]
    assert [tb["other"] for tb in tasks[0]["tables"]] == ["b", "c"]
    assert [r["key"] for r in tasks[0]["tables"][0]["rows"]] == ["c/x", "c/split/x", "c/meteor", "c/half"]
    assert tasks[1]["tables"][0]["rows"][0]["n_label"] == "2 / 3 of 4"
    assert tasks[2] == {"name": "empty", "n": 0, "tables": [], "plot": None}
    order, panels = plots["metric_panels"][0]
    assert order == ["a", "b", "c"]
    assert panels == [
        {"name": "x", "better": "higher", "values": [0.1, 0.2, 0.2], "cis": [[0.0, 0.2], [0.1, 0.3], [9, 9]],
         "marks": ["", "*", ""]},
        {"name": "half", "better": "higher", "values": [None, 0.5, None], "cis": [None, None, [9, 9]],
         "marks": ["", "", ""]}]
    assert tasks[0]["plot"] == "data:metric_panels" and len(plots["metric_panels"]) == 2


def test_summary_without_drawable_metrics_has_no_plot(plots):
    comp = {"other": "b", "metrics": {"c/meteor": _entry("c", "meteor", None, None)}}
    [task] = _summary({"c": 4}, {"baseline": "a", "comparisons": [comp]})
    assert task["plot"] is None and len(task["tables"][0]["rows"]) == 1 and "metric_panels" not in plots


# ---------------------------------------------------------------- provenance

def test_flatten_nests_three_levels_and_writes_the_rest_as_json():
    value = {"a": {"b": {"c": {"d": 1}}}, "l": [1, "x", None], "m": [{"k": 1}], "n": None, "s": 2.5,
             "e": {}}
    assert _flatten(value) == [("a.b.c", '{"d": 1}'), ("l", "1, x, None"), ("m", '[{"k": 1}]'), ("n", ""),
                               ("s", "2.5")]
    assert _flatten("top") == [("", "top")]
    # below three levels, keys are written sorted, so the same record always gives the same cell
    assert _flatten({"a": {"b": {"c": {"z": 1, "a": 2}}}, "m": [{"k": 1, "b": 2}]}) == [
        ("a.b.c", '{"a": 2, "z": 1}'), ("m", '[{"b": 2, "k": 1}]')]


def _record(d):
    return SimpleNamespace(record=SimpleNamespace(to_dict=lambda: d))


def test_provenance_puts_known_fields_first_marks_differences_and_drops_repeated_identity():
    a = {"zeta": 1, "seed": 0, "model": {"spec": "m1", "sha": "x"}, "identity": {"seed": 0, "model.spec": "m1"},
         "git": "abc"}
    b = {"zeta": 1, "seed": 1, "model": {"spec": "m1", "sha": "y"}, "identity": {"seed": 2}, "extra": "e"}
    rows = _provenance([_record(a), _record(b)])
    assert [(r["key"], r["cells"], r["differs"]) for r in rows] == [
        ("model.spec", ["m1", "m1"], False), ("model.sha", ["x", "y"], True),
        ("seed", ["0", "1"], True), ("git", ["abc", "\u2014"], True),
        ("zeta", ["1", "1"], False), ("identity.seed", ["\u2014", "2"], True), ("extra", ["\u2014", "e"], True)]


def test_checkpoint_label():
    assert _checkpoint(SimpleNamespace(checkpoint_sha256="0123456789abcdef" + "f" * 48)) == \
        "checkpoint sha256 0123456789abcdef…"
    assert _checkpoint(SimpleNamespace(checkpoint_sha256=None)) == "checkpoint sha256 not recorded"


# ---------------------------------------------------------------- judges

def test_judge_rows_per_run_and_protocol_with_kappas_by_task():
    j = {"version": 2, "judge": "llama", "template_hash": "h", "n_ok": 5, "n_failed": 1, "n_skipped": 2,
         "n_stale": 0, "kappa": {"recipe": {"vs": "dish_accuracy", "kappa": 0.5, "n": 4, "reason": None},
                                 "caption": {"vs": "chair_s", "kappa": None, "n": 0, "reason": "no items"}}}
    runs = [SimpleNamespace(name="a", scores={"judges": {"relative": j, "failure": dict(j, version=1, limit=6)}}),
            SimpleNamespace(name="b", scores={}), SimpleNamespace(name="c", scores={"judges": None})]
    rows = _judges(runs)
    assert [(r["run"], r["protocol"]) for r in rows] == [("a", "failure.v1"), ("a", "relative.v2")]
    assert {k: rows[1][k] for k in ("judge", "template_hash", "ok", "failed", "skipped", "limit", "stale")} == \
        {"judge": "llama", "template_hash": "h", "ok": 5, "failed": 1, "skipped": 2, "limit": None, "stale": 0}
    assert rows[0]["limit"] == 6   # judged with --limit 6 (scores.json written before --limit existed: None)
    assert rows[1]["kappas"] == [{"task": "caption", "vs": "chair_s", "kappa": None, "n": 0, "reason": "no items"},
                                 {"task": "recipe", "vs": "dish_accuracy", "kappa": 0.5, "n": 4, "reason": None}]


# ---------------------------------------------------------------- compare.json given to the report

def _cmp(sha="s", names=("a", "b"), baseline="a"):
    return {"eval_set": {"manifest_sha256": sha}, "runs": [{"name": n} for n in names], "baseline": baseline}


def test_load_compare_accepts_the_same_runs_and_refuses_others(tmp_path):
    es = SimpleNamespace(manifest_sha256="s")
    runs = [SimpleNamespace(name="a"), SimpleNamespace(name="b")]
    assert _load_compare(_cmp(), es, runs) == _cmp()
    path = tmp_path / "compare.json"
    path.write_text(json.dumps(_cmp()), encoding="utf-8")
    assert _load_compare(path, es, runs) == _cmp() and _load_compare(str(path), es, runs) == _cmp()
    with pytest.raises(WorkbenchError, match=r"^compare.json was made on another eval-set manifest; rerun "
                                             r"`workbench compare` with these runs and this eval set$"):
        _load_compare(_cmp(sha="t"), es, runs)
    with pytest.raises(WorkbenchError) as err:
        _load_compare(_cmp(names=("b", "a"), baseline="b"), es, runs)
    assert str(err.value) == ("compare.json compares ['b', 'a'] with baseline 'b', not ['a', 'b'] with baseline 'a'; "
                              "rerun `workbench compare` on the same runs, first run first")
    with pytest.raises(WorkbenchError, match=r"with baseline 'b', not"):
        _load_compare(_cmp(baseline="b"), es, runs)
    with pytest.raises(WorkbenchError, match=r"^compare.json compares \[\] with baseline None"):
        _load_compare({"eval_set": {"manifest_sha256": "s"}}, es, runs)
    with pytest.raises(WorkbenchError, match="another eval-set manifest"):
        _load_compare({}, es, runs)


def test_load_compare_names_an_unreadable_file(tmp_path):
    es = SimpleNamespace(manifest_sha256="s")
    bad = tmp_path / "compare.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(WorkbenchError, match=rf"^{bad}: cannot read compare.json \(.*\); rerun `workbench compare`$"):
        _load_compare(bad, es, [])
    with pytest.raises(WorkbenchError, match=r"missing.json: cannot read compare.json"):
        _load_compare(Path(tmp_path / "missing.json"), es, [])


def test_csp_hash_is_the_base64_sha256_of_the_exact_text():
    # sha256("") and sha256("abc") in base64, from RFC 6234's test vectors
    assert _csp_hash("") == "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    assert _csp_hash("abc") == "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="


def test_index_shows_signed_cis_and_no_verdict_for_undefined_metrics(tmp_path):
    """The demo's front page writes a CI as the reports do ([+0.177, +0.290]) and shows an undefined metric's
    verdict as a dash, never "n.s." (a fresh user found both)."""
    import re

    from workbench.report.index import write_index

    metrics = {
        "pope/f1_mean": {"a": 0.695, "b": 0.373, "delta": -0.322, "ci": [-0.455, -0.191], "p": 0.0002,
                         "verdict": "worse", "n": 126, "better": "higher"},
        "pope/strict_f1_mean": {"a": None, "b": None, "delta": None, "ci": None, "p": None, "verdict": "n/a",
                                "n": 126, "better": "higher"},
        "pope/accuracy_mean": {"a": 0.579, "b": 0.516, "delta": -0.063, "ci": [-0.201, 0.072], "p": 0.425,
                               "verdict": "n.s.", "n": 126, "better": "higher"},
    }
    compare = {"eval_set": {"n_items": 126, "manifest_sha256": "ab" * 32},
               "comparisons": [{"baseline": "s1", "other": "s2", "metrics": metrics}]}
    report = tmp_path / "synth-pope.html"
    report.write_text("<html></html>")
    (tmp_path / "synth-pope.compare.json").write_text(json.dumps(compare))
    out = write_index(tmp_path / "index.html", {"synth-pope": report}, [], models=["s1", "s2"], seconds=1.0,
                      settings={})
    rows = {m.group(1): m.group(2) for m in re.finditer(r"<tr><td>(pope/\w+) .*?</td>(.*?)</tr>",
                                                         out.read_text(), re.S)}
    assert "[-0.455, -0.191]" in rows["pope/f1_mean"] and "&#9660; worse" in rows["pope/f1_mean"]
    assert "[-0.201, +0.072]" in rows["pope/accuracy_mean"] and "n.s." in rows["pope/accuracy_mean"]
    assert "n.s." not in rows["pope/strict_f1_mean"]
    assert 'title="no verdict: the value is undefined for these runs"' in rows["pope/strict_f1_mean"]


def test_index_shows_the_spread_across_builds_beside_the_one_build(tmp_path):
    import re

    from workbench.report.index import write_index

    metrics = {"recipe/dish_accuracy": {"a": 0.07, "b": 0.805, "delta": 0.735, "ci": [0.66, 0.8], "p": 0.0002,
                                        "verdict": "better", "n": 200, "better": "higher"},
               "recipe/failure_rate": {"a": 0.0, "b": 0.0, "delta": 0.0, "ci": [0.0, 0.0], "p": 1.0,
                                       "verdict": "n.s.", "n": 200, "better": "lower"},
               "recipe/ingredient_f1": {"a": None, "b": None, "delta": None, "ci": None, "p": None, "verdict": "n/a",
                                        "n": 200, "better": "higher", "undefined": "no <reference> ingredients"}}
    compare = {"eval_set": {"n_items": 200, "manifest_sha256": "cd" * 32},
               "comparisons": [{"baseline": "s1", "other": "s2", "metrics": metrics}]}
    report = tmp_path / "synth-recipes.html"
    report.write_text("<html></html>")
    (tmp_path / "synth-recipes.compare.json").write_text(json.dumps(compare))
    spread = {("synth-recipes", "recipe/dish_accuracy"): {
                  "delta": {"median": 0.69, "min": 0.685, "max": 0.735, "n": 4}, "n_seeds": 5, "n_better": 3,
                  "n_worse": 1, "n_changed": 0},
              ("synth-recipes", "recipe/ingredient_f1"): {
                  "delta": {"median": None, "min": None, "max": None, "n": 0}, "n_seeds": 5, "n_better": 0,
                  "n_worse": 0, "n_changed": 0},
              ("synth-plants", "recipe/failure_rate"): {   # another eval set's entry: not shown here
                  "delta": {"median": 0.5, "min": 0.5, "max": 0.5, "n": 5}, "n_seeds": 5, "n_better": 0,
                  "n_worse": 0, "n_changed": 0}}
    out = write_index(tmp_path / "index.html", {"synth-recipes": report}, [], models=["s1", "s2"], seconds=1.0,
                      settings={}, spread=spread, spread_source="models/tiny/seed_spread.json")
    html = out.read_text()
    rows = {m.group(1): m.group(2) for m in re.finditer(r"<tr><td>(recipe/\w+) .*?</td>(.*?)</tr>", html, re.S)}
    last_cell = {k: re.findall(r'<td class="num">(.*?)</td>', v, re.S)[-1] for k, v in rows.items()}
    assert last_cell["recipe/dish_accuracy"] == ('+0.690 [+0.685, +0.735]<br><span class="muted small">better on 3 of 5 '
                                                 '(worse on 1); undefined on 1</span>')
    assert last_cell["recipe/failure_rate"] == "&mdash;"
    assert last_cell["recipe/ingredient_f1"] == '<span class="muted small">undefined on every build</span>'
    assert 'title="no verdict: no &lt;reference&gt; ingredients"' in rows["recipe/ingredient_f1"]   # escaped
    assert "for 5 builds of the embedded" in html and "<code>models/tiny/seed_spread.json</code>" in html
    plain = write_index(tmp_path / "plain.html", {"synth-recipes": report}, [], models=["s1", "s2"], seconds=1.0,
                        settings={}).read_text()
    assert "across builds" not in plain and "Across builds" not in plain


def test_load_compare_reads_utf8_whatever_the_locale(tmp_path):
    import locale

    es, runs = SimpleNamespace(manifest_sha256="s"), [SimpleNamespace(name="a"), SimpleNamespace(name="b")]
    path = tmp_path / "compare.json"
    path.write_bytes(json.dumps(dict(_cmp(), note="caf\u00e9"), ensure_ascii=False).encode("utf-8"))
    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C")   # an ASCII locale, as under LANG=C
        assert _load_compare(path, es, runs)["note"] == "caf\u00e9"
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)


def test_length_histograms_put_the_legend_on_the_first_panel_with_outputs():
    import warnings

    import matplotlib.pyplot as plt

    from workbench.report import plots as real_plots

    drawn = []
    real_close = plt.close
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as mp:
        warnings.simplefilter("error")   # matplotlib warns when legend() finds no labelled artist
        mp.setattr(real_plots.plt, "close", lambda fig=None: (drawn.append(fig), real_close(fig)))
        uri = real_plots.length_histograms(["a", "b"], ["caption", "recipe"],
                                           {"caption": [[], []], "recipe": [[5, 7], [6]]})
    assert uri.startswith("data:image/")
    fig = next(f for f in drawn if f is not None)
    caption, recipe = fig.axes[:2]
    assert caption.get_legend() is None and [t.get_text() for t in caption.texts] == ["no outputs"]
    assert [t.get_text() for t in recipe.get_legend().get_texts()] == ["a", "b"]

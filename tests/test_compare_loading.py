"""Loading scored runs for compare and report (``workbench.compare.loading``), and ``compare_runs`` /
``write_compare`` / ``_scorer_stat`` (issue 20).

Fast: eval sets are four tiny recipe items, scores.json files are written by hand (expected values worked out
below, not by the scorers), and where a run must be rescored the scorer is replaced by a stand-in that records
its call and writes hand-made scores. Modification times are set explicitly, never waited for.
"""

from __future__ import annotations

import hashlib
import json
import locale
import os
from pathlib import Path

import numpy as np
import pytest

import workbench.scoring
from test_report_fixtures import make_eval_set, make_run
from workbench.compare import compare_runs, load_scored_runs, write_compare
from workbench.compare.loading import _check_scores, _load_eval_set, _read_scores, _run_names, _scores_are_current
from workbench.compare.statistics import _scorer_stat
from workbench.errors import WorkbenchError
from workbench.evalsets import load_eval_set
from workbench.run_record import RunRecord

IDS = ["recipe-0", "recipe-1", "recipe-2", "recipe-3"]
OLD, NEW = 1_000_000_000, 1_000_000_500   # modification times (s): predictions written before their scores

# Per-item recipe metrics of two runs and their aggregates, worked out by hand:
#   A: dish [1, 0, 0, 1] -> 0.5; ingredient tp [1, 2, 0, 3] of predicted [2, 2, 1, 3] -> precision 6/8 = 0.75,
#      of 3 reference ingredients each -> recall 6/12 = 0.5, F1 2 * 0.75 * 0.5 / 1.25 = 0.6;
#      steps [1, 1, 0, 1] -> 0.75; failure [0, 0, 1, 0] -> 0.25
#   B: everything right: 1, 1, 1, 1, 1 and failure 0
RUN_A = {"dish_accuracy": [1, 0, 0, 1], "ingredient_tp": [1, 2, 0, 3], "n_ingredients_pred": [2, 2, 1, 3],
         "steps_present": [1, 1, 0, 1], "failure": [0, 0, 1, 0]}
AGG_A = {"recipe/dish_accuracy": 0.5, "recipe/ingredient_precision": 0.75, "recipe/ingredient_recall": 0.5,
         "recipe/ingredient_f1": 0.6, "recipe/steps_present": 0.75, "recipe/failure_rate": 0.25}
RUN_B = {"dish_accuracy": [1, 1, 1, 1], "ingredient_tp": [3, 3, 3, 3], "n_ingredients_pred": [3, 3, 3, 3],
         "steps_present": [1, 1, 1, 1], "failure": [0, 0, 0, 0]}
AGG_B = {"recipe/dish_accuracy": 1.0, "recipe/ingredient_precision": 1.0, "recipe/ingredient_recall": 1.0,
         "recipe/ingredient_f1": 1.0, "recipe/steps_present": 1.0, "recipe/failure_rate": 0.0}


def _items(columns: dict, ids=IDS) -> list[dict]:
    out = []
    for k, item_id in enumerate(ids):
        metrics = {name: values[k % len(values)] for name, values in columns.items()}
        metrics["n_ingredients_ref"] = 3
        out.append({"id": item_id, "task": "recipe", "metrics": metrics})
    return out


def _scores(sha: str | None, columns=RUN_A, aggregate=AGG_A, ids=IDS) -> dict:
    data = {"aggregate": dict(aggregate), "items": _items(columns, ids), "undefined": {}}
    if sha is not None:
        data["eval_set"] = {"name": "es", "manifest_sha256": sha}
    return data


def _sha(es_dir: Path) -> str:
    return hashlib.sha256((es_dir / "manifest.jsonl").read_bytes()).hexdigest()


def _eval_set(tmp_path: Path) -> Path:
    return make_eval_set(tmp_path / "es", n_caption=0, n_recipe=4, n_diagnosis=0)


def _run(root: Path, name: str, es_dir: Path, scores: dict | str | None = None, sha: str | None = None,
         limit: int | None = None, fresh: bool = True) -> Path:
    """A run folder (run.json + predictions.jsonl) with ``scores`` (dict or raw text) as scores.json, written
    after the predictions (``fresh``) or before them."""
    run = make_run(root, name, es_dir, {i: f"answer {i}" for i in IDS}, sha=sha, scores=False)
    if limit is not None:
        record = RunRecord.load(run)
        record.limit = limit
        record.save()
    os.utime(run / "predictions.jsonl", (OLD, OLD))
    if scores is not None:
        text = scores if isinstance(scores, str) else json.dumps(scores)
        (run / "scores.json").write_text(text, encoding="utf-8")
        os.utime(run / "scores.json", (NEW, NEW) if fresh else (OLD - 1, OLD - 1))
    return run


@pytest.fixture
def rescorer(monkeypatch):
    """Stands in for ``workbench.scoring.score_run``: records (run folder, eval set, record) and writes
    ``writes(es)`` (default: run A's scores on the eval set's items) as scores.json."""
    calls = []

    def fake(run_dir, es, record=None):
        calls.append((Path(run_dir), es, record))
        data = fake.writes(es)
        (Path(run_dir) / "scores.json").write_text(json.dumps(data), encoding="utf-8")
        return data

    fake.writes = lambda es: _scores(es.manifest_sha256, ids=[item.id for item in es.items])
    fake.calls = calls
    monkeypatch.setattr(workbench.scoring, "score_run", fake)
    return fake


# ---------------------------------------------------------------- reading scores.json

def test_read_scores_returns_the_object(tmp_path):
    path = tmp_path / "scores.json"
    path.write_text('{"aggregate": {"recipe/dish_accuracy": 0.5}, "items": [], "note": "caf\u00e9"}',
                    encoding="utf-8")
    assert _read_scores(path) == {"aggregate": {"recipe/dish_accuracy": 0.5}, "items": [], "note": "caf\u00e9"}


def test_read_scores_reads_utf8_whatever_the_locale(tmp_path):
    path = tmp_path / "scores.json"
    path.write_bytes('{"aggregate": {}, "items": [], "note": "caf\u00e9"}'.encode("utf-8"))
    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C")   # an ASCII locale, as under LANG=C
        data = _read_scores(path)
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)
    assert data["note"] == "caf\u00e9"


def test_read_scores_names_the_file_and_line_of_invalid_json(tmp_path):
    path = tmp_path / "scores.json"
    path.write_text('{"aggregate": {},\n "items": [}\n', encoding="utf-8")   # line 2: a value is missing
    with pytest.raises(WorkbenchError) as err:
        _read_scores(path)
    assert str(err.value) == f"{path}:2: invalid JSON (Expecting value); delete it and rerun to rescore"


def test_read_scores_refuses_json_that_is_not_an_object(tmp_path):
    path = tmp_path / "scores.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(WorkbenchError) as err:
        _read_scores(path)
    assert str(err.value) == f"{path}: expected a JSON object; delete it and rerun to rescore"


# ---------------------------------------------------------------- checking scores against the eval set

def test_check_scores_accepts_scores_of_exactly_the_eval_sets_items(tmp_path):
    es = load_eval_set(_eval_set(tmp_path))
    assert _check_scores(_scores(None), tmp_path / "scores.json", es) is None


@pytest.mark.parametrize("broken", [
    {"items": []},                                   # no aggregate
    {"aggregate": [], "items": []},                  # aggregate not an object
    {"aggregate": {}},                               # no items
    {"aggregate": {}, "items": {"recipe-0": {}}},    # items not a list
])
def test_check_scores_needs_an_aggregate_object_and_an_items_list(tmp_path, broken):
    es = load_eval_set(_eval_set(tmp_path))
    path = tmp_path / "run" / "scores.json"
    with pytest.raises(WorkbenchError) as err:
        _check_scores(broken, path, es)
    assert str(err.value) == f"{path}: needs 'aggregate' and 'items'; delete it and rerun to rescore"


def test_check_scores_names_at_most_three_missing_and_three_unknown_ids(tmp_path):
    es_dir = make_eval_set(tmp_path / "es", n_caption=0, n_recipe=6, n_diagnosis=0)
    es = load_eval_set(es_dir)
    path = tmp_path / "scores.json"
    # recipe-0 scored; recipe-1..5 missing (five: the first three sorted are named); four unknown ids
    scores = {"aggregate": {}, "items": [{"id": i} for i in ["recipe-0", "x-3", "x-1", "x-4", "x-2"]]}
    with pytest.raises(WorkbenchError) as err:
        _check_scores(scores, path, es)
    assert str(err.value) == (
        f"{path}: scored items do not match {es_dir} (missing ['recipe-1', 'recipe-2', 'recipe-3'], unknown "
        "['x-1', 'x-2', 'x-3']); delete scores.json and rerun to rescore against this eval set")


def test_check_scores_refuses_a_subset_of_the_items(tmp_path):
    es_dir = _eval_set(tmp_path)
    es = load_eval_set(es_dir)
    with pytest.raises(WorkbenchError) as err:
        _check_scores(_scores(None, ids=IDS[:3]), tmp_path / "scores.json", es)
    assert "(missing ['recipe-3'], unknown []);" in str(err.value)


# ---------------------------------------------------------------- eval set argument

def test_an_eval_set_object_is_used_as_it_is_and_a_path_is_loaded(tmp_path):
    es_dir = _eval_set(tmp_path)
    es = load_eval_set(es_dir)
    assert _load_eval_set(es) is es
    loaded = _load_eval_set(str(es_dir))
    assert loaded.manifest_sha256 == _sha(es_dir) and [item.id for item in loaded.items] == IDS


class _PathWith(os.PathLike):
    """A path that also has some of an eval set's attributes: still a path."""

    def __init__(self, path, **attributes):
        self.path = str(path)
        self.__dict__.update(attributes)

    def __fspath__(self):
        return self.path


@pytest.mark.parametrize("attributes", [{"items": []}, {"manifest_sha256": "0" * 64}])
def test_only_an_object_with_items_and_a_manifest_hash_counts_as_a_loaded_eval_set(tmp_path, attributes):
    es_dir = _eval_set(tmp_path)
    loaded = _load_eval_set(_PathWith(es_dir, **attributes))
    assert [item.id for item in loaded.items] == IDS and loaded.manifest_sha256 == _sha(es_dir)


# ---------------------------------------------------------------- run names

def test_run_names_are_the_folder_names_when_they_differ(tmp_path):
    assert _run_names([tmp_path / "runs" / "stage1", tmp_path / "runs" / "stage2"]) == ["stage1", "stage2"]


def test_run_names_add_the_parent_when_folder_names_clash(tmp_path):
    paths = [tmp_path / "seed1" / "run", tmp_path / "seed2" / "run", tmp_path / "seed3" / "other"]
    assert _run_names(paths) == ["seed1/run", "seed2/run", "seed3/other"]


def test_run_names_number_the_runs_when_parent_and_name_clash(tmp_path):
    paths = [tmp_path / "a" / "x" / "run", tmp_path / "b" / "x" / "run", tmp_path / "c" / "y"]
    assert _run_names(paths) == ["x/run #1", "x/run #2", "c/y #3"]


def test_run_names_come_from_the_resolved_folder(tmp_path, monkeypatch):
    for parent in ("seed1", "seed2"):
        (tmp_path / parent / "run").mkdir(parents=True)
    (tmp_path / "first").mkdir()
    monkeypatch.chdir(tmp_path / "seed1" / "run")
    assert _run_names([Path("."), Path("../../first")]) == ["run", "first"]
    assert _run_names([Path("."), Path("../../seed2/run")]) == ["seed1/run", "seed2/run"]


# ---------------------------------------------------------------- are the scores current?

def _touch(path: Path, mtime: int) -> None:
    path.write_text("{}\n", encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_scores_are_current_when_not_older_than_every_predictions_file(tmp_path):
    _touch(tmp_path / "predictions.jsonl", OLD)
    _touch(tmp_path / "predictions.part-1.jsonl", OLD - 50)
    _touch(tmp_path / "scores.json", NEW)
    assert _scores_are_current(tmp_path) is True
    os.utime(tmp_path / "scores.json", (OLD, OLD))            # as new as the newest predictions: current
    assert _scores_are_current(tmp_path) is True


def test_scores_are_stale_when_any_predictions_file_is_newer(tmp_path):
    _touch(tmp_path / "predictions.jsonl", OLD)
    _touch(tmp_path / "scores.json", OLD - 1)
    assert _scores_are_current(tmp_path) is False
    os.utime(tmp_path / "scores.json", (NEW, NEW))
    _touch(tmp_path / "predictions.part-0.jsonl", NEW + 1)   # a shard appended after scoring
    assert _scores_are_current(tmp_path) is False


def test_missing_scores_are_not_current(tmp_path):
    assert _scores_are_current(tmp_path) is False                 # nothing at all
    _touch(tmp_path / "predictions.jsonl", OLD)
    assert _scores_are_current(tmp_path) is False
    (tmp_path / "scores.json").mkdir()                            # a folder is not a scores file
    assert _scores_are_current(tmp_path) is False


# ---------------------------------------------------------------- load_scored_runs: what it refuses

def test_needs_two_runs_unless_told_otherwise(tmp_path):
    es_dir = _eval_set(tmp_path)
    a = _run(tmp_path / "runs", "a", es_dir, _scores(_sha(es_dir)))
    with pytest.raises(WorkbenchError) as err:
        load_scored_runs([a], es_dir)
    assert str(err.value) == "needs at least two run folders (a baseline and one other), got 1"
    assert err.value.exit_code == 2   # a usage error: nothing was run
    with pytest.raises(WorkbenchError, match=r"^\S*nope: not a run folder"):   # the mistyped folder, not the count
        load_scored_runs([tmp_path / "nope"], es_dir)
    es, runs = load_scored_runs([a], es_dir, minimum=1)
    assert [run.name for run in runs] == ["a"]
    with pytest.raises(WorkbenchError) as err:
        load_scored_runs([], es_dir, minimum=1)
    assert str(err.value) == "needs at least 1 run folder, got 0"
    with pytest.raises(WorkbenchError) as err:
        load_scored_runs([a], es_dir, minimum=3)
    assert str(err.value) == "needs at least 3 run folders, got 1"
    es, runs = load_scored_runs([], es_dir, minimum=0)
    assert runs == [] and [item.id for item in es.items] == IDS


@pytest.mark.parametrize("what", ["missing", "file"])
def test_refuses_a_path_that_is_not_a_folder(tmp_path, what):
    es_dir = _eval_set(tmp_path)
    a = _run(tmp_path / "runs", "a", es_dir, _scores(_sha(es_dir)))
    other = tmp_path / "runs" / "b"
    if what == "file":
        other.write_text("not a run\n", encoding="utf-8")
    with pytest.raises(WorkbenchError) as err:
        load_scored_runs([a, other], es_dir)
    assert str(err.value) == f"{other}: not a run folder; pass folders made by `workbench generate`"


@pytest.mark.parametrize("limits, shown", [((None, 3), "all, 3"), ((10, 3), "3, 10"), ((2, None, 3), "all, 2, 3"),
                                           ((1, None), "all, 1")])
def test_refuses_runs_made_with_different_limits(tmp_path, limits, shown):
    es_dir = _eval_set(tmp_path)
    runs = [_run(tmp_path / "runs", f"r{k}", es_dir, limit=limit) for k, limit in enumerate(limits)]
    with pytest.raises(WorkbenchError) as err:
        load_scored_runs(runs, es_dir)
    assert str(err.value) == (f"the runs cover different items (--limit {shown}); compare runs made with the same "
                              "--limit, or resume the shorter ones with the larger limit")


def test_refuses_a_run_made_on_another_manifest(tmp_path):
    es_dir = _eval_set(tmp_path)
    sha = _sha(es_dir)
    a = _run(tmp_path / "runs", "a", es_dir, _scores(sha))
    b = _run(tmp_path / "runs", "b", es_dir, _scores(sha), sha="f" * 64)
    with pytest.raises(WorkbenchError) as err:
        load_scored_runs([a, b], str(es_dir))
    assert str(err.value) == (
        f"{b}/run.json: run was made on an eval set with manifest sha256 ffffffffffff..., "
        f"but {es_dir}/manifest.jsonl has sha256 {sha[:12]}...; compare only runs made on the same eval set "
        f"(give the --eval-set the run was made on, or regenerate this run on {es_dir})")


def test_current_but_invalid_scores_are_refused_not_overwritten(tmp_path, rescorer):
    es_dir = _eval_set(tmp_path)
    a = _run(tmp_path / "runs", "a", es_dir, _scores(_sha(es_dir)))
    b = _run(tmp_path / "runs", "b", es_dir, "[]")
    with pytest.raises(WorkbenchError) as err:
        load_scored_runs([a, b], es_dir)
    assert str(err.value) == f"{b}/scores.json: expected a JSON object; delete it and rerun to rescore"
    assert rescorer.calls == [] and (b / "scores.json").read_text(encoding="utf-8") == "[]"


def test_current_scores_without_an_aggregate_are_refused(tmp_path, rescorer):
    es_dir = _eval_set(tmp_path)
    broken = _scores(_sha(es_dir))
    del broken["aggregate"]
    a = _run(tmp_path / "runs", "a", es_dir, _scores(_sha(es_dir)))
    b = _run(tmp_path / "runs", "b", es_dir, broken)
    with pytest.raises(WorkbenchError) as err:
        load_scored_runs([a, b], es_dir)
    assert str(err.value) == f"{b}/scores.json: needs 'aggregate' and 'items'; delete it and rerun to rescore"
    assert rescorer.calls == []


def test_scores_written_by_the_scorer_are_checked_too(tmp_path, rescorer):
    es_dir = _eval_set(tmp_path)
    a = _run(tmp_path / "runs", "a", es_dir, _scores(_sha(es_dir)))
    b = _run(tmp_path / "runs", "b", es_dir)                              # unscored
    rescorer.writes = lambda es: _scores(es.manifest_sha256, ids=IDS[1:])  # a scorer that lost an item
    with pytest.raises(WorkbenchError) as err:
        load_scored_runs([a, b], es_dir)
    assert str(err.value) == (f"{b}/scores.json: scored items do not match {es_dir} (missing ['recipe-0'], "
                              "unknown []); delete scores.json and rerun to rescore against this eval set")
    assert [call[0] for call in rescorer.calls] == [b]


# ---------------------------------------------------------------- load_scored_runs: what it loads

def test_loads_current_scores_as_they_are(tmp_path, rescorer):
    es_dir = _eval_set(tmp_path)
    es_obj = load_eval_set(es_dir)
    sa, sb = _scores(_sha(es_dir)), _scores(_sha(es_dir), RUN_B, AGG_B)
    a = _run(tmp_path / "runs", "stage1", es_dir, sa)
    b = _run(tmp_path / "runs", "stage2", es_dir, sb)
    es, runs = load_scored_runs([a, b], es_obj)
    assert es is es_obj and rescorer.calls == []
    assert [(r.name, r.path, r.scores) for r in runs] == [("stage1", a, sa), ("stage2", b, sb)]
    assert runs[0].record.model["spec"] == "tiny-stage1" and runs[1].record.model["spec"] == "tiny-stage2"
    assert runs[1].predictions["recipe-2"]["output"] == "answer recipe-2"
    assert sorted(runs[0].predictions) == IDS


@pytest.mark.parametrize("eval_set_field", [None, {}, {"name": "es"}])
def test_scores_that_do_not_say_their_manifest_count_as_made_on_this_one(tmp_path, rescorer, eval_set_field):
    es_dir = _eval_set(tmp_path)
    scores = _scores(None)
    if eval_set_field is not None:
        scores["eval_set"] = eval_set_field
    a = _run(tmp_path / "runs", "a", es_dir, scores)
    b = _run(tmp_path / "runs", "b", es_dir, scores)
    _, runs = load_scored_runs([a, b], es_dir)
    assert rescorer.calls == [] and runs[0].scores == scores


def test_unscored_and_stale_runs_are_scored_with_their_record(tmp_path, rescorer):
    es_dir = _eval_set(tmp_path)
    sha = _sha(es_dir)
    a = _run(tmp_path / "runs", "a", es_dir)                                          # no scores.json
    b = _run(tmp_path / "runs", "b", es_dir, _scores(sha, RUN_B, AGG_B), fresh=False)  # older than predictions
    c = _run(tmp_path / "runs", "c", es_dir, _scores(sha, RUN_B, AGG_B))               # current: kept
    es, runs = load_scored_runs([a, b, c], es_dir)
    assert [(call[0], call[1], call[2]) for call in rescorer.calls] == [(a, es, runs[0].record),
                                                                         (b, es, runs[1].record)]
    assert [r.scores["aggregate"] for r in runs] == [AGG_A, AGG_A, AGG_B]
    assert json.loads((b / "scores.json").read_text(encoding="utf-8"))["aggregate"] == AGG_A


def test_scores_made_on_another_manifest_are_redone(tmp_path, rescorer):
    es_dir = _eval_set(tmp_path)
    sha = _sha(es_dir)
    a = _run(tmp_path / "runs", "a", es_dir, _scores(sha, RUN_B, AGG_B))
    b = _run(tmp_path / "runs", "b", es_dir, _scores("e" * 64, RUN_B, AGG_B))
    _, runs = load_scored_runs([a, b], es_dir)
    assert [call[0] for call in rescorer.calls] == [b]
    assert runs[1].scores["eval_set"]["manifest_sha256"] == sha and runs[1].scores["aggregate"] == AGG_A


def test_scores_of_other_items_are_redone_on_the_runs_limit(tmp_path, rescorer):
    es_dir = _eval_set(tmp_path)
    sha = _sha(es_dir)
    # made with --limit 2: scores of all four items (e.g. scored before the limit was known) are redone
    a = _run(tmp_path / "runs", "a", es_dir, _scores(sha, ids=IDS[:2]), limit=2)
    b = _run(tmp_path / "runs", "b", es_dir, _scores(sha), limit=2)
    es, runs = load_scored_runs([a, b], es_dir)
    assert [item.id for item in es.items] == IDS[:2] and es.manifest_sha256 == sha
    assert [call[0] for call in rescorer.calls] == [b]
    assert [it["id"] for it in runs[1].scores["items"]] == IDS[:2]
    assert [[item.id for item in call[1].items] for call in rescorer.calls] == [IDS[:2]]


def test_runs_with_the_same_folder_name_are_told_apart(tmp_path):
    es_dir = _eval_set(tmp_path)
    a = _run(tmp_path / "seed1", "run", es_dir, _scores(_sha(es_dir)))
    b = _run(tmp_path / "seed2", "run", es_dir, _scores(_sha(es_dir)))
    _, runs = load_scored_runs([a, b], es_dir)
    assert [r.name for r in runs] == ["seed1/run", "seed2/run"]


# ---------------------------------------------------------------- compare_runs, write_compare, _scorer_stat

def _two_runs(tmp_path):
    es_dir = _eval_set(tmp_path)
    a = _run(tmp_path / "runs", "a", es_dir, _scores(_sha(es_dir)))
    b = _run(tmp_path / "runs", "b", es_dir, _scores(_sha(es_dir), RUN_B, AGG_B))
    return es_dir, a, b


def test_compare_runs_defaults(tmp_path, capsys):
    es_dir, a, b = _two_runs(tmp_path)
    result = compare_runs([a, b], str(es_dir))
    assert result["baseline"] == "a" and [r["name"] for r in result["runs"]] == ["a", "b"]
    assert (result["method"]["n_resamples"], result["method"]["seed"]) == (10000, 0)
    assert result["eval_set"]["manifest_sha256"] == _sha(es_dir) and result["eval_set"]["n_items"] == 4
    [comp] = result["comparisons"]
    m = comp["metrics"]
    assert sorted(m) == sorted(AGG_A)
    dish, precision = m["recipe/dish_accuracy"], m["recipe/ingredient_precision"]
    assert (dish["a"], dish["b"], dish["delta"], dish["resampling"]) == (0.5, 1.0, 0.5, "mean")
    # the scorers' aggregate: precision is a ratio of sums (6/8), resampled through it
    assert (precision["a"], precision["b"], precision["delta"], precision["resampling"]) == (0.75, 1.0, 0.25,
                                                                                             "aggregate")
    assert "recipe: resampling corpus-level metrics" in capsys.readouterr().err   # progress shown by default


def test_compare_runs_passes_every_option_on(tmp_path, capsys):
    es_dir, a, b = _two_runs(tmp_path)
    calls = []

    def aggregate(task, items):   # dish accuracy as a mean, ingredient precision as a ratio of sums
        calls.append(len(items))
        m = [it["metrics"] for it in items]
        return {"recipe/dish_accuracy": sum(x["dish_accuracy"] for x in m) / len(m),
                "recipe/ingredient_precision": sum(x["ingredient_tp"] for x in m) / sum(
                    x["n_ingredients_pred"] for x in m)}

    result = compare_runs([a, b], es_dir, baseline=1, n_resamples=300, seed=7, aggregate=aggregate,
                          show_progress=False)
    assert result["baseline"] == "b" and (result["method"]["n_resamples"], result["method"]["seed"]) == (300, 7)
    [comp] = result["comparisons"]
    assert (comp["baseline"], comp["other"]) == ("b", "a")
    m = comp["metrics"]
    assert (m["recipe/dish_accuracy"]["delta"], m["recipe/dish_accuracy"]["resampling"]) == (-0.5, "mean")
    assert (m["recipe/ingredient_precision"]["delta"], m["recipe/ingredient_precision"]["resampling"]) == (
        -0.25, "aggregate")
    # keys this aggregate does not give have no per-item basis here (the scorers' would resample them)
    assert m["recipe/steps_present"]["resampling"] == "none" and m["recipe/steps_present"]["ci"] is None
    assert calls and 4 in calls
    assert capsys.readouterr().err == ""


def test_write_compare_writes_the_result_as_json(tmp_path):
    result = {"schema": "workbench.compare/1", "baseline": "caf\u00e9", "comparisons": [{"p": 0.5}]}
    path = tmp_path / "out" / "compare.json"
    assert write_compare(result, path) == path
    assert json.loads(path.read_text(encoding="utf-8")) == result


def test_scorer_stat_is_the_scorers_vectorised_aggregate():
    items = _items(RUN_A)
    stat = _scorer_stat("recipe", items)
    out = stat(np.array([[0, 0, 1, 3], [2, 2, 2, 2]]))
    # row 1: tp 1 + 1 + 2 + 3 = 7 of 2 + 2 + 2 + 3 = 9 predicted; dish 1, 1, 0, 1 -> 0.75
    # row 2: item 2 four times: tp 0 of 1 predicted each -> 0; dish 0
    assert out["recipe/ingredient_precision"] == pytest.approx([7 / 9, 0.0])
    assert out["recipe/dish_accuracy"] == pytest.approx([0.75, 0.0])
    assert out["recipe/ingredient_recall"] == pytest.approx([7 / 12, 0.0])

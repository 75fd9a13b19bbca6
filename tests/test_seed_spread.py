"""The seed-spread record: per-seed values come from the comparisons, the summary's medians/ranges and CI counts
are right by hand, and --rescore recomputes the record from the kept run folders."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import train_stub_world as stub_world  # noqa: E402

from workbench.cli import main as cli  # noqa: E402
from workbench.errors import WorkbenchError  # noqa: E402
from workbench.tiny.diagnostics.seed_spread import (  # noqa: E402
    build_seed, card_section, holding, read_spread, record_spread, spread_by_row, spread_markdown, summarize)

EVAL_SETS = Path(__file__).resolve().parents[1] / "eval_sets"


def _entry(a, b, ci, better="higher", verdict="better"):
    return {"a": a, "b": b, "delta": None if a is None or b is None else b - a, "ci": ci, "p": 0.0,
            "verdict": verdict, "better": better}


def _seed_folder(work: Path, seed: int, metrics: dict, machine: dict | None = None) -> None:
    runs = work / f"seed{seed}" / "runs"
    runs.mkdir(parents=True)
    (runs / "synth-captions-compare.json").write_text(json.dumps({"comparisons": [{"metrics": metrics}]}))
    (work / f"seed{seed}" / "machine.json").write_text(json.dumps(machine or {"cpu": "test cpu", "threads": 1}))


def test_summary_gives_median_range_and_ci_counts_by_hand(tmp_path):
    # chair_i: lower is better. Seed 0 CI excludes 0 below (better), seed 1 includes 0, seed 2 excludes 0 above
    # (worse). Object recall: higher is better, CI excludes 0 on seeds 0 and 2.
    _seed_folder(tmp_path, 0, {"caption/chair_i": _entry(0.75, 0.60, [-0.22, -0.08], "lower"),
                               "caption/object_recall": _entry(0.14, 0.34, [0.14, 0.25])})
    _seed_folder(tmp_path, 1, {"caption/chair_i": _entry(0.69, 0.70, [-0.09, 0.11], "lower", "n.s."),
                               "caption/object_recall": _entry(0.07, 0.26, [-0.01, 0.30], verdict="n.s.")})
    _seed_folder(tmp_path, 2, {"caption/chair_i": _entry(0.50, 0.65, [0.05, 0.25], "lower", "worse"),
                               "caption/object_recall": _entry(0.10, 0.40, [0.20, 0.40])})
    result = record_spread(tmp_path, [0, 1, 2], tmp_path / "spread.json")
    chair = result["summary"]["caption/chair_i"]
    assert chair["stage1"]["median"] == 0.69 and chair["stage1"]["min"] == 0.50 and chair["stage1"]["max"] == 0.75
    assert chair["stage2"]["median"] == 0.65 and chair["stage2"]["min"] == 0.60 and chair["stage2"]["max"] == 0.70
    assert (chair["n_seeds"], chair["n_better"], chair["n_worse"]) == (3, 1, 1)
    recall = result["summary"]["caption/object_recall"]
    assert (recall["n_better"], recall["n_worse"]) == (2, 0)
    assert recall["delta"]["median"] == pytest.approx(0.20) and recall["delta"]["max"] == pytest.approx(0.30)
    assert result["seeds"]["1"]["metrics"]["caption/chair_i"] == {
        "stage1": 0.69, "stage2": 0.70, "delta": pytest.approx(0.01), "ci": [-0.09, 0.11], "p": 0.0,
        "verdict": "n.s.", "ci_excludes_0": "no", "eval_set": "synth-captions"}
    assert json.loads((tmp_path / "spread.json").read_text())["seeds"]["2"]["machine"]["cpu"] == "test cpu"
    table = spread_markdown(result)
    assert "| caption/chair_i | 0.690 [0.500, 0.750] | 0.650 [0.600, 0.700] |" in table
    assert "| 1 of 3 (worse on 1) |" in table


def test_spread_by_row_keys_each_summary_entry_by_its_eval_set(tmp_path):
    _seed_folder(tmp_path, 0, {"caption/object_recall": _entry(0.14, 0.34, [0.14, 0.25])})
    _seed_folder(tmp_path, 1, {"caption/object_recall": _entry(0.07, 0.26, [-0.01, 0.30], verdict="n.s.")})
    record_spread(tmp_path, [0, 1], tmp_path / "spread.json")
    rows = spread_by_row(read_spread(tmp_path / "spread.json"))
    assert list(rows) == [("synth-captions", "caption/object_recall")]
    entry = rows[("synth-captions", "caption/object_recall")]
    assert (entry["n_seeds"], entry["n_better"], entry["n_worse"]) == (2, 1, 0)
    assert entry["delta"]["min"] == pytest.approx(0.19) and entry["delta"]["max"] == pytest.approx(0.20)


def test_an_unreadable_record_is_refused_with_the_file_and_the_fix(tmp_path):
    torn = tmp_path / "seed_spread.json"
    torn.write_text('{"seeds": {}, \n"summary": ')
    with pytest.raises(WorkbenchError) as err:
        read_spread(torn)
    fix = (f"restore the shipped record with `git checkout -- {torn}`, or write it again with `workbench seed-spread "
           "--seeds ... --work <folder of the seed builds>`")
    assert str(err.value).startswith(f"{torn}:2: not JSON (") and str(err.value).endswith(fix)
    torn.write_text('{"seeds": {}}')
    with pytest.raises(WorkbenchError) as err:
        read_spread(torn)
    assert str(err.value) == f"{torn}: not a seed-spread record (no summary); {fix}"
    torn.write_text('{"seeds": {"0": {"machine": {}}}, "summary": {}}')
    with pytest.raises(WorkbenchError) as err:
        read_spread(torn)
    assert str(err.value) == f"{torn}: seed 0 has no metrics; {fix}"
    torn.write_bytes(b'{"seeds": "\xff"}')
    with pytest.raises(WorkbenchError) as err:
        read_spread(torn)
    assert str(err.value).startswith(f"{torn}: cannot read it (UnicodeDecodeError: ") and str(err.value).endswith(fix)
    assert torn.read_bytes() == b'{"seeds": "\xff"}'   # nothing is rewritten


def test_the_demo_index_gets_the_shipped_spread_only_for_the_embedded_stages():
    from workbench.pipeline import embedded_spread

    shipped = Path(__file__).resolve().parents[1] / "models" / "tiny" / "seed_spread.json"
    rows, source = embedded_spread(["tiny-stage1", "tiny-stage2"])
    assert source == "models/tiny/seed_spread.json"
    assert rows == spread_by_row(json.loads(shipped.read_text()))
    assert rows[("synth-recipes", "recipe/dish_accuracy")]["n_seeds"] >= 2
    assert embedded_spread(["tiny-stage2", "tiny-stage1"]) == (None, "")    # another baseline: another comparison
    assert embedded_spread(["tiny-stage1", "my-card.json"]) == (None, "")


def test_a_null_value_is_left_out_of_the_statistics_and_said_so():
    seeds = {"0": {"metrics": {"caption/chair_i": {"stage1": None, "stage2": 0.5, "delta": None,
                                                    "ci_excludes_0": "no", "verdict": "n/a"}}}}
    s = summarize(seeds)["caption/chair_i"]
    assert s["stage1"]["median"] is None and "undefined" in s["stage1"]["reason"]
    assert s["stage2"] == {"median": 0.5, "min": 0.5, "max": 0.5, "n": 1}


def test_a_seed_without_comparisons_is_refused_with_the_folder_named(tmp_path):
    with pytest.raises(WorkbenchError, match="seed3"):
        record_spread(tmp_path, [3], tmp_path / "spread.json")


def test_micro_seed_build_records_and_rescores_from_kept_runs(tmp_path):
    evals = tmp_path / "evals"
    evals.mkdir()
    (evals / "synth-recipes").symlink_to(EVAL_SETS / "synth-recipes")
    folder = build_seed(tmp_path / "work", 0, evals, scale="micro", world=stub_world, limit=4)
    assert json.loads((folder / "machine.json").read_text())["threads"] == 1
    out = tmp_path / "spread.json"
    first = record_spread(tmp_path / "work", [0], out)
    compare = json.loads((folder / "runs" / "synth-recipes-compare.json").read_text())["comparisons"][0]["metrics"]
    rec = first["seeds"]["0"]["metrics"]["recipe/dish_accuracy"]
    dish = compare["recipe/dish_accuracy"]
    assert (rec["stage1"], rec["stage2"]) == (dish["a"], dish["b"])
    # tamper with the kept scores: a rescore recomputes them from the predictions, so the record comes back
    scores = folder / "runs" / "synth-recipes-stage2" / "scores.json"
    tampered = json.loads(scores.read_text())
    tampered["aggregate"]["recipe/dish_accuracy"] = 0.123456
    scores.write_text(json.dumps(tampered))
    assert cli(["seed-spread", "--rescore", "--seeds", "0", "--work", str(tmp_path / "work"), "--out", str(out),
                "--eval-sets", str(evals)]) == 0
    again = json.loads(out.read_text())
    assert again["seeds"]["0"]["metrics"] == first["seeds"]["0"]["metrics"]
    assert json.loads(scores.read_text())["aggregate"]["recipe/dish_accuracy"] != 0.123456
    # --stage2-only redoes stage 2 with the same settings: same bytes, runs generated again, same record
    predictions = folder / "runs" / "synth-recipes-stage2" / "predictions.jsonl"
    predictions.write_text("")
    build_seed(tmp_path / "work", 0, evals, scale="micro", world=stub_world, limit=4, stage2_only=True)
    assert len(predictions.read_text().splitlines()) == 4
    assert "stage2_rebuild" in json.loads((folder / "model" / "build_summary.json").read_text())
    assert record_spread(tmp_path / "work", [0], out)["seeds"]["0"]["metrics"] == first["seeds"]["0"]["metrics"]


def test_a_record_in_a_model_folder_puts_the_spread_table_in_its_card(tmp_path):
    _seed_folder(tmp_path, 0, {"recipe/dish_accuracy": _entry(0.43, 0.895, [0.39, 0.54])})
    model = tmp_path / "model"
    model.mkdir()
    shipped = Path(__file__).resolve().parents[1] / "models" / "tiny" / "build_summary.json"
    (model / "build_summary.json").write_text(shipped.read_text())
    assert cli(["seed-spread", "--seeds", "0", "--work", str(tmp_path), "--out", str(model / "seed_spread.json")]) == 0
    card = (model / "card.md").read_text()
    assert "## Seed spread" in card and "| recipe/dish_accuracy | 0.430 [0.430, 0.430] | 0.895 [0.895, 0.895] |" in card
    assert card.index("## Seed spread") < card.index("## Known limits")
    assert "with the CI excluding 0, on every build for: recipe/dish_accuracy.\n" in card


def test_the_card_claims_only_what_holds_on_every_seed(tmp_path):
    _seed_folder(tmp_path, 0, {"caption/chair_i": _entry(0.75, 0.60, [-0.22, -0.08], "lower"),
                               "caption/object_recall": _entry(0.14, 0.34, [0.14, 0.25]),
                               "pope/yes_ratio": _entry(0.87, 0.27, [-0.69, -0.52], "neither", "changed")})
    _seed_folder(tmp_path, 1, {"caption/chair_i": _entry(0.50, 0.65, [0.05, 0.25], "lower", "worse"),
                               "caption/object_recall": _entry(0.07, 0.26, [0.10, 0.30]),
                               "pope/yes_ratio": _entry(0.80, 0.20, [-0.69, -0.52], "neither", "changed")})
    result = record_spread(tmp_path, [0, 1], tmp_path / "spread.json")
    assert holding(result) == (["caption/object_recall"], ["caption/chair_i", "pope/yes_ratio"])
    assert card_section(result).endswith(
        "on every build for: caption/object_recall. On some builds, not all: caption/chair_i (1 of 2, worse on 1). "
        "No better direction: pope/yes_ratio (changed on 2 of 2).")
    assert "Machines: seeds 0, 1: test cpu, torch ?, 1 thread(s)." in card_section(result)


def test_the_card_says_on_how_many_builds_a_metric_is_undefined(tmp_path):
    # F1 is null where no answer is yes: seed 1 has it at neither stage, seed 2 at stage 2 only
    _seed_folder(tmp_path, 0, {"pope/f1_mean": _entry(0.69, 0.37, [-0.45, -0.19], verdict="worse"),
                               "pope/strict_f1_mean": _entry(None, None, None, verdict="n/a")})
    _seed_folder(tmp_path, 1, {"pope/f1_mean": _entry(None, None, None, verdict="n/a"),
                               "pope/strict_f1_mean": _entry(None, None, None, verdict="n/a")})
    _seed_folder(tmp_path, 2, {"pope/f1_mean": _entry(0.67, None, None, verdict="n/a"),
                               "pope/strict_f1_mean": _entry(None, None, None, verdict="n/a")})
    result = record_spread(tmp_path, [0, 1, 2], tmp_path / "spread.json")
    assert card_section(result).endswith(
        "On no build: pope/f1_mean (0 of 3, worse on 1, undefined on 2). "
        "Undefined on every build: pope/strict_f1_mean.")
    assert "| pope/f1_mean | 0.680 [0.670, 0.690] | 0.370 [0.370, 0.370] | -0.320 [-0.320, -0.320] | 0 of 3 (worse on 1); " \
           "undefined on 2 |" in spread_markdown(result)


def test_a_metric_without_a_direction_is_counted_as_changed_not_better(tmp_path):
    # POPE's yes_ratio has no better direction (compare.json: "better": "neither"): a CI below 0 is a change
    _seed_folder(tmp_path, 0, {"pope/yes_ratio": _entry(0.87, 0.27, [-0.69, -0.52], "neither", "changed")})
    _seed_folder(tmp_path, 1, {"pope/yes_ratio": _entry(1.0, 1.0, [0.0, 0.0], "neither", "n.s.")})
    result = record_spread(tmp_path, [0, 1], tmp_path / "spread.json")
    assert result["seeds"]["0"]["metrics"]["pope/yes_ratio"]["ci_excludes_0"] == "changed"
    s = result["summary"]["pope/yes_ratio"]
    assert (s["n_better"], s["n_worse"], s["n_changed"]) == (0, 0, 1)
    assert "| 0 of 2 (changed on 1, no direction) |" in spread_markdown(result)


def test_a_stopped_build_is_not_taken_for_a_finished_one(tmp_path):
    from workbench.tiny.build.build import build_finished

    model = tmp_path / "model"
    model.mkdir()
    assert not build_finished(model)
    # what a build stopped during the vision pretraining leaves: a summary of the phases so far
    (model / "build_summary.json").write_text(json.dumps({"config": {}, "llm": {}, "timing": {}}))
    assert not build_finished(model)
    (model / "build_summary.json").write_text(json.dumps({"config": {}, "stage1_state_norm": 1.5}))
    assert not build_finished(model)                      # the card is written after the last summary
    (model / "card.md").write_text("# card\n")
    assert build_finished(model)
    (model / "build_summary.json").write_text('{"config": {}, "stage1_')   # torn while being written
    assert not build_finished(model)

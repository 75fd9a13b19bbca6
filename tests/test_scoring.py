"""Caption golden values against pycocoevalcap, score_predictions/scores.json, `workbench score`,
and the local evaluate modules (offline). Java-backed results are shared per module (they take seconds)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.evalsets import load_eval_set
from workbench.scoring import Aggregator, aggregate_items, read_scores, score_predictions, score_run
from workbench.scoring.caption import score_captions

JAVA = shutil.which("java") is not None
needs_java = pytest.mark.skipif(not JAVA, reason="pycocoevalcap's tokenizer and METEOR need Java")
METRICS_DIR = Path(__file__).resolve().parents[1] / "workbench" / "scoring" / "metrics"

PREDS = ["A man is riding a horse on the beach.", "Two dogs, playing in snow!", "",
         "a cat cat cat sitting", "A crêpe with bananas.", "A red double-decker bus\non a street."]
REFS = [["A man rides a horse along the beach.", "a person on a horse near the ocean"],
        ["two dogs play in the snow"], ["a red bus on the street"],
        ["a cat sits on a mat", "a kitten sitting"], ["a crepe with sliced banana", "dessert on a plate"],
        ["a red bus driving down a city street", "a double decker bus"]]


@pytest.fixture(scope="module")
def ours():
    return score_captions(PREDS, REFS)


@pytest.fixture(scope="module")
def coco():
    """pycocoevalcap called directly, as its own COCOEvalCap does (tokenize gts and res, then score)."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    # PTBTokenizer keeps one caption per line, so its callers must not pass line breaks
    tok = PTBTokenizer()
    gts = tok.tokenize({i: [{"caption": c} for c in refs] for i, refs in enumerate(REFS)})
    res = tok.tokenize({i: [{"caption": p.replace("\n", " ")}] for i, p in enumerate(PREDS)})
    out = {}
    bleu, bleu_items = Bleu(4).compute_score(gts, res, verbose=0)
    for k in range(4):
        out[f"bleu_{k + 1}"] = (bleu[k], bleu_items[k])
    meteor = Meteor()
    out["meteor"] = meteor.compute_score(gts, res)
    out["rouge_l"] = Rouge().compute_score(gts, res)
    out["cider"] = Cider().compute_score(gts, res)
    return out


@needs_java
def test_caption_numbers_equal_pycocoevalcap(ours, coco):
    assert ours["tokenizer"] == "ptb" and ours["warnings"] == []
    for name, (corpus, per_item) in coco.items():
        assert ours["aggregate"][name] == pytest.approx(corpus, rel=1e-12, abs=1e-15), name
        assert [it[name] for it in ours["items"]] == pytest.approx(list(per_item), rel=1e-12, abs=1e-15), name


@needs_java
def test_corpus_bleu_of_a_subset_equals_pycocoevalcap_on_that_subset(ours):
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    subset = [0, 1, 3]
    tok = PTBTokenizer()
    gts = tok.tokenize({i: [{"caption": c} for c in REFS[i]] for i in subset})
    res = tok.tokenize({i: [{"caption": PREDS[i]}] for i in subset})
    expected, _ = Bleu(4).compute_score(gts, res, verbose=0)
    got = aggregate_items("caption", [dict(ours["items"][i], failure=0) for i in subset])
    assert [got[f"caption/bleu_{k}"] for k in range(1, 5)] == pytest.approx(expected, rel=1e-12)
    fast = Aggregator("caption", [dict(it, failure=0) for it in ours["items"]]).resample([subset])
    assert fast["caption/bleu_4"][0] == pytest.approx(expected[3], rel=1e-12)


def test_meteor_without_java_is_missing_not_zero(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = score_captions(["a dog on a couch"], [["a dog lying on a sofa"]])
    assert result["aggregate"]["meteor"] is None
    assert result["aggregate"]["bleu_1"] > 0
    assert result["tokenizer"] == "python"
    assert any("METEOR unavailable" in w for w in result["warnings"])


# ------------------------------------------------------------------ score_predictions / scores.json

def _png(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4)).save(path)


@pytest.fixture(scope="module")
def eval_set_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("es") / "mixed"
    _png(root / "images" / "a.png")
    items = [
        {"id": f"c{i}", "task": "caption", "image": "images/a.png",
         "reference": {"captions": REFS[i], "objects": ["person", "horse"] if i == 0 else ["dog"]}}
        for i in range(3)
    ] + [
        {"id": "r1", "task": "recipe", "image": "images/a.png",
         "reference": {"dish": "pancakes", "ingredients": ["flour", "eggs", "milk"], "steps": ["mix", "fry"]}},
        {"id": "d1", "task": "diagnosis", "image": "images/a.png",
         "reference": {"crop": "Tomato", "disease": "Early blight", "treatments": ["apply copper fungicide"]}},
        {"id": "d2", "task": "diagnosis", "image": "images/a.png",
         "reference": {"crop": "Apple", "disease": "healthy", "treatments": []}},
    ]
    (root / "manifest.jsonl").write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    (root / "vocabulary.json").write_text(json.dumps({"person": ["man"], "horse": [], "dog": ["dogs"]}))
    (root / "card.md").write_text("# mixed\n")
    return root


@pytest.fixture(scope="module")
def run_dir(eval_set_dir):
    run = eval_set_dir.parent / "run"
    run.mkdir()
    preds = [{"id": "c0", "output": PREDS[0], "n_tokens": 9, "finish": "stop"},
             {"id": "c1", "output": PREDS[1], "n_tokens": 5, "finish": "length"},
             {"id": "r1", "output": "Pancakes. 1. Mix flour and eggs. 2. Fry them in butter.", "n_tokens": 20,
              "finish": "stop"},
             {"id": "d1", "output": "A tomato leaf with early blight; apply copper fungicide.", "n_tokens": 12,
              "finish": "stop"},
             {"id": "d2", "output": "This apple leaf is healthy.", "n_tokens": 6, "finish": "stop"},
             {"id": "stray", "output": "x", "n_tokens": 1, "finish": "stop"}]
    (run / "predictions.jsonl").write_text("\n".join(json.dumps(p) for p in preds) + "\n", encoding="utf-8")
    return run


@pytest.fixture(scope="module")
def scored(run_dir, eval_set_dir):
    return score_run(run_dir, load_eval_set(eval_set_dir))


@needs_java
def test_scores_contract(scored, run_dir):
    assert read_scores(run_dir / "scores.json") == scored       # round trip through JSON
    names = {"caption/failure_rate", "caption/bleu_1", "caption/bleu_2", "caption/bleu_3", "caption/bleu_4",
             "caption/meteor", "caption/rouge_l", "caption/cider", "caption/chair_i", "caption/chair_s",
             "caption/object_recall", "recipe/failure_rate", "recipe/dish_accuracy",
             "recipe/ingredient_precision", "recipe/ingredient_recall", "recipe/ingredient_f1",
             "recipe/steps_present", "diagnosis/failure_rate", "diagnosis/crop_accuracy",
             "diagnosis/disease_accuracy", "diagnosis/disease_macro_f1", "diagnosis/treatment_recall",
             "diagnosis/healthy_false_alarm"}
    assert names <= set(scored["aggregate"])
    assert [it["id"] for it in scored["items"]] == ["c0", "c1", "c2", "r1", "d1", "d2"]
    by_id = {it["id"]: it["metrics"] for it in scored["items"]}
    for m in by_id.values():
        assert m["failure"] in (0, 1) and isinstance(m["failure_reasons"], list)
    assert by_id["c2"]["failure_reasons"] == ["missing"] and by_id["c2"]["failure"] == 1
    assert "no_end" in by_id["c1"]["failure_reasons"]
    for key in ("chair_s", "chair_i", "object_recall"):
        assert key in by_id["c0"]
    assert scored["unknown_ids"] == ["stray"] and scored["missing_ids"] == ["c2"]
    assert scored["aggregate"]["diagnosis/disease_accuracy"] == 1.0
    assert scored["aggregate"]["diagnosis/healthy_false_alarm"] == 0.0
    # the corpus values from the stored per-item values by the cards' definitions, written out here
    agg = scored["aggregate"]
    items = {t: [it["metrics"] for it in scored["items"] if it["task"] == t] for t in ("caption", "recipe", "diagnosis")}
    mean = lambda t, k: sum(m[k] for m in items[t]) / len(items[t])  # noqa: E731
    total = lambda t, k: sum(m[k] for m in items[t])                 # noqa: E731
    for task in items:
        assert agg[f"{task}/failure_rate"] == pytest.approx(mean(task, "failure"))
    assert agg["caption/chair_i"] == pytest.approx(total("caption", "n_hallucinated") / total("caption", "n_mentioned"))
    assert agg["caption/chair_s"] == pytest.approx(mean("caption", "chair_s"))
    assert agg["caption/object_recall"] == pytest.approx(total("caption", "n_covered") / total("caption", "n_objects"))
    assert agg["caption/cider"] == pytest.approx(mean("caption", "cider"))     # full-set IDF, mean of items
    assert agg["caption/rouge_l"] == pytest.approx(mean("caption", "rouge_l"))
    assert agg["recipe/dish_accuracy"] == pytest.approx(mean("recipe", "dish_accuracy"))
    assert agg["recipe/ingredient_recall"] == pytest.approx(total("recipe", "ingredient_tp")
                                                           / total("recipe", "n_ingredients_ref"))
    # and exactly aggregate_items over the stored per-item metrics (what compare resamples)
    for task in ("caption", "recipe", "diagnosis"):
        again = aggregate_items(task, [it for it in scored["items"] if it["task"] == task])
        assert again == {k: v for k, v in scored["aggregate"].items() if k.startswith(task + "/")}


@needs_java
def test_score_cli(run_dir, eval_set_dir, tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["score", "--eval-set", str(eval_set_dir), "--predictions", str(run_dir / "predictions.jsonl"),
                 "--out", str(out), "--no-meteor"]) == 0
    printed = capsys.readouterr()
    assert "caption/bleu_4" in printed.out and "recipe/ingredient_f1" in printed.out
    assert "caption/meteor" in printed.out and "n/a" in printed.out
    assert "not in eval set" in printed.err
    assert json.loads(out.read_text())["aggregate"]["caption/meteor"] is None
    # the run folder itself is accepted and scores.json lands in it
    assert main(["score", "--eval-set", str(eval_set_dir), "--predictions", str(run_dir), "--no-meteor"]) == 0
    assert json.loads((run_dir / "scores.json").read_text())["aggregate"] == json.loads(out.read_text())["aggregate"]


def test_malformed_predictions_name_file_and_line(eval_set_dir, tmp_path, capsys):
    bad = tmp_path / "predictions.jsonl"
    bad.write_text('{"id": "c0", "output": "a"}\n{"id": "c1", "output": 3}\n{"id": "c2", "output": "b"}\n')
    assert main(["score", "--eval-set", str(eval_set_dir), "--predictions", str(bad), "--out",
                 str(tmp_path / "s.json")]) == 1
    assert f"{bad}:2: prediction needs a string 'output'" in capsys.readouterr().err
    bad.write_text('{"id": "c0", "output": "a"}\nnot json\n{"id": "c2", "output": "b"}\n')
    with pytest.raises(WorkbenchError, match=r"predictions.jsonl:2: invalid JSON"):
        score_run(tmp_path, eval_set_dir)


def test_empty_and_unicode_predictions_score_without_java(eval_set_dir, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    preds = {"c0": {"id": "c0", "output": "", "finish": "stop"},
             "c1": {"id": "c1", "output": "Zwei Hunde 🐕🐕 im Schnee — dogs!", "finish": "stop"}}
    scores = score_predictions(eval_set_dir, preds)
    by_id = {it["id"]: it["metrics"] for it in scores["items"]}
    assert by_id["c0"]["failure_reasons"] == ["empty"]
    assert by_id["c1"]["object_recall"] == 1.0
    assert scores["aggregate"]["caption/meteor"] is None
    json.dumps(scores, allow_nan=False)


# ------------------------------------------------------------------ local evaluate modules

@pytest.fixture(scope="module")
def evaluate_offline(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf_home")))
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("HF_DATASETS_OFFLINE", "1")
    import evaluate
    yield evaluate
    mp.undo()


@needs_java
def test_evaluate_caption_module_matches_function(evaluate_offline, ours):
    metric = evaluate_offline.load(str(METRICS_DIR / "caption"))
    got = metric.compute(predictions=PREDS, references=REFS, meteor=False)  # METEOR: golden test above
    assert got.pop("meteor") is None
    assert got == pytest.approx({k: v for k, v in ours["aggregate"].items() if k != "meteor"}, rel=1e-12)


def test_evaluate_task_modules_match_functions(evaluate_offline):
    ev = evaluate_offline
    hall = ev.load(str(METRICS_DIR / "hallucination")).compute(
        predictions=["a dog and a cat", "a sofa"], references=[["dog"], ["couch", "dog"]],
        vocabulary={"dog": [], "cat": [], "couch": ["sofa"]})
    assert hall == {"chair_i": pytest.approx(1 / 3), "chair_s": 0.5, "object_recall": pytest.approx(2 / 3),
                    "chair_i_distinct": pytest.approx(1 / 3)}
    refs = [{"dish": "pancakes", "ingredients": ["flour", "eggs"], "steps": []},
            {"dish": "omelette", "ingredients": ["eggs", "cheese"], "steps": []}]
    rec = ev.load(str(METRICS_DIR / "recipe")).compute(
        predictions=["Pancakes with flour and cheese. First mix, then fry.", "An omelette."], references=refs)
    assert rec["dish_accuracy"] == 1.0 and rec["steps_present"] == 0.5
    assert rec["ingredient_precision"] == 0.5 and rec["ingredient_recall"] == 0.25
    diag_refs = [{"crop": "tomato", "disease": "early blight", "treatments": ["remove infected leaves"]},
                 {"crop": "apple", "disease": "healthy", "treatments": []}]
    diag = ev.load(str(METRICS_DIR / "diagnosis")).compute(
        predictions=["tomato early blight: remove the infected leaves", "apple with early blight"],
        references=diag_refs)
    assert diag["disease_accuracy"] == 0.5 and diag["healthy_false_alarm"] == 1.0
    assert diag["treatment_recall"] == 1.0 and diag["crop_accuracy"] == 1.0
    assert diag["disease_macro_f1"] == pytest.approx((2 / 3 + 0) / 2)
    fail = ev.load(str(METRICS_DIR / "failure")).compute(
        predictions=["", "A brown dog is lying on a large sofa in the living room."],
        references=["caption", "caption"], finish=["stop", "length"],
        task_references=[{"captions": ["x"], "objects": ["dog"]}] * 2)
    assert fail == {"failure_rate": 1.0, "n_empty": 1, "n_no_end": 1}


def test_aggregate_handles_empty_and_nan_free():
    assert aggregate_items("recipe", []) == {}
    agg = Aggregator("diagnosis", [{"crop_accuracy": 1, "disease_accuracy": 1, "disease_true": "healthy",
                                    "disease_pred": "healthy", "n_treatments": 0, "n_treatments_recalled": 0,
                                    "healthy_false_alarm": 0, "failure": 0}]).aggregate()
    assert agg["diagnosis/treatment_recall"] is None
    assert not any(isinstance(v, float) and np.isnan(v) for v in agg.values())

"""POPE scorer: the two readings on hand-worked answers, corpus metrics against RUCAIBox/POPE evaluate.py.

Golden values: the official ``evaluate.py`` (RUCAIBox/POPE @ main) was run unchanged except for its two
file paths, outside this repository, on exactly the 24 (label, split, answer) cases below, once on all of
them and once per split; its printed TP/FP/TN/FN, accuracy, precision, recall, F1 and yes ratio are copied
into OFFICIAL. The strict reading's values are worked by hand in the comments.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.compare.statistics import compare_task
from workbench.evalsets import load_eval_set, validate_eval_set
from workbench.scoring import Aggregator, aggregate_items, score_predictions
from workbench.scoring.pope import official_answer, says_neither, score_pope, strict_answer

CASES = [
    ("yes", "random", "Yes."), ("no", "random", "No, there is not."), ("yes", "random", "There is a dog."),
    ("no", "random", ""), ("yes", "random", "Yes, there is a cat in the image."), ("no", "random", "no"),
    ("yes", "random", "No."), ("no", "random", "Yes"),
    ("yes", "popular", "yes"), ("no", "popular", "There is no dog in the image."),
    ("yes", "popular", "I do not see one."), ("no", "popular", "Yes, there is."), ("yes", "popular", "YES"),
    ("no", "popular", "NO."), ("yes", "popular", "a red ball"), ("no", "popular", "No"),
    ("yes", "adversarial", "Yes. Actually no."), ("no", "adversarial", "no!"), ("yes", "adversarial", "Yes!"),
    ("no", "adversarial", "It is not there."), ("yes", "adversarial", "yes, a cup"), ("no", "adversarial", "Yes."),
    ("yes", "adversarial", "No, there is not."), ("no", "adversarial", "There is a table with a bowl."),
]
# evaluate.py output: (TP, FP, TN, FN, accuracy, precision, recall, f1, yes_ratio)
OFFICIAL = {
    "": (9, 7, 5, 3, 0.5833333333333334, 0.5625, 0.75, 0.6428571428571429, 0.6666666666666666),
    "random/": (3, 2, 2, 1, 0.625, 0.6, 0.75, 0.6666666666666665, 0.625),
    "popular/": (3, 2, 2, 1, 0.625, 0.6, 0.75, 0.6666666666666665, 0.625),
    "adversarial/": (3, 3, 1, 1, 0.5, 0.5, 0.75, 0.6, 0.75),
}


@pytest.mark.parametrize("answer, official, neither, strict", [
    ("Yes.", "yes", False, "yes"),
    ("No, there is not.", "no", False, None),
    ("There is a dog.", "yes", True, None),      # the official script reads it as yes; we flag it
    ("", "yes", True, None),                     # so is the empty answer
    ("  no!  ", "yes", True, "no"),              # official: "no!" is not the word "no"
    ("NO", "yes", True, "no"),                   # official is case-sensitive
    ("Yes. Actually no.", "yes", False, None),
    ("I do not see one.", "no", False, None),
    ("yes, a cup", "yes", False, None),
])
def test_readings_by_hand(answer, official, neither, strict):
    assert official_answer(answer) == official
    assert says_neither(answer) is neither
    assert strict_answer(answer) == strict


def _items():
    return [score_pope(a, {"label": label, "split": split, "object": "dog"}) for label, split, a in CASES]


def test_official_metrics_match_reference_script():
    agg = aggregate_items("pope", _items())
    for prefix, (tp, fp, tn, fn, acc, p, r, f1, yes) in OFFICIAL.items():
        assert agg[f"pope/{prefix}accuracy"] == pytest.approx(acc)
        assert agg[f"pope/{prefix}precision"] == pytest.approx(p)
        assert agg[f"pope/{prefix}recall"] == pytest.approx(r)
        assert agg[f"pope/{prefix}f1"] == pytest.approx(f1)
        assert agg[f"pope/{prefix}yes_ratio"] == pytest.approx(yes)
        assert (tp + tn) / (tp + fp + tn + fn) == pytest.approx(acc)
    assert agg["pope/f1_mean"] == pytest.approx((0.6666666666666665 * 2 + 0.6) / 3)
    assert agg["pope/accuracy_mean"] == pytest.approx((0.625 * 2 + 0.5) / 3)


def test_strict_and_neither_by_hand():
    agg = aggregate_items("pope", _items())
    # random split, strict: yes/None/None/None/None/no/no/yes -> correct items 1 and 6 (2/8);
    # strict yes answers: items 1 (label yes) and 8 (label no) -> precision 1/2; recall 1/4; F1 = 1/3.
    assert agg["pope/random/strict_accuracy"] == pytest.approx(2 / 8)
    assert agg["pope/random/strict_precision"] == pytest.approx(0.5)
    assert agg["pope/random/strict_recall"] == pytest.approx(0.25)
    assert agg["pope/random/strict_f1"] == pytest.approx(1 / 3)
    assert agg["pope/random/strict_yes_ratio"] == pytest.approx(2 / 8)
    assert agg["pope/random/strict_neither_rate"] == pytest.approx(4 / 8)
    # official reading: "There is a dog." and "" have neither yes nor a negation
    assert agg["pope/random/neither_rate"] == pytest.approx(2 / 8)
    # popular: "NO." and "a red ball" -> 2/8 ("YES" says yes in any case); adversarial: "no!" and the
    # table sentence -> 2/8
    assert agg["pope/popular/neither_rate"] == pytest.approx(2 / 8)
    assert agg["pope/adversarial/neither_rate"] == pytest.approx(2 / 8)
    assert agg["pope/neither_rate"] == pytest.approx(6 / 24)


def test_precision_null_when_nothing_answered_yes():
    items = [score_pope("No.", {"label": lab, "split": "random", "object": "cat"}) for lab in ("yes", "no")]
    agg = aggregate_items("pope", items)
    assert agg["pope/precision"] is None and agg["pope/f1"] is None
    assert agg["pope/recall"] == 0.0 and agg["pope/accuracy"] == 0.5 and agg["pope/yes_ratio"] == 0.0
    assert "pope/popular/f1" not in agg   # only the splits present


def test_null_metrics_say_why_in_scores_json(tmp_path):
    # random: every answer is "No, there is not." (official: no; strict: neither); popular: "Yes." to a "no" item
    cases = [("yes", "random", ""), ("no", "random", ""), ("no", "popular", "")]
    _write_set(tmp_path / "es", cases)
    answers = ["No, there is not.", "No, there is not.", "Yes."]
    scores = score_predictions(load_eval_set(tmp_path / "es"),
                               {f"q{i}": {"output": a, "finish": "stop"} for i, a in enumerate(answers)})
    agg, why = scores["aggregate"], scores["undefined"]
    assert agg["pope/random/precision"] is None and agg["pope/popular/recall"] is None
    assert why["pope/random/precision"] == ("no answer in the random split reads as yes (first sentence), so "
                                            "precision divides by 0")
    assert why["pope/popular/recall"] == "no item in the popular split is labelled yes, so recall divides by 0"
    assert why["pope/random/strict_precision"] == ("no answer in the random split is exactly yes (strict reading), "
                                                   "so precision divides by 0")
    # an F1 names which of precision and recall is undefined; an F1 mean names the splits and their causes
    assert why["pope/random/f1"] == ("F1 is undefined because no answer in the random split reads as yes (first "
                                     "sentence), so precision divides by 0")
    assert why["pope/popular/f1"] == ("F1 is undefined because no item in the popular split is labelled yes, so "
                                      "recall divides by 0")
    assert why["pope/f1_mean"] == (
        "the F1 of the random, popular splits is undefined: random: no answer in the random split reads as yes "
        "(first sentence), so precision divides by 0; popular: no item in the popular split is labelled yes, so "
        "recall divides by 0")
    assert why["pope/strict_f1_mean"].startswith("the strict F1 of the random, popular splits is undefined: random: "
                                                 "no answer in the random split is exactly yes (strict reading)")
    assert agg["pope/precision"] == 0.0 and "pope/precision" not in why   # defined: "Yes." read as yes once
    assert set(why) == {k for k, v in agg.items() if v is None}


def test_resample_identity_equals_aggregate_and_bootstrap_rows_are_resamples():
    items = _items()
    agg = Aggregator("pope", items)
    rows = agg.resample(np.stack([np.arange(24), np.arange(24)[::-1], np.r_[np.arange(8), np.arange(8), np.arange(8)]]))
    assert rows["pope/f1"][0] == pytest.approx(rows["pope/f1"][1])
    assert rows["pope/accuracy"][2] == pytest.approx(0.625)   # three copies of the random split
    assert np.isnan(rows["pope/adversarial/f1"][2])


def _write_set(root, cases):
    (root / "images").mkdir(parents=True)
    from PIL import Image
    Image.new("RGB", (8, 8)).save(root / "images" / "a.png")
    lines = [{"id": f"q{i}", "task": "pope", "image": "images/a.png",
              "reference": {"label": lab, "object": "dog", "split": split}} for i, (lab, split, _) in enumerate(cases)]
    (root / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_eval_set_default_prompt_score_and_failure(tmp_path):
    _write_set(tmp_path / "es", CASES)
    es = load_eval_set(tmp_path / "es")
    assert es.items[0].prompt == "Is there a dog in the image?"
    preds = {f"q{i}": {"output": a, "finish": "stop"} for i, (_, _, a) in enumerate(CASES[:23])}
    scores = score_predictions(es, preds)
    assert scores["missing_ids"] == ["q23"]
    by_id = {it["id"]: it["metrics"] for it in scores["items"]}
    assert by_id["q0"]["failure"] == 0                                   # "Yes." is one word, on task
    assert by_id["q2"]["failure_reasons"] == ["off_task"]               # "There is a dog."
    assert by_id["q3"]["failure_reasons"] == ["empty"]
    assert scores["aggregate"]["pope/failure_rate"] == pytest.approx(6 / 24)  # 5 neither + q23 missing


def test_schema_rejects_unknown_label_and_split(tmp_path):
    root = tmp_path / "bad"
    _write_set(root, [("maybe", "random", ""), ("yes", "hard", "")])
    problems = [str(p) for p in validate_eval_set(root)]
    assert any("manifest.jsonl:1" in p and "reference.label is 'maybe'" in p for p in problems)
    assert any("manifest.jsonl:2" in p and "reference.split is 'hard'" in p for p in problems)


def test_local_evaluate_module_loads_offline_and_agrees():
    import evaluate

    metric = evaluate.load(str(Path(__file__).resolve().parent.parent / "workbench/scoring/metrics/pope"))
    refs = [{"label": lab, "object": "dog", "split": "random"} for lab in ("yes", "no", "no", "yes")]
    # TP ("Yes."), TN ("No."), FP ("There is a dog." read as yes), FN ("no")
    out = metric.compute(predictions=["Yes.", "No.", "There is a dog.", "no"], references=refs)
    assert (out["accuracy"], out["precision"], out["recall"], out["f1"]) == (0.5, 0.5, 0.5, 0.5)
    assert out["yes_ratio"] == 0.5 and out["neither_rate"] == 0.25 and out["strict_neither_rate"] == 0.25


def test_compare_counts_each_splits_items_for_its_per_split_metrics():
    # 8 random, 8 popular and 6 adversarial questions: a per-split row covers its split's items, not all 22
    scored = [score_pope(a, {"label": label, "split": split, "object": "dog"}) for label, split, a in CASES[:22]]
    items = [{"id": str(i), "task": "pope", "metrics": m} for i, m in enumerate(scored)]
    aggregate = lambda task, its: aggregate_items(task, [it["metrics"] for it in its])  # noqa: E731
    [entries] = compare_task("pope", [items, items], [aggregate("pope", items)] * 2, baseline=0, n_resamples=50,
                             seed=0, aggregate=aggregate)
    assert entries["pope/random/f1"]["n_scored"] == [8, 8]
    assert entries["pope/popular/strict_accuracy"]["n_scored"] == [8, 8]
    assert entries["pope/adversarial/f1"]["n_scored"] == [6, 6]
    assert entries["pope/f1"]["n"] == 22 and entries["pope/f1"]["n_scored"] is None   # pooled: every item

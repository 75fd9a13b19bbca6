"""Corpus aggregation (``workbench.scoring.aggregate``) on hand-built per-item statistics.

Every expected value is written out from the metric's definition on these few items (sums of per-item
statistics, then the ratio), not computed with the aggregation code: BLEU as pycocoevalcap's corpus BLEU
(product of clipped n-gram precisions of the summed counts, n-th root, brevity penalty exp(1 - r/c) when the
hypotheses are shorter), CHAIR_i as hallucinated mentions over all mentions (Rohrbach et al. 2018), ingredient
precision/recall as ratios of summed counts, disease macro-F1 over the classes present in the truth.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.scoring import Aggregator, aggregate_items


def bleu_stats(testlen, reflen, guess, correct):
    return [testlen, reflen, *guess, *correct]


CAPTION = [
    {"bleu_stats": bleu_stats(4, 5, (4, 3, 2, 1), (3, 1, 1, 0)), "rouge_l": 0.5, "cider": 1.0, "chair_s": 1,
     "n_mentioned": 2, "n_hallucinated": 1, "n_mentioned_distinct": 2, "n_hallucinated_distinct": 1,
     "n_objects": 3, "n_covered": 1, "failure": True},
    {"bleu_stats": bleu_stats(6, 4, (6, 5, 4, 3), (5, 3, 2, 1)), "rouge_l": 0.3, "cider": None, "chair_s": 0,
     "n_mentioned": 3, "n_hallucinated": 0, "n_mentioned_distinct": 2, "n_hallucinated_distinct": 0,
     "n_objects": 2, "n_covered": 2, "failure": False},
    {"bleu_stats": bleu_stats(2, 3, (2, 1, 0, 0), (2, 1, 0, 0)), "rouge_l": 0.1, "cider": 0.4, "chair_s": 1,
     "n_mentioned": 1, "n_hallucinated": 1, "n_mentioned_distinct": 1, "n_hallucinated_distinct": 1,
     "n_objects": 4, "n_covered": 0, "failure": False},
]


def test_caption_corpus_metrics_are_ratios_of_summed_item_statistics():
    got = aggregate_items("caption", CAPTION)
    # sums: testlen 12, reflen 12, guess (12, 9, 6, 4), correct (10, 5, 3, 1); c == r: no brevity penalty
    p = [10 / 12, 5 / 9, 3 / 6, 1 / 4]
    for n in range(1, 5):
        assert got[f"caption/bleu_{n}"] == pytest.approx(math.prod(p[:n]) ** (1 / n), rel=1e-6)
    assert got["caption/rouge_l"] == pytest.approx(0.9 / 3)
    assert got["caption/cider"] == pytest.approx(1.4 / 3)          # the undefined item counts as 0
    assert got["caption/chair_i"] == pytest.approx(2 / 6)          # 2 hallucinated of 6 mentions
    assert got["caption/chair_s"] == pytest.approx(2 / 3)
    assert got["caption/chair_i_distinct"] == pytest.approx(2 / 5)
    assert got["caption/object_recall"] == pytest.approx(3 / 9)
    assert got["caption/failure_rate"] == pytest.approx(1 / 3)
    assert got["caption/meteor"] is None                          # no item has METEOR statistics


def test_bleu_brevity_penalty_applies_only_to_short_hypotheses():
    short = [{"bleu_stats": bleu_stats(3, 6, (3, 2, 1, 1), (3, 2, 1, 1))}]
    long = [{"bleu_stats": bleu_stats(6, 3, (6, 5, 4, 3), (6, 5, 4, 3))}]
    assert aggregate_items("caption", short)["caption/bleu_1"] == pytest.approx(math.exp(1 - 6 / 3), rel=1e-6)
    assert aggregate_items("caption", short)["caption/bleu_4"] == pytest.approx(math.exp(1 - 6 / 3), rel=1e-6)
    assert aggregate_items("caption", long)["caption/bleu_2"] == pytest.approx(1.0, rel=1e-6)


def test_caption_items_without_coco_statistics_count_as_zero_counts():
    # an item scored for CHAIR alone (no bleu_stats): it adds nothing to the n-gram counts
    got = aggregate_items("caption", [CAPTION[0], {"n_mentioned": 1, "n_hallucinated": 0}])
    assert got["caption/bleu_1"] == pytest.approx(3 / 4 * math.exp(1 - 5 / 4), rel=1e-6)
    assert got["caption/chair_i"] == pytest.approx(1 / 3)
    assert got["caption/rouge_l"] == pytest.approx(0.5 / 2)


def test_undefined_caption_metrics_are_none_not_zero():
    got = aggregate_items("caption", [{"bleu_stats": bleu_stats(1, 1, (1, 0, 0, 0), (1, 0, 0, 0)),
                                        "cider": None, "n_mentioned": 0, "n_hallucinated": 0,
                                        "n_mentioned_distinct": 0, "n_objects": 0}])
    assert got["caption/cider"] is None
    assert got["caption/chair_i"] is None and got["caption/chair_i_distinct"] is None
    assert got["caption/object_recall"] is None
    assert got["caption/chair_s"] == 0.0


def test_meteor_is_defined_only_when_every_item_has_its_statistics():
    stats = [[float(i % 5) for i in range(23)], [float((i * 3) % 7) for i in range(23)]]
    both = [dict(CAPTION[0], meteor_stats=stats[0]), dict(CAPTION[1], meteor_stats=stats[1])]
    assert aggregate_items("caption", both)["caption/meteor"] is not None
    assert aggregate_items("caption", [both[0], CAPTION[1]])["caption/meteor"] is None


RECIPE = [
    {"dish_accuracy": 1, "ingredient_tp": 2, "n_ingredients_pred": 3, "n_ingredients_ref": 4, "steps_present": 1},
    {"dish_accuracy": 0, "ingredient_tp": 1, "n_ingredients_pred": 1, "n_ingredients_ref": 2, "steps_present": 0,
     "failure": True},
    {"dish_accuracy": 1, "ingredient_tp": 0, "n_ingredients_pred": 0, "n_ingredients_ref": 3, "steps_present": 1},
]


def test_recipe_corpus_metrics():
    got = aggregate_items("recipe", RECIPE)
    precision, recall = 3 / 4, 3 / 9
    assert got["recipe/dish_accuracy"] == pytest.approx(2 / 3)
    assert got["recipe/ingredient_precision"] == pytest.approx(precision)
    assert got["recipe/ingredient_recall"] == pytest.approx(recall)
    assert got["recipe/ingredient_f1"] == pytest.approx(2 * precision * recall / (precision + recall))
    assert got["recipe/steps_present"] == pytest.approx(2 / 3)
    assert got["recipe/failure_rate"] == pytest.approx(1 / 3)


def test_recipe_without_predicted_ingredients_has_precision_and_f1_zero_without_references_undefined():
    none_predicted = [{"ingredient_tp": 0, "n_ingredients_pred": 0, "n_ingredients_ref": 2}]
    got = aggregate_items("recipe", none_predicted)
    assert (got["recipe/ingredient_precision"], got["recipe/ingredient_recall"], got["recipe/ingredient_f1"]) == \
        (0.0, 0.0, 0.0)
    no_reference = [{"ingredient_tp": 0, "n_ingredients_pred": 2, "n_ingredients_ref": 0}]
    got = aggregate_items("recipe", no_reference)
    assert got["recipe/ingredient_recall"] is None and got["recipe/ingredient_f1"] is None
    assert got["recipe/ingredient_precision"] == 0.0


DIAGNOSIS = [
    {"disease_true": "blight", "disease_pred": "blight", "crop_accuracy": 1, "disease_accuracy": 1,
     "n_treatments": 2, "n_treatments_recalled": 1, "healthy_false_alarm": None},
    {"disease_true": "blight", "disease_pred": "rust", "crop_accuracy": 1, "disease_accuracy": 0,
     "n_treatments": 2, "n_treatments_recalled": 2, "healthy_false_alarm": None},
    {"disease_true": "healthy", "disease_pred": "blight", "crop_accuracy": 0, "disease_accuracy": 0,
     "n_treatments": 0, "n_treatments_recalled": 0, "healthy_false_alarm": 1},
    {"disease_true": "healthy", "disease_pred": "healthy", "crop_accuracy": 1, "disease_accuracy": 1,
     "n_treatments": 0, "n_treatments_recalled": 0, "healthy_false_alarm": 0},
    {"disease_true": "mosaic", "disease_pred": None, "crop_accuracy": 0, "disease_accuracy": 0,
     "n_treatments": 1, "n_treatments_recalled": 0, "healthy_false_alarm": None},
]


def test_diagnosis_corpus_metrics_and_macro_f1_over_the_true_classes():
    got = aggregate_items("diagnosis", DIAGNOSIS)
    # per class (truth has blight, healthy, mosaic; "rust" is predicted but not a true class):
    # blight: tp 1, support 2, predicted 2 -> F1 2/4; healthy: tp 1, support 2, predicted 1 -> 2/3; mosaic: 0
    assert got["diagnosis/disease_macro_f1"] == pytest.approx((1 / 2 + 2 / 3 + 0) / 3)
    assert got["diagnosis/crop_accuracy"] == pytest.approx(3 / 5)
    assert got["diagnosis/disease_accuracy"] == pytest.approx(2 / 5)
    assert got["diagnosis/treatment_recall"] == pytest.approx(3 / 5)
    assert got["diagnosis/healthy_false_alarm"] == pytest.approx(1 / 2)   # over the 2 healthy leaves only
    assert got["diagnosis/failure_rate"] == 0.0


def test_diagnosis_without_healthy_or_diseased_leaves_leaves_those_metrics_undefined():
    got = aggregate_items("diagnosis", [DIAGNOSIS[0], DIAGNOSIS[1]])
    assert got["diagnosis/healthy_false_alarm"] is None
    got = aggregate_items("diagnosis", [DIAGNOSIS[2], DIAGNOSIS[3]])
    assert got["diagnosis/treatment_recall"] is None
    assert got["diagnosis/disease_macro_f1"] == pytest.approx(2 / 3)   # healthy only: tp 1, support 2, pred 1


def test_scores_json_items_and_bare_metric_dicts_aggregate_alike():
    wrapped = [{"id": f"r{i}", "task": "recipe", "metrics": m} for i, m in enumerate(RECIPE)]
    assert aggregate_items("recipe", wrapped) == aggregate_items("recipe", RECIPE)


def test_resample_sums_the_drawn_items_with_their_multiplicity():
    agg = Aggregator("caption", CAPTION)
    out = agg.resample(np.array([[0, 0, 1], [2, 2, 2]]))
    # draw 1: items 0, 0, 1 -> hallucinated 1+1+0 of 2+2+3 mentions; draw 2: item 2 three times -> 1/1
    np.testing.assert_allclose(out["caption/chair_i"], [2 / 7, 1.0])
    np.testing.assert_allclose(out["caption/rouge_l"], [(0.5 + 0.5 + 0.3) / 3, 0.1])
    np.testing.assert_allclose(out["caption/failure_rate"], [2 / 3, 0.0])
    # a resample of k items that differs from n: the means divide by k
    one = agg.resample(np.array([[1]]))
    assert one["caption/rouge_l"][0] == pytest.approx(0.3) and math.isnan(one["caption/cider"][0])
    assert agg.resample(np.array([3 - 3, 1]))["caption/chair_s"][0] == pytest.approx(0.5)   # 1-D: one resample


def test_resample_of_nothing_is_empty_and_unknown_task_is_refused():
    assert Aggregator("recipe", RECIPE).resample(np.zeros((4, 0), dtype=int)) == {}
    assert Aggregator("recipe", []).resample(np.zeros((1, 3), dtype=int)) == {}
    assert aggregate_items("recipe", []) == {}
    with pytest.raises(ValueError, match=r"^unknown task 'poem' \(known: caption, recipe, diagnosis, pope\)$"):
        Aggregator("poem", RECIPE)


def test_a_ratio_over_a_single_count_is_defined():
    # one caption with one (hallucinated) mention and one truth object: 1/1, not undefined
    got = aggregate_items("caption", [CAPTION[2]])
    assert (got["caption/chair_i"], got["caption/chair_s"]) == (1.0, 1.0)
    got = aggregate_items("recipe", [{"ingredient_tp": 1, "n_ingredients_pred": 1, "n_ingredients_ref": 1}])
    assert (got["recipe/ingredient_precision"], got["recipe/ingredient_recall"]) == (1.0, 1.0)


def test_ingredient_f1_when_precision_equals_recall():
    got = aggregate_items("recipe", [{"ingredient_tp": 1, "n_ingredients_pred": 2, "n_ingredients_ref": 2}])
    assert (got["recipe/ingredient_precision"], got["recipe/ingredient_recall"], got["recipe/ingredient_f1"]) == \
        (0.5, 0.5, 0.5)


def test_cider_of_one_defined_item_and_a_float_index():
    assert aggregate_items("caption", [CAPTION[2]])["caption/cider"] == pytest.approx(0.4)
    out = Aggregator("caption", CAPTION).resample(np.array([[0.0, 1.0]]))    # positions given as floats
    assert out["caption/chair_i"][0] == pytest.approx(1 / 5)


def test_judge_metrics_average_successful_judgements_only():
    # LLaVA-Bench relative score: sum(model) / sum(reference) x 100 over items judged on both sides;
    # failed judgements (None) and booleans are left out of every mean, never counted as a number
    items = [
        {"judge_failure": 1, "judge_match": 1, "judge_relative_reference": 8, "judge_relative_model": 6},
        {"judge_failure": 0, "judge_match": None, "judge_relative_reference": 10, "judge_relative_model": None},
        {"judge_failure": None, "judge_match": 0, "judge_relative_reference": 4, "judge_relative_model": 5},
        {"judge_failure": True, "judge_match": 0.0},
    ]
    got = aggregate_items("recipe", items)
    assert got["recipe/judge_failure"] == pytest.approx(1 / 2)       # items 0 and 1
    assert got["recipe/judge_match"] == pytest.approx(1 / 3)         # items 0, 2 and 3
    assert got["recipe/judge_relative"] == pytest.approx(100 * (6 + 5) / (8 + 4))


def test_judge_metrics_exist_only_for_judged_runs_and_are_undefined_without_judgements():
    assert not any("judge" in k for k in aggregate_items("recipe", RECIPE))
    got = aggregate_items("recipe", [{"judge_failure": None, "judge_relative_reference": None,
                                      "judge_relative_model": 7}])
    assert got["recipe/judge_failure"] is None and got["recipe/judge_relative"] is None
    assert "recipe/judge_match" not in got


def test_relative_score_counts_only_items_with_both_scores():
    items = [{"judge_relative_reference": None, "judge_relative_model": 7},
             {"judge_relative_reference": 8, "judge_relative_model": 6}]
    assert aggregate_items("recipe", items)["recipe/judge_relative"] == pytest.approx(100 * 6 / 8)
    # reference scores but no model score anywhere: the metric exists and is undefined
    got = aggregate_items("recipe", [{"judge_relative_reference": 8}])
    assert "recipe/judge_relative" in got and got["recipe/judge_relative"] is None


def test_safe_div_never_divides_by_zero():
    import warnings

    from workbench.scoring.ratios import safe_div

    with warnings.catch_warnings():
        warnings.simplefilter("error")          # a division by 0 would warn (RuntimeWarning)
        got = safe_div(np.array([1.0, 0.0, 3.0]), np.array([0.0, 0.0, 2.0]))
    assert np.isnan(got[0]) and np.isnan(got[1]) and got[2] == 1.5

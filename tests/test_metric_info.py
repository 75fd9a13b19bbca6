"""Every metric the scorers report is declared once, and compare and report follow the declarations."""

from __future__ import annotations

import pytest

from test_report_fixtures import two_stage_runs
from workbench.compare import compare_runs
from workbench.errors import WorkbenchError
from workbench.evalsets import TASKS
from workbench.scoring.metric_info import METRICS, example_ranking, headline, metric_info


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    es, a, b = two_stage_runs(tmp_path_factory.mktemp("metric_info"))
    result = compare_runs([a, b], es, n_resamples=200, seed=1, show_progress=False)
    return result["comparisons"][0]["metrics"]


def _declared(task: str) -> set[str]:
    """The task's declared metrics that a lexical scorer reports (judge metrics come from `workbench judge`)."""
    return {k for k, m in METRICS.items() if m.task == task and not m.name.startswith("judge_")}


def test_the_scorers_report_exactly_the_declared_metrics(compared):
    assert set(compared) == _declared("caption") | _declared("recipe") | _declared("diagnosis")


def test_the_pope_scorer_reports_exactly_the_declared_pope_metrics():
    from workbench.scoring import aggregate_items

    items = [{"id": f"q{i}", "task": "pope",
              "metrics": {"failure": 0, "failure_reasons": [], "label": label, "split": split,
                          "answer": answer, "correct": int(answer == label), "neither": 0,
                          "strict_answer": answer, "strict_correct": int(answer == label), "strict_neither": 0}}
             for i, (label, split, answer) in enumerate(
                 [(lab, sp, ans) for sp in ("random", "popular", "adversarial")
                  for lab, ans in (("yes", "yes"), ("no", "yes"), ("no", "no"))])]
    reported = set(aggregate_items("pope", items))
    assert reported == _declared("pope")


def test_judge_metrics_are_declared_for_every_task_with_their_direction():
    assert metric_info("recipe/judge_failure").higher_is_better is False
    assert metric_info("diagnosis/judge_relative").higher_is_better is True
    assert metric_info("pope/judge_match").higher_is_better is True
    assert metric_info("pope/yes_ratio").higher_is_better is None


def test_a_metric_declared_a_plain_mean_is_one_compare_finds_to_be_a_mean(compared):
    # compare checks, against the scorers' own aggregate, which metrics are plain means of a per-item value. A
    # plain mean passes that check on any data; a corpus-level ratio fails it on most data, but can coincide with
    # a mean on small uniform runs such as these fixtures (CHAIR_i and ingredient F1 do here; BLEU never does)
    for key, entry in compared.items():
        if not METRICS[key].corpus:
            assert entry["resampling"] == "mean", key
    assert compared["caption/bleu_4"]["resampling"] == "aggregate"


def test_verdicts_follow_the_declared_direction(compared):
    for key, entry in compared.items():
        assert entry["better"] == ("higher" if METRICS[key].higher_is_better else "lower"), key
    lexical = {k: m for k, m in METRICS.items() if m.task != "pope" and not m.name.startswith("judge_")}
    assert {k for k, m in lexical.items() if not m.higher_is_better} == {
        f"{t}/failure_rate" for t in TASKS if t != "pope"} | {
        "caption/chair_i", "caption/chair_s", "caption/chair_i_distinct", "diagnosis/healthy_false_alarm"}


def test_values_lie_in_the_declared_range(compared):
    for key, entry in compared.items():
        low, high = METRICS[key].value_range
        for value in (entry["a"], entry["b"]):
            assert value is None or low <= value <= high, (key, value)


def test_each_declaration_names_its_card_and_an_unknown_metric_is_refused_with_the_known_ones():
    import importlib

    for m in METRICS.values():
        assert importlib.import_module(m.card).__doc__, m.key
    with pytest.raises(WorkbenchError, match="recipe/dish_accuracy.*declare it there"):
        metric_info("recipe/dish_acuracy")


def test_headline_and_example_ranking_are_read_from_the_declarations():
    assert headline("caption") == ["failure_rate", "object_recall", "chair_i", "cider", "bleu_4"]
    assert example_ranking("recipe") == ["ingredient_f1", "ingredient_recall", "dish_accuracy"]
    assert all(headline(t)[0] == "failure_rate" for t in TASKS)

"""Every metric the scorers report, declared once: its task and name, which direction is better, its range,
whether it is corpus-level, and where its card is. compare (the verdict's direction), report (the front-page
headline, the examples' ranking) and the tiny model's card read this table; none of them keeps a list of its own.

How the fields are meant, as lmms-eval's ``higher_is_better`` and Hugging Face ``evaluate``'s ``MetricInfo``:
- ``higher_is_better``: a larger value is the better one (a paired difference is called "better" in that
  direction); None when neither direction is better (POPE's yes ratio: best near the labels' share).
- ``value_range``: (low, high) the metric can take; CIDEr-D, as pycocoevalcap computes it, is up to 10.
- ``corpus``: True when the set's value is computed from per-item statistics summed over the set (BLEU's n-gram
  counts, micro-averaged ratios, macro-F1), so it is not the mean of one per-item value and is recomputed on each
  bootstrap resample; False when it is the plain mean of a per-item value (``aggregate.Aggregator`` has the
  formulas).
- ``card``: the module whose docstring defines the metric, its source and its known limits.
- ``headline``: shown first (front page of the demo, the tiny model's held-out table), in declaration order.
- ``example_rank``: per-item metrics that rank the report's wins and losses, the lowest rank present first.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class MetricInfo:
    task: str
    name: str
    higher_is_better: bool | None   # None: no better direction (POPE's yes ratio); compare says "changed"
    value_range: tuple[float, float]
    corpus: bool
    card: str
    headline: bool = False
    example_rank: int | None = None

    @property
    def key(self) -> str:
        """``<task>/<name>``, the key in scores.json's ``aggregate`` and compare.json's ``metrics``."""
        return f"{self.task}/{self.name}"


_UNIT = (0.0, 1.0)
_CAPTION, _CHAIR, _FAILURE = "workbench.scoring.caption", "workbench.scoring.hallucination", "workbench.scoring.failure"
_RECIPE, _DIAGNOSIS = "workbench.scoring.recipe", "workbench.scoring.diagnosis"
_POPE, _JUDGE = "workbench.scoring.pope", "workbench.judge.protocols"


def _failure_rate(task: str) -> MetricInfo:
    return MetricInfo(task, "failure_rate", False, _UNIT, False, _FAILURE, headline=True)


METRICS: dict[str, MetricInfo] = {m.key: m for m in (
    _failure_rate("caption"),
    MetricInfo("caption", "object_recall", True, _UNIT, True, _CHAIR, headline=True, example_rank=2),
    MetricInfo("caption", "chair_i", False, _UNIT, True, _CHAIR, headline=True),
    MetricInfo("caption", "cider", True, (0.0, 10.0), False, _CAPTION, headline=True, example_rank=0),
    MetricInfo("caption", "bleu_4", True, _UNIT, True, _CAPTION, headline=True),
    MetricInfo("caption", "bleu_1", True, _UNIT, True, _CAPTION),
    MetricInfo("caption", "bleu_2", True, _UNIT, True, _CAPTION),
    MetricInfo("caption", "bleu_3", True, _UNIT, True, _CAPTION),
    MetricInfo("caption", "meteor", True, _UNIT, True, _CAPTION, example_rank=1),
    MetricInfo("caption", "rouge_l", True, _UNIT, False, _CAPTION),
    MetricInfo("caption", "chair_s", False, _UNIT, False, _CHAIR),
    MetricInfo("caption", "chair_i_distinct", False, _UNIT, True, _CHAIR),
    _failure_rate("recipe"),
    MetricInfo("recipe", "dish_accuracy", True, _UNIT, False, _RECIPE, headline=True, example_rank=2),
    MetricInfo("recipe", "ingredient_f1", True, _UNIT, True, _RECIPE, headline=True, example_rank=0),
    MetricInfo("recipe", "steps_present", True, _UNIT, False, _RECIPE, headline=True),
    MetricInfo("recipe", "ingredient_precision", True, _UNIT, True, _RECIPE),
    MetricInfo("recipe", "ingredient_recall", True, _UNIT, True, _RECIPE, example_rank=1),
    _failure_rate("diagnosis"),
    MetricInfo("diagnosis", "disease_accuracy", True, _UNIT, False, _DIAGNOSIS, headline=True, example_rank=0),
    MetricInfo("diagnosis", "crop_accuracy", True, _UNIT, False, _DIAGNOSIS, headline=True, example_rank=2),
    MetricInfo("diagnosis", "treatment_recall", True, _UNIT, True, _DIAGNOSIS, headline=True, example_rank=1),
    MetricInfo("diagnosis", "healthy_false_alarm", False, _UNIT, True, _DIAGNOSIS, headline=True),
    MetricInfo("diagnosis", "disease_macro_f1", True, _UNIT, True, _DIAGNOSIS),
)}


def _pope_metrics() -> list[MetricInfo]:
    """POPE's corpus metrics (workbench.scoring.pope): the official and the strict reading, pooled and per split,
    and the split means; every one is recomputed from summed counts on each resample."""
    out = []
    for tag in ("", "strict_"):
        for prefix in ("", "random/", "popular/", "adversarial/"):
            for name, higher in (("accuracy", True), ("precision", True), ("recall", True), ("f1", True),
                                 ("yes_ratio", None), ("neither_rate", False)):
                headline = (prefix, tag, name) in {("", "", "yes_ratio"), ("", "", "neither_rate"),
                                                   ("adversarial/", "", "f1")}
                out.append(MetricInfo("pope", f"{prefix}{tag}{name}", higher, _UNIT, True, _POPE,
                                      headline=headline))
        for name in ("f1_mean", "accuracy_mean"):
            out.append(MetricInfo("pope", f"{tag}{name}", True, _UNIT, True, _POPE,
                                  headline=not tag or name == "f1_mean"))
    # the headline order: the split means first
    return sorted(out, key=lambda m: not m.name.endswith("_mean"))


def _judge_metrics() -> list[MetricInfo]:
    """LLM-judge metrics (workbench.judge.protocols), per task: the judged failure rate, LLaVA-Bench's relative
    score (x100, above 100 when the model's answers are rated above the references) and the judged match."""
    out = []
    for task in ("caption", "recipe", "diagnosis", "pope"):
        out.append(MetricInfo(task, "judge_failure", False, _UNIT, False, _JUDGE))
        out.append(MetricInfo(task, "judge_relative", True, (0.0, 1000.0), True, _JUDGE))
        if task != "caption":
            out.append(MetricInfo(task, "judge_match", True, _UNIT, False, _JUDGE))
    return out


METRICS.update({m.key: m for m in (_failure_rate("pope"), *_pope_metrics(), *_judge_metrics())})


def metric_info(key: str) -> MetricInfo:
    """The declaration of ``<task>/<name>``; WorkbenchError naming the known keys of that task if undeclared."""
    if key not in METRICS:
        task = key.split("/", 1)[0]
        known = ", ".join(k for k in METRICS if k.startswith(task + "/")) or ", ".join(METRICS)
        raise WorkbenchError(f"metric {key!r} is not declared in workbench/scoring/metric_info.py "
                             f"(declared: {known}); declare it there with its direction and range")
    return METRICS[key]


def headline(task: str) -> list[str]:
    """The task's headline metric names, in declaration order."""
    return [m.name for m in METRICS.values() if m.task == task and m.headline]


# Per-item fields that rank a task's examples when no declared aggregate has a per-item field of its own name
# (POPE's per-item ``correct`` is what ``pope/accuracy`` averages).
ITEM_RANKING = {"pope": ["correct", "strict_correct"]}


def example_ranking(task: str) -> list[str]:
    """The task's per-item metrics that rank the report's examples, first choice first."""
    ranked = [m for m in METRICS.values() if m.task == task and m.example_rank is not None]
    return [m.name for m in sorted(ranked, key=lambda m: m.example_rank)] + ITEM_RANKING.get(task, [])

"""Scorers for captions, hallucination, failures, recipes and plant diagnoses (cards in each module).

Public API::

    score_predictions(eval_set, predictions) -> dict            # scores.json content
    score_run(run_dir, eval_set, out=None) -> dict              # writes run_dir/scores.json (or out)
    aggregate_items(task, items) -> {"<task>/<metric>": value}  # corpus metrics from per-item metrics
    Aggregator(task, items).resample(index)                     # vectorized, for bootstrap resamples

Plain per-task functions: ``caption.score_captions``, ``hallucination.score_hallucination``,
``failure.failure_reasons``, ``recipe.score_recipe``, ``diagnosis.score_diagnosis``. Local ``evaluate``
modules over them live in ``workbench/scoring/metrics/<name>/<name>.py``.
"""

from workbench.scoring.aggregate import Aggregator, aggregate_items
from workbench.scoring.scores import read_scores, score_file, score_predictions, score_run, write_scores

__all__ = ["Aggregator", "aggregate_items", "read_scores", "score_file", "score_predictions", "score_run",
           "write_scores"]

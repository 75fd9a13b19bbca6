"""Local `evaluate` module: failure rate with counts per reason.

``references`` are the task names (caption/recipe/diagnosis); ``finish`` (list of "stop"/"length"),
``task_references`` (list of the items' reference dicts, to build the on-task vocabulary) and
``vocabulary`` (objects) are optional. Card: ``workbench.scoring.failure``.
"""

import datasets
import evaluate

from workbench.scoring.failure import failure_reasons
from workbench.scoring.vocab import TaskVocabulary


class Failure(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="The MiniGPT-4 paper's 'failure' made operational: empty, too short, repetition, "
                        "no end symbol, template leak, off task.",
            citation="Zhu et al. 2023, MiniGPT-4 (arXiv:2304.10592).",
            inputs_description="predictions: list of str; references: list of task names; finish, "
                               "task_references, vocabulary: optional.",
            features=datasets.Features({
                "predictions": datasets.Value("string"),
                "references": datasets.Value("string"),
            }),
        )

    def _compute(self, predictions, references, finish=None, task_references=None, vocabulary=None):
        pairs = list(zip(references, task_references)) if task_references else []
        vocab = TaskVocabulary.from_references(pairs, objects=vocabulary)
        finish = finish or [None] * len(predictions)
        results = [failure_reasons(t, p, f, vocab) for p, t, f in zip(predictions, references, finish)]
        out = {"failure_rate": sum(r["failure"] for r in results) / len(results) if results else None}
        for r in results:
            for reason in r["failure_reasons"]:
                out[f"n_{reason}"] = out.get(f"n_{reason}", 0) + 1
        return out

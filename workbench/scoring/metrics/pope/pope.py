"""Local `evaluate` module: POPE accuracy, precision, recall, F1, yes ratio and neither rate, per split and mean.

Card: ``workbench.scoring.pope`` (official first-sentence reading, and the ``strict_`` exact-match reading).
"""

import datasets
import evaluate

from workbench.scoring.aggregate import aggregate_items
from workbench.scoring.pope import score_pope


class Pope(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="POPE yes/no object probing (Li et al. 2023): official and strict readings.",
            citation="Li et al., Evaluating Object Hallucination in Large Vision-Language Models, EMNLP 2023.",
            inputs_description="predictions: list of str; references: list of {label: yes|no, object, split}.",
            features=datasets.Features({
                "predictions": datasets.Value("string"),
                "references": {"label": datasets.Value("string"), "object": datasets.Value("string"),
                               "split": datasets.Value("string")},
            }),
        )

    def _compute(self, predictions, references):
        items = [dict(score_pope(p, dict(r)), failure=0) for p, r in zip(predictions, references)]
        agg = aggregate_items("pope", items)
        return {k.split("/", 1)[1]: v for k, v in agg.items() if k != "pope/failure_rate"}

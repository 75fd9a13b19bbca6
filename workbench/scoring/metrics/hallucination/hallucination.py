"""Local `evaluate` module: CHAIR_i, CHAIR_s and object recall of captions.

``references`` are each item's true objects; ``vocabulary`` ({object: [synonyms]}) defaults to the
objects in the references. Card: ``workbench.scoring.hallucination``.
"""

import datasets
import evaluate

from workbench.scoring.aggregate import aggregate_items
from workbench.scoring.hallucination import score_hallucination
from workbench.scoring.text import Matcher


class Hallucination(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="CHAIR_i / CHAIR_s (Rohrbach et al. 2018) and object recall against true objects.",
            citation="Rohrbach et al. 2018, Object Hallucination in Image Captioning.",
            inputs_description="predictions: list of str; references: list of list of object names; "
                               "vocabulary: dict object -> synonyms (optional).",
            features=datasets.Features({
                "predictions": datasets.Value("string"),
                "references": datasets.Sequence(datasets.Value("string")),
            }),
        )

    def _compute(self, predictions, references, vocabulary=None):
        if vocabulary is None:
            vocabulary = {obj: [] for objs in references for obj in objs}
        matcher = Matcher(vocabulary)
        items = [dict(score_hallucination(p, list(r), matcher), failure=0) for p, r in zip(predictions, references)]
        agg = aggregate_items("caption", items)
        return {name: agg[f"caption/{name}"] for name in ("chair_i", "chair_s", "object_recall")}

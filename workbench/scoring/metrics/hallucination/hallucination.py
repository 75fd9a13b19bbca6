"""Local `evaluate` module: CHAIR_i, CHAIR_s and object recall of captions.

``references`` are each item's labelled objects; ``captions`` (optional) each item's reference captions,
whose objects join the truth; ``vocabulary`` ({object: [synonyms]}) defaults to the objects in the
references, and COCO's 80 categories select the reference's CHAIR rules. Card: ``workbench.scoring.hallucination``.
"""

import datasets
import evaluate

from workbench.scoring.aggregate import aggregate_items
from workbench.scoring.hallucination import object_vocabulary, score_hallucination


class Hallucination(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="CHAIR_i / CHAIR_s (Rohrbach et al. 2018) and object recall against true objects.",
            citation="Rohrbach et al. 2018, Object Hallucination in Image Captioning.",
            inputs_description="predictions: list of str; references: list of list of object names; "
                               "captions: list of list of reference captions (optional); "
                               "vocabulary: dict object -> synonyms (optional).",
            features=datasets.Features({
                "predictions": datasets.Value("string"),
                "references": datasets.Sequence(datasets.Value("string")),
            }),
        )

    def _compute(self, predictions, references, captions=None, vocabulary=None):
        if vocabulary is None:
            vocabulary = {obj: [] for objs in references for obj in objs}
        finder = object_vocabulary(vocabulary)
        captions = captions if captions is not None else [()] * len(predictions)
        items = [dict(score_hallucination(p, list(r), finder, list(c)), failure=0)
                 for p, r, c in zip(predictions, references, captions)]
        agg = aggregate_items("caption", items)
        return {name: agg[f"caption/{name}"] for name in ("chair_i", "chair_s", "object_recall", "chair_i_distinct")}

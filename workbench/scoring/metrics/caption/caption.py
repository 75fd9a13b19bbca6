"""Local `evaluate` module: COCO caption metrics (BLEU-1..4, METEOR, ROUGE-L, CIDEr) via pycocoevalcap.

Load offline with ``evaluate.load("workbench/scoring/metrics/caption")``. Card: ``workbench.scoring.caption``.
"""

import datasets
import evaluate

from workbench.scoring.caption import score_captions


class Caption(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="COCO caption metrics exactly as pycocoevalcap (PTB tokenizer, Java); no SPICE.",
            citation="Chen et al. 2015, Microsoft COCO Captions: Data Collection and Evaluation Server.",
            inputs_description="predictions: list of str; references: list of list of str; meteor: bool.",
            features=datasets.Features({
                "predictions": datasets.Value("string"),
                "references": datasets.Sequence(datasets.Value("string")),
            }),
        )

    def _compute(self, predictions, references, meteor=True):
        return score_captions(list(predictions), [list(r) for r in references], meteor=meteor)["aggregate"]

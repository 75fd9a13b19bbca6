"""Local `evaluate` module: crop/disease accuracy, disease macro-F1, treatment recall, healthy false alarms.

The crop/disease/treatment vocabulary is built from the given references (plus ``synonyms``).
Card: ``workbench.scoring.diagnosis``.
"""

import datasets
import evaluate

from workbench.scoring.aggregate import aggregate_items
from workbench.scoring.diagnosis import score_diagnosis
from workbench.scoring.vocab import TaskVocabulary


class Diagnosis(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Plant-leaf diagnoses: crop, condition (healthy included), treatments, false alarms.",
            citation="MiniGPT-4 Workbench.",
            inputs_description="predictions: list of str; references: list of {crop, disease, treatments}; "
                               "synonyms: dict term -> synonyms (optional).",
            features=datasets.Features({
                "predictions": datasets.Value("string"),
                "references": {"crop": datasets.Value("string"), "disease": datasets.Value("string"),
                               "treatments": datasets.Sequence(datasets.Value("string"))},
            }),
        )

    def _compute(self, predictions, references, synonyms=None):
        refs = [{"crop": r["crop"], "disease": r["disease"], "treatments": list(r["treatments"])}
                for r in references]
        vocab = TaskVocabulary.from_references([("diagnosis", r) for r in refs], synonyms=synonyms)
        items = [dict(score_diagnosis(p, r, vocab), failure=0) for p, r in zip(predictions, refs)]
        agg = aggregate_items("diagnosis", items)
        return {k.split("/", 1)[1]: v for k, v in agg.items() if k != "diagnosis/failure_rate"}

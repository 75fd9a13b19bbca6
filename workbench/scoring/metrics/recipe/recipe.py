"""Local `evaluate` module: dish accuracy, ingredient precision/recall/F1 (micro), steps present.

The dish/ingredient vocabulary is built from the given references (plus ``synonyms``).
Card: ``workbench.scoring.recipe``.
"""

import datasets
import evaluate

from workbench.scoring.aggregate import aggregate_items
from workbench.scoring.recipe import score_recipe
from workbench.scoring.vocab import TaskVocabulary


class Recipe(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Recipe answers: dish named, ingredients listed, ordered steps present.",
            citation="MiniGPT-4 Workbench.",
            inputs_description="predictions: list of str; references: list of {dish, ingredients, steps}; "
                               "synonyms: dict term -> synonyms (optional).",
            features=datasets.Features({
                "predictions": datasets.Value("string"),
                "references": {"dish": datasets.Value("string"),
                               "ingredients": datasets.Sequence(datasets.Value("string")),
                               "steps": datasets.Sequence(datasets.Value("string"))},
            }),
        )

    def _compute(self, predictions, references, synonyms=None):
        refs = [{"dish": r["dish"], "ingredients": list(r["ingredients"]), "steps": list(r["steps"])}
                for r in references]
        vocab = TaskVocabulary.from_references([("recipe", r) for r in refs], synonyms=synonyms)
        items = [dict(score_recipe(p, r, vocab), failure=0) for p, r in zip(predictions, refs)]
        agg = aggregate_items("recipe", items)
        return {k.split("/", 1)[1]: v for k, v in agg.items() if k != "recipe/failure_rate"}

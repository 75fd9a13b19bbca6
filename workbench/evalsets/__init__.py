"""Eval sets: the folder contract (manifest.jsonl + images + optional vocabulary.json + card.md).

Public API::

    load_eval_set(path) -> EvalSet(name, root, items, manifest_sha256, vocabulary)
    validate_eval_set(path) -> list[Problem]      # str(problem) == "manifest.jsonl:LINE: what is wrong"
    EvalItem(id, task, image, image_path, prompt, reference)
    DEFAULT_PROMPTS, TASKS

Optional ``synonyms.json`` ({term: [synonyms]}) adds synonyms for dishes, ingredients, crops,
diseases and treatments; ``vocabulary.json`` stays the object vocabulary used for CHAIR.

Importers for COCO captions, PlantVillage and Food-101 live in ``workbench.evalsets.importers``.
"""

from workbench.evalsets.loader import EvalSet, load_eval_set, validate_eval_set
from workbench.evalsets.schema import DEFAULT_PROMPTS, TASKS, EvalItem, Problem

__all__ = ["DEFAULT_PROMPTS", "TASKS", "EvalItem", "EvalSet", "Problem", "load_eval_set",
           "validate_eval_set"]

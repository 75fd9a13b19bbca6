"""Recipe scorer: is the dish named, which ingredients are listed, are there ordered steps.

Card
- Mentions are matched against the eval set's own dish and ingredient vocabulary (every reference
  ``dish`` and ``ingredients`` entry, plus ``synonyms.json``) and the open dish lexicon (Food-101's
  classes, ``workbench.scoring.vocab``), normalized and plural-insensitive; the longest term wins, so
  "apple pie" is a dish mention, not the ingredient "apple". Negated mentions name nothing
  (``workbench.scoring.negation``: "no eggs", "without butter", "dairy-free").
- ``dish_accuracy`` (per item 0/1): the *first* dish named is the reference dish (naming every dish
  of the set does not score; a dish only the lexicon knows, such as "tacos" for an apple pie, is wrong).
- Ingredients: predicted = distinct ingredients mentioned; per item ``ingredient_precision`` =
  tp / predicted (0 when none predicted), ``ingredient_recall`` = tp / reference, ``ingredient_f1``.
  Corpus values are micro averages over summed ``ingredient_tp``, ``n_ingredients_pred``,
  ``n_ingredients_ref``: precision = sum tp / sum predicted, recall = sum tp / sum reference, F1 from them.
- ``steps_present`` (0/1): at least two ordered steps: numbered items "1." / "1)" followed later by "2." /
  "2)", or "step 1" ... "step 2", or "first" followed later by "then" / "next" / "second" / "after that" /
  "finally".
Known limits: ingredients outside the set's vocabulary are invisible (precision is optimistic); quantities
and step correctness are not checked.
"""

from __future__ import annotations

import re

from workbench.scoring.negation import named
from workbench.scoring.text import normalize
from workbench.scoring.vocab import TaskVocabulary

_NUMBERED = re.compile(r"(?:^|\s)(\d{1,2})\s*[.)]\s")
_STEP_WORD = re.compile(r"\bstep\s+(\d{1,2})\b")
_FIRST = re.compile(r"\bfirst(?:ly)?\b")
_LATER = re.compile(r"\b(?:then|next|second(?:ly)?|after that|afterwards|finally|lastly)\b")


def steps_present(output: str) -> int:
    raw = " " + output.replace("\n", " \n ") + " "
    numbers = [int(m) for m in _NUMBERED.findall(raw)]
    if 1 in numbers and 2 in numbers[numbers.index(1) + 1:]:
        return 1
    text = normalize(output)
    numbers = [int(m) for m in _STEP_WORD.findall(text)]
    if 1 in numbers and 2 in numbers[numbers.index(1) + 1:]:
        return 1
    first = _FIRST.search(text)
    return int(bool(first and _LATER.search(text, first.end())))


def score_recipe(output: str, reference: dict, vocab: TaskVocabulary) -> dict:
    mentions = named(output, vocab.recipe)
    dishes = [name for kind, name in mentions if kind == "dish"]
    predicted = {name for kind, name in mentions if kind == "ingredient"}
    dish_true = vocab.recipe.canonical(reference["dish"], "dish")
    truth = {vocab.recipe.canonical(i, "ingredient") for i in reference["ingredients"]}
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "dish_accuracy": int(bool(dishes) and dishes[0] == dish_true),
        "dish_pred": dishes[0] if dishes else None,
        "ingredient_precision": precision,
        "ingredient_recall": recall,
        "ingredient_f1": f1,
        "ingredient_tp": tp,
        "n_ingredients_pred": len(predicted),
        "n_ingredients_ref": len(truth),
        "steps_present": steps_present(output),
    }

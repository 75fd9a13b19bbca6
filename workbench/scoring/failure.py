"""The paper's "failure" made operational: a list of reasons per answer; failure = any reason.

Card (reasons, checked in this order; all that apply are listed)
- ``missing``: the run has no prediction for the item (then the only reason).
- ``empty``: nothing but whitespace/punctuation.
- ``too_short``: fewer normalized words than ``MIN_WORDS[task]`` (caption 8 for "describe in detail",
  recipe 12, diagnosis 5). Not raised together with ``empty``.
- ``repetition``: the repeated 3-gram share, 1 - distinct/total 3-grams over normalized words, is at least
  ``REPETITION_SHARE`` (0.3) with at least 3 3-grams (a degenerate loop such as "a cat a cat a cat").
- ``no_end``: generation stopped at the token limit (``finish == "length"``) instead of the end symbol.
- ``template_leak``: the raw output contains chat-template text (``TEMPLATE_MARKERS``: ``###``,
  ``Human:``, ``Assistant:``, ``<Img>``, ``</Img>``, ``<ImageHere>``, ``[INST]``, ``[/INST]``, ``</s>``).
- ``off_task``: the answer does another task than the one asked, or none, judged by the names it uses
  (the eval set's and the open lexicons', ``workbench.scoring.vocab``; negated names count too, "no sign
  of blight" is on the diagnosis task). Caption: names no vocabulary object. Recipe: names no dish,
  ingredient or cooking verb (``COOKING_VERBS``), or every recipe word it uses is also a plant word (a
  crop: "potato", "tomato") while it names a disease, condition or further crop (a leaf described when a
  recipe was asked). Diagnosis: names no crop and no condition (disease, healthy phrase, disease word),
  or every plant word it uses is also a recipe word while it names a dish, ingredient or cooking verb (a
  recipe given when a diagnosis was asked). A wrong answer to the asked task is *not* off task: a taco
  recipe for an apple-pie photo names a dish and ingredients, a wrong disease names a disease (accuracy
  measures those). The same answer gets the same verdict whichever items are scored with it. Not raised
  for ``empty`` answers. Pope (a yes/no question, ``MIN_WORDS`` 1): the answer says neither yes nor no in
  its first sentence (``scoring.pope.says_neither``).
Known limits: thresholds are fixed conventions, not learned; off_task depends on vocabulary coverage
(words in no vocabulary are invisible).
"""

from __future__ import annotations

from workbench.scoring.pope import says_neither
from workbench.scoring.negation import mentions
from workbench.scoring.text import words
from workbench.scoring.vocab import TaskVocabulary

MIN_WORDS = {"caption": 8, "recipe": 12, "diagnosis": 5, "pope": 1}
REPETITION_N = 3
REPETITION_SHARE = 0.3
TEMPLATE_MARKERS = ("###", "Human:", "Assistant:", "<Img>", "</Img>", "<ImageHere>", "[INST]", "[/INST]",
                    "</s>")


def repetition_share(tokens: list[str], n: int = REPETITION_N) -> float:
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def _spans(found) -> set[tuple[int, int]]:
    return {(m.start, m.end) for m in found}


def on_task(task: str, output: str, vocab: TaskVocabulary) -> bool:
    """Whether ``output`` does the asked ``task`` (see ``off_task`` in the card)."""
    if task == "pope":
        return not says_neither(output)
    if task == "caption":
        return bool(vocab.objects.find(output))
    recipe = _spans(m for m in mentions(output, vocab.recipe) if m.canonical[0] in ("dish", "ingredient"))
    recipe |= _spans(mentions(output, vocab.cooking_verbs))
    plant = _spans(m for m in mentions(output, vocab.diagnosis)
                   if m.canonical[0] in ("crop", "disease", "disease_generic", "healthy", "disease_word"))
    own, other = (recipe, plant) if task == "recipe" else (plant, recipe)
    if not own:
        return False
    return not (own <= other and other - own)


def failure_reasons(task: str, output: str | None, finish: str | None, vocab: TaskVocabulary) -> dict:
    """-> {"failure": 0|1, "failure_reasons": [...], "n_words": int, "repetition": float}."""
    if output is None:
        return {"failure": 1, "failure_reasons": ["missing"], "n_words": 0, "repetition": 0.0}
    tokens = words(output)
    share = repetition_share(tokens)
    reasons = []
    if not tokens:
        reasons.append("empty")
    elif len(tokens) < MIN_WORDS[task]:
        reasons.append("too_short")
    if len(tokens) - REPETITION_N + 1 >= 3 and share >= REPETITION_SHARE:
        reasons.append("repetition")
    if finish == "length":
        reasons.append("no_end")
    if any(marker in output for marker in TEMPLATE_MARKERS):
        reasons.append("template_leak")
    if tokens and not on_task(task, output, vocab):
        reasons.append("off_task")
    return {"failure": int(bool(reasons)), "failure_reasons": reasons, "n_words": len(tokens),
            "repetition": share}

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
- ``off_task``: the answer does not engage with the task, judged against the eval set's vocabulary
  (``workbench.scoring.vocab``): caption names no vocabulary object; recipe names no ingredient of the
  set, no dish of the set and no cooking verb (``COOKING_VERBS``); diagnosis names no crop of the set and no condition
  (disease of the set, or a healthy phrase); pope (a yes/no question, ``MIN_WORDS`` 1) answers neither
  yes nor no in its first sentence (``scoring.pope.says_neither``). Not raised for ``empty`` answers.
Known limits: thresholds are fixed conventions, not learned; a fluent answer about the wrong object is
not a failure here (CHAIR and accuracy measure that); off_task depends on vocabulary coverage.
"""

from __future__ import annotations

from workbench.scoring.pope import says_neither
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


def on_task(task: str, output: str, vocab: TaskVocabulary) -> bool:
    if task == "pope":
        return not says_neither(output)
    if task == "caption":
        return bool(vocab.objects.find(output))
    if task == "recipe":
        kinds = {kind for kind, _ in vocab.recipe.find(output)}
        return "ingredient" in kinds or "dish" in kinds or bool(vocab.cooking_verbs.find(output))
    kinds = {kind for kind, _ in vocab.diagnosis.find(output)}
    return bool(kinds & {"crop", "disease", "healthy"})


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

"""POPE scorer: yes/no object probing (Li et al., EMNLP 2023, arXiv:2305.10355; RUCAIBox/POPE).

Card
- An item asks "Is there a <object> in the image?"; its reference is ``{"label": "yes"|"no", "object",
  "split": "random"|"popular"|"adversarial"}``. "yes" is the positive class.
- **Official reading** (``official_answer``), exactly RUCAIBox/POPE ``evaluate.py``: keep the text before
  the first ``.``, delete commas, split on single spaces; the answer is "no" if one of the words is ``No``,
  ``no`` or ``not`` (case-sensitive, so ``NO`` or ``no!`` are not), and "yes" otherwise. That script thus
  reads every answer without a negation as "yes" (also "There is a dog." and the empty answer). We keep its
  numbers for comparability and, so that nothing is mapped silently, flag such answers: ``neither`` = 1
  when the kept first sentence has no negation word and no word "yes" (any case, punctuation stripped).
- **Strict reading** (``strict_answer``): the whole answer, lower-cased, stripped of surrounding
  whitespace and of trailing ``.``/``!``, must be exactly "yes" or "no"; anything else is ``neither``
  (counted wrong for accuracy, never a positive prediction, so a "yes" item answered that way is a miss).
  "Yes." is yes; "Yes, there is." is neither (lmms-eval's plain exact match would call "Yes." wrong too).
- Corpus metrics, each overall (``pope/<m>``) and per split (``pope/<split>/<m>``) for the splits present:
  ``accuracy`` = (TP + TN) / n; ``precision`` = TP / (TP + FP), null when nothing was answered yes;
  ``recall`` = TP / (TP + FN), null without "yes" items; ``f1`` = 2PR / (P + R) (null when P or R is null,
  0 when both are 0); ``yes_ratio`` = share of the *answers* read as yes (not of the labels, which
  lmms-eval reports by mistake); ``neither_rate`` = share of answers flagged ``neither``. The strict
  reading's are the same names with a ``strict_`` prefix. ``f1_mean`` and ``accuracy_mean`` (and
  ``strict_f1_mean``, ``strict_accuracy_mean``) are the unweighted means over the splits present; papers
  average one or the other without saying which, so both are named.
Known limits: the official rule reads "I do not know" as no and "There is no way to tell" as no; only the
first sentence counts, so "Yes. Actually no." is yes.
"""

from __future__ import annotations

import re

import numpy as np

from workbench.scoring.ratios import f1_score, safe_div

SPLITS = ("random", "popular", "adversarial")
LABELS = ("yes", "no")
QUESTION_TEMPLATE = "Is there a {} in the image?"   # POPE main.py --template default
NEGATIONS = ("No", "not", "no")                       # evaluate.py, case-sensitive
_STRIP = re.compile(r"^[^\w]+|[^\w]+$")


def _first_sentence_words(text: str) -> list[str]:
    if text.find(".") != -1:
        text = text.split(".")[0]
    return text.replace(",", "").split(" ")


def official_answer(text: str) -> str:
    """"yes" or "no" as RUCAIBox/POPE evaluate.py reads ``text`` (see the card)."""
    words = _first_sentence_words(text)
    return "no" if any(w in words for w in NEGATIONS) else "yes"


def says_neither(text: str) -> bool:
    """True when the official reading says "yes" only because the first sentence has no negation:
    none of its words (punctuation stripped, any case) is "yes"."""
    words = _first_sentence_words(text)
    if any(w in words for w in NEGATIONS):
        return False
    return not any(_STRIP.sub("", w).lower() == "yes" for w in words)


def strict_answer(text: str) -> str | None:
    """"yes", "no" or None: the whole answer, case-insensitive, without surrounding space and trailing
    ``.``/``!``, must be exactly one of the two."""
    core = text.strip().rstrip(".!").strip().lower()
    return core if core in LABELS else None


def score_pope(output: str, reference: dict) -> dict:
    """Per-item POPE metrics for one answer (``output`` may be "") -> dict of 0/1 ints and strings.

    ``correct``/``strict_correct``: the reading equals the label; ``answer``/``strict_answer``: the
    reading ("yes"/"no"; strict may be None); ``neither``/``strict_neither``; ``label``; ``split``."""
    label = reference["label"]
    official = official_answer(output)
    strict = strict_answer(output)
    return {"label": label, "split": reference["split"], "object": reference["object"],
            "answer": official, "correct": int(official == label), "neither": int(says_neither(output)),
            "strict_answer": strict, "strict_correct": int(strict == label), "strict_neither": int(strict is None)}


def undefined_why(metric: str, aggregate: dict | None = None) -> str | None:
    """Why the POPE metric ``metric`` (a name without ``pope/``, e.g. ``adversarial/strict_f1``) is null, or
    None for a name this module does not define. With ``aggregate`` (the ``pope/...`` values of the same
    scores), an F1 names the one of precision and recall that is undefined, and an F1 mean names the splits
    whose F1 is. Read by ``scoring.scores.undefined_reasons``."""
    split, _, name = metric.rpartition("/")
    strict = name.startswith("strict_")
    base = name.removeprefix("strict_")
    prefix = "strict_" if strict else ""
    where = f"in the {split} split" if split else "among the scored items"
    said_yes = "is exactly yes (strict reading)" if strict else "reads as yes (first sentence)"
    why = {"precision": f"no answer {where} {said_yes}, so precision divides by 0",
           "recall": f"no item {where} is labelled yes, so recall divides by 0",
           "f1": f"precision or recall is undefined {where}: no answer {said_yes}, or no item is labelled yes",
           "f1_mean": f"the {'strict ' if strict else ''}F1 of at least one split is undefined: no answer there "
                      f"{said_yes}",
           "accuracy_mean": "no split has scored items"}
    if (split and split not in SPLITS) or base not in why:
        return None
    if aggregate is not None and base == "f1" and (cause := _f1_causes(split, prefix, aggregate)):
        return f"F1 is undefined because {cause}"
    if aggregate is not None and base == "f1_mean":
        causes = {s: c for s in SPLITS if (c := _f1_causes(s, prefix, aggregate))}
        if causes:
            return (f"the {'strict ' if strict else ''}F1 of the {', '.join(causes)} split"
                    f"{'s' if len(causes) > 1 else ''} is undefined: "
                    + "; ".join(f"{s}: {c}" for s, c in causes.items()))
    return why[base]


def _f1_causes(split: str, prefix: str, aggregate: dict) -> str | None:
    """Which of precision and recall of ``split`` ("" for all items) is null in ``aggregate``, and why; None
    when neither is (or the split is not there)."""
    group = f"pope/{split + '/' if split else ''}{prefix}"
    parts = [p for p in ("precision", "recall") if f"{group}{p}" in aggregate and aggregate[f"{group}{p}"] is None]
    if not parts:
        return None
    return " and ".join(undefined_why(f"{split + '/' if split else ''}{prefix}{p}") for p in parts)


# ---------------------------------------------------------------- aggregation (used by scoring.aggregate)

def _group_columns(metrics, mask) -> dict:
    pos = np.array([m.get("label") == "yes" for m in metrics], dtype=float) * mask
    yes = np.array([m.get("answer") == "yes" for m in metrics], dtype=float) * mask
    s_yes = np.array([m.get("strict_answer") == "yes" for m in metrics], dtype=float) * mask
    col = {"n": mask, "pos": pos, "yes": yes, "tp": pos * yes, "s_yes": s_yes, "s_tp": pos * s_yes}
    for key in ("correct", "neither", "strict_correct", "strict_neither"):
        col[key] = np.array([m.get(key) or 0 for m in metrics], dtype=float) * mask
    return col


def pope_columns(metrics: list[dict]) -> dict:
    """Per-item columns for every group ("" = all items, then each split present)."""
    cols = {}
    present = [s for s in SPLITS if any(m.get("split") == s for m in metrics)]
    groups = {"": np.ones(len(metrics))}
    groups.update({f"{s}/": np.array([m.get("split") == s for m in metrics], dtype=float) for s in present})
    for prefix, mask in groups.items():
        cols.update({f"{prefix}{k}": v for k, v in _group_columns(metrics, mask).items()})
    return cols


def _prf(tp, n_yes, n_pos):
    precision, recall = safe_div(tp, n_yes), safe_div(tp, n_pos)
    return precision, recall, f1_score(precision, recall)


def _group_formulas(s, prefix: str) -> dict:
    n = s[f"{prefix}n"]
    out = {}
    for tag, yes, tp in (("", "yes", "tp"), ("strict_", "s_yes", "s_tp")):
        precision, recall, f1 = _prf(s[f"{prefix}{tp}"], s[f"{prefix}{yes}"], s[f"{prefix}pos"])
        out.update({f"{prefix}{tag}accuracy": safe_div(s[f"{prefix}{tag}correct"], n),
                    f"{prefix}{tag}precision": precision, f"{prefix}{tag}recall": recall,
                    f"{prefix}{tag}f1": f1, f"{prefix}{tag}yes_ratio": safe_div(s[f"{prefix}{yes}"], n),
                    f"{prefix}{tag}neither_rate": safe_div(s[f"{prefix}{tag}neither"], n)})
    return out


def pope_formulas(s: dict, m) -> dict:
    """Corpus metrics (names without the ``pope/`` prefix) from summed columns, vectorized over resamples."""
    out = _group_formulas(s, "")
    splits = [sp for sp in SPLITS if f"{sp}/n" in s]
    for sp in splits:
        out.update(_group_formulas(s, f"{sp}/"))
    for tag in ("", "strict_"):
        for name in ("f1", "accuracy"):
            values = np.stack([out[f"{sp}/{tag}{name}"] for sp in splits]) if splits else np.full((1, len(m)), np.nan)
            out[f"{tag}{name}_mean"] = values.mean(axis=0)
    return out

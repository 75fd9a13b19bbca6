"""Hallucination and coverage of object mentions in captions: CHAIR_i, CHAIR_s (Rohrbach et al., 2018), recall.

Card
- Mentioned objects: the distinct canonical objects of the eval set's vocabulary (``vocabulary.json``,
  synonyms and plurals folded; see ``workbench.scoring.text``) found in the caption.
- Truth: the item's ``reference.objects`` mapped to their canonical names.
- Per item: ``chair_i`` = hallucinated / mentioned (0 when nothing is mentioned), ``chair_s`` = 1 if any
  mentioned object is not in the truth, ``object_recall`` = truth objects mentioned / truth objects
  (None when the item lists no objects). Sufficient statistics ``n_mentioned``, ``n_hallucinated``,
  ``n_objects``, ``n_covered`` are kept.
- Corpus: ``chair_i`` = sum hallucinated / sum mentioned (as Rohrbach et al.), ``chair_s`` = mean of
  ``chair_s``, ``object_recall`` = sum covered / sum truth objects (micro average).
Known limits: an object counts as hallucinated only if it is in the vocabulary; negations ("there is no
dog") count as mentions; CHAIR on a model that names no objects is 0 (see ``failure``'s off_task).
"""

from __future__ import annotations

from workbench.scoring.text import Matcher


def score_hallucination(prediction: str, objects: list[str], vocabulary: Matcher | dict) -> dict:
    matcher = vocabulary if isinstance(vocabulary, Matcher) else Matcher(vocabulary)
    mentioned = set(matcher.find(prediction))
    truth = {matcher.canonical(o) for o in objects}
    hallucinated = mentioned - truth
    covered = mentioned & truth
    return {
        "chair_i": len(hallucinated) / len(mentioned) if mentioned else 0.0,
        "chair_s": int(bool(hallucinated)),
        "object_recall": len(covered) / len(truth) if truth else None,
        "n_mentioned": len(mentioned),
        "n_hallucinated": len(hallucinated),
        "n_objects": len(truth),
        "n_covered": len(covered),
        "hallucinated": sorted(map(str, hallucinated)),
    }

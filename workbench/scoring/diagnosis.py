"""Plant-diagnosis scorer: crop, condition (disease or healthy), treatments, false alarms on healthy leaves.

Card
- Mentions are matched against the eval set's own crops, diseases and treatments (every reference value,
  plus ``synonyms.json``) and the open crop and plant-disease lexicons (``workbench.scoring.vocab``),
  normalized and plural-insensitive; "healthy" is recognized by ``vocab.HEALTHY_TERMS`` ("healthy",
  "no disease", "disease-free", ...) or a negated general disease word ("no visible signs of disease").
- Negated mentions name nothing (``workbench.scoring.negation``): "no sign of blight" does not name
  blight, "not healthy" does not say healthy.
- ``crop_pred``: the first crop mentioned; ``crop_accuracy`` = 1 if it is the reference crop.
- ``disease_pred``: the first specific disease named (the set's, or the lexicon's); without one, the first
  generic disease word ("blight", "spots": the lexicon's ``generic`` words); if none, "healthy" when a
  healthy phrase appears; else ``None`` (no condition named). ``disease_accuracy`` = 1 if it equals the reference condition (a healthy
  leaf must be called healthy).
- ``disease_macro_f1`` (corpus only): F1 per condition, averaged over the conditions present in the
  references of the scored items (healthy included); per-item labels ``disease_true``/``disease_pred``
  are kept so subsets can recompute it. An answer naming no condition counts against its true class only.
- ``treatment_recall``: for an item with reference treatments, the share of them recalled; a treatment
  is recalled when all its content words (normalized, singular, ``STOPWORDS`` removed) occur in the answer.
  Corpus: sum recalled / sum reference treatments. None for items without treatments (healthy leaves).
- ``healthy_false_alarm``: for healthy leaves only, 1 if the answer names a disease, whether the eval set
  uses that disease or only the lexicon knows it ("apple scab" on a healthy apple leaf). Corpus: their mean.
  A disease the eval set does not use is a wrong diagnosis on a diseased leaf.
Known limits: treatment matching is lexical, so paraphrases ("copper spray" for "copper fungicide") miss,
and a negated treatment ("do not apply fungicide") still counts; a disease named by neither the eval set
nor the lexicon is invisible; see ``negation`` for what negation handling misses.
"""

from __future__ import annotations

from workbench.scoring.negation import mentions
from workbench.scoring.text import key_tokens
from workbench.scoring.vocab import TaskVocabulary

HEALTHY = "healthy"
STOPWORDS = {"a", "an", "the", "of", "to", "and", "or", "with", "on", "in", "for", "all", "any", "it", "its",
             "by", "at", "from", "as", "be", "is", "are", "if", "every", "each"}


def _content(text: str) -> set[str]:
    return {w for w in key_tokens(text) if w not in STOPWORDS}


def score_diagnosis(output: str, reference: dict, vocab: TaskVocabulary) -> dict:
    found = mentions(output, vocab.diagnosis)
    named = [m.canonical for m in found if not m.negated]
    crops = [name for kind, name in named if kind == "crop"]
    # a specific name first ("septoria leaf spot"); a generic word ("spots", "blight") only without one
    diseases = ([name for kind, name in named if kind == "disease"]
                or [name for kind, name in named if kind == "disease_generic"])
    said_healthy = any(kind == "healthy" for kind, _ in named) or any(
        m.negated and m.canonical[0] == "disease_word" for m in found)
    crop_true = vocab.diagnosis.canonical(reference["crop"], "crop")
    healthy_leaf = reference["disease"].strip().lower() == HEALTHY
    disease_true = HEALTHY if healthy_leaf else vocab.diagnosis.canonical(reference["disease"], "disease")
    disease_pred = diseases[0] if diseases else (HEALTHY if said_healthy else None)
    answer_words = set(key_tokens(output))
    treatments = reference["treatments"]
    recalled = sum(1 for t in treatments if _content(t) and _content(t) <= answer_words)
    return {
        "crop_accuracy": int(bool(crops) and crops[0] == crop_true),
        "crop_pred": crops[0] if crops else None,
        "disease_accuracy": int(disease_pred == disease_true),
        "disease_true": disease_true,
        "disease_pred": disease_pred,
        "treatment_recall": recalled / len(treatments) if treatments else None,
        "n_treatments": len(treatments),
        "n_treatments_recalled": recalled,
        "healthy_false_alarm": int(bool(diseases)) if healthy_leaf else None,
    }

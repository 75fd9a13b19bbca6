"""The closed vocabularies that free-text answers are matched against, built from one eval set.

Card: where the words come from
- objects (CHAIR, caption off-task): ``vocabulary.json`` ({object: [synonyms]}); without it, the set of
  all caption ``reference.objects``.
- dishes, ingredients, crops, diseases, treatments: every value of that field in *all* the eval set's
  references (never only the scored items: an item's scores do not depend on which others are scored),
  normalized (see ``workbench.scoring.text``), plus synonyms from the optional ``synonyms.json``
  ({term: [synonyms]}).
- open lexicons beside the eval set's own names (``workbench/lexicon/``): diseases (``plant_diseases``:
  PlantVillage's 38 classes and the usual disease words), crops (``crops``) and dishes (``dishes``:
  Food-101's 101 classes); the generic disease words (blight, rust, spot, ...) are kind
  ``disease_generic``, read as a disease only when no specific one is named. A lexicon entry that shares
  a name with an eval-set term of the same kind lends it its other synonyms (``esca`` reads as the set's ``black measles``); any other entry is a name
  of its own (a healthy leaf called "yellow leaf curl virus" is a false alarm even when the set never uses
  that disease). A lexicon name that the eval set uses for another kind is left to the eval set.
- the condition "healthy" is recognized by the fixed phrases in ``HEALTHY_TERMS``; a negated general
  disease word (``DISEASE_WORDS``: "no visible disease", "without any infection") also says healthy.
- cooking-step verbs for the recipe off-task check are the fixed list ``COOKING_VERBS``.
Known limit: an ingredient that no reference recipe uses, or an object outside the vocabulary, is still
invisible (there is no open ingredient lexicon).
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.lexicon import lexicon
from workbench.scoring.text import Matcher, key_tokens

HEALTHY_TERMS = ["healthy", "no disease", "disease free", "not diseased", "no sign of disease",
                 "free of disease", "no infection"]
DISEASE_WORDS = ["disease", "infection", "pathogen", "illness"]
# open lexicon per (matcher, kind): which shipped names each matcher reads beside the eval set's own
OPEN_LEXICONS = {"recipe": [("dish", "dishes", "terms")],
                 "diagnosis": [("disease", "plant_diseases", "terms"),
                               ("disease_generic", "plant_diseases", "generic"), ("crop", "crops", "terms")]}
COOKING_VERBS = ["add", "bake", "beat", "blend", "boil", "broil", "chop", "combine", "cook", "cut",
                 "dice", "drain", "fold", "fry", "grate", "grill", "heat", "knead", "marinate", "melt",
                 "mince", "mix", "peel", "pour", "preheat", "roast", "saute", "season", "serve",
                 "simmer", "slice", "spread", "sprinkle", "steam", "stir", "toast", "toss", "whisk"]


def with_lexicons(terms: dict, lexicons: list[tuple[str, str, str]]) -> dict:
    """``terms`` ({(kind, name): [synonyms]}, the eval set's) plus the open lexicons, merged as the card says."""
    terms = {key: list(values) for key, values in terms.items()}
    owner = {}
    for key, values in terms.items():
        for term in [key[1], *values]:
            owner.setdefault(key_tokens(term), key)
    for kind, name, section in lexicons:
        for canonical, synonyms in lexicon(name, section).items():
            entry = [canonical, *synonyms]
            same = [owner[k] for k in map(key_tokens, entry) if k in owner and owner[k][0] == kind]
            target = same[0] if same else (kind, canonical)
            added = terms.setdefault(target, [])
            for term in entry:
                k = key_tokens(term)
                if k and k not in owner:
                    owner[k] = target
                    if term != target[1]:
                        added.append(term)
            if not same and not any(owner.get(key_tokens(t)) == target for t in entry):
                del terms[target]     # every name of the entry belongs to the eval set already
    return terms


def _verb_forms(verb: str) -> list[str]:
    """Crude inflections (bake -> baked, baking; chop -> chopped, chopping); spurious forms are harmless."""
    stem = verb[:-1] if verb.endswith("e") else verb
    return sorted({verb + "s", stem + "ed", stem + "ing", verb + verb[-1] + "ed", verb + verb[-1] + "ing"})


@dataclass
class TaskVocabulary:
    objects: Matcher        # canonical object names (CHAIR)
    recipe: Matcher         # ("dish"|"ingredient", name)
    diagnosis: Matcher      # ("crop"|"disease"|"healthy"|"treatment", name)
    cooking_verbs: Matcher

    @classmethod
    def from_references(cls, references: list[tuple[str, dict]], objects: dict[str, list[str]] | None = None,
                        synonyms: dict[str, list[str]] | None = None) -> "TaskVocabulary":
        """``references``: (task, reference) pairs; ``objects``: vocabulary.json content or None.

        Reference names of one kind with the same matching key (``key_tokens``: "Eggs" and "egg") are one
        term under the first spelling seen; ``canonical`` maps the others to it."""
        synonyms = synonyms or {}
        syn = {" ".join(k.lower().split()): v for k, v in synonyms.items()}
        first_name: dict[tuple, tuple[str, str]] = {}

        def add(terms, kind, name):
            # spellings of one term ("Eggs" in one item, "egg" in another) share the first one's canonical,
            # so a mention is predicted once and both references name it
            canonical = first_name.setdefault((kind, key_tokens(name)), (kind, name))
            bucket = terms.setdefault(canonical, [])
            bucket.extend(v for v in syn.get(" ".join(name.lower().split()), []) if v not in bucket)

        if objects is None:
            objects = {}
            for task, ref in references:
                if task == "caption":
                    for obj in ref["objects"]:
                        objects.setdefault(obj, [])
        recipe_terms, diag_terms = {}, {}
        for task, ref in references:
            if task == "recipe":
                for kind, names in (("dish", [ref["dish"]]), ("ingredient", ref["ingredients"])):
                    for name in names:
                        add(recipe_terms, kind, name)
            elif task == "diagnosis":
                for kind, names in (("crop", [ref["crop"]]), ("treatment", ref["treatments"])):
                    for name in names:
                        add(diag_terms, kind, name)
                if ref["disease"].strip().lower() != "healthy":
                    add(diag_terms, "disease", ref["disease"])
        diag_terms[("healthy", "healthy")] = HEALTHY_TERMS
        diag_terms[("disease_word", "disease")] = DISEASE_WORDS
        recipe_terms = with_lexicons(recipe_terms, OPEN_LEXICONS["recipe"])
        diag_terms = with_lexicons(diag_terms, OPEN_LEXICONS["diagnosis"])
        return cls(objects=Matcher(objects), recipe=Matcher(recipe_terms), diagnosis=Matcher(diag_terms),
                   cooking_verbs=Matcher({v: _verb_forms(v) for v in COOKING_VERBS}))

    @classmethod
    def from_eval_set(cls, eval_set) -> "TaskVocabulary":
        """From every item of the eval set, also when ``eval_set`` is a ``head(limit)`` of it."""
        items = getattr(eval_set, "all_items", None) or eval_set.items
        refs = [(item.task, item.reference) for item in items]
        return cls.from_references(refs, objects=eval_set.vocabulary, synonyms=getattr(eval_set, "synonyms", {}))

"""The closed vocabularies that free-text answers are matched against, built from one eval set.

Card: where the words come from
- objects (CHAIR, caption off-task): ``vocabulary.json`` ({object: [synonyms]}); without it, the set of
  all caption ``reference.objects``.
- dishes, ingredients, crops, diseases, treatments: every value of that field in the eval set's
  references, normalized (see ``workbench.scoring.text``), plus synonyms from the optional
  ``synonyms.json`` ({term: [synonyms]}).
- the condition "healthy" is recognized by the fixed phrases in ``HEALTHY_TERMS``.
- cooking-step verbs for the recipe off-task check are the fixed list ``COOKING_VERBS``.
Consequence (a known limit): a mention of something that appears nowhere in the set's references (an
ingredient no reference recipe uses, an object outside the vocabulary) is invisible to every scorer.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.scoring.text import Matcher

HEALTHY_TERMS = ["healthy", "no disease", "disease free", "not diseased", "no sign of disease",
                 "free of disease", "no infection"]
COOKING_VERBS = ["add", "bake", "beat", "blend", "boil", "broil", "chop", "combine", "cook", "cut",
                 "dice", "drain", "fold", "fry", "grate", "grill", "heat", "knead", "marinate", "melt",
                 "mince", "mix", "peel", "pour", "preheat", "roast", "saute", "season", "serve",
                 "simmer", "slice", "spread", "sprinkle", "steam", "stir", "toast", "toss", "whisk"]


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
        """``references``: (task, reference) pairs; ``objects``: vocabulary.json content or None."""
        synonyms = synonyms or {}
        syn = {" ".join(k.lower().split()): v for k, v in synonyms.items()}

        def with_syn(kind, name):
            return (kind, name), syn.get(" ".join(name.lower().split()), [])

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
                        key, values = with_syn(kind, name)
                        recipe_terms.setdefault(key, values)
            elif task == "diagnosis":
                for kind, names in (("crop", [ref["crop"]]), ("treatment", ref["treatments"])):
                    for name in names:
                        key, values = with_syn(kind, name)
                        diag_terms.setdefault(key, values)
                if ref["disease"].strip().lower() != "healthy":
                    key, values = with_syn("disease", ref["disease"])
                    diag_terms.setdefault(key, values)
        diag_terms[("healthy", "healthy")] = HEALTHY_TERMS
        return cls(objects=Matcher(objects), recipe=Matcher(recipe_terms), diagnosis=Matcher(diag_terms),
                   cooking_verbs=Matcher({v: _verb_forms(v) for v in COOKING_VERBS}))

    @classmethod
    def from_eval_set(cls, eval_set) -> "TaskVocabulary":
        refs = [(item.task, item.reference) for item in eval_set.items]
        return cls.from_references(refs, objects=eval_set.vocabulary, synonyms=getattr(eval_set, "synonyms", {}))

"""Object hallucination in captions: CHAIR_i and CHAIR_s (Rohrbach et al., 2018) and object recall.

Card
- Source: Rohrbach, Hendricks, Burns, Darrell, Saenko, "Object Hallucination in Image Captioning", EMNLP 2018;
  reference implementation LisaAnne/Hallucination ``utils/chair.py`` with ``data/synonyms.txt``.
- Mentions: every mention of a vocabulary object in the caption, in order, repeats kept ("a man, a woman and a
  boy" is three mentions of person). Two vocabularies:
  - COCO (an eval set whose ``vocabulary.json`` names exactly COCO's 80 categories, as ``workbench import coco``
    writes it): the reference's own rules, shipped as data in ``data/coco_chair.json`` (``CocoChair``): its
    synonym list, its two-word names ("hot dog", "teddy bear", "toilet seat" -> toilet, "bow tie" -> tie,
    "passenger jet" -> jet, "train track" and "home plate" -> no object), baby/adult + animal -> the animal,
    "seat" dropped when the caption also says "toilet", and its singularization (pattern.en's, as a table of
    forms: "tvs" -> tv, "buses" -> bus). Text is lower-cased and split as nltk's ``word_tokenize`` does.
  - any other eval set: its ``vocabulary.json`` ({object: [synonyms]}) through ``workbench.scoring.text.Matcher``
    (normalized tokens, plurals folded, longest match first).
- Truth: the item's ``reference.objects`` (instance labels, mapped to their objects) together with every object
  that the item's reference captions mention, found by the same rules (as the reference builds it).
- Per item: ``chair_i`` = hallucinated mentions / mentions (0 when nothing is mentioned, as the reference's
  per-caption value), ``chair_s`` = 1 if any mention is hallucinated, ``object_recall`` = truth objects
  mentioned / truth objects (None when the truth is empty), ``chair_i_distinct`` = hallucinated distinct
  objects / distinct objects mentioned (the workbench's earlier definition). Sufficient statistics
  ``n_mentioned``, ``n_hallucinated``, ``n_mentioned_distinct``, ``n_hallucinated_distinct``, ``n_objects``,
  ``n_covered``; ``mentioned`` and ``hallucinated`` list the objects, one entry per mention.
- Corpus (``workbench.scoring.aggregate``): ``chair_i`` = sum hallucinated / sum mentions (null when no caption
  mentions anything), ``chair_s`` = mean, ``object_recall`` = sum covered / sum truth objects.
Known limits (the reference's too): negations ("there is no dog") count as mentions; a word is an object only if
it is in the vocabulary; word senses are not told apart ("a bow" the knot is a tie). Deviations from the
reference are listed in docs/scorers.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from workbench.scoring.text import Matcher

COCO_DATA = "coco_chair.json"
_SPLIT = re.compile(r"\.\.\.|--|[,;:@#$%&?!()\[\]{}<>\"`]")
_CLITIC = re.compile(r"^(.*[^'])('s|'m|'d|'ll|'re|'ve|n't|')$")


def chair_tokens(text: str) -> list[str]:
    """Lower-cased word tokens of ``text`` as the reference gets them from ``nltk.word_tokenize`` (Punkt sentence
    split + Treebank rules): punctuation, a word's trailing periods, clitics ("'s", "n't") and a leading quote
    split off; hyphenated words and slashes kept whole (so "hot-dog" is no hot dog, as in the reference).
    -> list of str. Checked against nltk on 6,148 COCO captions (docs/scorers.md)."""
    tokens = []
    for raw in _SPLIT.sub(lambda m: f" {m.group()} ", text.lower()).split():
        if len(raw) > 1 and raw.startswith("'"):
            tokens.append("'")
            raw = raw[1:]
        word = raw.rstrip(".") or raw
        match = _CLITIC.match(word)
        tokens.extend([match.group(1), match.group(2)] if match else [word])
        if word != raw:
            tokens.append(raw[len(word):])
    return tokens


@dataclass(frozen=True)
class CocoChair:
    """The reference's CHAIR vocabulary and word rules for COCO (data in ``data/coco_chair.json``).

    ``mentions(text)`` -> [(word, object)], one pair per mention in order; ``canonical(name)`` -> the object
    a name or synonym stands for (the name itself when unknown)."""

    objects: dict            # word or two-word name -> COCO object (category name)
    pairs: dict              # two singular words -> what they stand for (an object word or another word)
    singular: dict           # surface form -> singular, for every form whose singular the rules use
    drop_with: dict          # word -> word that removes it ("seat" when "toilet" is in the caption)

    @classmethod
    def load(cls) -> "CocoChair":
        return _load_coco()

    def canonical(self, name: str) -> str:
        return self.objects.get(" ".join(name.lower().split()), name)

    def mentions(self, text: str) -> list[tuple[str, str]]:
        words = [self.singular.get(t) for t in chair_tokens(text)]     # None: not a word the rules use
        merged, i = [], 0
        while i < len(words):
            pair = f"{words[i]} {words[i + 1]}" if i + 1 < len(words) and words[i] and words[i + 1] else None
            if pair in self.pairs:
                merged.append(self.pairs[pair])
                i += 2
            else:
                merged.append(words[i])
                i += 1
        for word, trigger in self.drop_with.items():
            if word in merged and trigger in merged:
                merged = [w for w in merged if w != word]
        return [(w, self.objects[w]) for w in merged if w in self.objects]


@lru_cache(maxsize=1)
def _load_coco() -> CocoChair:
    data = json.loads(resources.files("workbench.scoring").joinpath("data", COCO_DATA).read_text(encoding="utf-8"))
    objects = {}
    for name, synonyms in data["objects"].items():
        for word in [name, *synonyms]:
            objects[word] = name
    pairs = {compound: compound for compound in data["compounds"]}
    for qualifier, heads in data["qualifiers"].items():
        pairs.update({f"{qualifier} {head}": head for head in heads})
    pairs.update(data["compound_overrides"])
    return CocoChair(objects=objects, pairs=pairs, singular=data["singular"], drop_with=data["drop_with"])


def coco_categories() -> list[str]:
    """COCO's 80 object categories, in the reference's order."""
    return list(dict.fromkeys(_load_coco().objects.values()))


def coco_synonyms() -> dict[str, list[str]]:
    """{category: [synonyms]} of the reference's list: what ``workbench import coco`` writes to vocabulary.json."""
    out = {name: [] for name in coco_categories()}
    for word, name in _load_coco().objects.items():
        if word != name:
            out[name].append(word)
    return out


class VocabularyMentions:
    """Mentions of an eval set's own vocabulary ({object: [synonyms]}) through ``Matcher``."""

    def __init__(self, vocabulary):
        self.matcher = vocabulary if isinstance(vocabulary, Matcher) else Matcher(vocabulary)

    def canonical(self, name: str):
        return self.matcher.canonical(name)

    def mentions(self, text: str) -> list[tuple[str, str]]:
        return [(obj, obj) for obj in self.matcher.find(text)]


def is_coco_vocabulary(vocabulary) -> bool:
    """True when ``vocabulary`` ({object: [synonyms]}) names exactly COCO's 80 categories."""
    return isinstance(vocabulary, dict) and set(vocabulary) == set(coco_categories())


def object_vocabulary(vocabulary):
    """The mention finder for an eval set's vocabulary: ``CocoChair`` for COCO's categories, else
    ``VocabularyMentions``. Accepts a finder (returned as is), a ``Matcher`` or a {object: [synonyms]} dict."""
    if hasattr(vocabulary, "mentions"):
        return vocabulary
    if is_coco_vocabulary(vocabulary):
        return CocoChair.load()
    return VocabularyMentions(vocabulary)


def truth_objects(objects, captions, vocabulary) -> set:
    """Ground truth of one image: its labelled ``objects`` (mapped to their objects) together with every
    object its reference ``captions`` mention (Rohrbach et al.'s ground truth)."""
    finder = object_vocabulary(vocabulary)
    truth = {finder.canonical(o) for o in objects}
    for caption in captions:
        truth.update(obj for _, obj in finder.mentions(caption))
    return truth


def score_hallucination(prediction: str, objects, vocabulary, captions=()) -> dict:
    """CHAIR and object recall of one caption (see the module card).

    ``objects``: the image's labelled objects (list of str); ``captions``: its reference captions (their
    objects join the truth); ``vocabulary``: ``object_vocabulary``'s input. -> per-item metrics dict."""
    finder = object_vocabulary(vocabulary)
    truth = truth_objects(objects, captions, finder)
    mentioned = [obj for _, obj in finder.mentions(prediction)]
    hallucinated = [obj for obj in mentioned if obj not in truth]
    distinct, distinct_hallucinated = set(mentioned), set(hallucinated)
    covered = distinct & truth
    return {
        "chair_i": len(hallucinated) / len(mentioned) if mentioned else 0.0,
        "chair_s": int(bool(hallucinated)),
        "chair_i_distinct": len(distinct_hallucinated) / len(distinct) if distinct else 0.0,
        "object_recall": len(covered) / len(truth) if truth else None,
        "n_mentioned": len(mentioned),
        "n_hallucinated": len(hallucinated),
        "n_mentioned_distinct": len(distinct),
        "n_hallucinated_distinct": len(distinct_hallucinated),
        "n_objects": len(truth),
        "n_covered": len(covered),
        "mentioned": [str(o) for o in mentioned],
        "hallucinated": [str(o) for o in hallucinated],
    }


def coco_vocabulary_warning(vocabulary, where="") -> str | None:
    """A warning when a COCO vocabulary.json differs from the reference's list (CHAIR then uses the reference's
    list, so that its numbers stay comparable), else None."""
    if not is_coco_vocabulary(vocabulary):
        return None
    reference = coco_synonyms()
    if all(set(vocabulary[name]) == set(reference[name]) for name in reference):
        return None
    return (f"{where}/vocabulary.json names COCO's 80 categories but not with the reference CHAIR synonyms: "
            "CHAIR uses the reference's list (workbench/scoring/data/coco_chair.json); re-import the set with "
            "`workbench import coco` to have it written there")

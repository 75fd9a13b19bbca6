"""Text normalization and vocabulary matching shared by the recipe, diagnosis, hallucination and failure scorers.

Card: how free text is matched against a vocabulary
- ``normalize`` (from ``workbench.names``, shared with the importers): Unicode NFKC, accents folded
  (``crêpe`` -> ``crepe``), lower case, ``_`` and every non-alphanumeric character become spaces, whitespace
  collapsed.
- ``singular``: a rule-based singularizer (irregular table; words of up to 3 letters kept; ``-ies``->``-y``
  for words longer than 4 letters, ``-oes``->``-o``,
  ``-ches/-shes/-xes/-zes/-sses`` drop ``es``, otherwise a final ``s`` is dropped unless the word ends in
  ``ss``/``us``/``is``). It is applied to *both* the vocabulary and the text, so it only has to map a
  word's singular and plural to the same key, not to produce correct English.
- ``Matcher``: terms (a canonical name plus synonyms) become tuples of singular tokens; a text is scanned
  left to right taking the longest term that starts at each token (up to the longest term), without
  overlaps, so ``hot dog`` is one mention and does not also count as ``dog``.
- ``Matcher.find`` reports every mention; the task scorers read negation on top of it
  (``workbench.scoring.negation``: "no sign of blight" does not name blight).
Known limits: no lemmatization beyond plurals;
no word-sense disambiguation ("orange" the fruit and the colour are one term).
"""

from __future__ import annotations

from workbench.names import normalize

IRREGULAR = {
    "men": "man", "women": "woman", "children": "child", "people": "person", "mice": "mouse",
    "teeth": "tooth", "feet": "foot", "geese": "goose", "leaves": "leaf", "knives": "knife",
    "loaves": "loaf", "halves": "half", "wolves": "wolf", "shelves": "shelf", "calves": "calf",
    "scarves": "scarf", "lives": "life", "wives": "wife", "shoes": "shoe", "buses": "bus",
    "cookies": "cookie", "movies": "movie", "pies": "pie", "ties": "tie", "dice": "die",
    "oxen": "ox", "cacti": "cactus", "fungi": "fungus", "bacteria": "bacterium",
}
_KEEP = ("ss", "us", "is")


def singular(word: str) -> str:
    if word in IRREGULAR:
        return IRREGULAR[word]
    if len(word) <= 3 or word.endswith(_KEEP):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("oes"):
        return word[:-2]
    if word.endswith(("ches", "shes", "xes", "zes", "sses")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def key_tokens(text: str) -> tuple[str, ...]:
    """The matching key of a text: normalized, singular tokens."""
    return tuple(singular(w) for w in normalize(text).split())


def words(text: str) -> list[str]:
    return normalize(text).split()


class Matcher:
    """Finds mentions of canonical terms (with synonyms) in free text; see the module card.

    A canonical name may be any hashable (e.g. ``("dish", "pancakes")``), so one matcher can hold several
    kinds of term and the longest match decides between them. A key shared by several canonicals yields all.
    """

    def __init__(self, terms):
        if not isinstance(terms, dict):
            terms = {t: [] for t in terms}
        self.lookup: dict[tuple[str, ...], list] = {}
        for canonical, synonyms in terms.items():
            name = canonical[1] if isinstance(canonical, tuple) else canonical
            for term in [name, *synonyms]:
                key = key_tokens(term)
                if key and canonical not in self.lookup.setdefault(key, []):
                    self.lookup[key].append(canonical)
        self.max_len = max((len(k) for k in self.lookup), default=0)

    def canonical(self, term: str, kind: str | None = None):
        """The (first) canonical name of ``term`` if it is a known term or synonym, else ``term``.

        With ``kind``, only ``(kind, name)`` canonicals count and the plain ``name`` is returned."""
        hits = self.lookup.get(key_tokens(term), [])
        if kind is not None:
            names = [c[1] for c in hits if isinstance(c, tuple) and c[0] == kind]
            return names[0] if names else term
        return hits[0] if hits else term

    def find(self, text: str) -> list:
        """Canonical names mentioned in ``text``, in order of appearance (repeats kept)."""
        tokens = key_tokens(text)
        found = []
        i = 0
        while i < len(tokens):
            for n in range(min(self.max_len, len(tokens) - i), 0, -1):
                hits = self.lookup.get(tokens[i:i + n])
                if hits is not None:
                    found.extend(hits)
                    i += n
                    break
            else:
                i += 1
        return found

    def spans(self, tokens: tuple[str, ...]) -> list[tuple[int, int, list]]:
        """Longest non-overlapping matches in key tokens, left to right: ``[(start, end, canonicals)]``."""
        out = []
        i = 0
        while i < len(tokens):
            for n in range(min(self.max_len, len(tokens) - i), 0, -1):
                hits = self.lookup.get(tokens[i:i + n])
                if hits is not None:
                    out.append((i, i + n, hits))
                    i += n
                    break
            else:
                i += 1
        return out

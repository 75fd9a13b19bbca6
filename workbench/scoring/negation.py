"""Mentions of vocabulary terms in free text, with negation: "no sign of blight" does not name blight.

Card (a small NegEx-style rule set; Chapman et al. 2001, "A simple algorithm for identifying negated
findings and diseases in discharge summaries", adapted to plant and recipe answers)
- The text is split into clauses at ``. ; : ! ?``, line breaks and the contrast words ``but``, ``however``,
  ``although``, ``though``, ``whereas``, ``except``; ``n't`` is read as ``not``.
- In each clause, terms are found as ``Matcher`` finds them (normalized, singular, longest match). A term
  is *negated* when
  - a negation cue precedes it in the clause (``no``, ``not``, ``without``, ``never``, ``neither``, ``nor``,
    ``free of``, ``absence of``) and every word between the cue and the term is a filler word (``FILLERS``:
    articles, "sign(s) of", "evidence of", "symptoms of", "affected by", "show", "see", ...) or a term
    already negated by the same cue joined by "and"/"or"/"nor" ("no blight or rust" negates both); or
  - it is directly followed by ``free`` ("blight-free", "blight free").
- Terms that themselves hold a negation ("no disease", "disease-free", from ``vocab.HEALTHY_TERMS``) are
  matched whole first, so they are never read as a cue plus a term.
Known limits: a cue scopes over fillers only, so "no, it has blight" names blight but "no blight, rust is
spreading" negates rust too (commas are not boundaries, to keep lists together); no hedging ("possibly
blight" names blight); no double negation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workbench.scoring.text import Matcher, key_tokens

_CLAUSE = re.compile(r"[.;:!?\n\r]+|\b(?:but|however|although|though|whereas|except)\b", re.IGNORECASE)
_NOT = re.compile(r"n[’']t\b|\bcannot\b", re.IGNORECASE)
CUES = {("no",), ("not",), ("without",), ("never",), ("neither",), ("nor",), ("free", "of"), ("absence", "of")}
POST_CUES = {"free"}
# compared with singular key tokens (key_tokens), so "signs" is "sign"
FILLERS = {
    "a", "an", "the", "any", "some", "sign", "evidence", "symptom", "trace", "indication", "hint", "presence",
    "case", "kind", "type", "form", "visible", "obvious", "apparent", "clear", "active", "further", "other",
    "of", "with", "by", "from", "for", "to", "appear", "seem", "look", "like", "be", "is", "are", "been",
    "being", "show", "showing", "shown", "see", "seen", "detect", "detected", "find", "found", "have", "ha",
    "has", "having", "had", "affected", "infected", "suffering", "caused", "suggest", "suggesting",
    "indicate", "indicating", "there", "or", "and", "nor", "either", "also", "really", "necessarily",
    "due", "leaf", "plant", "contain", "containing", "include", "including", "need",
    "needed", "use", "using", "added", "add",
}
# after a negated term, only these keep the negation going ("no blight or rust"; not "... and it has rust")
LIST_WORDS = {"and", "or", "nor", "a", "an", "the", "any", "other"}


@dataclass(frozen=True)
class Mention:
    canonical: object
    start: int          # token positions in the whole text's key tokens (clauses concatenated)
    end: int
    negated: bool


def _clause_tokens(text: str) -> list[tuple[str, ...]]:
    text = _NOT.sub(lambda m: " not" if m.group(0).lower() != "cannot" else "can not", text)
    return [key_tokens(part) for part in _CLAUSE.split(text) if part and part.strip()]


def _cue_ends(tokens: tuple[str, ...], covered: set[int]) -> set[int]:
    """Positions just after a negation cue that is not part of a matched term."""
    ends = set()
    for i in range(len(tokens)):
        for cue in CUES:
            j = i + len(cue)
            if tokens[i:j] == cue and not covered.intersection(range(i, j)):
                ends.add(j)
    return ends


def _clause_mentions(tokens: tuple[str, ...], matcher: Matcher, offset: int) -> list[Mention]:
    spans = matcher.spans(tokens)
    covered = {i for start, end, _ in spans for i in range(start, end)}
    cue_ends = _cue_ends(tokens, covered)
    out = []
    active = after_term = False
    i = 0
    by_start = {start: (end, hits) for start, end, hits in spans}
    while i < len(tokens):
        if i in cue_ends:
            active, after_term = True, False
        if i in by_start:
            end, hits = by_start[i]
            post = end < len(tokens) and tokens[end] in POST_CUES and end not in covered
            out.extend(Mention(c, offset + i, offset + end, active or post) for c in hits)
            i, after_term = end, True
            continue
        if tokens[i] not in (LIST_WORDS if after_term else FILLERS):
            active = after_term = False
        i += 1
    return out


def mentions(text: str, matcher: Matcher) -> list[Mention]:
    """Every mention of the matcher's terms in ``text``, in order, each with ``negated`` (see the card).

    Positions count key tokens over the whole text, so mentions found by two matchers in one text can be
    compared (``workbench.scoring.failure`` does, to tell a recipe from a leaf description)."""
    out, offset = [], 0
    for tokens in _clause_tokens(text):
        out.extend(_clause_mentions(tokens, matcher, offset))
        offset += len(tokens)
    return out


def named(text: str, matcher: Matcher) -> list:
    """Canonicals that ``text`` names (mentions that are not negated), in order, repeats kept."""
    return [m.canonical for m in mentions(text, matcher) if not m.negated]

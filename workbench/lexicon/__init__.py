"""Open name lexicons shipped with the package: plant diseases, crops, dishes (``<name>.json`` beside this file).

Each file is ``{"about": source and scope, "terms": {canonical name: [synonyms]}}``; ``plant_diseases``
also has ``"generic"``: the usual generic disease words (blight, rust, spot, ...), which the diagnosis
scorer reads as a disease only when the answer names no specific one. The scorers add these
names to an eval set's own (``workbench.scoring.vocab``), so an answer that names a disease or dish the
eval set never uses is still read; the PlantVillage importer uses ``canonical_names`` to spell a class the
way the lexicon does. Read-only data; nothing is loaded at import time.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from workbench.names import normalize

LEXICONS = ("plant_diseases", "crops", "dishes")


@lru_cache(maxsize=None)
def _load(name: str, section: str = "terms") -> tuple[tuple[str, tuple[str, ...]], ...]:
    if name not in LEXICONS:
        raise ValueError(f"unknown lexicon {name!r} (known: {', '.join(LEXICONS)})")
    data = json.loads(resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8"))
    return tuple((canonical, tuple(synonyms)) for canonical, synonyms in data.get(section, {}).items())


def lexicon(name: str, section: str = "terms") -> dict[str, list[str]]:
    """``{canonical: [synonyms]}`` of the named lexicon's ``section`` ("terms", or "generic"), a fresh copy;
    ``ValueError`` for an unknown lexicon name."""
    return {canonical: list(synonyms) for canonical, synonyms in _load(name, section)}


def canonical_names(name: str) -> dict[str, str]:
    """``normalize(term) -> canonical`` for every canonical name and synonym of the named lexicon."""
    out = {}
    for canonical, synonyms in _load(name):
        for term in (canonical, *synonyms):
            out.setdefault(normalize(term), canonical)
    return out

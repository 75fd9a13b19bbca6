"""Names as datasets write them and as text says them: the one normalization importers and scorers share.

Card
- ``normalize(text)``: Unicode NFKC, accents folded (``crêpe`` -> ``crepe``), lower case, ``_`` and every
  non-alphanumeric character become spaces, whitespace collapsed. Two names are the same name when their
  ``normalize`` agree; the scorers' matching (``workbench.scoring.text``) starts from it.
- ``plantvillage_class(folder)``: a PlantVillage class folder (Hughes & Salathé 2015, arXiv:1511.08060;
  the 38 folders of the "PlantVillage-Dataset" release) -> a ``ClassName`` with readable, lower-case crop
  and disease names and the raw spellings kept as synonyms:
  ``Corn_(maize)`` -> ``corn``; ``Pepper,_bell`` -> ``bell pepper``; ``Cherry_(including_sour)`` -> ``cherry``
  (a crop's parenthesis is dropped); ``Cercospora_leaf_spot Gray_leaf_spot`` -> ``gray leaf spot`` with
  ``cercospora leaf spot`` as synonym (a space separates alternative names: the last is the canonical one);
  ``Esca_(Black_Measles)`` -> ``esca`` with ``black measles`` as synonym (a disease's parenthesis is an
  alternative name); ``Tomato_Yellow_Leaf_Curl_Virus`` -> ``yellow leaf curl virus`` with
  ``tomato yellow leaf curl virus`` as synonym (a leading crop word is dropped); trailing ``_`` dropped
  (``Common_rust_``). A name the shipped lexicon lists as a synonym takes the lexicon's canonical spelling
  (``Haunglongbing`` -> ``huanglongbing``).
- ``food101_dish(folder)``: ``apple_pie`` -> ``apple pie``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_PAREN = re.compile(r"\(([^()]*)\)")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(_NON_ALNUM.sub(" ", text).split())


def _readable(raw: str) -> str:
    """``_`` -> space, whitespace collapsed, stray separators at the ends dropped, lower case."""
    return " ".join(raw.replace("_", " ").split()).strip(" ,").lower()


def _dedupe(names, drop=()) -> list[str]:
    """Distinct names (by ``normalize``), first spelling kept, minus those equal to any of ``drop``."""
    seen = {normalize(d) for d in drop}
    out = []
    for name in names:
        key = normalize(name)
        if key and key not in seen:
            seen.add(key)
            out.append(name)
    return out


@dataclass(frozen=True)
class ClassName:
    crop: str
    disease: str                          # "healthy" for a healthy class
    crop_synonyms: list[str] = field(default_factory=list)
    disease_synonyms: list[str] = field(default_factory=list)


def crop_name(raw: str) -> tuple[str, list[str]]:
    """``Pepper,_bell`` -> ("bell pepper", ["Pepper,_bell"]); see the module card."""
    plain = _readable(_PAREN.sub(" ", raw))
    if "," in plain:
        head, _, tail = plain.partition(",")
        plain = " ".join(f"{tail} {head}".split())
    return plain, _dedupe([raw, _readable(raw)], drop=[plain])


def disease_name(raw: str, crop: str) -> tuple[str, list[str]]:
    """``Tomato_Yellow_Leaf_Curl_Virus`` (crop "tomato") -> ("yellow leaf curl virus", [...]); see the card."""
    from workbench.lexicon import canonical_names

    aliases = [_readable(a) for a in _PAREN.findall(raw)]
    alternatives = [_readable(a) for a in _PAREN.sub(" ", raw).split(" ") if _readable(a)]
    name = alternatives[-1] if alternatives else _readable(raw)
    synonyms = [raw, _readable(raw), *alternatives[:-1], *aliases]
    crop_words = set(normalize(crop).split())
    words = name.split()
    if len(words) > 1 and normalize(words[0]) in crop_words:
        synonyms.append(name)
        name = " ".join(words[1:])
    canonical = canonical_names("plant_diseases").get(normalize(name))
    if canonical and normalize(canonical) != normalize(name):
        synonyms.append(name)
        name = canonical
    return name, _dedupe(synonyms, drop=[name])


def plantvillage_class(folder: str) -> ClassName:
    """``<Crop>___<Disease>`` folder name -> ``ClassName``; ``ValueError`` without ``___``."""
    if "___" not in folder:
        raise ValueError(f"{folder!r} is not a <Crop>___<Disease> folder name")
    crop_raw, disease_raw = folder.split("___", 1)
    crop, crop_synonyms = crop_name(crop_raw)
    if normalize(disease_raw) == "healthy":
        return ClassName(crop, "healthy", crop_synonyms, [])
    disease, disease_synonyms = disease_name(disease_raw, crop)
    return ClassName(crop, disease, crop_synonyms, disease_synonyms)


def food101_dish(folder: str) -> str:
    """``apple_pie`` -> ``apple pie``."""
    return _readable(folder)

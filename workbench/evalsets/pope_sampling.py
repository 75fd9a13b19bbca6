"""POPE's question sampling (Li et al., EMNLP 2023; RUCAIBox/POPE ``utils.py``), as plain functions.

For every image, ``per_image`` (3) present objects are asked about, each followed by one absent object
chosen by the split's rule:
- ``random``: drawn uniformly from the object pool until one is neither in the image nor asked already;
- ``popular``: the most frequent object of the frequency table that is neither;
- ``adversarial``: the object most often co-occurring with *this* present object that is neither; if none
  is left, a random one (as POPE does; the popular split falls back the same way).
Ties in a table keep first-seen order (POPE sorts Python dicts stably). The present objects are the image's
first ``per_image`` objects in the given order. Frequencies and co-occurrences are counted over whatever
image lists the caller gives (POPE: the sampled images themselves; synth-pope: the world's training scenes).
Used by ``importers.pope`` and ``world.pope``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from workbench.scoring.pope import SPLITS


def frequencies(object_lists: Sequence[Sequence[str]]) -> dict[str, int]:
    """object -> number of images holding it, in first-seen order (POPE ``generate_ground_truth_objects``)."""
    counts: dict[str, int] = {}
    for objects in object_lists:
        for o in dict.fromkeys(objects):
            counts[o] = counts.get(o, 0) + 1
    return counts


def co_occurrence(object_lists: Sequence[Sequence[str]]) -> dict[str, list[str]]:
    """object -> the other objects seen with it in one image, most often first, ties in first-seen order
    (POPE ``compute_co_occurrence``)."""
    table: dict[str, dict[str, int]] = {}
    for objects in object_lists:
        objects = list(dict.fromkeys(objects))
        for o in objects:
            row = table.setdefault(o, {})
            for other in objects:
                if other != o:
                    row[other] = row.get(other, 0) + 1
    return {o: [k for k, _ in sorted(row.items(), key=lambda kv: kv[1], reverse=True)] for o, row in table.items()}


def _random_absent(rng: random.Random, pool: list[str], excluded: set[str]) -> str:
    if not set(pool) - excluded:
        raise ValueError(f"no absent object left to ask about: each of the {len(set(pool))} categories seen is in "
                         "the image or already asked")
    while True:
        choice = rng.choice(pool)
        if choice not in excluded:
            return choice


def questions_for_image(objects: Sequence[str], split: str, rng: random.Random, frequency: dict[str, int],
                        co_occur: dict[str, list[str]], per_image: int = 3) -> list[tuple[str, str]]:
    """[(object, "yes"|"no"), ...] alternating present / absent, 2 * ``per_image`` long.

    ``objects``: the image's distinct objects (at least ``per_image``); ``frequency``: object -> count
    (its keys are also the random pool); ``co_occur``: object -> co-occurring objects, most frequent first.
    Raises ValueError for an unknown split or an image with too few objects."""
    if split not in SPLITS:
        raise ValueError(f"unknown POPE split {split!r} (known: {', '.join(SPLITS)})")
    objects = list(dict.fromkeys(objects))
    if len(objects) < per_image:
        raise ValueError(f"an image needs at least {per_image} objects, this one has {len(objects)}")
    pool = list(frequency)
    by_popularity = [k for k, _ in sorted(frequency.items(), key=lambda kv: kv[1], reverse=True)]
    asked: set[str] = set()
    out = []
    for present in objects[:per_image]:
        asked.add(present)
        out.append((present, "yes"))
        excluded = asked | set(objects)
        ranked = {"random": [], "popular": by_popularity, "adversarial": co_occur.get(present, [])}[split]
        absent = next((o for o in ranked if o not in excluded), None)
        if absent is None:
            absent = _random_absent(rng, pool, excluded)
        asked.add(absent)
        out.append((absent, "no"))
    return out


def question_text(obj: str) -> str:
    """POPE's question; "an" before a vowel as in the released files ("Is there an umbrella in the image?")."""
    return f"Is there {'an' if obj[:1].lower() in 'aeiou' else 'a'} {obj} in the image?"

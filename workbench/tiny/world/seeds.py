"""Seed ranges of the procedural world, in one place, so eval items never share a seed with training items.

Every item of the world is drawn from a numpy stream keyed by ``(seed, domain, index)``; two items share
pixels or text only if they share that whole key. Each use of the world owns a disjoint range of seeds:
a build may use any seed inside its range (``split_seed``), and the eval sets use the ``eval`` range only.
"""

from __future__ import annotations

import numpy as np

from workbench.errors import WorkbenchError

# split -> range of seeds it may use. The ranges are disjoint (tests check it); SEEDS holds each range's start.
SEED_RANGES: dict[str, range] = {
    "pretrain": range(1_000, 2_000),  # foundation pretraining of the tiny vision encoder / Q-Former
    "stage1": range(2_000, 3_000),  # stage-1 image-caption pairs
    "stage2": range(3_000, 4_000),  # stage-2 candidates before curation
    "corpus": range(4_000, 5_000),  # text corpus for the tiny LLM (text only, no pixels)
    "probe": range(5_000, 6_000),  # linear-probe train/test images for the frozen encoder's card
    "eval": range(9_000, 10_000),  # held-out eval sets (eval_sets/synth-*)
}
SEEDS: dict[str, int] = {name: r.start for name, r in SEED_RANGES.items()}

DOMAINS: tuple[str, ...] = ("scene", "dish", "leaf")
_DOMAIN_KEY = {"scene": 11, "dish": 22, "leaf": 33, "corpus": 44, "corpus_shape": 55, "corpus_slot_qa": 66,
               "corpus_pope_qa": 77}


def split_seed(split: str, offset: int = 0) -> int:
    """The seed ``offset`` places into ``split``'s range; raises if it would leave the range."""
    if split not in SEED_RANGES:
        raise WorkbenchError(f"seeds.py: unknown split {split!r}; known: {', '.join(SEED_RANGES)}")
    r = SEED_RANGES[split]
    if not 0 <= offset < len(r):
        raise WorkbenchError(f"seeds.py: offset {offset} leaves the {split} seed range {r.start}..{r.stop - 1}")
    return r.start + offset


def split_of(seed: int) -> str | None:
    """Which split's range holds ``seed`` (None when no split owns it)."""
    for name, r in SEED_RANGES.items():
        if seed in r:
            return name
    return None


def item_streams(seed: int, domain: str, index: int) -> tuple[np.random.Generator, ...]:
    """The (content, pixels, text) random streams of item ``index`` of ``domain`` under ``seed``.

    They depend on nothing else (not on how many items are drawn), and being separate streams, the content
    and text of an item do not change with the render size.
    """
    if domain not in _DOMAIN_KEY:
        raise WorkbenchError(f"seeds.py: unknown domain {domain!r}; known: {', '.join(_DOMAIN_KEY)}")
    if seed < 0 or index < 0:
        raise WorkbenchError(f"seeds.py: seed and index must be >= 0, got seed={seed} index={index}")
    root = np.random.SeedSequence([int(seed), _DOMAIN_KEY[domain], int(index)])
    return tuple(np.random.default_rng(s) for s in root.spawn(3))

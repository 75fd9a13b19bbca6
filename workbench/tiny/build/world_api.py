"""What the build needs from a world: the names ``build_tiny`` reads, and nothing else.

``workbench.tiny.world`` is the world the shipped model is built from; tests pass a small stand-in module
(``tests/train_stub_world.py``) with the same names. A world lacking one fails at the start of the build with
the list of what is missing, not by a fallback that builds a different model.
"""

from __future__ import annotations

from types import ModuleType
from typing import Callable, Protocol

from workbench.errors import WorkbenchError


class World(Protocol):
    IMAGE_SIZE: int                            # square image side, pixels
    KIND_SYNONYMS: dict[str, list[str]]        # object kind -> words a caption may use for it (curation)
    NAME_GROUPS: dict[str, list[str]]          # names a soft slot must keep apart, per group (diagnostics)
    OBJECT_VOCABULARY: dict[str, list[str]]    # vocabulary.json of a caption set built from this world
    SYNONYMS: dict[str, list[str]]             # synonyms.json of recipe and diagnosis sets
    sample_items: Callable[..., list]          # (domain, n, seed) -> items with .image, .reference, .labels, ...
    split_seed: Callable[[str, int], int]      # (split, offset) -> first seed of that split
    corpus: Callable[..., list]                # (seed, n_docs, n_slots=) -> the LLM's mixed documents
    extra_documents: Callable[..., list]       # (seed, n_shape_facts, slot_question_counts, n_slots=, pope_docs=) -> documents


def check_world(world: ModuleType) -> World:
    """``world`` itself once it has every name of ``World``; else WorkbenchError listing the missing names."""
    missing = [name for name in World.__annotations__ if not hasattr(world, name)]
    if missing:
        raise WorkbenchError(f"{getattr(world, '__name__', world)!r} is not a world the build can use: it lacks "
                             f"{', '.join(missing)} (see workbench/tiny/build/world_api.py)")
    return world

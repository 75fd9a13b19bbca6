"""Soft image slots: the form in which the tiny LLM's text corpus shows it a picture's content.

Vicuna reads MiniGPT-4's projected image tokens because a 7B/13B model trained on web text generalises to soft
input it never saw. A 2M-parameter LLM trained on 2M tokens of world text does not: read through the same frozen
LLM, a free soft prompt per dish named the dish 100% of the time, but discrete text in the image slot taught the
LLM nothing about reading continuous vectors there. So a share of the corpus conversations holds the picture's
content in the image slot as *superposed word embeddings*: at each of the ``n_slots`` positions (one per query
token), the sum over a few key phrases of the mean embedding of each phrase's tokens. It is still text only (no
pixels): the phrases are words about the picture, and the LLM learns world knowledge and the template exactly as
before. A linear ``llama_proj`` can reach such a slot from Q-Former tokens whose features are (nearly) additive in
the attributes, which is what foundation pretraining shapes them to be (``workbench/tiny/build/vision_pretrain.py``).

Positions follow the Q-Former's query groups: every position carries the image-level phrases; a scene's grid
cell ``c`` also fills positions ``c*n/4 .. (c+1)*n/4-1`` with what is in that cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.tiny.world import catalog, text
from workbench.tiny.world.dishes import DishSpec
from workbench.tiny.world.scenes import SceneSpec

EMPTY_CELL = "empty"


@dataclass(frozen=True)
class SlotDocument:
    """A corpus document whose image slot is soft: ``text`` holds ``placeholder`` once, where ``slots`` go."""

    text: str
    slots: tuple[tuple[str, ...], ...]  # per slot position, the phrases superposed there
    placeholder: str = "<ImageHere>"

    def parts(self) -> tuple[str, str]:
        before, after = self.text.split(self.placeholder)
        return before, after

    def plain_text(self) -> str:
        """The text around the slot, the slot as one space."""
        return self.text.replace(self.placeholder, " ")


def slot_phrases(spec, n_slots: int) -> tuple[tuple[str, ...], ...]:
    """The phrases superposed at each of ``n_slots`` positions for a world picture ``spec``."""
    if n_slots < 4 or n_slots % 4:
        raise ValueError(f"n_slots must be a positive multiple of 4 (one group per grid cell), got {n_slots}")
    group = n_slots // 4
    if isinstance(spec, SceneSpec):
        common = (f"{spec.background} background", text.NUMBER_WORDS[len(spec.objects)] + " shapes")
        cells = {o.cell: f"{o.size} {o.colour} {o.kind}" for o in spec.objects}
        return tuple(common + (cells.get(catalog.CELL_NAMES[k // group], EMPTY_CELL),) for k in range(n_slots))
    if isinstance(spec, DishSpec):
        dish = spec.entry
        return ((dish.name, text.CONTAINER_PHRASES[dish.container], f"{spec.table} table"),) * n_slots
    return ((f"{spec.crop_entry.name} leaf", spec.condition_entry.name, spec.soil),) * n_slots


def document_text(doc) -> str:
    """Plain text of a corpus document (a string, or a ``SlotDocument``)."""
    return doc.plain_text() if isinstance(doc, SlotDocument) else doc


def tokenizer_texts(docs: list) -> list[str]:
    """What the tokenizer trains on from a corpus: every document's text, then the phrases at the first position
    of each soft slot (the words a slot superposes)."""
    return [document_text(d) for d in docs] + [p for d in docs if isinstance(d, SlotDocument) for p in d.slots[0]]

"""The frozen LLM's ceiling: its answers on development pictures when the image slot holds the *true* soft slot.

Stage 1 and stage 2 can only bring ``llama_proj``'s output close to what the LLM reads in a conversation's image
slot (``workbench/world/slots.py``). Feeding the true slot of each picture (its phrases superposed, no noise)
instead of the projected image tokens measures what the LLM itself can do with perfect image tokens, which
separates the LLM's reading and knowledge from the vision encoder and the projection. Reported in the card next
to the stage-1 and stage-2 dev checks; needs world items that carry their ``spec``.
"""

from __future__ import annotations

import torch

from workbench.train import quick_eval
from workbench.train.llm_pretrain import phrase_ids, slot_embeddings
from workbench.world.slots import slot_phrases


@torch.no_grad()
def true_slots(model, items: list) -> torch.Tensor:
    """(len(items), n_image_tokens, H): each item's true soft slot through the LLM's embedding table."""
    weight = model.llm.get_input_embeddings().weight
    n = model.num_image_tokens
    return torch.stack([slot_embeddings(weight, [phrase_ids(model.tokenizer, position) for position in
                                                 slot_phrases(it.spec, n)]) for it in items])


@torch.no_grad()
def name_separation(model, groups: dict[str, list[str]]) -> dict[str, float]:
    """Per group of names (the kinds, the colours, ...), the mean pairwise cosine of their slot embeddings (each
    name as a one-phrase slot position): near 1, the LLM's embedding table cannot tell them apart, so neither can
    a slot that superposes them."""
    weight = model.llm.get_input_embeddings().weight
    out = {}
    for group, names in groups.items():
        vectors = torch.nn.functional.normalize(slot_embeddings(weight, [phrase_ids(model.tokenizer, (n,))
                                                                         for n in names]), dim=-1)
        n = len(names)
        out[group] = round(float(((vectors @ vectors.T).sum() - n) / (n * n - n)), 3) if n > 1 else None
    return out


def slot_ceiling(model, items_by_domain: dict[str, list], vocab: dict) -> dict:
    """Dev metrics (quick_eval's) of the frozen LLM fed true soft slots: {"metrics": ..., "examples": ...}."""
    slots = {d: true_slots(model, items) for d, items in items_by_domain.items()}
    metrics, examples = quick_eval.evaluate(model, slots, items_by_domain, vocab, projected=True)
    return {"metrics": metrics, "examples": examples}

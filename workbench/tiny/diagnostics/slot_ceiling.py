"""The frozen LLM's ceiling: its answers on development pictures when the image slot holds the *true* soft slot.

Stage 1 and stage 2 can only bring ``llama_proj``'s output close to what the LLM reads in a conversation's image
slot (``workbench/tiny/world/slots.py``). Feeding the true slot of each picture (its phrases superposed, no noise)
instead of the projected image tokens measures what the LLM itself can do with perfect image tokens, which
separates the LLM's reading and knowledge from the vision encoder and the projection. Reported in the card next
to the stage-1 and stage-2 dev checks; needs world items that carry their ``spec``.
"""

from __future__ import annotations

import torch

from workbench.tiny.build.llm_pretrain import phrase_ids, slot_embeddings
from workbench.tiny.diagnostics import dev_eval
from workbench.tiny.world.slots import slot_phrases


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


@torch.no_grad()
def slot_reading(model, items: list, groups: dict[str, set[str]], question: str) -> dict[str, dict]:
    """Does the frozen LLM read a group of words (the kinds, the colours) from the slot? Per group, its mean loss
    in nats on the answer tokens that are one of the group's words, each item's detailed description answering
    ``question`` after the item's *own* true slot and after the *next* item's. Equal losses: the slot tells the
    LLM nothing about that group; ``own`` far below ``other``: it reads them. -> {group: {own, other, tokens}}."""
    if len(items) < 2:
        raise ValueError("slot_reading needs at least two items (each is also scored with the next one's slot)")
    tok, llm = model.tokenizer, model.llm
    slots = true_slots(model, items)
    prompt = model.template.chat_prompt(question)
    word_of = {}
    sums = {g: {"own": 0.0, "other": 0.0, "tokens": 0} for g in groups}
    for i, item in enumerate(items):
        ids = tok(item.detailed_description + model.template.end_sym, add_special_tokens=False)["input_ids"]
        for mode, slot in (("own", slots[i]), ("other", slots[(i + 1) % len(items)])):
            ctx = model.embed_context(prompt, slot)
            logp = torch.log_softmax(llm(inputs_embeds=torch.cat([ctx, model.embed_ids(ids)])[None]).logits[0], -1)
            for k, t in enumerate(ids):
                word = word_of.setdefault(t, tok.decode([t]).strip(" .,"))
                for g, words in groups.items():
                    if word in words:
                        sums[g][mode] -= float(logp[len(ctx) + k - 1, t])
                        sums[g]["tokens"] += mode == "own"
    return {g: {"own": round(v["own"] / v["tokens"], 3) if v["tokens"] else None,
                "other": round(v["other"] / v["tokens"], 3) if v["tokens"] else None, "tokens": v["tokens"]}
            for g, v in sums.items()}


def slot_ceiling(model, items_by_domain: dict[str, list], eval_set) -> dict:
    """``dev_eval.evaluate`` of the frozen LLM fed true soft slots instead of projected image tokens, on
    ``eval_set`` (``dev_eval.dev_eval_set`` of the same items): {"metrics": ..., "examples": ...}."""
    slots = {d: true_slots(model, items) for d, items in items_by_domain.items()}
    return dev_eval.evaluate(model, slots, items_by_domain, eval_set, projected=True)

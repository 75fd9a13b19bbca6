"""Pretraining of the tiny Llama-architecture language model on the world corpus (text only, like Vicuna).

Documents are tokenized as ``<s> doc </s>``, packed into fixed blocks and trained with next-token
cross-entropy. The LLM is frozen afterwards; it knows recipes by dish name and treatments by disease name from
text alone, which is what lets stage 2 "unlock" them from images.

A ``SlotDocument``'s soft image slot enters as input embeddings, not tokens: each slot position is the sum over
its phrases of the mean embedding of the phrase's tokens (through the same, training, embedding table), plus
Gaussian noise (``llm_slot_noise`` x the table's std) so the LLM also reads slots that a linear projection only
approximates. Slot positions are not predicted (label -100). In a packed block a slot position holds a negative
id, ``-(row + 1)`` of the slot table.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import LlamaConfig, LlamaForCausalLM

from workbench.tiny.build.common import LossLog, adamw, cosine_lr, seed_everything
from workbench.tiny.build.config import BuildConfig
from workbench.tiny.world.slots import SlotDocument


def make_llm(cfg: BuildConfig, tokenizer) -> LlamaForCausalLM:
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.llm_hidden,
        intermediate_size=cfg.llm_intermediate,
        num_hidden_layers=cfg.llm_layers,
        num_attention_heads=cfg.llm_heads,
        num_key_value_heads=cfg.llm_heads,
        max_position_embeddings=max(1024, cfg.llm_max_len),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        initializer_range=0.02,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


def _ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"] if text else []


def phrase_ids(tokenizer, phrases) -> list[list[int]]:
    """One slot position's phrases -> their token ids (a row of the slot table, ``slot_embeddings``' input)."""
    return [_ids(tokenizer, p) for p in phrases]


def pack_corpus(docs: list, tokenizer, block: int, seed: int) -> tuple[torch.Tensor, list[list[list[int]]]]:
    """Shuffle documents (seeded), tokenize as <s> doc </s>, concatenate, cut into (N, block) rows.

    Returns (blocks, slot_table): a soft slot position holds ``-(row + 1)``; ``slot_table[row]`` is the token ids
    of each phrase superposed there."""
    order = np.random.default_rng(seed).permutation(len(docs))
    stream: list[int] = []
    table: list[list[list[int]]] = []
    for i in order:
        doc = docs[i]
        if isinstance(doc, SlotDocument):
            before, after = doc.parts()
            ids = _ids(tokenizer, before)
            for phrases in doc.slots:
                table.append(phrase_ids(tokenizer, phrases))
                ids.append(-len(table))
            ids += _ids(tokenizer, after)
        else:
            ids = _ids(tokenizer, doc)
        stream.extend([tokenizer.bos_token_id, *ids, tokenizer.eos_token_id])
    n = len(stream) // block
    return torch.tensor(stream[: n * block], dtype=torch.long).view(n, block), table


def slot_embeddings(weight: torch.Tensor, entries: list[list[list[int]]]) -> torch.Tensor:
    """(len(entries), H): per slot position, the sum over its phrases of the mean embedding of their tokens."""
    if not entries:
        return weight.new_zeros(0, weight.shape[1])
    width = max(len(p) for e in entries for p in e)
    n_phr = max(len(e) for e in entries)
    ids = torch.zeros(len(entries), n_phr, width, dtype=torch.long)
    mask = torch.zeros(len(entries), n_phr, width)
    for r, e in enumerate(entries):
        for j, p in enumerate(e):
            ids[r, j, :len(p)] = torch.tensor(p, dtype=torch.long)
            mask[r, j, :len(p)] = 1.0
    lengths = mask.sum(-1).clamp(min=1).unsqueeze(-1)  # (R, P, 1); a missing phrase adds exact zeros
    means = (weight[ids] * mask.unsqueeze(-1).to(weight.dtype)).sum(2) / lengths.to(weight.dtype)
    out = means[:, 0]
    for j in range(1, n_phr):  # phrase by phrase, as a sum over a Python list would
        out = out + means[:, j]
    return out


def block_embeddings(weight: torch.Tensor, batch: torch.Tensor, table: list, noise: float,
                     gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(input embeddings, labels) of packed rows: token rows through the table, slot positions soft."""
    slot = batch < 0
    embeds = weight[batch.clamp(min=0)]
    if slot.any():
        vectors = slot_embeddings(weight, [table[-int(v) - 1] for v in batch[slot]])
        if noise:
            vectors = vectors + torch.randn(vectors.shape, generator=gen) * noise * weight.detach().std()
        embeds = embeds.masked_scatter(slot.unsqueeze(-1), vectors)
    return embeds, batch.masked_fill(slot, -100)


def pretrain_llm(cfg: BuildConfig, docs: list, tokenizer, log: LossLog, seed: int) -> tuple[LlamaForCausalLM, dict]:
    """A new LLM (``make_llm``) trained ``cfg.llm_steps`` steps at peak lr ``cfg.llm_lr`` on ``docs``; -> (the
    frozen model, its summary: corpus size, steps, first and last loss, parameter count)."""
    seed_everything(seed)
    return train_llm(make_llm(cfg, tokenizer), cfg, docs, tokenizer, log, seed, cfg.llm_steps, cfg.llm_lr)


def train_llm(model: LlamaForCausalLM, cfg: BuildConfig, docs: list, tokenizer, log: LossLog, seed: int, steps: int,
              peak_lr: float, desc: str = "llm pretrain") -> tuple[LlamaForCausalLM, dict]:
    """Train ``model`` on ``docs`` (packed with ``seed``) for ``steps`` steps of ``cfg.llm_batch`` blocks: AdamW
    (weight decay 0.1), ``peak_lr`` after 5% warm-up, cosine to a tenth, gradients clipped at 1. The model comes
    back frozen, in eval mode; loss lines go to ``log`` as phase ``"llm"``."""
    blocks, table = pack_corpus(docs, tokenizer, cfg.llm_block, seed)
    model.requires_grad_(True)
    opt = adamw(model.parameters(), peak_lr, weight_decay=0.1)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    order = torch.randperm(len(blocks), generator=gen)
    pos = 0
    first = last = None
    bar = tqdm(range(steps), desc=desc, leave=False)
    for step in bar:
        if pos + cfg.llm_batch > len(order):
            order, pos = torch.randperm(len(blocks), generator=gen), 0
        batch = blocks[order[pos : pos + cfg.llm_batch]]
        pos += cfg.llm_batch
        for group in opt.param_groups:
            group["lr"] = cosine_lr(step, steps, peak_lr, warmup=max(1, steps // 20))
        embeds, labels = block_embeddings(model.get_input_embeddings().weight, batch, table, cfg.llm_slot_noise, gen)
        if cfg.llm_embed_noise:
            # NEFTune-style uniform noise on the input embeddings: the LLM learns to read embeddings *near*
            # its word vectors, which is what the projected image tokens are.
            scale = cfg.llm_embed_noise / math.sqrt(embeds.shape[1] * embeds.shape[2])
            embeds = embeds + (torch.rand(embeds.shape, generator=gen) * 2 - 1) * scale
        loss = model(inputs_embeds=embeds, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        value = loss.item()
        first = value if first is None else first
        last = value
        if step % 25 == 0 or step == steps - 1:
            log.log("llm", step, value)
            bar.set_postfix(loss=f"{value:.3f}")
    model.eval()
    model.requires_grad_(False)
    n_tokens = int(blocks.numel())
    info = {"corpus_docs": len(docs), "corpus_tokens": n_tokens, "soft_slot_positions": len(table), "steps": steps,
            "peak_lr": peak_lr, "tokens_seen": steps * cfg.llm_batch * cfg.llm_block, "first_loss": first,
            "last_loss": last, "params": sum(p.numel() for p in model.parameters())}
    return model, info

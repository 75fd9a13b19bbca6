"""Pretraining of the tiny Llama-architecture language model on the world corpus (text only, like Vicuna).

Documents are tokenized as ``<s> doc </s>``, packed into fixed blocks and trained with next-token
cross-entropy. The LLM is frozen afterwards; it knows recipes by dish name and treatments by disease name from
text alone, which is what lets stage 2 "unlock" them from images.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import LlamaConfig, LlamaForCausalLM

from workbench.train.common import LossLog, adamw, cosine_lr, seed_everything
from workbench.train.config import BuildConfig


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


def pack_corpus(docs: list[str], tokenizer, block: int, seed: int) -> torch.Tensor:
    """Shuffle documents (seeded), tokenize as <s> doc </s>, concatenate, cut into (N, block) rows."""
    order = np.random.default_rng(seed).permutation(len(docs))
    enc = tokenizer([docs[i] for i in order], add_special_tokens=False)["input_ids"]
    stream: list[int] = []
    for ids in enc:
        stream.extend([tokenizer.bos_token_id, *ids, tokenizer.eos_token_id])
    n = len(stream) // block
    return torch.tensor(stream[: n * block], dtype=torch.long).view(n, block)


def pretrain_llm(cfg: BuildConfig, docs: list[str], tokenizer, log: LossLog, seed: int) -> tuple[LlamaForCausalLM, dict]:
    seed_everything(seed)
    model = make_llm(cfg, tokenizer)
    blocks = pack_corpus(docs, tokenizer, cfg.llm_block, seed)
    opt = adamw(model.parameters(), cfg.llm_lr, weight_decay=0.1)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    steps = cfg.llm_steps
    order = torch.randperm(len(blocks), generator=gen)
    pos = 0
    first = last = None
    bar = tqdm(range(steps), desc="llm pretrain", leave=False)
    for step in bar:
        if pos + cfg.llm_batch > len(order):
            order, pos = torch.randperm(len(blocks), generator=gen), 0
        batch = blocks[order[pos : pos + cfg.llm_batch]]
        pos += cfg.llm_batch
        for group in opt.param_groups:
            group["lr"] = cosine_lr(step, steps, cfg.llm_lr, warmup=max(1, steps // 20))
        embeds = model.get_input_embeddings()(batch)
        if cfg.llm_embed_noise:
            # NEFTune-style uniform noise on the input embeddings: the LLM learns to read embeddings *near*
            # its word vectors, which is what the projected image tokens are.
            scale = cfg.llm_embed_noise / math.sqrt(embeds.shape[1] * embeds.shape[2])
            embeds = embeds + (torch.rand(embeds.shape, generator=gen) * 2 - 1) * scale
        loss = model(inputs_embeds=embeds, labels=batch).loss
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
    for p in model.parameters():
        p.requires_grad_(False)
    n_tokens = int(blocks.numel())
    info = {"corpus_docs": len(docs), "corpus_tokens": n_tokens, "steps": steps,
            "tokens_seen": steps * cfg.llm_batch * cfg.llm_block, "first_loss": first, "last_loss": last,
            "params": sum(p.numel() for p in model.parameters())}
    return model, info

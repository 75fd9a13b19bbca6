"""Nucleus sampling with one random stream per row, so a sampled answer depends only on its own seed.

``transformers`` samples the whole batch from the global RNG, so an item's sample would change with
the batch it lands in (and after a resume). Here sampling is a logits processor run after the
built-in repetition penalty: temperature -> top-k -> top-p (transformers' order), then each row draws
from its own CPU ``torch.Generator`` and every other token is masked, so the greedy step picks exactly
the drawn token. Same seed, same item -> same output, whatever the batch size or device order.
"""

from __future__ import annotations

import hashlib

import torch
from transformers import LogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper


def row_seed(seed: int, key: str) -> int:
    """A 63-bit seed for one item, stable across processes and Python versions (no ``hash()``)."""
    digest = hashlib.sha256(f"{int(seed)}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


class PerRowSampler(LogitsProcessor):
    def __init__(self, seeds: list[int], temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0):
        self.generators = []
        for seed in seeds:
            gen = torch.Generator(device="cpu")
            gen.manual_seed(int(seed))
            self.generators.append(gen)
        self.warpers = []
        if temperature != 1.0:
            self.warpers.append(TemperatureLogitsWarper(temperature))
        if top_k and top_k > 0:
            self.warpers.append(TopKLogitsWarper(top_k=top_k))
        if top_p < 1.0:
            self.warpers.append(TopPLogitsWarper(top_p=top_p))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        for warper in self.warpers:
            scores = warper(input_ids, scores)
        probs = torch.softmax(scores.float(), dim=-1).cpu()
        chosen = torch.stack([torch.multinomial(probs[row], 1, generator=gen)[0]
                              for row, gen in enumerate(self.generators)]).to(scores.device)
        out = torch.full_like(scores, float("-inf"))
        out.scatter_(1, chosen[:, None], 0.0)
        return out

"""Opt-in compiled decoding (``--compile``): a static KV cache, ``torch.compile`` of the LLM's one-token step, and
prompt lengths and batch sizes bucketed so that the compiled step is reused instead of recompiled.

transformers compiles the decoding step itself once the cache is static (``cache_implementation="static"``;
``GenerationMixin._valid_auto_compile_criteria``): the prefill runs eagerly, every later step calls
``torch.compile(llm.__call__)`` with our ``CompileConfig``. A compiled step is specialised to its shapes
(``dynamic=False``): the batch size and the static cache's length (prompt + ``max_new_tokens`` positions,
allocated once per ``generate`` call; transformers keeps the longest length seen, so it never shrinks). So each
batch is padded before decoding:

- the context length up to a multiple of ``length_multiple`` (more left padding, masked out as any other);
- the batch size up to the next power of two, with copies of row 0 whose outputs are dropped (a copy finishes
  when row 0 does, so it never adds steps).

Greedy rows do not depend on their padding or their neighbours (``batch.py``), so the compiled path gives the same
tokens as the default one; tests/test_compiled.py checks it on the tiny model and on SmolLM2 (CPU). A run of N
items at batch size B compiles at most twice per cache length (full batches and the last one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from transformers import CompileConfig


@dataclass(frozen=True)
class CompiledDecoding:
    """How to compile (not what is generated: run.json records it under ``decoding``, outside the identity)."""

    length_multiple: int = 64   # context length padded up to a multiple of this
    backend: str | Callable = "inductor"  # torch.compile backend; tests use "aot_eager" (no C++ build, see docs)
    mode: str | None = None     # torch.compile mode; None: "reduce-overhead" (CUDA graphs) on CUDA, else "default"

    def __post_init__(self):
        if self.length_multiple < 1:
            raise ValueError(f"length_multiple must be >= 1, got {self.length_multiple}")

    def describe(self) -> dict:
        backend = self.backend if isinstance(self.backend, str) else getattr(self.backend, "__name__", "custom")
        return {"compile": True, "length_multiple": self.length_multiple, "backend": backend, "mode": self.mode}

    def hf_kwargs(self, device: torch.device) -> dict:
        """``transformers.GenerationConfig`` fields: the static cache and the compile settings for ``device``."""
        mode = self.mode or ("reduce-overhead" if device.type == "cuda" else "default")
        compile_config = CompileConfig(fullgraph=False, dynamic=False, backend=self.backend, mode=mode)
        # transformers compiles on its own only on cuda/xpu/tpu/neuron; this documented flag allows any device
        compile_config._compile_all_devices = True
        return {"cache_implementation": "static", "compile_config": compile_config}


def bucket_batch(n: int) -> int:
    """The next power of two >= ``n`` (n >= 1)."""
    return 1 << max(0, int(n) - 1).bit_length()


def bucket_length(n: int, multiple: int) -> int:
    """``n`` rounded up to a multiple of ``multiple``."""
    return -(-int(n) // multiple) * multiple


def pad_for_compile(embeds: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor, multiple: int):
    """Left-pad (B, L, H) ``embeds`` / (B, L) ``mask`` and ``positions`` to (B', L') with B' = ``bucket_batch(B)``,
    L' = ``bucket_length(L, multiple)``: extra columns are masked (embedding 0, position 0), extra rows repeat row 0.
    Rows 0..B-1 keep their tokens; the caller drops the rest."""
    batch, length, _ = embeds.shape
    extra = bucket_length(length, multiple) - length
    if extra:
        embeds = torch.cat([embeds.new_zeros(batch, extra, embeds.shape[2]), embeds], dim=1)
        mask = torch.cat([mask.new_zeros(batch, extra), mask], dim=1)
        positions = torch.cat([positions.new_zeros(batch, extra), positions], dim=1)
    rows = bucket_batch(batch) - batch
    if rows:
        embeds, mask, positions = (torch.cat([t, t[:1].expand(rows, *t.shape[1:])], dim=0)
                                   for t in (embeds, mask, positions))
    return embeds, mask, positions

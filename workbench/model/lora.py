"""MiniGPT-v2's LoRA on the LLM, merged into the weights at load (a plain merge, no peft at run time).

MiniGPT-v2 (``minigpt4/models/minigpt_base.py:init_llm``) wraps Llama-2 with peft's ``get_peft_model`` (r 64,
alpha 16, dropout 0.05, on ``q_proj`` and ``v_proj``); its trainer saves only trainable tensors, so
``minigptv2_checkpoint.pth``'s ``model`` dict holds ``llama_proj.*`` and, for every layer N,
``llama_model.base_model.model.model.layers.N.self_attn.{q,v}_proj.lora_{A,B}.weight`` (peft 0.2's names, no
adapter name; newer peft writes ``lora_A.default.weight``, also accepted). A LoRA layer computes
``W x + (alpha / r) * B (A x)`` (Hu et al. 2021, eq. 3; peft's ``scaling = lora_alpha / r``), so merging is
``W += (alpha / r) * B @ A``; dropout is off at inference, so the merged layer gives the same outputs.
"""

from __future__ import annotations

import re

import torch
from torch import nn

from workbench.errors import WorkbenchError

MINIGPTV2_LORA_ALPHA = 16
LORA_KEY = re.compile(r"^llama_model\.base_model\.model\.(.+)\.lora_([AB])(?:\.default)?\.weight$")


def lora_pairs(state: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """LLM module name (e.g. ``model.layers.0.self_attn.q_proj``) -> {"A": (r, in), "B": (out, r)}."""
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in state.items():
        m = LORA_KEY.match(str(key))
        if m:
            pairs.setdefault(m.group(1), {})[m.group(2)] = tensor
    return pairs


@torch.no_grad()
def merge_lora(llm: nn.Module, state: dict[str, torch.Tensor], alpha: float = MINIGPTV2_LORA_ALPHA,
               source: str = "checkpoint") -> int:
    """Add ``(alpha / r) * B @ A`` into each targeted Linear of ``llm``; returns how many were merged.

    ``r`` is read from each A's first dimension (64 for MiniGPT-v2). Raises WorkbenchError naming the key when
    a pair is incomplete, names a module the LLM lacks, or has shapes that do not fit it.
    """
    modules = dict(llm.named_modules())
    pairs = lora_pairs(state)
    for name, pair in sorted(pairs.items()):
        key = f"llama_model.base_model.model.{name}.lora_"
        if set(pair) != {"A", "B"}:
            missing = ({"A", "B"} - set(pair)).pop()
            raise WorkbenchError(f"{source}: {key}{missing}.weight is missing (its pair is there)")
        target = modules.get(name)
        if not isinstance(target, nn.Linear):
            raise WorkbenchError(f"{source}: {key}A.weight targets {name}, which this LLM does not have as a Linear")
        a, b = pair["A"].float(), pair["B"].float()
        r = a.shape[0]
        if a.shape[1] != target.in_features or b.shape != (target.out_features, r):
            raise WorkbenchError(
                f"{source}: {key}A/B have shapes {tuple(a.shape)} / {tuple(b.shape)}; {name} is "
                f"{target.out_features}x{target.in_features}: the LoRA was trained for another LLM")
        delta = (alpha / r) * (b @ a)
        target.weight += delta.to(device=target.weight.device, dtype=target.weight.dtype)
    return len(pairs)

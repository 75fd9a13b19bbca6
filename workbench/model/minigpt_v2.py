"""MiniGPT-v2's checkpoint (``minigptv2_checkpoint.pth``): its projection and the LLM's LoRA, checked before loading.

MiniGPT-v2 (arXiv:2310.09478; ``minigpt4/models/minigpt_v2.py``, ``minigpt_base.py``) is MiniGPT-4's Llama-2
variant at 448 px with a LoRA-finetuned LLM:

    pixels (B, 3, 448, 448) ─► EVA ViT-g, position embeddings interpolated 16x16 → 32x32 (``lavis.resize_vision``)
                            ─► ln_vision (never loaded: weight 1, bias 0) ─► 1024 patch tokens without CLS
                            ─► 4 adjacent tokens concatenated: (B, 256, 4 x 1408 = 5632) (connector ``concat4``)
                            ─► llama_proj: Linear(5632, 4096) ─► Llama-2-chat 7B + LoRA (r 64, alpha 16, q/v)

Its trainer saves only the trainable tensors, so the file's ``model`` dict holds ``llama_proj.weight``,
``llama_proj.bias`` and, for each layer N, ``llama_model.base_model.model.model.layers.N.self_attn.{q,v}_proj.
lora_{A,B}.weight`` (peft 0.2's names; ``lora_A.default.weight`` from newer peft is accepted too). The LoRA is
merged into the LLM's weights at load (``lora.merge_lora``); here its shapes are checked against the LLM's config
first, so a file for another LLM fails before any LLM weight is read.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch

from workbench.errors import WorkbenchError
from workbench.model.checkpoint import PROJECTION_KEYS, load_checkpoint
from workbench.model.lora import LORA_KEY, lora_pairs

ATTENTION = re.compile(r"^model\.layers\.(\d+)\.self_attn\.([qkvo])_proj$")
EXPECTED = ("llama_proj.weight / llama_proj.bias and llama_model.base_model.model.model.layers.N.self_attn."
            "{q,v}_proj.lora_{A,B}.weight (MiniGPT-v2's minigptv2_checkpoint.pth)")


def read_minigptv2_checkpoint(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """``(projection, lora)`` from ``minigptv2_checkpoint.pth``: ``{"llama_proj.weight" (out, in), "llama_proj.bias"
    (out,)}`` and the LoRA tensors under their file keys (A: (r, in), B: (out, r)), as stored (fp16 or fp32).

    Read with ``torch.load(weights_only=True)``. Raises WorkbenchError naming the key for a file without the
    ``model`` dict, without llama_proj, without LoRA (a MiniGPT-4 v1 checkpoint) or with a tensor that has no
    place in MiniGPT-v2 (MiniGPT-v2 itself loads ``strict=False`` and would drop it silently).
    """
    path = Path(path)
    obj = load_checkpoint(path)
    state = obj.get("model")
    if not isinstance(state, dict):
        top = ", ".join(sorted(map(str, obj)))[:120]
        raise WorkbenchError(f"{path}: no 'model' dict in this file (top level: {top}); expected {EXPECTED}")
    projection, lora = {}, {}
    for key, tensor in state.items():
        key = str(key)
        if not isinstance(tensor, torch.Tensor):
            raise WorkbenchError(f"{path}: {key} is a {type(tensor).__name__}, expected a tensor")
        if key in PROJECTION_KEYS:
            projection[key] = tensor
        elif LORA_KEY.match(key):
            lora[key] = tensor
        else:
            raise WorkbenchError(f"{path}: {key} has no place in MiniGPT-v2; expected only {EXPECTED}")
    missing = [k for k in PROJECTION_KEYS if k not in projection]
    if missing:
        raise WorkbenchError(f"{path}: no {' / '.join(missing)} in this file; expected {EXPECTED}")
    if not lora:
        raise WorkbenchError(
            f"{path}: no LoRA weights (llama_model.base_model.model.….lora_A.weight) in this file: it is a MiniGPT-4 "
            "(v1) projection checkpoint; drop arch: minigpt_v2 (pretrained_minigpt4_llama2_7b.pth: connector: "
            "concat4, template: llama2)")
    return projection, lora


def _attention_shapes(llm_config) -> dict[str, tuple[int, int]]:
    """q/k/v/o projection -> (out_features, in_features) of a Llama-style attention block."""
    hidden = llm_config.hidden_size
    heads = llm_config.num_attention_heads
    kv_heads = getattr(llm_config, "num_key_value_heads", None) or heads
    head_dim = getattr(llm_config, "head_dim", None) or hidden // heads
    return {"q": (heads * head_dim, hidden), "k": (kv_heads * head_dim, hidden),
            "v": (kv_heads * head_dim, hidden), "o": (hidden, heads * head_dim)}


def check_lora_fits(lora: dict[str, torch.Tensor], llm_config, llm_path: str, path: str | os.PathLike) -> None:
    """The LoRA pairs against the LLM's config (layers, q/k/v/o shapes), before any LLM weight is read.

    Raises WorkbenchError naming the key, its shape, what the LLM needs and the fix. Modules other than the
    attention projections are checked at merge time (``lora.merge_lora``).
    """
    shapes = _attention_shapes(llm_config)
    layers = llm_config.num_hidden_layers
    for name, pair in sorted(lora_pairs(lora).items()):
        key = f"llama_model.base_model.model.{name}.lora_"
        if set(pair) != {"A", "B"}:
            raise WorkbenchError(f"{path}: {key}{({'A', 'B'} - set(pair)).pop()}.weight is missing (its pair is "
                                 "there); the file is incomplete")
        match = ATTENTION.match(name)
        if match is None:
            continue
        layer, proj = int(match.group(1)), match.group(2)
        if layer >= layers:
            raise WorkbenchError(f"{path}: {key}A.weight is for layer {layer} but the LLM in {llm_path} has {layers} "
                                 "layers; the LoRA was trained for another LLM (MiniGPT-v2's: Llama-2-7b-chat-hf)")
        out_f, in_f = shapes[proj]
        a, b = tuple(pair["A"].shape), tuple(pair["B"].shape)
        if len(a) != 2 or len(b) != 2 or a[1] != in_f or b[0] != out_f or a[0] != b[1]:
            raise WorkbenchError(
                f"{path}: {key}A/B.weight have shapes {a} / {b} but {name} of the LLM in {llm_path} is "
                f"{out_f}x{in_f} (needs (r, {in_f}) / ({out_f}, r)); the LoRA was trained for another LLM: point llm at the one "
                "MiniGPT-v2 was trained on (Llama-2-7b-chat-hf)")


def projection_problem(weight_shape: tuple[int, ...], vision_width: int, llm_hidden: int, vision_path: str,
                       llm_path: str) -> str | None:
    """Why ``llama_proj.weight`` (out, in) cannot sit between 4 concatenated EVA tokens and the LLM; None if it fits."""
    out_f, in_f = weight_shape
    if in_f != 4 * vision_width:
        return (f"llama_proj.weight has shape {tuple(weight_shape)}: it reads {in_f}-wide tokens but 4 concatenated "
                f"patch tokens of the ViT in {vision_path} are {4 * vision_width} wide (4x{vision_width}); point vision "
                "at LAVIS's eva_vit_g.pth (EVA ViT-g, 4x1408 = 5632), the ViT MiniGPT-v2 was trained on")
    if out_f != llm_hidden:
        return (f"llama_proj.weight has shape {tuple(weight_shape)}: it writes {out_f}-wide embeddings but the LLM "
                f"in {llm_path} has hidden size {llm_hidden}; point llm at the LLM MiniGPT-v2 was trained on "
                "(Llama-2-7b-chat-hf, hidden size 4096)")
    return None

"""MiniGPT-4's own image-side files, as its users hold them: LAVIS's ``eva_vit_g.pth`` and ``blip2_pretrained_*.pth``.

MiniGPT-4 never reads a Hugging Face BLIP-2 snapshot. On first run it downloads into the torch hub cache:
- ``eva_vit_g.pth``: the EVA-CLIP ViT-g/14 state dict in LAVIS's layout (``lavis/models/eva_vit.py``);
  MiniGPT-4 builds 39 of its 40 blocks (BLIP-2 reads the second-to-last layer) and loads it ``strict=False``;
- ``blip2_pretrained_flant5xxl.pth``: ``{"model": {...}}`` with ``query_tokens``, ``Qformer.bert.*``,
  ``ln_vision.*`` and BLIP-2's other heads (``vision_proj``, ``text_proj``, ``itm_head``, ``t5_proj``, …).

This module maps them key by key onto transformers' ``Blip2VisionModel`` / ``Blip2QFormerModel`` (the table is
in docs/model_cards.md; the same renames as transformers' ``convert_blip_2_original_to_pytorch.py``). Shapes
come from the files themselves; the head counts follow EVA-g (head width 88) and BERT-base (64), the only sizes
these files exist in. Files are read with ``torch.load(weights_only=True, mmap=True)``; fp16 tensors are cast to
fp32 here (``load_model`` casts to the run's dtype afterwards). Asked for another image size (MiniGPT-v2's 448 px),
the position embeddings are interpolated once at load, as ``create_eva_vit_g`` does (``interpolate_pos_embed``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import Blip2QFormerConfig, Blip2QFormerModel, Blip2VisionConfig, Blip2VisionModel

from workbench.errors import WorkbenchError
from workbench.model.checkpoint import load_checkpoint

EVA_HEAD_WIDTH = 88    # EVA ViT-g: 1408 = 16 heads x 88
BERT_HEAD_WIDTH = 64   # BLIP-2's Q-Former is BERT-base: 768 = 12 heads x 64
BLOCK = re.compile(r"^blocks\.(\d+)\.(.+)$")
QLAYER = re.compile(r"^Qformer\.bert\.encoder\.layer\.(\d+)\.(.+)$")

# per-block renames, LAVIS eva_vit.Block -> Blip2EncoderLayer (q_bias / v_bias handled apart)
EVA_BLOCK = {"norm1": "layer_norm1", "norm2": "layer_norm2", "attn.qkv.weight": "self_attn.qkv.weight",
             "attn.proj": "self_attn.projection", "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2"}
# per-layer renames, LAVIS Qformer.BertLayer -> Blip2QFormerLayer; text-only parts are dropped, as MiniGPT-4 does
QFORMER_LAYER = {"attention.self.": "attention.attention.", "attention.output.": "attention.output.",
                 "crossattention.self.": "crossattention.attention.", "crossattention.output.": "crossattention.output.",
                 "intermediate_query.": "intermediate_query.", "output_query.": "output_query."}
QFORMER_TEXT_ONLY = ("intermediate.", "output.")


def _read(path: Path) -> dict[str, torch.Tensor]:
    obj = load_checkpoint(path)
    state = obj["model"] if isinstance(obj.get("model"), dict) else obj
    return {str(k): v for k, v in state.items() if isinstance(v, torch.Tensor)}


def _need(state: dict, key: str, path: Path, what: str) -> torch.Tensor:
    if key not in state:
        raise WorkbenchError(f"{path}: no {key} in this file; {what}")
    return state[key].float()


# ---- EVA ViT ------------------------------------------------------------------------------------------------------
def eva_to_hf(state: dict[str, torch.Tensor], path: Path) -> tuple[Blip2VisionConfig, dict[str, torch.Tensor]]:
    """LAVIS EVA state dict -> (Blip2VisionConfig, Blip2VisionModel state dict without post_layernorm).

    The last block of the file is dropped (MiniGPT-4's ``create_eva_vit_g`` builds depth 39 of EVA-CLIP-g's 40).
    """
    what = "expected LAVIS's eva_vit_g.pth (EVA ViT-g state dict: cls_token, pos_embed, patch_embed, blocks.N)"
    cls = _need(state, "cls_token", path, what)
    pos = _need(state, "pos_embed", path, what)
    conv_w = _need(state, "patch_embed.proj.weight", path, what)
    width, patch = cls.shape[-1], conv_w.shape[-1]
    side = int(round((pos.shape[1] - 1) ** 0.5))
    if side * side != pos.shape[1] - 1:
        raise WorkbenchError(f"{path}: pos_embed has shape {tuple(pos.shape)}, not 1 + a square number of patches")
    blocks = sorted({int(m.group(1)) for m in map(BLOCK.match, state) if m})
    if len(blocks) < 2:
        raise WorkbenchError(f"{path}: {len(blocks)} transformer blocks found; {what}")
    depth = len(blocks) - 1
    mlp = _need(state, "blocks.0.mlp.fc1.weight", path, what).shape[0]
    config = Blip2VisionConfig(hidden_size=width, intermediate_size=mlp, num_hidden_layers=depth,
                               num_attention_heads=max(1, width // EVA_HEAD_WIDTH), image_size=side * patch,
                               patch_size=patch, qkv_bias=True, layer_norm_eps=1e-6, hidden_act="gelu")
    out = {"embeddings.class_embedding": cls, "embeddings.position_embedding": pos,
           "embeddings.patch_embedding.weight": conv_w,
           "embeddings.patch_embedding.bias": _need(state, "patch_embed.proj.bias", path, what)}
    for i in range(depth):
        src, dst = f"blocks.{i}.", f"encoder.layers.{i}."
        for old, new in EVA_BLOCK.items():
            for suffix in ((".weight", ".bias") if not old.endswith(".weight") else ("",)):
                out[dst + new + suffix] = _need(state, src + old + suffix, path, what)
        q_bias = _need(state, src + "attn.q_bias", path, what)
        v_bias = _need(state, src + "attn.v_bias", path, what)
        out[dst + "self_attn.qkv.bias"] = torch.cat([q_bias, torch.zeros_like(v_bias), v_bias])
    return config, out


def interpolate_pos_embed(pos_embed: torch.Tensor, grid: int) -> torch.Tensor:
    """EVA's position embeddings (1, 1 + n*n, D) resized to a ``grid`` x ``grid`` patch grid -> (1, 1 + grid², D).

    As MiniGPT-4's ``eva_vit.py:interpolate_pos_embed`` (from BEiT/DeiT): the class token's embedding is kept, the
    n x n patch embeddings are resized in fp32 with bicubic interpolation (``align_corners=False``). MiniGPT-v2
    runs EVA-g (224 px, 16x16 patches of 14 px) at 448 px this way: a 32x32 grid, 1024 patch tokens.
    """
    pos_embed = pos_embed.float()
    side = int(round((pos_embed.shape[1] - 1) ** 0.5))
    if side == grid:
        return pos_embed
    width = pos_embed.shape[-1]
    patches = pos_embed[:, 1:].reshape(1, side, side, width).permute(0, 3, 1, 2)
    patches = F.interpolate(patches, size=(grid, grid), mode="bicubic", align_corners=False)
    return torch.cat([pos_embed[:, :1], patches.permute(0, 2, 3, 1).flatten(1, 2)], dim=1)


def resize_vision(config: Blip2VisionConfig, state: dict[str, torch.Tensor], image_size: int, path: Path) -> None:
    """Make ``config`` / ``state`` (from ``eva_to_hf``) run at ``image_size`` px, in place."""
    if image_size % config.patch_size:
        nearest = max(1, image_size // config.patch_size) * config.patch_size
        raise WorkbenchError(f"{path}: image_size {image_size} is not a multiple of the {config.patch_size} px "
                             f"patches of this ViT; use e.g. {nearest}")
    key = "embeddings.position_embedding"
    state[key] = interpolate_pos_embed(state[key], image_size // config.patch_size)
    config.image_size = image_size


# ---- Q-Former -----------------------------------------------------------------------------------------------------
def qformer_to_hf(state: dict[str, torch.Tensor], path: Path, vision_width: int):
    """LAVIS BLIP-2 state dict -> (Blip2QFormerConfig, Q-Former state dict, query_tokens, ln_vision state)."""
    what = "expected LAVIS's blip2_pretrained_flant5xxl.pth ({'model': {query_tokens, Qformer.bert.*, ln_vision.*}})"
    query_tokens = _need(state, "query_tokens", path, what)
    hidden = query_tokens.shape[-1]
    layers = sorted({int(m.group(1)) for m in map(QLAYER.match, state) if m})
    if not layers:
        raise WorkbenchError(f"{path}: no Qformer.bert.encoder.layer.N.* tensors; {what}")
    cross = [i for i in layers if f"Qformer.bert.encoder.layer.{i}.crossattention.self.key.weight" in state]
    if not cross:
        raise WorkbenchError(f"{path}: no Q-Former layer has cross-attention; {what}")
    frequency = cross[1] - cross[0] if len(cross) > 1 else len(layers)
    key_w = state[f"Qformer.bert.encoder.layer.{cross[0]}.crossattention.self.key.weight"]
    if key_w.shape[1] != vision_width:
        raise WorkbenchError(
            f"{path}: Qformer.bert.encoder.layer.{cross[0]}.crossattention.self.key.weight has shape "
            f"{tuple(key_w.shape)}: the Q-Former reads {key_w.shape[1]}-wide patches but the vision file gives "
            f"{vision_width}; the two files come from different models")
    inter = _need(state, "Qformer.bert.encoder.layer.0.intermediate_query.dense.weight", path, what).shape[0]
    config = Blip2QFormerConfig(hidden_size=hidden, num_hidden_layers=len(layers),
                                num_attention_heads=max(1, hidden // BERT_HEAD_WIDTH), intermediate_size=inter,
                                cross_attention_frequency=frequency, encoder_hidden_size=vision_width)
    out = {"layernorm.weight": _need(state, "Qformer.bert.embeddings.LayerNorm.weight", path, what),
           "layernorm.bias": _need(state, "Qformer.bert.embeddings.LayerNorm.bias", path, what)}
    for key, tensor in state.items():
        m = QLAYER.match(key)
        if not m:
            continue
        rest = m.group(2)
        new = next((rest.replace(old, repl, 1) for old, repl in QFORMER_LAYER.items() if rest.startswith(old)), None)
        if new is None:
            if rest.startswith(QFORMER_TEXT_ONLY):
                continue
            raise WorkbenchError(f"{path}: {key} has no place in a BLIP-2 Q-Former; {what}")
        out[f"encoder.layer.{m.group(1)}.{new}"] = tensor.float()
    ln = {"weight": _need(state, "ln_vision.weight", path, what), "bias": _need(state, "ln_vision.bias", path, what)}
    return config, out, query_tokens, ln


# ---- assembly -----------------------------------------------------------------------------------------------------
def _assign(module, state: dict[str, torch.Tensor], path: Path, prefix: str) -> None:
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    if missing:
        raise WorkbenchError(f"{path}: nothing in the file maps to {prefix}{missing[0]} ({len(missing)} missing)")
    for name, tensor in state.items():
        if name not in expected:
            raise WorkbenchError(f"{path}: mapped key {prefix}{name} does not exist in the model")
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise WorkbenchError(
                f"{path}: {name} maps to {prefix}{name} of shape {tuple(expected[name].shape)} but the file holds "
                f"{tuple(tensor.shape)}; the file does not fit the shapes read from its other tensors")
    module.load_state_dict(state, strict=True, assign=True)


def read_lavis_configs(vision_path: str | os.PathLike, qformer_path: str | os.PathLike | None,
                       image_size: int | None = None):
    """``(vision_config, qformer_config | None, states)``: the configs implied by the files, and the mapped tensors.

    ``image_size`` other than the file's: position embeddings interpolated to it (``resize_vision``).
    """
    vision_path = Path(vision_path)
    vision_cfg, vision_state = eva_to_hf(_read(vision_path), vision_path)
    if image_size is not None and image_size != vision_cfg.image_size:
        resize_vision(vision_cfg, vision_state, image_size, vision_path)
    states = {"vision": vision_state}
    qformer_cfg = None
    if qformer_path is not None:
        qformer_path = Path(qformer_path)
        qformer_cfg, q_state, query_tokens, ln = qformer_to_hf(_read(qformer_path), qformer_path,
                                                               vision_cfg.hidden_size)
        states.update(qformer=q_state, query_tokens=query_tokens, ln_vision=ln)
    return vision_cfg, qformer_cfg, states


def load_lavis(vision_path, qformer_path, with_qformer: bool = True, image_size: int | None = None):
    """``(vision_model, qformer | None, query_tokens | None)`` from LAVIS files, like ``snapshots.load_blip2``.

    ``ln_vision`` (from the Q-Former file) becomes the vision model's ``post_layernorm``; without a Q-Former
    file it stays at weight 1 / bias 0, as MiniGPT-4's Llama-2 variant and MiniGPT-v2 run it. ``image_size``:
    see ``read_lavis_configs``.
    """
    vision_cfg, qformer_cfg, states = read_lavis_configs(vision_path, qformer_path if with_qformer else None,
                                                         image_size)
    with torch.device("meta"):
        vision = Blip2VisionModel(vision_cfg)
        qformer = Blip2QFormerModel(qformer_cfg) if qformer_cfg is not None else None
    vision_state = dict(states["vision"])
    ln = states.get("ln_vision") or {"weight": torch.ones(vision_cfg.hidden_size),
                                     "bias": torch.zeros(vision_cfg.hidden_size)}
    vision_state.update({"post_layernorm.weight": ln["weight"], "post_layernorm.bias": ln["bias"]})
    _assign(vision, vision_state, Path(vision_path), "vision_model.")
    query_tokens = None
    if qformer is not None:
        _assign(qformer, states["qformer"], Path(qformer_path), "qformer.")
        query_tokens = states["query_tokens"]
        qformer.eval()
    return vision.eval(), qformer, query_tokens

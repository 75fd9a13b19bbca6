"""Build a MiniGPT-4 (or MiniGPT-v2) from a preset name, a model card (JSON/YAML) or a dict: the one way models
get loaded. The card's fields and how they are checked are in ``workbench/model/cards.py`` and docs/model_cards.md.

Everything cheap is checked before anything heavy is read: card fields, folders, configs, the tokenizer's presence,
the projection's shape against the connector and the LLM width, and MiniGPT-v2's LoRA shapes against the LLM
config, so a mismatched pairing fails in a second with a sentence that says which checkpoint it is and what fits
(see ``checkpoint.diagnose_projection``, ``minigpt_v2.check_lora_fits``). Then the image side and the LLM are
loaded, MiniGPT-v2's LoRA is merged into the LLM (``lora.merge_lora``), and the parts are placed on the device.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch

from workbench.devices import choose_device
from workbench.errors import WorkbenchError
from workbench.model.cards import CARD_FIELDS, PRESETS, models_dir, read_card
from workbench.model.checkpoint import (
    diagnose_projection,
    load_checkpoint,
    load_projection,
    save_projection,
)
from workbench.model.fingerprint import file_sha256, folder_fingerprint
from workbench.model.lavis import load_lavis
from workbench.model.lora import merge_lora
from workbench.model.minigpt4 import MiniGPT4
from workbench.model.minigpt_v2 import check_lora_fits, projection_problem, read_minigptv2_checkpoint
from workbench.model.snapshots import (
    load_blip2,
    load_llm,
    load_tokenizer,
    read_blip2_config,
    read_llm_config,
    save_blip2_snapshot,
)
from workbench.model.templates import chat_template, get_template

__all__ = [
    "CARD_FIELDS",
    "PRESETS",
    "load_checkpoint",
    "load_model",
    "load_projection",
    "models_dir",
    "read_card",
    "save_blip2_snapshot",
    "save_projection",
]

# ---- devices --------------------------------------------------------------------------------------------------
def _resolve_dtype(dtype, default: torch.dtype) -> torch.dtype:
    if dtype is None:
        return default
    if isinstance(dtype, str):
        names = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
                 "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
        if dtype not in names:
            raise WorkbenchError(f"unknown dtype {dtype!r}; valid: {', '.join(names)}")
        return names[dtype]
    return dtype


# ---- cheap checks ---------------------------------------------------------------------------------------------
def _check_files(card: dict) -> None:
    """Raises WorkbenchError naming every file or folder of ``card`` that is missing (one line, all of them)."""
    missing = []
    for key in ("blip2", "llm", "vision", "qformer"):
        if card[key] is not None and not Path(card[key]).exists():
            folder = key == "blip2" or (key == "llm" and not card[key].lower().endswith(".gguf"))
            missing.append(f"{key} {'folder' if folder else 'file'} {card[key]} does not exist")
    if not Path(card["projection"]).is_file():
        missing.append(f"projection checkpoint {card['projection']} does not exist")
    if missing:
        raise WorkbenchError(f"{card['source']}: {'; '.join(missing)}")


@dataclass
class _Parts:
    """What the cheap pass found: configs, the projection (and LoRA), and LAVIS modules already mapped."""

    vision_cfg: object
    qformer_cfg: object | None
    llm_cfg: object
    projection: dict
    lora: dict | None
    lavis: tuple | None  # (vision, qformer | None, query_tokens | None) from MiniGPT-4's own .pth files


def _image_side_configs(card: dict):
    """``(vision_cfg, qformer_cfg | None, lavis modules | None)``. MiniGPT-4's own .pth files hold no config:
    their shapes are the config, so they are read (and mapped, position embeddings resized) here."""
    if card["vision"] is not None:
        lavis = load_lavis(card["vision"], card["qformer"], with_qformer=card["connector"] == "qformer",
                           image_size=card["image_size"])
        return lavis[0].config, (lavis[1].config if lavis[1] is not None else None), lavis
    vision_cfg, qformer_cfg, _ = read_blip2_config(Path(card["blip2"]))
    if card["connector"] == "qformer" and qformer_cfg is None:
        raise WorkbenchError(f"{card['blip2']}: this BLIP-2 snapshot has no Q-Former; connector qformer needs one")
    if card["image_size"] is not None and card["image_size"] != vision_cfg.image_size:
        raise WorkbenchError(
            f"{card['source']}: image_size {card['image_size']} but the vision encoder in {card['blip2']} is built "
            f"for {vision_cfg.image_size} px; set image_size: {vision_cfg.image_size} or drop it"
        )
    return vision_cfg, qformer_cfg, None


def _read_checkpoint(card: dict, llm_cfg) -> tuple[dict, dict | None]:
    """``(projection, lora | None)``: MiniGPT-4's projection file, or MiniGPT-v2's checkpoint with its LoRA."""
    if card["arch"] != "minigpt_v2":
        return load_projection(card["projection"]), None
    projection, lora = read_minigptv2_checkpoint(card["projection"])
    check_lora_fits(lora, llm_cfg, card["llm"], card["projection"])
    return projection, lora


def _check_parts(card: dict) -> _Parts:
    vision_cfg, qformer_cfg, lavis = _image_side_configs(card)
    llm_cfg = read_llm_config(card["llm"])
    projection, lora = _read_checkpoint(card, llm_cfg)
    shape = tuple(projection["llama_proj.weight"].shape)
    if card["arch"] == "minigpt_v2" and len(shape) == 2:
        problem = projection_problem(shape, vision_cfg.hidden_size, llm_cfg.hidden_size, card["vision"], card["llm"])
        if problem:
            raise WorkbenchError(f"{card['projection']}: {problem}")
    problem = diagnose_projection(
        shape,
        tuple(projection["llama_proj.bias"].shape),
        connector=card["connector"],
        qformer_hidden=qformer_cfg.hidden_size if qformer_cfg is not None else None,
        vision_hidden=vision_cfg.hidden_size,
        llm_hidden=llm_cfg.hidden_size,
        llm_path=card["llm"],
    )
    if problem:
        raise WorkbenchError(f"{card['projection']}: {problem}")
    return _Parts(vision_cfg, qformer_cfg, llm_cfg, projection, lora, lavis)


# ---- loading --------------------------------------------------------------------------------------------------
def _place(model: MiniGPT4, device: torch.device, dtype: torch.dtype, load_in_8bit: bool) -> None:
    """Move part by part: an 8-bit LLM is already placed and refuses .to(); ``llama_proj`` stays fp32."""
    for module in (model.vision_model, model.qformer):
        if module is not None:
            module.to(device=device, dtype=dtype)
    if model.query_tokens is not None:
        model.query_tokens.data = model.query_tokens.data.to(device=device, dtype=dtype)
    model.llama_proj.to(device=device, dtype=torch.float32)
    if not load_in_8bit and device.type != "cuda":  # on CUDA from_pretrained already placed it
        model.llm.to(device=device)


def _record_provenance(model: MiniGPT4, card: dict) -> None:
    """``model.card`` (resolved card + file hashes), ``model.projection_sha256``, ``model.llm_weights_sha256``."""
    keys = ("name", "arch", "blip2", "llm", "projection", "template", "connector", "source")
    model.card = {k: card[k] for k in keys}
    if card["vision"] is not None:
        model.card.update(vision=card["vision"], qformer=card["qformer"])
    if card["arch"] == "minigpt_v2":
        model.card["lora_alpha"] = card["lora_alpha"]
    model.card["image_size"] = model.image_size
    model.projection_sha256 = file_sha256(card["projection"])
    model.card["projection_sha256"] = model.projection_sha256
    # the LLM folder's files (weights, config, tokenizer), cached by size and mtime: see model/fingerprint.py
    llm_sha = folder_fingerprint(card["llm"])
    if card["arch"] == "minigpt_v2":  # the LLM's weights are the folder's plus the LoRA merged from the checkpoint
        llm_sha = hashlib.sha256(f"{llm_sha}+lora:{model.projection_sha256}".encode()).hexdigest()
    model.llm_weights_sha256 = llm_sha


def load_model(spec, device=None, dtype=None, load_in_8bit: bool = False) -> MiniGPT4:
    """A MiniGPT-4 (or MiniGPT-v2, ``arch: minigpt_v2``) in eval mode with ``model.card`` (resolved card) and
    ``model.projection_sha256`` set.

    ``device`` None means CUDA if present, else CPU (``workbench.devices.choose_device``). CPU runs fp32; on
    CUDA the vision encoder, Q-Former and LLM default to fp16 (``llama_proj`` stays fp32, as MiniGPT-4 trains
    it); ``load_in_8bit`` loads the LLM with bitsandbytes int8 (CUDA only; not for MiniGPT-v2, whose LoRA is
    merged into the weights). Raises WorkbenchError (one line: the file, what does not fit, the fix).
    """
    card = read_card(spec)
    if card["arch"] == "minigpt_v2" and load_in_8bit:
        raise WorkbenchError(f"{card['source']}: MiniGPT-v2's LoRA is merged into the LLM's weights at load, which "
                             "int8 weights cannot take; drop --load-in-8bit (7B LLM + EVA in fp16: about 16 GB)")
    choice = choose_device(None if device is None else str(device), load_in_8bit)
    device, dtype = choice.device, _resolve_dtype(dtype, choice.dtype)
    _check_files(card)
    parts = _check_parts(card)
    tokenizer = load_tokenizer(card["llm"])
    template = (chat_template(tokenizer, card["llm"]) if card["template"] == "chat"
                else get_template(card["template"]))

    vision, qformer, query_tokens = parts.lavis or load_blip2(card["blip2"],
                                                              with_qformer=card["connector"] == "qformer")
    llm, tokenizer = load_llm(card["llm"], dtype=dtype, device=device, load_in_8bit=load_in_8bit,
                              tokenizer=tokenizer, config=parts.llm_cfg)
    if parts.lora:
        merge_lora(llm, parts.lora, alpha=card["lora_alpha"], source=card["projection"])
    model = MiniGPT4(vision, qformer, query_tokens, llm, tokenizer, template,
                     connector=card["connector"], image_size=card["image_size"] or parts.vision_cfg.image_size)
    model.llama_proj.load_state_dict(
        {"weight": parts.projection["llama_proj.weight"], "bias": parts.projection["llama_proj.bias"]}, strict=True
    )
    _place(model, device, dtype, load_in_8bit)
    model.eval()
    _record_provenance(model, card)
    return model

"""Build a MiniGPT-4 from a preset name, a model card (JSON/YAML) or a dict: the one way models get loaded.

A model card names MiniGPT-4's three local ingredients plus how to wire them::

    name: minigpt4-vicuna0-7b            # optional, for reports
    blip2: blip2-flan-t5-xxl/            # HF BLIP-2 snapshot: ViT-g + Q-Former + query tokens (T5 never read)
    llm: vicuna-7b-v0/                   # HF causal-LM snapshot with its tokenizer, or a .gguf file
    projection: prerained_minigpt4_7b.pth
    template: vicuna0                    # vicuna0 | llama2 | chat (the LLM tokenizer's own chat template)
    connector: qformer                   # qformer | concat4
    image_size: 224                      # optional; must match the vision encoder

Relative paths resolve against the card's folder (against the working directory for a dict). Everything cheap is
checked before anything heavy is read: card fields, folders, configs, the tokenizer's presence and the projection's
shape against the connector and the LLM width, so a mismatched pairing fails in a second with a sentence that says
which checkpoint it is and what fits (see ``checkpoint.diagnose_projection``).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

import workbench
from workbench.devices import choose_device
from workbench.errors import WorkbenchError
from workbench.model.checkpoint import (
    diagnose_projection,
    load_checkpoint,
    load_projection,
    save_projection,
)
from workbench.model.lavis import load_lavis
from workbench.model.fingerprint import file_sha256, folder_fingerprint
from workbench.model.minigpt4 import CONNECTORS, MiniGPT4
from workbench.model.snapshots import (
    load_blip2,
    load_llm,
    load_tokenizer,
    read_blip2_config,
    read_llm_config,
    save_blip2_snapshot,
)
from workbench.model.templates import TEMPLATE_NAMES, chat_template, get_template

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

REQUIRED_FIELDS = ("blip2", "llm", "projection", "template", "connector")
OPTIONAL_FIELDS = ("image_size", "name")
LAVIS_FIELDS = ("vision", "qformer")  # MiniGPT-4's own files, instead of blip2 (see workbench/model/lavis.py)
CARD_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS + LAVIS_FIELDS
PATH_FIELDS = ("blip2", "llm", "projection", "vision", "qformer")
CARD_SUFFIXES = (".json", ".yaml", ".yml")

PRESETS = {"tiny-stage1": "tiny/tiny-stage1.json", "tiny-stage2": "tiny/tiny-stage2.json"}


def models_dir() -> Path:
    """``<repo>/models``: the embedded models ship beside the package in the source tree."""
    return Path(workbench.__file__).resolve().parent.parent / "models"


# ---- model cards ----------------------------------------------------------------------------------------------
def _parse_card_file(path: Path) -> dict:
    import json

    import yaml

    if not path.is_file():
        raise WorkbenchError(f"{path}: model card not found")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise WorkbenchError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise WorkbenchError(f"{where}: invalid YAML ({getattr(exc, 'problem', None) or exc})") from exc
    if not isinstance(data, dict):
        raise WorkbenchError(f"{path}: a model card must be a mapping of {', '.join(CARD_FIELDS)}")
    return data


def read_card(spec, base_dir: str | os.PathLike | None = None) -> dict:
    """Resolve ``spec`` (preset name, card path or dict) to a checked card with absolute paths.

    The result also holds ``source``: the card file (or ``"<dict>"``) the fields came from.
    """
    if isinstance(spec, dict):
        raw, source, base = dict(spec), "model card", Path(base_dir or Path.cwd())
    elif isinstance(spec, (str, os.PathLike)):
        text = os.fspath(spec)
        if text in PRESETS:
            path = models_dir() / PRESETS[text]
            if not path.is_file():
                raise WorkbenchError(
                    f"{path}: preset {text!r} is not built yet; run `workbench build-tiny` to build models/tiny/"
                )
            raw, source = _parse_card_file(path), str(path)
            raw.setdefault("name", text)
        elif Path(text).suffix.lower() in CARD_SUFFIXES:
            path = Path(text).expanduser().resolve()
            raw, source = _parse_card_file(path), str(path)
            raw.setdefault("name", path.stem)
        else:
            raise WorkbenchError(
                f"unknown model {text!r}: give a preset ({', '.join(PRESETS)}) or a model-card file "
                f"({'/'.join(CARD_SUFFIXES)}) naming {', '.join(REQUIRED_FIELDS)}"
            )
        base = Path(source).parent
    else:
        raise WorkbenchError(f"a model must be a preset name, a model-card path or a dict, not {type(spec).__name__}")

    unknown = sorted(set(raw) - set(CARD_FIELDS))
    if unknown:
        raise WorkbenchError(
            f"{source}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"valid fields: {', '.join(CARD_FIELDS)}"
        )
    lavis = raw.get("vision") not in (None, "") or raw.get("qformer") not in (None, "")
    if lavis and raw.get("blip2") not in (None, ""):
        raise WorkbenchError(f"{source}: give either blip2 (a Hugging Face snapshot) or vision/qformer "
                             "(MiniGPT-4's eva_vit_g.pth / blip2_pretrained_flant5xxl.pth), not both")
    if lavis and raw.get("vision") in (None, ""):
        raise WorkbenchError(f"{source}: qformer needs vision too (eva_vit_g.pth)")
    if lavis and raw.get("connector") == "qformer" and raw.get("qformer") in (None, ""):
        raise WorkbenchError(f"{source}: connector qformer needs qformer: (blip2_pretrained_flant5xxl.pth)")
    missing = [k for k in REQUIRED_FIELDS if raw.get(k) in (None, "") and not (k == "blip2" and lavis)]
    if missing:
        raise WorkbenchError(
            f"{source}: missing {', '.join(missing)}; a model card needs {', '.join(REQUIRED_FIELDS)} "
            f"(optional: {', '.join(OPTIONAL_FIELDS)})"
        )
    card = {"name": str(raw.get("name") or "model")}
    for key in PATH_FIELDS:
        if raw.get(key) in (None, ""):
            card[key] = None
            continue
        if not isinstance(raw[key], (str, os.PathLike)):
            raise WorkbenchError(f"{source}: {key} must be a path, got {raw[key]!r}")
        card[key] = str((base / Path(raw[key]).expanduser()).resolve())
    if raw["template"] not in TEMPLATE_NAMES:
        raise WorkbenchError(
            f"{source}: unknown template {raw['template']!r}; valid templates: {', '.join(TEMPLATE_NAMES)} "
            "(vicuna0 for Vicuna-v0 checkpoints, llama2 for the Llama-2 one, chat for the LLM's own chat template)"
        )
    if raw["connector"] not in CONNECTORS:
        raise WorkbenchError(
            f"{source}: unknown connector {raw['connector']!r}; valid connectors: {', '.join(CONNECTORS)} "
            "(qformer for Vicuna-v0 checkpoints, concat4 for the Llama-2 one)"
        )
    card["template"], card["connector"] = raw["template"], raw["connector"]
    image_size = raw.get("image_size")
    if image_size is not None and (isinstance(image_size, bool) or not isinstance(image_size, int) or image_size <= 0):
        raise WorkbenchError(f"{source}: image_size must be a positive integer, got {image_size!r}")
    card["image_size"] = image_size
    card["source"] = source
    return card


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


# ---- loading --------------------------------------------------------------------------------------------------
def _check_files(card: dict) -> None:
    for key in ("blip2", "llm", "vision", "qformer"):
        if card[key] is not None and not Path(card[key]).exists():
            what = "file" if card[key].lower().endswith(".gguf") else "folder"
            raise WorkbenchError(f"{card['source']}: {key} {what} {card[key]} does not exist")
    if not Path(card["projection"]).is_file():
        raise WorkbenchError(f"{card['source']}: projection checkpoint {card['projection']} does not exist")


def load_model(spec, device=None, dtype=None, load_in_8bit: bool = False) -> MiniGPT4:
    """A MiniGPT-4 in eval mode with ``model.card`` (resolved card) and ``model.projection_sha256`` set.

    ``device`` None means CUDA if present, else CPU (``workbench.devices.choose_device``). CPU runs fp32; on
    CUDA the vision encoder, Q-Former and LLM default to fp16 (``llama_proj`` stays fp32, as MiniGPT-4 trains
    it); ``load_in_8bit`` loads the LLM with bitsandbytes int8 (CUDA only).
    """
    card = read_card(spec)
    choice = choose_device(None if device is None else str(device), load_in_8bit)
    device, dtype = choice.device, _resolve_dtype(dtype, choice.dtype)
    _check_files(card)

    # Cheap checks first: configs, the projection's shape, the tokenizer. MiniGPT-4's own .pth files hold no
    # config: their shapes are the config, so they are read (and mapped) first.
    lavis = None
    if card["vision"] is not None:
        lavis = load_lavis(card["vision"], card["qformer"], with_qformer=card["connector"] == "qformer")
        vision_cfg = lavis[0].config
        qformer_cfg = lavis[1].config if lavis[1] is not None else None
    else:
        vision_cfg, qformer_cfg, _ = read_blip2_config(Path(card["blip2"]))
    if card["connector"] == "qformer" and qformer_cfg is None:
        raise WorkbenchError(f"{card['blip2']}: this BLIP-2 snapshot has no Q-Former; connector qformer needs one")
    if card["image_size"] is not None and card["image_size"] != vision_cfg.image_size:
        raise WorkbenchError(
            f"{card['source']}: image_size {card['image_size']} but the vision encoder in {card['blip2']} is built "
            f"for {vision_cfg.image_size} px; set image_size: {vision_cfg.image_size} or drop it"
        )
    llm_cfg = read_llm_config(card["llm"])
    projection = load_projection(card["projection"])
    problem = diagnose_projection(
        tuple(projection["llama_proj.weight"].shape),
        tuple(projection["llama_proj.bias"].shape),
        connector=card["connector"],
        qformer_hidden=qformer_cfg.hidden_size if qformer_cfg is not None else None,
        vision_hidden=vision_cfg.hidden_size,
        llm_hidden=llm_cfg.hidden_size,
        llm_path=card["llm"],
    )
    if problem:
        raise WorkbenchError(f"{card['projection']}: {problem}")

    tokenizer = load_tokenizer(card["llm"])
    template = (chat_template(tokenizer, card["llm"]) if card["template"] == "chat"
                else get_template(card["template"]))

    if lavis is not None:
        vision, qformer, query_tokens = lavis
    else:
        vision, qformer, query_tokens = load_blip2(card["blip2"], with_qformer=card["connector"] == "qformer")
    llm, tokenizer = load_llm(card["llm"], dtype=dtype, device=device, load_in_8bit=load_in_8bit,
                              tokenizer=tokenizer, config=llm_cfg)
    model = MiniGPT4(
        vision, qformer, query_tokens, llm, tokenizer, template,
        connector=card["connector"], image_size=card["image_size"] or vision_cfg.image_size,
    )
    model.llama_proj.load_state_dict(
        {"weight": projection["llama_proj.weight"], "bias": projection["llama_proj.bias"]}, strict=True
    )
    # Move part by part: an 8-bit LLM is already placed and refuses .to().
    for module in (model.vision_model, model.qformer):
        if module is not None:
            module.to(device=device, dtype=dtype)
    if model.query_tokens is not None:
        model.query_tokens.data = model.query_tokens.data.to(device=device, dtype=dtype)
    model.llama_proj.to(device=device, dtype=torch.float32)
    if not load_in_8bit and device.type != "cuda":  # on CUDA from_pretrained already placed it
        model.llm.to(device=device)
    model.eval()
    model.card = {k: card[k] for k in ("name", "blip2", "llm", "projection", "template", "connector", "source")}
    if lavis is not None:
        model.card.update(vision=card["vision"], qformer=card["qformer"])
    model.card["image_size"] = model.image_size
    model.projection_sha256 = file_sha256(card["projection"])
    model.card["projection_sha256"] = model.projection_sha256
    # the LLM folder's files (weights, config, tokenizer), cached by size and mtime: see model/fingerprint.py
    model.llm_weights_sha256 = folder_fingerprint(card["llm"])
    return model

"""Model cards: a preset name, a JSON/YAML file or a dict, checked and resolved to absolute paths.

A card names MiniGPT-4's local ingredients and how to wire them (docs/model_cards.md)::

    name: minigpt4-vicuna0-7b            # optional, for reports
    blip2: blip2-flan-t5-xxl/            # HF BLIP-2 snapshot: ViT-g + Q-Former + query tokens (T5 never read)
    llm: vicuna-7b-v0/                   # HF causal-LM snapshot with its tokenizer, or a .gguf file
    projection: prerained_minigpt4_7b.pth
    template: vicuna0                    # vicuna0 | llama2 | minigptv2 | chat (the LLM tokenizer's own template)
    connector: qformer                   # qformer | concat4
    image_size: 224                      # optional; must match the vision encoder

``vision``/``qformer`` (LAVIS's ``eva_vit_g.pth`` / ``blip2_pretrained_flant5xxl.pth``) replace ``blip2``.
``arch: minigpt_v2`` describes MiniGPT-v2 (``minigpt4/models/minigpt_v2.py``): ``vision`` only (no Q-Former),
``projection`` is the whole ``minigptv2_checkpoint.pth`` (``llama_proj`` and the LLM's LoRA, merged at load with
``lora_alpha``, default 16), and ``template``/``connector``/``image_size`` default to minigptv2 / concat4 / 448.
Nothing is read here but the card itself: ``read_card`` is cheap.
"""

from __future__ import annotations

import os
from pathlib import Path

import workbench
from workbench.errors import WorkbenchError
from workbench.model.minigpt4 import CONNECTORS
from workbench.model.templates import TEMPLATE_NAMES

REQUIRED_FIELDS = ("blip2", "llm", "projection", "template", "connector")
OPTIONAL_FIELDS = ("image_size", "name", "arch", "lora_alpha")
LAVIS_FIELDS = ("vision", "qformer")  # MiniGPT-4's own files, instead of blip2 (see workbench/model/lavis.py)
CARD_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS + LAVIS_FIELDS
PATH_FIELDS = ("blip2", "llm", "projection", "vision", "qformer")
CARD_SUFFIXES = (".json", ".yaml", ".yml")
ARCHS = ("minigpt4", "minigpt_v2")
# MiniGPT-v2 (configs/models/minigpt_v2.yaml, eval_configs/minigptv2_eval.yaml): 448 px, concat-4, LoRA alpha 16
MINIGPTV2_DEFAULTS = {"template": "minigptv2", "connector": "concat4", "image_size": 448, "lora_alpha": 16}

PRESETS = {"tiny-stage1": "tiny/tiny-stage1.json", "tiny-stage2": "tiny/tiny-stage2.json"}


def models_dir() -> Path:
    """``<repo>/models``: the embedded models ship beside the package in the source tree."""
    return Path(workbench.__file__).resolve().parent.parent / "models"


def _given(raw: dict, key: str) -> bool:
    return raw.get(key) not in (None, "")


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


def _card_source(spec, base_dir) -> tuple[dict, str, Path]:
    """``(raw fields, where they came from, folder that relative paths resolve against)``."""
    if isinstance(spec, dict):
        return dict(spec), "model card", Path(base_dir or Path.cwd())
    if not isinstance(spec, (str, os.PathLike)):
        raise WorkbenchError(f"a model must be a preset name, a model-card path or a dict, not {type(spec).__name__}")
    text = os.fspath(spec)
    if text in PRESETS:
        path = models_dir() / PRESETS[text]
        if not path.is_file():
            raise WorkbenchError(
                f"{path}: preset {text!r} is not built yet; run `workbench build-tiny` to build models/tiny/"
            )
        raw = _parse_card_file(path)
        raw.setdefault("name", text)
    elif Path(text).suffix.lower() in CARD_SUFFIXES:
        path = Path(text).expanduser().resolve()
        raw = _parse_card_file(path)
        raw.setdefault("name", path.stem)
    else:
        raise WorkbenchError(
            f"unknown model {text!r}: give a preset ({', '.join(PRESETS)}) or a model-card file "
            f"({'/'.join(CARD_SUFFIXES)}) naming {', '.join(REQUIRED_FIELDS)}"
        )
    return raw, str(path), path.parent


def _with_arch_defaults(raw: dict, source: str) -> dict:
    """``arch`` checked; for minigpt_v2 the fields MiniGPT-v2 fixes are filled in and the others refused."""
    arch = raw.get("arch") or "minigpt4"
    if arch not in ARCHS:
        raise WorkbenchError(
            f"{source}: unknown arch {arch!r}; valid: {', '.join(ARCHS)} "
            "(minigpt4 for MiniGPT-4's projection checkpoints, minigpt_v2 for minigptv2_checkpoint.pth)")
    if arch == "minigpt4":
        if _given(raw, "lora_alpha"):
            raise WorkbenchError(f"{source}: lora_alpha is for arch: minigpt_v2 (MiniGPT-4 has no LoRA)")
        return {**raw, "arch": arch}
    if _given(raw, "blip2") or _given(raw, "qformer"):
        given = "blip2" if _given(raw, "blip2") else "qformer"
        raise WorkbenchError(f"{source}: arch minigpt_v2 has no Q-Former and reads EVA from LAVIS's file: drop "
                             f"{given} and give vision: eva_vit_g.pth (interpolated to image_size, 448 px)")
    if _given(raw, "connector") and raw["connector"] != "concat4":
        raise WorkbenchError(
            f"{source}: arch minigpt_v2 concatenates 4 patch tokens: set connector: concat4 or drop it")
    if not _given(raw, "vision"):
        raise WorkbenchError(f"{source}: arch minigpt_v2 needs vision: (LAVIS's eva_vit_g.pth)")
    return {**MINIGPTV2_DEFAULTS, **{k: v for k, v in raw.items() if v is not None}, "arch": arch}


def _refuse_unknown(raw: dict, source: str) -> None:
    unknown = sorted(set(raw) - set(CARD_FIELDS))
    if unknown:
        raise WorkbenchError(
            f"{source}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"valid fields: {', '.join(CARD_FIELDS)}"
        )


def _check_sources(raw: dict, source: str) -> None:
    """The blip2 / vision+qformer alternatives, and the missing fields."""
    lavis = _given(raw, "vision") or _given(raw, "qformer")
    if lavis and _given(raw, "blip2"):
        raise WorkbenchError(f"{source}: give either blip2 (a Hugging Face snapshot) or vision/qformer "
                             "(MiniGPT-4's eva_vit_g.pth / blip2_pretrained_flant5xxl.pth), not both")
    if lavis and not _given(raw, "vision"):
        raise WorkbenchError(f"{source}: qformer needs vision too (eva_vit_g.pth)")
    if lavis and raw.get("connector") == "qformer" and not _given(raw, "qformer"):
        raise WorkbenchError(f"{source}: connector qformer needs qformer: (blip2_pretrained_flant5xxl.pth)")
    missing = [k for k in REQUIRED_FIELDS if not _given(raw, k) and not (k == "blip2" and lavis)]
    if missing:
        raise WorkbenchError(
            f"{source}: missing {', '.join(missing)}; a model card needs {', '.join(REQUIRED_FIELDS)} "
            f"(optional: {', '.join(OPTIONAL_FIELDS)})"
        )


def _resolve_paths(raw: dict, source: str, base: Path) -> dict:
    paths = {}
    for key in PATH_FIELDS:
        if not _given(raw, key):
            paths[key] = None
            continue
        if not isinstance(raw[key], (str, os.PathLike)):
            raise WorkbenchError(f"{source}: {key} must be a path, got {raw[key]!r}")
        paths[key] = str((base / Path(raw[key]).expanduser()).resolve())
    return paths


def _check_wiring(raw: dict, source: str) -> dict:
    """template, connector, image_size, lora_alpha: known values of the right types."""
    if raw["template"] not in TEMPLATE_NAMES:
        raise WorkbenchError(
            f"{source}: unknown template {raw['template']!r}; valid templates: {', '.join(TEMPLATE_NAMES)} "
            "(vicuna0 for Vicuna-v0 checkpoints, llama2 for the Llama-2 one, minigptv2 for MiniGPT-v2, "
            "chat for the LLM's own chat template)"
        )
    if raw["connector"] not in CONNECTORS:
        raise WorkbenchError(
            f"{source}: unknown connector {raw['connector']!r}; valid connectors: {', '.join(CONNECTORS)} "
            "(qformer for Vicuna-v0 checkpoints, concat4 for the Llama-2 one and MiniGPT-v2)"
        )
    for key in ("image_size", "lora_alpha"):
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise WorkbenchError(f"{source}: {key} must be a positive integer, got {value!r}")
    return {"template": raw["template"], "connector": raw["connector"], "image_size": raw.get("image_size"),
            "lora_alpha": raw.get("lora_alpha")}


def read_card(spec, base_dir: str | os.PathLike | None = None) -> dict:
    """Resolve ``spec`` (preset name, card path or dict) to a checked card with absolute paths.

    The result holds every field of ``CARD_FIELDS`` (None where not given; ``arch`` defaults to minigpt4) and
    ``source``: the card file (or ``"model card"``) the fields came from. Raises WorkbenchError, one line naming
    the card and the fix, for unknown, missing or conflicting fields.
    """
    raw, source, base = _card_source(spec, base_dir)
    _refuse_unknown(raw, source)
    raw = _with_arch_defaults(raw, source)
    _check_sources(raw, source)
    card = {"name": str(raw.get("name") or "model"), "arch": raw["arch"]}
    card.update(_resolve_paths(raw, source, base))
    card.update(_check_wiring(raw, source))
    card["source"] = source
    return card

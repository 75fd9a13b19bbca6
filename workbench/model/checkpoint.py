"""MiniGPT-4 projection checkpoints (``llama_proj``): safe loading, MiniGPT-4's save layout, shape diagnosis.

MiniGPT-4's trainer (``runner_base.py:_save_checkpoint``) writes ``{"model", "optimizer", "config", "scaler",
"epoch"}`` where ``model`` holds only the trainable weights, ``llama_proj.weight`` and ``llama_proj.bias``. The
released files (``prerained_minigpt4_7b.pth`` etc.) are that raw dict, AdamW moments included. Files are read with
``torch.load(weights_only=True)`` only: a pickle holding anything but tensors and plain containers is refused
without running it.

``diagnose_projection`` turns the raw ``size mismatch for llama_proj.weight`` that MiniGPT-4 users hit
(issues #77, #133, #269, #350, #364) into a sentence that says which checkpoint this is and what fits it.
"""

from __future__ import annotations

import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import torch

from workbench.atomic import atomic_write
from workbench.errors import WorkbenchError

PROJECTION_KEYS = ("llama_proj.weight", "llama_proj.bias")


# ---- known shapes ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KnownProjection:
    """One released MiniGPT-4 projection: ``Linear(in_features, out_features)``."""

    in_features: int
    out_features: int
    connector: str
    template: str
    label: str  # what it is, in MiniGPT-4 users' words
    llm: str  # the LLM it was trained for
    file: str  # the released file name (typos included)


KNOWN_PROJECTIONS: tuple[KnownProjection, ...] = (
    KnownProjection(768, 4096, "qformer", "vicuna0", "MiniGPT-4 for a 7B LLM", "Vicuna-v0 7B",
                    "prerained_minigpt4_7b.pth"),
    KnownProjection(768, 5120, "qformer", "vicuna0", "MiniGPT-4 for a 13B LLM", "Vicuna-v0 13B",
                    "pretrained_minigpt4.pth"),
    KnownProjection(5632, 4096, "concat4", "llama2", "the Llama-2 (concat4) checkpoint", "Llama-2-chat 7B",
                    "pretrained_minigpt4_llama2_7b.pth"),
    # Same shape as the Llama-2 one; told apart by the LoRA weights its "model" dict also holds.
    KnownProjection(5632, 4096, "concat4", "llama2", "MiniGPT-v2", "Llama-2-chat 7B + LoRA",
                    "minigptv2_checkpoint.pth"),
)

# hidden size -> the LLaMA/Vicuna size users call it by
LLM_SIZES = {4096: "7B", 5120: "13B", 6656: "33B", 8192: "65B/70B"}

EVA_VIT_G_WIDTH = 1408
QFORMER_WIDTH = 768


def _known(in_features: int, out_features: int) -> KnownProjection | None:
    for known in KNOWN_PROJECTIONS:
        if (known.in_features, known.out_features) == (in_features, out_features):
            return known
    return None


def _llm_name(hidden: int) -> str:
    return f"a {LLM_SIZES[hidden]} LLM" if hidden in LLM_SIZES else f"an LLM with hidden size {hidden}"


def diagnose_projection(
    weight_shape: tuple[int, ...],
    bias_shape: tuple[int, ...] | None,
    *,
    connector: str,
    qformer_hidden: int | None,
    vision_hidden: int,
    llm_hidden: int,
    llm_path: str | os.PathLike = "the LLM folder",
) -> str | None:
    """Why ``llama_proj`` of this shape cannot sit between this connector and this LLM; None if it fits.

    ``weight_shape`` is ``nn.Linear``'s ``(out_features, in_features)``.
    """
    if len(weight_shape) != 2:
        return f"llama_proj.weight has shape {tuple(weight_shape)}, expected a 2-D (out, in) matrix"
    out_f, in_f = (int(n) for n in weight_shape)
    if bias_shape is not None and tuple(bias_shape) != (out_f,):
        return (f"llama_proj.bias has shape {tuple(bias_shape)} but the weight maps {in_f}→{out_f}: "
                "the file is damaged")
    problems = [p for p in (_input_problem(in_f, out_f, connector, qformer_hidden, vision_hidden),
                            _output_problem(in_f, out_f, llm_hidden, llm_path)) if p]
    return "; also ".join(problems) if problems else None


def _input_problem(in_f: int, out_f: int, connector: str, qformer_hidden: int | None, vision_hidden: int) -> str | None:
    """Why a projection with ``in_f`` inputs cannot read this connector's features (None if it can)."""
    concat_width = 4 * vision_hidden
    expected_in = qformer_hidden if connector == "qformer" else concat_width
    if in_f == expected_in:
        return None
    if connector == "qformer" and in_f == concat_width:
        known = _known(in_f, out_f)
        what = known.label if known else "a concat4 (Llama-2-style) checkpoint"
        return (f"projection input is {in_f} = 4×{vision_hidden}: this is {what}; "
                "set connector: concat4 / template: llama2")
    if connector == "concat4" and qformer_hidden is not None and in_f == qformer_hidden:
        known = _known(in_f, out_f)
        what = f"a Vicuna (qformer) checkpoint, {known.label}" if known else "a qformer (Vicuna-style) checkpoint"
        return (f"projection input is {in_f} = the Q-Former width: this is {what}; "
                "set connector: qformer / template: vicuna0")
    if in_f == EVA_VIT_G_WIDTH * 4 or in_f == QFORMER_WIDTH:
        return (f"projection input is {in_f} (MiniGPT-4's {'concat4' if in_f != QFORMER_WIDTH else 'qformer'} width) "
                f"but connector {connector!r} over this BLIP-2 snapshot gives {expected_in}-wide features: "
                "point blip2 at Salesforce/blip2-flan-t5-xxl (EVA ViT-g + the FlanT5-XXL Q-Former)")
    return (f"projection input is {in_f} but connector {connector!r} over this BLIP-2 snapshot gives "
            f"{expected_in}-wide features: the projection was trained on another vision encoder/Q-Former")


def _output_problem(in_f: int, out_f: int, llm_hidden: int, llm_path) -> str | None:
    """Why a projection with ``out_f`` outputs cannot feed an LLM of hidden size ``llm_hidden`` (None if it can)."""
    if out_f == llm_hidden:
        return None
    known = _known(in_f, out_f)
    what = known.label if known else f"made for {_llm_name(out_f)}"
    fitting = _known(in_f, llm_hidden)
    if fitting is not None:
        instead = f"use the {LLM_SIZES.get(llm_hidden, str(llm_hidden))} checkpoint ({fitting.file})"
    else:
        instead = "use a projection trained for this LLM"
    return (f"projection maps {in_f}→{out_f} ({what}); the LLM in {llm_path} has hidden size {llm_hidden}: "
            f"{instead} or {_llm_name(out_f)}")


# ---- reading --------------------------------------------------------------------------------------------------
def _unpickler_detail(exc: Exception) -> str:
    """The one informative line of torch's weights-only refusal, e.g. ``Unsupported global: GLOBAL os.system``."""
    text = str(exc)
    marker = "WeightsUnpickler error:"
    if marker in text:
        text = text.split(marker, 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    return first.split(" was not an allowed global")[0]


def load_checkpoint(path: str | os.PathLike) -> dict:
    """The whole checkpoint dict (e.g. to resume training with its optimizer state), plain tensors only."""
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"{path}: projection checkpoint not found")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = _unpickler_detail(exc)
        if "Unsupported global" not in detail:
            raise WorkbenchError(
                f"{path}: cannot read as a plain-tensor PyTorch checkpoint ({detail[:160]}); "
                "expected a .pth saved by MiniGPT-4 or torch.save"
            ) from exc
        raise WorkbenchError(
            f"{path}: not a plain-tensor checkpoint, refused without loading it: it holds Python objects that "
            f"unpickling would execute ({detail[:160]}); re-save it as tensors only, e.g. "
            "torch.save({'model': {'llama_proj.weight': w, 'llama_proj.bias': b}}, path)"
        ) from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        detail = (str(exc).strip().splitlines() or [""])[0][:160]
        raise WorkbenchError(
            f"{path}: cannot read as a plain-tensor PyTorch checkpoint ({type(exc).__name__}: {detail}); "
            "expected a .pth saved by MiniGPT-4 or torch.save"
        ) from exc
    if not isinstance(obj, dict):
        raise WorkbenchError(f"{path}: holds a {type(obj).__name__}, expected a dict (MiniGPT-4's {{'model': ...}})")
    return obj


def load_projection(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """``{"llama_proj.weight", "llama_proj.bias"}`` from MiniGPT-4's training dict or a bare state dict."""
    path = Path(path)
    obj = load_checkpoint(path)
    state = obj["model"] if isinstance(obj.get("model"), dict) else obj
    lora = [k for k in state if "lora_" in str(k)]
    if lora:
        raise WorkbenchError(
            f"{path}: a MiniGPT-v2 checkpoint (it also holds LoRA weights for the LLM, e.g. {lora[0]}); "
            "describe it with arch: minigpt_v2 and vision: eva_vit_g.pth in the model card (docs/model_cards.md)"
        )
    missing = [k for k in PROJECTION_KEYS if k not in state]
    if missing:
        keys = sorted(str(k) for k in state)
        shown = ", ".join(keys[:6]) + (f", … ({len(keys)} keys)" if len(keys) > 6 else "")
        raise WorkbenchError(
            f"{path}: no {' / '.join(missing)} in this file (its {'model dict' if state is not obj else 'top level'} "
            f"holds: {shown or 'nothing'}); expected a MiniGPT-4 projection checkpoint such as "
            "prerained_minigpt4_7b.pth, not a BLIP-2/EVA/LLM weight file"
        )
    out = {}
    for key in PROJECTION_KEYS:
        if not isinstance(state[key], torch.Tensor):
            raise WorkbenchError(f"{path}: {key} is a {type(state[key]).__name__}, expected a tensor")
        out[key] = state[key]
    return out


# ---- writing --------------------------------------------------------------------------------------------------
def save_projection(
    path: str | os.PathLike,
    state: dict[str, torch.Tensor],
    optimizer_state: dict | None = None,
    epoch: int = 0,
    config: dict | None = None,
) -> Path:
    """Write MiniGPT-4's checkpoint layout ``{"model", "optimizer", "config", "scaler", "epoch"}`` atomically.

    Only ``llama_proj.*`` go into ``model``, as MiniGPT-4 deletes every frozen key before saving.
    """
    path = Path(path)
    missing = [k for k in PROJECTION_KEYS if k not in state]
    if missing:
        raise WorkbenchError(f"{path}: cannot save a projection without {', '.join(missing)}")
    payload = {
        "model": {k: state[k].detach().cpu().contiguous().clone() for k in PROJECTION_KEYS},
        "optimizer": optimizer_state,
        "config": config or {},
        "scaler": None,
        "epoch": int(epoch),
    }
    # Through a buffer: torch.save names its zip records after the file, and the bytes should not depend on the
    # temporary name (build-tiny promises byte-identical files for the same seed).
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return atomic_write(path, buffer.getvalue())

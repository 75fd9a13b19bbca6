"""Local Hugging Face snapshots: the image side of a BLIP-2 snapshot, and a causal LM with its tokenizer.

BLIP-2 (e.g. ``Salesforce/blip2-flan-t5-xxl``, which holds the ViT-g and Q-Former MiniGPT-4 loads from
``blip2_pretrained_flant5xxl.pth``): only ``vision_model.*``, ``qformer.*`` and ``query_tokens`` are read, one
``safe_open`` per shard that holds any of them. The language model (11B T5 parameters for flan-t5-xxl) is never
read: its config is ignored and its tensors are never requested, so a shard holding only them is never opened.
The modules are built on the meta device and the read tensors assigned in, so ViT-g is allocated once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn
from transformers import Blip2QFormerConfig, Blip2QFormerModel, Blip2VisionConfig, Blip2VisionModel

from workbench.errors import WorkbenchError

INDEX_FILE = "model.safetensors.index.json"
SINGLE_FILE = "model.safetensors"
VISION_PREFIX = "vision_model."
QFORMER_PREFIX = "qformer."
QUERY_TOKENS = "query_tokens"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")


def read_json(path: Path, role: str) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkbenchError(f"{path}: cannot read {role} ({exc})") from exc
    if not isinstance(data, dict):
        raise WorkbenchError(f"{path}: {role} is not a JSON object")
    return data


def snapshot_config(folder: Path, role: str) -> dict:
    """``config.json`` of a snapshot folder, with errors that say which card field points at the wrong place."""
    if not folder.exists():
        raise WorkbenchError(f"{folder}: {role} folder does not exist")
    if not folder.is_dir():
        raise WorkbenchError(f"{folder}: {role} must be a snapshot folder, this is a file")
    config = folder / "config.json"
    if not config.is_file():
        raise WorkbenchError(
            f"{folder}: no config.json, so this is not a Hugging Face snapshot folder; point {role} at the folder "
            "that holds config.json and the *.safetensors files (e.g. a snapshots/<hash>/ folder of the HF cache)"
        )
    return read_json(config, f"{role} config.json")


# ---- BLIP-2 ---------------------------------------------------------------------------------------------------
def read_blip2_config(folder: Path) -> tuple[Blip2VisionConfig, Blip2QFormerConfig | None, int]:
    """Vision and Q-Former configs plus ``num_query_tokens``; ``text_config`` (T5/OPT) is ignored."""
    folder = Path(folder)
    raw = snapshot_config(folder, "blip2")
    if raw.get("model_type") != "blip-2" or "vision_config" not in raw:
        kind = raw.get("model_type", "unknown")
        hint = " (it looks like the LLM folder: did you swap blip2 and llm?)" if "vision_config" not in raw else ""
        raise WorkbenchError(
            f"{folder}/config.json: holds a {kind!r} model, not a BLIP-2 snapshot{hint}; blip2 must point at a "
            "Hugging Face BLIP-2 snapshot such as Salesforce/blip2-flan-t5-xxl"
        )
    vision = Blip2VisionConfig(**raw["vision_config"])
    qformer = None
    if raw.get("qformer_config") is not None:
        qcfg = dict(raw["qformer_config"])
        qcfg.setdefault("encoder_hidden_size", vision.hidden_size)
        qformer = Blip2QFormerConfig(**qcfg)
    return vision, qformer, int(raw.get("num_query_tokens", 32))


def _weight_map(folder: Path) -> dict[str, str]:
    """tensor name -> shard file name, from the index or the single-file layout."""
    index = folder / INDEX_FILE
    if index.is_file():
        weight_map = read_json(index, "safetensors index").get("weight_map")
        if not isinstance(weight_map, dict):
            raise WorkbenchError(f"{index}: has no weight_map object")
        return weight_map
    single = folder / SINGLE_FILE
    if single.is_file():
        with safe_open(single, framework="pt") as fh:
            return {name: SINGLE_FILE for name in fh.keys()}  # the header only: no tensor is read
    if any(folder.glob("pytorch_model*.bin")):
        raise WorkbenchError(
            f"{folder}: holds only PyTorch .bin shards; the workbench reads BLIP-2 from safetensors so that the "
            "language-model tensors are never unpickled: download the *.safetensors files of the snapshot too"
        )
    raise WorkbenchError(f"{folder}: no {INDEX_FILE} or {SINGLE_FILE}: not a complete safetensors snapshot")


def read_blip2_tensors(folder: Path, prefixes: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Only the tensors whose names start with ``prefixes`` (or equal ``query_tokens``), shard by shard."""
    folder = Path(folder)
    weight_map = _weight_map(folder)
    by_shard: dict[str, list[str]] = {}
    for name, shard in weight_map.items():
        if any(name == p or (p.endswith(".") and name.startswith(p)) for p in prefixes):
            by_shard.setdefault(shard, []).append(name)
    tensors: dict[str, torch.Tensor] = {}
    for shard, names in sorted(by_shard.items()):
        path = folder / shard
        if not path.is_file():
            raise WorkbenchError(f"{path}: shard listed in {INDEX_FILE} is missing; re-download the snapshot")
        try:
            with safe_open(path, framework="pt") as fh:
                for name in names:
                    tensors[name] = fh.get_tensor(name)
        except WorkbenchError:
            raise
        except Exception as exc:  # safetensors raises its own SafetensorError for bad headers / missing names
            raise WorkbenchError(f"{path}: cannot read {len(names)} BLIP-2 tensors ({exc}); re-download it") from exc
    return tensors


def _strict_assign(module: nn.Module, state: dict[str, torch.Tensor], prefix: str, folder: Path) -> None:
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected)):
            if keys:
                shown = ", ".join(prefix + k for k in keys[:5])
                shown += f", … ({len(keys)} in all)" if len(keys) > 5 else ""
                parts.append(f"{label}: {shown}")
        raise WorkbenchError(
            f"{folder}: the shards do not match config.json for {prefix.rstrip('.')} ({'; '.join(parts)}); "
            "the snapshot is incomplete or from another model"
        )
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise WorkbenchError(
                f"{folder}: {prefix}{name} has shape {tuple(tensor.shape)} in the shards but config.json implies "
                f"{tuple(expected[name].shape)}; config.json and the weights come from different models"
            )
    module.load_state_dict(state, strict=True, assign=True)


def load_blip2(folder: str | os.PathLike, with_qformer: bool = True):
    """``(vision_model, qformer | None, query_tokens | None)`` from a local BLIP-2 snapshot, in eval mode."""
    folder = Path(folder)
    vision_cfg, qformer_cfg, n_query = read_blip2_config(folder)
    with_qformer = with_qformer and qformer_cfg is not None
    prefixes = (VISION_PREFIX, QFORMER_PREFIX, QUERY_TOKENS) if with_qformer else (VISION_PREFIX,)
    tensors = read_blip2_tensors(folder, prefixes)
    with torch.device("meta"):
        vision = Blip2VisionModel(vision_cfg)
        qformer = Blip2QFormerModel(qformer_cfg) if with_qformer else None
    strip = lambda prefix: {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}  # noqa: E731
    _strict_assign(vision, strip(VISION_PREFIX), VISION_PREFIX, folder)
    query_tokens = None
    if with_qformer:
        _strict_assign(qformer, strip(QFORMER_PREFIX), QFORMER_PREFIX, folder)
        if QUERY_TOKENS not in tensors:
            raise WorkbenchError(f"{folder}: no query_tokens tensor in the shards; not a complete BLIP-2 snapshot")
        query_tokens = tensors[QUERY_TOKENS]
        if tuple(query_tokens.shape) != (1, n_query, qformer_cfg.hidden_size):
            raise WorkbenchError(
                f"{folder}: query_tokens has shape {tuple(query_tokens.shape)}, config.json implies "
                f"(1, {n_query}, {qformer_cfg.hidden_size})"
            )
        qformer.eval()
    return vision.eval(), qformer, query_tokens


def save_blip2_snapshot(
    folder: str | os.PathLike,
    vision_model: nn.Module,
    qformer: nn.Module | None,
    query_tokens: torch.Tensor | None,
    max_shard_bytes: int = 2 * 1024**3,
) -> Path:
    """Write the image side in the HF BLIP-2 layout: config.json + ``model-0000X-of-0000N.safetensors`` + index."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {VISION_PREFIX + k: v for k, v in vision_model.state_dict().items()}
    config = {"model_type": "blip-2", "vision_config": vision_model.config.to_dict()}
    if qformer is not None:
        if query_tokens is None:
            raise WorkbenchError("save_blip2_snapshot: a Q-Former needs its query_tokens")
        tensors.update({QFORMER_PREFIX + k: v for k, v in qformer.state_dict().items()})
        tensors[QUERY_TOKENS] = query_tokens.reshape(1, -1, query_tokens.shape[-1])
        config["qformer_config"] = qformer.config.to_dict()
        config["num_query_tokens"] = int(tensors[QUERY_TOKENS].shape[1])
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}

    shards: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for name in sorted(tensors):
        nbytes = tensors[name].numel() * tensors[name].element_size()
        if shards[-1] and size + nbytes > max_shard_bytes:
            shards.append({})
            size = 0
        shards[-1][name] = tensors[name]
        size += nbytes
    weight_map = {}
    for i, shard in enumerate(shards, start=1):
        name = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, folder / name, metadata={"format": "pt"})
        weight_map.update({key: name for key in shard})
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    (folder / INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return folder


# ---- LLM ------------------------------------------------------------------------------------------------------
GGUF_SUFFIX = ".gguf"


def llm_source(path: str | os.PathLike) -> tuple[Path, dict]:
    """``(folder, from_pretrained kwargs)``: a ``.gguf`` file is read by transformers with ``gguf_file=``.

    A GGUF file (llama.cpp's format) holds the weights, the config and the tokenizer together; transformers
    dequantizes it to float on load (needs the ``gguf`` package).
    """
    path = Path(path)
    if path.suffix.lower() == GGUF_SUFFIX:
        return path.parent, {"gguf_file": path.name}
    return path, {}


def _gguf_error(path: Path, exc: Exception) -> WorkbenchError:
    if isinstance(exc, ImportError) or ("gguf" in str(exc).lower() and "install" in str(exc).lower()):
        return WorkbenchError(f"{path}: reading a GGUF file needs the gguf package: pip install gguf")
    return WorkbenchError(f"{path}: transformers cannot read this GGUF file ({str(exc).splitlines()[0][:200]}); "
                          "it supports GGUF files of Llama, Mistral, Qwen2 and similar architectures")


def read_llm_config(folder: str | os.PathLike):
    """The LLM's transformers config, checked to be a causal LM snapshot (or GGUF file) with a tokenizer."""
    from transformers import AutoConfig

    folder, extra = llm_source(folder)
    if extra:
        path = folder / extra["gguf_file"]
        if not path.is_file():
            raise WorkbenchError(f"{path}: GGUF file not found")
        try:
            config = AutoConfig.from_pretrained(folder, local_files_only=True, **extra)
        except (OSError, ValueError, KeyError, ImportError, RuntimeError) as exc:
            raise _gguf_error(path, exc) from exc
        return config
    raw = snapshot_config(folder, "llm")
    if raw.get("model_type") == "blip-2" or "vision_config" in raw:
        raise WorkbenchError(
            f"{folder}: is a BLIP-2 snapshot, not a causal LM (did you swap blip2 and llm?); llm must point at a "
            "Vicuna-v0 or Llama-2-chat snapshot folder"
        )
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise WorkbenchError(
            f"{folder}: no tokenizer (none of {', '.join(TOKENIZER_FILES)}); copy the tokenizer files of the "
            "original LLM snapshot into this folder"
        )
    try:
        config = AutoConfig.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise WorkbenchError(f"{folder}/config.json: transformers cannot read it ({str(exc).splitlines()[0]})") from exc
    if getattr(config, "hidden_size", None) is None:
        raise WorkbenchError(f"{folder}/config.json: no hidden_size; not a LLaMA/Vicuna-style causal LM")
    return config


def load_tokenizer(folder: str | os.PathLike):
    """The LLM's tokenizer with a pad token (the unk token, else EOS: no new token, embeddings untouched)."""
    from transformers import AutoTokenizer

    folder, extra = llm_source(folder)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, **extra)
    except (OSError, ValueError, ImportError, KeyError, RuntimeError, TypeError) as exc:
        if extra:
            raise _gguf_error(folder / extra["gguf_file"], exc) from exc
        hint = ""
        if (folder / "tokenizer.model").is_file():
            hint = " (a tokenizer.model needs: pip install sentencepiece protobuf)"
        raise WorkbenchError(f"{folder}: cannot load the tokenizer{hint}: {str(exc).splitlines()[0][:200]}") from exc
    if tokenizer.pad_token is None:
        # MiniGPT-4 sets pad_token="$$" on Llama-2, a token outside the vocab; padding is always masked, so any
        # existing token does the job without resizing the embeddings.
        tokenizer.pad_token = tokenizer.unk_token if tokenizer.unk_token is not None else tokenizer.eos_token
    return tokenizer


def set_special_ids(llm: nn.Module, tokenizer, folder: Path) -> None:
    """Fill pad/bos/eos ids that the LLM config lacks from the tokenizer (generate() needs them)."""
    for field in ("pad_token_id", "bos_token_id", "eos_token_id"):
        token_id = getattr(tokenizer, field)
        if token_id is None:
            continue
        rows = llm.get_input_embeddings().num_embeddings
        if token_id >= rows:
            raise WorkbenchError(
                f"{folder}: the tokenizer's {field.replace('_id', '')} has id {token_id} but the LLM has only {rows} "
                "embedding rows: the tokenizer does not belong to these weights"
            )
        for config in (llm.config, getattr(llm, "generation_config", None)):
            current = getattr(config, field, None) if config is not None else 0
            if current is None or (isinstance(current, int) and current < 0):  # old LLaMA configs say -1
                setattr(config, field, token_id)


def load_llm(folder: str | os.PathLike, dtype: torch.dtype, device: torch.device, load_in_8bit: bool = False,
             tokenizer=None, config=None):
    """``(causal LM in eval mode, tokenizer)`` from a local snapshot; 8-bit goes through bitsandbytes on CUDA."""
    from transformers import AutoModelForCausalLM

    config = config if config is not None else read_llm_config(folder)  # a GGUF file is parsed once per read
    tokenizer = tokenizer if tokenizer is not None else load_tokenizer(folder)
    folder, extra = llm_source(folder)
    if extra:
        extra["config"] = config
    kwargs = {"local_files_only": True, "dtype": dtype, **extra}
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        kwargs["device_map"] = {"": index}
    if load_in_8bit:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
    try:
        llm = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    except (OSError, ValueError, ImportError) as exc:
        if extra:
            raise _gguf_error(folder / extra["gguf_file"], exc) from exc
        raise WorkbenchError(f"{folder}: cannot load the LLM weights ({str(exc).splitlines()[0][:200]})") from exc
    set_special_ids(llm, tokenizer, folder)
    return llm.eval(), tokenizer

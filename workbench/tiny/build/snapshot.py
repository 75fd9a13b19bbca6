"""Writing the tiny frozen parts in the layouts the real loader reads (``workbench.model.loading``).

The loader's own writers are used when they exist (one code path for tiny and real models); until then the
BLIP-2 snapshot is written here in the same layout: ``config.json`` (a ``Blip2Config`` with
``vision_config``/``qformer_config``/``num_query_tokens``) + ``model.safetensors`` with ``vision_model.*``,
``qformer.*`` and ``query_tokens`` keys, as Hugging Face's ``Blip2Model`` names them.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file


def save_blip2(folder: Path, vision, qformer, query_tokens) -> None:
    try:
        from workbench.model.loading import save_blip2_snapshot
    except ImportError:
        save_blip2_snapshot = None
    if save_blip2_snapshot is not None:
        save_blip2_snapshot(folder, vision, qformer, query_tokens)
        return
    from transformers import Blip2Config

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = Blip2Config(vision_config=vision.config.to_dict(), qformer_config=qformer.config.to_dict(),
                         num_query_tokens=int(query_tokens.shape[1]))
    (folder / "config.json").write_text(json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n")
    state = {f"vision_model.{k}": v for k, v in vision.state_dict().items()}
    state.update({f"qformer.{k}": v for k, v in qformer.state_dict().items()})
    state["query_tokens"] = query_tokens.detach()
    save_file({k: v.detach().contiguous().clone() for k, v in sorted(state.items())}, folder / "model.safetensors",
              metadata={"format": "pt"})


def save_projection_file(path: Path, state: dict[str, torch.Tensor], optimizer_state=None, epoch: int = 0,
                         config: dict | None = None) -> None:
    try:
        from workbench.model.loading import save_projection
    except ImportError:
        from workbench.model.checkpoint import save_projection
    save_projection(path, state, optimizer_state=optimizer_state, epoch=epoch, config=config)


def save_llm(folder: Path, llm, tokenizer) -> None:
    folder = Path(folder)
    llm.save_pretrained(folder)
    tokenizer.save_pretrained(folder)

"""Shared fixtures for the generation / run-store / vision-cache tests (not a test module itself).

Builds a small eval set on disk (distinct PNG images, prompts of different lengths so batches are
left-padded) and the lead's random tiny MiniGPT-4.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from workbench.evalsets import load_eval_set
from random_model import random_minigpt4

PROMPTS = [
    "Describe this image in detail.",
    "What is the dog ?",
    "a red circle",
    "the quick brown fox jumps over the lazy dog .",
    "blue square on a green field .",
    "Describe",
]


def make_eval_set(root: Path, n_items: int = 10, n_images: int | None = None, seed: int = 0) -> Path:
    """An eval-set folder with ``n_items`` caption items over ``n_images`` distinct images."""
    n_images = n_images or n_items
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    for k in range(n_images):
        arr = rng.integers(0, 256, size=(20 + k, 24, 3), dtype=np.uint8)
        Image.fromarray(arr).save(root / "images" / f"img{k}.png")
    lines = []
    for i in range(n_items):
        lines.append(json.dumps({
            "id": f"item-{i:03d}", "task": "caption", "image": f"images/img{i % n_images}.png",
            "prompt": PROMPTS[i % len(PROMPTS)],
            "reference": {"captions": ["a picture"], "objects": []},
        }))
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "card.md").write_text("# test set\n", encoding="utf-8")
    return root


def replace_image(path: Path, seed: int, height: int = 20) -> None:
    """Overwrite ``path`` with a new random (height, 24) RGB image: a changed image file for resume tests."""
    arr = np.random.default_rng(seed).integers(0, 256, size=(height, 24, 3), dtype=np.uint8)
    Image.fromarray(arr).save(path)


def load_set(root: Path):
    return load_eval_set(root, check_images=False)


def tiny_model(seed: int = 0):
    """The random tiny MiniGPT-4, with weights scaled up so different prompts give different answers."""
    torch.set_num_threads(1)
    model = random_minigpt4(seed=seed)
    with torch.no_grad():
        model.llm.get_input_embeddings().weight.mul_(30.0)
        model.llama_proj.weight.mul_(10.0)
    return model


def second_checkpoint(model, seed: int = 1):
    """Same frozen parts, different projection: what stage 1 vs stage 2 look like."""
    import copy

    other = copy.copy(model)  # shallow: shares vision_model, qformer, llm, tokenizer
    nn = torch.nn
    proj = nn.Linear(model.llama_proj.in_features, model.llama_proj.out_features)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        proj.weight.copy_(torch.randn(proj.weight.shape, generator=gen))
        proj.bias.zero_()
    nn.Module.__setattr__(other, "_modules", dict(model._modules))
    other._modules["llama_proj"] = proj
    return other


class CountingEncoder:
    """Wraps ``model.encode_features`` (on the instance) and counts images encoded."""

    def __init__(self, *models):
        self.images = 0
        self.calls = 0
        for model in models:
            original = model.encode_features

            def counted(pixel_values, _original=original):
                self.calls += 1
                self.images += pixel_values.shape[0]
                return _original(pixel_values)

            model.encode_features = counted


def write_model_cards(root: Path, n: int = 2) -> list[Path]:
    """``n`` model cards (stage-like projections 1..n) sharing one BLIP-2 and one LLM folder, in the real layout."""
    from workbench.model.loading import save_blip2_snapshot, save_projection

    model = random_minigpt4(seed=0)
    save_blip2_snapshot(root / "blip2", model.vision_model, model.qformer, model.query_tokens)
    model.llm.save_pretrained(root / "llm")
    model.tokenizer.save_pretrained(root / "llm")
    paths = []
    for k in range(1, n + 1):
        gen = torch.Generator().manual_seed(k)
        state = {"llama_proj.weight": torch.randn(model.llama_proj.weight.shape, generator=gen) * 3,
                 "llama_proj.bias": torch.zeros(model.llama_proj.bias.shape)}
        save_projection(root / f"stage{k}.pth", state, optimizer_state={"state": {}}, epoch=k)
        card = {"blip2": "blip2", "llm": "llm", "projection": f"stage{k}.pth", "template": "vicuna0",
                "connector": "qformer"}
        (root / f"stage{k}.json").write_text(json.dumps(card), encoding="utf-8")
        paths.append(root / f"stage{k}.json")
    return paths

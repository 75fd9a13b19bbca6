"""Generation throughput on a small random MiniGPT-4 on CPU, as ratios measured in one process.

1. Batching: items/s with --batch-size 16 vs one item at a time, same eval set, greedy; the outputs must be
   identical (asserted). Target: batched >= 5x.
2. Vision-feature cache: two checkpoints (same frozen ViT + Q-Former, different projections) over one eval
   set, with a shared cache vs without one; counts the images the vision encoder really encoded.
   Target: with the cache, each distinct image is encoded once however many checkpoints.

    .venv/bin/python benchmarks/generation.py [--items 64] [--images 16] [--max-new-tokens 32] [--threads 1]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from workbench.generation import GenerationConfig, VisionFeatureCache, run_generation
from workbench.runs import read_predictions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the random-model fixture
from random_model import random_minigpt4  # noqa: E402

PROMPTS = ["Describe this image in detail.", "What is the dog ?", "a red circle",
           "the quick brown fox jumps over the lazy dog .", "blue square on a green field ."]


class NoCache(VisionFeatureCache):
    """Encodes every image every time (what a run without the cache does)."""

    def _load(self, namespace, sha):
        return None

    def _store(self, namespace, sha, features):
        pass


class EvalSetStub:
    def __init__(self, root: Path, items):
        self.name, self.root, self.items, self.manifest_sha256 = root.name, root, items, "0" * 64


class Item:
    def __init__(self, id, image_path, prompt):
        self.id, self.image_path, self.prompt, self.task = id, image_path, prompt, "caption"


def make_eval_set(root: Path, n_items: int, n_images: int) -> EvalSetStub:
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for k in range(n_images):
        Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)).save(root / f"img{k}.png")
    items = [Item(f"item-{i:04d}", root / f"img{i % n_images}.png", PROMPTS[i % len(PROMPTS)])
             for i in range(n_items)]
    return EvalSetStub(root, items)


def build_model():
    """96 px ViT (36 patches), 8-query Q-Former, 2-layer Llama of width 128: on CPU, like a 7B on a GPU,
    decoding is dominated by per-step cost rather than arithmetic, which is what batching amortises."""
    model = random_minigpt4(image_size=96, patch_size=16, vision_hidden=128, qformer_hidden=128,
                            num_query_tokens=8, llm_hidden=128, llm_layers=2, seed=0)
    return model


def other_checkpoint(model, seed: int = 1):
    """Same frozen parts (shared modules), a different llama_proj: a 'stage 2' next to 'stage 1'."""
    other = copy.copy(model)
    torch.nn.Module.__setattr__(other, "_modules", dict(model._modules))
    proj = torch.nn.Linear(model.llama_proj.in_features, model.llama_proj.out_features)
    with torch.no_grad():
        proj.weight.copy_(torch.randn(proj.weight.shape, generator=torch.Generator().manual_seed(seed)) * 10)
    other._modules["llama_proj"] = proj
    return other


def count_encoder(models):
    counter = {"images": 0, "calls": 0}
    for model in models:
        original = model.encode_features

        def counted(pixels, _original=original):
            counter["calls"] += 1
            counter["images"] += pixels.shape[0]
            return _original(pixels)

        model.encode_features = counted
    return counter


class Clock:
    """Wall time and this process's CPU time; with one thread on a shared machine, CPU time is the fair one."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=64)
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: fair on a shared box)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = GenerationConfig.greedy(args.max_new_tokens)
    results = {"items": args.items, "distinct_images": args.images, "max_new_tokens": args.max_new_tokens,
               "threads": args.threads, "torch": torch.__version__}

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        eval_set = make_eval_set(tmp / "set", args.items, args.images)
        stage1 = build_model()
        stage2 = other_checkpoint(stage1)
        counter = count_encoder([stage1, stage2])
        # warm-up (allocator, first-call overheads) on a few items, not counted
        run_generation(stage1, EvalSetStub(eval_set.root, eval_set.items[:4]), tmp / "warm", config,
                       batch_size=4, progress=False)

        # --- 1. batch 16 vs one at a time (features cached beforehand: this measures decoding) ----------
        features = VisionFeatureCache()
        features.features(stage1, sorted({item.image_path for item in eval_set.items}))
        with Clock() as t_one:
            run_generation(stage1, eval_set, tmp / "one", config, batch_size=1, cache=features, progress=False)
        with Clock() as t_batch:
            run_generation(stage1, eval_set, tmp / "batch", config, batch_size=args.batch_size, cache=features,
                           progress=False)
        one, batch = read_predictions(tmp / "one"), read_predictions(tmp / "batch")
        assert one == batch, "batched greedy outputs differ from one-at-a-time outputs"
        assert len({r["output"] for r in one.values()}) > 1, "degenerate benchmark: every answer is the same"
        results["one_at_a_time_items_per_cpu_s"] = args.items / t_one.cpu
        results[f"batch{args.batch_size}_items_per_cpu_s"] = args.items / t_batch.cpu
        results["batch_speedup_cpu_time"] = t_one.cpu / t_batch.cpu
        results["one_at_a_time_items_per_wall_s"] = args.items / t_one.wall
        results[f"batch{args.batch_size}_items_per_wall_s"] = args.items / t_batch.wall
        results["batch_speedup_wall_time"] = t_one.wall / t_batch.wall
        results["identical_greedy_outputs"] = True
        results["mean_new_tokens"] = sum(r["n_tokens"] for r in one.values()) / len(one)

        # --- 2. two checkpoints, with vs without the vision cache ---------------------------------------
        counter["images"] = counter["calls"] = 0
        with Clock() as t_nocache:
            for name, model in (("s1", stage1), ("s2", stage2)):
                run_generation(model, eval_set, tmp / f"nocache-{name}", config, batch_size=args.batch_size,
                               cache=NoCache(), progress=False)
        enc_nocache = counter["images"]
        counter["images"] = counter["calls"] = 0
        cache = VisionFeatureCache(tmp / "cache")  # on disk, as `workbench generate` uses it
        with Clock() as t_cache:
            for name, model in (("s1", stage1), ("s2", stage2)):
                run_generation(model, eval_set, tmp / f"cache-{name}", config, batch_size=args.batch_size,
                               cache=cache, progress=False)
        enc_cache = counter["images"]
        for name in ("s1", "s2"):
            assert read_predictions(tmp / f"cache-{name}") == read_predictions(tmp / f"nocache-{name}")
        assert read_predictions(tmp / "cache-s1") != read_predictions(tmp / "cache-s2")
        results["two_checkpoints_no_cache_items_per_cpu_s"] = 2 * args.items / t_nocache.cpu
        results["two_checkpoints_cache_items_per_cpu_s"] = 2 * args.items / t_cache.cpu
        results["cache_speedup_cpu_time"] = t_nocache.cpu / t_cache.cpu
        results["cache_speedup_wall_time"] = t_nocache.wall / t_cache.wall
        results["vision_images_encoded_no_cache"] = enc_nocache
        results["vision_images_encoded_cache"] = enc_cache

    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in results.items()}, indent=2))
    ok_batch = results["batch_speedup_cpu_time"] >= 5.0
    ok_cache = results["vision_images_encoded_cache"] == args.images
    print(f"batched >= 5x one-at-a-time: {'yes' if ok_batch else 'NO'} ({results['batch_speedup_cpu_time']:.1f}x CPU time, {results['batch_speedup_wall_time']:.1f}x wall); "
          f"vision encoder once per image with the cache: {'yes' if ok_cache else 'NO'} "
          f"({results['vision_images_encoded_cache']} encodes for {args.images} images x 2 checkpoints, "
          f"{results['vision_images_encoded_no_cache']} without)")
    return 0 if ok_batch and ok_cache else 1


if __name__ == "__main__":
    sys.exit(main())

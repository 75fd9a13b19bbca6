"""Real-shape MiniGPT-4 (random weights) on a GPU: build on the meta device, materialise, measure decoding.

Shapes (reference/minigpt4.md §1): EVA ViT-g/14 (hidden 1408, 39 layers, 16 heads, MLP 6144, patch 14,
224 px -> 257 tokens), a 32-query Q-Former (hidden 768, 12 layers, cross-attention every 2nd layer, encoder
width 1408), llama_proj 768 -> 4096, and a 7B-shaped Llama (hidden 4096, 32 layers, 32 heads, intermediate
11008, vocab 32000). Everything is built on the meta device (no memory), cast to fp16, materialised on the GPU
with ``to_empty`` and initialised there (normal(0, 0.02) weights, unit norms, fresh rotary buffers in fp32).

It then runs OUR generation path (``generate_batch``: left padding, KV cache, end-symbol stop) on two decoding
paths -- ``default`` (dynamic cache, eager) and ``compile`` (``--compile``: static KV cache, ``torch.compile`` of
the decoding step, shapes bucketed; ``workbench/generation/compiled.py``) -- at batch 1 and 16, and reports for each:
end-to-end tokens/s, decode tokens/s (full run minus a prefill-only run), peak memory, and whether rows agree
between batch sizes and between the paths (reported, not asserted: fp16 kernels may differ by shape and by
compilation).

Each shape is warmed up first with a full run (same batch size, same new-token budget, so the compiled path has
compiled its step for exactly that shape), then timed ``--runs`` times (median reported). Decode tokens/s is set
against the memory-bandwidth bound: at batch B each decode step must read every LLM weight once, so the bound is
``B * bandwidth / weight bytes`` tokens/s (KV-cache reads ignored, so the true bound is a little lower). The
bandwidth comes from ``--bandwidth-gbs`` or a table of known devices; unknown devices get null with the reason.

    python benchmarks/gpu_check.py                   # on the GPU machine (fp16, cuda), 256 new tokens
    python benchmarks/gpu_check.py --tiny-shapes --max-new-tokens 32 --runs 2 --compile-backend aot_eager
                                                     # CPU dry run of the same code paths (fp32; seconds)

Writes the JSON report to stdout and, if $OUT is set, to $OUT/gpu_check.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    Blip2QFormerConfig,
    Blip2QFormerModel,
    Blip2VisionConfig,
    Blip2VisionModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

from workbench.generation import GenerationConfig, generate_batch
from workbench.generation.compiled import CompiledDecoding
from workbench.model.minigpt4 import MiniGPT4
from workbench.model.templates import get_template

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the random-model fixture
from random_model import word_tokenizer  # noqa: E402

REAL = dict(image_size=224, patch_size=14, vision_hidden=1408, vision_layers=39, vision_heads=16, vision_mlp=6144,
            qformer_hidden=768, qformer_layers=12, qformer_heads=12, qformer_mlp=3072, cross_every=2, queries=32,
            llm_hidden=4096, llm_layers=32, llm_heads=32, llm_mlp=11008, vocab=32000)
TINY = dict(image_size=56, patch_size=14, vision_hidden=64, vision_layers=3, vision_heads=4, vision_mlp=128,
            qformer_hidden=48, qformer_layers=2, qformer_heads=4, qformer_mlp=96, cross_every=2, queries=8,
            llm_hidden=64, llm_layers=2, llm_heads=4, llm_mlp=128, vocab=512)


def padded_tokenizer(vocab_size: int) -> PreTrainedTokenizerFast:
    """The tiny word tokenizer's vocabulary (template words, specials) filled up to ``vocab_size``."""
    base = word_tokenizer().get_vocab()
    vocab = dict(base)
    i = 0
    while len(vocab) < vocab_size:
        vocab.setdefault(f"w{i}", len(vocab))
        i += 1
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(behavior="isolated")])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>", padding_side="left")


def build_on_meta(s: dict, tokenizer) -> MiniGPT4:
    with torch.device("meta"):
        vision = Blip2VisionModel(Blip2VisionConfig(
            hidden_size=s["vision_hidden"], intermediate_size=s["vision_mlp"], num_hidden_layers=s["vision_layers"],
            num_attention_heads=s["vision_heads"], image_size=s["image_size"], patch_size=s["patch_size"],
            qkv_bias=True, layer_norm_eps=1e-6))
        qformer = Blip2QFormerModel(Blip2QFormerConfig(
            hidden_size=s["qformer_hidden"], intermediate_size=s["qformer_mlp"],
            num_hidden_layers=s["qformer_layers"], num_attention_heads=s["qformer_heads"],
            encoder_hidden_size=s["vision_hidden"], cross_attention_frequency=s["cross_every"]))
        query_tokens = torch.empty(1, s["queries"], s["qformer_hidden"])
        llm = LlamaForCausalLM(LlamaConfig(
            vocab_size=s["vocab"], hidden_size=s["llm_hidden"], intermediate_size=s["llm_mlp"],
            num_hidden_layers=s["llm_layers"], num_attention_heads=s["llm_heads"],
            num_key_value_heads=s["llm_heads"], max_position_embeddings=2048, rms_norm_eps=1e-6,
            pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False))
        model = MiniGPT4(vision, qformer, query_tokens, llm, tokenizer, get_template("vicuna0"),
                         connector="qformer", image_size=s["image_size"])
    return model


@torch.no_grad()
def materialise(model: MiniGPT4, device: torch.device, dtype: torch.dtype, seed: int = 0) -> MiniGPT4:
    """meta -> ``device`` without ever holding fp32 copies: cast on meta, ``to_empty``, init in place."""
    model = model.to(dtype=dtype)
    model.llama_proj.to(dtype=torch.float32)  # MiniGPT-4 keeps the trainable projection in fp32
    model = model.to_empty(device=device)
    gen = torch.Generator(device=device).manual_seed(seed)
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if name == "bias":
                param.zero_()
            elif param.dim() == 1 and "norm" in type(module).__name__.lower():
                param.fill_(1.0)
            else:
                param.normal_(0.0, 0.02, generator=gen)
        if isinstance(module, LlamaRotaryEmbedding):  # buffers are not parameters: rebuild, in fp32
            with torch.device(device):
                fresh = LlamaRotaryEmbedding(config=model.llm.config)
            module.inv_freq = fresh.inv_freq
            module.original_inv_freq = fresh.original_inv_freq
    leftovers = [n for n, t in list(model.named_parameters()) + list(model.named_buffers()) if t.is_meta]
    if leftovers:
        raise RuntimeError(f"still on meta after materialising: {leftovers[:5]}")
    return model.eval()


# peak HBM bandwidth in GB/s from the vendors' data sheets (SXM parts)
KNOWN_BANDWIDTH_GBS = {"H200": 4800.0, "H100": 3350.0, "A100-SXM4-80GB": 2039.0, "A100-SXM4-40GB": 1555.0,
                       "A100 80GB PCIe": 1935.0, "L40S": 864.0, "A10G": 600.0, "V100": 900.0}


def bandwidth_gbs(device_name: str, override: float | None) -> tuple[float | None, str]:
    if override:
        return override, "--bandwidth-gbs"
    for key, value in KNOWN_BANDWIDTH_GBS.items():
        if key in device_name:
            return value, f"data sheet ({key})"
    return None, f"unknown device {device_name!r}: pass --bandwidth-gbs"


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_generate(model, questions, features, config, device, compiled=None):
    sync(device)
    start = time.perf_counter()
    results = generate_batch(model, questions, features, config, compiled=compiled)
    sync(device)
    return time.perf_counter() - start, results


def measure(model, questions, features, max_new_tokens: int, runs: int, device, compiled, bound):
    """One (batch size, path) shape: warm-up, then ``runs`` timed prefill-only and full runs (medians).

    The warm-up is a full run, so a compiled path compiles its step for this batch bucket and cache length before
    any timing (a shorter warm-up would size the static cache differently). Decode tokens/s = rows x (steps - 1)
    / (full - prefill-only): every row is charged for every step, as the device computes it (a row that stopped
    keeps decoding padding until the whole batch stops)."""
    b = len(questions)
    full, one = GenerationConfig.greedy(max_new_tokens), GenerationConfig.greedy(1)
    warm_s = timed_generate(model, questions, features, full, device, compiled)[0]
    t_one = sorted(timed_generate(model, questions, features, one, device, compiled)[0]
                   for _ in range(runs))[runs // 2]
    timings = [timed_generate(model, questions, features, full, device, compiled) for _ in range(runs)]
    t_full, results = sorted(timings, key=lambda t: t[0])[runs // 2]
    steps = max(r.n_tokens for r in results)
    decode = b * (steps - 1) / max(t_full - t_one, 1e-9)
    return {
        "warmup_s": round(warm_s, 3),
        "runs_s": [round(t, 3) for t, _ in timings],
        "seconds": round(t_full, 3),
        "steps": steps,
        "new_tokens": sum(r.n_tokens for r in results),
        "tokens_per_s_end_to_end": round(sum(r.n_tokens for r in results) / t_full, 1),
        "prefill_plus_first_token_s": round(t_one, 3),
        "decode_tokens_per_s": round(decode, 1),
        "bandwidth_bound_tokens_per_s": round(bound * b, 1) if bound else None,
        "decode_fraction_of_bound": round(decode / (bound * b), 4) if bound else None,
        "finish": sorted({r.finish for r in results}),
    }, results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny-shapes", action="store_true", help="small shapes, for a CPU smoke test")
    parser.add_argument("--device", default=None, help="default: cuda if present, else cpu")
    parser.add_argument("--dtype", default=None, choices=["float16", "bfloat16", "float32"],
                        help="default: float16 on cuda, float32 on cpu")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--batch-sizes", default="1,16")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per shape (median reported)")
    parser.add_argument("--paths", default="default,compile", help="decoding paths to time: default, compile")
    parser.add_argument("--compile-backend", default="inductor",
                        help="torch.compile backend of the compile path (aot_eager: a quick CPU dry run)")
    parser.add_argument("--bandwidth-gbs", type=float, default=None, help="device memory bandwidth, GB/s")
    args = parser.parse_args(argv)

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dtype = getattr(torch, args.dtype) if args.dtype else (torch.float16 if device.type == "cuda" else torch.float32)
    shapes = TINY if args.tiny_shapes else REAL
    if device.type == "cpu":
        torch.set_num_threads(min(4, os.cpu_count() or 1))
    report = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
              "dtype": str(dtype).replace("torch.", ""), "shapes": "tiny" if args.tiny_shapes else "real",
              "torch": torch.__version__, "max_new_tokens": args.max_new_tokens, "runs": args.runs}

    t0 = time.perf_counter()
    tokenizer = padded_tokenizer(shapes["vocab"])
    model = materialise(build_on_meta(shapes, tokenizer), device, dtype)
    sync(device)
    report["build_s"] = round(time.perf_counter() - t0, 2)
    report["params_billion"] = round(sum(p.numel() for p in model.parameters()) / 1e9, 3)
    report["llm_params_billion"] = round(sum(p.numel() for p in model.llm.parameters()) / 1e9, 3)

    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    n_max = max(batch_sizes)
    gen = torch.Generator().manual_seed(0)
    pixels = torch.randn(n_max, 3, shapes["image_size"], shapes["image_size"], generator=gen)
    model.encode_features(pixels[:2])  # warm-up
    sync(device)
    start = time.perf_counter()
    features = model.encode_features(pixels)
    sync(device)
    report["vision_encode_images_per_s"] = round(n_max / (time.perf_counter() - start), 2)
    report["features_shape"] = list(features.shape)
    report["features_finite"] = bool(torch.isfinite(features).all())

    questions = [f"Describe this image in detail. {'w%d ' % i * (i % 4)}".strip() for i in range(n_max)]
    weight_bytes = sum(p.numel() * p.element_size() for p in model.llm.parameters())
    bandwidth, bandwidth_source = bandwidth_gbs(report["device"], args.bandwidth_gbs)
    bound = bandwidth * 1e9 / weight_bytes if bandwidth else None  # tokens/s per row
    report["llm_weight_gb"] = round(weight_bytes / 1e9, 3)
    report["bandwidth_gbs"], report["bandwidth_source"] = bandwidth, bandwidth_source
    paths = {"default": None, "compile": CompiledDecoding(backend=args.compile_backend)}
    paths = {name: paths[name] for name in args.paths.split(",")}
    report["compile"] = paths["compile"].describe() if "compile" in paths else None
    per_path, outputs = {}, {}
    for name, compiled in paths.items():
        per_path[name] = {}
        for b in batch_sizes:
            per_path[name][b], outputs[name, b] = measure(model, questions[:b], features[:b], args.max_new_tokens,
                                                           args.runs, device, compiled, bound)
    report["per_path"] = per_path
    report.update(_comparisons(model, questions, features, args.max_new_tokens, batch_sizes, per_path, outputs))
    if device.type == "cuda":
        report["peak_memory_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)

    text = json.dumps(report, indent=2)
    print(text)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_check.json").write_text(text + "\n", encoding="utf-8")
    return 0


def _comparisons(model, questions, features, max_new_tokens, batch_sizes, per_path, outputs) -> dict:
    """Reported, not asserted (fp16 kernels may differ by batch shape and by compilation): identical rows between
    batch sizes and between the paths, and the speed-ups."""
    out = {}
    n_max, n_min = max(batch_sizes), min(batch_sizes)
    if ("default", 1) in outputs and n_max > 1:
        full = GenerationConfig.greedy(max_new_tokens)
        singles = [outputs["default", 1][0]] + [generate_batch(model, [questions[i]], features[i:i + 1], full)[0]
                                                for i in range(1, min(n_max, 4))]
        same = sum(a == b for a, b in zip(singles, outputs["default", n_max]))
        out["batch_vs_single_identical_rows"] = f"{same}/{len(singles)}"
    if "default" in per_path and "compile" in per_path:
        out["compile_vs_default_identical_rows"] = {
            b: f"{sum(a == c for a, c in zip(outputs['default', b], outputs['compile', b]))}/{b}" for b in batch_sizes}
        out["compile_speedup_decode"] = {
            b: round(per_path["compile"][b]["decode_tokens_per_s"] / per_path["default"][b]["decode_tokens_per_s"], 2)
            for b in batch_sizes}
    if n_max > n_min:
        out["decode_speedup_batch_max_vs_min"] = {
            name: round(rows[n_max]["decode_tokens_per_s"] / rows[n_min]["decode_tokens_per_s"], 2)
            for name, rows in per_path.items()}
    return out


if __name__ == "__main__":
    sys.exit(main())

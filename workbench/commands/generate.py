"""Run a model over an eval set into a run folder: run.json + predictions.jsonl + errors.jsonl.

Greedy decoding by default (--sample: MiniGPT-4's chat sampling, top_p 0.9, temperature 1.0,
repetition penalty 1.05; seeded per item by --seed). Outputs stop at the template's end symbol.
Rerunning the same command on the same --out folder resumes where it stopped; a different model,
generation setting, seed or eval set on an existing folder is refused. Frozen image features are
cached (default: .vision-cache next to the run folder), so runs of several checkpoints that share
the frozen ViT/Q-Former encode each image once.

examples:
  workbench generate --model tiny-stage2 --eval-set eval_sets/world --out runs/stage2
  workbench generate --model cards/minigpt4-7b.yaml --eval-set eval_sets/coco --out runs/7b \\
      --device cuda --load-in-8bit --batch-size 16
  workbench generate --model cards/minigpt-v2.yaml --eval-set eval_sets/refcoco --out runs/v2 --task refer
      # MiniGPT-v2: "[refer] <prompt>"; boxes {<x1><y1><x2><y2>} parsed into each prediction record
  accelerate launch --multi_gpu --num_processes 4 -m workbench.cli generate --model ... --out runs/7b
      # 4 processes (GPUs, or CPU processes where there is none) share the items; one merged run folder

"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.run_record import RUN_INFO


def add_arguments(parser):
    parser.add_argument("--model", required=True, help="preset (tiny-stage1, tiny-stage2) or model-card file")
    parser.add_argument("--eval-set", required=True, help="eval-set folder (manifest.jsonl + images)")
    parser.add_argument("--out", required=True, help="run folder to write (or resume)")
    parser.add_argument("--batch-size", type=int, default=8, help="items decoded together (default 8)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N items of the eval set")
    parser.add_argument("--seed", type=int, default=0, help="seed for --sample (per item; default 0)")
    parser.add_argument("--sample", action="store_true",
                        help="sample with MiniGPT-4's chat defaults instead of greedy decoding")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="new-token limit (default 300)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default: cuda if present)")
    parser.add_argument("--load-in-8bit", action="store_true",
                        help="LLM in int8 with bitsandbytes (MiniGPT-4's low_resource; CUDA only)")
    parser.add_argument("--cache-dir", default=None,
                        help="vision-feature cache folder (default: .vision-cache beside the run folder)")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the vision-feature cache")
    parser.add_argument("--shard", default=None, metavar="P/N",
                        help="process P of N (items i with i %% N == P); the last shard to finish merges")
    parser.add_argument("--task", default=None, metavar="WORD",
                        help="MiniGPT-v2's task word (vqa, caption, grounding, refer, detection, identify), put as "
                             "[WORD] before every prompt that has none (template minigptv2 only); boxes in the "
                             "answers are parsed into the prediction records")
    parser.add_argument("--compile", action="store_true",
                        help="static KV cache + torch.compile of the LLM's decoding step, shapes bucketed (same greedy "
                             "outputs; compiling takes minutes the first time; docs/generation.md)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars (neither the generation bar nor transformers' weight-loading bar)")


def parse_shard(text: str | None) -> tuple[int, int]:
    if not text:
        return (0, 1)
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise WorkbenchError(f"--shard {text!r}: expected P/N, e.g. 0/4") from None
    if count < 1 or not 0 <= index < count:
        raise WorkbenchError(f"--shard {text!r}: need 0 <= P < N")
    return index, count


def launcher_shard() -> tuple[int, int]:
    """(process index, process count) under ``accelerate launch`` (or torchrun); (0, 1) otherwise.

    Each process takes items i with i % N == P and writes its own shard file; the last to finish merges them,
    so no collective call (and no process group) is needed.
    """
    import os

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return (0, 1)
    import torch
    from accelerate import PartialState

    state = PartialState(cpu=not torch.cuda.is_available())
    return (state.process_index, state.num_processes)


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies under it, else as given."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@contextmanager
def hf_progress_bars(enabled: bool):
    """transformers 5 draws its own "Loading weights" bar; ``--quiet`` turns it off while loading (restored after)."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    if not enabled:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def run(args) -> int:
    from workbench.pipeline import eval_set_arg

    args.eval_set = eval_set_arg(args.eval_set)
    from workbench.evalsets import load_eval_set
    from workbench.generation import GenerationConfig
    from workbench.generation.compiled import CompiledDecoding
    from workbench.pipeline import generate

    shard = parse_shard(args.shard) if args.shard else launcher_shard()
    if shard[1] > 1 and args.device == "auto":
        import os

        import torch

        if torch.cuda.is_available():  # one GPU per process
            args.device = f"cuda:{int(os.environ.get('LOCAL_RANK', shard[0])) % torch.cuda.device_count()}"
    config = GenerationConfig.from_flags(sample=args.sample, max_new_tokens=args.max_new_tokens)
    eval_set = load_eval_set(args.eval_set, check_images=False)  # unreadable images fail per item
    out = Path(args.out)
    cache_dir = None if args.no_cache else Path(args.cache_dir or out.resolve().parent / ".vision-cache")
    with hf_progress_bars(not args.quiet):
        summary, choice = generate(args.model, eval_set, out, config, batch_size=args.batch_size, limit=args.limit,
                                   seed=args.seed, device=args.device, load_in_8bit=args.load_in_8bit,
                                   cache_dir=cache_dir, shard=shard, progress=not args.quiet, task=args.task,
                                   compiled=CompiledDecoding() if args.compile else None,
                                   extra_info={"vision_cache": str(cache_dir) if cache_dir else None})
    print(f"wrote {summary.n_written} prediction(s) to {summary.predictions_path} "
          f"({summary.n_done_before} already there, {summary.n_items} in this run"
          f"{'' if shard == (0, 1) else f' shard {shard[0]}/{shard[1]}'}) "
          f"in {summary.seconds:.1f} s ({summary.items_per_s:.2f} items/s) on {choice.describe()}")
    print(f"  provenance: {out / RUN_INFO}")
    if cache_dir:
        print(f"  vision cache: {_shown(cache_dir)} ({summary.cache['hits']} hits, {summary.cache['misses']} encoded)")
    if summary.merged_path:
        print(f"  all shards done: merged into {summary.merged_path}")
    if summary.n_errors:
        print(f"warning: {summary.n_errors} item(s) failed, see {summary.errors_path}; "
              "rerun the same command to retry them", file=sys.stderr)
    return 0

"""Rebuild the embedded tiny MiniGPT-4 in models/tiny/ from the seed, deterministically.

Pretrains the frozen parts (tokenizer, Llama LLM on the world corpus, ViT + Q-Former on world images), then
trains only llama_proj in stage 1 (image-caption pairs, no template) and stage 2 (curated detailed
descriptions in the vicuna0 template). Writes blip2/, llm/, stage1.pth, stage2.pth, the model cards
tiny-stage1.json / tiny-stage2.json, loss_log.jsonl and card.md. The same seed gives byte-identical
checkpoints on the same machine. --scale micro builds a toy model in seconds (tests, notebook default).
--stage2-only redoes only curation and stage 2 of a finished build (its seed, scale and threads come from its
build_summary.json): how a stage-2 setting is tried in minutes. --vision-from reuses the frozen vision side of
an earlier build of the same seed, threads and vision settings instead of training it (same bytes): how a corpus
or LLM setting is tried without the vision phase. --llm-from keeps an earlier build's tokenizer and trains its LLM
further on this build's corpus (llm_continue_steps, llm_continue_lr) instead of pretraining one, as Vicuna is LLaMA
trained further (build W in docs/tiny_model_history.md; the card says from which build).

examples:
  workbench build-tiny --scale micro --out /tmp/tiny-micro          # a toy build in seconds
  mkdir -p /tmp/prev && git archive 0cbc594 models/tiny | tar -x -C /tmp/prev   # the build before the yes/no family
  workbench build-tiny --out /tmp/tiny --llm-from /tmp/prev/models/tiny --vision-from /tmp/prev/models/tiny
      # build W of docs/tiny_model_history.md: about 20 minutes on 2 idle cores (held-out checks after it)
  workbench build-tiny --stage2-only --out /tmp/tiny                  # redo stage 2 with this code's settings
"""

from __future__ import annotations

from pathlib import Path

from workbench.errors import WorkbenchError


def add_arguments(parser):
    from workbench.tiny.build.config import SCALES

    parser.add_argument("--scale", default=None, choices=sorted(SCALES),
                        help="build scale: full (the shipped model, default) or micro (a toy build in seconds)")
    parser.add_argument("--seed", type=int, default=None, help="seed offset inside each world split (default 0)")
    parser.add_argument("--out", default=None,
                        help="output folder (default: models/tiny/ of this checkout, which a build or --stage2-only "
                             "then rewrites in place)")
    parser.add_argument("--stage2-only", action="store_true",
                        help="redo curation and stage 2 of the finished build in --out on its own frozen parts and "
                             "stage1.pth, with this code's stage-2 settings (stage2_* in "
                             "workbench/tiny/build/config.py; same bytes as a full build). Its scale, seed and threads "
                             "are the build's own. Minutes: about 7 for the shipped settings with --no-eval on 2 idle "
                             "cores, more with more epochs or when the cores are shared")
    parser.add_argument("--vision-from", default=None, metavar="BUILD",
                        help="reuse blip2/ of the earlier build in this folder instead of training the vision side "
                             "(its seed, threads and vision settings must equal this build's; they are checked): "
                             "the same bytes on the same CPU kind and code, about a quarter less CPU time")
    parser.add_argument("--llm-from", default=None, metavar="BUILD",
                        help="keep the tokenizer of the earlier build in this folder and train its LLM further on "
                             "this build's corpus (llm_continue_steps at llm_continue_lr) instead of pretraining a "
                             "new one; its LLM shape must equal this build's (checked)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: the scale's, 2 for full and 1 for micro; the count changes the bits)")
    parser.add_argument("--no-eval", action="store_true",
                        help="skip the checks: development items during the build, held-out eval sets after it")
    parser.add_argument("--eval-sets", default=None,
                        help="folder holding synth-captions/-recipes/-plants (default: eval_sets/ of this checkout)")


def run(args) -> int:
    from workbench.tiny.build.config import SCALES, get_config   # light: the flags are checked before torch loads

    given = [flag for flag, value in (("--scale", args.scale), ("--seed", args.seed)) if value is not None]
    if args.stage2_only and given:
        raise WorkbenchError("--stage2-only takes the build's own scale and seed (its build_summary.json); drop "
                             + " and ".join(given), exit_code=2)
    args.scale, args.seed = args.scale or "full", 0 if args.seed is None else args.seed
    if args.scale not in SCALES:
        raise WorkbenchError(f"--scale {args.scale!r} is unknown; use one of: {', '.join(SCALES)}", exit_code=2)
    if not 0 <= args.seed < 1000:
        raise WorkbenchError(f"--seed {args.seed} must be in 0..999 (an offset inside each world seed range)",
                             exit_code=2)
    if args.stage2_only and (args.vision_from or args.llm_from or args.threads):
        raise WorkbenchError("--stage2-only takes the build's own frozen parts and threads; drop --vision-from, "
                             "--llm-from and --threads", exit_code=2)
    if args.threads is not None and args.threads < 1:
        raise WorkbenchError(f"--threads {args.threads} must be at least 1", exit_code=2)
    root = Path(__file__).resolve().parents[2]
    out = Path(args.out) if args.out else root / "models" / "tiny"
    from workbench.tiny.build.build import build_tiny, rebuild_stage2

    if args.stage2_only:
        summary = rebuild_stage2(out, evaluate=not args.no_eval)
        phases = summary["stage2_rebuild"]["phases"]
        print(f"redid curation and stage 2 of {out} in {sum(p['wall_s'] for p in phases.values()):.1f} s wall, "
              f"world data and features included (stage 2: {summary['config']['stage2_epochs']} epochs at lr "
              f"{summary['config']['stage2_lr']:g})")
    else:
        threads = {"threads": args.threads} if args.threads else {}
        summary = build_tiny(get_config(args.scale, args.seed, **threads), out, evaluate=not args.no_eval,
                             vision_from=args.vision_from, llm_from=args.llm_from)
        phases = summary["timing"]
        print(f"built {out} in {summary['total_wall_s']} s wall ({summary['total_cpu_s']} s CPU)")
    for phase, t in phases.items():
        print(f"  {phase:<22} {t['wall_s']:>8.1f} s wall {t['cpu_s']:>8.1f} s cpu")
    eval_root = Path(args.eval_sets) if args.eval_sets else root / "eval_sets"
    if not args.no_eval and summary["config"]["scale"] == "full" and eval_root.is_dir():
        from workbench.tiny.diagnostics.heldout import add_heldout_eval

        held = add_heldout_eval(out, eval_root, root / "runs" / "build-tiny")
        print(f"held-out eval ({held['eval_wall_s']} s) written to {out / 'card.md'}")
    return 0

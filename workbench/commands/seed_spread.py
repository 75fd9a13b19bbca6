"""Build the tiny model at several seed offsets and record how its held-out results spread across them.

Each seed offset N gets WORK/seed<N>/ (model/, runs/, machine.json); finished builds and evaluations are kept
(a stopped build is built again), so an interrupted call resumes. The record, models/tiny/seed_spread.json by
default, holds per seed and per metric stage 1, stage 2 and the paired comparison (95% CI, p), the machine of
each build, and the median and range across seeds; when the record lies in a model folder (the default), that
folder's card.md is regenerated with the spread table. --rescore re-scores the kept predictions with the current
scorers (no rebuild, no generation); --stage2-only redoes curation and stage 2 of finished builds on their own
frozen parts and stage1.pth with this code's stage-2 settings (same bytes as a full build) and evaluates them
again; without --build or --rescore the record is collected from the seed folders
as they are. The default --out is the shipped record (and its card.md): give --out elsewhere to keep them.
Builds take 16 to 90 minutes each on 2 cores, depending on the CPU and the load; they are not part of `make test`.

examples:
  workbench seed-spread --build --seeds 0,1,2,3,4 --work runs/seed-spread
  workbench seed-spread --rescore --seeds 0,1,2,3,4 --work runs/seed-spread
  workbench seed-spread --stage2-only --seeds 0,1,2,3,4 --work runs/seed-spread
(each writes models/tiny/seed_spread.json and card.md; add --out runs/seed-spread/spread.json to keep them)
"""

from __future__ import annotations

from pathlib import Path

from workbench.errors import WorkbenchError


def add_arguments(parser):
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seed offsets (default 0,1,2,3,4)")
    parser.add_argument("--work", default=None, help="folder of the seed builds (default: runs/seed-spread)")
    parser.add_argument("--out", default=None, help="where to write the record (default: models/tiny/seed_spread.json)")
    parser.add_argument("--build", action="store_true", help="build and evaluate the seeds missing in --work first")
    parser.add_argument("--stage2-only", action="store_true",
                        help="redo curation and stage 2 of each finished build in --work with this code's stage-2 "
                             "settings (stage2_* in workbench/tiny/build/config.py; minutes per seed, not a full "
                             "build), then evaluate them again")
    parser.add_argument("--rescore", action="store_true", help="re-score the kept runs with the current scorers")
    from workbench.tiny.build.config import SCALES

    parser.add_argument("--scale", default="full", choices=sorted(SCALES),
                        help="build scale: full (the shipped model, default) or micro (a toy build in seconds)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per build (default: the scale's, 2 for full; the count changes the bits)")
    parser.add_argument("--eval-sets", default=None, help="folder holding synth-* (default: eval_sets/)")


def run(args) -> int:
    from workbench.tiny.diagnostics.seed_spread import build_seed, record_spread, spread_markdown

    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise WorkbenchError(f"--seeds {args.seeds!r}: give comma-separated integers, e.g. 0,1,2,3,4",
                             exit_code=2) from None
    root = Path(__file__).resolve().parents[2]
    work = Path(args.work) if args.work else root / "runs" / "seed-spread"
    out = Path(args.out) if args.out else root / "models" / "tiny" / "seed_spread.json"
    eval_root = Path(args.eval_sets) if args.eval_sets else root / "eval_sets"
    if args.build and args.stage2_only:
        raise WorkbenchError("give --build (build what is missing) or --stage2-only (redo stage 2 of finished "
                             "builds), not both", exit_code=2)
    if args.build or args.stage2_only:
        for seed in seeds:
            folder = build_seed(work, seed, eval_root, args.scale, args.threads, stage2_only=args.stage2_only)
            print(f"seed {seed}: {folder}", flush=True)
    result = record_spread(work, seeds, out, eval_root, rescore=args.rescore)
    print(spread_markdown(result))
    print(f"wrote {out} ({len(result['seeds'])} seeds)")
    if (out.parent / "build_summary.json").is_file():  # a model folder: its card gets the spread section
        import json

        from workbench.tiny.build.card import write_card

        write_card(out.parent / "card.md", json.loads((out.parent / "build_summary.json").read_text()))
        print(f"rewrote {out.parent / 'card.md'} with the seed spread")
    return 0

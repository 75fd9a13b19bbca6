"""Write a self-contained HTML ablation report comparing runs on one eval set.

The first run is the baseline; every other run is compared with it (values, differences with 95%
paired bootstrap CIs, permutation-test p-values), with plots, failure reasons, output lengths,
side-by-side examples (largest wins and losses first) and each run's provenance. The file embeds
its figures and images and makes no network requests. Unscored runs are scored first. Runs judged
with `workbench judge` also get their <task>/judge_<protocol> rows and an "LLM judges" table (judge,
template hash, ok / failed / skipped counts, Cohen's kappa against the lexical scorer).

examples:
  workbench report runs/stage1 runs/stage2 --eval-set eval_sets/captions --out reports/captions.html
  workbench judge runs/stage1 runs/stage2 --eval-set eval_sets/captions --judge MODEL.gguf --protocol failure
  workbench report runs/stage1 runs/stage2 --eval-set eval_sets/captions --out reports/captions.html
      # now with caption/judge_failure and the judge table
"""

from __future__ import annotations

from pathlib import Path


def add_arguments(parser):
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR",
                        help="run folders made by `workbench generate`; the first is the baseline")
    parser.add_argument("--eval-set", required=True, type=Path, help="the eval-set folder the runs were made on")
    parser.add_argument("--out", required=True, type=Path, help="the HTML file to write")
    parser.add_argument("--compare", type=Path, default=None,
                        help="reuse this compare.json (from `workbench compare` on the same runs) "
                             "instead of recomputing the statistics")
    parser.add_argument("--save-compare", type=Path, default=None,
                        help="also write the statistics the report shows to this compare.json")
    parser.add_argument("--resamples", type=int, default=10000,
                        help="bootstrap resamples and permutations when computing (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the resampling (default 0)")


def run(args) -> int:
    from workbench.pipeline import eval_set_arg

    args.eval_set = Path(eval_set_arg(args.eval_set))
    from workbench.report.render import report_runs

    path, _ = report_runs(args.runs, args.eval_set, args.out, compare=args.compare, n_resamples=args.resamples,
                          seed=args.seed, save_compare=args.save_compare)
    if args.save_compare and args.compare is None:
        print(f"wrote {args.save_compare}")
    print(f"wrote {path} (open it in a browser; it needs no network)")
    return 0

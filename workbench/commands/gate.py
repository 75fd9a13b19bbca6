"""Fail CI when a run is significantly worse than a baseline: exit 1 on a regression, 0 otherwise.

The baseline is a run folder or a pinned scores.json (e.g. a baseline run's scores kept in the repository).
Each chosen metric is compared item by item (paired bootstrap CI, paired permutation test, as `workbench
compare`); a metric regresses when p < 0.05 and it moved the bad way for that metric (failure_rate and
CHAIR up, accuracies down). A Markdown summary goes to stdout and, under GitHub Actions, to the step summary
($GITHUB_STEP_SUMMARY).

examples:
  workbench gate runs/candidate/synth-recipes --baseline runs/tiny-stage2/synth-recipes --eval-set synth-recipes
  workbench gate runs/candidate/synth-recipes --baseline ci/baseline-synth-recipes.scores.json \\
      --eval-set synth-recipes --metrics 'recipe/failure_rate' 'recipe/dish_accuracy'
"""

from __future__ import annotations

import os
from pathlib import Path


def add_arguments(parser):
    parser.add_argument("run", metavar="RUN_DIR", help="the run to check")
    parser.add_argument("--baseline", required=True, metavar="RUN_DIR|SCORES.json",
                        help="baseline run folder, or a pinned scores.json of the baseline")
    parser.add_argument("--eval-set", required=True, help="eval-set folder both were made on")
    parser.add_argument("--metrics", nargs="+", default=None, metavar="METRIC",
                        help="metric keys or patterns (recipe/*); default: every metric with a p-value")
    parser.add_argument("--resamples", type=int, default=10000, help="bootstrap/permutation resamples")
    parser.add_argument("--seed", type=int, default=0, help="resampling seed (default 0)")
    parser.add_argument("--summary", default=None, metavar="FILE",
                        help="also append the Markdown summary here (default: $GITHUB_STEP_SUMMARY if set)")


def run(args) -> int:
    from workbench.gate import gate
    from workbench.pipeline import resolve

    result = gate(args.run, args.baseline, resolve(args.eval_set), metrics=args.metrics,
                  n_resamples=args.resamples, seed=args.seed)
    print(result.summary, end="")
    target = args.summary or os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(Path(target), "a", encoding="utf-8") as handle:
            handle.write(result.summary)
    return result.exit_code

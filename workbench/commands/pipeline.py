"""Run the demo pipeline: every checkpoint over every eval set, compared and reported.

Executes notebooks/02_evaluate.ipynb for each (checkpoint, eval set) and notebooks/03_ablation_report.ipynb for
each eval set with papermill, keeps the executed notebooks in REPORTS/notebooks/, and writes REPORTS/index.html
linking every report. Finished runs are reused, so rerunning is quick. `make demo` runs this with defaults.

example:
  workbench pipeline                       # tiny-stage1 vs tiny-stage2 on the three synth eval sets
  workbench pipeline --limit 20 --out reports/quick
"""

from __future__ import annotations

from workbench.pipeline import DEFAULT_EVAL_SETS, DEFAULT_MODELS, run_pipeline


def add_arguments(parser):
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS),
                        help="checkpoints (presets or model cards); the first is the baseline (default: %(default)s)")
    parser.add_argument("--eval-sets", nargs="+", default=list(DEFAULT_EVAL_SETS),
                        help="eval-set folders or names under eval_sets/ (default: %(default)s)")
    parser.add_argument("--out", default="reports", help="report folder (default: reports)")
    parser.add_argument("--runs", default="runs", help="run folders root (default: runs)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N items of each eval set")
    parser.add_argument("--batch-size", type=int, default=16, help="generation batch size (default 16)")
    parser.add_argument("--seed", type=int, default=0, help="seed for generation and the bootstrap (default 0)")
    parser.add_argument("--resamples", type=int, default=10000, help="bootstrap resamples (default 10000)")


def run(args) -> int:
    result = run_pipeline(out_dir=args.out, runs_root=args.runs, models=tuple(args.models),
                          eval_sets=tuple(args.eval_sets), limit=args.limit, batch_size=args.batch_size,
                          seed=args.seed, n_resamples=args.resamples)
    print(f"\nwrote {result.index_html} ({len(result.reports)} reports, {len(result.notebooks)} executed notebooks) "
          f"in {result.seconds:.0f} s")
    print(f"open it:        xdg-open {result.index_html}   (or your browser: file://{result.index_html.resolve()})")
    print("explore models: make lab   (JupyterLab on notebooks/, start with 01_explore.ipynb)")
    return 0

"""Run the demo pipeline: every checkpoint over every eval set, compared and reported.

Executes notebooks/02_evaluate.ipynb for each (checkpoint, eval set) and notebooks/03_ablation_report.ipynb for
each eval set with papermill, keeps the executed notebooks in REPORTS/notebooks/, and writes REPORTS/index.html
linking every report. Finished runs are reused, so rerunning is quick. `make demo` runs this with defaults.

example:
  workbench pipeline                       # tiny-stage1 vs tiny-stage2 on the four synth eval sets (captions, recipes, plants, POPE)
  workbench pipeline --limit 20 --out reports/quick
  workbench pipeline --config eval.yaml --limit 5   # declared in a file (docs/ci.md); flags override it
"""

from __future__ import annotations

from pathlib import Path

from workbench.pipeline import DEFAULT_EVAL_SETS, DEFAULT_MODELS, run_pipeline

# flag -> PipelineConfig field; a flag left out keeps the config file's value (or the default)
FLAGS = {"models": "models", "eval_sets": "eval_sets", "out": "out", "runs": "runs", "limit": "limit",
         "batch_size": "batch_size", "max_new_tokens": "max_new_tokens", "sample": "sample", "seed": "seed",
         "resamples": "resamples", "baseline": "baseline", "compile": "compile"}


def add_arguments(parser):
    parser.add_argument("--config", default=None, metavar="EVAL.yaml",
                        help="pipeline config file (models, eval sets, generation, limit, ...); flags override it")
    parser.add_argument("--models", nargs="+", default=None,
                        help=f"checkpoints (presets or model cards) (default: {' '.join(DEFAULT_MODELS)})")
    parser.add_argument("--baseline", default=None, help="the model the others are compared with (default: first)")
    parser.add_argument("--eval-sets", nargs="+", default=None,
                        help=f"eval-set folders or names under eval_sets/ (default: {' '.join(DEFAULT_EVAL_SETS)})")
    parser.add_argument("--out", default=None, help="report folder, relative to here (default: reports)")
    parser.add_argument("--runs", default=None, help="run folders root, relative to here (default: runs)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N items of each eval set")
    parser.add_argument("--batch-size", type=int, default=None, help="generation batch size (default 16)")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="new-token limit (default 300)")
    parser.add_argument("--sample", action="store_true", default=None,
                        help="sample with MiniGPT-4's chat defaults instead of greedy decoding")
    parser.add_argument("--seed", type=int, default=None, help="seed for generation and the bootstrap (default 0)")
    parser.add_argument("--compile", action="store_true", default=None,
                        help="static KV cache + torch.compile of the LLM's decoding step (docs/generation.md)")
    parser.add_argument("--resamples", type=int, default=None, help="bootstrap resamples (default 10000)")


def run(args) -> int:
    from workbench.pipeline_config import PipelineConfig, load_config

    config = load_config(args.config) if args.config else PipelineConfig()
    overrides = {field: getattr(args, flag) for flag, field in FLAGS.items() if getattr(args, flag) is not None}
    for key in ("out", "runs"):  # flags are relative to the caller's working folder
        if key in overrides:
            overrides[key] = str(Path(overrides[key]).absolute())
    result = run_pipeline(config, **overrides)
    print(f"\nwrote {result.index_html} ({len(result.reports)} reports, {len(result.notebooks)} executed notebooks) "
          f"in {result.seconds:.0f} s")
    print(f"open it:        xdg-open {result.index_html}   (or your browser: file://{result.index_html.resolve()})")
    print("explore models: make lab   (JupyterLab on notebooks/, start with 01_explore.ipynb)")
    return 0

"""Score a run's predictions against an eval set and write scores.json.

Per item: every task's metrics plus `failure` (0/1) and `failure_reasons`; aggregates are
`<task>/<metric>` (definitions: docs/scorers.md). Eval-set items without a prediction count as failures
("missing"); a run made with --limit N is scored on its first N items;
predictions for ids outside the eval set are listed under `unknown_ids`. METEOR and the PTB tokenizer
need Java; without it METEOR is reported as unavailable, never as 0. SPICE is not computed.
"""

from __future__ import annotations

from pathlib import Path

from workbench.run_record import RUN_INFO, RunRecord
from workbench.scoring import score_file


def add_arguments(parser):
    parser.add_argument("--eval-set", required=True, metavar="EVAL_SET", help="eval set folder")
    parser.add_argument("--predictions", required=True, metavar="FILE",
                        help="RUN_DIR/predictions.jsonl written by `workbench generate`, or the run folder RUN_DIR")
    parser.add_argument("--out", metavar="FILE", default=None,
                        help="where to write scores.json (default: next to the predictions file)")
    parser.add_argument("--no-meteor", action="store_true", help="skip METEOR (saves the Java start-up)")


def format_table(aggregate: dict) -> str:
    rows = [(key, "n/a" if value is None else f"{value:.4f}") for key, value in aggregate.items()]
    width = max((len(k) for k, _ in rows), default=0)
    return "\n".join(f"{k:<{width}}  {v:>8}" for k, v in rows)


def run(args) -> int:
    from workbench.pipeline import eval_set_arg

    args.eval_set = eval_set_arg(args.eval_set)
    predictions = Path(args.predictions)
    if predictions.is_dir():  # a run folder: its predictions file
        predictions = predictions / "predictions.jsonl"
    out = Path(args.out) if args.out else predictions.parent / "scores.json"
    run_dir = predictions.parent
    record = RunRecord.load(run_dir) if (run_dir / RUN_INFO).is_file() else None  # a bare file: no run limits
    scores = score_file(predictions, args.eval_set, out, meteor=not args.no_meteor, record=record)
    print(format_table(scores["aggregate"]))
    pope = [it["metrics"] for it in scores["items"] if it.get("task") == "pope"]
    if pope:   # the rates above, as counts of answers
        for tag, reading in (("", "official first-sentence reading"), ("strict_", "strict exact match")):
            print(f"pope: {sum(bool(m.get(tag + 'neither')) for m in pope)} of {len(pope)} answers are neither "
                  f"yes nor no ({reading})")
    extra = []
    if scores["missing_ids"]:
        extra.append(f"{len(scores['missing_ids'])} missing")
    if scores["unknown_ids"]:
        extra.append(f"{len(scores['unknown_ids'])} unknown ids")
    print(f"wrote {out} ({len(scores['items'])} items{', ' + ', '.join(extra) if extra else ''})")
    return 0

"""Judge runs' answers with a local model or an OpenAI-compatible endpoint; judgements are cached and the
runs are rescored, so `<task>/judge_<protocol>` appears in scores.json, compare and report.

examples:
  workbench judge runs/stage2 --eval-set eval_sets/synth-recipes --judge ~/models/Qwen2.5-7B-Instruct --protocol match
  workbench judge runs/stage1 runs/stage2 --eval-set eval_sets/synth-captions --judge http://127.0.0.1:8000/v1#qwen --protocol failure
  workbench judge runs/stage2 --eval-set eval_sets/synth-recipes --judge http://127.0.0.1:8000/v1#qwen --protocol match --limit 20
      # a first look: the first 20 answers only; rerun without --limit and those 20 come from the cache

Protocols (templates in workbench/judge/templates): failure (coherent, on-task answer?), relative
(LLaVA-Bench 1-10 pair vs the reference answer; mean(model)/mean(reference) x 100), match (names the dish /
crop and disease / POPE label?). A small judge gives weak numbers: use a strong one for results.
"""

from __future__ import annotations

from pathlib import Path

from workbench.commands.argtypes import count


def add_arguments(p):
    p.add_argument("runs", nargs="+", help="run folders (made by `workbench generate`)")
    p.add_argument("--eval-set", required=True, help="the eval set the runs were made on")
    p.add_argument("--judge", required=True, help="model folder, .gguf file, or http://host:port/v1#model-name")
    p.add_argument("--protocol", required=True, choices=["failure", "relative", "match"],
                   help="failure: is the answer a coherent, on-task response (the paper's failure rate); relative: "
                        "LLaVA-Bench's 1-10 scores for the reference and the answer; match: does the answer name "
                        "the reference dish / crop and disease / POPE label")
    p.add_argument("--cache", help="SQLite cache file (default: judge-cache.sqlite beside the first run)")
    p.add_argument("--limit", type=count, metavar="N",
                   help="judge only each run's first N answers the protocol applies to (a first look with a slow or "
                        "paid judge); the rest are skipped, and judge metrics cover only these")


def run(args) -> int:
    from workbench.evalsets import load_eval_set
    from workbench.judge import JudgementCache, judge_run, load_protocol, open_judge
    from workbench.judge.run import eval_set_of_run
    from workbench.scoring import score_run

    es = load_eval_set(args.eval_set)
    for run_dir in args.runs:   # every run is checked before the judge model loads
        eval_set_of_run(run_dir, es)
    judge = open_judge(args.judge)
    protocol = load_protocol(args.protocol)
    cache_path = Path(args.cache) if args.cache else Path(args.runs[0]).resolve().parent / "judge-cache.sqlite"
    with JudgementCache(cache_path) as cache:
        for run_dir in args.runs:
            summary = judge_run(run_dir, es, judge, protocol, cache, limit=args.limit)
            c = summary["counts"]
            print(f"{run_dir}: judge {judge.name} ({judge.key[:28]}...), {protocol.label} template "
                  f"{protocol.template_hash}: {c['made']} made, {c['cached']} from cache, {c['ok']} ok, "
                  f"{c['failed']} failed, {c['skipped']} skipped"
                  + (f" (--limit {args.limit}: judge metrics cover only the judged answers)" if args.limit else ""))
            scores = score_run(run_dir, es)
            for key, value in sorted(scores["aggregate"].items()):
                if key.endswith(f"/judge_{protocol.name}"):
                    kappa = scores["judges"][protocol.name]["kappa"][key.split("/")[0]]
                    shown = "null" if value is None else f"{value:.3f}"
                    k = "null" if kappa["kappa"] is None else f"{round(kappa['kappa'], 3) + 0.0:.3f}"   # no -0.000
                    print(f"  {key} = {shown}  (kappa vs {kappa['vs']}: {k}, n={kappa['n']})")
    shown = cache_path.resolve()
    print(f"cache: {shown.relative_to(Path.cwd()) if shown.is_relative_to(Path.cwd()) else shown}")
    return 0

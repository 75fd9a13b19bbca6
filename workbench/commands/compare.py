"""Compare two or more runs on one eval set, metric by metric, against a baseline run.

For each <task>/<metric>: both values, the difference (other - baseline), a 95% paired bootstrap
confidence interval, a paired permutation-test p-value and n; for dish, crop and disease accuracy also
which labels changed, item by item. Printed, and written to compare.json with --out. Runs not
scored yet are scored first. Runs made on another eval-set manifest are refused.

example:
  workbench compare runs/stage1 runs/stage2 --eval-set eval_sets/synth-captions --out compare.json
"""

from __future__ import annotations

from pathlib import Path


def add_arguments(parser):
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR",
                        help="run folders made by `workbench generate` (at least two)")
    parser.add_argument("--eval-set", required=True, type=Path, help="the eval-set folder the runs were made on")
    parser.add_argument("--out", type=Path, help="where to write compare.json (without it the table is only printed)")
    parser.add_argument("--baseline", type=int, default=0, help="index of the baseline run (default 0: the first)")
    parser.add_argument("--resamples", type=int, default=10000,
                        help="bootstrap resamples and permutations (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the resampling (default 0)")


def run(args) -> int:
    from workbench.pipeline import eval_set_arg

    args.eval_set = Path(eval_set_arg(args.eval_set))
    from workbench.compare import compare_runs, write_compare
    from workbench.compare.statistics import format_p
    from workbench.compare.swaps import format_swaps

    result = compare_runs(args.runs, args.eval_set, baseline=args.baseline, n_resamples=args.resamples,
                          seed=args.seed)
    path = write_compare(result, args.out) if args.out else None
    for comp in result["comparisons"]:
        print(f"\n{comp['other']} vs {comp['baseline']} (delta = other - baseline)")
        width = max([32] + [len(key) for key in comp["metrics"]])   # long POPE split names stay aligned
        print(f"  {'metric':<{width}} {'baseline':>9} {'other':>9} {'delta':>8}  {'95% CI':<18} {'p':>7}  verdict")
        for key, m in comp["metrics"].items():
            num = lambda x: "n/a" if x is None else f"{x:.3f}"  # noqa: E731
            ci = f"[{m['ci'][0]:+.3f}, {m['ci'][1]:+.3f}]" if m["ci"] else "-"
            p = format_p(m["p"])
            delta = "-" if m["delta"] is None else f"{m['delta']:+.3f}"
            print(f"  {key:<{width}} {num(m['a']):>9} {num(m['b']):>9} {delta:>8}  {ci:<18} {p:>7}  {m['verdict']}")
            if m.get("undefined"):
                print(f"  {'':<{width}} n/a: {m['undefined']}")
        better = sum(m["verdict"] == "better" for m in comp["metrics"].values())
        worse = sum(m["verdict"] == "worse" for m in comp["metrics"].values())
        print(f"{comp['other']} vs {comp['baseline']}: {better} metrics significantly better, "
              f"{worse} worse, of {len(comp['metrics'])}")
        if comp.get("swaps"):
            print("labels that changed, item by item (descriptive):")
            print("\n".join(format_swaps(comp["swaps"], comp["baseline"], comp["other"])))
    print(f"wrote {path}" if path else "compare.json not written (give --out to keep it)")
    return 0

"""Held-out evaluation of a built tiny model with the workbench itself: the pipeline's ``evaluate`` (greedy
generation, then scoring) on the ``eval_sets/synth-*`` sets for stage 1 and stage 2, then ``compare_runs``
(paired bootstrap CIs, 2,000 resamples). The resulting table goes into ``models/tiny/card.md``. Reporting only:
nothing here feeds back into training.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from workbench.compare import compare_runs, write_compare
from workbench.evalsets import TASKS
from workbench.pipeline import evaluate
from workbench.scoring.metric_info import headline
from workbench.tiny.build.card import write_card
from workbench.tiny.world.evalsets import SETS
from workbench.tiny.world.pope import NAME as POPE_SET

EVAL_SETS = (*SETS, POPE_SET)  # synth-captions, synth-recipes, synth-plants, synth-pope


def evaluate_heldout(model_dir: Path, eval_root: Path, runs_root: Path, batch_size: int = 32,
                     limit: int | None = None) -> dict:
    model_dir, runs_root = Path(model_dir), Path(runs_root)
    results: dict = {}
    for name in EVAL_SETS:
        eval_set = Path(eval_root) / name
        if not (eval_set / "manifest.jsonl").is_file():
            continue
        runs = []
        for stage in (1, 2):
            run = runs_root / f"{name}-stage{stage}"
            if run.exists():  # a previous build's run: its checkpoint is gone, so start afresh
                shutil.rmtree(run)
            evaluate(str(model_dir / f"tiny-stage{stage}.json"), eval_set, run, limit=limit or None,
                     batch_size=batch_size, device="cpu")
            runs.append(run)
        results[name] = compare_runs(runs, eval_set, n_resamples=2000)
        write_compare(results[name], runs_root / f"{name}-compare.json")
    return results


def heldout_rows(results: dict) -> list[dict]:
    """The headline metrics (``metric_info.headline``) of each eval set's comparison, one row per metric, in
    declaration order."""
    rows = []
    for name, comp in results.items():
        metrics = comp["comparisons"][0]["metrics"]
        for key, m in metrics.items():
            task, metric = key.split("/", 1)
            if metric not in headline(task):
                continue
            rows.append({"eval set": name, "metric": key, "stage 1": m["a"], "stage 2": m["b"],
                         "delta": m["delta"], "95% CI": m["ci"], "p": m["p"], "verdict": m["verdict"]})
    order = {k: i for i, k in enumerate(f"{t}/{m}" for t in TASKS for m in headline(t))}
    rows.sort(key=lambda r: order.get(r["metric"], 99))
    return rows


def add_heldout_eval(out_dir: str | Path, eval_root: str | Path, runs_root: str | Path,
                     limit: int | None = None) -> dict:
    """Evaluate the built stage-1/stage-2 checkpoints in ``out_dir`` on the held-out eval sets under
    ``eval_root`` (runs under ``runs_root``), record the table in build_summary.json and rewrite card.md."""
    out = Path(out_dir)
    summary = json.loads((out / "build_summary.json").read_text())
    start = time.perf_counter()
    rows = heldout_rows(evaluate_heldout(out, Path(eval_root), Path(runs_root), limit=limit))
    summary["heldout"] = {"rows": rows, "eval_wall_s": round(time.perf_counter() - start, 1), "limit": limit}
    (out / "build_summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    write_card(out / "card.md", summary)
    return summary["heldout"]

"""Held-out evaluation of a built tiny model with the workbench itself: ``workbench generate`` (greedy) on the
``eval_sets/synth-*`` sets for stage 1 and stage 2, then ``workbench compare`` (paired bootstrap CIs). The
resulting table goes into ``models/tiny/card.md``. Reporting only: nothing here feeds back into training.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from workbench.cli import main as cli

EVAL_SETS = ("synth-captions", "synth-recipes", "synth-plants")
HEADLINE = {
    "caption": ["failure_rate", "object_recall", "chair_i", "cider", "bleu_4"],
    "recipe": ["failure_rate", "dish_accuracy", "ingredient_f1", "steps_present"],
    "diagnosis": ["failure_rate", "disease_accuracy", "treatment_recall", "crop_accuracy"],
}


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
            args = ["generate", "--model", str(model_dir / f"tiny-stage{stage}.json"), "--eval-set", str(eval_set),
                    "--out", str(run), "--batch-size", str(batch_size), "--device", "cpu"]
            if limit:
                args += ["--limit", str(limit)]
            if cli(args) != 0:
                raise RuntimeError(f"workbench generate failed for {run}")
            runs.append(run)
        out = runs_root / f"{name}-compare.json"
        if cli(["compare", str(runs[0]), str(runs[1]), "--eval-set", str(eval_set), "--out", str(out),
                "--resamples", "2000"]) != 0:
            raise RuntimeError(f"workbench compare failed for {name}")
        results[name] = json.loads(out.read_text())
    return results


def heldout_table(results: dict) -> tuple[str, list[dict]]:
    rows = []
    for name, comp in results.items():
        metrics = comp["comparisons"][0]["metrics"]
        for key, m in metrics.items():
            task, metric = key.split("/", 1)
            if metric not in HEADLINE.get(task, []):
                continue
            rows.append({"eval set": name, "metric": key, "stage 1": m["a"], "stage 2": m["b"],
                         "delta": m["delta"], "95% CI": m["ci"], "p": m["p"], "verdict": m["verdict"]})
    order = {k: i for i, k in enumerate(f"{t}/{m}" for t, ms in HEADLINE.items() for m in ms)}
    rows.sort(key=lambda r: order.get(r["metric"], 99))
    return rows_markdown(rows), rows


def rows_markdown(rows: list[dict]) -> str:
    def fmt(x):
        if isinstance(x, (list, tuple)):
            return "[" + ", ".join(fmt(v) for v in x) + "]"
        return "-" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))

    keys = ("eval set", "metric", "stage 1", "stage 2", "delta", "95% CI", "p", "verdict")
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)

"""Load scored runs for compare and report: one pass per ablation.

``load_scored_runs(run_dirs, eval_set)`` loads the eval set (cut to the runs' ``--limit``) and every run's
run.json, predictions and scores.json, scoring runs that are unscored or whose scores are stale or were made on
another manifest, and refuses runs made on another eval set or covering other items. ``compare_loaded`` and
``render_report`` both take its result, so an ablation reads and hashes everything once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.run_record import RunRecord, read_predictions


@dataclass
class ScoredRun:
    name: str
    path: Path
    record: RunRecord     # run.json
    predictions: dict     # id -> {"id", "output", "n_tokens", "finish"}
    scores: dict          # scores.json


# ---------------------------------------------------------------- loading runs

def _read_scores(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise WorkbenchError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg}); delete it and rerun to rescore") from None
    if not isinstance(data, dict):
        raise WorkbenchError(f"{path}: expected a JSON object; delete it and rerun to rescore")
    return data


def _load_eval_set(eval_set):
    if hasattr(eval_set, "items") and hasattr(eval_set, "manifest_sha256"):
        return eval_set
    from workbench.evalsets import load_eval_set
    return load_eval_set(eval_set)


def _run_names(paths: list[Path]) -> list[str]:
    names = [p.resolve().name for p in paths]
    if len(set(names)) < len(names):
        names = ["/".join(p.resolve().parts[-2:]) for p in paths]
    if len(set(names)) < len(names):
        names = [f"{n} #{i + 1}" for i, n in enumerate(names)]
    return names


def _scores_are_current(run_dir: Path) -> bool:
    scores = run_dir / "scores.json"
    preds = list(run_dir.glob("predictions*.jsonl"))
    return scores.is_file() and all(scores.stat().st_mtime >= p.stat().st_mtime for p in preds)


def load_scored_runs(run_dirs, eval_set, minimum: int = 2) -> tuple[object, list[ScoredRun]]:
    """Load the eval set and each run; refuse runs made on another manifest; score unscored runs
    (and rescore runs whose scores.json is older than their predictions or was made on another
    manifest) with ``workbench.scoring.score_run``. Raises WorkbenchError when fewer than ``minimum`` folders
    are given (2 for compare; the gate's single-run check passes 1)."""
    es = _load_eval_set(eval_set)
    paths = [Path(p) for p in run_dirs]
    for path in paths:   # a mistyped folder is named first, before the count
        if not path.is_dir():
            raise WorkbenchError(f"{path}: not a run folder; pass folders made by `workbench generate`")
    if len(paths) < minimum:
        raise WorkbenchError("needs at least two run folders (a baseline and one other), got "
                             f"{len(paths)}" if minimum == 2 else
                             f"needs at least {minimum} run folder{'s' if minimum != 1 else ''}, got {len(paths)}",
                             exit_code=2)
    records = [RunRecord.load(p) for p in paths]
    limits = {record.limit for record in records}
    if len(limits) > 1:
        shown = ", ".join("all" if x is None else str(x) for x in sorted(limits, key=lambda x: x or 0))
        raise WorkbenchError(f"the runs cover different items (--limit {shown}); compare runs made with the same "
                             "--limit, or resume the shorter ones with the larger limit")
    es = es.head(limits.pop() if limits else None)
    runs = []
    for path, name, record in zip(paths, _run_names(paths), records):
        record.require_eval_set(es, "compare only runs made on the same eval set")
        predictions = read_predictions(path)
        scores = _read_scores(path / "scores.json") if _scores_are_current(path) else None
        scored_on = ((scores or {}).get("eval_set") or {}).get("manifest_sha256", es.manifest_sha256)
        scored_ids = {it.get("id") for it in (scores or {}).get("items", [])}
        if scores is None or scored_on != es.manifest_sha256 or scored_ids != {item.id for item in es.items}:
            from workbench.scoring import score_run
            score_run(path, es, record=record)
            scores = _read_scores(path / "scores.json")
        _check_scores(scores, path / "scores.json", es)
        runs.append(ScoredRun(name=name, path=path, record=record, predictions=predictions, scores=scores))
    return es, runs


def _check_scores(scores: dict, path: Path, es) -> None:
    if not isinstance(scores.get("aggregate"), dict) or not isinstance(scores.get("items"), list):
        raise WorkbenchError(f"{path}: needs 'aggregate' and 'items'; delete it and rerun to rescore")
    ids = {it.get("id") for it in scores["items"]}
    expected = {item.id for item in es.items}
    if ids != expected:
        missing, extra = sorted(expected - ids)[:3], sorted(ids - expected)[:3]
        raise WorkbenchError(f"{path}: scored items do not match {es.root} (missing {missing}, unknown "
                             f"{extra}); delete scores.json and rerun to rescore against this eval set")


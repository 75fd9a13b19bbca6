"""Score a run's predictions against an eval set -> the scores.json content (contract in DESIGN.md).

``score_predictions(eval_set, predictions)`` runs every task's scorer item by item, then
``aggregate_items`` per task. An eval-set item without a prediction is scored as an empty answer and
carries ``failure: 1``, ``failure_reasons: ["missing"]``; predictions whose id is not in the eval set
are listed under ``unknown_ids`` with a warning. ``score_run`` reads a run folder and writes scores.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from workbench.atomic import atomic_write_json
from workbench.errors import WorkbenchError
from workbench.run_record import RUN_INFO, RunRecord, read_predictions_file
from workbench.scoring.aggregate import aggregate_items
from workbench.scoring.caption import score_captions
from workbench.scoring.diagnosis import score_diagnosis
from workbench.scoring.failure import failure_reasons
from workbench.scoring.hallucination import score_hallucination
from workbench.scoring.recipe import score_recipe
from workbench.scoring.vocab import TaskVocabulary

SCORES = "scores.json"


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("minigpt4-workbench", "pycocoevalcap"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = None
    return out


def score_item(item, record: dict | None, vocab: TaskVocabulary) -> dict:
    """One item's own metrics: ``failure``/``failure_reasons`` and its task scorer's (hallucination, recipe,
    diagnosis). Corpus-level caption metrics (BLEU, METEOR, ROUGE-L, CIDEr) are not included: they need the
    whole set (``score_predictions``). ``vocab`` comes from the whole eval set."""
    output = record["output"] if record else None
    m = failure_reasons(item.task, output, record.get("finish") if record else None, vocab)
    text = output or ""
    if item.task == "caption":
        m.update(score_hallucination(text, item.reference["objects"], vocab.objects))
    elif item.task == "recipe":
        m.update(score_recipe(text, item.reference, vocab))
    else:
        m.update(score_diagnosis(text, item.reference, vocab))
    return m


def score_predictions(eval_set, predictions: dict[str, dict], meteor: bool = True) -> dict:
    """scores.json content for ``predictions`` (id -> {"output", "finish", ...}) on ``eval_set``
    (an ``EvalSet`` or a folder path)."""
    if not hasattr(eval_set, "items"):
        from workbench.evalsets import load_eval_set

        eval_set = load_eval_set(eval_set)
    vocab = TaskVocabulary.from_eval_set(eval_set)
    known = {item.id for item in eval_set.items}
    unknown = sorted(set(predictions) - known)
    missing = [item.id for item in eval_set.items if item.id not in predictions]
    warnings = []
    if unknown:
        warnings.append(f"{len(unknown)} prediction id(s) not in eval set {eval_set.name}: "
                        f"{', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''} (listed in unknown_ids; "
                        "was the run made on another eval set?)")
    if missing:
        warnings.append(f"{len(missing)} eval-set item(s) have no prediction; scored as failures "
                        f"(reason 'missing'): {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")

    metrics = {item.id: score_item(item, predictions.get(item.id), vocab) for item in eval_set.items}

    captions = [item for item in eval_set.items if item.task == "caption"]
    tokenizer = None
    if captions:
        result = score_captions([(predictions.get(i.id) or {}).get("output", "") for i in captions],
                                [i.reference["captions"] for i in captions], meteor=meteor)
        for item, extra in zip(captions, result["items"]):
            metrics[item.id].update(extra)
        warnings.extend(result["warnings"])
        tokenizer = result["tokenizer"]

    items = [{"id": item.id, "task": item.task, "metrics": metrics[item.id]} for item in eval_set.items]
    aggregate = {}
    counts = eval_set.counts()
    for task in sorted(counts):
        aggregate.update(aggregate_items(task, [it for it in items if it["task"] == task]))
    return {
        "eval_set": {"name": eval_set.name, "path": str(eval_set.root),
                     "manifest_sha256": eval_set.manifest_sha256},
        "counts": counts,
        "aggregate": aggregate,
        "items": items,
        "missing_ids": missing,
        "unknown_ids": unknown,
        "warnings": warnings,
        "scorer": {"versions": _versions(), "caption_tokenizer": tokenizer,
                   "spice": "not computed (needs a Stanford CoreNLP download)"},
    }


def write_scores(path, scores: dict) -> Path:
    """Write scores.json atomically (a reader never sees half a file)."""
    return atomic_write_json(path, scores, indent=1)


def score_file(predictions_path, eval_set, out, meteor: bool = True, record: RunRecord | None = None) -> dict:
    """Score a predictions.jsonl file and write ``out``; warnings go to stderr and into scores.json.

    ``record``: the run's record (its ``limit`` and manifest hash are used); None scores the file alone.
    """
    if not hasattr(eval_set, "items"):
        from workbench.evalsets import load_eval_set

        eval_set = load_eval_set(eval_set)
    predictions, read_warnings = read_predictions_file(predictions_path)
    # A run made with --limit N covers the first N items: the rest are out of scope, not failures.
    limit = record.limit if record is not None else None
    scores = score_predictions(eval_set.head(limit), predictions, meteor=meteor)
    scores["limit"] = limit
    if record is not None and record.manifest_sha256 != eval_set.manifest_sha256:
        read_warnings.append(f"{record.path}: run was made on a manifest with sha256 "
                             f"{record.manifest_sha256[:12]}..., not {eval_set.manifest_sha256[:12]}... "
                             f"of {eval_set.root}")
    scores["warnings"] = read_warnings + scores["warnings"]
    scores["predictions"] = str(predictions_path)
    for warning in scores["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    write_scores(out, scores)
    return scores


def score_run(run_dir, eval_set, out=None, record: RunRecord | None = None) -> dict:
    """Score ``run_dir/predictions.jsonl``; write ``run_dir/scores.json`` (or ``out``); return the scores.

    ``record`` is the run's loaded record (read from ``run_dir`` when None and the folder has one)."""
    run_dir = Path(run_dir)
    path = run_dir / "predictions.jsonl"
    if not path.is_file():
        raise WorkbenchError(f"{path}: not found; run `workbench generate --out {run_dir}` first "
                             "(or merge its shard files)")
    if record is None and (run_dir / RUN_INFO).is_file():  # a folder holding only predictions: no run limits
        record = RunRecord.load(run_dir)
    return score_file(path, eval_set, out if out is not None else run_dir / SCORES, record=record)


def read_scores(path) -> dict:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkbenchError(f"{path}: cannot read scores ({exc}); rerun `workbench score`") from None
    if not isinstance(data.get("aggregate"), dict) or not isinstance(data.get("items"), list):
        raise WorkbenchError(f"{path}: not a scores.json (needs 'aggregate' and 'items'); rerun `workbench score`")
    return data

"""Score a run's predictions against an eval set -> the scores.json content (contract: README, *Contracts*).

``score_predictions(eval_set, predictions)`` runs every task's scorer item by item, then
``aggregate_items`` per task. An eval-set item without a prediction is scored as an empty answer and
carries ``failure: 1``, ``failure_reasons: ["missing"]``; predictions whose id is not in the eval set
are listed under ``unknown_ids`` with a warning. ``score_run`` reads a run folder and writes scores.json.
Every ``null`` aggregate gets its reason under ``undefined`` (``{"<task>/<metric>": why}``), which
compare and report show beside "n/a". Vocabularies come from the whole eval set even when only its first
N items are scored (``--limit``), so an item's scores never depend on which other items are scored.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from workbench.atomic import atomic_write_json
from workbench.errors import WorkbenchError
from workbench.provenance import package_versions
from workbench.run_record import RUN_INFO, RunRecord, read_predictions_file
from workbench.scoring.aggregate import aggregate_items
from workbench.scoring.caption import score_captions
from workbench.scoring.diagnosis import score_diagnosis
from workbench.scoring.failure import failure_reasons
from workbench.scoring.hallucination import coco_vocabulary_warning, object_vocabulary, score_hallucination
from workbench.scoring.pope import score_pope, undefined_why as pope_undefined_why
from workbench.scoring.recipe import score_recipe
from workbench.scoring.vocab import TaskVocabulary

SCORES = "scores.json"
SCORER_PACKAGES = ("minigpt4-workbench", "pycocoevalcap")  # versions recorded in scores.json
# why an aggregate is null, when no scorer gave a more specific reason
UNDEFINED_WHY = {
    "caption/chair_i": "no scored caption mentions a vocabulary object",
    "caption/object_recall": "no scored caption item lists reference objects",
    "recipe/ingredient_recall": "no scored recipe has reference ingredients",
    "recipe/ingredient_f1": "no scored recipe has reference ingredients",
    "diagnosis/treatment_recall": "no scored item has reference treatments (only healthy leaves?)",
    "diagnosis/healthy_false_alarm": "no healthy leaf among the scored items",
    "diagnosis/disease_macro_f1": "no condition among the scored items' references",
}


def undefined_reasons(aggregate: dict, warnings: list[str]) -> dict[str, str]:
    """``{"<task>/<metric>": why}`` for every null value of ``aggregate``; the scorers' own warnings
    (METEOR, CIDEr) give the reason where they have one."""
    out = {}
    for key, value in aggregate.items():
        if value is not None:
            continue
        metric = key.split("/", 1)[-1]
        said = [w for w in warnings if w.lower().startswith(metric + " ")]
        pope_why = pope_undefined_why(metric, aggregate) if key.startswith("pope/") else None
        specific = UNDEFINED_WHY.get(key) or pope_why
        out[key] = said[0] if said else specific or "undefined on the scored items"
    return out


def score_item(item, record: dict | None, vocab: TaskVocabulary, objects=None) -> dict:
    """One item's own metrics: ``failure``/``failure_reasons`` and its task scorer's (hallucination, recipe,
    diagnosis, pope). Corpus-level caption metrics (BLEU, METEOR, ROUGE-L, CIDEr) are not included: they need
    the whole set (``score_predictions``). ``vocab`` comes from the whole eval set; ``objects`` is its CHAIR
    mention finder (``object_vocabulary(eval_set.vocabulary)``; None: built from ``vocab.objects``)."""
    output = record["output"] if record else None
    m = failure_reasons(item.task, output, record.get("finish") if record else None, vocab)
    text = output or ""
    if item.task == "caption":
        objects = objects if objects is not None else object_vocabulary(vocab.objects)
        m.update(score_hallucination(text, item.reference.get("objects", []), objects,
                                     item.reference["captions"]))
    elif item.task == "recipe":
        m.update(score_recipe(text, item.reference, vocab))
    elif item.task == "pope":
        m.update(score_pope(text, item.reference))
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
    objects = object_vocabulary(eval_set.vocabulary)
    known = {item.id for item in eval_set.items}
    unknown = sorted(set(predictions) - known)
    missing = [item.id for item in eval_set.items if item.id not in predictions]
    warnings = list(getattr(eval_set, "warnings", []))
    warnings += [w for w in [coco_vocabulary_warning(eval_set.vocabulary, eval_set.root)] if w]
    if unknown:
        warnings.append(f"{len(unknown)} prediction id(s) not in eval set {eval_set.name}: "
                        f"{', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''} (listed in unknown_ids; "
                        "was the run made on another eval set?)")
    if missing:
        warnings.append(f"{len(missing)} eval-set item(s) have no prediction; scored as failures "
                        f"(reason 'missing'): {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")

    metrics = {item.id: score_item(item, predictions.get(item.id), vocab, objects) for item in eval_set.items}

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
        "undefined": undefined_reasons(aggregate, warnings),
        "warnings": warnings,
        "scorer": {"versions": package_versions(SCORER_PACKAGES, python=False), "caption_tokenizer": tokenizer,
                   "spice": "not computed (needs a Stanford CoreNLP download)"},
    }


def write_scores(path, scores: dict) -> Path:
    """Write scores.json atomically (a reader never sees half a file)."""
    return atomic_write_json(path, scores, indent=1)


def score_file(predictions_path, eval_set, out, meteor: bool = True, record: RunRecord | None = None) -> dict:
    """Score a predictions.jsonl file and write ``out``; warnings go to stderr and into scores.json.

    ``record``: the run's record (its ``limit`` and manifest hash are used); None: the record beside the
    predictions file when there is one (``RUN_INFO``), else the file is scored alone. Raises ``WorkbenchError``
    (one line, nothing written) when the record says the run was made on another manifest.
    """
    if not hasattr(eval_set, "items"):
        from workbench.evalsets import load_eval_set

        eval_set = load_eval_set(eval_set)
    if record is None and (Path(predictions_path).parent / RUN_INFO).is_file():
        record = RunRecord.load(Path(predictions_path).parent)
    if record is not None:   # a run is scored only against the eval set it answered, checked before any reading
        record.require_eval_set(eval_set, "score a run only against the eval set it answered")
    predictions, read_warnings = read_predictions_file(predictions_path)
    # A run made with --limit N covers the first N items: the rest are out of scope, not failures.
    limit = record.limit if record is not None else None
    scores = score_predictions(eval_set.head(limit), predictions, meteor=meteor)   # vocabularies: all items
    scores["limit"] = limit
    from workbench.judge.attach import attach_judgements   # judge_<protocol>.json from `workbench judge`

    attach_judgements(scores, Path(predictions_path).parent, predictions)
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

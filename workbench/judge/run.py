"""Judge a run's answers: ask (or read from the cache) one judgement per item, write ``judge_<protocol>.json``.

``judge_run(run_dir, eval_set, judge, protocol, cache)`` -> summary dict (also written to
``run_dir/judge_<protocol>.json``): judge name and identity, protocol version and template hash, counts
(``made`` calls, ``cached`` reads, ``failed`` judgements, ``skipped`` items), the ``limit`` it ran with, and one
row per item (``id``, ``answer_sha256``, ``status`` ok|failed|skipped, ``fields``, ``reply``, ``error``).
Items without a prediction, captions under ``match``, and with ``limit=N`` every answer after the first N the
protocol applies to, are skipped (no judgement, no number).
``workbench.judge.attach`` merges these files into scores.json.
"""

from __future__ import annotations

from pathlib import Path

from workbench.atomic import atomic_write_json
from workbench.judge.backends import JudgeCallError
from workbench.judge.cache import answer_sha, cache_key
from workbench.judge.protocols import UnparsableReply
from workbench.run_record import RunRecord, read_predictions


def judgement_path(run_dir, protocol_name: str) -> Path:
    return Path(run_dir) / f"judge_{protocol_name}.json"


def eval_set_of_run(run_dir, eval_set):
    """``eval_set`` as the run covers it (its first N items for a ``--limit N`` run). Raises ``WorkbenchError``
    (one line) when ``run_dir`` is not a run folder or was made on another eval set: judging it against this one
    would pair answers with other items' references and rewrite its scores.json."""
    record = RunRecord.load(run_dir)
    eval_set = eval_set.head(record.limit)
    record.require_eval_set(eval_set, "judge a run only against the eval set it answered")
    return eval_set


def _judge_one(judge, protocol, cache, item, answer: str, counts: dict) -> dict:
    key = cache_key(judge.key, protocol.template_hash, item.id, answer)
    hit = cache.get(key)
    if hit is not None:
        counts["cached"] += 1
        return hit
    counts["made"] += 1
    prompt = protocol.prompt(item.task, item.prompt, item.reference, answer)
    try:
        reply = judge.complete(prompt, protocol.max_new_tokens)
    except JudgeCallError as exc:   # not cached: the next run asks again
        return {"status": "failed", "reply": None, "fields": None, "error": f"call failed: {exc}"}
    try:
        row = {"status": "ok", "reply": reply, "fields": protocol.parse(reply), "error": None}
    except UnparsableReply as exc:
        row = {"status": "failed", "reply": reply, "fields": None, "error": f"unparsable: {exc}"}
    cache.put(key, judge=judge.key, template_hash=protocol.template_hash, item_id=item.id, answer=answer, **row)
    return row


def _skip_reason(record, task: str, protocol, limit: int | None, n_judged: int) -> str | None:
    if record is None:
        return "no prediction"
    if not protocol.applies(task):
        return f"{protocol.name} does not apply to {task}"
    if limit is not None and n_judged >= limit:
        return f"beyond --limit {limit}"
    return None


def judge_run(run_dir, eval_set, judge, protocol, cache, show_progress: bool = True, limit: int | None = None) -> dict:
    """Judge every answer of ``run_dir`` (or the first ``limit`` answers the protocol applies to, in eval-set order:
    a cheap first look with a slow or paid judge) and write ``judge_<protocol>.json``; returns its content.
    Raises ``WorkbenchError`` when the run was made on another eval set (``eval_set_of_run``)."""
    from tqdm.auto import tqdm

    eval_set = eval_set_of_run(run_dir, eval_set)
    predictions = read_predictions(run_dir)
    plan, n_to_judge = [], 0   # reasons first, so the progress bar counts only the answers to judge
    for item in eval_set.items:
        why = _skip_reason(predictions.get(item.id), item.task, protocol, limit, n_to_judge)
        n_to_judge += why is None
        plan.append((item, why))
    counts = {"made": 0, "cached": 0, "failed": 0, "skipped": 0, "ok": 0}
    rows = []
    with tqdm(total=n_to_judge, desc=f"judge {protocol.name}", unit="answer", disable=not show_progress) as bar:
        for item, why in plan:
            if why:
                counts["skipped"] += 1
                rows.append({"id": item.id, "task": item.task, "status": "skipped", "answer_sha256": None,
                             "fields": None, "reply": None, "error": why})
                continue
            answer = predictions[item.id].get("output") or ""
            row = _judge_one(judge, protocol, cache, item, answer, counts)
            counts["ok" if row["status"] == "ok" else "failed"] += 1
            rows.append({"id": item.id, "task": item.task, "answer_sha256": answer_sha(answer)} | row)
            bar.update()
    summary = {"protocol": protocol.name, "version": protocol.version, "template_hash": protocol.template_hash,
               "judge": {"name": judge.name, "key": judge.key, "identity": judge.identity},
               "eval_set": {"name": eval_set.name, "manifest_sha256": eval_set.manifest_sha256},
               "counts": counts, "limit": limit, "items": rows}
    atomic_write_json(judgement_path(run_dir, protocol.name), summary, indent=1)
    return summary

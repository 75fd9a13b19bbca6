"""Merge a run's ``judge_<protocol>.json`` files into its scores: per-item judge fields, corpus metrics
``<task>/judge_<protocol>`` and a ``judges`` section (judge, template hash, counts, Cohen's kappa against the
lexical scorer of the same question).

Lexical counterparts for kappa: ``failure`` against the scorer's ``failure`` flag; ``match`` against
recipe ``dish_accuracy``, diagnosis ``crop_accuracy`` and ``disease_accuracy`` both 1, POPE ``correct``.
``relative`` has no binary counterpart (kappa null, with the reason). A judgement whose answer text no longer
matches the run's prediction is stale: not used, and a warning says to rerun ``workbench judge``.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.judge.agreement import cohen_kappa
from workbench.judge.cache import answer_sha
from workbench.judge.protocols import PROTOCOLS
from workbench.scoring.aggregate import aggregate_items

FIELDS = {"failure": ["judge_failure"], "match": ["judge_match"],
          "relative": ["judge_relative_reference", "judge_relative_model"]}


def lexical_label(protocol: str, task: str, metrics: dict) -> int | None:
    """The lexical scorer's 0/1 answer to the protocol's question, or None."""
    if protocol == "failure":
        return metrics.get("failure")
    if protocol == "match":
        if task == "recipe":
            return metrics.get("dish_accuracy")
        if task == "diagnosis":
            return int(bool(metrics.get("crop_accuracy")) and bool(metrics.get("disease_accuracy")))
        if task == "pope":
            return metrics.get("correct")
    return None


def _kappa(protocol: str, task: str, items: list[dict]) -> dict:
    if protocol == "relative":
        return {"vs": None, "kappa": None, "n": 0, "reason": "relative scores are not binary"}
    key = FIELDS[protocol][0]
    pairs = [(m[key], lexical_label(protocol, task, m)) for m in (it["metrics"] for it in items)
             if m.get(key) is not None and lexical_label(protocol, task, m) is not None]
    kappa, reason = cohen_kappa([a for a, _ in pairs], [b for _, b in pairs])
    vs = {"failure": "failure", "match": {"recipe": "dish_accuracy", "diagnosis": "crop_accuracy & disease_accuracy",
                                          "pope": "correct"}.get(task)}[protocol]
    return {"vs": vs, "kappa": kappa, "n": len(pairs), "reason": reason}


def attach_judgements(scores: dict, run_dir, predictions: dict) -> dict:
    """Add every ``run_dir/judge_*.json`` of a known protocol to ``scores`` (in place); returns it."""
    by_id = {it["id"]: it for it in scores["items"]}
    judges = {}
    for name in PROTOCOLS:
        path = Path(run_dir) / f"judge_{name}.json"
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise WorkbenchError(f"{path}: not valid JSON ({exc}); delete it and rerun `workbench judge`") from None
        if data.get("eval_set", {}).get("manifest_sha256") != scores["eval_set"]["manifest_sha256"]:
            scores["warnings"].append(f"{path}: judged another eval set; rerun `workbench judge`")
            continue
        stale = 0
        for item in scores["items"]:
            item["metrics"].update({f: None for f in FIELDS[name]})
        for row in data["items"]:
            item = by_id.get(row["id"])
            if item is None or row["status"] != "ok":
                continue
            output = (predictions.get(row["id"]) or {}).get("output") or ""
            if row["answer_sha256"] != answer_sha(output):
                stale += 1
                continue
            item["metrics"].update(row["fields"])
        if stale:
            scores["warnings"].append(f"{path}: {stale} judgement(s) are of answers the run no longer holds; "
                                      "rerun `workbench judge`")
        tasks = sorted({it["task"] for it in scores["items"]})
        kappas = {}
        for task in tasks:
            items = [it for it in scores["items"] if it["task"] == task]
            agg = aggregate_items(task, items)
            scores["aggregate"][f"{task}/judge_{name}"] = agg.get(f"{task}/judge_{name}")
            kappas[task] = _kappa(name, task, items)
        status = [r["status"] for r in data["items"]]
        judges[name] = {"judge": data["judge"]["name"], "identity": data["judge"]["identity"],
                        "version": data["version"], "template_hash": data["template_hash"],
                        "last_run": data["counts"], "limit": data.get("limit"), "n_ok": status.count("ok"),
                        "n_failed": status.count("failed"), "n_skipped": status.count("skipped"), "n_stale": stale, "kappa": kappas}
    if judges:
        scores["judges"] = judges
    return scores

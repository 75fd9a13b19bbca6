"""Render the self-contained HTML ablation report from runs (and their comparison).

The HTML is one file: figures and item images are ``data:`` URIs, CSS and the small filter script
are inline, nothing is fetched at view time. Jinja2 autoescaping is on for every template, so
model outputs and eval-set text are always shown as text.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import statistics
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import jinja2
from markupsafe import Markup

from workbench.atomic import atomic_write
from workbench.compare import compare_loaded, load_scored_runs, write_compare
from workbench.compare.statistics import format_p
from workbench.compare.swaps import shown_pairs
from workbench.errors import WorkbenchError
from workbench.provenance import git_commit, package_versions
from workbench.report import examples as ex
from workbench.report import plots

# run.json fields shown first in the provenance table, in this order (prefix match on dotted keys)
PROVENANCE_FIRST = ["model", "checkpoint", "eval_set", "seed", "generation", "versions", "git",
                    "device", "started", "finished", "created", "duration"]


# ---------------------------------------------------------------- formatting (also used by tests)

def fmt_num(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "\u2014"
    value = float(value)
    if value != 0 and abs(value) < 0.0005:
        return f"{value:.1e}"   # tiny but not zero (e.g. BLEU-4 of short outputs): do not print 0.000
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3f}"


def fmt_delta(value) -> str:
    text = fmt_num(value)
    return text if value is None or value == 0 or text.startswith("-") or text == "\u2014" else "+" + text


def fmt_p(value) -> str:
    return format_p(value, missing="\u2014")


def _json_script(data) -> Markup:
    # safe inside <script type="application/json">: no '<', '>' or '&' survive, so no '</script>'
    text = json.dumps(data, indent=1, allow_nan=False)
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(text)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("workbench.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=fmt_num, delta=fmt_delta, pval=fmt_p, json_script=_json_script,
                       raw=lambda v: "" if v is None else repr(float(v)))
    return env


# ---------------------------------------------------------------- sections

def n_label(entry: dict) -> str:
    """The n of a summary row: the task's items, or "44 of 200" when the metric was scored on fewer of them
    (``healthy_false_alarm`` on healthy leaves only), "120 / 180 of 200" when that differs between the runs."""
    n, scored = entry["n"], entry.get("n_scored")
    if not scored or all(c is None or c == n for c in scored):
        return str(n)
    a, b = (n if c is None else c for c in scored)
    return f"{a} of {n}" if a == b else f"{a} / {b} of {n}"


def _summary(es_tasks: dict[str, int], compare: dict) -> list[dict]:
    baseline = compare["baseline"]
    tasks = []
    for task, n in es_tasks.items():
        tables = []
        for comp in compare["comparisons"]:
            rows = [e | {"key": k, "n_label": n_label(e), "undefined": e.get("undefined")}
                    for k, e in comp["metrics"].items() if e["task"] == task]
            tables.append({"other": comp["other"], "rows": rows})
        if not tables or not tables[0]["rows"]:
            tasks.append({"name": task, "n": n, "tables": [], "plot": None})
            continue
        # plot: every run's value and CI per metric; the baseline's from the first comparison
        order = [baseline] + [c["other"] for c in compare["comparisons"]]
        panels = []
        for row in tables[0]["rows"]:
            key = row["key"]
            if "/" in row["metric"]:
                continue   # per-split POPE metrics stay in the table; the plot shows the pooled and mean ones
            if row["a"] is None and all(c["metrics"][key]["b"] is None for c in compare["comparisons"]):
                continue   # undefined for every run (e.g. METEOR not computed): nothing to draw
            values, cis, marks = [row["a"]], [row["a_ci"]], [""]
            for comp in compare["comparisons"]:
                e = comp["metrics"][key]
                values.append(e["b"])
                cis.append(e["b_ci"])
                marks.append("*" if e["significant"] else "")
            panels.append({"name": row["metric"], "better": row["better"], "values": values, "cis": cis,
                           "marks": marks})
        tasks.append({"name": task, "n": n, "tables": tables,
                      "plot": plots.metric_panels(order, panels) if panels else None})
    return tasks


def _failures(es, runs) -> dict:
    task_of = {item.id: item.task for item in es.items}
    n_task = Counter(task_of.values())
    counts: dict[tuple[str, str], list[int]] = {}
    for r, run in enumerate(runs):
        for it in run.scores["items"]:
            for reason in it.get("metrics", {}).get("failure_reasons") or []:
                counts.setdefault((task_of[it["id"]], str(reason)), [0] * len(runs))[r] += 1
    keys = sorted(counts, key=lambda k: (list(n_task).index(k[0]), -sum(counts[k]), k[1]))
    rows = [{"task": t, "reason": reason, "counts": counts[(t, reason)],
             "shares": [c / n_task[t] for c in counts[(t, reason)]]} for t, reason in keys]
    totals = []
    for task in n_task:
        failed = [sum(1 for it in run.scores["items"] if task_of[it["id"]] == task
                      and it.get("metrics", {}).get("failure")) for run in runs]
        totals.append({"task": task, "n": n_task[task], "failed": failed})
    plot = plots.failure_reasons([run.name for run in runs], [f"{t}: {r}" for t, r in keys],
                                 [counts[k] for k in keys]) if keys else None
    return {"rows": rows, "totals": totals, "plot": plot}


def _n_tokens(record: dict) -> int:
    n = record.get("n_tokens")
    return int(n) if isinstance(n, (int, float)) else len(str(record.get("output") or "").split())


def _lengths(es, runs) -> dict:
    tasks = list(dict.fromkeys(item.task for item in es.items))
    lengths = {t: [[] for _ in runs] for t in tasks}
    truncated = {t: [0] * len(runs) for t in tasks}
    for item in es.items:
        for r, run in enumerate(runs):
            rec = run.predictions.get(item.id)
            if rec is not None:
                lengths[item.task][r].append(_n_tokens(rec))
                truncated[item.task][r] += rec.get("finish") == "length"
    rows = []
    for t in tasks:
        for r, run in enumerate(runs):
            v = lengths[t][r]
            rows.append({"task": t, "run": run.name, "n": len(v),
                         "mean": statistics.fmean(v) if v else None,
                         "median": statistics.median(v) if v else None, "max": max(v) if v else None,
                         "truncated": truncated[t][r]})
    plot = plots.length_histograms([run.name for run in runs], tasks, lengths) if tasks else None
    return {"rows": rows, "plot": plot}


def _examples(es, runs) -> dict:
    items_by_run = [{it["id"]: it.get("metrics", {}) for it in run.scores["items"]} for run in runs]
    deltas, notes = {}, {}
    for item in es.items:
        d, note = ex.item_delta(item.task, items_by_run[0][item.id], items_by_run[1][item.id])
        deltas[item.id], notes[item.id] = d, note
    chosen, selection = ex.select(es.items, deltas)
    cards = []
    for item in chosen:
        kind = "win" if deltas[item.id] > 0 else "loss" if deltas[item.id] < 0 else "same"
        outputs = []
        for run, metrics in zip(runs, items_by_run):
            rec = run.predictions.get(item.id)
            m = metrics[item.id]
            outputs.append({"run": run.name, "output": None if rec is None else str(rec.get("output") or ""),
                            "finish": None if rec is None else rec.get("finish"),
                            "n_tokens": None if rec is None else _n_tokens(rec),
                            "failure_reasons": [str(x) for x in m.get("failure_reasons") or []],
                            "metrics": ex.metric_pairs(m)})
        cards.append({"id": item.id, "task": item.task, "kind": kind, "note": notes[item.id],
                      "delta": deltas[item.id], "prompt": item.prompt, "image": item.image,
                      "thumb": ex.thumbnail(item.image_path), "reference": ex.reference_rows(item.reference),
                      "outputs": outputs})
    return {"cards": cards, "selection": selection, "versus": (runs[1].name, runs[0].name),
            "tasks": list(dict.fromkeys(item.task for item in es.items))}


def _flatten(value, prefix="", depth=0) -> list[tuple[str, str]]:
    if isinstance(value, dict) and depth < 3:
        rows = []
        for k, v in value.items():
            rows += _flatten(v, f"{prefix}.{k}" if prefix else str(k), depth + 1)
        return rows
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return [(prefix, ", ".join(str(v) for v in value))]
    if isinstance(value, (dict, list)):
        return [(prefix, json.dumps(value, sort_keys=True))]
    return [(prefix, "" if value is None else str(value))]


def _provenance(runs) -> list[dict]:
    flat = []
    for run in runs:
        rows = dict(_flatten(run.record.to_dict()))
        # run.json repeats what a resume must match under "identity"; show each fact once
        flat.append({k: v for k, v in rows.items()
                     if not (k.startswith("identity.") and rows.get(k[len("identity."):]) == v)})
    keys = list(dict.fromkeys(k for f in flat for k in f))

    def rank(key):
        for i, p in enumerate(PROVENANCE_FIRST):
            if key.startswith(p):
                return i
        return len(PROVENANCE_FIRST)
    keys.sort(key=rank)   # stable: run.json order within a group
    rows = []
    for key in keys:
        values = [f.get(key, "\u2014") for f in flat]
        rows.append({"key": key, "cells": values, "differs": len(set(values)) > 1})
    return rows


def _workbench_info() -> dict:
    version = package_versions(("minigpt4-workbench",), python=False)["minigpt4-workbench"]
    return {"version": version or "not installed", "git_commit": git_commit(short=True, mark_dirty=False) or "unknown",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}


# ---------------------------------------------------------------- entry point

def _load_compare(compare, es, runs) -> dict:
    if isinstance(compare, (str, Path)):
        path = Path(compare)
        try:
            compare = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise WorkbenchError(f"{path}: cannot read compare.json ({exc}); rerun `workbench compare`") from None
    names = [run.name for run in runs]
    if compare.get("eval_set", {}).get("manifest_sha256") != es.manifest_sha256:
        raise WorkbenchError("compare.json was made on another eval-set manifest; rerun `workbench compare` "
                             "with these runs and this eval set")
    if [r["name"] for r in compare.get("runs", [])] != names or compare.get("baseline") != names[0]:
        raise WorkbenchError(f"compare.json compares {[r['name'] for r in compare.get('runs', [])]} with baseline "
                             f"{compare.get('baseline')!r}, not {names} with baseline {names[0]!r}; rerun "
                             f"`workbench compare` on the same runs, first run first")
    return compare


def _checkpoint(record) -> str:
    sha = record.checkpoint_sha256
    return f"checkpoint sha256 {str(sha)[:16]}…" if sha else "checkpoint sha256 not recorded"


def _judges(runs) -> list[dict]:
    """One row per (run, judge protocol) from scores.json's ``judges`` (``workbench judge``)."""
    rows = []
    for run in runs:
        for protocol, j in sorted((run.scores.get("judges") or {}).items()):
            kappas = [{"task": t, "vs": k["vs"], "kappa": k["kappa"], "n": k["n"], "reason": k["reason"]}
                      for t, k in sorted(j["kappa"].items())]
            rows.append({"run": run.name, "protocol": f"{protocol}.v{j['version']}", "judge": j["judge"],
                         "template_hash": j["template_hash"], "ok": j["n_ok"], "failed": j["n_failed"],
                         "skipped": j["n_skipped"], "limit": j.get("limit"), "stale": j["n_stale"], "kappas": kappas})
    return rows


def _swaps(compare: dict) -> list[dict]:
    """One row per (other run, accuracy) from compare.json's ``swaps`` (``workbench.compare.swaps``; absent in
    compare.json files written before it): the counts, the most common pairs and what is left out."""
    rows = []
    for comp in compare["comparisons"]:
        for key, entry in (comp.get("swaps") or {}).items():
            row = {"other": comp["other"], "key": key, "lost": entry["lost"], "won": entry["won"]}
            for side, said in (("lost", "other_said"), ("won", "baseline_said")):
                shown, more, more_items = shown_pairs(entry[f"{side}_pairs"], said)
                row[f"{side}_shown"] = [{"true": t, "said": n_said, "n": n} for t, n_said, n in shown]
                row[f"{side}_more"] = {"pairs": more, "n_items": more_items}
            rows.append(row)
    return rows


def build_context(es, runs, compare: dict) -> dict:
    es_tasks = dict(Counter(item.task for item in es.items))
    return {
        "model_labels": [run.record.model_label for run in runs],
        "checkpoints": [_checkpoint(run.record) for run in runs],
        "tasks_have_many_comparisons": len(compare["comparisons"]) > 1,
        "title": f"{' vs '.join(run.name for run in runs)} on {es.name}",
        "runs": runs, "run_names": [run.name for run in runs], "baseline": runs[0].name,
        "eval_set": {"name": es.name, "path": str(es.root), "manifest_sha256": es.manifest_sha256,
                     "n_items": len(es.items), "tasks": es_tasks},
        "method": compare["method"], "compare_created": compare.get("created"),
        "tasks": _summary(es_tasks, compare),
        "failures": _failures(es, runs), "lengths": _lengths(es, runs), "examples": _examples(es, runs),
        "provenance": _provenance(runs), "workbench": _workbench_info(), "compare": compare,
        "judges": _judges(runs), "swaps": _swaps(compare),
    }


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def render_html(context: dict) -> str:
    """The report page. Its Content-Security-Policy allows only data: images and the exact inline
    style and script below (by hash), so even a failure of escaping could not run or fetch anything."""
    env = _environment()
    css = env.get_template("style.css.j2").render()
    js = env.get_template("filter.js.j2").render()
    return env.get_template("report.html.j2").render(
        **context, css=Markup(css), js=Markup(js), csp={"style": _csp_hash(css), "script": _csp_hash(js)})


def write_report(es, runs, out_html, compare) -> Path:
    """Render loaded runs with their comparison (dict or compare.json path) to ``out_html``."""
    compare = _load_compare(compare, es, runs)
    html = render_html(build_context(es, runs, compare))
    return atomic_write(out_html, html)


def report_runs(run_dirs, eval_set, out_html, compare=None, n_resamples: int = 10000, seed: int = 0,
                aggregate=None, show_progress: bool = True, save_compare=None) -> tuple[Path, dict]:
    """The one flow of a report (``workbench report``, the pipeline's ablation, notebook 03): load and score the
    runs once (``load_scored_runs``), compare them unless ``compare`` (compare.json content or path from the same
    runs) is given, write the comparison to ``save_compare`` when asked, and render the HTML to ``out_html``.
    The first run is the baseline. -> (the HTML path, the compare.json content)."""
    es, runs = load_scored_runs(run_dirs, eval_set)
    if compare is None:
        compare = compare_loaded(es, runs, 0, n_resamples, seed, aggregate, show_progress)
        if save_compare is not None:
            write_compare(compare, save_compare)
    compare = _load_compare(compare, es, runs)
    return write_report(es, runs, out_html, compare), compare


def render_report(run_dirs, eval_set, out_html, compare=None, n_resamples: int = 10000, seed: int = 0,
                  aggregate=None, show_progress: bool = True) -> Path:
    """Write the HTML report comparing ``run_dirs`` (the first is the baseline) on ``eval_set``; see
    ``report_runs``."""
    return report_runs(run_dirs, eval_set, out_html, compare, n_resamples, seed, aggregate, show_progress)[0]

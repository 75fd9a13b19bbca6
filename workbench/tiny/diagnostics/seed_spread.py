"""The tiny model's seed spread: build at several seed offsets, evaluate each build on the held-out eval sets with
the workbench's own generate/score/compare, and record, per seed and per metric, stage 1, stage 2 and the paired
comparison, with the machine each build ran on (``models/tiny/seed_spread.json``).

Work folder layout, one folder per seed offset N (``workbench seed-spread`` writes it; any build can be laid out
so, e.g. with symbolic links)::

    WORK/seed<N>/model/         the build (build_summary.json, tiny-stage1.json, tiny-stage2.json, ...)
    WORK/seed<N>/runs/          <eval set>-stage1/, <eval set>-stage2/ (workbench generate), <eval set>-compare.json
    WORK/seed<N>/machine.json   where the build ran (``machine_info``)

The run folders are kept, so ``record_spread(..., rescore=True)`` re-scores the predictions with the current
scorers and recomputes the comparisons without rebuilding or regenerating. Reporting only: nothing here feeds back
into training or into which model ships (the shipped model is the seed-0 build, a rule fixed before the builds).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
from pathlib import Path

import torch

from workbench.errors import WorkbenchError
from workbench.evalsets import TASKS
from workbench.scoring.metric_info import headline
from workbench.tiny.diagnostics.heldout import EVAL_SETS

SPREAD_FILE = "seed_spread.json"   # in the model folder, beside card.md
FIX_SPREAD = ("restore the shipped record with `git checkout -- {path}`, or write it again with `workbench seed-spread "
              "--seeds ... --work <folder of the seed builds>`")
SHIPPED_SEED = 0
SHIPPING_RULE = ("the demo ships the seed-0 build (rule fixed before the seed builds; held-out results never "
                 "choose the shipped model)")
TABLE_METRICS = [f"{task}/{m}" for task in TASKS for m in headline(task) if m != "steps_present"]


def machine_info(threads: int | None = None) -> dict:
    """The machine a build runs on: CPU model name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere), the
    kernel set torch dispatches to (``torch.backends.cpu.get_cpu_capability()``, e.g. ``AVX2``), torch version,
    torch intra-op thread count (``threads`` or ``torch.get_num_threads()``), logical CPUs and OS."""
    cpu = platform.processor() or None
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return {"cpu": cpu, "cpu_capability": torch.backends.cpu.get_cpu_capability(), "torch": torch.__version__,
            "threads": int(threads if threads is not None else torch.get_num_threads()),
            "logical_cpus": os.cpu_count(), "os": platform.platform()}


def seed_dir(work: Path, seed: int) -> Path:
    return Path(work) / f"seed{seed}"


def build_seed(work: Path, seed: int, eval_root: Path, scale: str = "full", threads: int | None = None,
               world=None, limit: int | None = None, stage2_only: bool = False) -> Path:
    """Build seed offset ``seed`` into ``WORK/seed<N>/model`` (unless already built), write ``machine.json``, and
    run the held-out eval (first ``limit`` items; all when None) into ``WORK/seed<N>/runs`` (unless its
    comparisons are there). ``stage2_only``: redo curation and stage 2 of the finished build with this code's
    stage-2 settings (``rebuild_stage2``) and evaluate it afresh. Returns the seed folder.
    Raises WorkbenchError when ``stage2_only`` finds no finished build there."""
    from workbench.tiny.build.build import build_finished, build_tiny, rebuild_stage2
    from workbench.tiny.build.config import get_config
    from workbench.tiny.diagnostics.heldout import add_heldout_eval

    folder = seed_dir(work, seed)
    model = folder / "model"
    if stage2_only:
        rebuild_stage2(model, world=world)
        for path in _compare_paths(folder).values():   # stale: the stage-2 runs are generated again below
            path.unlink()
    elif not build_finished(model):
        cfg = get_config(scale, seed, **({"threads": threads} if threads else {}))
        build_tiny(cfg, model, world=world, evaluate=True)
        (folder / "machine.json").write_text(json.dumps(machine_info(cfg.threads), indent=2) + "\n")
    if not _compare_paths(folder):
        add_heldout_eval(model, eval_root, folder / "runs", limit=limit)
    return folder


def _compare_paths(folder: Path) -> dict[str, Path]:
    runs = folder / "runs"
    return {name: runs / f"{name}-compare.json" for name in EVAL_SETS if (runs / f"{name}-compare.json").is_file()}


def rescore_seed(folder: Path, eval_root: Path, resamples: int = 2000) -> None:
    """Re-score the kept stage-1/stage-2 predictions of one seed folder with the current scorers
    (``workbench score``) and rewrite its comparisons (``workbench compare``, seed 0)."""
    from workbench.cli import main as cli

    for name in EVAL_SETS:
        eval_set, runs = Path(eval_root) / name, folder / "runs"
        stages = [runs / f"{name}-stage{s}" for s in (1, 2)]
        if not all((r / "predictions.jsonl").is_file() for r in stages):
            continue
        for run in stages:
            if cli(["score", "--eval-set", str(eval_set), "--predictions", str(run / "predictions.jsonl")]) != 0:
                raise WorkbenchError(f"{run}: workbench score failed; see the message above")
        if cli(["compare", *map(str, stages), "--eval-set", str(eval_set), "--out",
                str(runs / f"{name}-compare.json"), "--resamples", str(resamples)]) != 0:
            raise WorkbenchError(f"{runs}: workbench compare failed for {name}; see the message above")


def seed_record(folder: Path) -> dict:
    """One seed's entry: the machine and, per ``<task>/<metric>`` of its comparisons, ``{"stage1", "stage2",
    "delta", "ci", "p", "verdict", "ci_excludes_0"}``: ``verdict`` is compare's (permutation p < 0.05),
    ``ci_excludes_0`` is ``"better"`` / ``"worse"`` when the paired 95% bootstrap CI of stage 2 - stage 1 excludes 0
    (in the metric's direction; ``"changed"`` for a metric without one, such as POPE's yes_ratio), else ``"no"``."""
    compares = _compare_paths(folder)
    if not compares:
        raise WorkbenchError(f"{folder / 'runs'}: no <eval set>-compare.json; build and evaluate this seed first "
                             "(workbench seed-spread --build)")
    metrics = {}
    for name, path in compares.items():
        comp = json.loads(path.read_text())["comparisons"][0]
        for key, m in comp["metrics"].items():
            metrics[key] = {"stage1": m["a"], "stage2": m["b"], "delta": m["delta"], "ci": m["ci"], "p": m["p"],
                            "verdict": m["verdict"], "ci_excludes_0": _ci_direction(m), "eval_set": name}
    machine_path = folder / "machine.json"
    if machine_path.is_file():
        machine = json.loads(machine_path.read_text())
    else:
        summary = json.loads((folder / "model" / "build_summary.json").read_text())
        machine = {"cpu": None, "torch": None, "threads": summary["config"]["threads"],
                   "reason": "the build did not record its machine (built before seed_spread existed)"}
    return {"machine": machine, "metrics": metrics}


def _ci_direction(m: dict) -> str:
    ci = m.get("ci")
    if not ci or m["delta"] is None or not (ci[0] > 0 or ci[1] < 0):
        return "no"
    if m.get("better") == "neither":     # a metric without a direction (POPE's yes_ratio): it changed, no more
        return "changed"
    return "better" if (m["delta"] > 0) == (m.get("better", "higher") == "higher") else "worse"


def summarize(seeds: dict[str, dict]) -> dict:
    """Per metric across seeds: median, min and max of stage 1, stage 2 and the delta; on how many seeds stage 2
    is better / worse (changed, for a metric without a direction) with its paired 95% CI excluding 0, and n.
    Seeds where a value is null are left out of that value's statistics (``n`` counts the seeds that have it)."""
    keys = sorted({k for rec in seeds.values() for k in rec["metrics"]})
    out = {}
    for key in keys:
        entries = [rec["metrics"][key] for rec in seeds.values() if key in rec["metrics"]]
        out[key] = {field: _stats([e[field] for e in entries]) for field in ("stage1", "stage2", "delta")}
        out[key] |= {"n_seeds": len(entries), "n_better": sum(e["ci_excludes_0"] == "better" for e in entries),
                     "n_worse": sum(e["ci_excludes_0"] == "worse" for e in entries),
                     "n_changed": sum(e["ci_excludes_0"] == "changed" for e in entries)}
    return out


def _stats(values: list) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0, "reason": "undefined on every seed"}
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def record_spread(work: Path, seeds: list[int], out: Path, eval_root: Path | None = None,
                  rescore: bool = False) -> dict:
    """Collect ``WORK/seed<N>`` for every N in ``seeds`` into ``out`` (seed_spread.json); with ``rescore``, re-score
    the kept runs first (needs ``eval_root``). Raises WorkbenchError naming the folder when a seed is missing."""
    records = {}
    for seed in seeds:
        folder = seed_dir(work, seed)
        if rescore:
            rescore_seed(folder, eval_root)
        records[str(seed)] = seed_record(folder)
    result = {"shipped_seed": SHIPPED_SEED, "shipping_rule": SHIPPING_RULE, "eval_sets": list(EVAL_SETS),
              "comparison": ("workbench compare with 2,000 resamples per build (the README's table uses 10,000): "
                             "paired bootstrap 95% CI of stage 2 - stage 1 and permutation p; n_better / n_worse "
                             "(n_changed, for a metric without a direction) count the seeds whose CI excludes 0"),
              "seeds": records, "summary": summarize(records)}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return result


def spread_markdown(result: dict, metrics: list[str] | None = None) -> str:
    """The spread table: per metric, stage 1 and stage 2 as median [min, max] across seeds, and on how many seeds
    stage 2's paired 95% CI excludes 0 in the better (worse) direction."""
    summary = result["summary"]
    lines = ["| metric | stage 1 median [range] | stage 2 median [range] | Δ median [range] | seeds: stage 2 better "
             "(worse), CI excludes 0 |", "|---|---|---|---|---|"]
    for key in metrics or TABLE_METRICS:
        if key not in summary:
            continue
        s = summary[key]
        notes = f" (worse on {s['n_worse']})" if s["n_worse"] else ""
        notes += f" (changed on {s['n_changed']}, no direction)" if s["n_changed"] else ""
        notes += f"; undefined on {_n_undefined(s)}" if _n_undefined(s) else ""
        lines.append(f"| {key} | {_cell(s['stage1'])} | {_cell(s['stage2'])} | {_cell(s['delta'], True)} | "
                     f"{s['n_better']} of {s['n_seeds']}{notes} |")
    return "\n".join(lines)


def _n_undefined(s: dict) -> int:
    """On how many seeds a summary entry's Δ is null (a value undefined at stage 1 or stage 2)."""
    return s["n_seeds"] - s["delta"]["n"]


def _cell(stats: dict, signed: bool = False) -> str:
    if stats["median"] is None:
        return "-"
    f = "{:+.3f}" if signed else "{:.3f}"
    return f"{f.format(stats['median'])} [{f.format(stats['min'])}, {f.format(stats['max'])}]"


def holding(result: dict, metrics: list[str] | None = None) -> tuple[list[str], list[str]]:
    """(the metrics on which stage 2 is better with its paired 95% CI excluding 0 on every seed, the others),
    among ``metrics`` (default: the spread table's) that the record has; a metric without a direction never
    holds. Used for the claims the card makes."""
    keys = [k for k in (metrics or TABLE_METRICS) if k in result["summary"]]
    every = [k for k in keys if result["summary"][k]["n_better"] == result["summary"][k]["n_seeds"] > 0]
    return every, [k for k in keys if k not in every]


def _counts(key: str, s: dict) -> str:
    if s["n_changed"]:
        return f"{key} (changed on {s['n_changed']} of {s['n_seeds']})"
    notes = [f"worse on {s['n_worse']}"] if s["n_worse"] else []
    notes += [f"undefined on {_n_undefined(s)}"] if _n_undefined(s) else []
    return f"{key} ({s['n_better']} of {s['n_seeds']}{''.join(', ' + n for n in notes)})"


def _claims(result: dict) -> str:
    """One line per kind of claim: better on every build; on some builds; on none; no better direction (a metric
    that only changed); undefined on every build. Empty groups are left out."""
    every, others = holding(result)
    summary = result["summary"]
    undefined = [k for k in others if _n_undefined(summary[k]) == summary[k]["n_seeds"]]
    rest = [k for k in others if k not in undefined]
    groups = [("On some builds, not all", [k for k in rest if summary[k]["n_better"] and not summary[k]["n_changed"]]),
              ("On no build", [k for k in rest if not summary[k]["n_better"] and not summary[k]["n_changed"]]),
              ("No better direction", [k for k in rest if summary[k]["n_changed"]])]
    text = (f"Stage 2 is better than stage 1, with the CI excluding 0, on every build for: "
            f"{', '.join(every) or 'no metric'}.")
    text += "".join(f" {title}: {', '.join(_counts(k, summary[k]) for k in keys)}." for title, keys in groups if keys)
    return text + (f" Undefined on every build: {', '.join(undefined)}." if undefined else "")


def _machines(seeds: dict) -> str:
    """The machines of the builds, seeds with the same CPU, torch and thread count listed together."""
    groups: dict[str, list[str]] = {}
    for seed in sorted(seeds, key=int):
        m = seeds[seed]["machine"]
        what = f"{m.get('cpu') or 'CPU not recorded'}, torch {m.get('torch') or '?'}, {m.get('threads')} thread(s)"
        groups.setdefault(what, []).append(seed)
    return "; ".join(f"seed{'s' if len(v) > 1 else ''} {', '.join(v)}: {what}" for what, v in groups.items())


def card_section(result: dict) -> str:
    """The card's "Seed spread" section (markdown): the spread table, the shipping rule and the machines."""
    seeds = result["seeds"]
    return "\n".join([
        "## Seed spread: held-out stage 1 vs stage 2 across build seeds",
        f"Full builds at seed offsets {', '.join(sorted(seeds, key=int))} (`workbench seed-spread`; per-seed tables "
        "in `seed_spread.json`), each evaluated as above. Median [min, max] across seeds; Δ is each seed's stage 2 - "
        "stage 1, so its median is not the difference of the two medians. The last column counts "
        "the seeds on which stage 2's paired 95% CI excludes 0. "
        f"Shipped: {result['shipping_rule']}. Machines: {_machines(seeds)}.", "",
        spread_markdown(result), "", _claims(result)])


def read_spread(path: Path) -> dict:
    """A seed-spread record (``seed_spread.json``, as ``record_spread`` writes it). Raises WorkbenchError naming
    the file (and the line, for bad JSON) when it cannot be read, is not JSON, lacks ``seeds``/``summary`` or a
    seed lacks ``metrics``; the message says how to restore or rewrite it."""
    path = Path(path)
    fix = FIX_SPREAD.format(path=path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise WorkbenchError(f"{path}:{err.lineno}: not JSON ({err.msg}); {fix}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise WorkbenchError(f"{path}: cannot read it ({type(err).__name__}: {err}); {fix}") from None
    missing = [k for k in ("seeds", "summary") if not isinstance(record, dict) or k not in record]
    if missing:
        raise WorkbenchError(f"{path}: not a seed-spread record (no {', '.join(missing)}); {fix}")
    bad = [seed for seed, rec in record["seeds"].items() if not isinstance(rec, dict) or "metrics" not in rec]
    if bad:
        raise WorkbenchError(f"{path}: seed {bad[0]} has no metrics; {fix}")
    return record


def spread_by_row(record: dict) -> dict[tuple[str, str], dict]:
    """``{(eval set, "<task>/<metric>"): summary entry}`` of a seed-spread record, for the rows of a comparison
    table: the entry has ``delta`` (median, min, max, n across seeds), ``n_seeds``, ``n_better``, ``n_worse`` and
    ``n_changed`` (seeds whose paired 95% CI of stage 2 - stage 1 excludes 0)."""
    eval_set = {key: m["eval_set"] for seed in record["seeds"].values() for key, m in seed["metrics"].items()}
    return {(eval_set[key], key): entry for key, entry in record["summary"].items() if key in eval_set}

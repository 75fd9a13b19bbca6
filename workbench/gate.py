"""A regression gate for CI: is a run significantly worse than a baseline on any chosen metric?

The baseline is another run folder (compared item by item, as ``workbench compare`` does) or a pinned
``scores.json`` (a baseline run's scores kept in the repository, so CI need not regenerate the baseline).
A metric *regresses* when its paired comparison says "worse" in the metric's own direction (higher or lower
is better, as ``workbench.scoring.metric_info`` declares it; a metric declared with no better direction, such as
POPE's yes ratio, never regresses): the two-sided paired permutation test gives p < 0.05 and the difference
points the bad way. The 95% paired bootstrap CI of the difference is printed beside it. Metrics without
per-item data (no CI, no p) never fail the gate. Methods: ``workbench.compare``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from workbench.compare import ScoredRun, compare_loaded, load_scored_runs
from workbench.compare.statistics import declared_direction
from workbench.errors import WorkbenchError
from workbench.run_record import RunRecord
from workbench.scoring.scores import read_scores


@dataclass
class GateResult:
    compare: dict             # compare.json content, baseline first
    checked: list[str]        # metric keys the gate looked at
    regressed: list[str]      # those significantly worse than the baseline
    summary: str              # Markdown

    @property
    def exit_code(self) -> int:
        return 1 if self.regressed else 0


def _pinned_baseline(path: Path, es) -> ScoredRun:
    scores = read_scores(path)
    sha = (scores.get("eval_set") or {}).get("manifest_sha256")
    if sha != es.manifest_sha256:
        raise WorkbenchError(f"{path}: pinned scores were made on manifest sha256 {str(sha)[:12]}..., not "
                             f"{es.manifest_sha256[:12]}... of {es.root}; pin scores of a run on this eval set")
    ids = [it.get("id") for it in scores["items"]]
    if sorted(ids) != sorted(item.id for item in es.items):
        raise WorkbenchError(f"{path}: pinned scores cover {len(ids)} items, the run covers {len(es.items)}; "
                             "pin scores made with the same --limit as the run")
    record = RunRecord(run_dir=path.parent, eval_set=scores["eval_set"], model={"spec": f"pinned {path.name}"})
    return ScoredRun(name=f"pinned:{path.name}", path=path, record=record, predictions={}, scores=scores)


def _chosen(metrics: dict, patterns: list[str] | None) -> list[str]:
    keys = [k for k, e in metrics.items() if e.get("p") is not None]
    if not patterns:
        return keys
    chosen = [k for k in keys if any(fnmatch.fnmatchcase(k, p) for p in patterns)]
    unknown = [p for p in patterns if not any(fnmatch.fnmatchcase(k, p) for k in metrics)]
    if unknown:
        raise WorkbenchError(f"--metrics {' '.join(unknown)}: no such metric in this comparison; "
                             f"choose among {', '.join(sorted(metrics))}")
    return chosen


def _fmt(x, signed: bool = False) -> str:
    return "n/a" if x is None else (f"{x:+.3f}" if signed else f"{x:.3f}")


def markdown_summary(compare: dict, checked: list[str], regressed: list[str]) -> str:
    comp = compare["comparisons"][0]
    lines = [f"### workbench gate: {comp['other']} vs {comp['baseline']} on {compare['eval_set']['name']}", "",
             "| metric | better | baseline | run | Δ | 95% CI | p | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for key in checked:
        e = comp["metrics"][key]
        ci = f"[{_fmt(e['ci'][0], True)}, {_fmt(e['ci'][1], True)}]" if e.get("ci") else "n/a"
        verdict = "**REGRESSED**" if key in regressed else e["verdict"]
        p = "n/a" if e["p"] is None else f"{e['p']:.4f}"
        lines.append(f"| `{key}` | {e['better']} | {_fmt(e['a'])} | {_fmt(e['b'])} | {_fmt(e['delta'], True)} "
                     f"| {ci} | {p} | {verdict} |")
    lines.append("")
    if regressed:
        named = "; ".join(f"`{k}` Δ {_fmt(comp['metrics'][k]['delta'], True)} (95% CI "
                          f"{_fmt(comp['metrics'][k]['ci'][0], True)} to {_fmt(comp['metrics'][k]['ci'][1], True)})"
                          for k in regressed)
        lines.append(f"**FAIL**: {len(regressed)} of {len(checked)} metric(s) significantly worse: {named}")
    else:
        lines.append(f"**PASS**: none of {len(checked)} metric(s) is significantly worse than the baseline "
                     f"(paired permutation test, alpha {compare['method']['alpha']}).")
    return "\n".join(lines) + "\n"


def gate(run_dir, baseline, eval_set, metrics: list[str] | None = None, n_resamples: int = 10000,
         seed: int = 0, show_progress: bool = False) -> GateResult:
    """Compare ``run_dir`` with ``baseline`` (a run folder or a pinned scores.json) on ``eval_set``.

    ``metrics``: metric keys or shell patterns (``recipe/*``); default every metric with a p-value.
    Raises ``WorkbenchError`` for runs or pinned scores made on another eval set or other items.
    """
    baseline = Path(baseline)
    if baseline.is_file():
        es, (run,) = load_scored_runs([run_dir], eval_set, minimum=1)
        runs = [_pinned_baseline(baseline, es), run]
    else:
        es, runs = load_scored_runs([baseline, run_dir], eval_set)
    compare = compare_loaded(es, runs, 0, n_resamples, seed, show_progress=show_progress)
    entries = compare["comparisons"][0]["metrics"]
    checked = _chosen(entries, metrics)
    # direction from the metric's declaration; a direction-less metric ("changed") never regresses
    regressed = [k for k in checked if declared_direction(k) is not None and entries[k]["verdict"] == "worse"]
    return GateResult(compare, checked, regressed, markdown_summary(compare, checked, regressed))

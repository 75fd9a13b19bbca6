"""``reports/index.html``: the demo's front page, linking each eval set's report, comparison and notebooks.

It repeats the headline of every comparison (from the ``*.compare.json`` written beside each report), so a
reader sees stage 1 against stage 2 at a glance before opening a full report.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from markupsafe import Markup

from workbench.atomic import atomic_write
from workbench.evalsets import TASKS
from workbench.report.render import _environment
from workbench.scoring.metric_info import headline



def compare_path_for(report_html: Path) -> Path:
    """Where the pipeline keeps a report's statistics: ``<name>.html`` -> ``<name>.compare.json``."""
    return Path(report_html).with_suffix(".compare.json")


def _rel(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def headline_rows(compare: dict, spread: dict | None = None) -> list[dict]:
    """The headline metrics of each comparison in ``compare``, one dict per row (compare's entry + ``key``,
    ``baseline``, ``other``, and ``spread``: ``spread[key]``, the metric's seed-spread entry, or None)."""
    rows = []
    for comp in compare["comparisons"]:
        metrics = comp["metrics"]
        for task in TASKS:  # the headline metrics (their declarations) first; the rest is in the full reports
            for metric in headline(task):
                entry = metrics.get(f"{task}/{metric}")
                if entry is not None:
                    key = f"{task}/{metric}"
                    rows.append(entry | {"key": key, "baseline": comp["baseline"], "other": comp["other"],
                                         "spread": (spread or {}).get(key)})
    return rows


def write_index(out_html: Path, reports: dict[str, Path], notebooks: list[Path], *, models: list[str],
                seconds: float, settings: dict, spread: dict | None = None, spread_source: str = "") -> Path:
    """Write the front page to ``out_html``: one headline table per report in ``reports`` ({eval set name: html
    path}, each with its ``.compare.json`` beside it), links to ``notebooks``. ``spread``
    (``seed_spread.spread_by_row``) adds a column with the same comparison across build seeds, read from
    ``spread_source``. Raises OSError / JSONDecodeError when a compare.json is missing or torn."""
    out_html = Path(out_html)
    base = out_html.parent
    sections = []
    for name, report in reports.items():
        compare_path = compare_path_for(report)
        compare = json.loads(compare_path.read_text(encoding="utf-8"))
        sections.append({
            "name": name, "report": _rel(report, base), "compare": _rel(compare_path, base),
            "n_items": compare["eval_set"]["n_items"], "manifest": compare["eval_set"]["manifest_sha256"][:12],
            "rows": headline_rows(compare, {key: v for (es, key), v in (spread or {}).items() if es == name}),
        })
    env = _environment()
    html = env.get_template("index.html.j2").render(
        css=Markup(env.get_template("style.css.j2").render()),  # our own stylesheet, not data: not escaped
        sections=sections, models=models, seconds=seconds, settings=settings, spread_source=spread_source,
        spread_seeds=max((r["spread"]["n_seeds"] for sec in sections for r in sec["rows"] if r["spread"]), default=0),
        notebooks=[{"name": nb.name, "href": _rel(nb, base)} for nb in notebooks],
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    return atomic_write(out_html, html)

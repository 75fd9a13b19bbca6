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
from workbench.report.render import _environment

# Shown first on the front page; everything else is in the full reports.
HEADLINE = {
    "caption": ["failure_rate", "object_recall", "chair_i", "cider", "bleu_4"],
    "recipe": ["failure_rate", "dish_accuracy", "ingredient_f1", "steps_present"],
    "diagnosis": ["failure_rate", "disease_accuracy", "crop_accuracy", "treatment_recall", "healthy_false_alarm"],
    "pope": ["f1_mean", "accuracy_mean", "adversarial/f1", "yes_ratio", "neither_rate", "strict_f1_mean"],
}


def compare_path_for(report_html: Path) -> Path:
    """Where the pipeline keeps a report's statistics: ``<name>.html`` -> ``<name>.compare.json``."""
    return Path(report_html).with_suffix(".compare.json")


def _rel(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def headline_rows(compare: dict) -> list[dict]:
    rows = []
    for comp in compare["comparisons"]:
        metrics = comp["metrics"]
        for task, names in HEADLINE.items():
            for name in names:
                entry = metrics.get(f"{task}/{name}")
                if entry is not None:
                    rows.append(entry | {"key": f"{task}/{name}", "baseline": comp["baseline"],
                                         "other": comp["other"]})
    return rows


def write_index(out_html: Path, reports: dict[str, Path], notebooks: list[Path], *, models: list[str],
                seconds: float, settings: dict) -> Path:
    out_html = Path(out_html)
    base = out_html.parent
    sections = []
    for name, report in reports.items():
        compare_path = compare_path_for(report)
        compare = json.loads(compare_path.read_text(encoding="utf-8"))
        sections.append({
            "name": name, "report": _rel(report, base), "compare": _rel(compare_path, base),
            "n_items": compare["eval_set"]["n_items"], "manifest": compare["eval_set"]["manifest_sha256"][:12],
            "rows": headline_rows(compare),
        })
    env = _environment()
    html = env.get_template("index.html.j2").render(
        css=Markup(env.get_template("style.css.j2").render()),  # our own stylesheet, not data: not escaped
        sections=sections, models=models, seconds=seconds, settings=settings,
        notebooks=[{"name": nb.name, "href": _rel(nb, base)} for nb in notebooks],
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    return atomic_write(out_html, html)

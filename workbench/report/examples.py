"""Side-by-side examples for the report: which items to show (largest wins and losses first),
and each item's thumbnail as a data URI, reference as label/value pairs, and metrics per run."""

from __future__ import annotations

import base64
import io

from PIL import Image, UnidentifiedImageError

from workbench.errors import WorkbenchError

# Per-item metric that ranks wins and losses, first one present wins; failures count on top.
PRIMARY = {"caption": ["cider", "meteor", "object_recall"],
           "recipe": ["ingredient_f1", "ingredient_recall", "dish_accuracy"],
           "diagnosis": ["disease_accuracy", "treatment_recall", "crop_accuracy"],
           "pope": ["correct", "strict_correct"]}
SHOW_ALL_UP_TO = 150   # eval sets this small show every item
PER_KIND = 8           # otherwise per task: this many largest wins, losses, and unchanged items
THUMB = 160


def thumbnail(path) -> str:
    try:
        with Image.open(path) as im:
            im.load()
            rgb = im.convert("RGB")
    except (FileNotFoundError, UnidentifiedImageError, OSError) as exc:
        raise WorkbenchError(f"{path}: cannot read the image for the report ({exc}); "
                             f"run `workbench validate` on the eval set") from None
    rgb.thumbnail((THUMB, THUMB))
    buf = io.BytesIO()
    if rgb.width * rgb.height <= 64 * 64:
        rgb.save(buf, format="PNG", optimize=True)
        mime = "image/png"
    else:
        rgb.save(buf, format="JPEG", quality=82, optimize=True)
        mime = "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def primary_metric(task: str, metrics: dict) -> str | None:
    for name in PRIMARY.get(task, []):
        if isinstance(metrics.get(name), (int, float)):
            return name
    return None


def item_delta(task: str, base: dict, other: dict) -> tuple[float, str]:
    """(ranking delta, human description) of ``other`` vs ``base`` for one item's metrics."""
    parts, delta = [], 0.0
    name = primary_metric(task, base)
    if name and isinstance(other.get(name), (int, float)):
        d = float(other[name]) - float(base[name])
        delta += d
        if d:
            parts.append(f"{name} {d:+.3f}")
    fa, fb = base.get("failure", 0), other.get("failure", 0)
    if fa != fb:
        delta += 1.0 if fb < fa else -1.0   # a fixed failure outweighs any metric change
        parts.append("failure fixed" if fb < fa else "new failure")
    return delta, ", ".join(parts) or "no change"


def reference_rows(reference: dict) -> list[dict]:
    """[{"key", "value": str | list[str], "inline": bool}]; short lists read better on one line."""
    rows = []
    for key, value in reference.items():
        if isinstance(value, list):
            values = [str(v) for v in value] or ["(none)"]
            rows.append({"key": key, "value": values, "inline": all(len(v) <= 30 for v in values)})
        else:
            rows.append({"key": key, "value": str(value), "inline": True})
    return rows


def metric_pairs(metrics: dict) -> list[tuple[str, str]]:
    out = []
    for key, value in metrics.items():
        if key == "failure_reasons":
            continue
        if isinstance(value, float):
            out.append((key, f"{value:.3f}"))
        elif isinstance(value, (int, str, bool)):
            out.append((key, str(value)))
    return out


def select(items: list, deltas: dict[str, float]) -> tuple[list, str]:
    """Order (and, for big sets, pick) items: per task, wins (largest first), losses, then the rest."""
    by_task: dict[str, list] = {}
    for item in items:
        by_task.setdefault(item.task, []).append(item)
    chosen = []
    small = len(items) <= SHOW_ALL_UP_TO
    for task_items in by_task.values():
        wins = sorted([i for i in task_items if deltas[i.id] > 0], key=lambda i: -deltas[i.id])
        losses = sorted([i for i in task_items if deltas[i.id] < 0], key=lambda i: deltas[i.id])
        same = [i for i in task_items if deltas[i.id] == 0]
        if not small:
            wins, losses, same = wins[:PER_KIND], losses[:PER_KIND], same[:PER_KIND]
        chosen += wins + losses + same
    if small:
        note = f"all {len(items)} items"
    else:
        note = (f"{len(chosen)} of {len(items)} items: per task the {PER_KIND} largest wins, the {PER_KIND} "
                f"largest losses and {PER_KIND} unchanged items")
    return chosen, note

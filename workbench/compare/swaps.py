"""Which labels changed between two runs: the items one run named right and the other did not.

A difference in an accuracy says how many items changed, not which. For the scorers that read one label from an
answer (recipe: the dish; diagnosis: the crop and the disease), ``label_swaps`` counts, item by item on the same
eval set, the items the baseline got right and the other run got wrong ("lost"), by (true label, what the other
run said), and the items the other way ("won"), by (true label, what the baseline said). A said label of None means
the answer named none. ``won - lost`` is the accuracy difference (other - baseline) times the number of items, so
the table shows where a difference comes from, e.g. two look-alike dishes confused in opposite directions by the
two runs. compare.json keeps every pair; the printed summary and the report show the ``TOP`` most common.

Descriptive only: no test, no interval (the accuracy's own CI and p are in the metric rows of compare.json).
"""

from __future__ import annotations

from collections import Counter

# "<task>/<accuracy metric>" -> (per-item predicted-label field, per-item true-label field, reference key)
SWAPPED_LABELS = {
    "recipe/dish_accuracy": ("dish_pred", None, "dish"),
    "diagnosis/crop_accuracy": ("crop_pred", None, "crop"),
    "diagnosis/disease_accuracy": ("disease_pred", "disease_true", "disease"),
}
TOP = 5


def _rows(counter: Counter, said: str) -> list[dict]:
    return [{"true": true, said: named, "n": n} for (true, named), n in counter.most_common()]


def label_swaps(items, baseline: dict[str, dict], other: dict[str, dict]) -> dict:
    """Per accuracy in ``SWAPPED_LABELS`` present in the runs: ``{"lost": int, "won": int, "lost_pairs": [{"true",
    "other_said", "n"}, ...], "won_pairs": [{"true", "baseline_said", "n"}, ...]}``, every pair, most common first
    (ties in first-seen item order).

    ``items``: the eval set's ``EvalItem``s compared (``id``, ``task``, ``reference``); ``baseline`` / ``other``:
    item id -> that run's scores.json item (``{"metrics": {...}}``). Items missing from either run are skipped.
    Accuracies with no lost or won item are left out."""
    out = {}
    for key, (pred_field, true_field, ref_key) in SWAPPED_LABELS.items():
        task, metric = key.split("/")
        lost, won = Counter(), Counter()
        for item in items:
            if item.task != task or item.id not in baseline or item.id not in other:
                continue
            a, b = baseline[item.id]["metrics"], other[item.id]["metrics"]
            true = a.get(true_field) or item.reference.get(ref_key)   # a.get(None) is None: the reference
            if a.get(metric) == 1 and b.get(metric) == 0:
                lost[(true, b.get(pred_field))] += 1
            elif a.get(metric) == 0 and b.get(metric) == 1:
                won[(true, a.get(pred_field))] += 1
        if lost or won:
            out[key] = {"lost": sum(lost.values()), "won": sum(won.values()),
                        "lost_pairs": _rows(lost, "other_said"), "won_pairs": _rows(won, "baseline_said")}
    return out


def shown_pairs(pairs: list[dict], said: str, top: int = TOP) -> tuple[list[tuple], int, int]:
    """The ``top`` most common pairs as (true, said, n), said None -> "(none named)"; and how many pairs and items
    are left out."""
    shown = [(p["true"], "(none named)" if p[said] is None else p[said], p["n"]) for p in pairs[:top]]
    rest = pairs[top:]
    return shown, len(rest), sum(p["n"] for p in rest)


def format_swaps(swaps: dict, baseline: str, other: str, top: int = TOP) -> list[str]:
    """Plain-text lines for the compare command: one line per accuracy, then its most common swaps."""
    lines = []
    for key, s in swaps.items():
        lines.append(f"  {key}: {s['lost']} right in {baseline} and wrong in {other}, {s['won']} the other way")
        for verb, pairs, said, who in (("lost", s["lost_pairs"], "other_said", other),
                                       ("won", s["won_pairs"], "baseline_said", baseline)):
            shown, more, more_items = shown_pairs(pairs, said, top)
            if shown:
                text = ", ".join(f"{true} -> {named} ({n})" for true, named, n in shown)
                tail = f", and {more} more pair(s) ({more_items} item(s))" if more else ""
                lines.append(f"    {verb} (true -> what {who} said): {text}{tail}")
    return lines

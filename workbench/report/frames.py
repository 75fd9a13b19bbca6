"""pandas views of scores and comparisons, for notebooks (tables and quick plots shown inline)."""

from __future__ import annotations

from collections import Counter

import pandas as pd


def aggregate_frame(scores: dict) -> pd.DataFrame:
    """One row per ``<task>/<metric>`` of a scores.json."""
    rows = [{"task": key.split("/", 1)[0], "metric": key.split("/", 1)[1], "value": value}
            for key, value in scores["aggregate"].items()]
    return pd.DataFrame(rows).set_index(["task", "metric"])


def items_frame(scores: dict, predictions: dict | None = None) -> pd.DataFrame:
    """One row per item: its numeric metrics, its failure reasons and (if given) the model's output."""
    rows = []
    for item in scores["items"]:
        metrics = item["metrics"]
        row = {"id": item["id"], "task": item["task"],
               "failure_reasons": ", ".join(metrics.get("failure_reasons", []))}
        row.update({k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
        if predictions is not None:
            row["output"] = (predictions.get(item["id"]) or {}).get("output")
        rows.append(row)
    return pd.DataFrame(rows).set_index("id")


def failure_reason_counts(scores: dict) -> pd.Series:
    counts = Counter(reason for item in scores["items"] for reason in item["metrics"].get("failure_reasons", []))
    return pd.Series(counts, dtype="int64").sort_values(ascending=False)


def compare_frame(compare: dict) -> pd.DataFrame:
    """One row per (comparison, metric) of a compare.json: a, b, delta, CI, p, verdict, n, n_scored."""
    rows = []
    for comp in compare["comparisons"]:
        for key, e in comp["metrics"].items():
            ci = e.get("ci") or [None, None]
            rows.append({"baseline": comp["baseline"], "run": comp["other"], "metric": key, "a": e["a"],
                         "b": e["b"], "delta": e["delta"], "ci_low": ci[0], "ci_high": ci[1], "p": e["p"],
                         "verdict": e["verdict"], "n": e["n"], "n_scored": e.get("n_scored")})
    return pd.DataFrame(rows).set_index(["run", "metric"])


def plot_scores(scores: dict):
    """Two panels: rate-like aggregate metrics, and failure reasons. Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    agg = aggregate_frame(scores)["value"]
    rates = agg[(agg >= 0) & (agg <= 1)]
    rates = rates[[("/" not in m) for _, m in rates.index]]   # POPE's per-split metrics: in the table only
    reasons = failure_reason_counts(scores)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [3, 2]})
    left.barh([f"{t}/{m}" for t, m in rates.index], rates.values, color="#4C78A8")
    left.set_xlim(0, 1)
    left.set_title("aggregate metrics in [0, 1]")
    left.invert_yaxis()
    if len(reasons):
        right.barh(list(reasons.index), list(reasons.values), color="#E45756")
        right.invert_yaxis()
    right.set_title("failure reasons (items)")
    fig.tight_layout()
    return fig

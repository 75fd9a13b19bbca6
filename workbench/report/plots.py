"""Matplotlib figures for the report, returned as ``data:`` URIs (SVG, text drawn as paths),
so the HTML needs no other file and no font. Every function takes plain numbers, not runs."""

from __future__ import annotations

import base64
import io
import math

import matplotlib

matplotlib.use("Agg")  # noqa: E402  (no display; must precede pyplot)
import matplotlib.pyplot as plt  # noqa: E402

# Okabe-Ito: distinguishable with colour-blindness and in greyscale print (with the hatches below)
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
HATCHES = ["", "//", "..", "xx", "\\\\", "oo", "--", "++"]
STYLE = {"font.size": 9, "axes.titlesize": 9, "axes.spines.top": False, "axes.spines.right": False,
         "svg.fonttype": "path", "svg.hashsalt": "workbench"}


def _uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _grid(n_panels: int, cols: int, panel_w: float, panel_h: float):
    cols = max(1, min(cols, n_panels))
    rows = math.ceil(n_panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(panel_w * cols, panel_h * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def metric_panels(run_names: list[str], metrics: list[dict]) -> str:
    """One small panel per metric: a bar per run with its 95% bootstrap CI as an error bar.

    ``metrics``: [{"name", "better": "higher"|"lower", "values": [v per run], "cis": [[lo, hi] | None],
    "marks": ["" | "*" per run]}]. A '*' marks a run significantly different from the baseline."""
    with plt.rc_context(STYLE):
        fig, axes = _grid(len(metrics), 4, 2.6, 2.1)
        x = list(range(len(run_names)))
        for ax, m in zip(axes, metrics):
            values = [v if v is not None else 0.0 for v in m["values"]]
            lows = [v - ci[0] if ci else 0.0 for v, ci in zip(values, m["cis"])]
            highs = [ci[1] - v if ci else 0.0 for v, ci in zip(values, m["cis"])]
            bars = ax.bar(x, values, color=[PALETTE[i % len(PALETTE)] for i in x], edgecolor="#333333",
                          linewidth=0.5, yerr=[[max(0, d) for d in lows], [max(0, d) for d in highs]],
                          capsize=3, error_kw={"elinewidth": 1, "ecolor": "#222222"})
            for i, bar in enumerate(bars):
                bar.set_hatch(HATCHES[i % len(HATCHES)])
            top = max([v + h for v, h in zip(values, highs)] + [0.0])
            if top <= 1e-12:
                top = 1.0   # all zero: show the 0..1 scale of a rate rather than a 1e-9 axis
                ax.text(0.5, 0.5, "0 for every run", transform=ax.transAxes, ha="center", va="center",
                        color="#666666")
            for i, mark in enumerate(m["marks"]):
                if mark:
                    ax.text(i, values[i] + highs[i] + 0.03 * top, mark, ha="center", va="bottom", fontsize=11)
            ax.set_ylim(min(0.0, min(values)), top * 1.2)
            arrow = {"higher": "\u2191 better", "lower": "\u2193 better"}.get(m["better"], "no direction")
            ax.set_title(f"{m['name']} ({arrow})")
            ax.set_xticks(x, [_short(n) for n in run_names], rotation=0)
            ax.grid(axis="y", color="#dddddd", linewidth=0.5)
            ax.set_axisbelow(True)
        fig.tight_layout()
        return _uri(fig)


def failure_reasons(run_names: list[str], reasons: list[str], counts: list[list[int]]) -> str:
    """Horizontal grouped bars: how many items failed for each reason, per run (counts[reason][run])."""
    with plt.rc_context(STYLE):
        height = 0.8 / max(1, len(run_names))
        fig, ax = plt.subplots(figsize=(7.5, 0.35 * max(2, len(reasons)) * max(1, len(run_names) / 1.5) + 0.8))
        for r, name in enumerate(run_names):
            ys = [i + (r - (len(run_names) - 1) / 2) * height for i in range(len(reasons))]
            ax.barh(ys, [c[r] for c in counts], height=height, color=PALETTE[r % len(PALETTE)],
                    hatch=HATCHES[r % len(HATCHES)], edgecolor="#333333", linewidth=0.5, label=name)
        ax.set_yticks(range(len(reasons)), reasons)
        ax.invert_yaxis()
        ax.set_xlabel("items")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=min(4, len(run_names)), frameon=False)
        ax.grid(axis="x", color="#dddddd", linewidth=0.5)
        ax.set_axisbelow(True)
        fig.tight_layout()
        return _uri(fig)


def length_histograms(run_names: list[str], tasks: list[str], lengths: dict[str, list[list[int]]]) -> str:
    """One panel per task: the distribution of output lengths (tokens) for each run, as step lines."""
    with plt.rc_context(STYLE):
        fig, axes = _grid(len(tasks), 3, 3.4, 2.4)
        for ax, task in zip(axes, tasks):
            per_run = lengths[task]
            biggest = max([max(v) for v in per_run if v] + [1])
            # integer lengths: one bin per length when short, else 30 equal bins
            bins = [b - 0.5 for b in range(biggest + 2)] if biggest <= 40 else 30
            for r, values in enumerate(per_run):
                if values:
                    ax.hist(values, bins=bins, range=(0, biggest), histtype="step", linewidth=1.6,
                            color=PALETTE[r % len(PALETTE)], linestyle=["-", "--", ":", "-."][r % 4],
                            label=run_names[r])
            if not any(per_run):
                ax.text(0.5, 0.5, "no outputs", transform=ax.transAxes, ha="center", va="center", color="0.4")
            ax.set_title(task)
            ax.set_xlabel("output tokens")
            ax.set_ylabel("items")
            ax.yaxis.get_major_locator().set_params(integer=True)
        labelled = [ax for ax in axes if ax.get_legend_handles_labels()[0]]
        if labelled:   # the first panel with outputs carries the legend
            labelled[0].legend(frameon=False, fontsize=8)
        fig.tight_layout()
        return _uri(fig)


def _short(name: str, limit: int = 14) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "\u2026"

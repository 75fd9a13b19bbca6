"""Self-contained HTML ablation reports.

Public API::

    render_report(run_dirs, eval_set, out_html, compare=None) -> Path
"""

from workbench.report.render import render_report

__all__ = ["render_report"]

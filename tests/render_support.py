"""Shared fixture of the render tests: plots recorded instead of drawn."""

from __future__ import annotations

import pytest

from workbench.report import render


@pytest.fixture
def plots(monkeypatch):
    """Record what each plot is asked to draw instead of drawing it."""
    calls = {}
    for name in ("metric_panels", "failure_reasons", "length_histograms"):
        def record(*args, _name=name):
            calls.setdefault(_name, []).append(args)
            return f"data:{_name}"
        monkeypatch.setattr(render.plots, name, record)
    return calls

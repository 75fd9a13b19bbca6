"""A headless-Chromium screenshot of a report rendered from fixture runs: the page must render
(non-trivial PNG, more than one colour) with networking off. `make test` installs Chromium."""

from __future__ import annotations

import pytest
from PIL import Image

from test_report_fixtures import two_stage_runs
from workbench.report import render_report
from workbench.report.screenshot import find_chromium, screenshot

CHROMIUM = find_chromium()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (`make chromium` or "
                                             "`apt-get install chromium chromium-driver`)")
def test_report_screenshot(tmp_path):
    es, a, b = two_stage_runs(tmp_path)
    html = render_report([a, b], es, tmp_path / "report.html", n_resamples=500, show_progress=False)
    png = screenshot(html, tmp_path / "report.png")
    assert png.stat().st_size > 30_000
    with Image.open(png) as im:
        assert im.size == (1280, 2400)
        rgb = im.convert("RGB")
        assert len(rgb.getcolors(maxcolors=1 << 20) or range(1 << 20)) > 50   # not blank or one colour
        # the top of the page (title, run cards, summary table) has content, not just background
        top = rgb.crop((0, 0, 1280, 600)).convert("L")
        assert top.getextrema()[0] < 80

"""A headless-Chromium screenshot of a report rendered from fixture runs: the page must render
(non-trivial PNG, more than one colour) with networking off. `make test` installs Chromium."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from PIL import Image

from test_report_fixtures import two_stage_runs
from workbench.report import render_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (`make chromium` or "
                                             "`apt-get install chromium chromium-driver`)")
def test_report_screenshot(tmp_path):
    es, a, b = two_stage_runs(tmp_path)
    html = render_report([a, b], es, tmp_path / "report.html", n_resamples=500, show_progress=False)
    png = tmp_path / "report.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}", "--window-size=1280,2400",
           html.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert png.is_file(), f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"
    assert png.stat().st_size > 30_000
    with Image.open(png) as im:
        assert im.size == (1280, 2400)
        rgb = im.convert("RGB")
        assert len(rgb.getcolors(maxcolors=1 << 20) or range(1 << 20)) > 50   # not blank or one colour
        # the top of the page (title, run cards, summary table) has content, not just background
        top = rgb.crop((0, 0, 1280, 600)).convert("L")
        assert top.getextrema()[0] < 80

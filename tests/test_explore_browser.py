"""The explorer in a real JupyterLab, in headless Chromium: run 01_explore, click Generate, read both answers.

JupyterLab is started by the test (127.0.0.1, no token) on a copy of the notebook in a temporary folder; the
browser is the system ``chromium`` driven by Playwright (no browser download). The expected answers are
computed here directly with ``Explorer.answer`` (greedy decoding is deterministic). The screenshot is kept
as a test artifact in ``reports/screenshots/`` (git-ignored; the path is printed with ``pytest -s``), and so is a
screenshot of the page when a step times out.
Skipped when chromium or the playwright package is missing (``make chromium``; requirements.txt).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from workbench.pipeline import REPO_ROOT
from workbench.report.screenshot import find_chromium

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed (`make chromium`)")

MODELS = ["tiny-stage1", "tiny-stage2"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def lab(tmp_path):
    folder = tmp_path / "lab"
    folder.mkdir()
    shutil.copy(REPO_ROOT / "notebooks" / "01_explore.ipynb", folder)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime")}
    log = open(tmp_path / "jupyterlab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={folder}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"jupyterlab exited: {(tmp_path / 'jupyterlab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _normal(text: str) -> str:
    return " ".join(text.split())


def test_explorer_in_jupyterlab_shows_both_answers(lab, tmp_path):
    from workbench.explore import Explorer

    explorer = Explorer(MODELS, "synth-recipes")
    item = explorer.item(0)
    expected = {a.model: a.output for a in explorer.answer(item.image_path, item.prompt, max_new_tokens=120)}
    assert len(set(expected.values())) == 2  # the two checkpoints answer differently: each is identifiable

    artifacts = REPO_ROOT / "reports" / "screenshots"
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "01_explore.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(600_000)  # a shared 2-core machine loads two models slowly
        try:
            page.goto(f"{lab}/lab/tree/01_explore.ipynb")
            page.locator(".jp-Notebook").wait_for()
            # JupyterLab may ask which kernel to start (seen on one failure screenshot) or start the notebook's
            # own kernel directly (seen on another): answer the dialog only when it is there
            select = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
            try:
                select.wait_for(timeout=30_000)
                select.click()
            except sync_api.TimeoutError:
                pass  # no dialog: the kernel was started without asking
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()
            button = page.get_by_role("button", name="Generate")
            button.wait_for()
            button.click()
            widget_answers = page.locator(".widget-output .wb-answer")
            widget_answers.nth(1).wait_for()
        except Exception:
            page.screenshot(path=str(artifacts / "01_explore-failure.png"))
            print(f"\nfailure screenshot: {artifacts / '01_explore-failure.png'}")
            raise
        shown = [_normal(t) for t in widget_answers.all_inner_texts()]
        assert shown == [_normal(expected[m]) for m in MODELS]
        output = page.locator(".widget-output").first
        text = output.inner_text()
        assert all(m in text for m in MODELS) and "ingredients" in text and "metric (this item)" in text
        output.scroll_into_view_if_needed()
        widths = [box["width"] for box in (a.bounding_box() for a in widget_answers.all())]
        assert min(widths) > 300  # columns wide enough to read (at least 22em), not squeezed
        page.screenshot(path=str(shot), full_page=False)
        browser.close()
    print(f"\nexplorer screenshot: {shot}")
    assert shot.stat().st_size > 10_000

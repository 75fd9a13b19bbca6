"""Headless-Chromium screenshots of reports: what a reader sees, for tests and CI artifacts.

Chromium runs with networking off (the report must not need it) and a throwaway profile.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from workbench.errors import WorkbenchError

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def screenshot(html: str | Path, png: str | Path, width: int = 1280, height: int = 2400, timeout: int = 180) -> Path:
    chromium = find_chromium()
    if chromium is None:
        raise WorkbenchError("chromium is not installed; `make chromium` (Debian: apt-get install chromium)")
    png = Path(png)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        done = subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png.resolve()}",
             f"--window-size={width},{height}", Path(html).resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout)
    if not png.is_file():
        raise WorkbenchError(f"chromium wrote no screenshot of {html} (exit {done.returncode}): {done.stderr[-500:]}")
    return png

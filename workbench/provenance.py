"""Where a result came from: installed package versions and the git commit of this checkout.

The one reader of both, for run.json (``generation.runner``), scores.json (``scoring.scores``) and the report
(``report.render``). Neither raises: a package that is not installed has version None, and a checkout without
git (or outside a repository) has commit None.
"""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout holding the package


def package_versions(packages: tuple[str, ...], python: bool = True) -> dict[str, str | None]:
    """{"python": "3.11.7", package: version or None}; ``python=False`` leaves the interpreter out."""
    out: dict[str, str | None] = {"python": platform.python_version()} if python else {}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(short: bool = False, mark_dirty: bool = True) -> str | None:
    """HEAD of the repository holding this package (abbreviated with ``short``), with ``+dirty`` if tracked files
    changed and ``mark_dirty``; None without git or outside a repository."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", *(["--short"] if short else []), "HEAD"],
                              capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        if not mark_dirty:
            return head.stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None

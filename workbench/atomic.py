"""Write a file so that a reader (or a resume after ``kill -9``) sees the old file or the new one, never half.

Every artifact the workbench writes whole (run.json, merged predictions, scores.json, compare.json, reports,
checkpoints, vision-cache entries) goes through ``atomic_write``: a temporary file in the same folder, fsync,
``os.replace``, then fsync of the folder so the rename itself survives a crash.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. platforms that cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a folder; the rename is still atomic
    finally:
        os.close(fd)


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    fsync_dir(path.parent)
    return path


def atomic_write_json(path: str | Path, data, indent: int = 2) -> Path:
    """JSON with UTF-8 text kept readable; NaN/Infinity are refused (they are not JSON)."""
    return atomic_write(path, json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False) + "\n")

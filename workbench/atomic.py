"""Write a file so that a reader (or a resume after ``kill -9``) sees the old file or the new one, never half.

Every artifact the workbench writes whole (run.json, merged predictions, scores.json, compare.json, reports,
checkpoints, vision-cache entries) goes through ``atomic_write``: a temporary file in the same folder, fsync,
``os.replace``, then fsync of the folder so the rename itself survives a crash. The file gets the mode a
plain ``open(path, "w")`` would give (0666 less the user's umask), not ``mkstemp``'s owner-only 0600, so a
report copied to a web server or a shared folder stays readable.
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


def current_umask() -> int:
    """The process umask (read from /proc on Linux; elsewhere set and restored at once)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temp_file(path: Path, suffix: str = ".tmp") -> tuple[int, str]:
    """``mkstemp`` in ``path``'s folder, chmod-ed to 0666 less the umask (what ``open`` would create)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.fchmod(fd, 0o666 & ~current_umask())
    return fd, tmp


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_file(path)
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

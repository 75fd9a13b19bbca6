"""A fingerprint of a model folder's files (the LLM snapshot) that a resume can afford to compute.

What it covers: every regular file under the folder (weights, ``config.json``, ``generation_config.json``,
tokenizer files; hidden files and folders such as ``.cache/`` are skipped), each by
- its path relative to the folder and its size in bytes;
- for ``*.safetensors``, its header (tensor names, dtypes, shapes, offsets; read directly, a few KB);
- the sha256 of its bytes. Hashing a 14 GB Vicuna takes about a minute, so the content hash is cached
  per file by (absolute path, size, mtime in ns) in ``$WORKBENCH_CACHE_DIR`` (default
  ``$XDG_CACHE_HOME/minigpt4-workbench``, else ``~/.cache/minigpt4-workbench``) as ``file-sha256.json``.

So a file changed in place is caught by its size or mtime (then rehashed) and, for safetensors, also by
its header; what it does not catch is an edit that keeps the size and resets the mtime to the old
nanosecond value on purpose (delete ``file-sha256.json`` to force a full rehash).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

from workbench.atomic import atomic_write_json

CACHE_FILE = "file-sha256.json"


def cache_dir() -> Path:
    if os.environ.get("WORKBENCH_CACHE_DIR"):
        return Path(os.environ["WORKBENCH_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "minigpt4-workbench"


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def safetensors_header(path: Path) -> bytes:
    """The JSON header of a safetensors file (8-byte little-endian length, then the header)."""
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return b""
        (length,) = struct.unpack("<Q", head)
        return handle.read(min(length, 100 << 20))


class _ShaCache:
    def __init__(self):
        self.path = cache_dir() / CACHE_FILE
        try:
            self.entries = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.entries = {}  # absent or unreadable: every file is hashed (and the cache rewritten)
        self.changed = False

    def sha256(self, path: Path) -> str:
        stat = path.stat()
        key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        if key not in self.entries:
            self.entries[key] = file_sha256(path)
            self.changed = True
        return self.entries[key]

    def save(self) -> None:
        if self.changed:
            try:
                atomic_write_json(self.path, self.entries, indent=0)
            except OSError:
                pass  # a read-only cache folder only costs a rehash next time


def folder_fingerprint(folder: str | Path) -> str:
    """sha256 over (relative path, size, safetensors header, content sha256) of every file in ``folder``."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    cache = _ShaCache()
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(folder).as_posix()}:{path.stat().st_size}:".encode())
        if path.suffix == ".safetensors":
            digest.update(safetensors_header(path))
        digest.update(cache.sha256(path).encode())
    cache.save()
    return digest.hexdigest()

"""The run store: ``runs/<run>/run.json`` + ``predictions.jsonl`` + ``errors.jsonl`` (contract: README, *Contracts*).

run.json is read and written only through ``workbench.run_record.RunRecord``. Guarantees:
- **Durable, item by item.** Each prediction is one JSON line written, flushed and fsynced before the
  next item is reported done, so a run killed at any moment loses at most the line being written.
  On reopening, a torn last line (no newline, or not JSON) is cut off; a bad line before the end is an
  error naming the line (the file was edited by hand; nothing is guessed).
- **Resumable.** Ids already in the predictions file are skipped; reopening with a different model,
  generation config, seed or eval set is refused, because the folder would mix two experiments
  (``identity`` in run.json: the model's weights -- projection, frozen vision parts, LLM weight files --,
  template, generation settings, seed and the eval set's manifest). Each prediction keeps the sha256 of
  the image it was made from; ``replace`` takes answers out (to ``replaced.jsonl``) so they are redone.
- **One writer.** An OS lock (``fcntl.flock``) on ``.lock`` in the folder; the kernel drops it when the
  holder dies, so a lock left by a ``kill -9`` never blocks. A second writer gets a clear error.
- **Shardable.** ``shard=(process_index, num_processes)`` writes ``predictions.part-P-of-N.jsonl`` with
  its own lock, so ``accelerate launch`` processes can share a run folder; ``merge_shards`` then writes
  ``predictions.jsonl`` in eval-set order, deterministically.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
from pathlib import Path

from workbench.atomic import atomic_write
from workbench.errors import WorkbenchError
from workbench.run_record import (FINISH_VALUES, OPTIONAL_PREDICTION_KEYS, PREDICTION_KEYS, RUN_INFO, RunRecord,
                                  parse_jsonl, read_predictions)

__all__ = ["RunStore", "RunRecord", "merge_shards", "merge_if_complete", "read_predictions", "widest_limit"]

try:  # POSIX; elsewhere fall back to filelock (same semantics: released when the process dies)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

PREDICTIONS = "predictions.jsonl"
REPLACED = "replaced.jsonl"


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def shard_suffix(shard: tuple[int, int]) -> str:
    index, count = shard
    return "" if count == 1 else f".part-{index:03d}-of-{count:03d}"


def predictions_file(run_dir: str | Path, shard: tuple[int, int] = (0, 1)) -> Path:
    return Path(run_dir) / f"predictions{shard_suffix(shard)}.jsonl"


def errors_file(run_dir: str | Path, shard: tuple[int, int] = (0, 1)) -> Path:
    return Path(run_dir) / f"errors{shard_suffix(shard)}.jsonl"


def widest_limit(a: int | None, b: int | None) -> int | None:
    """A run resumed with another --limit covers the first max(limits) items (None: all of them)."""
    return None if a is None or b is None else max(a, b)


def _prediction_line(record: dict) -> dict:
    return {k: record[k] for k in PREDICTION_KEYS + OPTIONAL_PREDICTION_KEYS if k in record}


# ---- locking ------------------------------------------------------------------------------------------
class _FolderLock:
    """Non-blocking exclusive OS lock on a file; the holder's pid/host/time are written into it."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None
        self._filelock = None

    def acquire(self, what: str) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            import filelock
            self._filelock = filelock.FileLock(str(self.path) + ".filelock", timeout=0)
            try:
                self._filelock.acquire()
            except filelock.Timeout:
                raise WorkbenchError(self._busy_message(what, "another process")) from None
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self.path.read_text(encoding="utf-8", errors="replace").strip() or "another process"
            os.close(fd)
            raise WorkbenchError(self._busy_message(what, holder)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {now()}\n".encode())
        self._fd = fd

    def _busy_message(self, what: str, holder: str) -> str:
        return (f"{self.path.parent}: {what} is being written by {holder}; wait for it to finish "
                f"(rerunning then resumes) or choose another --out folder")

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._filelock is not None:  # pragma: no cover
            self._filelock.release()
            self._filelock = None


def _describe_difference(old: dict, new: dict, prefix: str = "") -> list[str]:
    diffs = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            diffs += _describe_difference(a, b, f"{prefix}{key}.")
        elif a != b:
            diffs.append(f"{prefix}{key}: run has {json.dumps(a)}, now {json.dumps(b)}")
    return diffs


def with_meta_lock(run_dir: Path, fn):
    """Run ``fn`` holding a short blocking lock, so shards create/update run.json one at a time."""
    if fcntl is None:  # pragma: no cover
        return fn()
    fd = os.open(Path(run_dir) / ".run.json.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fn()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# ---- writing ------------------------------------------------------------------------------------------
class RunStore:
    """Writer for one run folder (or one shard of it). Use as a context manager.

    ``identity`` holds what must not change across resumes (model, generation config, seed, eval set);
    ``info`` holds provenance recorded at creation (versions, git commit, device, ...).
    """

    def __init__(self, run_dir: str | Path, shard: tuple[int, int] = (0, 1)):
        index, count = shard
        if not (count >= 1 and 0 <= index < count):
            raise WorkbenchError(f"shard must be (process_index, num_processes) with 0 <= index < count, got {shard}")
        self.run_dir = Path(run_dir)
        self.shard = (int(index), int(count))
        self.predictions_path = predictions_file(self.run_dir, self.shard)
        self.errors_path = errors_file(self.run_dir, self.shard)
        self.done: dict[str, dict] = {}
        self.record: RunRecord | None = None
        self.resumed = False
        self.n_errors = 0
        self._lock = _FolderLock(self.run_dir / f".lock{shard_suffix(self.shard)}")
        self._pred_handle = None
        self._err_handle = None

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _with_meta_lock(self, fn):
        return with_meta_lock(self.run_dir, fn)

    def open(self, identity: dict, info: dict) -> RunRecord:
        """Lock the folder, create or check run.json, repair a torn predictions line, load done ids."""
        if self.run_dir.exists() and not self.run_dir.is_dir():
            raise WorkbenchError(f"{self.run_dir}: exists and is not a folder; choose another --out")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._lock.acquire("this run")
        try:
            identity = json.loads(json.dumps(identity))  # normalise tuples etc. as stored
            self.record = self._with_meta_lock(lambda: self._create_or_check(identity, info))
            for _, record in parse_jsonl(self.predictions_path, repair=True)[0]:
                self.done.setdefault(str(record["id"]), record)
            parse_jsonl(self.errors_path, repair=True)
            self._pred_handle = open(self.predictions_path, "a", encoding="utf-8")
            self._err_handle = open(self.errors_path, "a", encoding="utf-8")
        except BaseException:
            self.close()
            raise
        return self.record

    def _create_or_check(self, identity: dict, info: dict) -> RunRecord:
        path = self.run_dir / RUN_INFO
        if path.exists():
            existing = RunRecord.load(self.run_dir)
            if existing.identity != identity:
                diffs = "; ".join(_describe_difference(existing.identity, identity))
                raise WorkbenchError(
                    f"{path}: this run folder was made with different settings ({diffs}); "
                    "rerun with the original settings to resume it, or use a new --out folder")
            self.resumed = True
            existing.limit = widest_limit(existing.limit, info.get("limit"))
            existing.resumed_at.append(now())
            existing.ended_at = None
            existing.save()
            return existing
        if any(self.run_dir.glob("predictions*.jsonl")):
            raise WorkbenchError(f"{self.run_dir}: has predictions but no {RUN_INFO}; it was not made by "
                                 "'workbench generate' (or run.json was deleted): use a new --out folder")
        record = RunRecord.create(self.run_dir, identity, info)
        record.started_at = now()
        record.save()
        return record

    def _append(self, handle, record: dict) -> None:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())

    def append_prediction(self, record: dict) -> None:
        missing = [k for k in PREDICTION_KEYS if k not in record]
        if missing or record["finish"] not in FINISH_VALUES:
            raise ValueError(f"bad prediction record {record!r}")  # a programming error, not user input
        item_id = str(record["id"])
        if item_id in self.done:
            raise ValueError(f"prediction for {item_id!r} already written")
        self._append(self._pred_handle, _prediction_line(record))
        self.done[item_id] = record

    def replace(self, item_ids: list[str], reason: str) -> None:
        """Take ``item_ids``' predictions out of this shard's file so they are generated again.

        Nothing is lost: the old lines go to ``replaced.jsonl`` with ``reason`` and the time. The predictions
        file is rewritten atomically; a merged ``predictions.jsonl`` of a sharded run is removed (readers fall
        back to the shard files, and the last shard to finish merges again).
        """
        drop = set(item_ids)
        if not drop:
            return
        kept = [r for r in self.done.values() if str(r["id"]) not in drop]
        with open(self.run_dir / REPLACED, "a", encoding="utf-8") as handle:
            for item_id in item_ids:
                self._append(handle, {"replaced": self.done[item_id], "reason": reason, "time": now()})
        self._pred_handle.close()
        atomic_write(self.predictions_path, "".join(json.dumps(_prediction_line(r), ensure_ascii=False) + "\n"
                                                    for r in kept))
        self._pred_handle = open(self.predictions_path, "a", encoding="utf-8")
        self.done = {str(r["id"]): r for r in kept}
        merged = self.run_dir / PREDICTIONS
        if self.shard[1] > 1 and merged.exists():
            merged.unlink()

    def append_error(self, item_id: str, error: str) -> None:
        self._append(self._err_handle, {"id": item_id, "error": error, "time": now()})
        self.n_errors += 1

    def finish(self, summary: dict) -> RunRecord:
        """Record the end time and this shard's counts in run.json."""
        def update():
            record = RunRecord.load(self.run_dir)
            record.ended_at = now()
            record.shards[f"{self.shard[0]}/{self.shard[1]}"] = summary
            record.save()
            return record
        self.record = self._with_meta_lock(update)
        return self.record

    def close(self) -> None:
        for name in ("_pred_handle", "_err_handle"):
            handle = getattr(self, name)
            if handle is not None:
                handle.close()
                setattr(self, name, None)
        self._lock.release()


def merge_shards(run_dir: str | Path, num_processes: int, order: list[str]) -> Path:
    """Write ``predictions.jsonl`` from the shard files in ``order`` (eval-set order); returns its path.

    Call once, after every process has finished (e.g. after ``accelerator.wait_for_everyone()``).
    """
    run_dir = Path(run_dir)
    records: dict[str, dict] = {}
    for index in range(num_processes):
        for _, record in parse_jsonl(predictions_file(run_dir, (index, num_processes)))[0]:
            records.setdefault(str(record["id"]), record)
    target = run_dir / PREDICTIONS
    atomic_write(target, "".join(
        json.dumps(_prediction_line(records[item_id]), ensure_ascii=False) + "\n"
        for item_id in order if item_id in records))
    return target


def merge_if_complete(run_dir: str | Path, num_processes: int, order: list[str]) -> Path | None:
    """Merge the shard files once every shard holds all its items (item ``i`` -> shard ``i % N``).

    Each process calls this when it finishes; the last one to finish merges, so no barrier is needed.
    Returns the merged file, or None while some shard is incomplete (still running, or items failed).
    """
    run_dir = Path(run_dir)

    def attempt():
        for index in range(num_processes):
            have = {str(r.get("id")) for _, r in parse_jsonl(predictions_file(run_dir, (index, num_processes)))[0]}
            if not set(order[index::num_processes]) <= have:
                return None
        return merge_shards(run_dir, num_processes, order)

    return with_meta_lock(run_dir, attempt)

"""The run record (``run.json``) and the predictions reader: the only code that reads or writes either.

``RunRecord`` is a typed view of ``runs/<run>/run.json`` (run contract: README, *Contracts*): ``load`` checks the
schema version and the fields every step relies on, and refuses anything else with one line naming the
file and the fix; ``save`` writes it atomically. Steps after generation (scoring, compare, report) take the
loaded record; they never re-read the file.

A predictions line is ``{"id", "output", "n_tokens", "finish", "image_sha256"}``; ``finish`` is one of
``FINISH_VALUES``; ``image_sha256`` (sha256 of the image file's bytes when the answer was made) was added
with issue 16 and is absent from older runs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from workbench.atomic import atomic_write_json
from workbench.errors import WorkbenchError
from workbench.surrogates import replace_surrogates

RUN_INFO = "run.json"
SCHEMA_VERSION = 1
KNOWN_SCHEMAS = (1,)
PREDICTION_KEYS = ("id", "output", "n_tokens", "finish")
OPTIONAL_PREDICTION_KEYS = ("image_sha256", "boxes")  # boxes: MiniGPT-v2 grounding, parsed from the output
# Why generation stopped: "stop" = the template's end symbol or EOS; "length" = it ran to max_new_tokens.
FINISH_VALUES = ("stop", "length")

_FIELDS = ("identity", "model", "generation", "seed", "batch_size", "limit", "eval_set", "versions",
           "git_commit", "device", "command")
_TIMES = ("started_at", "ended_at", "resumed_at", "shards")


@dataclass
class RunRecord:
    """run.json as fields. ``identity`` holds what a resume must match (model, generation, seed, eval set);
    everything else is provenance. Keys this class does not name are kept in ``extra`` and written back."""

    run_dir: Path
    eval_set: dict = field(default_factory=dict)  # {"name", "root", "manifest_sha256", "n_items"}
    identity: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)   # {"spec", "card", "projection_sha256", ...}
    generation: dict = field(default_factory=dict)
    seed: int = 0
    batch_size: int | None = None
    limit: int | None = None           # the run covers the eval set's first ``limit`` items (None: all)
    versions: dict = field(default_factory=dict)
    git_commit: str | None = None
    device: str | None = None
    command: str | None = None
    extra: dict = field(default_factory=dict)
    started_at: str | None = None
    ended_at: str | None = None
    resumed_at: list = field(default_factory=list)
    shards: dict = field(default_factory=dict)
    schema: int = SCHEMA_VERSION

    @property
    def path(self) -> Path:
        return Path(self.run_dir) / RUN_INFO

    # ---- what downstream steps ask -------------------------------------------------------------
    @property
    def manifest_sha256(self) -> str:
        """The eval set's manifest sha256 the run was made on; ``WorkbenchError`` if not recorded."""
        sha = self.eval_set.get("manifest_sha256")
        if not isinstance(sha, str):
            raise WorkbenchError(f"{self.path}: records no eval_set.manifest_sha256, so it cannot be checked "
                                 "against the eval set; regenerate the run with 'workbench generate'")
        return sha

    def require_eval_set(self, eval_set, step: str) -> None:
        """Refuse (``WorkbenchError``, one line) when the run was not made on ``eval_set``'s manifest (compared by
        sha256). ``step`` names what the user asked for, as in "compare only runs made on the same eval set"."""
        if self.manifest_sha256 != eval_set.manifest_sha256:
            raise WorkbenchError(
                f"{self.path}: run was made on an eval set with manifest sha256 {self.manifest_sha256[:12]}..., "
                f"but {eval_set.root}/manifest.jsonl has sha256 {eval_set.manifest_sha256[:12]}...; {step} "
                f"(give the --eval-set the run was made on, or regenerate this run on {eval_set.root})")

    @property
    def checkpoint_sha256(self) -> str | None:
        """sha256 of the projection checkpoint file (``workbench generate``), else of its tensors."""
        for value in (self.model.get("projection_sha256"),
                      (self.identity.get("model") or {}).get("projection_weights_sha256")):
            if isinstance(value, str):
                return value
        return None

    @property
    def model_label(self) -> str:
        """The model as the user named it (preset or card path)."""
        spec = self.model.get("spec")
        return spec if isinstance(spec, str) else json.dumps(self.model, sort_keys=True)

    # ---- reading and writing -------------------------------------------------------------------
    @classmethod
    def create(cls, run_dir: str | Path, identity: dict, info: dict) -> "RunRecord":
        """A new record from the generator's ``identity`` and provenance ``info`` (unknown keys -> extra)."""
        known = {k: info[k] for k in _FIELDS if k in info and k != "identity"}
        extra = {k: v for k, v in info.items() if k not in _FIELDS and k not in _TIMES}
        return cls(run_dir=Path(run_dir), identity=identity, extra=extra, **known)

    @classmethod
    def load(cls, run_dir: str | Path) -> "RunRecord":
        """Read ``run_dir/run.json``. Raises ``WorkbenchError`` (one line: file, problem, fix) when it is
        missing, not JSON, of a schema version this workbench does not read, or has fields of the wrong type."""
        path = Path(run_dir) / RUN_INFO
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise WorkbenchError(f"{path}: not found; is {run_dir} a run folder made by "
                                 "'workbench generate'?") from None
        except ValueError as exc:
            raise WorkbenchError(f"{path}: not valid JSON ({exc}); regenerate the run with "
                                 "'workbench generate' into a new --out folder") from None
        if not isinstance(data, dict):
            raise WorkbenchError(f"{path}: expected a JSON object; regenerate the run into a new --out folder")
        schema = data.get("schema")
        if schema not in KNOWN_SCHEMAS:
            raise WorkbenchError(
                f"{path}: run record schema {json.dumps(schema)} is not one this workbench reads "
                f"({', '.join(map(str, KNOWN_SCHEMAS))}); use the workbench version that wrote it, "
                "or regenerate the run into a new --out folder")
        for key in ("identity", "model", "generation", "eval_set", "versions", "shards"):
            if not isinstance(data.get(key, {}), dict):
                raise WorkbenchError(f"{path}: '{key}' must be a JSON object; regenerate the run")
        limit = data.get("limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise WorkbenchError(f"{path}: 'limit' must be a non-negative integer or null, got {limit!r}")
        known = {k: data[k] for k in _FIELDS + _TIMES if k in data}
        extra = {k: v for k, v in data.items() if k not in _FIELDS and k not in _TIMES and k != "schema"}
        return cls(run_dir=Path(run_dir), extra=extra, schema=schema, **known)

    def to_dict(self) -> dict:
        out = {"schema": self.schema}
        out.update({k: getattr(self, k) for k in _FIELDS})
        out.update(self.extra)
        out.update({k: getattr(self, k) for k in ("started_at", "ended_at", "resumed_at")})
        if self.shards:
            out["shards"] = self.shards
        return out

    def save(self) -> Path:
        """Write run.json atomically (a reader sees the old record or the new one, never half)."""
        return atomic_write_json(self.path, self.to_dict())


# ---- predictions ----------------------------------------------------------------------------------
def parse_jsonl(path: Path, repair: bool = False) -> tuple[list[tuple[int, dict]], int | None]:
    """(line number, record) for each JSON object line, and the number of a torn last line (or None).

    A torn last line (a write cut short: no newline, or not JSON) is dropped, and cut from the file when
    ``repair``. A bad line before the end raises ``WorkbenchError`` naming the line (nothing is guessed).
    """
    if not path.exists():
        return [], None
    data = path.read_bytes()
    records: list[tuple[int, dict]] = []
    offset = 0
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, start=1):
        is_last = number == len(lines)
        line_end = offset + len(raw) + (0 if is_last else 1)
        if raw.strip():
            try:
                record = json.loads(raw)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                torn = is_last and repair  # complete JSON but no newline: the write may have been cut short
            except ValueError as exc:
                if not (is_last or all(not rest.strip() for rest in lines[number:])):
                    what = "invalid JSON" if isinstance(exc, json.JSONDecodeError) else "not a JSON object"
                    raise WorkbenchError(
                        f"{path}:{number}: {what} ({exc}); this line was not written by "
                        "workbench: fix or delete it, then rerun") from None
                torn = True
            if torn:
                if repair:
                    with open(path, "r+b") as handle:
                        handle.truncate(offset)
                        handle.flush()
                        os.fsync(handle.fileno())
                return records, number
            records.append((number, record))
        offset = line_end
    return records, None


def _check(record: dict) -> str | None:
    if not isinstance(record.get("id"), str) or not record["id"]:
        return "needs a non-empty string 'id'"
    if not isinstance(record.get("output"), str):
        return "needs a string 'output'"
    if record.get("finish") is not None and record["finish"] not in FINISH_VALUES:
        return f"'finish' must be one of {', '.join(FINISH_VALUES)}, got {record['finish']!r}"
    n = record.get("n_tokens")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
        return f"'n_tokens' must be a non-negative integer, got {n!r}"
    return None


def read_predictions_file(path) -> tuple[dict[str, dict], list[str]]:
    """-> (id -> record, warnings). A torn last line (interrupted write) is dropped with a warning; a
    duplicate id keeps the first line with a warning; lone UTF-16 surrogates are replaced with U+FFFD with a
    ``file:line`` warning (``workbench.surrogates``); any other malformed line raises ``WorkbenchError``
    naming ``file:line``."""
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"{path}: no such predictions file; pass RUN_DIR/predictions.jsonl "
                             "written by `workbench generate`")
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise WorkbenchError(f"{path}:{line}: not UTF-8 text") from None
    records, torn = parse_jsonl(path)
    warnings: list[str] = []
    out: dict[str, dict] = {}
    for number, record in records:
        record, replaced = replace_surrogates(record)
        if replaced:
            warnings.append(f"{path}:{number}: {replaced} lone UTF-16 surrogate(s) (unencodable text) replaced "
                            "with U+FFFD before scoring; fix the generator's output decoding")
        why = _check(record)
        if why:
            raise WorkbenchError(f"{path}:{number}: prediction {why}; each line is "
                                 '{"id", "output", "n_tokens", "finish"}')
        if record["id"] in out:
            warnings.append(f"{path}:{number}: duplicate prediction for id {record['id']!r}; the first is used")
            continue
        out[record["id"]] = record
    if torn is not None:
        warnings.append(f"{path}:{torn}: incomplete last line ignored (interrupted write?); "
                        "rerun `workbench generate` on the run folder to resume it")
    return out, warnings


def read_predictions(run_dir: str | Path) -> dict[str, dict]:
    """id -> prediction record of a run: ``predictions.jsonl``, or its shard files if not merged yet."""
    run_dir = Path(run_dir)
    main = run_dir / "predictions.jsonl"
    paths = [main] if main.exists() else sorted(run_dir.glob("predictions.part-*.jsonl"))
    if not paths:
        raise WorkbenchError(f"{main}: no predictions file; run 'workbench generate --out {run_dir}' first")
    out: dict[str, dict] = {}
    for path in paths:
        for item_id, record in read_predictions_file(path)[0].items():
            out.setdefault(item_id, record)
    return out

"""Read a ``predictions.jsonl`` (``{"id", "output", "n_tokens", "finish"}`` per line) with file:line errors."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.surrogates import replace_surrogates

FINISH_VALUES = ("stop", "length")


def _check(record) -> str | None:
    if not isinstance(record, dict):
        return "must be a JSON object"
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
    """-> (id -> record, warnings). A torn last line (interrupted write) is dropped with a warning;
    lone surrogates are replaced with U+FFFD with a warning (``workbench.surrogates``); any other
    malformed line raises ``WorkbenchError`` naming ``file:line``."""
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"{path}: no such predictions file; pass RUN_DIR/predictions.jsonl "
                             "written by `workbench generate`")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise WorkbenchError(f"{path}:{line}: not UTF-8 text") from None
    lines = text.split("\n")
    warnings: list[str] = []
    out: dict[str, dict] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if number == len(lines):
                warnings.append(f"{path}:{number}: incomplete last line ignored (interrupted write?); "
                                "rerun `workbench generate` on the run folder to resume it")
                continue
            raise WorkbenchError(f"{path}:{number}: invalid JSON ({exc.msg} at column {exc.colno}); "
                                 "fix or delete the line and rerun") from None
        record, replaced = replace_surrogates(record)
        if replaced:
            warnings.append(f"{path}:{number}: {replaced} lone UTF-16 surrogate(s) (unencodable text) replaced "
                            "with U+FFFD before scoring; fix the generator's output decoding")
        why = _check(record)
        if why:
            raise WorkbenchError(f"{path}:{number}: prediction {why}; each line is "
                                 '{"id", "output", "n_tokens", "finish"}') from None
        if record["id"] in out:
            warnings.append(f"{path}:{number}: duplicate prediction for id {record['id']!r}; the first is used")
            continue
        out[record["id"]] = record
    return out, warnings

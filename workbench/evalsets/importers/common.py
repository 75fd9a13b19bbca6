"""Write an eval-set folder (images copied in, manifest.jsonl, vocabulary/synonyms, card.md) and check it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from workbench.errors import WorkbenchError


def prepare_out(out, overwrite: bool) -> Path:
    """Check that ``out`` may be written (missing, empty, or ``overwrite``); nothing is changed until
    ``write_eval_set`` has built and validated the new set beside it."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise WorkbenchError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise WorkbenchError(f"{out}: folder exists and is not empty; choose a new --out or pass --overwrite")
    return out


def write_eval_set(out: Path, records: list[dict], sources: list[Path], card: str,
                   vocabulary: dict | None = None, synonyms: dict | None = None) -> Path:
    """``records`` are manifest lines whose ``image`` is the destination path under ``out``; ``sources``
    the files to copy there. The set is built in a new hidden sibling folder (``.<out>.partial-*``) and validated
    there; only a valid set replaces ``out`` (call ``prepare_out`` first). Raises ``WorkbenchError`` if it is not
    valid, leaving ``out`` as it was and no partial folder behind."""
    from workbench.evalsets.loader import validate_eval_set

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))   # never an existing folder
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)   # mkdtemp makes it private; the eval set gets a plain folder's permissions
    try:
        _write_files(tmp, records, sources, card, vocabulary, synonyms)
        problems = validate_eval_set(tmp)
        if problems:
            raise WorkbenchError(f"{out}: the imported eval set is invalid, nothing was written: "
                                 + "; ".join(map(str, problems[:5])))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out


def _write_files(out: Path, records, sources, card, vocabulary, synonyms) -> None:
    for record, source in zip(records, sources):
        dest = out / record["image"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (out / "manifest.jsonl").write_text(text, encoding="utf-8")
    if vocabulary is not None:
        (out / "vocabulary.json").write_text(json.dumps(vocabulary, indent=1, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
    if synonyms:
        (out / "synonyms.json").write_text(json.dumps(synonyms, indent=1, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    (out / "card.md").write_text(card, encoding="utf-8")


def counts_table(counts: dict[str, int], header: str) -> str:
    rows = [f"| {header} | items |", "|---|---|"]
    rows += [f"| {name} | {n} |" for name, n in sorted(counts.items())]
    return "\n".join(rows)


def read_json(path, what: str):
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkbenchError(f"{path}: not found ({what})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise WorkbenchError(f"{path}: not valid JSON ({exc}); expected {what}") from None

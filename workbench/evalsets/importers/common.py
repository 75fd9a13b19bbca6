"""Write an eval-set folder (images copied in, manifest.jsonl, vocabulary/synonyms, card.md) and check it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from workbench.errors import WorkbenchError


def prepare_out(out, overwrite: bool) -> Path:
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise WorkbenchError(f"{out}: folder exists and is not empty; choose a new --out or pass overwrite")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_eval_set(out: Path, records: list[dict], sources: list[Path], card: str,
                   vocabulary: dict | None = None, synonyms: dict | None = None) -> Path:
    """``records`` are manifest lines whose ``image`` is the destination path under ``out``; ``sources``
    the files to copy there. Validates the result and raises ``WorkbenchError`` if it is not valid."""
    from workbench.evalsets.loader import validate_eval_set

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
    problems = validate_eval_set(out)
    if problems:
        raise WorkbenchError(f"{out}: the imported eval set is invalid: " + "; ".join(map(str, problems[:5])))
    return out


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

"""Read an eval-set folder, find every problem in it, and load it once it is valid.

``validate_eval_set`` never raises for bad data: it returns all problems, each naming file and line.
``load_eval_set`` raises one ``WorkbenchError`` listing them (exit code 2, like ``workbench validate``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from workbench.errors import WorkbenchError, json_error_text
from workbench.evalsets.schema import EvalItem, Problem, check_record, default_prompt
from workbench.surrogates import replace_surrogates

MANIFEST = "manifest.jsonl"
VOCABULARY = "vocabulary.json"
SYNONYMS = "synonyms.json"


@dataclass
class EvalSet:
    name: str
    root: Path
    items: list[EvalItem]
    manifest_sha256: str
    # object name -> synonyms. From vocabulary.json; without one, every caption object maps to [].
    vocabulary: dict[str, list[str]] = field(default_factory=dict)
    has_vocabulary_file: bool = False
    # optional synonyms.json: term -> synonyms for dishes, ingredients, crops, diseases, treatments
    synonyms: dict[str, list[str]] = field(default_factory=dict)
    # every item of the manifest, also in a head(limit): vocabularies come from the whole set
    all_items: list[EvalItem] | None = None
    # problems that do not stop scoring, as "manifest.jsonl:LINE: ..." lines (e.g. lone surrogates replaced)
    warnings: list[str] = field(default_factory=list)

    def by_id(self) -> dict[str, EvalItem]:
        return {item.id: item for item in self.items}

    def head(self, limit: int | None) -> "EvalSet":
        """The first ``limit`` items (what a run made with ``--limit`` covers); the manifest hash is unchanged."""
        if limit is None:
            return self
        return replace(self, items=self.items[:limit], all_items=self.all_items or self.items)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            out[item.task] = out.get(item.task, 0) + 1
        return out


def image_problem(root: Path, image: str) -> str | None:
    """Why the image file cannot be used (missing, outside the folder via a link, not decodable by
    ``workbench.images.decode_image``, the decoder ``generate`` uses)."""
    from workbench.images import DECODE_ERRORS, decode_image

    path = root / image
    if not path.exists():
        return f"image {image!r} does not exist (looked for {path})"
    if not path.is_file():
        return f"image {image!r} is not a file"
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return f"image {image!r} resolves outside the eval-set folder (symlink?); copy it inside"
    try:
        decode_image(path)
    except DECODE_ERRORS as exc:
        return f"image {image!r} cannot be decoded ({type(exc).__name__}: {exc}); replace the file"
    return None


def _read_vocabulary(root: Path, name: str = VOCABULARY) -> tuple[dict[str, list[str]] | None, list[Problem]]:
    """Read a ``{term: [synonyms]}`` file (vocabulary.json or synonyms.json); None if absent or invalid."""
    path = root / name
    if not path.exists():
        return None, []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        return None, [Problem(name, line, f"invalid JSON ({exc}); it must map object -> [synonyms]")]
    if not isinstance(data, dict):
        return None, [Problem(name, None, "must be a JSON object mapping object name -> [synonyms]")]
    problems = []
    owner: dict[str, str] = {}
    for term_name, synonyms in data.items():
        if not isinstance(synonyms, list) or not all(isinstance(s, str) and s.strip() for s in synonyms):
            problems.append(Problem(name, None,
                                    f"entry {term_name!r} must be a list of non-empty strings (its synonyms)"))
            continue
        for term in [term_name, *synonyms]:
            key = " ".join(term.lower().split())
            if key in owner and owner[key] != term_name:
                problems.append(Problem(name, None, f"term {term!r} is listed under both "
                                        f"{owner[key]!r} and {term_name!r}; keep it under one object"))
            owner.setdefault(key, term_name)
    return (data if not problems else None), problems


def _parse_manifest(root: Path, check_images: bool):
    """-> (records as (line, dict) of valid lines, problems, sha256 of the manifest bytes, warnings).

    Warnings do not make the set invalid: lone surrogates are replaced with U+FFFD and reported."""
    path = root / MANIFEST
    if not root.is_dir():
        return [], [Problem(str(root), None, "eval set folder does not exist; give a folder holding manifest.jsonl "
                                             "(`workbench import` makes one)")], "", []
    if not path.is_file():
        return [], [Problem(MANIFEST, None, f"missing; an eval set needs {path}")], "", []
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [Problem(MANIFEST, raw[:exc.start].count(b"\n") + 1, "is not UTF-8 text")], sha, []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    records = []
    first_line: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(MANIFEST, lineno, f"invalid JSON ({json_error_text(exc)})"))
            continue
        record, replaced = replace_surrogates(record)
        if replaced:
            warnings.append(Problem(MANIFEST, lineno, f"warning: {replaced} lone UTF-16 surrogate(s) (unencodable "
                                    "text) replaced with U+FFFD; fix the escape in this line"))
        issues = check_record(record)
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            seen = first_line.setdefault(record["id"], lineno)
            if seen != lineno:
                issues.append(f"duplicate id {record['id']!r} (first used on line {seen})")
        if check_images and isinstance(record, dict) and isinstance(record.get("image"), str) \
                and not any("image path" in m or "'image'" in m for m in issues):
            why = image_problem(root, record["image"])
            if why:
                issues.append(why)
        problems.extend(Problem(MANIFEST, lineno, m) for m in issues)
        if not issues:
            records.append((lineno, record))
    if not records and not problems:
        problems.append(Problem(MANIFEST, None, "has no items"))
    return records, problems, sha, warnings


def _scan(path, check_images: bool):
    root = Path(path)
    records, problems, sha, warnings = _parse_manifest(root, check_images)
    vocabulary, vocab_problems = _read_vocabulary(root) if root.is_dir() else (None, [])
    problems.extend(vocab_problems)
    synonyms, syn_problems = _read_vocabulary(root, SYNONYMS) if root.is_dir() else (None, [])
    problems.extend(syn_problems)
    if vocabulary is not None:
        known = {" ".join(t.lower().split()) for name, syns in vocabulary.items() for t in [name, *syns]}
        for lineno, record in records:
            if record["task"] != "caption":
                continue
            missing = [o for o in record["reference"]["objects"] if " ".join(o.lower().split()) not in known]
            if missing:
                problems.append(Problem(MANIFEST, lineno, f"reference.objects {missing} not in "
                                        f"{VOCABULARY}; add them there (with synonyms)"))
    problems.sort(key=lambda p: (p.file != MANIFEST, p.file, p.line or 0))
    return root, records, problems, sha, vocabulary, synonyms or {}, warnings


def validate_eval_set(path, check_images: bool = True) -> list[Problem]:
    """All problems of the eval set at ``path`` (empty list: valid). Never raises for bad data."""
    return _scan(path, check_images)[2]


def eval_set_warnings(path) -> list[Problem]:
    """What is wrong with the eval set but does not stop its use (text repaired on reading)."""
    return _scan(path, check_images=False)[6]


def load_eval_set(path, check_images: bool = True) -> EvalSet:
    """Load a valid eval set; raise ``WorkbenchError`` (exit code 2) naming every problem otherwise."""
    root, records, problems, sha, vocabulary, synonyms, warnings = _scan(path, check_images)
    if problems:
        shown = "; ".join(p.message if p.file == str(root) and p.line is None else str(p) for p in problems[:5])
        more = (f" (and {len(problems) - 5} more; run `workbench validate {root}` for the full list)"
                if len(problems) > 5 else "")
        raise WorkbenchError(f"{root}: invalid eval set: {shown}{more}", exit_code=2)
    items = [EvalItem(id=r["id"], task=r["task"], image=r["image"], image_path=root / r["image"],
                      prompt=r.get("prompt") or default_prompt(r["task"], r["reference"]),
                      reference=r["reference"])
             for _, r in records]
    has_file = vocabulary is not None
    if vocabulary is None:
        vocabulary = {}
        for item in items:
            if item.task == "caption":
                for obj in item.reference["objects"]:
                    vocabulary.setdefault(obj, [])
    return EvalSet(name=root.resolve().name, root=root, items=items, manifest_sha256=sha,
                   vocabulary=vocabulary, has_vocabulary_file=has_file, synonyms=synonyms,
                   warnings=[f"{root / w.file}:{w.line}: {w.message.removeprefix('warning: ')}" for w in warnings])

"""The eval-set contract as data: tasks, default prompts, item type, and per-record checks.

A manifest line is one JSON object::

    {"id": str, "task": "caption"|"recipe"|"diagnosis"|"pope", "image": "images/x.png",
     "prompt": str (optional), "reference": {...task-specific...}, "meta": {...} (optional, free-form)}

``check_record`` returns every problem of one parsed line as short messages; it never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

TASKS = ("caption", "recipe", "diagnosis", "pope")

# Pinned text: a prompt change changes every number, so tests snapshot these strings.
DEFAULT_PROMPTS = {
    "caption": "Describe this image in detail.",
    "recipe": "How can I make this dish? List the ingredients and the steps.",
    "diagnosis": "What is wrong with this plant leaf, and how should I treat it?",
    "pope": "Is there a {object} in the image?",  # POPE main.py's --template; filled from the reference
}

HEALTHY = "healthy"

# reference field -> (kind, must be non-empty) per task; kind "str" or "list[str]"
REFERENCE_FIELDS = {
    "caption": {"captions": ("list[str]", True), "objects": ("list[str]", False)},
    "recipe": {"dish": ("str", True), "ingredients": ("list[str]", True), "steps": ("list[str]", False)},
    "diagnosis": {"crop": ("str", True), "disease": ("str", True), "treatments": ("list[str]", False)},
    "pope": {"label": ("str", True), "object": ("str", True), "split": ("str", True)},
}
# reference field -> allowed values, where the field is a closed set
REFERENCE_CHOICES = {"pope": {"label": ("yes", "no"), "split": ("random", "popular", "adversarial")}}

TOP_LEVEL_FIELDS = {"id", "task", "image", "prompt", "reference", "meta"}


@dataclass(frozen=True)
class EvalItem:
    id: str
    task: str
    image: str
    image_path: Path
    prompt: str
    reference: dict = field(hash=False)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an eval set; ``str()`` is the line the CLI prints."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


def _type_name(value) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null",
            int: "number", float: "number"}.get(type(value), type(value).__name__)


def has_words(text: str) -> bool:
    """Whether ``text`` holds a word: a letter or digit in any script (what tokenizers keep)."""
    return any(c.isalnum() for c in text)


def image_path_problem(image: str) -> str | None:
    """Why ``image`` may not be used as a path inside the eval-set folder, or None."""
    if not image.strip():
        return "field 'image' is empty"
    if "\\" in image or PureWindowsPath(image).drive:
        return f"image path {image!r} must use '/' separators and no drive letter"
    p = PurePosixPath(image)
    if p.is_absolute():
        return f"image path {image!r} is absolute; give it relative to the eval-set folder"
    if ".." in p.parts:
        return f"image path {image!r} escapes the eval-set folder ('..'); keep images inside it"
    return None


def default_prompt(task: str, reference: dict) -> str:
    """The task's pinned prompt; POPE's is its question template filled with ``reference["object"]``."""
    if task != "pope":
        return DEFAULT_PROMPTS[task]
    obj = str(reference.get("object", ""))
    return DEFAULT_PROMPTS[task].replace("a {object}", f"{'an' if obj[:1].lower() in 'aeiou' else 'a'} {obj}")


def _check_reference(task: str, reference: dict) -> list[str]:
    problems = []
    spec = REFERENCE_FIELDS[task]
    for name, (kind, required_non_empty) in spec.items():
        if name not in reference:
            problems.append(f"reference for task {task!r} lacks field {name!r} "
                            f"(expected {', '.join(spec)})")
            continue
        value = reference[name]
        if kind == "str":
            if not isinstance(value, str):
                problems.append(f"reference.{name} must be a string, got {_type_name(value)}")
            elif required_non_empty and not value.strip():
                problems.append(f"reference.{name} is empty")
        else:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"reference.{name} must be a list of strings, got {_type_name(value)}"
                                if not isinstance(value, list) else
                                f"reference.{name} must contain only strings")
            elif required_non_empty and not [v for v in value if v.strip()]:
                problems.append(f"reference.{name} must not be empty")
            elif any(not v.strip() for v in value):
                problems.append(f"reference.{name} contains an empty string")
    unknown = sorted(set(reference) - set(spec))
    if unknown:
        problems.append(f"reference has unknown field(s) {', '.join(map(repr, unknown))} "
                        f"for task {task!r} (expected {', '.join(spec)})")
    for name, allowed in REFERENCE_CHOICES.get(task, {}).items():
        if isinstance(reference.get(name), str) and reference[name] not in allowed:
            problems.append(f"reference.{name} is {reference[name]!r}; expected one of {', '.join(allowed)}")
    if task == "caption" and isinstance(reference.get("captions"), list):
        for k, caption in enumerate(reference["captions"]):
            if isinstance(caption, str) and caption.strip() and not has_words(caption):
                problems.append(f"reference.captions[{k}] {caption!r} has no words (only punctuation or symbols); "
                                "caption metrics would average in an empty reference: write the caption or drop it")
    if task == "diagnosis" and isinstance(reference.get("disease"), str) \
            and reference["disease"].strip().lower() == HEALTHY \
            and isinstance(reference.get("treatments"), list) and reference["treatments"]:
        problems.append("a healthy leaf must have \"treatments\": []")
    return problems


def check_record(record) -> list[str]:
    """Every schema problem of one parsed manifest line (not the image file itself)."""
    if not isinstance(record, dict):
        return [f"a manifest line must be a JSON object, got {_type_name(record)}"]
    problems = []
    for name in ("id", "task", "image", "reference"):
        if name not in record:
            problems.append(f"missing field {name!r}")
    for name in ("id", "task", "image", "prompt"):
        if name in record and not isinstance(record[name], str):
            problems.append(f"field {name!r} must be a string, got {_type_name(record[name])}")
    if isinstance(record.get("id"), str) and not record["id"].strip():
        problems.append("field 'id' is empty")
    if isinstance(record.get("prompt"), str) and not record["prompt"].strip():
        problems.append("field 'prompt' is empty; leave it out to use the task's default prompt")
    if "meta" in record and not isinstance(record["meta"], dict):
        problems.append(f"field 'meta' must be an object, got {_type_name(record['meta'])}")
    unknown = sorted(set(record) - TOP_LEVEL_FIELDS)
    if unknown:
        problems.append(f"unknown field(s) {', '.join(map(repr, unknown))} "
                        f"(allowed: {', '.join(sorted(TOP_LEVEL_FIELDS))}; put extras under 'meta')")
    if isinstance(record.get("image"), str):
        why = image_path_problem(record["image"])
        if why:
            problems.append(why)
    task = record.get("task")
    if isinstance(task, str) and task not in TASKS:
        problems.append(f"unknown task {task!r} (known: {', '.join(TASKS)})")
    if "reference" in record:
        ref = record["reference"]
        if not isinstance(ref, dict):
            problems.append(f"field 'reference' must be an object, got {_type_name(ref)}")
        elif task in TASKS:
            problems.extend(_check_reference(task, ref))
    return problems

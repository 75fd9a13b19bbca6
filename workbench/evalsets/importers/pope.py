"""POPE eval sets: built from COCO instances with POPE's sampling, or read from POPE's released files.

``import_pope_coco(instances_json, images_dir, out, n_images=500, per_image=3, seed=0)``
    Choices, following RUCAIBox/POPE ``main.py``/``utils.py`` (see ``evalsets.pope_sampling``):
    - an image's objects are its distinct category names in the order of their first annotation in the
      instances file (POPE reads them from its segmentation file in stored order); the first ``per_image``
      are the present objects asked about;
    - only images with at least ``per_image`` categories are eligible; ``n_images`` of them are drawn with
      ``random.Random(seed).sample`` from the eligible ids in ascending order (all, in ascending order,
      when fewer are eligible: POPE asserts instead), then kept in ascending id order;
    - frequencies, co-occurrences and the random pool are counted over the chosen images only (as POPE);
    - each split draws its random fallbacks from its own ``random.Random(seed)``, so a split does not change
      when another is rebuilt;
    - questions use POPE's template with "an" before a vowel, as in the released files.
    Each image gives 2 * ``per_image`` items per split (half "yes"); ids are ``<split>-<image id>-<k>``.

``import_pope_questions(question_files, images_dir, out)``
    Reads POPE's released files as published (``coco_pope_random.json`` ...: JSON lines with
    ``question_id``, ``image``, ``text``, ``label``); the split is the file name's last ``_<split>`` part
    and the object is read back from the question text. Ids are ``<split>-<question_id>``.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

from workbench.errors import WorkbenchError, json_error_text
from workbench.evalsets.importers.common import prepare_out, read_json, write_eval_set
from workbench.evalsets.pope_sampling import co_occurrence, frequencies, question_text, questions_for_image
from workbench.scoring.pope import LABELS, SPLITS

QUESTION = re.compile(r"^Is there an? (?P<object>.+?) in the image\?$")


def coco_object_lists(instances: dict) -> dict[int, list[str]]:
    """image id -> distinct category names in first-annotation order."""
    names = {cat["id"]: cat["name"] for cat in instances["categories"]}
    objects: dict[int, list[str]] = {}
    for ann in instances["annotations"]:
        row = objects.setdefault(ann["image_id"], [])
        name = names[ann["category_id"]]
        if name not in row:
            row.append(name)
    return objects


def choose_images(object_lists: dict[int, list[str]], n_images: int, per_image: int, seed: int) -> list[int]:
    """POPE's image choice: ``n_images`` seeded draws among images with >= ``per_image`` objects."""
    eligible = sorted(i for i, objs in object_lists.items() if len(objs) >= per_image)
    if len(eligible) > n_images:
        eligible = random.Random(seed).sample(eligible, n_images)
    return sorted(eligible)


def pope_records(chosen: list[tuple[str, list[str]]], image_paths: dict[str, str], per_image: int, seed: int,
                 frequency: dict[str, int], co_occur: dict[str, list[str]]) -> list[dict]:
    """Manifest lines for every split: ``chosen`` is [(key, objects)], ``image_paths`` key -> manifest path."""
    records = []
    for split in SPLITS:
        rng = random.Random(seed)
        for key, objects in chosen:
            pairs = questions_for_image(objects, split, rng, frequency, co_occur, per_image)
            for k, (obj, label) in enumerate(pairs):
                records.append({"id": f"{split}-{key}-{k}", "task": "pope", "image": image_paths[key],
                                "prompt": question_text(obj),
                                "reference": {"label": label, "object": obj, "split": split}})
    return records


def _card(out, source: str, how: str, records: list[dict], skipped: str) -> str:
    counts = {s: sum(r["reference"]["split"] == s for r in records) for s in SPLITS}
    yes = sum(r["reference"]["label"] == "yes" for r in records)
    return f"""# {Path(out).name}: POPE object probing

- Source: {source}
- Licence: COCO annotations CC BY 4.0; images under their Flickr licences; POPE files MIT (RUCAIBox/POPE).
- Built by `workbench.evalsets.importers.pope`: {how}
- Items: {len(records)} ({', '.join(f'{s} {n}' for s, n in counts.items())}); {yes} labelled yes,
  {len(records) - yes} no; {skipped}.
- Scoring: `workbench.scoring.pope` (official first-sentence reading and a strict exact match).
- Known limits: COCO's 80 categories only; "absent" means "not annotated", and COCO misses some objects.
"""


def import_pope_coco(instances_json, images_dir, out, n_images: int = 500, per_image: int = 3, seed: int = 0,
                     overwrite: bool = False) -> Path:
    images_dir, out = _check_paths(images_dir, [instances_json], "--instances", out, overwrite)
    instances = read_json(instances_json, 'COCO instances {"images": [...], "categories": [...], "annotations": [...]}')
    try:
        files = {img["id"]: img["file_name"] for img in instances["images"]}
        object_lists = coco_object_lists(instances)
    except (KeyError, TypeError) as exc:
        raise WorkbenchError(f"{instances_json}: not in COCO instances format (missing {exc})") from None
    annotated = [i for i in object_lists if i in files]
    on_disk = {i: object_lists[i] for i in annotated if (images_dir / files[i]).is_file()}
    if annotated and not on_disk:
        raise WorkbenchError(f"{images_dir}: none of the {len(annotated)} annotated images of {instances_json} is "
                             f"here (looked for {files[annotated[0]]}, ...); give the folder holding its images")
    ids = choose_images(on_disk, n_images, per_image, seed)
    if not ids:
        raise WorkbenchError(f"{images_dir}: none of the {len(on_disk)} annotated images here has {per_image} or "
                             f"more annotated categories; lower --per-image or give more images")
    if len(ids) < n_images:
        verb = "has" if len(ids) == 1 else "have"
        print(f"warning: {len(ids)} of the {len(on_disk)} annotated images here {verb} {per_image} or more "
              f"categories, fewer than --n-images {n_images}; the set uses every one of them", file=sys.stderr)
    chosen = [(str(i), on_disk[i]) for i in ids]
    lists = [objs for _, objs in chosen]
    try:
        records = pope_records(chosen, {str(i): f"images/{files[i]}" for i in ids}, per_image, seed,
                               frequencies(lists), co_occurrence(lists))
    except ValueError as exc:   # the chosen images name too few categories to ask about absent ones
        fix = ("lower --per-image or give more images (every eligible image is already used)"
               if len(ids) < n_images else "choose more images (--n-images) or lower --per-image")
        raise WorkbenchError(f"{instances_json}: {exc} (among the {len(ids)} chosen images); {fix}") from None
    how = (f"{len(ids)} images (seed {seed}, at least {per_image} categories each, of {len(on_disk)} on disk), "
           f"{per_image} present + {per_image} absent objects per image and split; choices in the module docstring.")
    card = _card(out, f"`{instances_json}`, images from `{images_dir}`.", how, records,
                 f"{len(object_lists) - len(on_disk)} annotated image(s) not on disk were left out")
    by_path = {f"images/{files[i]}": images_dir / files[i] for i in ids}
    return write_eval_set(out, records, [by_path[r["image"]] for r in records], card)


def _split_of(path: Path) -> str:
    split = path.stem.rsplit("_", 1)[-1]
    if split not in SPLITS:
        raise WorkbenchError(f"{path}: cannot tell the split from the name; expected ..._<{'|'.join(SPLITS)}>.json "
                             f"as released (coco_pope_random.json)")
    return split


QUESTION_KEYS = ("question_id", "image", "text", "label")


def _question_line(path: Path, n: int, line: str) -> dict:
    """One line of a released file: a JSON object with ``QUESTION_KEYS`` (``text`` and ``image`` strings)."""
    expected = "POPE's files hold one JSON object per line with question_id, image, text, label"
    try:
        q = json.loads(line)
    except json.JSONDecodeError as exc:
        raise WorkbenchError(f"{path}:{n}: invalid JSON ({json_error_text(exc)}); {expected}") from None
    if not isinstance(q, dict):
        raise WorkbenchError(f"{path}:{n}: a JSON {type(q).__name__}, not an object; {expected}")
    missing = [k for k in QUESTION_KEYS if k not in q]
    if missing:
        raise WorkbenchError(f"{path}:{n}: missing {', '.join(missing)}; {expected}")
    wrong = [k for k in ("image", "text") if not isinstance(q[k], str)]
    if wrong:
        raise WorkbenchError(f"{path}:{n}: {', '.join(wrong)} must be a string; {expected}")
    return q


def read_pope_questions(path) -> list[dict]:
    """One POPE question file -> [{"question_id", "image", "text", "label", "object", "split"}]."""
    path = Path(path)
    split = _split_of(path)
    rows = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()   # a leading byte-order mark is allowed
    except OSError as exc:
        raise WorkbenchError(f"{path}: cannot read ({exc})") from None
    except UnicodeDecodeError as exc:
        raise WorkbenchError(f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                             "POPE's files are UTF-8 JSON lines: save it as UTF-8") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        q = _question_line(path, n, line)
        match = QUESTION.match(q["text"].strip())
        label = q["label"].strip().lower() if isinstance(q["label"], str) else q["label"]
        fields = (q["question_id"], q["image"], label)
        if not match or fields[2] not in LABELS:
            raise WorkbenchError(f"{path}:{n}: expected text 'Is there a(n) <object> in the image?' and label "
                                 f"yes/no, got {q['text']!r}, {q['label']!r}")
        rows.append({"question_id": fields[0], "image": fields[1], "text": q["text"].strip(), "label": fields[2],
                     "object": match["object"], "split": split})
    return rows


def _check_paths(images_dir, inputs, flag: str, out, overwrite: bool) -> tuple[Path, Path]:
    """Refuse missing inputs (the image folder and every ``flag`` file in ``inputs``, all named in one line) or an
    --out that may not be written, before any work (and any warning); returns the image folder and --out as
    paths."""
    images_dir = Path(images_dir)
    missing = [f"{path}: no such file ({flag})" for path in map(Path, inputs) if not path.is_file()]
    fixes = [f"{flag} {'existing files' if len(inputs) > 1 else 'an existing file'}"] if missing else []
    if not images_dir.is_dir():
        missing.insert(0, f"{images_dir}: no such folder (--images)")
        fixes.insert(0, "--images the folder holding the images")
    if missing:
        raise WorkbenchError(f"{'; '.join(missing)}; give {' and '.join(fixes)}")
    return images_dir, prepare_out(out, overwrite)


def import_pope_questions(question_files, images_dir, out, overwrite: bool = False) -> Path:
    images_dir, out = _check_paths(images_dir, question_files, "--questions", out, overwrite)
    records, sources, missing, seen = [], [], [], set()
    for path in question_files:
        for q in read_pope_questions(path):
            source = images_dir / q["image"]
            if not source.is_file():
                missing.append(source)
                continue
            rid = f"{q['split']}-{q['question_id']}"
            if rid in seen:
                raise WorkbenchError(f"{path}: question_id {q['question_id']} appears twice for split {q['split']}")
            seen.add(rid)
            records.append({"id": rid, "task": "pope", "image": f"images/{q['image']}", "prompt": q["text"],
                            "reference": {"label": q["label"], "object": q["object"], "split": q["split"]}})
            sources.append(source)
    skipped = len(missing)
    if not records and not missing:
        raise WorkbenchError(f"{', '.join(map(str, question_files))}: no questions in the file(s); POPE's files hold "
                             "one JSON object per line")
    if not records:
        raise WorkbenchError(f"{images_dir}: none of the {skipped} questions' images is here (looked for "
                             f"{missing[0].name}, ...); give the folder holding the images the files name "
                             "(val2014 for POPE's COCO files)")
    if missing:
        print(f"warning: {skipped} question(s) skipped: their image is not in {images_dir} (first: "
              f"{missing[0].name})", file=sys.stderr)
    card = _card(out, ", ".join(f"`{p}`" for p in question_files) + f"; images from `{images_dir}`.",
                 "POPE's released question files read as published (split from the file name, object "
                 "from the question).", records,
                 f"{skipped} question(s) skipped because their image was not on disk")
    return write_eval_set(out, records, sources, card)

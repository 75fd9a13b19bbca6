"""COCO captions (``captions_*.json`` + ``instances_*.json`` + image folder) -> caption eval set.

Each image becomes one item: its reference captions and, as ``objects``, the names of the categories
annotated on it in ``instances_*.json`` (CHAIR's instance labels; the objects its reference captions name are
added at scoring time, as Rohrbach et al. do). ``vocabulary.json`` holds COCO's 80 categories with the CHAIR
reference's synonyms (``workbench.scoring.hallucination.coco_synonyms``), plus any other category of the
instances file with no synonyms. Images are taken in ascending image id; ``limit`` keeps the first N.
"""

from __future__ import annotations

from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.evalsets.importers.common import counts_table, prepare_out, read_json, write_eval_set
from workbench.scoring.hallucination import coco_synonyms


def import_coco(captions_json, instances_json, images_dir, out, limit: int | None = None,
                overwrite: bool = False) -> Path:
    captions = read_json(captions_json, 'COCO captions {"images": [...], "annotations": [...]}')
    instances = read_json(instances_json, 'COCO instances {"categories": [...], "annotations": [...]}')
    images_dir = Path(images_dir)
    try:
        files = {img["id"]: img["file_name"] for img in captions["images"]}
        by_image: dict[int, list[str]] = {}
        for ann in captions["annotations"]:
            by_image.setdefault(ann["image_id"], []).append(ann["caption"].strip())
        names = {cat["id"]: cat["name"] for cat in instances["categories"]}
        objects: dict[int, set[str]] = {}
        for ann in instances["annotations"]:
            objects.setdefault(ann["image_id"], set()).add(names[ann["category_id"]])
    except (KeyError, TypeError) as exc:
        raise WorkbenchError(f"{captions_json} / {instances_json}: not in COCO annotation format "
                             f"(missing {exc})") from None
    ids = sorted(i for i in files if by_image.get(i))
    if limit is not None:
        ids = ids[:limit]
    records, sources = [], []
    missing = 0
    for image_id in ids:
        source = images_dir / files[image_id]
        if not source.is_file():
            missing += 1
            continue
        records.append({"id": f"coco-{image_id}", "task": "caption", "image": f"images/{files[image_id]}",
                        "reference": {"captions": by_image[image_id], "objects": sorted(objects.get(image_id, ()))}})
        sources.append(source)
    if not records:
        raise WorkbenchError(f"{images_dir}: none of the annotated images were found")
    vocabulary = coco_synonyms()
    vocabulary.update({name: [] for name in sorted(names.values()) if name not in vocabulary})
    counted: dict[str, int] = {}
    for r in records:
        for obj in r["reference"]["objects"]:
            counted[obj] = counted.get(obj, 0) + 1
    others = len(vocabulary) - len(coco_synonyms())
    extra = f", plus {others} other categories of the instances file without synonyms" if others else ""
    card = f"""# {Path(out).name}: COCO captions

- Source: `{captions_json}` (captions), `{instances_json}` (objects), images from `{images_dir}`.
- Licence: COCO annotations CC BY 4.0; images under their Flickr licences (see the COCO terms of use).
- Built by `workbench.evalsets.importers.import_coco`: images in ascending id{f', first {limit}' if limit else ''};
  objects = categories annotated in the instances file; vocabulary = COCO's 80 categories with the synonyms
  of the CHAIR reference (Rohrbach et al. 2018, LisaAnne/Hallucination `data/synonyms.txt`){extra}.
- Items: {len(records)} captions items, {sum(len(r['reference']['captions']) for r in records)} reference
  captions; {missing} annotated images were missing on disk and skipped.
- CHAIR's ground truth: these objects plus the objects named in each image's reference captions.
- Known limits: COCO objects are only the 80 categories; CHAIR cannot see anything else.

{counts_table(counted, 'object')}
"""
    out = prepare_out(out, overwrite)
    return write_eval_set(out, records, sources, card, vocabulary=vocabulary)

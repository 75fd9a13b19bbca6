"""COCO captions (``captions_*.json`` + ``instances_*.json`` + image folder) -> caption eval set.

Each image becomes one item: its 5 reference captions and, as ``objects``, the names of the categories
annotated in ``instances_*.json``. ``vocabulary.json`` holds the 80 category names with CHAIR-style
synonyms (``COCO_SYNONYMS``, a partial list in the spirit of Rohrbach et al.'s; extend it in the output
file as needed). Images are taken in ascending image id; ``limit`` keeps the first N.
"""

from __future__ import annotations

from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.evalsets.importers.common import counts_table, prepare_out, read_json, write_eval_set

COCO_SYNONYMS = {
    "person": ["people", "man", "men", "woman", "women", "boy", "girl", "child", "children", "kid", "kids",
               "guy", "lady", "player", "skier", "surfer", "skateboarder", "baby", "adult"],
    "bicycle": ["bike", "cycle"], "car": ["automobile", "sedan"], "motorcycle": ["motorbike", "motor bike"],
    "airplane": ["plane", "jet", "aircraft", "airliner"], "bus": ["double decker", "minibus"],
    "train": ["locomotive", "tram"], "truck": ["pickup", "lorry"], "boat": ["ship", "sailboat", "kayak", "canoe"],
    "traffic light": ["stop light", "traffic signal"], "fire hydrant": ["hydrant"], "stop sign": [],
    "parking meter": ["meter"], "bench": [], "bird": ["pigeon", "seagull", "duck", "parrot"], "cat": ["kitten"],
    "dog": ["puppy", "pup"], "horse": ["pony"], "sheep": ["lamb"], "cow": ["cattle", "calf", "bull"],
    "elephant": [], "bear": [], "zebra": [], "giraffe": [], "backpack": ["back pack"],
    "umbrella": ["parasol"], "handbag": ["purse", "hand bag"], "tie": ["necktie"], "suitcase": ["luggage"],
    "frisbee": [], "skis": ["ski"], "snowboard": [], "sports ball": ["ball", "football", "soccer ball"],
    "kite": [], "baseball bat": ["bat"], "baseball glove": ["glove", "mitt"], "skateboard": ["skate board"],
    "surfboard": ["surf board"], "tennis racket": ["racket", "racquet"], "bottle": [], "wine glass": [],
    "cup": ["mug"], "fork": [], "knife": [], "spoon": [], "bowl": [], "banana": [], "apple": [],
    "sandwich": ["burger", "sub"], "orange": [], "broccoli": [], "carrot": [], "hot dog": [],
    "pizza": [], "donut": ["doughnut"], "cake": ["cupcake"], "chair": ["stool"], "couch": ["sofa"],
    "potted plant": ["houseplant", "plant"], "bed": [], "dining table": ["table"], "toilet": [],
    "tv": ["television", "monitor"], "laptop": ["computer", "notebook"], "mouse": [],
    "remote": ["remote control", "controller"], "keyboard": [], "cell phone": ["phone", "cellphone", "smartphone"],
    "microwave": [], "oven": ["stove"], "toaster": [], "sink": [], "refrigerator": ["fridge"], "book": ["novel"],
    "clock": [], "vase": [], "scissors": [], "teddy bear": ["stuffed animal"], "hair drier": ["hair dryer",
    "hairdryer", "blow dryer"], "toothbrush": ["tooth brush"],
}


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
    vocabulary = {name: list(COCO_SYNONYMS.get(name, [])) for name in sorted(names.values())}
    counted: dict[str, int] = {}
    for r in records:
        for obj in r["reference"]["objects"]:
            counted[obj] = counted.get(obj, 0) + 1
    card = f"""# {Path(out).name}: COCO captions

- Source: `{captions_json}` (captions), `{instances_json}` (objects), images from `{images_dir}`.
- Licence: COCO annotations CC BY 4.0; images under their Flickr licences (see the COCO terms of use).
- Built by `workbench.evalsets.importers.import_coco`: images in ascending id{f', first {limit}' if limit else ''};
  objects = categories annotated in the instances file; vocabulary = the {len(names)} category names with
  CHAIR-style synonyms (partial list, extend `vocabulary.json` as needed).
- Items: {len(records)} captions items, {sum(len(r['reference']['captions']) for r in records)} reference
  captions; {missing} annotated images were missing on disk and skipped.
- Known limits: COCO objects are only the 80 categories; CHAIR cannot see anything else.

{counts_table(counted, 'object')}
"""
    out = prepare_out(out, overwrite)
    return write_eval_set(out, records, sources, card, vocabulary=vocabulary)

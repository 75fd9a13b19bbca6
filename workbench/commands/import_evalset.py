"""Make an eval set from data researchers already hold: COCO captions (+ instances for the object lists),
a PlantVillage-style folder tree plus a treatments CSV, a Food-101-style tree plus a recipes JSON, or POPE
yes/no questions (built from COCO instances, or POPE's released files).

examples:
  workbench import coco --captions captions_val2017.json --instances instances_val2017.json --images val2017/ --out eval_sets/coco-val
  workbench import plantvillage --help
  workbench import pope --instances instances_val2014.json --images val2014/ --out eval_sets/coco-pope
  workbench import pope --questions coco_pope_random.json coco_pope_popular.json --images val2014/ --out eval_sets/pope-released
"""

from __future__ import annotations

import argparse

from workbench.commands.argtypes import count

POPE_HELP = """POPE yes/no questions, from one of two sources (give exactly one):

  --instances: build them with POPE's sampling. Images with at least --per-image annotated categories are
  eligible; --n-images of them are drawn with --seed (all, with a warning, when fewer are eligible); each gets
  --per-image present and --per-image absent objects in three splits (random, popular, adversarial).
  --questions: read POPE's released files (coco_pope_<split>.json, one JSON object per line with question_id,
  image, text, label; the split comes from the file name). Format and choices: docs/scorers.md.

examples:
  workbench import pope --instances instances_val2014.json --images val2014/ --out eval_sets/coco-pope
  workbench import pope --questions coco_pope_random.json coco_pope_popular.json coco_pope_adversarial.json \\
      --images val2014/ --out eval_sets/pope-released
"""


def add_arguments(parser):
    sub = parser.add_subparsers(dest="format", required=True)
    p = sub.add_parser("coco", help="COCO captions_*.json + instances_*.json + image folder -> caption set")
    p.add_argument("--captions", required=True, help="captions_<split>.json (reference captions)")
    p.add_argument("--instances", required=True,
                   help="instances_<split>.json (true object lists and the CHAIR vocabulary)")
    p.add_argument("--images", required=True, help="folder holding the split's images")
    p.add_argument("--limit", type=count, help="only the first N images")
    p = sub.add_parser("plantvillage", help="<Crop>___<Disease>/ tree + treatments CSV -> diagnosis set")
    p.add_argument("--root", required=True, help="folder of <Crop>___<Disease>/ class folders (e.g. Tomato___Early_blight)")
    p.add_argument("--treatments", required=True,
                   help="CSV with columns disease,treatment (optional crop); one row per treatment")
    p.add_argument("--limit-per-class", type=count, help="at most N images per class folder")
    p = sub.add_parser("food101", help="Food-101 tree (images/, meta/test.txt) + recipes JSON -> recipe set")
    p.add_argument("--root", required=True, help="the food-101/ folder (images/<class>/..., meta/<split>.txt)")
    p.add_argument("--recipes", required=True,
                   help='JSON {"<class>": {"ingredients": [...], "steps": [...]}} for the classes to keep')
    p.add_argument("--limit-per-class", type=count, help="at most N images per class")
    p.add_argument("--split", default="test", help="meta/<split>.txt lists the images (default: test)")
    p = sub.add_parser("pope", help="COCO instances + images -> POPE yes/no set (3 splits), "
                                    "or POPE's released question files",
                       formatter_class=argparse.RawDescriptionHelpFormatter, description=POPE_HELP)
    p.add_argument("--images", required=True, help="folder holding the images")
    p.add_argument("--instances", help="instances_<split>.json: build the questions with POPE's sampling")
    p.add_argument("--questions", nargs="+", help="POPE's released files (coco_pope_random.json ...), read as published")
    p.add_argument("--n-images", type=count, default=500, help="images to sample (default 500, as POPE)")
    p.add_argument("--per-image", type=count, default=3, help="present (and absent) objects per image (default 3)")
    p.add_argument("--seed", type=int, default=0, help="seed of the image draw and random negatives (default 0)")
    for p in sub.choices.values():
        p.add_argument("--out", required=True, help="eval-set folder to write (manifest.jsonl, images/, card.md)")
        p.add_argument("--overwrite", action="store_true", help="replace an existing eval set at --out")


def _import_pope(args, importers):
    from workbench.errors import WorkbenchError

    if bool(args.instances) == bool(args.questions):
        raise WorkbenchError("import pope: give exactly one of --instances (build) or --questions (read)")
    if args.instances:
        return importers.import_pope_coco(args.instances, args.images, args.out, args.n_images, args.per_image,
                                          args.seed, args.overwrite)
    return importers.import_pope_questions(args.questions, args.images, args.out, args.overwrite)


def run(args) -> int:
    from workbench import evalsets
    from workbench.evalsets import importers

    if args.format == "coco":
        out = importers.import_coco(args.captions, args.instances, args.images, args.out, args.limit, args.overwrite)
    elif args.format == "plantvillage":
        out = importers.import_plantvillage(args.root, args.treatments, args.out, args.limit_per_class,
                                            args.overwrite)
    elif args.format == "pope":
        out = _import_pope(args, importers)
    else:
        out = importers.import_food101(args.root, args.recipes, args.out, args.limit_per_class, args.split,
                                       args.overwrite)
    es = evalsets.load_eval_set(out, check_images=False)
    print(f"wrote {out}: {len(es.items)} items (" + ", ".join(f"{t} {n}" for t, n in sorted(es.counts().items()))
          + ")")
    return 0

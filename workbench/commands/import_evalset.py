"""Make an eval set from data researchers already hold: COCO captions (+ instances for the object lists),
a PlantVillage-style folder tree plus a treatments CSV, a Food-101-style tree plus a recipes JSON, or POPE
yes/no questions (built from COCO instances, or POPE's released files).

examples:
  workbench import coco --captions captions_val2017.json --instances instances_val2017.json --images val2017/ --out eval_sets/coco-val
  workbench import plantvillage --help
  workbench import pope --instances instances_val2014.json --images val2014/ --out eval_sets/coco-pope
  workbench import pope --questions coco_pope_random.json coco_pope_popular.json --images val2014/ --out eval_sets/pope-released
"""

from workbench.evalsets.importers.__main__ import add_arguments, run

__all__ = ["add_arguments", "run"]

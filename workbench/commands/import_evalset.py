"""Make an eval set from data researchers already hold: COCO captions (+ instances for the object lists),
a PlantVillage-style folder tree plus a treatments CSV, or a Food-101-style tree plus a recipes JSON.

examples:
  workbench import coco --captions captions_val2017.json --instances instances_val2017.json --images val2017/ --out eval_sets/coco-val
  workbench import plantvillage --help
"""

from workbench.evalsets.importers.__main__ import add_arguments, run

__all__ = ["add_arguments", "run"]

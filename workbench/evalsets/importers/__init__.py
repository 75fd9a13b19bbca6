"""Importers: datasets researchers already hold -> eval-set folders (each writes card.md and validates).

- ``import_coco(captions_json, instances_json, images_dir, out, limit=None)``
- ``import_plantvillage(root, treatments_csv, out, limit_per_class=None)``
- ``import_food101(root, recipes_json, out, limit_per_class=None, split="test")``
- ``import_pope_coco(instances_json, images_dir, out, n_images=500, per_image=3, seed=0)``,
  ``import_pope_questions(question_files, images_dir, out)``

Command line: ``workbench import {coco,plantvillage,food101,pope} ...`` (``workbench.commands.import_evalset``).
"""

from workbench.evalsets.importers.coco import import_coco
from workbench.evalsets.importers.food101 import import_food101
from workbench.evalsets.importers.plantvillage import import_plantvillage
from workbench.evalsets.importers.pope import import_pope_coco, import_pope_questions

__all__ = ["import_coco", "import_food101", "import_plantvillage", "import_pope_coco", "import_pope_questions"]

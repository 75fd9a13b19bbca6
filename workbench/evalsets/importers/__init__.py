"""Importers: datasets researchers already hold -> eval-set folders (each writes card.md and validates).

- ``import_coco(captions_json, instances_json, images_dir, out, limit=None)``
- ``import_plantvillage(root, treatments_csv, out, limit_per_class=None)``
- ``import_food101(root, recipes_json, out, limit_per_class=None, split="test")``

Command line: ``workbench import {coco,plantvillage,food101} ...`` (``workbench.commands.import_evalset``).
"""

from workbench.evalsets.importers.coco import import_coco
from workbench.evalsets.importers.food101 import import_food101
from workbench.evalsets.importers.plantvillage import import_plantvillage

__all__ = ["import_coco", "import_food101", "import_plantvillage"]

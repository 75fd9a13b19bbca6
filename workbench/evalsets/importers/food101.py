"""Food-101-style tree (``images/<class>/<id>.jpg``, ``meta/test.txt``) + a recipes JSON -> recipe eval set.

``meta/test.txt`` lists ``<class>/<id>`` lines (no extension), as in Food-101. The recipes JSON maps a class
name to ``{"dish": optional display name, "ingredients": [...], "steps": [...]}``; classes without a recipe
are skipped and listed in the card. The dish name defaults to the class name normalized by
``workbench.names.food101_dish`` (``apple_pie`` -> ``apple pie``); a dish name that differs from the
folder name keeps the folder name as a synonym in ``synonyms.json``. ``limit_per_class`` keeps the first
N test images per class (file order).
"""

from __future__ import annotations

from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.evalsets.importers.common import counts_table, prepare_out, read_json, write_eval_set
from workbench.names import food101_dish, normalize


def import_food101(root, recipes_json, out, limit_per_class: int | None = None, split: str = "test",
                   overwrite: bool = False) -> Path:
    root = Path(root)
    listing = root / "meta" / f"{split}.txt"
    if not listing.is_file():
        raise WorkbenchError(f"{listing}: not found; expected Food-101's meta/{split}.txt")
    recipes = read_json(recipes_json, '{"<class>": {"ingredients": [...], "steps": [...]}}')
    if not isinstance(recipes, dict):
        raise WorkbenchError(f"{recipes_json}: must map class name -> recipe object")
    records, sources, counts, skipped, synonyms = [], [], {}, set(), {}
    for number, line in enumerate(listing.read_text(encoding="utf-8").splitlines(), start=1):
        entry = line.strip()
        if not entry:
            continue
        if "/" not in entry:
            raise WorkbenchError(f"{listing}:{number}: expected '<class>/<image id>', got {entry!r}")
        cls, image_id = entry.split("/", 1)
        recipe = recipes.get(cls)
        if recipe is None:
            skipped.add(cls)
            continue
        if not isinstance(recipe, dict) or not isinstance(recipe.get("ingredients"), list):
            raise WorkbenchError(f"{recipes_json}: recipe for {cls!r} needs an 'ingredients' list")
        if limit_per_class is not None and counts.get(cls, 0) >= limit_per_class:
            continue
        source = root / "images" / cls / f"{image_id}.jpg"
        if not source.is_file():
            raise WorkbenchError(f"{listing}:{number}: image {source} not found")
        dish = recipe.get("dish") or food101_dish(cls)
        if normalize(dish) != normalize(cls):
            synonyms.setdefault(dish, [cls])
        records.append({"id": f"{cls}/{image_id}", "task": "recipe", "image": f"images/{cls}/{image_id}.jpg",
                        "reference": {"dish": dish,
                                      "ingredients": list(recipe["ingredients"]),
                                      "steps": list(recipe.get("steps", []))}})
        sources.append(source)
        counts[cls] = counts.get(cls, 0) + 1
    if not records:
        raise WorkbenchError(f"{listing}: no listed image has a recipe in {recipes_json}")
    card = f"""# {Path(out).name}: recipes from food photos (Food-101 layout)

- Source: `{root}` (`meta/{split}.txt`, `images/<class>/`), recipes from `{recipes_json}`.
- Licence: Food-101 images come from foodspotting.com under its terms (Bossard et al. 2014, research use);
  recipes: as licensed by their author.
- Built by `workbench.evalsets.importers.import_food101`: the `{split}` split in listing order
  {f'(first {limit_per_class} per class)' if limit_per_class else '(all)'}; one reference recipe per class.
- Items: {len(records)} in {len(counts)} classes. Classes without a recipe (skipped): {', '.join(sorted(skipped)) or 'none'}.
- Known limits: one canonical recipe per class; many valid recipes exist for a dish.

{counts_table(counts, 'class')}
"""
    out = prepare_out(out, overwrite)
    return write_eval_set(out, records, sources, card, synonyms=synonyms)

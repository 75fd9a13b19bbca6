"""PlantVillage-style folder tree (``<Crop>___<Disease>/*.jpg``) + a treatments CSV -> diagnosis eval set.

Folder names follow PlantVillage: ``Tomato___Early_blight``, ``Apple___healthy``,
``Corn_(maize)___Common_rust_``, ``Tomato___Tomato_Yellow_Leaf_Curl_Virus``. Crop and disease names are
normalized by ``workbench.names.plantvillage_class`` (``Corn_(maize)`` -> ``corn``, ``Pepper,_bell`` ->
``bell pepper``, ``Cercospora_leaf_spot Gray_leaf_spot`` -> ``gray leaf spot``, ...); the raw folder
spellings and alternative names are written to ``synonyms.json``, so answers using them still match.

Treatments CSV: a header with ``disease`` and ``treatment`` columns and an optional ``crop`` column, one
treatment per row (several rows per disease). A row matches a class when its disease (and crop, if given)
equals one of the class's names after ``normalize``: the normalized name or any synonym, so
``Gray leaf spot``, ``Cercospora_leaf_spot Gray_leaf_spot`` and ``Early_blight`` all work. Rows that match
no class are printed as warnings (``FILE:LINE``) and listed in the card.
Images are taken in sorted file order; ``limit_per_class`` keeps the first N of each class.
"""

from __future__ import annotations

import csv
from pathlib import Path

from workbench.errors import WorkbenchError
import sys

from workbench.evalsets.importers.common import counts_table, prepare_out, write_eval_set
from workbench.names import ClassName, normalize, plantvillage_class

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def parse_class(folder: str) -> tuple[str, str]:
    """``Tomato___Tomato_Yellow_Leaf_Curl_Virus`` -> ("tomato", "yellow leaf curl virus")."""
    name = plantvillage_class(folder)
    return name.crop, name.disease


def read_treatments(path) -> list[tuple[int, str, str, str]]:
    """-> [(line, crop or "", disease, treatment)] with file:line errors."""
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except FileNotFoundError:
        raise WorkbenchError(f"{path}: treatments CSV not found") from None
    with handle:
        reader = csv.DictReader(handle)
        fields = {f.strip().lower() for f in reader.fieldnames or []}
        if not {"disease", "treatment"} <= fields:
            raise WorkbenchError(f"{path}:1: header needs 'disease' and 'treatment' columns (optional 'crop'), "
                                 f"got {reader.fieldnames}")
        rows = []
        for row in reader:
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            if not row.get("disease") or not row.get("treatment"):
                raise WorkbenchError(f"{path}:{reader.line_num}: empty disease or treatment")
            rows.append((reader.line_num, row.get("crop", ""), row["disease"], row["treatment"]))
    return rows


def _matches(name: ClassName, crop: str, disease: str) -> bool:
    diseases = {normalize(d) for d in (name.disease, *name.disease_synonyms)}
    crops = {normalize(c) for c in (name.crop, *name.crop_synonyms)}
    return normalize(disease) in diseases and (not crop or normalize(crop) in crops)


def _rows(rows) -> str:
    return "; ".join(f"{line}: {crop or '-'}, {disease}" for line, crop, disease, _ in rows) or "none"


def _synonyms(names: list[ClassName]) -> dict[str, list[str]]:
    """``{name: [synonyms]}`` for synonyms.json: every crop and disease with its raw spellings."""
    out: dict[str, list[str]] = {}
    for name in names:
        for canonical, synonyms in ((name.crop, name.crop_synonyms), (name.disease, name.disease_synonyms)):
            values = out.setdefault(canonical, [])
            values.extend(s for s in synonyms if s not in values)
    return {k: v for k, v in out.items() if v}


def import_plantvillage(root, treatments_csv, out, limit_per_class: int | None = None,
                        overwrite: bool = False) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise WorkbenchError(f"{root}: not a folder; expected PlantVillage's <Crop>___<Disease>/ class folders")
    treatments = read_treatments(treatments_csv) if treatments_csv else []
    classes = sorted(p for p in root.iterdir() if p.is_dir() and "___" in p.name)
    if not classes:
        raise WorkbenchError(f"{root}: no <Crop>___<Disease> class folders found")
    records, sources, counts, untreated, names, used = [], [], {}, [], [], set()
    for folder in classes:
        name = plantvillage_class(folder.name)
        names.append(name)
        crop, disease = name.crop, name.disease
        rows = [] if disease == "healthy" else [r for r in treatments if _matches(name, r[1], r[2])]
        used.update(r[0] for r in rows)
        wanted = [r[3] for r in rows]
        if disease != "healthy" and not wanted:
            untreated.append(folder.name)
        images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if limit_per_class is not None:
            images = images[:limit_per_class]
        for image in images:
            records.append({"id": f"{folder.name}/{image.stem}", "task": "diagnosis",
                            "image": f"images/{folder.name}/{image.name}",
                            "reference": {"crop": crop, "disease": disease, "treatments": list(dict.fromkeys(wanted))}})
            sources.append(image)
        counts[folder.name] = len(images)
    unmatched = [r for r in treatments if r[0] not in used]
    for line, crop, disease, _ in unmatched:
        print(f"warning: {treatments_csv}:{line}: treatment row (crop {crop!r}, disease {disease!r}) matches no "
              f"class folder in {root}; fix its names or drop the row", file=sys.stderr)
    card = f"""# {Path(out).name}: plant-leaf diagnosis (PlantVillage layout)

- Source: `{root}` (class folders `<Crop>___<Disease>`), treatments from `{treatments_csv}`.
- Licence: PlantVillage images are CC BY-SA 3.0 (Hughes & Salathé 2015); check your copy's terms.
- Built by `workbench.evalsets.importers.import_plantvillage`: files in sorted order
  {f'(first {limit_per_class} per class)' if limit_per_class else '(all)'}; crop/disease from the folder name.
- Items: {len(records)} in {len(classes)} classes ({sum(1 for f in classes if f.name.endswith('___healthy'))} healthy).
- Names: crop and disease normalized from the folder name (`workbench.names.plantvillage_class`); raw
  spellings and alternative names kept as synonyms in `synonyms.json`.
- Classes without any treatment in the CSV (their items have `"treatments": []`): {', '.join(untreated) or 'none'}.
- Treatment rows matching no class (CSV line: crop, disease): {_rows(unmatched)}.
- Known limits: one leaf per image on a plain background (lab photos), unlike field photos.

{counts_table(counts, 'class')}
"""
    out = prepare_out(out, overwrite)
    return write_eval_set(out, records, sources, card, synonyms=_synonyms(names))

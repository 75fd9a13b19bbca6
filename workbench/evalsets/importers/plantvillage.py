"""PlantVillage-style folder tree (``<Crop>___<Disease>/*.jpg``) + a treatments CSV -> diagnosis eval set.

Folder names follow PlantVillage: ``Tomato___Early_blight``, ``Apple___healthy``,
``Corn_(maize)___Common_rust_``, ``Tomato___Tomato_Yellow_Leaf_Curl_Virus``. Crop and disease are made
readable (``_`` -> space, trailing ``_`` dropped, a disease name's leading crop word removed).

Treatments CSV: a header with ``disease`` and ``treatment`` columns and an optional ``crop`` column, one
treatment per row (several rows per disease). A row matches a class when its disease (and crop, if given)
equals the class's after normalization; folder-style spellings (``Early_blight``) work too.
Images are taken in sorted file order; ``limit_per_class`` keeps the first N of each class.
"""

from __future__ import annotations

import csv
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.evalsets.importers.common import counts_table, prepare_out, write_eval_set
from workbench.scoring.text import normalize

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def parse_class(folder: str) -> tuple[str, str]:
    """``Tomato___Tomato_Yellow_Leaf_Curl_Virus`` -> ("Tomato", "Yellow Leaf Curl Virus")."""
    if "___" not in folder:
        raise ValueError(folder)
    crop_raw, disease_raw = folder.split("___", 1)
    crop = " ".join(crop_raw.replace("_", " ").split()).replace(" ,", ",").strip(" ,")
    disease = " ".join(disease_raw.replace("_", " ").split())
    if disease.lower() == "healthy":
        return crop, "healthy"
    crop_word = normalize(crop).split()[0] if normalize(crop) else ""
    words = disease.split()
    if len(words) > 1 and normalize(words[0]) == crop_word:
        disease = " ".join(words[1:])
    return crop, disease


def read_treatments(path) -> list[tuple[str, str, str]]:
    """-> [(crop or "", disease, treatment)] with file:line errors."""
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
            rows.append((row.get("crop", ""), row["disease"], row["treatment"]))
    return rows


def import_plantvillage(root, treatments_csv, out, limit_per_class: int | None = None,
                        overwrite: bool = False) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise WorkbenchError(f"{root}: not a folder; expected PlantVillage's <Crop>___<Disease>/ class folders")
    treatments = read_treatments(treatments_csv) if treatments_csv else []
    classes = sorted(p for p in root.iterdir() if p.is_dir() and "___" in p.name)
    if not classes:
        raise WorkbenchError(f"{root}: no <Crop>___<Disease> class folders found")
    records, sources, counts, untreated = [], [], {}, []
    for folder in classes:
        crop, disease = parse_class(folder.name)
        wanted = [] if disease == "healthy" else [
            t for c, d, t in treatments
            if normalize(d) in (normalize(disease), normalize(folder.name.split("___", 1)[1]))
            and (not c or normalize(c) == normalize(crop))]
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
    card = f"""# {Path(out).name}: plant-leaf diagnosis (PlantVillage layout)

- Source: `{root}` (class folders `<Crop>___<Disease>`), treatments from `{treatments_csv}`.
- Licence: PlantVillage images are CC BY-SA 3.0 (Hughes & Salathé 2015); check your copy's terms.
- Built by `workbench.evalsets.importers.import_plantvillage`: files in sorted order
  {f'(first {limit_per_class} per class)' if limit_per_class else '(all)'}; crop/disease from the folder name.
- Items: {len(records)} in {len(classes)} classes ({sum(1 for f in classes if f.name.endswith('___healthy'))} healthy).
- Classes without any treatment in the CSV (their items have `"treatments": []`): {', '.join(untreated) or 'none'}.
- Known limits: one leaf per image on a plain background (lab photos), unlike field photos.

{counts_table(counts, 'class')}
"""
    out = prepare_out(out, overwrite)
    return write_eval_set(out, records, sources, card)

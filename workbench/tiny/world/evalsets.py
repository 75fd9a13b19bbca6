"""Write the held-out synthetic eval sets (``synth-captions``, ``synth-recipes``, ``synth-plants``).

Each set follows the eval-set contract (README, *Contracts*): ``manifest.jsonl`` (prompts left out, so each task's
default prompt applies), ``images/*.png``, ``card.md`` and, for captions, ``vocabulary.json``. Items come
from the ``eval`` seed range only, which no training split uses. Same seed, same bytes.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tqdm.auto import tqdm

from workbench.errors import WorkbenchError
from workbench.tiny.world import catalog
from workbench.tiny.world.items import IMAGE_SIZE, make_item
from workbench.tiny.world.seeds import SEED_RANGES, SEEDS, split_of

SETS: dict[str, tuple[str, str]] = {  # set name -> (task, world domain)
    "synth-captions": ("caption", "scene"),
    "synth-recipes": ("recipe", "dish"),
    "synth-plants": ("diagnosis", "leaf"),
}
HEALTHY_FRACTION = 0.25
GENERATED = ("manifest.jsonl", "card.md", "vocabulary.json", "synonyms.json")

RECIPE_SYNONYMS: dict[str, list[str]] = {
    "spaghetti bolognese": ["spaghetti bolognaise"],
    "bacon and eggs": ["bacon and egg"],
    "minced beef": ["ground beef"],
    "spring onion": ["green onion", "scallion"],
}
PLANT_SYNONYMS: dict[str, list[str]] = {
    "corn": ["maize"],
    "gray leaf spot": ["grey leaf spot"],
    "shot hole disease": ["shot hole"],
}
SYNONYMS: dict[str, list[str]] = RECIPE_SYNONYMS | PLANT_SYNONYMS
# vocabulary.json of synth-captions: each object kind with its synonyms (the kind itself left out)
OBJECT_VOCABULARY: dict[str, list[str]] = {k: [s for s in catalog.KIND_SYNONYMS[k] if s != k] for k in catalog.KINDS}


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def _card(name: str, task: str, domain: str, seed: int, n: int, size: int, counts: dict[str, Counter],
          total_bytes: int) -> str:
    lines = [
        f"# {name}",
        "",
        f"Synthetic `{task}` eval set from the procedural world of the embedded tiny model (`workbench/tiny/world/`, "
        f"domain `{domain}`). Licence: same as the workbench (generated data, no third-party content).",
        "",
        "## How it was made",
        f"- `workbench.tiny.world.evalsets.write_eval_sets(out_dir, seed={seed}, n_per_set={n})`: item *i* is "
        f"`workbench.tiny.world.make_item({domain!r}, {seed}, i, size={size})`, rendered with PIL at {size}x{size} px "
        "and saved as PNG.",
        f"- Seed {seed} lies in the `eval` range {SEED_RANGES['eval'].start}..{SEED_RANGES['eval'].stop - 1} of "
        "`workbench/tiny/world/seeds.py`; no training split (pretrain, stage 1, stage 2, corpus, probe) uses that range, "
        "so no eval item shares its random stream with a training item.",
        "- Prompts are left out of the manifest, so each item uses the task's default prompt.",
        "- Deterministic: the same seed writes byte-identical files.",
        "",
        "## Counts",
        f"- {n} items, {total_bytes / 1e6:.2f} MB of images.",
    ]
    for label, counter in counts.items():
        lines.append(f"- by {label}: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.items())))
    lines += ["", "## Known limits",
              "- Synthetic pictures: flat-coloured shapes, top-down food icons and leaf silhouettes with mild noise; "
              "they test the tiny model's world, not real photographs.",
              "- Classes are drawn i.i.d. (not stratified), so per-class counts vary (see above).",
              "- The world is small: training items of the same class look alike, so a held-out seed is a new "
              "picture of familiar classes, not a new class."]
    if task == "caption":
        lines += ["- Reference captions are template paraphrases of one generated description (no human captions), "
                  "so BLEU/CIDEr reward the world's own phrasing.",
                  "- `vocabulary.json` lists the 8 object kinds with synonyms; colours, sizes and positions are not "
                  "scored by CHAIR."]
    elif task == "recipe":
        lines += ["- Each dish has one fixed recipe; ingredient lists include ingredients that cannot be seen "
                  "(oil, salt, stock), which a model can only know from text."]
    else:
        lines += [f"- About {int(HEALTHY_FRACTION * 100)}% healthy leaves. Diseases with the same symptom look "
                  "alike across crops (the crop's leaf shape tells them apart).",
                  "- Treatments are short fixed phrases; a correct paraphrase is missed by lexical matching."]
    return "\n".join(lines) + "\n"


def write_eval_set(name: str, out_dir, seed: int = SEEDS["eval"], n: int = 200, size: int = IMAGE_SIZE) -> Path:
    """Write one synthetic eval set under ``out_dir/name``; returns its folder."""
    if name not in SETS:
        raise WorkbenchError(f"evalsets.py: unknown synthetic set {name!r}; known: {', '.join(SETS)}")
    if split_of(seed) != "eval":
        raise WorkbenchError(f"evalsets.py: seed {seed} is outside the eval seed range "
                             f"{SEED_RANGES['eval'].start}..{SEED_RANGES['eval'].stop - 1}; pick one inside it")
    task, domain = SETS[name]
    root = Path(out_dir) / name
    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    for old in images.glob("*.png"):  # stale images of a larger earlier set
        old.unlink()
    for fname in GENERATED:
        (root / fname).unlink(missing_ok=True)
    counts: dict[str, Counter] = {}
    lines, total = [], 0
    for i in tqdm(range(n), desc=name, leave=False):
        item = make_item(domain, seed, i, size, healthy_fraction=HEALTHY_FRACTION)
        rel = f"images/{i:04d}.png"
        item.image.save(root / rel, format="PNG")
        total += (root / rel).stat().st_size
        record = {"id": f"{name}-{i:04d}", "task": task, "image": rel, "reference": item.reference,
                  "meta": {"uid": item.uid, "seed": seed, "index": i, "short_caption": item.short_caption,
                           "labels": item.labels}}
        lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
        if domain == "scene":
            counts.setdefault("number of objects", Counter())[str(len(item.spec.objects))] += 1
            for o in item.spec.objects:
                counts.setdefault("object kind", Counter())[o.kind] += 1
        elif domain == "dish":
            counts.setdefault("dish", Counter())[item.reference["dish"]] += 1
        else:
            counts.setdefault("crop", Counter())[item.reference["crop"]] += 1
            counts.setdefault("condition", Counter())[item.reference["disease"]] += 1
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if domain == "scene":
        _write_json(root / "vocabulary.json", OBJECT_VOCABULARY)
    elif domain == "dish":
        _write_json(root / "synonyms.json", RECIPE_SYNONYMS)
    else:
        _write_json(root / "synonyms.json", PLANT_SYNONYMS)
    (root / "card.md").write_text(_card(name, task, domain, seed, n, size, counts, total), encoding="utf-8")
    return root


def write_eval_sets(out_dir, seed: int = SEEDS["eval"], n_per_set: int = 200, size: int = IMAGE_SIZE) -> list[Path]:
    """Write ``synth-captions``, ``synth-recipes`` and ``synth-plants`` under ``out_dir``."""
    return [write_eval_set(name, out_dir, seed, n_per_set, size) for name in SETS]


if __name__ == "__main__":  # python -m workbench.tiny.world.evalsets [OUT_DIR]: regenerate the committed sets
    import sys

    from workbench.tiny.world.pope import write_pope_set

    out = sys.argv[1] if len(sys.argv) > 1 else "eval_sets"
    for path in write_eval_sets(out) + [write_pope_set(out)]:
        print(path)

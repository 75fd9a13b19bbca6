"""``synth-pope``: POPE's yes/no object probing on held-out scenes of the world.

The committed set (``python -m workbench.tiny.world.evalsets``) has 7 images x 6 questions x 3 splits = 126 items,
small enough for ``make demo``; ``write_pope_set(out, n_images=...)`` writes larger ones.

- Held-out scenes: scene items of seed ``SEEDS["eval"] + 1`` (inside the ``eval`` range, a stream that
  ``synth-captions`` at ``SEEDS["eval"]`` does not use), scanned from index 0; a scene qualifies when it
  holds ``PER_IMAGE`` (3) distinct kinds, POPE's rule for images (at least 3 objects).
- Frequencies and co-occurrences of the kinds are measured on the world's training scenes: the
  ``TRAIN_SCENES`` (4,000) stage-1 scene specs (seed ``SEEDS["stage1"]``, indices 0..3999, as the build
  draws its stage-1 pairs). Only the specs are drawn (no pixels).
- Questions: ``evalsets.pope_sampling`` (POPE's rules); each split draws its random picks from
  ``random.Random(seed)``. The present kinds are the scene's kinds in reading order.
The world draws kinds uniformly and independently, so "popular" and "adversarial" absent kinds are close
to random ones here; the card prints the measured tables so a reader can see how flat they are.
"""

from __future__ import annotations

import json
from pathlib import Path

from tqdm.auto import tqdm

from workbench.evalsets.importers.pope import pope_records
from workbench.evalsets.pope_sampling import co_occurrence, frequencies
from workbench.tiny.world.items import make_item, sample_spec
from workbench.tiny.world.seeds import SEEDS, item_streams

NAME = "synth-pope"
PER_IMAGE = 3
TRAIN_SCENES = 4000
HELD_OUT_SEED = SEEDS["eval"] + 1


def training_kind_lists(n: int = TRAIN_SCENES, seed: int = SEEDS["stage1"]) -> list[list[str]]:
    """The distinct kinds of each of the first ``n`` stage-1 scenes, in reading order."""
    lists = []
    for i in range(n):
        spec = sample_spec("scene", item_streams(seed, "scene", i)[0], 0.25)
        lists.append(list(dict.fromkeys(o.kind for o in spec.objects)))
    return lists


def _card(n_images: int, records: list[dict], freq: dict, co: dict, scanned: int) -> str:
    per_split = {s: sum(r["reference"]["split"] == s for r in records) for s in ("random", "popular", "adversarial")}
    freq_row = ", ".join(f"{k} {v}" for k, v in sorted(freq.items(), key=lambda kv: -kv[1]))
    co_rows = "\n".join(f"| {k} | {', '.join(v)} |" for k, v in sorted(co.items()))
    return f"""# {NAME}

Synthetic POPE set (yes/no object probing, Li et al. 2023) from the procedural world of the embedded tiny
model. Licence: same as the workbench (generated data).

## How it was made
- `workbench.tiny.world.pope.write_pope_set(out_dir, n_images={n_images})`: held-out scenes of seed {HELD_OUT_SEED}
  (eval range; `synth-captions` uses {SEEDS['eval']}), the first {n_images} with {PER_IMAGE} distinct kinds
  ({scanned} scenes scanned).
- Absent kinds by POPE's three rules (`workbench/evalsets/pope_sampling.py`), with frequencies and
  co-occurrences measured on the {TRAIN_SCENES} stage-1 training scenes (seed {SEEDS['stage1']}).
- Per image and split: {PER_IMAGE} present + {PER_IMAGE} absent kinds; question "Is there a(n) <kind> in the image?".

## Counts
- {len(records)} items: {', '.join(f'{s} {n}' for s, n in per_split.items())}; half labelled yes.
- Kind frequency on training scenes: {freq_row}.

| kind | co-occurring kinds on training scenes, most often first |
|---|---|
{co_rows}

## Known limits
- The world draws kinds uniformly and independently, so the tables are nearly flat and the popular and
  adversarial splits are barely harder than random; the splits are kept for the form of the protocol.
- Only 8 kinds: with 3 present and 3 absent, 6 of 8 kinds are asked about for each image.
- The tiny LLM learns yes/no answers from text only (the corpus's yes/no family: the scene in the image slot
  as a soft slot or as its description); it never sees a yes/no question with an image, so POPE measures
  what the stage-1/stage-2 projections let it read from pixels.
"""


def write_pope_set(out_dir, n_images: int = 7, seed: int = 0) -> Path:
    """Write ``out_dir/synth-pope`` (images, manifest.jsonl, card.md); same arguments, same bytes."""
    root = Path(out_dir) / NAME
    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    for old in images.glob("*.png"):
        old.unlink()
    lists = training_kind_lists()
    freq, co = frequencies(lists), co_occurrence(lists)
    chosen, paths, index = [], {}, 0
    with tqdm(total=n_images, desc=NAME, leave=False) as bar:
        while len(chosen) < n_images:
            item = make_item("scene", HELD_OUT_SEED, index)
            kinds = list(dict.fromkeys(o.kind for o in item.spec.objects))
            if len(kinds) >= PER_IMAGE:
                key = f"{index:04d}"
                item.image.save(images / f"{key}.png", format="PNG")
                chosen.append((key, kinds))
                paths[key] = f"images/{key}.png"
                bar.update()
            index += 1
    records = pope_records(chosen, paths, PER_IMAGE, seed, freq, co)
    for r in records:
        r["id"] = f"{NAME}-{r['id']}"
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    (root / "manifest.jsonl").write_text(text, encoding="utf-8")
    (root / "card.md").write_text(_card(n_images, records, freq, co, index), encoding="utf-8")
    return root


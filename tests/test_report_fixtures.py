"""Fixture eval sets and runs for the compare/report tests (helpers, plus checks of the helpers).

``make_eval_set`` writes a valid eval-set folder (tiny PNGs made with PIL, manifest per DESIGN.md);
``make_run`` writes a run folder (run.json + predictions.jsonl) and, with ``scores=True``, a
scores.json computed by ``fixture_score``/``fixture_aggregate``: small stand-in scorers with one
plain-mean metric per field and one corpus-level metric (``caption/chair_i`` = hallucinated /
mentioned over the whole set), so both resampling paths of compare are exercised.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from PIL import Image

COLOURS = [(200, 40, 40), (40, 160, 60), (50, 80, 200), (220, 180, 30), (120, 60, 160), (30, 170, 170)]


def make_eval_set(root: Path, n_caption: int = 8, n_recipe: int = 8, n_diagnosis: int = 6,
                  prompt_text: str | None = None, reference_text: str | None = None) -> Path:
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    k = 0
    for task, count in (("caption", n_caption), ("recipe", n_recipe), ("diagnosis", n_diagnosis)):
        for i in range(count):
            image = f"images/{task}_{i}.png"
            im = Image.new("RGB", (32, 32), COLOURS[k % len(COLOURS)])
            for x in range(8, 24):
                im.putpixel((x, x), (255, 255, 255))
            im.save(root / image)
            k += 1
            if task == "caption":
                ref = {"captions": [reference_text or f"a red ball next to a blue box number {i}"],
                       "objects": ["ball", "box"]}
            elif task == "recipe":
                ref = {"dish": "pancakes", "ingredients": ["flour", "egg", "milk"],
                       "steps": ["mix", "fry"]}
            else:
                ref = {"crop": "tomato", "disease": "healthy" if i % 2 else "blight",
                       "treatments": [] if i % 2 else ["remove leaves", "copper spray"]}
            record = {"id": f"{task}-{i}", "task": task, "image": image, "reference": ref}
            if prompt_text is not None:
                record["prompt"] = prompt_text
            lines.append(json.dumps(record))
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "card.md").write_text("# fixture eval set\nMade in tests.\n", encoding="utf-8")
    return root


def manifest_sha(eval_set_dir: Path) -> str:
    return hashlib.sha256((Path(eval_set_dir) / "manifest.jsonl").read_bytes()).hexdigest()


def _manifest(eval_set_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (Path(eval_set_dir) / "manifest.jsonl").read_text().splitlines() if line]


def fixture_score(record: dict, output: str | None) -> dict:
    """Per-item metrics of one output (a stand-in scorer: word matching against the reference)."""
    text = (output or "").lower()
    task, ref = record["task"], record["reference"]
    reasons = []
    if output is None:
        reasons.append("missing")
    elif not text.strip():
        reasons.append("empty")
    elif len(set(text.split())) < len(text.split()) / 3:
        reasons.append("repetition")
    m = {"failure": int(bool(reasons)), "failure_reasons": reasons}
    if task == "caption":
        mentioned = [w for w in ("ball", "box", "cat", "dog") if w in text]
        hallucinated = [w for w in mentioned if w not in ref["objects"]]
        m.update(object_recall=sum(o in text for o in ref["objects"]) / len(ref["objects"]),
                 chair_s=int(bool(hallucinated)), mentioned=len(mentioned), hallucinated=len(hallucinated),
                 chair_i=len(hallucinated) / len(mentioned) if mentioned else 0.0)
    elif task == "recipe":
        m.update(dish_accuracy=int(ref["dish"] in text),
                 ingredient_recall=sum(i in text for i in ref["ingredients"]) / len(ref["ingredients"]))
    else:
        m.update(disease_accuracy=int(ref["disease"] in text), crop_accuracy=int(ref["crop"] in text))
    return m


def fixture_aggregate(task: str, items: list[dict]) -> dict:
    """Aggregate per-item metrics: plain means, except chair_i (ratio of sums over the set)."""
    n = len(items)
    if n == 0:
        return {}
    mean = lambda f: sum(it["metrics"][f] for it in items) / n  # noqa: E731
    out = {f"{task}/failure_rate": mean("failure")}
    fields = {"caption": ["object_recall", "chair_s"], "recipe": ["dish_accuracy", "ingredient_recall"],
              "diagnosis": ["disease_accuracy", "crop_accuracy"]}[task]
    out.update({f"{task}/{f}": mean(f) for f in fields})
    if task == "caption":
        mentioned = sum(it["metrics"]["mentioned"] for it in items)
        out["caption/chair_i"] = sum(it["metrics"]["hallucinated"] for it in items) / mentioned if mentioned else 0.0
    return out


def fixture_scores(eval_set_dir: Path, outputs: dict[str, str]) -> dict:
    items = [{"id": r["id"], "task": r["task"], "metrics": fixture_score(r, outputs.get(r["id"]))}
             for r in _manifest(eval_set_dir)]
    aggregate = {}
    for task in dict.fromkeys(it["task"] for it in items):
        aggregate.update(fixture_aggregate(task, [it for it in items if it["task"] == task]))
    return {"aggregate": aggregate, "items": items}


def make_run(root: Path, name: str, eval_set_dir: Path, outputs: dict[str, str], sha: str | None = None,
             scores: bool = True, seed: int = 0) -> Path:
    run = Path(root) / name
    run.mkdir(parents=True, exist_ok=True)
    info = {
        "model": {"spec": f"tiny-{name}", "checkpoint_sha256": hashlib.sha256(name.encode()).hexdigest()},
        "eval_set": {"name": Path(eval_set_dir).name, "path": str(eval_set_dir),
                     "manifest_sha256": sha or manifest_sha(eval_set_dir)},
        "generation": {"do_sample": False, "max_new_tokens": 64, "num_beams": 1},
        "seed": seed, "versions": {"torch": "2.13.0", "transformers": "5.24.0"},
        "git_commit": "0123abc", "device": "cpu", "started": "2026-11-26T10:00:00Z",
        "finished": "2026-11-26T10:01:00Z",
    }
    (run / "run.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    with open(run / "predictions.jsonl", "w", encoding="utf-8") as fh:
        for item_id, text in outputs.items():
            fh.write(json.dumps({"id": item_id, "output": text, "n_tokens": len(text.split()),
                                 "finish": "length" if len(text.split()) > 30 else "stop"}) + "\n")
    if scores:
        (run / "scores.json").write_text(json.dumps(fixture_scores(eval_set_dir, outputs)), encoding="utf-8")
    return run


def stage_outputs(eval_set_dir: Path, good: bool) -> dict[str, str]:
    """Plausible outputs: ``good`` ones mention the reference, bad ones ramble or hallucinate."""
    out = {}
    for i, r in enumerate(_manifest(eval_set_dir)):
        ref = r["reference"]
        if r["task"] == "caption":
            out[r["id"]] = ("A red ball sits beside a blue box." if good or i % 3 == 0
                            else "a cat a cat a cat a cat a cat a cat a cat")
        elif r["task"] == "recipe":
            out[r["id"]] = ("These are pancakes. Mix flour, egg and milk, then fry." if good
                            else "food food food food food food")
        else:
            out[r["id"]] = (f"This tomato leaf shows {ref['disease']}." if good or i % 2
                            else "a leaf")
    return out


def two_stage_runs(tmp_path: Path) -> tuple[Path, Path, Path]:
    es = make_eval_set(tmp_path / "es")
    a = make_run(tmp_path / "runs", "stage1", es, stage_outputs(es, good=False))
    b = make_run(tmp_path / "runs", "stage2", es, stage_outputs(es, good=True))
    return es, a, b


def test_fixture_eval_set_is_valid_for_the_real_loader(tmp_path):
    from workbench.evalsets import load_eval_set, validate_eval_set

    es = make_eval_set(tmp_path / "es")
    assert validate_eval_set(es) == []
    loaded = load_eval_set(es)
    assert loaded.manifest_sha256 == manifest_sha(es)
    assert loaded.counts() == {"caption": 8, "recipe": 8, "diagnosis": 6}


def test_fixture_scores_follow_the_contract(tmp_path):
    es, a, b = two_stage_runs(tmp_path)
    scores = json.loads((b / "scores.json").read_text())
    assert {it["id"] for it in scores["items"]} == {r["id"] for r in _manifest(es)}
    assert all(0 <= v <= 1 for v in scores["aggregate"].values())
    assert all({"failure", "failure_reasons"} <= set(it["metrics"]) for it in scores["items"])

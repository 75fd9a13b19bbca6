"""Fixture eval sets and runs for the compare/report tests (helpers, plus checks of the helpers).

``make_eval_set`` writes a valid eval-set folder (tiny PNGs made with PIL, manifest per the eval-set contract in the README);
``make_run`` writes a run folder (run record + predictions.jsonl as ``workbench generate`` lays them
out) and, with ``scores=True``, its scores.json from the real scorers (METEOR off, for speed).
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


def score_fixture_run(run: Path, eval_set_dir: Path) -> dict:
    """Score with the real scorers, without METEOR (its Java start-up costs seconds per run)."""
    from workbench.scoring.scores import score_file

    from workbench.run_record import RunRecord

    return score_file(run / "predictions.jsonl", str(eval_set_dir), run / "scores.json", meteor=False,
                      record=RunRecord.load(run))


def make_run(root: Path, name: str, eval_set_dir: Path, outputs: dict[str, str], sha: str | None = None,
             scores: bool = True, seed: int = 0) -> Path:
    run = Path(root) / name
    run.mkdir(parents=True, exist_ok=True)
    from workbench.run_record import RunRecord

    RunRecord(
        run_dir=run,
        model={"spec": f"tiny-{name}", "projection_sha256": hashlib.sha256(name.encode()).hexdigest()},
        eval_set={"name": Path(eval_set_dir).name, "path": str(eval_set_dir),
                  "manifest_sha256": sha or manifest_sha(eval_set_dir)},
        generation={"do_sample": False, "max_new_tokens": 64, "num_beams": 1},
        seed=seed, versions={"torch": "2.13.0", "transformers": "5.24.0"},
        git_commit="0123abc", device="cpu", started_at="2026-11-26T10:00:00Z",
        ended_at="2026-11-26T10:01:00Z",
    ).save()
    with open(run / "predictions.jsonl", "w", encoding="utf-8") as fh:
        for item_id, text in outputs.items():
            fh.write(json.dumps({"id": item_id, "output": text, "n_tokens": len(text.split()),
                                 "finish": "length" if len(text.split()) > 30 else "stop"}) + "\n")
    if scores:
        score_fixture_run(run, eval_set_dir)
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
            out[r["id"]] = ("These are pancakes.\nIngredients: flour, egg, milk.\nSteps: 1. Mix the flour, "
                            "egg and milk. 2. Fry the batter in a pan." if good else "food food food food food food")
        else:
            treat = f" Treat with {ref['treatments'][0]}." if ref["treatments"] else ""
            out[r["id"]] = (f"This tomato leaf shows {ref['disease']}.{treat}" if good or i % 2
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


def test_fixture_runs_separate_the_two_stages(tmp_path):
    es, a, b = two_stage_runs(tmp_path)
    sa = json.loads((a / "scores.json").read_text())["aggregate"]
    sb = json.loads((b / "scores.json").read_text())["aggregate"]
    assert {it["id"] for it in json.loads((b / "scores.json").read_text())["items"]} == {r["id"] for r in _manifest(es)}
    for task in ("caption", "recipe", "diagnosis"):
        assert sb[f"{task}/failure_rate"] < sa[f"{task}/failure_rate"]

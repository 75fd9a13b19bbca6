"""The committed synthetic eval sets: well formed, held out, and exactly what the code writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.errors import WorkbenchError
from workbench.evalsets import load_eval_set, validate_eval_set
from workbench.tiny.world import SEED_RANGES, SEEDS
from workbench.tiny.world.catalog import KINDS
from workbench.tiny.world.evalsets import SETS, write_eval_set, write_eval_sets

ROOT = Path(__file__).resolve().parents[1] / "eval_sets"


@pytest.mark.parametrize("name", list(SETS))
def test_committed_set_is_valid_and_held_out(name):
    task, _ = SETS[name]
    assert validate_eval_set(ROOT / name) == []
    es = load_eval_set(ROOT / name)
    assert len(es.items) >= 200 and {i.task for i in es.items} == {task}
    assert (ROOT / name / "card.md").read_text().startswith(f"# {name}")
    for line in (ROOT / name / "manifest.jsonl").read_text().splitlines():
        rec = json.loads(line)
        assert "prompt" not in rec  # the task default applies
        assert rec["meta"]["seed"] in SEED_RANGES["eval"]
    if task == "caption":
        assert set(es.vocabulary) == set(KINDS)
        assert all(len(i.reference["captions"]) >= 3 for i in es.items)
    if task == "diagnosis":
        healthy = sum(i.reference["disease"] == "healthy" for i in es.items) / len(es.items)
        assert 0.15 <= healthy <= 0.35
        assert all(i.reference["treatments"] == [] for i in es.items if i.reference["disease"] == "healthy")


def test_committed_sets_are_small():
    total = sum(p.stat().st_size for name in SETS for p in (ROOT / name).rglob("*") if p.is_file())
    assert total <= 6.5e6


@pytest.mark.parametrize("name", list(SETS))
def test_committed_set_is_what_the_code_writes(tmp_path, name):
    """Item i depends only on (seed, i): a 5-item rewrite reproduces the committed first 5 bytes-for-bytes."""
    new = write_eval_set(name, tmp_path, seed=SEEDS["eval"], n=5)
    old_lines = (ROOT / name / "manifest.jsonl").read_text().splitlines()[:5]
    assert (new / "manifest.jsonl").read_text().splitlines() == old_lines
    for i in range(5):
        assert (new / f"images/{i:04d}.png").read_bytes() == (ROOT / name / f"images/{i:04d}.png").read_bytes()
    for extra in ("vocabulary.json", "synonyms.json"):
        if (ROOT / name / extra).exists():
            assert (new / extra).read_bytes() == (ROOT / name / extra).read_bytes()


def test_writing_is_deterministic_and_refuses_training_seeds(tmp_path):
    a, b = write_eval_sets(tmp_path / "a", n_per_set=3), write_eval_sets(tmp_path / "b", n_per_set=3)
    for x, y in zip(a, b):
        files = sorted(p.relative_to(x) for p in x.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(y) for p in y.rglob("*") if p.is_file())
        assert all((x / f).read_bytes() == (y / f).read_bytes() for f in files)
    with pytest.raises(WorkbenchError, match="eval seed range"):
        write_eval_sets(tmp_path / "c", seed=SEEDS["stage2"], n_per_set=1)


@pytest.mark.parametrize("name", ["synth-recipes", "synth-plants"])
def test_the_worlds_own_answers_score_perfectly(name):
    """The answer format the corpus teaches is one the scorers read: oracle answers get full marks."""
    from workbench.scoring import score_predictions
    from workbench.tiny.world import diagnosis_answer, recipe_answer

    es = load_eval_set(ROOT / name)
    es.items = es.items[:40]
    preds = {}
    for it in es.items:
        labels = json.loads((ROOT / name / "manifest.jsonl").read_text().splitlines()[int(it.id[-4:])])["meta"]["labels"]
        out = recipe_answer(labels["dish"]) if name == "synth-recipes" else \
            diagnosis_answer(labels["crop"], labels["condition"])
        preds[it.id] = {"id": it.id, "output": out, "n_tokens": 1, "finish": "stop"}
    agg = score_predictions(es, preds)["aggregate"]
    if name == "synth-recipes":
        assert agg["recipe/dish_accuracy"] == agg["recipe/ingredient_f1"] == agg["recipe/steps_present"] == 1.0
    else:
        assert agg["diagnosis/disease_accuracy"] == agg["diagnosis/treatment_recall"] == 1.0
        assert agg["diagnosis/healthy_false_alarm"] == 0.0

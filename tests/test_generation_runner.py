"""``run_generation``'s record of a run (issue 20): run.json, the summary, prediction lines, progress bar, errors.

Expectations are independent of the code under test: image hashes recomputed with hashlib, counts and names
written out by hand, elapsed time bounded by the test's own clock, answers compared with a direct
``generate_batch`` call on the same item.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import workbench.generation.runner as runner
from generation_support import PROMPTS, load_set, make_eval_set, replace_image, tiny_model
from workbench.errors import WorkbenchError
from workbench.generation import GenerationConfig, VisionFeatureCache, generate_batch, run_generation
from workbench.generation.batch import GenerationResult
from workbench.generation.runner import RunSummary, model_identity
from workbench.generation.sampling import row_seed
from workbench.provenance import git_commit

CONFIG = GenerationConfig.greedy(max_new_tokens=3)
PREDICTION_KEYS = {"id", "output", "n_tokens", "finish", "image_sha256"}


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def read_lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_json_and_summary_record_the_call(model, tmp_path):
    root = make_eval_set(tmp_path / "es", n_items=6)
    out = tmp_path / "run"
    cache = VisionFeatureCache()
    t0 = time.perf_counter()
    summary = run_generation(model, load_set(root), out, CONFIG, batch_size=4, limit=5, seed=3, cache=cache,
                             model_info={"spec": "tiny", "identity": {"checkpoint_sha256": "abc"}},
                             extra_info={"note": "hand"}, progress=False)
    elapsed = time.perf_counter() - t0
    assert (summary.n_items, summary.n_done_before, summary.n_written, summary.n_errors) == (5, 0, 5, 0)
    assert summary.resumed is False and summary.merged_path is None
    assert summary.run_dir == str(out)
    assert summary.predictions_path == str(out / "predictions.jsonl")
    assert summary.errors_path == str(out / "errors.jsonl")
    assert summary.cache == {"hits": 0, "misses": 5}   # five distinct images, first sight
    assert 0 < summary.seconds <= elapsed
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    ident = run["identity"]
    assert set(ident) == {"model", "generation", "seed", "eval_set"}   # no "decoding" without --compile
    assert ident["seed"] == 3 and run["seed"] == 3
    assert ident["model"]["checkpoint_sha256"] == "abc" and ident["model"]["template"] == "vicuna0"
    assert run["model"] == {"spec": "tiny"}                          # the identity entry is not provenance
    assert ident["generation"] == run["generation"] == {
        "sample": False, "max_new_tokens": 3, "top_p": 1.0, "temperature": 1.0, "repetition_penalty": 1.0,
        "top_k": 0, "max_length": 2000}
    manifest_sha = sha256_of(root / "manifest.jsonl")
    assert ident["eval_set"] == {"name": load_set(root).name, "manifest_sha256": manifest_sha}
    assert run["eval_set"] == {"name": load_set(root).name, "root": str(load_set(root).root),
                               "manifest_sha256": manifest_sha, "n_items": 6}
    assert (run["batch_size"], run["limit"], run["device"]) == (4, 5, "cpu")
    assert run["command"] == " ".join(sys.argv)
    assert run["git_commit"] == git_commit()
    assert set(run) == {"schema", "identity", "model", "generation", "seed", "batch_size", "limit", "eval_set",
                        "versions", "git_commit", "device", "command", "decoding", "note", "started_at", "ended_at",
                        "resumed_at", "shards"}
    assert run["note"] == "hand"
    assert run["decoding"] == {"compile": False}
    assert {"torch", "transformers", "tokenizers"} <= set(run["versions"])
    assert run["versions"]["torch"] == torch.__version__.split("+")[0] or run["versions"]["torch"] == torch.__version__
    assert run["shards"]["0/1"]["n_items"] == 5 and run["shards"]["0/1"]["n_predictions"] == 5
    assert run["shards"]["0/1"]["n_errors_last_call"] == 0
    assert run["shards"]["0/1"]["seconds_last_call"] == round(summary.seconds, 3)   # to the millisecond
    lines = read_lines(out / "predictions.jsonl")
    assert [r["id"] for r in lines] == [f"item-{i:03d}" for i in range(5)]
    for r in lines:
        assert set(r) == PREDICTION_KEYS
        assert r["image_sha256"] == sha256_of(root / "images" / f"img{int(r['id'][-3:])}.png")
        assert r["finish"] in ("stop", "length") and 1 <= r["n_tokens"] <= 3
    # the same cache, another folder: every image is a hit now, and the counts are this call's only
    again = run_generation(model, load_set(root), tmp_path / "again", CONFIG, batch_size=4, limit=5, seed=3,
                           cache=cache, progress=False)
    assert again.cache == {"hits": 5, "misses": 0}
    third = run_generation(model, load_set(root), tmp_path / "third", CONFIG, batch_size=4, limit=5, seed=3,
                           cache=cache, progress=False)
    assert third.cache == {"hits": 5, "misses": 0}


def test_each_prediction_is_the_direct_answer_for_its_item(model, tmp_path):
    """Sampled, so each item's answer is generate_batch alone on it with its own seed row_seed(seed, id)."""
    root = make_eval_set(tmp_path / "es", n_items=5)
    config = GenerationConfig.chat_sampling(max_new_tokens=5)
    run_generation(model, load_set(root), tmp_path / "run", config, batch_size=2, seed=11, progress=False)
    es = load_set(root)
    cache = VisionFeatureCache()
    for item, line in zip(es.items, read_lines(tmp_path / "run" / "predictions.jsonl")):
        feats = cache.features(model, [item.image_path])[0]
        direct = generate_batch(model, [item.prompt], feats[None], config, seeds=[row_seed(11, str(item.id))])[0]
        assert (line["id"], line["output"], line["n_tokens"], line["finish"]) == (
            str(item.id), direct.output, direct.n_tokens, direct.finish)


def test_resume_counts_and_progress_bar(model, tmp_path, capsys):
    root = make_eval_set(tmp_path / "es", n_items=6)
    out = tmp_path / "run"
    run_generation(model, load_set(root), out, CONFIG, batch_size=2, limit=2, progress=False)
    assert capsys.readouterr().err == ""                       # progress=False: no bar
    summary = run_generation(model, load_set(root), out, CONFIG, batch_size=3, progress=True)
    assert (summary.n_items, summary.n_done_before, summary.n_written, summary.resumed) == (6, 2, 4, True)
    bar = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert bar.startswith("generate run: 100%") and "| 6/6 [" in bar
    assert "item/s]" in bar or "s/item]" in bar
    assert [r["id"] for r in read_lines(out / "predictions.jsonl")] == [f"item-{i:03d}" for i in range(6)]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert (run["batch_size"], run["limit"]) == (2, None)   # as first recorded; the limit widened to all


def test_a_progress_bar_for_a_run_with_nothing_left(model, tmp_path, capsys):
    root = make_eval_set(tmp_path / "es", n_items=3)
    run_generation(model, load_set(root), tmp_path / "run", CONFIG, batch_size=3, progress=False)
    summary = run_generation(model, load_set(root), tmp_path / "run", CONFIG, batch_size=3, progress=True)
    assert (summary.n_done_before, summary.n_written) == (3, 0)
    bar = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert bar.startswith("generate run: 100%") and "| 3/3 [" in bar


def test_sharded_runs_split_by_position_and_merge_once_complete(model, tmp_path):
    root = make_eval_set(tmp_path / "es", n_items=5)
    out = tmp_path / "run"
    one = run_generation(model, load_set(root), out, CONFIG, batch_size=2, shard=(1, 2), progress=False)
    assert one.n_items == 2 and one.merged_path is None       # items 1 and 3; shard 0 not done yet
    assert one.predictions_path != str(out / "predictions.jsonl")
    assert [r["id"] for r in read_lines(Path(one.predictions_path))] == ["item-001", "item-003"]
    zero = run_generation(model, load_set(root), out, CONFIG, batch_size=2, shard=(0, 2), progress=False)
    assert zero.n_items == 3
    assert [r["id"] for r in read_lines(Path(zero.predictions_path))] == ["item-000", "item-002", "item-004"]
    assert zero.merged_path == str(out / "predictions.jsonl")
    assert [r["id"] for r in read_lines(out / "predictions.jsonl")] == [f"item-{i:03d}" for i in range(5)]


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "--batch-size must be >= 1, got 0"),
    ({"limit": -1}, "--limit must be >= 0, got -1"),
])
def test_bad_settings_are_refused_before_anything_is_written(model, tmp_path, kwargs, message):
    root = make_eval_set(tmp_path / "es", n_items=2)
    with pytest.raises(WorkbenchError) as err:
        run_generation(model, load_set(root), tmp_path / "run", CONFIG, progress=False, **kwargs)
    assert str(err.value) == message
    assert not (tmp_path / "run").exists()


def test_the_smallest_allowed_settings_run(model, tmp_path):
    root = make_eval_set(tmp_path / "es", n_items=2)
    empty = run_generation(model, load_set(root), tmp_path / "empty", CONFIG, limit=0, progress=False)
    assert (empty.n_items, empty.n_written) == (0, 0)
    ones = run_generation(model, load_set(root), tmp_path / "ones", CONFIG, batch_size=1, progress=False)
    assert (ones.n_items, ones.n_written) == (2, 2)


def test_duplicate_ids_are_refused_with_the_eval_set_name(model, tmp_path):
    item = SimpleNamespace(id="a", image_path="x.png", prompt="p")
    dup = SimpleNamespace(name="dups", manifest_sha256="0" * 64, items=[item, SimpleNamespace(id="b"), item])
    with pytest.raises(WorkbenchError) as err:
        run_generation(model, dup, tmp_path / "run", CONFIG, progress=False)
    assert str(err.value) == "dups: duplicate item ids; run 'workbench validate' on the eval set"
    # ids are compared as text: 1 and "1" are the same id in predictions.jsonl
    mixed = SimpleNamespace(name="mixed", manifest_sha256="0" * 64,
                            items=[SimpleNamespace(id=1), SimpleNamespace(id="1")])
    with pytest.raises(WorkbenchError, match="mixed: duplicate item ids"):
        run_generation(model, mixed, tmp_path / "run", CONFIG, progress=False)


def test_changed_images_are_regenerated_and_named(model, tmp_path, capsys):
    root = make_eval_set(tmp_path / "es", n_items=8)
    out = tmp_path / "run"
    run_generation(model, load_set(root), out, CONFIG, batch_size=4, progress=False)
    for k in range(6):
        replace_image(root / "images" / f"img{k}.png", seed=100 + k, height=21)
    summary = run_generation(model, load_set(root), out, CONFIG, batch_size=4, progress=False)
    assert (summary.n_done_before, summary.n_written) == (2, 6)
    err = capsys.readouterr().err
    assert err == (f"{out}: 6 image(s) changed since their answers were generated "
                   "(item-000, item-001, item-002, item-003, item-004 ...); regenerating exactly those "
                   f"(old answers kept in {out / 'replaced.jsonl'})\n")
    replaced = read_lines(out / "replaced.jsonl")
    assert sorted(r["replaced"]["id"] for r in replaced) == [f"item-{i:03d}" for i in range(6)]
    assert {r["reason"] for r in replaced} == {"image file changed since this answer was generated"}
    for r in read_lines(out / "predictions.jsonl"):
        assert r["image_sha256"] == sha256_of(root / "images" / f"img{int(r['id'][-3:])}.png")
    for k in range(5):                                  # exactly five: all named, no ellipsis
        replace_image(root / "images" / f"img{k}.png", seed=200 + k, height=21)
    run_generation(model, load_set(root), out, CONFIG, batch_size=4, progress=False)
    assert capsys.readouterr().err == (
        f"{out}: 5 image(s) changed since their answers were generated "
        "(item-000, item-001, item-002, item-003, item-004); regenerating exactly those "
        f"(old answers kept in {out / 'replaced.jsonl'})\n")


def test_one_changed_image_is_named_without_ellipsis_and_old_lines_without_hash_stay(model, tmp_path, capsys):
    root = make_eval_set(tmp_path / "es", n_items=3)
    out = tmp_path / "run"
    run_generation(model, load_set(root), out, CONFIG, batch_size=3, progress=False)
    lines = read_lines(out / "predictions.jsonl")
    del lines[0]["image_sha256"]                       # an answer written before image hashes were kept
    (out / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    replace_image(root / "images" / "img0.png", seed=7, height=21)  # its image changes: it is left alone all the same
    replace_image(root / "images" / "img2.png", seed=8, height=21)
    summary = run_generation(model, load_set(root), out, CONFIG, batch_size=3, progress=False)
    assert (summary.n_done_before, summary.n_written) == (2, 1)
    assert capsys.readouterr().err == (
        f"{out}: 1 image(s) changed since their answers were generated (item-002); regenerating exactly those "
        f"(old answers kept in {out / 'replaced.jsonl'})\n")
    # nothing changed: nothing said, nothing regenerated
    summary = run_generation(model, load_set(root), out, CONFIG, batch_size=3, progress=False)
    assert (summary.n_done_before, summary.n_written) == (3, 0) and capsys.readouterr().err == ""


def test_a_deleted_image_takes_its_answer_out_and_fails_only_that_item(model, tmp_path, capsys):
    root = make_eval_set(tmp_path / "es", n_items=3)
    out = tmp_path / "run"
    run_generation(model, load_set(root), out, CONFIG, batch_size=3, progress=False)
    gone = root / "images" / "img1.png"
    gone.unlink()
    summary = run_generation(model, load_set(root), out, CONFIG, batch_size=3, progress=False)
    assert (summary.n_done_before, summary.n_written, summary.n_errors) == (2, 0, 1)
    assert "(item-001)" in capsys.readouterr().err
    [error] = read_lines(out / "errors.jsonl")
    assert (error["id"], error["error"]) == ("item-001", f"{gone}: cannot read image file (No such file or directory)")
    assert [r["id"] for r in read_lines(out / "predictions.jsonl")] == ["item-000", "item-002"]


def test_unreadable_images_fail_only_their_items_even_in_the_first_batch(model, tmp_path):
    root = make_eval_set(tmp_path / "es", n_items=4)
    (root / "images" / "img1.png").write_bytes(b"not a png")
    (root / "images" / "img2.png").unlink()
    summary = run_generation(model, load_set(root), tmp_path / "run", CONFIG, batch_size=2, progress=False)
    assert (summary.n_written, summary.n_errors) == (2, 2)
    errors = {e["id"]: e["error"] for e in read_lines(tmp_path / "run" / "errors.jsonl")}
    assert set(errors) == {"item-001", "item-002"}
    assert errors["item-002"] == f"{root / 'images' / 'img2.png'}: cannot read image file (No such file or directory)"
    assert errors["item-001"].startswith(str(root / "images" / "img1.png"))
    assert not errors["item-001"].startswith("WorkbenchError")     # a WorkbenchError is shown as its own line
    # a batch whose images all fail never calls the model
    bad = make_eval_set(tmp_path / "bad", n_items=2)
    for k in range(2):
        (bad / "images" / f"img{k}.png").unlink()
    summary = run_generation(model, load_set(bad), tmp_path / "bad_run", CONFIG, batch_size=2, progress=False)
    assert (summary.n_written, summary.n_errors) == (0, 2)


def test_error_text_names_the_type_of_unexpected_exceptions():
    assert runner._error_text(WorkbenchError("x.png: cannot read image file (gone)")) == \
        "x.png: cannot read image file (gone)"
    assert runner._error_text(ValueError("bad value")) == "ValueError: bad value"


def _answers(monkeypatch, text):
    def fake(model, questions, features, config, seeds=None, **kwargs):
        return [GenerationResult(output=text, n_tokens=7, finish="stop") for _ in questions]
    monkeypatch.setattr(runner, "generate_batch", fake)


def test_grounding_answers_get_boxes_only_for_minigptv2(model, tmp_path, monkeypatch):
    root = make_eval_set(tmp_path / "es", n_items=2)
    _answers(monkeypatch, "<p>dog</p> {<10><20><30><40>}")
    run_generation(model, load_set(root), tmp_path / "vicuna", CONFIG, progress=False)
    for r in read_lines(tmp_path / "vicuna" / "predictions.jsonl"):
        assert set(r) == PREDICTION_KEYS and (r["output"], r["n_tokens"], r["finish"]) == (
            "<p>dog</p> {<10><20><30><40>}", 7, "stop")
    v2 = SimpleNamespace(name="minigptv2")
    monkeypatch.setattr(model, "template", v2, raising=False)
    run_generation(model, load_set(root), tmp_path / "v2", CONFIG, progress=False)
    for r in read_lines(tmp_path / "v2" / "predictions.jsonl"):
        assert r["boxes"] == [{"phrase": "dog", "box": [10, 20, 30, 40]}]
    monkeypatch.setattr(model, "template", SimpleNamespace(), raising=False)     # a template without a name
    run_generation(model, load_set(root), tmp_path / "unnamed", CONFIG, progress=False)
    assert all(set(r) == PREDICTION_KEYS for r in read_lines(tmp_path / "unnamed" / "predictions.jsonl"))
    monkeypatch.delattr(model, "template")                                       # no template at all
    run_generation(model, load_set(root), tmp_path / "none", CONFIG, progress=False)
    assert all(set(r) == PREDICTION_KEYS for r in read_lines(tmp_path / "none" / "predictions.jsonl"))


def test_model_identity_names_every_part(model):
    ident = model_identity(model)
    assert set(ident) == {"projection_weights_sha256", "frozen_fingerprint", "llm_weights_sha256", "template",
                          "connector", "llm", "llm_dtype", "device_type"}
    assert (ident["template"], ident["connector"], ident["llm"], ident["llm_dtype"], ident["device_type"]) == (
        "vicuna0", "qformer", None, "float32", "cpu")
    assert ident["frozen_fingerprint"] == model.frozen_fingerprint()
    for key in ("projection_weights_sha256", "llm_weights_sha256"):
        assert len(ident[key]) == 64 and int(ident[key], 16) >= 0


def test_llm_name_is_the_last_part_of_its_path(model, monkeypatch):
    monkeypatch.setattr(model.llm.config, "_name_or_path", "/models/vicuna-7b-v0")
    assert model_identity(model)["llm"] == "vicuna-7b-v0"


def test_a_recorded_llm_fingerprint_is_used_as_is_and_weights_are_hashed_otherwise(model, monkeypatch):
    computed = model_identity(model)["llm_weights_sha256"]
    monkeypatch.setattr(model, "llm_weights_sha256", "f" * 64, raising=False)
    assert model_identity(model)["llm_weights_sha256"] == "f" * 64
    monkeypatch.setattr(model, "llm_weights_sha256", None, raising=False)   # not a string: hash the weights
    assert model_identity(model)["llm_weights_sha256"] == computed


def _nudged(tensor: torch.Tensor, model) -> dict:
    """model_identity with one entry of ``tensor`` moved, then the tensor put back exactly."""
    saved = tensor.detach().clone()
    with torch.no_grad():
        tensor.view(-1)[0] += 1.0
    try:
        return model_identity(model)
    finally:
        with torch.no_grad():
            tensor.copy_(saved)


def test_weight_hashes_change_with_the_weights_they_cover(model):
    before = model_identity(model)
    moved = _nudged(model.llama_proj.bias, model)
    assert moved["projection_weights_sha256"] != before["projection_weights_sha256"]
    assert moved["llm_weights_sha256"] == before["llm_weights_sha256"]
    moved = _nudged(model.llm.get_input_embeddings().weight, model)
    assert moved["llm_weights_sha256"] != before["llm_weights_sha256"]
    assert moved["projection_weights_sha256"] == before["projection_weights_sha256"]
    assert model_identity(model) == before


def test_device_falls_back_to_cpu_when_the_model_has_no_llm_parameters():
    assert runner._device_of(SimpleNamespace()) == "cpu"
    assert runner._device_of(SimpleNamespace(llm=torch.nn.Module())) == "cpu"
    assert runner._device_of(SimpleNamespace(llm=torch.nn.Linear(1, 1))) == "cpu"


def test_summary_dict_adds_items_per_second():
    s = RunSummary(run_dir="r", predictions_path="p", errors_path="e", n_items=4, n_done_before=1, n_written=3,
                   n_errors=0, seconds=2.0, resumed=True)
    assert s.items_per_s == 1.5
    assert s.to_dict() == {"run_dir": "r", "predictions_path": "p", "errors_path": "e", "n_items": 4,
                           "n_done_before": 1, "n_written": 3, "n_errors": 0, "seconds": 2.0, "resumed": True,
                           "cache": {}, "merged_path": None, "items_per_s": 1.5}
    s.seconds, s.n_written = 3.0, 1
    assert s.to_dict()["items_per_s"] == 0.333
    s.seconds = 0.0
    assert s.items_per_s == 0.0


class FakeCompiled:
    """Stands in for CompiledDecoding where generation itself is faked: only its description is recorded."""

    def describe(self) -> dict:
        return {"compile": True, "length_multiple": 8, "backend": "fake", "mode": None}


def test_a_failed_batch_retries_each_item_with_its_own_seed_and_decoding(model, tmp_path, monkeypatch):
    root = make_eval_set(tmp_path / "es", n_items=4)
    poison = PROMPTS[2]
    calls = []
    compiled = FakeCompiled()

    def fake(model, questions, features, config, seeds=None, compiled=None):
        calls.append((list(questions), list(seeds), compiled, tuple(features.shape[:1])))
        if poison in questions:
            raise RuntimeError("poisoned prompt")
        return [GenerationResult(output=f"seed {s}", n_tokens=1, finish="stop") for s in seeds]

    monkeypatch.setattr(runner, "generate_batch", fake)
    config = GenerationConfig.chat_sampling(max_new_tokens=3)
    summary = run_generation(model, load_set(root), tmp_path / "run", config, batch_size=2, seed=5,
                             compiled=compiled, progress=False)
    assert (summary.n_written, summary.n_errors) == (3, 1)
    seed_of = {f"item-{i:03d}": row_seed(5, f"item-{i:03d}") for i in range(4)}
    assert [(q, s, c is compiled, n) for q, s, c, n in calls] == [
        (PROMPTS[:2], [seed_of["item-000"], seed_of["item-001"]], True, (2,)),
        (PROMPTS[2:4], [seed_of["item-002"], seed_of["item-003"]], True, (2,)),
        ([PROMPTS[2]], [seed_of["item-002"]], True, (1,)),
        ([PROMPTS[3]], [seed_of["item-003"]], True, (1,)),
    ]
    outputs = {r["id"]: r["output"] for r in read_lines(tmp_path / "run" / "predictions.jsonl")}
    assert outputs == {i: f"seed {seed_of[i]}" for i in ("item-000", "item-001", "item-003")}
    errors = read_lines(tmp_path / "run" / "errors.jsonl")
    assert [(e["id"], e["error"]) for e in errors] == [("item-002", "RuntimeError: poisoned prompt")]
    run = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert run["identity"]["decoding"] == run["decoding"] == compiled.describe()


def test_the_first_batch_may_fail_only_before_anything_succeeded(model, tmp_path, monkeypatch):
    """A second call on the same folder starts from nothing written in that call: its first failure is raised."""
    root = make_eval_set(tmp_path / "es", n_items=4)
    run_generation(model, load_set(root), tmp_path / "run", CONFIG, batch_size=2, limit=2, progress=False)

    def broken(model, questions, features, config, seeds=None, compiled=None):
        raise RuntimeError("broken setup")

    monkeypatch.setattr(runner, "generate_batch", broken)
    with pytest.raises(RuntimeError, match="broken setup"):
        run_generation(model, load_set(root), tmp_path / "run", CONFIG, batch_size=2, progress=False)


def test_an_eval_set_without_a_root_is_recorded_with_an_empty_one(model, tmp_path):
    es = load_set(make_eval_set(tmp_path / "es", n_items=1))
    bare = SimpleNamespace(name=es.name, manifest_sha256=es.manifest_sha256, items=es.items)
    run_generation(model, bare, tmp_path / "run", CONFIG, progress=False)
    run = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert run["eval_set"] == {"name": es.name, "root": "", "manifest_sha256": es.manifest_sha256, "n_items": 1}


def test_the_device_recorded_is_the_llms(monkeypatch):
    """On this CPU machine every model is on "cpu"; a model on the meta device shows the device is looked up."""
    monkeypatch.setattr(runner, "model_identity", lambda model: {"stub": True})
    meta = SimpleNamespace(llm=torch.nn.Linear(1, 1, device="meta"))
    es = SimpleNamespace(name="es", manifest_sha256="0" * 64, items=[])
    identity, info = runner._run_record(meta, es, CONFIG, 0, None, None, None)
    assert info["device"] == "meta" and identity["model"] == {"stub": True}


def test_an_answer_recorded_with_an_empty_image_hash_is_regenerated_when_its_image_is_gone(model, tmp_path):
    root = make_eval_set(tmp_path / "es", n_items=2)
    out = tmp_path / "run"
    run_generation(model, load_set(root), out, CONFIG, batch_size=2, progress=False)
    lines = read_lines(out / "predictions.jsonl")
    lines[1]["image_sha256"] = ""                       # a hand-edited line: matches no image, not even a missing one
    (out / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    (root / "images" / "img1.png").unlink()
    summary = run_generation(model, load_set(root), out, CONFIG, batch_size=2, progress=False)
    assert (summary.n_done_before, summary.n_written, summary.n_errors) == (1, 0, 1)


def test_defaults_batch_of_eight_seed_zero_and_a_progress_bar(model, tmp_path, capsys):
    root = make_eval_set(tmp_path / "es", n_items=1)
    run_generation(model, load_set(root), tmp_path / "run")
    run = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert (run["batch_size"], run["seed"], run["identity"]["seed"]) == (8, 0, 0)
    assert run["generation"]["max_new_tokens"] == 300 and run["generation"]["sample"] is False
    assert "generate run: 100%" in capsys.readouterr().err


def test_model_identity_of_a_model_without_template_connector_or_llm_path(model, monkeypatch):
    monkeypatch.setattr(model, "frozen_fingerprint", lambda: "0" * 64)   # it reads the connector itself
    monkeypatch.delattr(model, "template")
    monkeypatch.delattr(model, "connector")
    monkeypatch.delattr(model.llm.config, "_name_or_path")
    ident = model_identity(model)
    assert (ident["template"], ident["connector"], ident["llm"]) == (None, None, None)
    monkeypatch.setattr(model, "template", SimpleNamespace(), raising=False)
    assert model_identity(model)["template"] is None

"""Run store: contract files, durable resume (also after kill -9), refusals, per-item errors, shards."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from generation_support import load_set, make_eval_set, tiny_model
from workbench.errors import WorkbenchError
from workbench.generation import GenerationConfig, VisionFeatureCache, run_generation
from workbench.runs import RunRecord, RunStore, merge_shards, read_predictions

TESTS = Path(__file__).resolve().parent
CONFIG = GenerationConfig.greedy(max_new_tokens=10)


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def eval_root(tmp_path_factory):
    return make_eval_set(tmp_path_factory.mktemp("evalset") / "tinyset", n_items=12, n_images=6)


@pytest.fixture(scope="module")
def reference(model, eval_root, tmp_path_factory):
    """An uninterrupted run: the lines every other way of running must reproduce."""
    out = tmp_path_factory.mktemp("ref") / "run"
    run_generation(model, load_set(eval_root), out, CONFIG, batch_size=4, progress=False)
    return (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()


def lines(run_dir):
    return (Path(run_dir) / "predictions.jsonl").read_text(encoding="utf-8").splitlines()


def as_set(lines_):
    return {json.loads(x)["id"]: json.loads(x) for x in lines_}


def test_run_folder_follows_the_contract(model, eval_root, reference, tmp_path):
    out = tmp_path / "run"
    summary = run_generation(model, load_set(eval_root), out, CONFIG, batch_size=5, seed=3,
                             model_info={"spec": "tiny-test"}, progress=False)
    assert summary.n_written == 12 and summary.n_errors == 0 and not summary.resumed
    records = [json.loads(x) for x in lines(out)]
    assert [r["id"] for r in records] == [f"item-{i:03d}" for i in range(12)]
    items = {item.id: item for item in load_set(eval_root).items}
    for r in records:
        assert set(r) == {"id", "output", "n_tokens", "finish", "image_sha256"}
        assert r["finish"] in ("stop", "length") and isinstance(r["n_tokens"], int)
        assert r["image_sha256"] == hashlib.sha256(Path(items[r["id"]].image_path).read_bytes()).hexdigest()
    assert lines(out) == reference  # batch size 5 vs 4: same greedy outputs
    info = RunRecord.load(out).to_dict()
    assert info["model"]["spec"] == "tiny-test"
    assert info["identity"]["model"]["frozen_fingerprint"] == model.frozen_fingerprint()
    assert info["identity"]["generation"] == CONFIG.to_dict()
    assert info["eval_set"]["manifest_sha256"] == load_set(eval_root).manifest_sha256
    assert info["seed"] == 3 and info["device"] == "cpu"
    assert info["versions"]["torch"] and info["versions"]["transformers"]
    assert "git_commit" in info and info["started_at"] and info["ended_at"]
    assert read_predictions(out) == {r["id"]: r for r in records}


def test_resume_skips_done_items_and_matches_uninterrupted(model, eval_root, reference, tmp_path):
    out = tmp_path / "run"
    first = run_generation(model, load_set(eval_root), out, CONFIG, batch_size=4, limit=5, progress=False)
    assert first.n_written == 5
    second = run_generation(model, load_set(eval_root), out, CONFIG, batch_size=3, progress=False)
    assert second.resumed and second.n_done_before == 5 and second.n_written == 7
    assert as_set(lines(out)) == as_set(reference)
    third = run_generation(model, load_set(eval_root), out, CONFIG, batch_size=4, progress=False)
    assert third.n_written == 0 and len(lines(out)) == 12
    assert len(RunRecord.load(out).to_dict()["resumed_at"]) == 2


def test_sampled_run_resumes_to_the_same_outputs(model, eval_root, tmp_path):
    config = GenerationConfig.chat_sampling(max_new_tokens=10)
    whole = tmp_path / "whole"
    run_generation(model, load_set(eval_root), whole, config, batch_size=4, seed=11, progress=False)
    parts = tmp_path / "parts"
    run_generation(model, load_set(eval_root), parts, config, batch_size=4, seed=11, limit=5, progress=False)
    run_generation(model, load_set(eval_root), parts, config, batch_size=4, seed=11, progress=False)
    assert as_set(lines(parts)) == as_set(lines(whole))
    other = tmp_path / "other"
    run_generation(model, load_set(eval_root), other, config, batch_size=4, seed=12, progress=False)
    assert as_set(lines(other)) != as_set(lines(whole))


def test_torn_last_line_is_repaired_on_resume(model, eval_root, reference, tmp_path):
    out = tmp_path / "run"
    run_generation(model, load_set(eval_root), out, CONFIG, batch_size=4, limit=6, progress=False)
    with open(out / "predictions.jsonl", "a", encoding="utf-8") as handle:
        handle.write(reference[6][: len(reference[6]) // 2])  # a write cut short by a kill
    assert len(read_predictions(out)) == 6  # readers ignore the torn line
    run_generation(model, load_set(eval_root), out, CONFIG, batch_size=4, progress=False)
    assert lines(out) == reference


def test_a_bad_line_before_the_end_is_an_error_naming_it(model, eval_root, tmp_path):
    out = tmp_path / "run"
    run_generation(model, load_set(eval_root), out, CONFIG, batch_size=4, limit=4, progress=False)
    text = lines(out)
    text[1] = "{garbage"
    (out / "predictions.jsonl").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(WorkbenchError, match=r"predictions\.jsonl:2: invalid JSON"):
        run_generation(model, load_set(eval_root), out, CONFIG, batch_size=4, progress=False)


@pytest.mark.parametrize("change", ["config", "seed", "model", "eval_set"])
def test_resume_with_different_settings_is_refused(model, eval_root, tmp_path, change):
    out = tmp_path / "run"
    run_generation(model, load_set(eval_root), out, CONFIG, batch_size=4, limit=2, progress=False)
    kwargs = dict(config=CONFIG, seed=0)
    other_model, eval_set = model, load_set(eval_root)
    if change == "config":
        kwargs["config"] = GenerationConfig.greedy(max_new_tokens=11)
    elif change == "seed":
        kwargs["seed"] = 1
    elif change == "model":
        other_model = tiny_model(seed=1)
    else:
        other_root = make_eval_set(tmp_path / "other", n_items=3)
        eval_set = load_set(other_root)
    with pytest.raises(WorkbenchError, match="made with different settings") as err:
        run_generation(other_model, eval_set, out, batch_size=4, progress=False, **kwargs)
    assert "use a new --out folder" in str(err.value)
    assert len(lines(out)) == 2  # nothing lost


def test_unreadable_image_fails_only_its_item(model, eval_root, tmp_path):
    root = make_eval_set(tmp_path / "broken", n_items=6, n_images=6)
    (root / "images" / "img2.png").write_bytes(b"not a png at all")
    (root / "images" / "img4.png").unlink()
    out = tmp_path / "run"
    summary = run_generation(model, load_set(root), out, CONFIG, batch_size=4, progress=False)
    assert summary.n_written == 4 and summary.n_errors == 2
    assert sorted(read_predictions(out)) == ["item-000", "item-001", "item-003", "item-005"]
    errors = [json.loads(x) for x in (out / "errors.jsonl").read_text().splitlines()]
    assert [e["id"] for e in errors] == ["item-002", "item-004"]
    assert "img2.png" in errors[0]["error"] and "img4.png" in errors[1]["error"]
    again = run_generation(model, load_set(root), out, CONFIG, batch_size=4, progress=False)
    assert again.n_written == 0 and again.n_errors == 2 and len(lines(out)) == 4


def test_shards_merge_to_the_single_process_file(model, eval_root, reference, tmp_path):
    out = tmp_path / "run"
    cache = VisionFeatureCache()
    summaries = [run_generation(model, load_set(eval_root), out, CONFIG, batch_size=2, shard=(index, 3),
                                cache=cache, progress=False) for index in range(3)]
    assert [s.n_items for s in summaries] == [4, 4, 4]
    assert [s.merged_path for s in summaries[:2]] == [None, None]  # the last shard to finish merges
    assert summaries[2].merged_path == str(out / "predictions.jsonl")
    assert lines(out) == reference
    (out / "predictions.jsonl").unlink()
    assert len(read_predictions(out)) == 12  # readers fall back to the shard files
    merge_shards(out, 3, [item.id for item in load_set(eval_root).items])
    assert lines(out) == reference


# ---- processes ----------------------------------------------------------------------------------------
CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    import torch
    from generation_support import load_set, tiny_model
    import workbench.generation.runner as runner
    from workbench.generation import GenerationConfig, run_generation

    slow = runner.generate_batch
    def slowed(*args, **kwargs):
        time.sleep(0.15)
        return slow(*args, **kwargs)
    runner.generate_batch = slowed
    print("ready", flush=True)
    run_generation(tiny_model(), load_set({root!r}), {out!r}, GenerationConfig.greedy(max_new_tokens=10),
                   batch_size=2, progress=False)
""")


def spawn(script: str, tmp_path: Path) -> subprocess.Popen:
    path = tmp_path / f"child_{time.monotonic_ns()}.py"
    path.write_text(script, encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_kill_9_at_a_random_point_then_resume(model, eval_root, reference, tmp_path):
    rng = random.Random()
    target = rng.randint(1, 8)  # kill once this many lines exist, plus a random extra delay
    out = tmp_path / "run"
    child = spawn(CHILD.format(tests=str(TESTS), root=str(eval_root), out=str(out)), tmp_path)
    try:
        deadline = time.monotonic() + 120
        while count_lines(out / "predictions.jsonl") < target and child.poll() is None:
            assert time.monotonic() < deadline, "child made no progress"
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.2))
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    stderr = child.stderr.read()
    assert child.returncode == -signal.SIGKILL, stderr  # killed mid-run, not finished
    assert 0 < count_lines(out / "predictions.jsonl") < 12, stderr
    summary = run_generation(model, load_set(eval_root), out, CONFIG, batch_size=4, progress=False)
    assert summary.resumed and summary.n_written == 12 - summary.n_done_before
    assert lines(out) == reference  # every id exactly once, same outputs, same order


HOLDER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from workbench.runs import RunStore
    store = RunStore({out!r})
    store.open({{"model": "m"}}, {{}})
    print("locked", flush=True)
    time.sleep(120)
""")


def test_second_writer_is_refused_and_a_killed_holder_does_not_block(tmp_path):
    out = tmp_path / "run"
    child = spawn(HOLDER.format(tests=str(TESTS), out=str(out)), tmp_path)
    try:
        assert child.stdout.readline().strip() == "locked", child.stderr.read()
        with pytest.raises(WorkbenchError, match=rf"being written by pid {child.pid} .*choose another --out"):
            RunStore(out).open({"model": "m"}, {})
        with pytest.raises(WorkbenchError, match="being written by"):  # through the generation loop too
            run_generation(tiny_model(), load_set(make_eval_set(tmp_path / "es", 2)), out, CONFIG,
                           progress=False)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert (out / ".lock").exists()  # the stale lock file is still there ...
    with RunStore(out) as store:     # ... and does not block
        store.open({"model": "m"}, {})
        store.append_prediction({"id": "x", "output": "o", "n_tokens": 1, "finish": "stop"})
    assert read_predictions(out)["x"]["output"] == "o"

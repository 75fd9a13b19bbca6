"""A run's identity covers every input that changes an answer (issue 16): image bytes, the LLM's weights.

Expectations are independent of the code under test: image hashes are recomputed here with hashlib, and
"exactly the changed items" is checked against an uninterrupted run on the new images.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
import torch

from generation_support import CountingEncoder, load_set, make_eval_set, replace_image, tiny_model
from workbench.errors import WorkbenchError
from workbench.generation import GenerationConfig, VisionFeatureCache, run_generation
from workbench.model.fingerprint import folder_fingerprint
from workbench.run_record import RunRecord

CONFIG = GenerationConfig.greedy(max_new_tokens=6)


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def lines(run: Path) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, (run / "predictions.jsonl").read_text().splitlines())}


def test_resume_after_replaced_images_regenerates_exactly_those(model, tmp_path, capsys):
    root = make_eval_set(tmp_path / "es", n_items=6)
    run = tmp_path / "run"
    run_generation(model, load_set(root), run, CONFIG, batch_size=3, progress=False)
    before = lines(run)
    for k in (1, 4):  # new bytes under the same names; the manifest is unchanged
        replace_image(root / "images" / f"img{k}.png", seed=100 + k)

    summary = run_generation(model, load_set(root), run, CONFIG, batch_size=3, progress=False)
    assert summary.n_written == 2 and summary.resumed
    err = capsys.readouterr().err
    assert "2 image(s) changed since their answers were generated (item-001, item-004)" in err
    after = lines(run)
    for item_id, record in after.items():
        image = root / "images" / f"img{int(item_id[-1])}.png"
        assert record["image_sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    assert {i: after[i] for i in after if i not in ("item-001", "item-004")} == \
        {i: before[i] for i in before if i not in ("item-001", "item-004")}
    fresh = tmp_path / "fresh"  # what an uninterrupted run on the new images writes
    run_generation(model, load_set(root), fresh, CONFIG, batch_size=3, progress=False)
    assert after == lines(fresh)
    replaced = [json.loads(x) for x in (run / "replaced.jsonl").read_text().splitlines()]
    assert [r["replaced"] for r in replaced] == [before["item-001"], before["item-004"]]  # nothing lost

    assert run_generation(model, load_set(root), run, CONFIG, progress=False).n_written == 0  # settled


def test_resume_after_changed_llm_weights_is_refused_naming_them(model, tmp_path):
    root = make_eval_set(tmp_path / "es", n_items=3)
    run = tmp_path / "run"
    run_generation(model, load_set(root), run, CONFIG, progress=False)
    changed = copy.deepcopy(model)
    with torch.no_grad():
        next(changed.llm.parameters()).add_(1e-3)  # projection and frozen vision parts untouched
    with pytest.raises(WorkbenchError) as err:
        run_generation(changed, load_set(root), run, CONFIG, progress=False)
    message = str(err.value)
    assert "\n" not in message and "model.llm_weights_sha256: run has" in message
    assert "projection" not in message and "frozen_fingerprint" not in message
    assert "use a new --out folder" in message
    assert len(lines(run)) == 3  # nothing lost


def test_vision_cache_reencodes_a_replaced_image(model, tmp_path):
    root = make_eval_set(tmp_path / "es", n_items=2)
    cache = VisionFeatureCache(tmp_path / "cache")
    counter = CountingEncoder(model)
    path = root / "images" / "img0.png"
    first = cache.features(model, [path])[0]
    assert cache.features(model, [path])[0].equal(first) and counter.images == 1
    replace_image(path, seed=7)
    second = cache.features(model, [path])[0]
    assert counter.images == 2 and not second.equal(first)
    del model.encode_features  # undo the counting wrapper on the shared fixture


def write_safetensors(path: Path, payload: bytes) -> None:
    header = json.dumps({"w": {"dtype": "U8", "shape": [len(payload)], "data_offsets": [0, len(payload)]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + payload)


def test_llm_folder_fingerprint_sees_content_and_caches_hashes(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    llm = tmp_path / "llm"
    llm.mkdir()
    write_safetensors(llm / "model.safetensors", b"\x01" * 64)
    (llm / "config.json").write_text('{"hidden_size": 8}')
    first = folder_fingerprint(llm)

    hashed = []
    import workbench.model.fingerprint as fp
    real = fp.file_sha256
    monkeypatch.setattr(fp, "file_sha256", lambda p: hashed.append(Path(p).name) or real(p))
    assert folder_fingerprint(llm) == first and hashed == []  # unchanged files: no rereading

    write_safetensors(llm / "model.safetensors", b"\x02" * 64)  # same size, same header, new bytes
    st = (llm / "model.safetensors").stat()
    os.utime(llm / "model.safetensors", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    second = folder_fingerprint(llm)
    assert second != first and hashed == ["model.safetensors"]
    (llm / "config.json").write_text('{"hidden_size": 9}')
    assert folder_fingerprint(llm) not in (first, second)


def test_run_record_refuses_an_unknown_schema(tmp_path):
    run = tmp_path / "run"
    RunRecord(run_dir=run, eval_set={"manifest_sha256": "0" * 64}).save()
    assert RunRecord.load(run).manifest_sha256 == "0" * 64
    data = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps(data | {"schema": 7}))
    with pytest.raises(WorkbenchError, match=r"run.json: run record schema 7 is not one this workbench reads \(1\)"):
        RunRecord.load(run)


def test_written_files_follow_the_umask(model, tmp_path):
    old = os.umask(0o022)
    try:
        root = make_eval_set(tmp_path / "es", n_items=2)
        run = tmp_path / "run"
        run_generation(model, load_set(root), run, CONFIG, cache=VisionFeatureCache(tmp_path / "cache"),
                       progress=False)
        from workbench.scoring.scores import score_file
        score_file(run / "predictions.jsonl", load_set(root), run / "scores.json", meteor=False,
                   record=RunRecord.load(run))
        written = [run / "run.json", run / "predictions.jsonl", run / "scores.json",
                   *(p for p in (tmp_path / "cache").rglob("*.safetensors"))]
        assert len(written) == 5
        for path in written:
            assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    finally:
        os.umask(old)

"""Vision-feature cache: one encoder pass per image across checkpoints, on disk, safe to reload."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import load_file

from generation_support import CountingEncoder, load_set, make_eval_set, second_checkpoint, tiny_model
from workbench.errors import WorkbenchError
from workbench.generation import GenerationConfig, VisionFeatureCache, run_generation
from workbench.model.preprocess import open_image, preprocess_images
from workbench.runs import read_predictions

CONFIG = GenerationConfig.greedy(max_new_tokens=6)


@pytest.fixture()
def eval_root(tmp_path):
    return make_eval_set(tmp_path / "set", n_items=8, n_images=4)  # every image used twice


def test_two_checkpoints_encode_each_image_once(tmp_path, eval_root):
    stage1 = tiny_model()
    stage2 = second_checkpoint(stage1)
    assert stage1.frozen_fingerprint() == stage2.frozen_fingerprint()
    counter = CountingEncoder(stage1, stage2)
    cache = VisionFeatureCache(tmp_path / "cache")
    eval_set = load_set(eval_root)
    run_generation(stage1, eval_set, tmp_path / "run1", CONFIG, batch_size=3, cache=cache, progress=False)
    run_generation(stage2, eval_set, tmp_path / "run2", CONFIG, batch_size=3, cache=cache, progress=False)
    assert counter.images == 4  # 4 distinct images, 8 items, 2 checkpoints
    assert cache.encoded_images == 4 and cache.hits == 16 - 4
    # a new process (new cache object on the same folder) encodes nothing
    run_generation(stage2, eval_set, tmp_path / "run3", CONFIG, batch_size=3,
                   cache=VisionFeatureCache(tmp_path / "cache"), progress=False)
    assert counter.images == 4
    # and the projections really differ, so the two runs are different checkpoints
    assert read_predictions(tmp_path / "run1") != read_predictions(tmp_path / "run2")


def test_cached_features_equal_fresh_ones_and_outputs_do_not_change(tmp_path, eval_root):
    model = tiny_model()
    eval_set = load_set(eval_root)
    paths = [item.image_path for item in eval_set.items]
    fresh = model.encode_features(preprocess_images([open_image(p) for p in paths], model.image_size))
    cache = VisionFeatureCache(tmp_path / "cache")
    cache.features(model, paths)
    reloaded = VisionFeatureCache(tmp_path / "cache").features(model, paths)
    assert torch.equal(torch.stack(reloaded), fresh)
    run_generation(model, eval_set, tmp_path / "cached", CONFIG, cache=cache, progress=False)
    run_generation(model, eval_set, tmp_path / "plain", CONFIG, cache=VisionFeatureCache(), progress=False)
    assert read_predictions(tmp_path / "cached") == read_predictions(tmp_path / "plain")


def test_key_is_image_content_not_path(tmp_path, eval_root):
    model = tiny_model()
    counter = CountingEncoder(model)
    cache = VisionFeatureCache(tmp_path / "cache")
    copy = tmp_path / "elsewhere.png"
    shutil.copy(eval_root / "images" / "img0.png", copy)
    cache.features(model, [eval_root / "images" / "img0.png"])
    cache.features(model, [copy])
    assert counter.images == 1
    cache.features(model, [eval_root / "images" / "img1.png", eval_root / "images" / "img1.png"])
    assert counter.images == 2  # duplicates within one call are encoded once


def test_different_frozen_weights_do_not_share_entries(tmp_path, eval_root):
    a, b = tiny_model(seed=0), tiny_model(seed=1)
    assert a.frozen_fingerprint() != b.frozen_fingerprint()
    counter = CountingEncoder(a, b)
    cache = VisionFeatureCache(tmp_path / "cache")
    path = eval_root / "images" / "img0.png"
    fa, fb = cache.features(a, [path])[0], cache.features(b, [path])[0]
    assert counter.images == 2 and not torch.equal(fa, fb)


def test_entries_are_plain_safetensors_and_a_corrupt_one_is_recomputed(tmp_path, eval_root):
    model = tiny_model()
    cache = VisionFeatureCache(tmp_path / "cache")
    path = eval_root / "images" / "img0.png"
    first = cache.features(model, [path])[0]
    (entry,) = list((tmp_path / "cache").rglob("*.safetensors"))
    assert torch.equal(load_file(str(entry))["features"], first)
    entry.write_bytes(b"\x00" * 10)
    with pytest.warns(UserWarning, match="unreadable vision-cache entry"):
        again = VisionFeatureCache(tmp_path / "cache").features(model, [path])[0]
    assert torch.equal(again, first)


def test_unreadable_image_is_reported_per_item(tmp_path, eval_root):
    model = tiny_model()
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    good = eval_root / "images" / "img0.png"
    results = VisionFeatureCache().features(model, [good, bad, tmp_path / "missing.png"])
    assert isinstance(results[0], torch.Tensor)
    assert isinstance(results[1], WorkbenchError) and "bad.png" in str(results[1])
    assert isinstance(results[2], WorkbenchError) and "missing.png" in str(results[2])

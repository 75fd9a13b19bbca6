"""Compiled decoding (``--compile``): static KV cache + torch.compile over bucketed shapes gives the default path's
greedy tokens, compiles once per shape bucket, and is recorded in run.json; the stopping criterion reads nothing
back from the device per step.

The compiled tests use torch.compile's ``aot_eager`` backend: TorchDynamo captures the step and AOTAutograd
functionalises it (the static cache's in-place updates included), as for inductor, but no C++ is generated. Inductor
itself compiled the tiny model's step in 35 s with a warm cache and 515 s from a cold one on this shared 2-core machine
(docs/generation.md), too slow for the suite; ``WORKBENCH_TEST_INDUCTOR=1`` runs the inductor case as well.
"""

from __future__ import annotations

import functools
import json
import os

import pytest
import torch
from torch._dynamo.backends.registry import lookup_backend

from generation_support import make_eval_set
from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.evalsets import load_eval_set
from workbench.generation import GenerationConfig, generate_batch
from workbench.generation import compiled as compiled_module
from workbench.generation.compiled import CompiledDecoding, bucket_batch, bucket_length, pad_for_compile
from workbench.generation.stopping import EndSymbolStop
from workbench.generation.vision_cache import VisionFeatureCache
from workbench.model.loading import load_model
from workbench.pipeline_config import load_config
from workbench.runs import RunRecord, read_predictions


class CountingBackend:
    """A torch.compile backend that counts the graphs it is given and hands them to ``name``'s backend."""

    def __init__(self, name: str = "aot_eager"):
        self.graphs = 0
        self.inner = lookup_backend(name)
        self.__name__ = f"counting-{name}"

    def __call__(self, gm, example_inputs):
        self.graphs += 1
        return self.inner(gm, example_inputs)

    def __deepcopy__(self, memo):  # transformers deep-copies the CompileConfig; keep one counter
        return self


@pytest.fixture(scope="module")
def tiny():
    torch.set_num_threads(1)
    model = load_model("tiny-stage2", device="cpu")  # models/tiny, card models/tiny/tiny-stage2.json
    items = list(load_eval_set("eval_sets/synth-captions", check_images=False).items)[:7]
    features = torch.stack(VisionFeatureCache().features(model, [item.image_path for item in items]))
    return model, [item.prompt for item in items], features


def test_buckets_by_hand():
    assert [bucket_batch(n) for n in (1, 2, 3, 4, 5, 8, 9, 16, 17)] == [1, 2, 4, 4, 8, 8, 16, 16, 32]
    assert [bucket_length(n, 64) for n in (1, 63, 64, 65, 128, 129)] == [64, 64, 64, 128, 128, 192]


def test_padding_adds_masked_columns_on_the_left_and_copies_of_row_0():
    embeds = torch.arange(3 * 5 * 2, dtype=torch.float32).reshape(3, 5, 2)
    mask = torch.tensor([[0, 1, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 1, 1]])
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    e, m, p = pad_for_compile(embeds, mask, positions, multiple=4)
    assert e.shape == (4, 8, 2) and m.shape == p.shape == (4, 8)
    assert torch.equal(e[:3, 3:], embeds) and torch.equal(m[:3, 3:], mask) and torch.equal(p[:3, 3:], positions)
    assert not e[:, :3].any() and not m[:, :3].any() and not p[:, :3].any()
    assert torch.equal(e[3], e[0]) and torch.equal(m[3], m[0]) and torch.equal(p[3], p[0])


def test_compiled_greedy_equals_default_and_compiles_once_per_bucket(tiny):
    model, prompts, features = tiny
    config = GenerationConfig.greedy(max_new_tokens=40)
    backend = CountingBackend()
    compiled = CompiledDecoding(backend=backend)
    first, second = slice(0, 4), slice(4, 7)  # 4 rows, then 3 rows padded to 4
    default = [generate_batch(model, prompts[s], features[s], config) for s in (first, second)]
    fast = generate_batch(model, prompts[first], features[first], config, compiled=compiled)
    graphs = backend.graphs
    fast = [fast, generate_batch(model, prompts[second], features[second], config, compiled=compiled)]
    assert graphs >= 1, "nothing was compiled: the static-cache path did not reach torch.compile"
    assert backend.graphs == graphs, "a batch of 3 (padded to 4) recompiled the step"
    assert fast == default
    finishes = {r.finish for rows in default for r in rows}
    assert "stop" in finishes, "no row stopped on the end symbol: the stopping path was not compared"


@pytest.mark.skipif(os.environ.get("WORKBENCH_TEST_INDUCTOR") != "1",
                    reason="inductor builds C++ for minutes on 2 cores; set WORKBENCH_TEST_INDUCTOR=1")
def test_inductor_greedy_equals_default(tiny):
    model, prompts, features = tiny
    config = GenerationConfig.greedy(max_new_tokens=40)
    default = generate_batch(model, prompts[:4], features[:4], config)
    assert generate_batch(model, prompts[:4], features[:4], config, compiled=CompiledDecoding()) == default


def test_generate_compile_flag_same_predictions_recorded_and_resumed_as_begun(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(compiled_module, "CompiledDecoding",
                        functools.partial(CompiledDecoding, backend=CountingBackend("eager")))  # plumbing only
    eval_root = make_eval_set(tmp_path / "set", n_items=5, n_images=3)
    args = ["generate", "--model", "tiny-stage2", "--eval-set", str(eval_root), "--max-new-tokens", "12",
            "--batch-size", "4", "--quiet"]
    assert main(args + ["--out", str(tmp_path / "plain")]) == 0
    assert main(args + ["--out", str(tmp_path / "fast"), "--compile"]) == 0
    plain, fast = read_predictions(tmp_path / "plain"), read_predictions(tmp_path / "fast")
    assert len(plain) == 5 and fast == plain
    record = RunRecord.load(tmp_path / "fast").to_dict()
    assert record["identity"]["decoding"]["compile"] is True
    assert record["decoding"]["backend"] == "counting-eager"
    assert "decoding" not in RunRecord.load(tmp_path / "plain").identity  # runs made before --compile still resume
    capsys.readouterr()
    assert main(args + ["--out", str(tmp_path / "fast")]) != 0  # begun compiled: resumed compiled only
    assert "different settings (decoding: run has {" in capsys.readouterr().err


def test_stop_check_reads_nothing_back_per_step(tiny):
    """Per step the criterion must stay on the device: on ``meta`` tensors any .item()/.tolist()/bool() raises."""
    tokenizer = tiny[0].tokenizer
    for end_sym in ("###", "### Assistant"):  # one token, several tokens (the end-ids comparison path)
        stop = EndSymbolStop(tokenizer, end_sym, tokenizer.eos_token_id, batch_size=3)
        ids = torch.zeros(3, 1, dtype=torch.long, device="meta")
        for _ in range(6):
            ids = torch.cat([ids, torch.zeros(3, 1, dtype=torch.long, device="meta")], dim=1)
            done = stop(ids, None)
        assert done.device.type == "meta" and done.shape == (3,) and done.dtype == torch.bool
        assert stop.stop_steps.device.type == "meta"


def test_pipeline_config_takes_compile(tmp_path):
    path = tmp_path / "eval.yaml"
    path.write_text(json.dumps({"generation": {"compile": True}}), encoding="utf-8")
    assert load_config(path).compile is True
    path.write_text(json.dumps({"generation": {"compile": "yes"}}), encoding="utf-8")
    with pytest.raises(WorkbenchError, match=r"eval\.yaml: 'generation\.compile' must be true or false"):
        load_config(path)

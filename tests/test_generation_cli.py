"""`workbench generate` end to end through load_model + load_eval_set, and device choice."""

from __future__ import annotations

import os

import pytest
import torch

from generation_support import make_eval_set, write_model_cards
from workbench.cli import main
from workbench.devices import choose_device
from workbench.errors import WorkbenchError
from workbench.runs import RunRecord, read_predictions


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    """Two model cards (stage-1-like and stage-2-like projections) sharing BLIP-2 and LLM folders."""
    return write_model_cards(tmp_path_factory.mktemp("models"))


def test_generate_two_checkpoints_resume_and_share_the_vision_cache(cards, tmp_path, capsys):
    eval_root = make_eval_set(tmp_path / "set", n_items=5, n_images=3)
    runs = tmp_path / "runs"
    args = ["generate", "--eval-set", str(eval_root), "--max-new-tokens", "6", "--batch-size", "2", "--quiet"]
    assert main(args + ["--model", str(cards[0]), "--out", str(runs / "s1"), "--limit", "3"]) == 0
    captured = capsys.readouterr()
    first = captured.out
    assert "Loading weights" not in captured.err  # --quiet silences transformers' own bar too
    assert "wrote 3 prediction(s)" in first and "(0 hits, 3 encoded)" in first
    assert main(args + ["--model", str(cards[0]), "--out", str(runs / "s1")]) == 0  # resume
    assert "wrote 2 prediction(s)" in capsys.readouterr().out
    assert main(args + ["--model", str(cards[1]), "--out", str(runs / "s2")]) == 0
    assert "(5 hits, 0 encoded)" in capsys.readouterr().out  # 3 images, encoded once for both checkpoints
    assert (runs / ".vision-cache").is_dir()
    for name in ("s1", "s2"):
        assert sorted(read_predictions(runs / name)) == [f"item-{i:03d}" for i in range(5)]
    info = RunRecord.load(runs / "s1").to_dict()
    assert info["model"]["spec"] == str(cards[0])
    assert len(info["model"]["projection_sha256"]) == 64 and info["model"]["card"]["template"] == "vicuna0"
    assert info["vision_cache"] == str(runs / ".vision-cache")
    # another checkpoint into an existing run folder is refused, one line, exit 1
    code = main(args + ["--model", str(cards[1]), "--out", str(runs / "s1")])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1  # --quiet: no progress lines before it
    err = err[0]
    assert err.startswith("error: ") and "different settings" in err and "projection_weights_sha256" in err


def test_without_quiet_the_weight_loading_bar_is_shown_and_quiet_leaves_it_enabled(cards, tmp_path, capsys):
    from transformers.utils import logging as hf_logging

    if os.environ.get("TQDM_DISABLE"):
        pytest.skip("TQDM_DISABLE switches every bar off (read when tqdm is imported): nothing to tell apart")

    eval_root = make_eval_set(tmp_path / "set", n_items=1)
    args = ["generate", "--model", str(cards[0]), "--eval-set", str(eval_root), "--max-new-tokens", "4"]
    assert main(args + ["--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert hf_logging.is_progress_bar_enabled()  # restored for whatever runs next in this process
    assert "Loading weights" not in capsys.readouterr().err
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    assert "Loading weights" in capsys.readouterr().err


def test_load_in_8bit_on_cpu_is_a_clear_error(cards, tmp_path, capsys):
    eval_root = make_eval_set(tmp_path / "set", n_items=1)
    code = main(["generate", "--model", str(cards[0]), "--eval-set", str(eval_root), "--out",
                 str(tmp_path / "run"), "--device", "cpu", "--load-in-8bit"])
    assert code == 1
    err = capsys.readouterr().err
    assert "needs a CUDA GPU" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # nothing written


def test_choose_device():
    cpu = choose_device(None, cuda_available=False)
    assert (cpu.device.type, cpu.dtype) == ("cpu", torch.float32)
    gpu = choose_device("auto", cuda_available=True)
    assert (gpu.device.type, gpu.dtype) == ("cuda", torch.float16)
    assert choose_device("cpu", cuda_available=True).device.type == "cpu"
    assert choose_device("cuda:1", cuda_available=True).device == torch.device("cuda:1")
    ok = choose_device("cuda", True, cuda_available=True, bitsandbytes_available=True)
    assert ok.load_in_8bit and ok.dtype == torch.float16
    with pytest.raises(WorkbenchError, match="no CUDA GPU"):
        choose_device("cuda", cuda_available=False)
    with pytest.raises(WorkbenchError, match="needs a CUDA GPU"):
        choose_device(None, True, cuda_available=False)
    with pytest.raises(WorkbenchError, match="pip install bitsandbytes"):
        choose_device("cuda", True, cuda_available=True, bitsandbytes_available=False)
    with pytest.raises(WorkbenchError, match="unknown device"):
        choose_device("tpu")


def test_bad_shard_argument(cards, tmp_path):
    from workbench.commands.generate import parse_shard

    assert parse_shard("1/4") == (1, 4) and parse_shard(None) == (0, 1)
    for bad in ("4/4", "x", "1-2"):
        with pytest.raises(WorkbenchError, match="--shard"):
            parse_shard(bad)


def test_the_vision_cache_is_shown_relative_to_the_working_directory(cards, tmp_path, capsys, monkeypatch):
    eval_root = make_eval_set(tmp_path / "set", n_items=1)
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "--model", str(cards[0]), "--eval-set", str(eval_root), "--out", "runs/a",
                 "--max-new-tokens", "4", "--quiet"]) == 0
    assert "  vision cache: runs/.vision-cache (0 hits, 1 encoded)" in capsys.readouterr().out
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the cache is not under the working directory: shown as it is
    assert main(["generate", "--model", str(cards[0]), "--eval-set", str(eval_root),
                 "--out", str(tmp_path / "runs" / "b"), "--max-new-tokens", "4", "--quiet"]) == 0
    assert f"  vision cache: {tmp_path / 'runs' / '.vision-cache'} (1 hits, 0 encoded)" in capsys.readouterr().out

"""`accelerate launch` shards `workbench generate` across processes into one run folder (2 CPU processes here)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generation_support import make_eval_set, write_model_cards
from workbench.cli import main
from workbench.runs import read_predictions

ACCELERATE = Path(sys.executable).with_name("accelerate")


@pytest.mark.skipif(not ACCELERATE.exists(), reason="accelerate's launcher is not installed in this environment")
def test_two_process_run_equals_single_process_run(tmp_path):
    card = write_model_cards(tmp_path / "models", n=1)[0]
    eval_set = make_eval_set(tmp_path / "es", n_items=9)
    common = ["generate", "--model", str(card), "--eval-set", str(eval_set), "--max-new-tokens", "10",
              "--batch-size", "4", "--quiet"]
    assert main(common + ["--out", str(tmp_path / "single")]) == 0

    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    done = subprocess.run(
        [str(ACCELERATE), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "workbench.cli",
         *common, "--out", str(tmp_path / "sharded"), "--cache-dir", str(tmp_path / "cache2")],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "shard 0/2" in done.stdout and "shard 1/2" in done.stdout  # really two processes

    single = (tmp_path / "single" / "predictions.jsonl").read_text().splitlines()
    sharded = (tmp_path / "sharded" / "predictions.jsonl").read_text().splitlines()
    assert len(sharded) == 9
    assert [line for line in sharded] == single  # same items, same order, same outputs
    assert read_predictions(tmp_path / "sharded") == read_predictions(tmp_path / "single")
    shutil.rmtree(tmp_path / "models")

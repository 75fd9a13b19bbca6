"""Small shared helpers of the training code: seeding, thread pinning, LR schedule, the loss log, phase timer."""

from __future__ import annotations

import json
import math
import random
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from workbench.errors import WorkbenchError


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def set_determinism(threads: int) -> None:
    """Fixed thread count + deterministic kernels: the same seed gives the same bytes on the same machine."""
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def cosine_lr(step: int, total: int, peak: float, warmup: int, floor: float = 0.1) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def adamw(params, lr: float, weight_decay: float = 0.05) -> torch.optim.AdamW:
    """AdamW as MiniGPT-4 sets it: weight decay 0.05, none on biases and other 1-D parameters, beta2 0.999."""
    params = [p for p in params if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, betas=(0.9, 0.999))


class LossLog:
    """Appends ``{"phase", "step", "loss", ...}`` lines to a JSONL file (the loss log beside the checkpoints)."""

    def __init__(self, path: Path | None):
        self.path = Path(path) if path else None
        self.records: list[dict] = []
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("")

    def log(self, phase: str, step: int, loss: float, **extra) -> None:
        rec = {"phase": phase, "step": int(step), "loss": round(float(loss), 5), **extra}
        self.records.append(rec)
        if self.path:
            with self.path.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")

    def losses(self, phase: str) -> list[float]:
        return [r["loss"] for r in self.records if r["phase"] == phase]


class PhaseTimer:
    """Wall-clock and process CPU seconds per phase (CPU time is honest when the cores are shared)."""

    def __init__(self):
        self.phases: dict[str, dict[str, float]] = {}

    @contextmanager
    def phase(self, name: str):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.phases[name] = {
                "wall_s": round(time.perf_counter() - wall, 1),
                "cpu_s": round(time.process_time() - cpu, 1),
            }

    def total(self, key: str = "wall_s") -> float:
        return round(sum(p[key] for p in self.phases.values()), 1)


def merge_loss_log(path: Path, records: list[dict], phase: str) -> None:
    """Replace ``phase``'s lines of the loss log at ``path`` with ``records``, keeping every other phase's."""
    kept = [line for line in path.read_text().splitlines() if line and json.loads(line)["phase"] != phase] \
        if path.is_file() else []
    path.write_text("".join(line + "\n" for line in kept) + "".join(json.dumps(r) + "\n" for r in records))


def earlier_build_summary(source: Path, out, flag: str, part: str, needs: tuple[str, ...], phase: str,
                          hint: str) -> dict:
    """The build summary of the earlier build in ``source`` whose ``part`` (``"blip2"``, ``"llm"``) a new build in
    ``out`` reuses through ``flag`` (``--vision-from``, ``--llm-from``), after checking that ``source`` is not
    ``out``, that it holds ``needs`` (files under ``part``) and a readable build_summary.json with a config and
    the ``phase`` entry (the phase finished). Raises WorkbenchError (one line, naming the folder and the fix,
    ``hint`` saying which build to give) otherwise."""
    if source.resolve() == Path(out).resolve():
        raise WorkbenchError(f"{out}: {flag} is the output folder, whose {part}/ the build replaces; copy that build "
                             "elsewhere and give the copy")
    path = source / "build_summary.json"
    if not all((source / part / name).is_file() for name in needs) or not path.is_file():
        raise WorkbenchError(f"{source}: no build with {part}/ ({', '.join(needs)}) and build_summary.json here; "
                             f"give {flag} {hint}")
    try:
        summary = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise WorkbenchError(f"{path}: cannot read it ({err}); give {flag} a finished build") from err
    if phase not in summary or not isinstance(summary.get("config"), dict):
        raise WorkbenchError(f"{path}: its {phase} phase did not finish (no '{phase}' entry); give {flag} a build "
                             f"that got past it, or build without {flag}")
    return summary

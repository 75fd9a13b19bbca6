"""Where a model runs: CPU (fp32) unless a CUDA GPU is present (fp16), optional bitsandbytes 8-bit.

``--load-in-8bit`` is MiniGPT-4's ``low_resource`` mode: the LLM in int8 on one GPU. bitsandbytes int8
needs CUDA, so anywhere else it is refused with a sentence saying what to do instead.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import torch

from workbench.errors import WorkbenchError

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class DeviceChoice:
    device: torch.device
    dtype: torch.dtype
    load_in_8bit: bool = False

    def describe(self) -> str:
        name = str(self.device)
        if self.device.type == "cuda":
            name += f" ({torch.cuda.get_device_name(self.device)})"
        return f"{name}, {str(self.dtype).replace('torch.', '')}" + (", LLM in 8-bit" if self.load_in_8bit else "")


def choose_device(requested: str | None = None, load_in_8bit: bool = False, *,
                  cuda_available: bool | None = None, bitsandbytes_available: bool | None = None) -> DeviceChoice:
    """Resolve ``--device`` (None/"auto": CUDA if present, else CPU) and check ``--load-in-8bit``.

    ``cuda_available`` / ``bitsandbytes_available`` override detection (for tests).
    """
    if cuda_available is None:
        cuda_available = torch.cuda.is_available()
    if bitsandbytes_available is None:
        bitsandbytes_available = importlib.util.find_spec("bitsandbytes") is not None
    requested = (requested or "auto").lower()
    base = requested.split(":", 1)[0]
    if base not in DEVICES:
        raise WorkbenchError(f"unknown device {requested!r}; use one of: cpu, cuda, cuda:N, auto")
    if base == "auto":
        requested = base = "cuda" if cuda_available else "cpu"
    if base == "cuda" and not cuda_available:
        raise WorkbenchError(f"--device {requested}: no CUDA GPU is visible to torch here "
                             f"(torch {torch.__version__}); use --device cpu")
    device = torch.device(requested)
    if load_in_8bit:
        if device.type != "cuda":
            raise WorkbenchError("--load-in-8bit needs a CUDA GPU (bitsandbytes int8, MiniGPT-4's low_resource); "
                                 "on CPU drop --load-in-8bit and the model runs in fp32")
        if not bitsandbytes_available:
            raise WorkbenchError("--load-in-8bit needs the bitsandbytes package: pip install bitsandbytes "
                                 "(or drop --load-in-8bit to run in fp16)")
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    return DeviceChoice(device=device, dtype=dtype, load_in_8bit=load_in_8bit)

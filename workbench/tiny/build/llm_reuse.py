"""The LLM of an earlier build, trained further on this build's corpus instead of pretrained anew.

How the shipped model teaches its LLM a new corpus family (issue 19's yes/no questions) without losing what the
earlier LLM reads well: Vicuna is LLaMA trained further on conversations, not a new model. The earlier build's
tokenizer is kept (the LLM's vocabulary is its), and its LLM is trained ``cfg.llm_continue_steps`` more steps at
peak lr ``cfg.llm_continue_lr`` on this build's whole corpus (every family, so the earlier ones are rehearsed).
docs/tiny_model_history.md (2026-12-02) records why and what it measured.
"""

from __future__ import annotations

from pathlib import Path

from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from workbench.errors import WorkbenchError
from workbench.model.fingerprint import file_sha256
from workbench.tiny.build.common import LossLog, earlier_build_summary, seed_everything
from workbench.tiny.build.config import BuildConfig
from workbench.tiny.build.llm_pretrain import train_llm

# The LLM's shape: the earlier build's must equal this config's, since its weights are reused as they are.
LLM_SHAPE = ("vocab_size", "llm_hidden", "llm_layers", "llm_heads", "llm_intermediate", "llm_max_len")


def check_llm_source(source: str | Path, cfg: BuildConfig, out: str | Path) -> dict:
    """The build summary of the build in ``source`` (a folder with ``llm/`` and ``build_summary.json``), after
    checking that it is not ``out``, that its LLM phase finished and that its LLM has ``cfg``'s shape
    (``LLM_SHAPE``). Raises WorkbenchError (one line, naming the folder and the fix) otherwise."""
    summary = earlier_build_summary(Path(source), out, "--llm-from", "llm", ("config.json", "tokenizer.json"),
                                    "llm", "the folder of an earlier build")
    had, wanted = summary["config"], cfg.as_dict()
    differ = [k for k in LLM_SHAPE if had.get(k) != wanted[k]]
    if differ:
        raise WorkbenchError(f"{source}: its LLM has {', '.join(f'{k} {had.get(k)}' for k in differ)} where this "
                             f"build asks for {', '.join(f'{k} {wanted[k]}' for k in differ)}; train further an "
                             "LLM of this shape, or build without --llm-from")
    return summary


def load_tokenizer(source: str | Path) -> PreTrainedTokenizerFast:
    """The earlier build's tokenizer (``source/llm``), as the build trained it. Call ``check_llm_source`` first."""
    return PreTrainedTokenizerFast.from_pretrained(Path(source) / "llm")


def continue_llm(source: str | Path, cfg: BuildConfig, docs: list, tokenizer, log: LossLog,
                 seed: int) -> tuple[LlamaForCausalLM, dict]:
    """The earlier build's LLM trained ``cfg.llm_continue_steps`` more steps at peak lr ``cfg.llm_continue_lr``
    on ``docs`` (``llm_pretrain.train_llm``); -> (the frozen model, its summary, with ``continued_from``: the
    absolute source folder and ``continued_from_sha256``: sha256 of its weights file)."""
    seed_everything(seed)
    weights = Path(source) / "llm" / "model.safetensors"
    model = LlamaForCausalLM.from_pretrained(Path(source) / "llm")
    model, info = train_llm(model, cfg, docs, tokenizer, log, seed, cfg.llm_continue_steps, cfg.llm_continue_lr,
                            desc="llm trained further")
    info["continued_from"] = str(Path(source).resolve())
    info["continued_from_sha256"] = file_sha256(weights) if weights.is_file() else None
    return model, info

"""Generation settings: greedy for evaluation by default, MiniGPT-4's chat sampling as a flag.

The sampling values are MiniGPT-4's ``Chat.answer_prepare`` defaults (reference/minigpt4.md §4):
top_p 0.9, temperature 1.0, repetition penalty 1.05, 300 new tokens (and transformers'
default top_k 50, which MiniGPT-4 never overrode), context left-truncated to
``max_length`` 2000. Greedy uses repetition penalty 1.0 like ``MiniGPTBase.generate``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from workbench.errors import WorkbenchError

CHAT_TOP_P = 0.9
CHAT_TEMPERATURE = 1.0
CHAT_REPETITION_PENALTY = 1.05
CHAT_MAX_NEW_TOKENS = 300
CHAT_MAX_LENGTH = 2000
CHAT_TOP_K = 50  # not set by MiniGPT-4, so transformers' default applied


@dataclass(frozen=True)
class GenerationConfig:
    """What decides the output text for a given model, prompt and seed (recorded in run.json)."""

    sample: bool = False
    max_new_tokens: int = CHAT_MAX_NEW_TOKENS
    top_p: float = 1.0
    temperature: float = 1.0
    repetition_penalty: float = 1.0
    top_k: int = 0  # 0 = off; chat sampling uses 50, the transformers default MiniGPT-4 ran with
    max_length: int = CHAT_MAX_LENGTH  # context + new tokens; longer contexts are left-truncated

    def __post_init__(self):
        if self.max_new_tokens < 1:
            raise WorkbenchError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.max_length <= self.max_new_tokens:
            raise WorkbenchError(
                f"max_length ({self.max_length}) must exceed max_new_tokens ({self.max_new_tokens})")
        if not 0.0 < self.top_p <= 1.0:
            raise WorkbenchError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.temperature <= 0.0:
            raise WorkbenchError(f"temperature must be > 0, got {self.temperature}")
        if self.repetition_penalty <= 0.0:
            raise WorkbenchError(f"repetition_penalty must be > 0, got {self.repetition_penalty}")

    @classmethod
    def greedy(cls, max_new_tokens: int = CHAT_MAX_NEW_TOKENS) -> "GenerationConfig":
        return cls(sample=False, max_new_tokens=max_new_tokens)

    @classmethod
    def chat_sampling(cls, max_new_tokens: int = CHAT_MAX_NEW_TOKENS) -> "GenerationConfig":
        """MiniGPT-4's interactive chat defaults."""
        return cls(sample=True, max_new_tokens=max_new_tokens, top_p=CHAT_TOP_P,
                   temperature=CHAT_TEMPERATURE, repetition_penalty=CHAT_REPETITION_PENALTY,
                   top_k=CHAT_TOP_K)

    @classmethod
    def from_flags(cls, sample: bool = False, max_new_tokens: int | None = None) -> "GenerationConfig":
        n = CHAT_MAX_NEW_TOKENS if max_new_tokens is None else int(max_new_tokens)
        return cls.chat_sampling(n) if sample else cls.greedy(n)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "GenerationConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def hf_kwargs(self) -> dict:
        """Keyword arguments for ``transformers`` ``generate`` (beam width 1, as MiniGPT-4).

        Sampling itself is done by ``sampling.PerRowSampler`` (one seed per item), so transformers
        always runs its greedy step; the repetition penalty is its built-in processor, applied first.
        """
        return {"max_new_tokens": self.max_new_tokens, "num_beams": 1, "do_sample": False,
                "repetition_penalty": self.repetition_penalty}

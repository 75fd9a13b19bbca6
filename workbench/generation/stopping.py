"""Per-sequence stopping on the template's end symbol or on EOS, with no host sync per step.

MiniGPT-4's Vicuna template ends turns with ``###``, which Llama's tokenizer splits into several tokens (``[835]``
or ``[2277, 29937]`` depending on context), so matching one token id misses some spellings. The end symbol is
matched as a string by transformers' ``StopStringCriteria``: its table, precomputed once per vocabulary, says
which token sequences can end in the stop string, and the per-step check is a few tensor ops on the device.
EOS is one tensor comparison. The step at which each row stops is kept in a device tensor, read once after
``generate`` returns, so decoding adds no ``.tolist()`` or ``decode`` per step (transformers' own
"all rows finished?" check is the only host sync left).

Tokenizers whose ``decode`` does not give the text back (e.g. a WordLevel vocabulary decoded as ``# # #``) are
covered at the end: if the decoded text lacks the end symbol but the row ends in the end symbol's own token ids,
those tokens are dropped before decoding (``strip_tokens``).
"""

from __future__ import annotations

import torch
from transformers import StoppingCriteria
from transformers.generation.stopping_criteria import StopStringCriteria


class _StopText(StopStringCriteria):
    """transformers' ``StopStringCriteria`` for any tokenizer.

    Its vocabulary clean-up spells each token after the prefix ``abcdef`` (so SentencePiece's leading-space marks
    come out right); a tokenizer that cannot spell that prefix (a small BPE or WordLevel vocabulary maps it to
    ``<unk>``) would make it raise. For those, each token is spelled on its own with ``decode([id])``.
    """

    @staticmethod
    def clean_tokenizer_vocab(tokenizer, static_prefix="abcdef", stop_string_matching_mode=None):
        ids = tokenizer(static_prefix, add_special_tokens=False)["input_ids"]
        if static_prefix in tokenizer.convert_tokens_to_string(tokenizer.convert_ids_to_tokens(ids)):
            return StopStringCriteria.clean_tokenizer_vocab(tokenizer, static_prefix, stop_string_matching_mode)
        vocab = tokenizer.get_vocab()
        strings = [tokenizer.decode([index]) for index in vocab.values()]
        if stop_string_matching_mode is not None:
            strings = [text.encode("utf-8") for text in strings]
        return tuple(strings), tuple(vocab.values())


class EndSymbolStop(StoppingCriteria):
    """Stops a row when its new tokens end in ``end_sym`` (as text) or it emits ``eos_token_id``.

    ``input_ids`` seen by the criterion may or may not include the prompt (with ``inputs_embeds`` transformers
    passes only the new tokens); the length at the first call is taken as the start. ``stop_steps`` is a (B,)
    long tensor on the device: the number of new tokens row ``i`` had when it stopped, -1 while running.
    Call ``finish(new_tokens)`` after generation for ``stop_step`` / ``strip_tokens`` as lists.
    """

    def __init__(self, tokenizer, end_sym: str | None, eos_token_id: int | None, batch_size: int):
        self.tokenizer = tokenizer
        self.end_sym = end_sym or None
        self.eos_token_id = eos_token_id
        self.end_ids: list[int] = []
        self.strings = None
        if self.end_sym:
            self.end_ids = list(tokenizer(self.end_sym, add_special_tokens=False)["input_ids"])
            self.strings = _StopText(tokenizer, [self.end_sym])
        self._end_ids_tensor: torch.Tensor | None = None
        self.batch_size = batch_size
        self.start: int | None = None
        self.stop_steps: torch.Tensor | None = None
        self.stop_step: list[int | None] = [None] * batch_size
        self.strip_tokens: list[int] = [0] * batch_size

    def __call__(self, input_ids: torch.LongTensor, scores=None, **kwargs) -> torch.BoolTensor:
        if self.start is None:
            self.start = input_ids.shape[1] - 1
            self.stop_steps = torch.full((input_ids.shape[0],), -1, dtype=torch.long, device=input_ids.device)
        n_new = input_ids.shape[1] - self.start
        hit = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        if self.eos_token_id is not None:
            hit |= input_ids[:, -1] == self.eos_token_id
        if self.strings is not None:
            hit |= self.strings(input_ids, scores)
        n_end = len(self.end_ids)
        if n_end and n_new >= n_end:
            if self._end_ids_tensor is None:
                self._end_ids_tensor = torch.tensor(self.end_ids, dtype=input_ids.dtype, device=input_ids.device)
            hit |= (input_ids[:, -n_end:] == self._end_ids_tensor).all(dim=-1)
        self.stop_steps = torch.where(hit & (self.stop_steps < 0), n_new, self.stop_steps)
        return self.stop_steps >= 0

    def finish(self, new_tokens: torch.Tensor) -> None:
        """Read the stop steps once (one host sync) and find rows whose end symbol decodes to other text."""
        if self.stop_steps is None:
            return
        steps = self.stop_steps.tolist()
        rows = new_tokens.tolist()
        n_end = len(self.end_ids)
        for row, step in enumerate(steps):
            if step < 0:
                continue
            self.stop_step[row] = step
            tail = rows[row][:step]
            if (self.eos_token_id is not None and tail and tail[-1] == self.eos_token_id) or not self.end_sym:
                continue
            text = self.tokenizer.decode(tail[-(len(self.end_sym) + 8 + n_end):], skip_special_tokens=True)
            if self.end_sym not in text and n_end and tail[-n_end:] == self.end_ids:
                self.strip_tokens[row] = n_end


def cut_at_end(text: str, end_sym: str | None) -> tuple[str, bool]:
    """Text before the first ``end_sym`` (stripped), and whether it was found."""
    if end_sym and end_sym in text:
        return text.split(end_sym, 1)[0].strip(), True
    return text.strip(), False

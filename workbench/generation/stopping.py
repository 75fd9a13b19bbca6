"""Per-sequence stopping on the template's end symbol, matched as decoded TEXT, or on EOS.

MiniGPT-4's Vicuna template ends turns with ``###``, which Llama's tokenizer splits into several
tokens (``[835]`` or ``[2277, 29937]`` depending on context). Matching one token id misses some
spellings; matching the decoded text of the newest tokens catches all of them. Tokenizers whose
``decode`` does not give the text back (e.g. a WordLevel vocabulary decoded as ``# # #``) are
covered by also matching the end symbol's own token ids at the end of the row.
Each row stops on its own; ``generate`` pads finished rows until the whole batch is done.
"""

from __future__ import annotations

import torch
from transformers import StoppingCriteria


class EndSymbolStop(StoppingCriteria):
    """Stops a row when its new tokens' text contains ``end_sym`` or it emits ``eos_token_id``.

    ``input_ids`` seen by the criterion may or may not include the prompt (with ``inputs_embeds``
    transformers passes only the new tokens); the length at the first call is taken as the start.
    After generation, ``stop_step[i]`` is how many new tokens row ``i`` had produced when it
    stopped (None: it ran to the length limit) and ``strip_tokens[i]`` how many of those trailing
    tokens are the end symbol matched by id (to drop before decoding).
    """

    def __init__(self, tokenizer, end_sym: str | None, eos_token_id: int | None, batch_size: int):
        self.tokenizer = tokenizer
        self.end_sym = end_sym or None
        self.eos_token_id = eos_token_id
        self.end_ids: list[int] = []
        if self.end_sym:
            self.end_ids = list(tokenizer(self.end_sym, add_special_tokens=False)["input_ids"])
        # tokens are >= 1 character each (save byte pieces), so this window always covers a match
        self.window = max(len(end_sym) + 8, len(self.end_ids)) if end_sym else 1
        self.start: int | None = None
        self.stop_step: list[int | None] = [None] * batch_size
        self.strip_tokens: list[int] = [0] * batch_size

    def _match(self, tail: list[int]) -> tuple[bool, int]:
        if self.eos_token_id is not None and tail and tail[-1] == self.eos_token_id:
            return True, 0
        if not self.end_sym:
            return False, 0
        if self.end_sym in self.tokenizer.decode(tail, skip_special_tokens=True):
            return True, 0
        n = len(self.end_ids)
        if n and tail[-n:] == self.end_ids:
            return True, n
        return False, 0

    def __call__(self, input_ids: torch.LongTensor, scores=None, **kwargs) -> torch.BoolTensor:
        if self.start is None:
            self.start = input_ids.shape[1] - 1
        n_new = input_ids.shape[1] - self.start
        done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        tails = input_ids[:, max(self.start, input_ids.shape[1] - self.window):].tolist()
        for row, tail in enumerate(tails):
            if self.stop_step[row] is None:
                hit, strip = self._match(tail)
                if not hit:
                    continue
                self.stop_step[row] = n_new
                self.strip_tokens[row] = strip
            done[row] = True
        return done


def cut_at_end(text: str, end_sym: str | None) -> tuple[str, bool]:
    """Text before the first ``end_sym`` (stripped), and whether it was found."""
    if end_sym and end_sym in text:
        return text.split(end_sym, 1)[0].strip(), True
    return text.strip(), False

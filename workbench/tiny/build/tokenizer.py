"""A small byte-level BPE tokenizer trained on the world corpus, wrapped as a Hugging Face fast tokenizer.

Byte-level so every string (``###``, ``<Img>``, newlines) round-trips exactly through encode/decode, which the
generation stop criterion and the scorers rely on. Special tokens: ``<s>`` (BOS), ``</s>`` (EOS), ``<pad>``;
``padding_side="left"`` as batched generation needs.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

BOS, EOS, PAD = "<s>", "</s>", "<pad>"
# Words, numbers and punctuation runs each keep the whitespace that FOLLOWS them. GPT-2's rule (space glued to
# the next word) would tokenize a prompt ending in "###Assistant: " with a lone trailing-space token the LLM
# never saw in running text, and answers would start off the rails; with trailing whitespace glued to the
# previous piece, prompt + answer tokenizes the same whether split or joined.
PIECES = r"[A-Za-z]+\s*|[0-9]+\s*|[^A-Za-z0-9\s]+\s*|\s+"


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Train BPE on ``texts`` (deterministic for the same texts) -> a PreTrainedTokenizerFast."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PIECES), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD, padding_side="left",
        model_max_length=4096, clean_up_tokenization_spaces=False,
    )
    return fast

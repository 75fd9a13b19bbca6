"""Two tiny tokenizers for the end-symbol stopping tests, built with the tokenizers library (no files)."""

from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast


def fused_tokenizer():
    """Decodes by plain concatenation; ``###`` can be spelled ``#|#|#``, ``##|#`` or ``#|##``."""
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "#": 4, "##": 5, "a": 6, "b": 7, " ": 8}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[("#", "#")], unk_token="<unk>"))
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>")


def spaced_tokenizer():
    """Word-level, no decoder: ``decode`` joins tokens with spaces, so '###' comes back as '# # #'."""
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "#": 4, "dog": 5}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(behavior="isolated")])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>")

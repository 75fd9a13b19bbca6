"""The generation core's small parts against hand-computed values (issue 20): left padding, special token ids,
row results, per-item seeds, the sampling warpers' distributions, and the end-symbol stopping criterion.

Nothing here builds a model: tokenizers are tiny in-memory vocabularies; expected values are written out by hand,
computed with hashlib, or taken from transformers' own ``StopStringCriteria``.
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast
from transformers.generation import stopping_criteria as hf_stopping
from transformers.generation.stopping_criteria import StopStringCriteria

from random_model import word_tokenizer
from stop_tokenizers import fused_tokenizer, spaced_tokenizer
from workbench.generation.batch import GenerationResult, _projection_param, _row_result, _token_ids, pad_left
from workbench.generation.sampling import PerRowSampler, row_seed
from workbench.generation.stopping import EndSymbolStop, _StopText, cut_at_end


@pytest.fixture(autouse=True)
def fresh_stop_string_tables():
    """transformers caches stop-string tables by vocabulary, across criteria: build ours from scratch each test
    (a transformers without that cache builds them afresh anyway)."""
    cache = getattr(hf_stopping, "STOP_STRING_EMBEDDING_CACHE", {})
    cache.clear()
    yield
    cache.clear()


# ---- pad_left ------------------------------------------------------------------------------------------
def test_pad_left_three_rows_by_hand():
    rows = [torch.full((1, 2), 1.0), torch.full((3, 2), 2.0), torch.full((2, 2), 3.0)]
    embeds, mask, positions = pad_left(rows)
    assert embeds.shape == (3, 3, 2) and embeds.dtype == torch.float32
    assert embeds[:, :, 0].tolist() == [[0, 0, 1], [2, 2, 2], [0, 3, 3]]
    assert embeds[:, :, 1].tolist() == [[0, 0, 1], [2, 2, 2], [0, 3, 3]]
    assert mask.dtype == torch.long and mask.tolist() == [[0, 0, 1], [1, 1, 1], [0, 1, 1]]
    assert positions.tolist() == [[0, 0, 0], [0, 1, 2], [0, 0, 1]]


def test_pad_left_keeps_the_dtype_of_the_contexts():
    embeds, mask, positions = pad_left([torch.ones(2, 4, dtype=torch.bfloat16), torch.ones(1, 4, dtype=torch.bfloat16)])
    assert embeds.dtype == torch.bfloat16 and embeds.shape == (2, 2, 4)
    assert mask.tolist() == [[1, 1], [0, 1]] and positions.tolist() == [[0, 1], [0, 0]]


# ---- special token ids ---------------------------------------------------------------------------------
def ids(tok_bos, tok_eos, tok_pad, cfg_bos=11, cfg_eos=12, cfg_pad=13):
    llm = SimpleNamespace(config=SimpleNamespace(bos_token_id=cfg_bos, eos_token_id=cfg_eos, pad_token_id=cfg_pad))
    tok = SimpleNamespace(bos_token_id=tok_bos, eos_token_id=tok_eos, pad_token_id=tok_pad)
    return _token_ids(llm, tok)


def test_token_ids_prefer_the_tokenizer_even_when_zero():
    assert ids(0, 0, 0) == (0, 0, 0)
    assert ids(1, 2, 3) == (1, 2, 3)


def test_token_ids_fall_back_to_the_model_config():
    assert ids(None, None, None) == (11, 12, 13)
    assert ids(None, None, None, cfg_eos=[7, 8]) == (11, 7, 13)      # several EOS ids: the first
    assert ids(None, None, None, cfg_eos=(9, 8)) == (11, 9, 13)
    assert ids(1, None, None, cfg_pad=None) == (1, 12, 12)             # no pad anywhere: pad with EOS
    assert ids(1, 5, None, cfg_pad=None) == (1, 5, 5)
    assert ids(1, 5, None, cfg_pad=0) == (1, 5, 0)


def test_projection_param_is_the_projection_weight_else_the_first_parameter():
    model = torch.nn.Module()
    model.first = torch.nn.Linear(2, 2)
    assert _projection_param(model) is model.first.weight
    model.llama_proj = torch.nn.Linear(2, 3)
    assert _projection_param(model) is model.llama_proj.weight


# ---- one row's result ----------------------------------------------------------------------------------
def test_row_result_cuts_counts_and_names_the_finish():
    tok = word_tokenizer()
    words = tok("the quick brown fox", add_special_tokens=False)["input_ids"]
    the, quick, brown, fox = words
    eos = tok.eos_token_id
    stop = SimpleNamespace(stop_step=[None, 3, 2], strip_tokens=[0, 1, 0])
    tokens = torch.tensor([[the, quick, brown, fox], [the, quick, brown, fox], [the, eos, brown, fox]])
    R = GenerationResult
    assert _row_result(tok, tokens[0], stop, 0, None) == R("the quick brown fox", 4, "length")
    assert _row_result(tok, tokens[1], stop, 1, None) == R("the quick", 3, "stop")  # 3 tokens, the last stripped
    assert _row_result(tok, tokens[2], stop, 2, None) == R("the", 2, "stop")       # EOS counted, not shown
    assert _row_result(tok, tokens[0], stop, 0, "brown") == R("the quick", 4, "length")


# ---- per-item seeds ------------------------------------------------------------------------------------
def test_row_seed_is_sha256_of_seed_and_key_first_63_bits():
    # hashlib.sha256(b"7:item-000").digest()[:8] = 98d2d2c2129a9f99 (top bit set, cleared here)
    assert row_seed(7, "item-000") == 0x18D2D2C2129A9F99 == 1788723732997119897
    assert row_seed(7, "item-001") == 0x24A65ABA2BC35BDB           # top bit clear: unchanged
    assert row_seed(7.0, "item-000") == row_seed(7, "item-000")     # the seed as an integer
    digest = hashlib.sha256(b"12345:coco/42").digest()
    assert row_seed(12345, "coco/42") == int.from_bytes(digest[:8], "big") == 7645592434543872691


# ---- sampling ------------------------------------------------------------------------------------------
PROBS = torch.tensor([0.5, 0.25, 0.15, 0.1])
N_ROWS = 3000


def sampled_frequencies(**settings) -> list[float]:
    scores = PROBS.log().repeat(N_ROWS, 1)
    out = PerRowSampler(list(range(N_ROWS)), **settings)(torch.zeros(N_ROWS, 1, dtype=torch.long), scores)
    chosen = out.argmax(-1)
    return (torch.bincount(chosen, minlength=4).double() / N_ROWS).tolist()


def normalised(values):
    total = sum(values)
    return [v / total for v in values]


@pytest.mark.parametrize("settings, expected", [
    ({}, [0.5, 0.25, 0.15, 0.1]),
    ({"temperature": 0.5}, normalised([0.5 ** 2, 0.25 ** 2, 0.15 ** 2, 0.1 ** 2])),    # p^(1/T)
    ({"temperature": 2.0}, normalised([0.5 ** 0.5, 0.25 ** 0.5, 0.15 ** 0.5, 0.1 ** 0.5])),
    ({"top_k": 2}, [2 / 3, 1 / 3, 0.0, 0.0]),
    ({"top_k": 1}, [1.0, 0.0, 0.0, 0.0]),
    ({"top_k": 0}, [0.5, 0.25, 0.15, 0.1]),                        # 0 = off
    ({"top_k": -1}, [0.5, 0.25, 0.15, 0.1]),                       # negative: off too
    ({"top_p": 1.0, "top_k": 4}, [0.5, 0.25, 0.15, 0.1]),          # keeping everything changes nothing
    ({"top_p": 0.8}, normalised([0.5, 0.25, 0.15, 0.0])),          # smallest set with mass >= 0.8
    ({"top_p": 0.7}, normalised([0.5, 0.25, 0.0, 0.0])),
    # temperature, then top-k, then top-p (transformers' order): sqrt-probs, drop the 4th, then the 3rd
    ({"temperature": 2.0, "top_k": 3, "top_p": 0.7}, normalised([0.5 ** 0.5, 0.25 ** 0.5, 0.0, 0.0])),
])
def test_sampled_frequencies_follow_the_warped_distribution(settings, expected):
    freq = sampled_frequencies(**settings)
    for got, want in zip(freq, expected):
        assert got == pytest.approx(want, abs=0.035)   # 3000 draws: standard error <= 0.0092
        if want == 0.0:
            assert got == 0.0


def test_each_row_draws_from_its_own_seeded_generator():
    """Row i's token is what torch.multinomial draws from the (unwarped) distribution with generator seed i."""
    seeds = [5, 17, 123456789, 2 ** 62 + 3]
    out = PerRowSampler(seeds)(torch.zeros(4, 1, dtype=torch.long), PROBS.log().repeat(4, 1))
    expected = [torch.multinomial(PROBS, 1, generator=torch.Generator().manual_seed(s)).item() for s in seeds]
    assert out.argmax(-1).tolist() == expected
    # every other token masked: exactly one finite logit (0.0) per row, the rest -inf, same dtype as the scores
    assert out.dtype == torch.float32
    assert (out == 0.0).sum(-1).tolist() == [1, 1, 1, 1]
    assert torch.isneginf(out).sum(-1).tolist() == [3, 3, 3, 3]
    # the same seeds again: the same draws (fresh generators), whatever the other rows are
    again = PerRowSampler(seeds[::-1])(torch.zeros(4, 1, dtype=torch.long), PROBS.log().repeat(4, 1))
    assert again.argmax(-1).tolist() == expected[::-1]


def test_a_second_step_continues_each_rows_stream():
    seed = 99
    sampler = PerRowSampler([seed])
    scores = PROBS.log()[None]
    first, second = (sampler(torch.zeros(1, 1, dtype=torch.long), scores).argmax(-1).item() for _ in range(2))
    gen = torch.Generator().manual_seed(seed)
    assert [first, second] == [torch.multinomial(PROBS, 1, generator=gen).item() for _ in range(2)]


def test_a_one_token_vocabulary_always_gives_that_token():
    out = PerRowSampler([0, 1])(torch.zeros(2, 1, dtype=torch.long), torch.zeros(2, 1))
    assert out.tolist() == [[0.0], [0.0]]


def test_half_precision_scores_are_sampled_in_float32():
    scores = PROBS.log().to(torch.float16).repeat(4, 1)
    out = PerRowSampler([1, 2, 3, 4])(torch.zeros(4, 1, dtype=torch.long), scores)
    assert out.dtype == torch.float16
    expected = [torch.multinomial(PROBS.to(torch.float16).float(), 1, generator=torch.Generator().manual_seed(s)).item()
                for s in [1, 2, 3, 4]]
    assert out.argmax(-1).tolist() == expected


# ---- stopping ------------------------------------------------------------------------------------------


def steps(crit, rows, prompt: int = 0):
    """Feed rows step by step (``prompt`` leading tokens seen at the first call); the step each stopped at."""
    found = [None] * len(rows)
    for t in range(prompt + 1, len(rows[0]) + 1):
        done = crit(torch.tensor([r[:t] for r in rows]), None)
        assert done.dtype == torch.bool and done.shape == (len(rows),)
        for i, d in enumerate(done.tolist()):
            if d and found[i] is None:
                found[i] = t - prompt
            assert d == (found[i] is not None)       # once stopped, a row stays stopped
    return found


DOG, HASH, EOS = 5, 4, 2


def test_end_symbol_matched_by_its_ids_when_the_text_table_cannot_see_it():
    """'# #' is two '#' tokens, but no run of single-token spellings ('#', '#') concatenates to '# #': only
    the id comparison finds it (as with Vicuna's '###', whose token spellings depend on context)."""
    tok = spaced_tokenizer()
    assert tok("# #", add_special_tokens=False)["input_ids"] == [HASH, HASH]
    rows = [[DOG, HASH, HASH, DOG, DOG],
            [HASH, HASH, DOG, DOG, DOG],     # at the very first possible step
            [HASH, DOG, HASH, DOG, HASH],    # never two in a row
            [DOG, DOG, DOG, DOG, HASH]]      # one '#' at the end is not the end symbol
    crit = EndSymbolStop(tok, "# #", eos_token_id=EOS, batch_size=4)
    assert steps(crit, rows) == [3, 2, None, None]
    crit.finish(torch.tensor(rows))
    assert crit.stop_step == [3, 2, None, None]
    assert crit.strip_tokens == [0, 0, 0, 0]             # '... # #' decodes with its end symbol: nothing to strip


def test_end_ids_are_the_symbols_own_tokens_without_bos():
    """A tokenizer that adds BOS to every text (as Llama's does): the end symbol's ids are its own tokens only."""
    tok = spaced_tokenizer()
    tok.backend_tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    assert tok("# #")["input_ids"] == [1, HASH, HASH]
    crit = EndSymbolStop(tok, "# #", eos_token_id=EOS, batch_size=2)
    assert crit.end_ids == [HASH, HASH]
    assert steps(crit, [[DOG, HASH, HASH, DOG], [DOG, DOG, DOG, DOG]]) == [3, None]
    assert crit.stop_steps.dtype == torch.long
    assert crit.stop_steps.tolist() == [3, -1]          # -1 while running, as documented


def test_the_start_is_the_length_at_the_first_call():
    """With input_ids generate passes the prompt too; new tokens are counted from the first call's length - 1."""
    tok = spaced_tokenizer()
    prompt = [DOG, HASH, DOG]
    rows = [prompt + [DOG, HASH, HASH, DOG], prompt + [EOS, DOG, DOG, DOG]]
    crit = EndSymbolStop(tok, "# #", eos_token_id=EOS, batch_size=2)
    assert steps(crit, rows, prompt=len(prompt)) == [3, 1]
    assert crit.start == len(prompt)
    assert crit.stop_steps.tolist() == [3, 1]


def test_without_eos_or_end_symbol_nothing_stops_on_them():
    tok = spaced_tokenizer()
    rows = [[DOG, EOS, HASH, HASH, HASH, DOG]]
    assert steps(EndSymbolStop(tok, "###", eos_token_id=None, batch_size=1), rows) == [5]   # EOS is just a token
    only_eos = EndSymbolStop(tok, None, eos_token_id=EOS, batch_size=1)
    assert only_eos.strings is None and only_eos.end_ids == []
    assert steps(only_eos, rows) == [2]
    assert steps(EndSymbolStop(tok, "", eos_token_id=None, batch_size=1), rows) == [None]
    none = EndSymbolStop(tok, None, eos_token_id=None, batch_size=1)
    assert steps(none, rows) == [None]
    none.finish(torch.tensor(rows))
    assert none.stop_step == [None] and none.strip_tokens == [0]


def test_finish_strips_the_end_symbols_ids_only_when_decode_loses_it():
    tok = spaced_tokenizer()
    rows = [[DOG, DOG, DOG, DOG, DOG, DOG],         # never stopped
            [DOG, DOG, EOS, DOG, DOG, DOG],         # EOS: nothing to strip
            [DOG, HASH, HASH, HASH, DOG, DOG]]      # '###' as '# # #': stripped (rows after the others count too)
    crit = EndSymbolStop(tok, "###", eos_token_id=EOS, batch_size=3)
    assert steps(crit, rows) == [None, 3, 4]
    crit.finish(torch.tensor(rows))
    assert crit.stop_step == [None, 3, 4]
    assert crit.strip_tokens == [0, 0, 3]


def test_an_end_symbol_that_is_the_eos_token():
    """Llama-2's template ends turns with '</s>', the EOS token itself: a row that stops on EOS keeps its tokens
    (EOS decodes to nothing); with EOS not given, the same row stops on the end symbol's ids, which decode drops."""
    tok = spaced_tokenizer()
    assert tok("</s>", add_special_tokens=False)["input_ids"] == [EOS]
    rows = [[DOG, DOG, EOS, DOG], [EOS, DOG, DOG, DOG]]
    crit = EndSymbolStop(tok, "</s>", eos_token_id=EOS, batch_size=2)
    assert steps(crit, rows) == [3, 1]
    crit.finish(torch.tensor(rows))
    assert (crit.stop_step, crit.strip_tokens) == ([3, 1], [0, 0])
    no_eos = EndSymbolStop(tok, "</s>", eos_token_id=None, batch_size=2)
    assert steps(no_eos, rows) == [3, 1]
    no_eos.finish(torch.tensor(rows))
    assert (no_eos.stop_step, no_eos.strip_tokens) == ([3, 1], [1, 1])


def char_tokenizer():
    """One token per character, decoded by concatenation."""
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "#": 4, "a": 5}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>")


def test_a_long_end_symbol_is_found_in_the_decoded_tail():
    """Nine one-character tokens: the tail decoded to look for the end symbol spans all of them."""
    tok = char_tokenizer()
    end_sym = "#" * 9
    assert tok(end_sym, add_special_tokens=False)["input_ids"] == [4] * 9
    rows = [[5, 5] + [4] * 9 + [5]]
    crit = EndSymbolStop(tok, end_sym, eos_token_id=EOS, batch_size=1)
    assert steps(crit, rows) == [11]
    crit.finish(torch.tensor(rows))
    assert (crit.stop_step, crit.strip_tokens) == ([11], [0])    # 'aa#########' holds it: nothing to strip


def test_finish_keeps_the_ids_when_the_text_is_there():
    tok = fused_tokenizer()
    a, b, h, hh = 6, 7, 4, 5
    rows = [[a, b, h, h, h, a], [h, hh, a, a, a, a], [a, hh, h, a, a, a]]
    crit = EndSymbolStop(tok, "###", eos_token_id=EOS, batch_size=3)
    assert crit.end_ids == [hh, h]
    assert steps(crit, rows) == [5, 2, 3]
    crit.finish(torch.tensor(rows))
    assert crit.strip_tokens == [0, 0, 0]   # '###' decodes as '###': cut_at_end finds it in the text


def test_finish_looks_only_at_the_stopped_tokens():
    """A row that stopped on EOS early is not stripped because of what follows its stop."""
    tok = spaced_tokenizer()
    rows = [[DOG, EOS, HASH, HASH, HASH, DOG]]
    crit = EndSymbolStop(tok, "###", eos_token_id=EOS, batch_size=1)
    steps(crit, rows)
    crit.finish(torch.tensor(rows))
    assert (crit.stop_step, crit.strip_tokens) == ([2], [0])


def test_finish_decodes_a_window_long_enough_for_the_end_symbol():
    """The end symbol after many special tokens (decoded as nothing) is still found in the decoded tail."""
    tok = spaced_tokenizer()
    rows = [[DOG] + [HASH, HASH, HASH] + [DOG] * 3]
    crit = EndSymbolStop(tok, "# # #", eos_token_id=EOS, batch_size=1)
    assert crit.end_ids == [HASH, HASH, HASH]
    steps(crit, rows)
    crit.finish(torch.tensor(rows))
    assert (crit.stop_step, crit.strip_tokens) == ([4], [0])   # '# # #' is in 'dog # # #'


def test_finish_before_any_step_records_nothing():
    crit = EndSymbolStop(spaced_tokenizer(), "###", eos_token_id=EOS, batch_size=2)
    crit.finish(torch.zeros(2, 0, dtype=torch.long))
    assert crit.stop_step == [None, None] and crit.strip_tokens == [0, 0]


def metaspace_tokenizer():
    """SentencePiece-like: a leading-space mark on word-initial pieces; can spell 'abcdef'."""
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "▁": 3, "#": 4, "▁#": 5, "a": 6, "b": 7, "c": 8, "d": 9, "e": 10,
             "f": 11, "▁a": 12, "ab": 13, "abc": 14, "abcd": 15, "abcde": 16, "abcdef": 17, "▁abcdef": 18}
    merges = [("a", "b"), ("ab", "c"), ("abc", "d"), ("abcd", "e"), ("abcde", "f"), ("▁", "#"), ("▁", "a"),
              ("▁", "abcdef")]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


def test_a_tokenizer_that_spells_the_prefix_gets_transformers_own_table():
    tok = metaspace_tokenizer()
    ours = _StopText.clean_tokenizer_vocab(tok)
    theirs = StopStringCriteria.clean_tokenizer_vocab(tok)
    table = dict(zip(ours[1], ours[0]))                # get_vocab's order is not stable: compare as maps
    assert len(table) == len(ours[0]) == 19 and table == dict(zip(theirs[1], theirs[0]))
    assert table[5] == " #" and table[4] == "#"        # the leading-space mark is a space, as in running text


def byte_level_tokenizer():
    """GPT-2 style byte-level BPE (can spell 'abcdef'); lone bytes of multi-byte characters are tokens."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(["abcdef ### é"], trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=["<s>", "</s>"]))
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>")


def test_a_byte_level_tokenizer_gets_transformers_byte_table():
    tok = byte_level_tokenizer()
    mode = StopStringCriteria._get_stop_string_matching_mode(tok)
    assert mode == "byte_level"
    ours = _StopText.clean_tokenizer_vocab(tok, stop_string_matching_mode=mode)
    theirs = StopStringCriteria.clean_tokenizer_vocab(tok, stop_string_matching_mode=mode)
    table = dict(zip(ours[1], ours[0]))
    assert table == dict(zip(theirs[1], theirs[0]))
    lone = tok.convert_tokens_to_ids("Ã")             # the first byte of 'é' (0xC3) on its own
    assert table[lone] == b"\xc3"                       # kept as bytes, not a replacement character


def test_a_tokenizer_that_cannot_spell_the_prefix_is_spelled_token_by_token():
    tok = spaced_tokenizer()
    strings, indices = _StopText.clean_tokenizer_vocab(tok)
    vocab = tok.get_vocab()
    assert sorted(indices) == sorted(vocab.values())
    assert dict(zip(indices, strings)) == {i: tok.decode([i]) for i in vocab.values()}
    assert dict(zip(indices, strings))[HASH] == "#"
    as_bytes, byte_indices = _StopText.clean_tokenizer_vocab(tok, stop_string_matching_mode="byte_level")
    assert dict(zip(byte_indices, as_bytes)) == {i: tok.decode([i]).encode("utf-8") for i in vocab.values()}


def test_cut_at_end():
    assert cut_at_end(" a cat ### b ### c", "###") == ("a cat", True)
    assert cut_at_end("  a cat  ", "###") == ("a cat", False)
    assert cut_at_end("  a cat  ", None) == ("a cat", False)
    assert cut_at_end("  a cat  ", "") == ("a cat", False)
    assert cut_at_end("###", "###") == ("", True)

"""Batched generation: batch-size invariance, stopping on multi-token end symbols, finish reasons, sampling."""

from __future__ import annotations

import pytest
import torch

from generation_support import PROMPTS, tiny_model
from stop_tokenizers import fused_tokenizer, spaced_tokenizer
from workbench.generation import (
    EndSymbolStop,
    GenerationConfig,
    cut_at_end,
    generate_batch,
    generate_from_contexts,
)
from workbench.generation.batch import pad_left


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def features(model):
    gen = torch.Generator().manual_seed(0)
    return model.encode_features(torch.randn(len(PROMPTS), 3, model.image_size, model.image_size, generator=gen))


def contexts_for(model, features):
    embeds = model.project(features)
    return [model.embed_context(model.template.chat_prompt(q), embeds[i]) for i, q in enumerate(PROMPTS)]


def plain_greedy_tokens(model, context, n):
    """Reference decoding without our code: one unpadded row, no stopping, plain greedy generate."""
    out = model.llm.generate(inputs_embeds=context[None], attention_mask=torch.ones(1, context.shape[0],
                             dtype=torch.long), max_new_tokens=n, min_new_tokens=n, do_sample=False,
                             eos_token_id=None, pad_token_id=model.tokenizer.pad_token_id)
    return out[0].tolist()


# ---- batch-size invariance ----------------------------------------------------------------------------
def test_contexts_really_need_padding(model, features):
    lengths = {c.shape[0] for c in contexts_for(model, features)}
    assert len(lengths) > 3  # otherwise the batch test below would not exercise left padding


def test_greedy_batch_equals_one_at_a_time(model, features):
    config = GenerationConfig.greedy(max_new_tokens=16)
    batched = generate_batch(model, PROMPTS, features, config)
    alone = [generate_batch(model, [q], features[i:i + 1], config)[0] for i, q in enumerate(PROMPTS)]
    assert batched == alone
    assert len({r.output for r in batched}) > 1  # the rows are genuinely different answers


def test_greedy_matches_plain_unpadded_generate(model, features):
    """Our left-padded batch gives, row by row, the tokens of an unpadded transformers generate."""
    n = 10
    contexts = contexts_for(model, features)
    results = generate_from_contexts(model.llm, model.tokenizer, contexts, None, GenerationConfig.greedy(n))
    for ctx, result in zip(contexts, results):
        tokens = plain_greedy_tokens(model, ctx, n)
        eos = model.tokenizer.eos_token_id
        if eos in tokens:
            tokens = tokens[: tokens.index(eos) + 1]
        assert result.n_tokens == len(tokens)
        assert result.output == model.tokenizer.decode(tokens, skip_special_tokens=True).strip()


def test_pad_left_positions_start_at_zero_per_row():
    a, b = torch.ones(2, 3), torch.ones(4, 3) * 2
    embeds, mask, positions = pad_left([a, b])
    assert mask.tolist() == [[0, 0, 1, 1], [1, 1, 1, 1]]
    assert positions.tolist() == [[0, 0, 0, 1], [0, 1, 2, 3]]
    assert torch.equal(embeds[0, :2], torch.zeros(2, 3)) and torch.equal(embeds[0, 2:], a)


# ---- stopping -----------------------------------------------------------------------------------------


def run_criterion(crit, rows):
    """Feed token rows step by step (as generate does with inputs_embeds); return the step each stopped."""
    steps = [None] * len(rows)
    for t in range(1, len(rows[0]) + 1):
        done = crit(torch.tensor([r[:t] for r in rows]), None)
        for i, d in enumerate(done.tolist()):
            if d and steps[i] is None:
                steps[i] = t
    return steps


def test_stop_on_end_symbol_text_whatever_its_tokenization():
    tok = fused_tokenizer()
    assert len(tok("###", add_special_tokens=False)["input_ids"]) > 1  # a multi-token end symbol
    a, b, h, hh, sp, eos = 6, 7, 4, 5, 8, 2
    rows = [
        [a, b, h, h, h, a, a, a],      # '#','#','#' -> stops at step 5
        [a, hh, h, b, b, b, b, b],     # '##','#'    -> stops at step 3
        [h, hh, a, a, a, a, a, a],     # '#','##'    -> stops at step 2
        [a, h, h, sp, h, a, b, a],     # '## #' is not '###' -> never
        [a, b, eos, a, a, a, a, a],    # EOS         -> stops at step 3
    ]
    crit = EndSymbolStop(tok, "###", eos_token_id=eos, batch_size=len(rows))
    assert run_criterion(crit, rows) == [5, 3, 2, None, 3]
    crit.finish(torch.tensor(rows))  # the one host read, after generation
    assert crit.stop_step == [5, 3, 2, None, 3]


def test_stop_on_end_symbol_ids_when_decode_does_not_round_trip():
    tok = spaced_tokenizer()
    hashes = tok("###", add_special_tokens=False)["input_ids"]
    assert hashes == [4, 4, 4] and tok.decode(hashes) == "# # #"
    rows = [[5, 5, 4, 4, 4, 5, 5, 5], [5] * 8]
    crit = EndSymbolStop(tok, "###", eos_token_id=tok.eos_token_id, batch_size=2)
    assert run_criterion(crit, rows) == [5, None]
    crit.finish(torch.tensor(rows))
    assert crit.strip_tokens[0] == 3  # the end symbol's tokens are dropped before decoding


def test_generation_stops_on_multi_token_end_symbol_and_cuts_there(model, features):
    """End symbol = a multi-token stretch of text the model really produces; expectation from plain generate."""
    n = 16
    contexts = contexts_for(model, features)
    tok = model.tokenizer
    tokens = plain_greedy_tokens(model, contexts[0], n)
    end_sym = tok.decode(tokens[4:6])  # two tokens of its own answer, e.g. 'circle Describe'
    assert len(tok(end_sym, add_special_tokens=False)["input_ids"]) == 2
    full_text = tok.decode(tokens, skip_special_tokens=True)
    expected_steps = next(k for k in range(1, n + 1) if end_sym in tok.decode(tokens[:k]))
    result = generate_from_contexts(model.llm, tok, contexts[:1], end_sym, GenerationConfig.greedy(n))[0]
    assert result.finish == "stop"
    assert result.n_tokens == expected_steps
    assert result.output == full_text.split(end_sym, 1)[0].strip()
    assert end_sym not in result.output


def test_each_row_stops_on_its_own(model, features):
    n = 16
    contexts = contexts_for(model, features)
    tok = model.tokenizer
    tokens0 = plain_greedy_tokens(model, contexts[0], n)
    end_sym = tok.decode(tokens0[3:5])
    alone = [generate_from_contexts(model.llm, tok, [c], end_sym, GenerationConfig.greedy(n))[0] for c in contexts]
    together = generate_from_contexts(model.llm, tok, contexts, end_sym, GenerationConfig.greedy(n))
    assert together == alone
    assert {r.finish for r in together} == {"stop", "length"}  # some rows stop early, others run on


def test_finish_length_when_no_end_symbol_appears(model, features):
    config = GenerationConfig.greedy(max_new_tokens=7)
    contexts = contexts_for(model, features)
    results = generate_from_contexts(model.llm, model.tokenizer, contexts, "never-said-###", config)
    for ctx, r in zip(contexts, results):
        if model.tokenizer.eos_token_id in plain_greedy_tokens(model, ctx, 7):
            continue
        assert r.finish == "length" and r.n_tokens == 7


def test_cut_at_end():
    assert cut_at_end(" a cat ###Human: more", "###") == ("a cat", True)
    assert cut_at_end("a cat", "###") == ("a cat", False)
    assert cut_at_end("a cat\nmore", "\n") == ("a cat", True)


# ---- config and sampling ------------------------------------------------------------------------------
def test_config_defaults_follow_minigpt4():
    greedy = GenerationConfig()
    assert (greedy.sample, greedy.max_new_tokens, greedy.repetition_penalty) == (False, 300, 1.0)
    chat = GenerationConfig.from_flags(sample=True)
    assert (chat.top_p, chat.temperature, chat.repetition_penalty, chat.max_new_tokens) == (0.9, 1.0, 1.05, 300)
    assert GenerationConfig.from_dict(chat.to_dict()) == chat
    assert GenerationConfig.from_flags(sample=False, max_new_tokens=5).max_new_tokens == 5


def test_sampling_is_seedable_and_independent_of_batching(model, features):
    config = GenerationConfig.chat_sampling(max_new_tokens=12)
    seeds = [101, 202, 303, 404, 505, 606]
    first = generate_batch(model, PROMPTS, features, config, seeds=seeds)
    again = generate_batch(model, PROMPTS, features, config, seeds=seeds)
    alone = [generate_batch(model, [q], features[i:i + 1], config, seeds=[seeds[i]])[0]
             for i, q in enumerate(PROMPTS)]
    assert first == again == alone
    other = generate_batch(model, PROMPTS, features, config, seeds=[s + 1 for s in seeds])
    assert other != first
    greedy = generate_batch(model, PROMPTS, features, GenerationConfig.greedy(12))
    assert first != greedy  # it really samples


def test_sampling_without_seeds_follows_torch_manual_seed(model, features):
    config = GenerationConfig.chat_sampling(max_new_tokens=8)
    torch.manual_seed(7)
    a = generate_batch(model, PROMPTS, features, config)
    torch.manual_seed(7)
    b = generate_batch(model, PROMPTS, features, config)
    assert a == b

"""Generation's defensive branches (issue 20): left truncation of a context longer than the limit, and the
per-item retry after a failed batch."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch

import workbench.generation.runner as runner
from generation_support import PROMPTS, load_set, make_eval_set, tiny_model
from workbench.generation import GenerationConfig, generate_batch, generate_from_contexts, run_generation


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def _context(model, n_rows: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1)
    feats = model.encode_features(torch.randn(1, 3, model.image_size, model.image_size, generator=gen))
    ctx = model.embed_context(model.template.chat_prompt(" ".join(PROMPTS)), model.project(feats)[0])
    assert ctx.shape[0] > n_rows
    return ctx


def test_a_context_longer_than_the_limit_keeps_its_last_positions(model):
    keep, new = 12, 6
    ctx = _context(model, keep)
    limited = GenerationConfig(sample=False, max_new_tokens=new, max_length=keep + new)
    roomy = GenerationConfig(sample=False, max_new_tokens=new, max_length=ctx.shape[0] + new)
    [cut] = generate_from_contexts(model.llm, model.tokenizer, [ctx], None, limited)
    [left] = generate_from_contexts(model.llm, model.tokenizer, [ctx[-keep:]], None, roomy)
    [right] = generate_from_contexts(model.llm, model.tokenizer, [ctx[:keep]], None, roomy)
    [whole] = generate_from_contexts(model.llm, model.tokenizer, [ctx], None, roomy)
    assert cut == left                       # MiniGPT-4 keeps the end of the context (the question and "Assistant:")
    assert cut != right and cut != whole     # the fixture tells the three apart
    # a context exactly at the limit is not cut
    [exact] = generate_from_contexts(model.llm, model.tokenizer, [ctx[-keep:]], None, limited)
    assert exact == left


POISON = PROMPTS[2]   # items 2 and 8 of make_eval_set carry this prompt


def _poisoned(monkeypatch, calls):
    real = runner.generate_batch

    def fake(model, questions, features, config, seeds=None, **kwargs):
        calls.append(len(questions))
        if POISON in questions:
            raise RuntimeError("poisoned prompt")
        return real(model, questions, features, config, seeds=seeds, **kwargs)
    monkeypatch.setattr(runner, "generate_batch", fake)


def test_a_failed_batch_is_retried_item_by_item_and_only_the_bad_item_fails(model, tmp_path, monkeypatch):
    root = make_eval_set(tmp_path / "es", n_items=6)
    config = GenerationConfig.greedy(max_new_tokens=4)
    clean = run_generation(model, load_set(root), tmp_path / "clean", config, batch_size=2, progress=False)
    assert clean.n_errors == 0
    calls: list[int] = []
    _poisoned(monkeypatch, calls)
    summary = run_generation(model, load_set(root), tmp_path / "run", config, batch_size=2, progress=False)
    assert calls == [2, 2, 1, 1, 2]          # batch 1 fine; batch 2 fails, then item 2 and item 3 alone; batch 3
    assert (summary.n_written, summary.n_errors) == (5, 1)
    errors = [json.loads(x) for x in (tmp_path / "run" / "errors.jsonl").read_text().splitlines()]
    assert [(e["id"], e["error"]) for e in errors] == [("item-002", "RuntimeError: poisoned prompt")]
    written = (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()
    expected = [x for x in (tmp_path / "clean" / "predictions.jsonl").read_text().splitlines()
                if json.loads(x)["id"] != "item-002"]
    assert written == expected               # the neighbours' answers are what a clean run gives


def test_a_failure_before_anything_succeeded_is_raised_not_recorded(model, tmp_path, monkeypatch):
    root = make_eval_set(tmp_path / "es", n_items=4)
    calls: list[int] = []
    _poisoned(monkeypatch, calls)
    with pytest.raises(RuntimeError, match="poisoned prompt"):   # item 2 is in the first batch of 3: setup is broken
        run_generation(model, load_set(root), tmp_path / "run", GenerationConfig.greedy(max_new_tokens=4),
                       batch_size=3, progress=False)
    assert calls == [3]


def test_a_single_item_batch_that_fails_is_recorded_without_a_retry(model, tmp_path, monkeypatch):
    root = make_eval_set(tmp_path / "es", n_items=4)
    calls: list[int] = []
    _poisoned(monkeypatch, calls)
    summary = run_generation(model, load_set(root), tmp_path / "run", GenerationConfig.greedy(max_new_tokens=4),
                             batch_size=1, progress=False)
    assert calls == [1, 1, 1, 1] and (summary.n_written, summary.n_errors) == (3, 1)


def _features(model, n: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(2)
    return model.encode_features(torch.randn(n, 3, model.image_size, model.image_size, generator=gen))


def test_features_are_cast_to_the_projections_dtype(model):
    feats = _features(model, 2)
    config = GenerationConfig.greedy(max_new_tokens=4)
    assert generate_batch(model, PROMPTS[:2], feats.double(), config) == generate_batch(model, PROMPTS[:2], feats,
                                                                                       config)


def test_the_templates_end_symbol_cuts_the_answer(model, monkeypatch):
    """A template whose end symbol is a word the model really says: the answer stops there."""
    feats = _features(model, 1)
    [free] = generate_batch(model, PROMPTS[:1], feats, GenerationConfig.greedy(max_new_tokens=12))
    words = free.output.split()
    assert len(words) >= 4
    end_word = words[2]
    template = model.template
    monkeypatch.setattr(model, "template", SimpleNamespace(chat_prompt=template.chat_prompt, end_sym=end_word,
                                                           name=template.name))
    [cut] = generate_batch(model, PROMPTS[:1], feats, GenerationConfig.greedy(max_new_tokens=12))
    assert cut.finish == "stop" and cut.output == free.output.split(end_word, 1)[0].strip()


class SpyCompiled:
    """Stands in for CompiledDecoding without compiling: pads like it, and records that it was asked."""

    length_multiple = 16

    def __init__(self):
        self.devices = []

    def hf_kwargs(self, device):
        self.devices.append(device.type)
        return {}


@pytest.mark.parametrize("config", [GenerationConfig.greedy(max_new_tokens=5),
                                    GenerationConfig.chat_sampling(max_new_tokens=5)])
def test_the_compiled_path_pads_rows_and_keeps_each_rows_answer(model, config):
    """Three rows padded to four (the copy repeats row 0's seed) and to a length multiple: the same answers."""
    feats = _features(model, 3)
    seeds = [11, 22, 33]
    spy = SpyCompiled()
    padded = generate_batch(model, PROMPTS[:3], feats, config, seeds=seeds, compiled=spy)
    plain = generate_batch(model, PROMPTS[:3], feats, config, seeds=seeds)
    assert spy.devices == ["cpu"] and padded == plain


def test_the_limit_keeps_exactly_max_length_minus_max_new_tokens_positions(model, monkeypatch):
    """What reaches ``llm.generate``: each context's last 25 - 5 = 20 positions, in the LLM's dtype, left-padded."""
    ctx = _context(model, 20)
    seen = {}
    real = model.llm.generate

    def spy(**kwargs):
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(model.llm, "generate", spy)
    config = GenerationConfig(sample=False, max_new_tokens=5, max_length=25)
    generate_from_contexts(model.llm, model.tokenizer, [ctx.double(), ctx[-7:].double()], None, config)
    embeds, mask = seen["inputs_embeds"], seen["attention_mask"]
    assert embeds.shape == (2, 20, ctx.shape[1]) and embeds.dtype == torch.float32
    assert torch.equal(embeds[0], ctx[-20:]) and torch.equal(embeds[1, -7:], ctx[-7:])
    assert mask.tolist() == [[1] * 20, [0] * 13 + [1] * 7]


def test_one_seed_per_row_or_a_clear_error(model):
    ctx = _context(model, 5)
    with pytest.raises(ValueError, match="^2 seeds for 3 rows$"):
        generate_from_contexts(model.llm, model.tokenizer, [ctx] * 3, None,
                               GenerationConfig.chat_sampling(max_new_tokens=2), seeds=[1, 2])

"""Batched generation over MiniGPT-4 context embeddings.

One batch = several (prompt, image features) pairs. Each context is built by the model
(``embed_context``: BOS + text, image embeddings spliced at ``<ImageHere>``), left-padded to a
common length (``[pad, image, text]``, padding masked out), and decoded together by
``llm.generate(inputs_embeds=..., attention_mask=...)`` with the KV cache. Position ids are passed
explicitly from the attention mask, so left padding never shifts a row's positions whatever the
transformers version does by default. Each row stops on its own (``stopping.EndSymbolStop``).
Opt-in (``--compile``): a static KV cache and a compiled decoding step over bucketed shapes (``compiled.py``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
import transformers
from transformers import LogitsProcessorList, StoppingCriteriaList

from workbench.generation.compiled import CompiledDecoding, pad_for_compile
from workbench.generation.config import GenerationConfig
from workbench.generation.sampling import PerRowSampler
from workbench.generation.stopping import EndSymbolStop, cut_at_end


@dataclass(frozen=True)
class GenerationResult:
    output: str     # text before the end symbol, stripped
    n_tokens: int   # new tokens generated for this row, including the end symbol / EOS
    finish: str     # "stop" (end symbol or EOS) or "length" (ran to max_new_tokens)


def pad_left(contexts: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stack (L_i, H) contexts as (B, L, H) with zero left padding; attention mask; position ids."""
    length = max(c.shape[0] for c in contexts)
    hidden = contexts[0].shape[1]
    ref = contexts[0]
    embeds = ref.new_zeros((len(contexts), length, hidden))
    mask = torch.zeros((len(contexts), length), dtype=torch.long, device=ref.device)
    for row, ctx in enumerate(contexts):
        embeds[row, length - ctx.shape[0]:] = ctx
        mask[row, length - ctx.shape[0]:] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return embeds, mask, positions


def _token_ids(llm, tokenizer) -> tuple[int | None, int | None, int | None]:
    cfg = llm.config
    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else cfg.eos_token_id
    if isinstance(eos, (list, tuple)):
        eos = eos[0]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else cfg.pad_token_id
    if pad is None:
        pad = eos
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else cfg.bos_token_id
    return bos, eos, pad


@torch.no_grad()
def generate_from_contexts(llm, tokenizer, contexts: list[torch.Tensor], end_sym: str | None,
                           config: GenerationConfig, seeds: list[int] | None = None,
                           compiled: CompiledDecoding | None = None) -> list[GenerationResult]:
    """Decode a batch of (L_i, H) context embeddings; outputs cut at ``end_sym``.

    When sampling, row ``i`` draws from its own generator seeded with ``seeds[i]``; without seeds they
    are drawn from torch's global RNG (so ``torch.manual_seed`` still makes a call reproducible).
    ``compiled``: decode with a static KV cache and ``torch.compile`` (``compiled.py``), the batch padded to
    bucketed shapes; the same greedy tokens as without.
    """
    if not contexts:
        return []
    n_rows = len(contexts)
    if config.sample:
        seeds = torch.randint(0, 2**62, (n_rows,)).tolist() if seeds is None else list(seeds)
        if len(seeds) != n_rows:
            raise ValueError(f"{len(seeds)} seeds for {n_rows} rows")
    keep = config.max_length - config.max_new_tokens  # MiniGPT-4 left-truncates long contexts
    dtype = llm.get_input_embeddings().weight.dtype
    embeds, mask, positions = pad_left([c[-keep:].to(dtype) for c in contexts])
    extra = {}
    if compiled is not None:
        embeds, mask, positions = pad_for_compile(embeds, mask, positions, compiled.length_multiple)
        extra = compiled.hf_kwargs(embeds.device)
    processors = LogitsProcessorList()
    if config.sample:  # rows added by the padding repeat row 0's seed; their outputs are dropped
        processors.append(PerRowSampler(seeds + seeds[:1] * (embeds.shape[0] - n_rows), temperature=config.temperature,
                                        top_k=config.top_k, top_p=config.top_p))
    bos, eos, pad = _token_ids(llm, tokenizer)
    stop = EndSymbolStop(tokenizer, end_sym, eos, batch_size=embeds.shape[0])
    # a fresh transformers config so nothing from the snapshot's generation_config.json leaks in
    hf_config = transformers.GenerationConfig(bos_token_id=bos, eos_token_id=eos, pad_token_id=pad,
                                              **config.hf_kwargs(), **extra)
    with warnings.catch_warnings():
        # MiniGPT-4 also penalises only new tokens (it generates from embeddings); not news to users
        warnings.filterwarnings("ignore", message="Passing `repetition_penalty` with `inputs_embeds`")
        new_tokens = llm.generate(inputs_embeds=embeds, attention_mask=mask, position_ids=positions,
                                  generation_config=hf_config, logits_processor=processors,
                                  stopping_criteria=StoppingCriteriaList([stop]))
    stop.finish(new_tokens)
    return [_row_result(tokenizer, new_tokens[row], stop, row, end_sym) for row in range(n_rows)]


def _row_result(tokenizer, tokens: torch.Tensor, stop: EndSymbolStop, row: int, end_sym: str | None):
    """Row ``row``'s (T,) new tokens as text cut at the end symbol, with its token count and finish reason."""
    n = stop.stop_step[row] if stop.stop_step[row] is not None else tokens.shape[0]
    text = tokenizer.decode(tokens[:n - stop.strip_tokens[row]].tolist(), skip_special_tokens=True)
    output, _ = cut_at_end(text, end_sym)
    return GenerationResult(output=output, n_tokens=int(n),
                            finish="stop" if stop.stop_step[row] is not None else "length")


def _projection_param(model) -> torch.Tensor:
    proj = getattr(model, "llama_proj", None)
    if proj is not None:
        return proj.weight
    return next(model.parameters())


@torch.no_grad()
def generate_batch(model, questions: list[str], features: torch.Tensor, config: GenerationConfig,
                   seeds: list[int] | None = None, compiled: CompiledDecoding | None = None) -> list[GenerationResult]:
    """MiniGPT-4 answers for ``questions`` about images whose frozen features (B, n, d) are given.

    ``features`` are ``model.encode_features`` outputs (possibly from the vision cache); the
    projection, the chat template and the splice are the model's own; ``compiled``: see ``generate_from_contexts``.
    """
    param = _projection_param(model)
    image_embeds = model.project(features.to(device=param.device, dtype=param.dtype))
    template = model.template
    contexts = [model.embed_context(template.chat_prompt(q), image_embeds[i])
                for i, q in enumerate(questions)]
    return generate_from_contexts(model.llm, model.tokenizer, contexts, template.end_sym, config, seeds,
                                  compiled)

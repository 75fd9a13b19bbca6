"""Small randomly initialised MiniGPT-4s for tests, benchmarks and shape checks (no files, no network).

The tokenizer splits text into words and punctuation, and ``#`` is its own token so that the ``###`` end
symbol is three tokens long, like Vicuna's two tokenizations of ``###``.
"""

from __future__ import annotations

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (
    Blip2QFormerConfig,
    Blip2QFormerModel,
    Blip2VisionConfig,
    Blip2VisionModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

from workbench.model.minigpt4 import MiniGPT4
from workbench.model.templates import SYSTEM_TEXT, get_template

SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]

DEFAULT_TEXTS = [
    SYSTEM_TEXT,
    "###Human: <Img><ImageHere></Img> Describe this image in detail.###Assistant: ",
    "[INST] a red circle and a blue square on a green field [/INST] </s>",
    "the quick brown fox jumps over the lazy dog . 0 1 2 3 4 5 6 7 8 9 , ; : ! ?",
]


def word_tokenizer(texts: list[str] | None = None) -> PreTrainedTokenizerFast:
    """A WordLevel tokenizer trained offline on ``texts``; pads on the left for generation."""
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(behavior="isolated")]
    )
    tok.train_from_iterator(texts or DEFAULT_TEXTS, trainers.WordLevelTrainer(special_tokens=SPECIALS))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
        padding_side="left",
    )


def random_parts(
    image_size: int = 32,
    patch_size: int = 8,
    vision_hidden: int = 32,
    qformer_hidden: int = 32,
    num_query_tokens: int = 8,
    llm_hidden: int = 48,
    llm_layers: int = 2,
    vocab_size: int | None = None,
    tokenizer: PreTrainedTokenizerFast | None = None,
    seed: int = 0,
):
    """Random vision encoder, Q-Former, query tokens and Llama, small enough to build in milliseconds."""
    torch.manual_seed(seed)
    tokenizer = tokenizer or word_tokenizer()
    vision = Blip2VisionModel(Blip2VisionConfig(
        hidden_size=vision_hidden, intermediate_size=2 * vision_hidden, num_hidden_layers=2,
        num_attention_heads=2, image_size=image_size, patch_size=patch_size,
    ))
    qformer = Blip2QFormerModel(Blip2QFormerConfig(
        hidden_size=qformer_hidden, intermediate_size=2 * qformer_hidden, num_hidden_layers=2,
        num_attention_heads=2, encoder_hidden_size=vision_hidden, cross_attention_frequency=1,
    ))
    query_tokens = torch.randn(1, num_query_tokens, qformer_hidden) * 0.02
    llm = LlamaForCausalLM(LlamaConfig(
        vocab_size=vocab_size or len(tokenizer), hidden_size=llm_hidden, intermediate_size=2 * llm_hidden,
        num_hidden_layers=llm_layers, num_attention_heads=4, num_key_value_heads=4,
        max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False,
    ))
    return vision, qformer, query_tokens, llm, tokenizer


def random_minigpt4(connector: str = "qformer", template: str = "vicuna0", seed: int = 0, **sizes) -> MiniGPT4:
    vision, qformer, query_tokens, llm, tokenizer = random_parts(seed=seed, **sizes)
    model = MiniGPT4(vision, qformer, query_tokens, llm, tokenizer, get_template(template), connector=connector)
    return model.eval()

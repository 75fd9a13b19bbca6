"""The MiniGPT-4 module: exact prompt text, where the image lands, connector shapes, what trains."""

import pytest
import torch

from workbench.errors import WorkbenchError
from workbench.model import IMAGE_PLACEHOLDER, get_template, preprocess_images
from random_model import random_minigpt4

SYSTEM = (
    "Give the following image: <Img>ImageContent</Img>. "
    "You will be able to see the image once I provide it to you. Please answer my questions."
)


# Snapshot tests: these strings are MiniGPT-4's, character for character. A template edit must fail here.
def test_vicuna0_chat_prompt_snapshot():
    assert get_template("vicuna0").chat_prompt("Describe this image in detail.") == (
        SYSTEM + "###Human: <Img><ImageHere></Img> Describe this image in detail.###Assistant: "
    )


def test_llama2_chat_prompt_snapshot():
    assert get_template("llama2").chat_prompt("What is this?") == (
        SYSTEM + "<s>[INST] <Img><ImageHere></Img> What is this? [/INST] "
    )


def test_train_prompt_snapshots():
    assert get_template("vicuna0").train_prompt("Describe it.") == (
        "###Human: <Img><ImageHere></Img> Describe it. ###Assistant: "
    )
    assert get_template("llama2").train_prompt("Describe it.") == "[INST] <Img><ImageHere></Img> Describe it. [/INST] "


def test_end_symbols_and_cut():
    vicuna, llama2 = get_template("vicuna0"), get_template("llama2")
    assert (vicuna.end_sym, llama2.end_sym) == ("###", "</s>")
    assert vicuna.cut(" a red ball.###Human: more") == "a red ball."
    assert vicuna.cut("no end symbol") == "no end symbol"
    # Leaked roles are kept so that the failure scorer can see them.
    assert vicuna.cut("Assistant: hi###") == "Assistant: hi"


def test_unknown_template_names_the_known_ones():
    with pytest.raises(WorkbenchError, match="vicuna0"):
        get_template("vicuna1")


@pytest.fixture(scope="module")
def model():
    return random_minigpt4("qformer")


def test_splice_puts_image_embeddings_between_the_two_segments(model):
    prompt = model.template.chat_prompt("Describe this image in detail.")
    before, after = prompt.split(IMAGE_PLACEHOLDER)
    image = torch.randn(model.num_image_tokens, model.llm_hidden_size)
    context = model.embed_context(prompt, image)
    n_before = len(model.tokenizer(before, add_special_tokens=False)["input_ids"]) + 1  # + BOS
    n_after = len(model.tokenizer(after, add_special_tokens=False)["input_ids"])
    assert context.shape == (n_before + model.num_image_tokens + n_after, model.llm_hidden_size)
    assert torch.equal(context[n_before : n_before + model.num_image_tokens], image)
    table = model.llm.get_input_embeddings().weight
    assert torch.equal(context[0], table[model.tokenizer.bos_token_id])  # BOS on the first segment only
    first_after = model.tokenizer(after, add_special_tokens=False)["input_ids"][0]
    assert torch.equal(context[n_before + model.num_image_tokens], table[first_after])


def test_prompt_without_exactly_one_placeholder_is_refused(model):
    image = torch.zeros(model.num_image_tokens, model.llm_hidden_size)
    with pytest.raises(WorkbenchError, match="exactly once"):
        model.embed_context("no image here", image)


def test_qformer_connector_shapes(model):
    pixels = torch.randn(3, 3, model.image_size, model.image_size)
    features = model.encode_features(pixels)
    assert features.shape == (3, model.query_tokens.shape[1], model.qformer.config.hidden_size)
    assert model.project(features).shape == (3, model.num_image_tokens, model.llm_hidden_size)
    assert model.llama_proj.in_features == model.qformer.config.hidden_size


def test_concat4_groups_four_consecutive_patch_tokens_without_cls():
    model = random_minigpt4("concat4")
    pixels = torch.randn(2, 3, model.image_size, model.image_size)
    features = model.encode_features(pixels)
    patches = model.vision_model(pixel_values=pixels).last_hidden_state[:, 1:]
    width = model.vision_model.config.hidden_size
    assert features.shape == (2, patches.shape[1] // 4, 4 * width)
    assert torch.allclose(features[0, 1, width : 2 * width], patches[0, 5])  # token 5 = group 1, slot 1
    assert model.llama_proj.in_features == 4 * width
    # ln_vision stays at its default init in MiniGPT-4's Llama-2 variant
    assert torch.all(model.vision_model.post_layernorm.weight == 1)


def test_only_the_projection_trains(model):
    pixels = torch.randn(2, 3, model.image_size, model.image_size)
    features = model.encode_features(pixels)
    prompts = [model.template.train_prompt("Describe it."), IMAGE_PLACEHOLDER]
    loss = model.answer_loss(features, prompts, ["a red circle", "a blue square"])
    loss.backward()
    with_grad = sorted(n for n, p in model.named_parameters() if p.grad is not None)
    assert with_grad == ["llama_proj.bias", "llama_proj.weight"]
    assert sorted(model.projection_state()) == ["llama_proj.bias", "llama_proj.weight"]
    model.zero_grad()


def test_preprocess_squashes_and_normalises_like_clip():
    from PIL import Image

    white = Image.new("RGB", (40, 20), (255, 255, 255))
    x = preprocess_images([white], 16)
    assert x.shape == (1, 3, 16, 16)
    expected = (1 - torch.tensor([0.48145466, 0.4578275, 0.40821073])) / torch.tensor(
        [0.26862954, 0.26130258, 0.27577711]
    )
    assert torch.allclose(x[0, :, 7, 7], expected, atol=1e-5)


def test_frozen_fingerprint_ignores_the_projection_but_not_the_encoder(model):
    before = model.frozen_fingerprint()
    other = random_minigpt4("qformer")
    with torch.no_grad():
        other.llama_proj.weight.add_(1.0)
    assert other.frozen_fingerprint() == before  # same seed, same frozen parts
    assert random_minigpt4("qformer", seed=1).frozen_fingerprint() != before

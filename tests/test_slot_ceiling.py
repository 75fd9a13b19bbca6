"""The frozen LLM's ceiling check: true soft slots in place of projected image tokens."""

from __future__ import annotations

import re

import pytest
import torch

import workbench.tiny.world as world
from workbench.evalsets import DEFAULT_PROMPTS
from workbench.model.loading import load_model
from workbench.tiny.diagnostics import dev_eval
from workbench.tiny.diagnostics.slot_ceiling import slot_ceiling, true_slots
from workbench.tiny.world import SEEDS, sample_items
from workbench.tiny.world.dishes import DishSpec


@pytest.fixture(scope="module")
def model():
    return load_model("tiny-stage2", device="cpu")


@pytest.fixture(scope="module")
def items():
    return {d: sample_items(d, 4, seed=SEEDS["probe"] + 900) for d in ("scene", "dish", "leaf")}


def test_true_slots_depend_only_on_what_is_pictured(model):
    a, b, c = DishSpec(dish=3, table="grey"), DishSpec(dish=3, table="grey"), DishSpec(dish=4, table="grey")
    fake = [type("It", (), {"spec": s})() for s in (a, b, c)]
    slots = true_slots(model, fake)
    assert slots.shape == (3, model.num_image_tokens, model.llm_hidden_size)
    assert torch.equal(slots[0], slots[1]) and not torch.allclose(slots[0], slots[2])


def test_the_ceiling_never_reads_llama_proj(model, items):
    vocab = dev_eval.dev_eval_set(items, world.OBJECT_VOCABULARY, world.SYNONYMS)
    before = slot_ceiling(model, items, vocab)
    saved = {k: v.clone() for k, v in model.llama_proj.state_dict().items()}
    try:
        with torch.no_grad():
            model.llama_proj.weight.fill_(float("nan"))
        after = slot_ceiling(model, items, vocab)
    finally:
        model.llama_proj.load_state_dict(saved)
    assert after == before
    assert before["metrics"]["recipe/dish_accuracy"] >= 0.75  # true slots name the dish for the frozen LLM


def test_name_separation_is_the_mean_pairwise_cosine_of_the_names_embeddings(model):
    from workbench.tiny.diagnostics.slot_ceiling import name_separation

    weight = model.llm.get_input_embeddings().weight
    names = ["star", "heart", "fried rice"]
    vecs = [weight[model.tokenizer(n, add_special_tokens=False)["input_ids"]].mean(0) for n in names]
    cos = [torch.nn.functional.cosine_similarity(vecs[i], vecs[j], dim=0).item()
           for i in range(3) for j in range(3) if i < j]
    got = name_separation(model, {"mixed": names, "same": ["star", "star"], "one": ["star"]})
    assert got["mixed"] == pytest.approx(sum(cos) / 3, abs=1e-3)
    assert got["same"] == pytest.approx(1.0, abs=1e-3) and got["one"] is None


def test_slot_reading_compares_each_scene_with_its_own_and_the_next_slot(model):
    from workbench.tiny.diagnostics.slot_ceiling import slot_reading
    from workbench.tiny.world import catalog

    scenes = sample_items("scene", 12, seed=SEEDS["probe"] + 900)
    groups = {"kinds": set(catalog.KINDS), "colours": set(catalog.COLOUR_NAMES)}
    prompt = DEFAULT_PROMPTS["caption"]
    def kind_words(items):  # counted in the text, independently of the tokenizer
        return sum(len(re.findall(rf"\b({'|'.join(catalog.KINDS)})\b", it.detailed_description)) for it in items)

    twin = slot_reading(model, [scenes[0], scenes[0]], groups, prompt)  # the next slot is the same slot
    assert twin["kinds"]["own"] == twin["kinds"]["other"] and twin["kinds"]["tokens"] == kind_words(scenes[:1]) * 2
    got = slot_reading(model, scenes, groups, prompt)
    assert got["kinds"]["tokens"] == kind_words(scenes)
    assert got["kinds"]["own"] < got["kinds"]["other"] - 1.0  # the shipped LLM reads the shape from the slot
    assert slot_reading(model, scenes[:2], {"none": {"zebra"}}, prompt)["none"] == {"own": None, "other": None,
                                                                                   "tokens": 0}
    with pytest.raises(ValueError, match="at least two items"):
        slot_reading(model, scenes[:1], groups, prompt)

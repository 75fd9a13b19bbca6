"""The world's text: caption and description constraints, answer formats, and the LLM corpus."""

from __future__ import annotations

import re

import numpy as np
import pytest

from workbench.model.templates import get_template
from workbench.tiny.world import PROMPTS, SEEDS, corpus, diagnosis_answer, recipe_answer, sample_items
from workbench.tiny.world.items import detailed_description
from workbench.tiny.world.text import image_diagnosis_answer, image_recipe_answer, recipe_body, treatment
from workbench.tiny.world.plants import CROPS, DISEASE_NAMES
from workbench.tiny.world.recipes import DISHES
from workbench.tiny.world.slots import SlotDocument, document_text

TREATMENT_WORDS = {"fungicide", "apply", "spray", "prune", "rotate", "destroy", "treat", "treatment", "sulfur",
                   "plough", "resistant", "remove", "avoid", "control"}


@pytest.fixture(scope="module")
def items():
    return {d: sample_items(d, 150, seed=SEEDS["stage2"]) for d in ("scene", "dish", "leaf")}


@pytest.fixture(scope="module")
def raw_docs():
    return corpus(SEEDS["corpus"], 3000)


@pytest.fixture(scope="module")
def docs(raw_docs):
    return [document_text(d) for d in raw_docs]


def test_short_captions_are_stage1_style(items):
    for domain_items in items.values():
        for it in domain_items:
            assert re.fullmatch(r"[a-z0-9\- ]+", it.short_caption), it.short_caption
            assert 3 <= len(it.short_caption.split()) <= 50


def test_scene_descriptions_name_exactly_the_objects_drawn(items):
    from workbench.tiny.world.catalog import KINDS
    for it in items["scene"]:
        desc = it.detailed_description.lower()
        named = {k for k in KINDS if re.search(rf"\b{k}s?\b", desc)}
        assert named == set(it.objects) == {o.kind for o in it.spec.objects}
        for o in it.spec.objects:
            assert f"{o.size} {o.colour} {o.kind}" in desc and o.cell in desc
        assert len(it.reference["captions"]) >= 3 and len(set(it.reference["captions"])) == len(it.reference["captions"])


def test_dish_descriptions_name_the_dish_and_visible_parts_but_no_recipe(items):
    for it in items["dish"]:
        dish = it.spec.entry
        desc = it.detailed_description
        assert dish.name in desc
        assert all(p.look in desc for p in dish.parts)
        assert "Ingredients" not in desc and "Steps" not in desc and not re.search(r"\d", desc)
        for step in dish.steps:
            assert step.lower().rstrip(".") not in desc.lower()
        for hidden in set(dish.extra) - set(dish.visible_ingredients):
            assert not re.search(rf"\b{re.escape(hidden)}\b", desc.lower()), (dish.name, hidden)


def test_leaf_descriptions_name_crop_and_condition_but_no_treatment(items):
    for it in items["leaf"]:
        crop, cond = it.spec.crop_entry, it.spec.condition_entry
        desc = it.detailed_description.lower()
        assert crop.name in desc
        assert (f"the leaf shows {cond.name}" in desc) if cond.kind else ("the leaf is healthy" in desc)
        assert not TREATMENT_WORDS & set(re.findall(r"[a-z]+", desc)), desc
        for t in cond.treatments:
            assert t not in desc


def test_answers_have_the_regular_shape_scorers_read():
    for i, dish in enumerate(DISHES):
        a = recipe_answer(i)
        assert a.startswith(f"This is {dish.name}. Ingredients: {', '.join(dish.ingredients)}. Steps: 1. ")
        assert all(f"{k}. {s}" in a for k, s in enumerate(dish.steps, 1))
    for ci, crop in enumerate(CROPS):
        for k, cond in enumerate(crop.conditions):
            a = diagnosis_answer(ci, k)
            if k == 0:
                assert "healthy" in a and "Treatment" not in a
            else:
                assert a.startswith(f"This is a {crop.name} leaf with {cond.name}.") and "healthy" not in a
                assert all(t in a for t in cond.treatments)


def test_answers_about_a_picture_first_say_what_the_detailed_description_says(items):
    """Image conversations answer "describe, then recipe / treatment": the opening is the detailed description's
    (same words for the same draw), so what stage 2 aligns on describe prompts is what these answers start with."""
    for seed, it in enumerate(items["dish"] + items["leaf"]):
        desc = detailed_description(it.spec, np.random.default_rng(seed))
        if it.domain == "dish":
            a = image_recipe_answer(it.spec, np.random.default_rng(seed))
            assert a.endswith(recipe_body(it.spec.entry)) and desc.startswith(a.split(". ")[0] + ".")
        else:
            a = image_diagnosis_answer(it.spec, np.random.default_rng(seed))
            assert a == f"Here is my diagnosis. {desc} {treatment(it.spec.condition_entry)}"
            assert ("Treatment: " in a) == (it.spec.condition_entry.kind is not None)


def test_names_do_not_contain_each_other():
    """Scorers take the first mention of a dish or disease; a name inside another would be found twice."""
    for names in ([d.name for d in DISHES], DISEASE_NAMES, [c.name for c in CROPS]):
        for a in names:
            for b in names:
                assert a == b or not re.search(rf"\b{re.escape(a)}\b", b), (a, b)


def test_steps_mention_only_their_own_ingredients():
    vocab = sorted({i for d in DISHES for i in d.ingredients}, key=len, reverse=True)
    for dish in DISHES:
        text = " ".join(dish.steps).lower()
        for term in vocab:  # longest first, as the recipe scorer matches
            if re.search(rf"\b{re.escape(term)}s?\b", text):
                assert term in dish.ingredients, (dish.name, term)
                text = re.sub(rf"\b{re.escape(term)}s?\b", " ", text)


def test_corpus_is_deterministic_and_independent_of_length(raw_docs):
    assert corpus(SEEDS["corpus"], 50) == raw_docs[:50]
    assert corpus(SEEDS["corpus"], 10, start=40) == raw_docs[40:50]
    assert corpus(SEEDS["corpus"] + 1, 50) != raw_docs[:50]


def test_soft_slot_conversations_are_template_conversations_with_the_slot_in_the_image_place(raw_docs):
    t = get_template("vicuna0")
    soft = [d for d in raw_docs if isinstance(d, SlotDocument)]
    conversations = soft + [d for d in raw_docs if isinstance(d, str) and "<Img>" in d]
    assert 0.4 < len(soft) / len(conversations) < 0.6  # SOFT_SLOT_SHARE = 0.5
    for d in soft:
        assert d.text.count("<Img><ImageHere></Img>") == 1 and d.text.endswith(t.end_sym)
        assert len(d.slots) == 16 and all(d.slots[k] for k in range(16))
    dish_docs = [d for d in soft if "Ingredients:" in d.text]
    assert dish_docs
    for d in dish_docs:  # the slot carries the dish the answer is the recipe of
        named = [x.name for x in DISHES if recipe_body(x) in d.text]
        assert len(named) == 1 and named[0] in d.slots[0], d.text
        answer = d.text.split("###Assistant: ")[1]
        assert answer.split(". ")[0].count(named[0]) == 1  # the answer's first sentence names it
    assert corpus(SEEDS["corpus"], 30, n_slots=8)[0] is not None
    assert all(len(d.slots) == 8 for d in corpus(SEEDS["corpus"], 300, n_slots=8) if isinstance(d, SlotDocument))


def test_corpus_teaches_every_recipe_and_treatment(docs):
    text = "\n".join(docs)
    for dish in DISHES:
        assert dish.name in text
        assert all(step in text for step in dish.steps), dish.name
    for crop in CROPS:
        for cond in crop.conditions[1:]:
            assert any(cond.name in d and crop.name in d and all(t in d for t in cond.treatments) for d in docs), \
                (crop.name, cond.name)


def test_corpus_conversations_use_the_vicuna0_template_and_eval_prompts(docs):
    t = get_template("vicuna0")
    human, assistant = t.train_prompt("Q").split("<Img><ImageHere></Img> Q")
    # the world's corpus has no yes/no family yet (issue 19 left it for a rebuild), so no POPE conversations
    asked = {task: prompt for task, prompt in PROMPTS.items() if task != "pope"}
    found = {task: 0 for task in asked}
    for d in docs:
        for task, prompt in asked.items():
            for form in (t.train_prompt(prompt), t.chat_prompt(prompt)):
                head, tail = form.split("<ImageHere>")
                if d.startswith(head) and tail in d:
                    content, answer = d[len(head):].split(tail, 1)
                    assert "<" not in content and answer.endswith(t.end_sym) and t.end_sym not in answer[:-3]
                    found[task] += 1
    assert all(n >= 50 for n in found.values()), found
    recipe_convs = [d for d in docs if PROMPTS["recipe"] in d]
    assert any("Ingredients:" in d and " Steps: 1. " in d for d in recipe_convs)
    assert human == "###Human: " and assistant == " ###Assistant: "


def test_shape_documents_state_facts_about_one_kind_each():
    from workbench.tiny.world import catalog
    from workbench.tiny.world.corpus import extra_documents

    docs = extra_documents(SEEDS["corpus"], 200, {})
    assert len(docs) == 200 and all(isinstance(d, str) for d in docs)
    facts = {f[0].upper() + f[1:] + ".": kind for kind, fs in catalog.KIND_FACTS.items() for f in fs}
    seen = set()
    for d in docs:
        found = {kind for fact, kind in facts.items() if fact in d}
        assert len(found) == 1, d  # every sentence of a document is a fact about the same kind
        seen |= found
        assert sum(d.count(f) for f in facts) == d.count("."), d  # every sentence is a fact
    assert seen == set(catalog.KINDS)
    # each kind's facts use words no other kind's facts use (what separates the kind words' embeddings)
    words = {k: set(re.findall(r"[a-z]+", " ".join(fs))) for k, fs in catalog.KIND_FACTS.items()}
    for k in words:
        assert words[k] - set().union(*(w for j, w in words.items() if j != k)) - set(catalog.KINDS), k


def test_slot_questions_answer_what_the_slot_holds_in_one_sentence():
    from workbench.tiny.world.corpus import SLOT_QUESTIONS, extra_documents, slot_answer
    from workbench.tiny.world.items import sample_spec

    docs = extra_documents(SEEDS["corpus"], 0, {"scene": 40, "dish": 20, "leaf": 20})
    asked = ["What shapes"] * 40 + ["What dish"] * 20 + ["What is wrong"] * 20
    assert all(d.text.count(q) == 1 for d, q in zip(docs, asked))
    t = get_template("vicuna0")
    for d in docs:
        assert isinstance(d, SlotDocument) and d.text.endswith(t.end_sym) and len(d.slots) == 16
        question = next(q for q in SLOT_QUESTIONS.values() if q in d.text)
        answer = d.text.split("###Assistant: ")[1][: -len(t.end_sym)]
        assert answer.count(".") == 1 and answer.endswith("."), answer
        flat = " ".join(p for position in d.slots for p in position)
        if question == SLOT_QUESTIONS["scene"]:  # every object the answer lists is in the slot, and only those
            objects = re.findall(r"(?:a|an) (\w+) (\w+) (\w+)", answer.lower())
            assert objects and all(" ".join(o) in flat for o in objects), (answer, d.slots)
            assert len(objects) == sum(p.count(" ") == 2 and "background" not in p
                                       for p in {p for position in d.slots for p in position})
        elif question == SLOT_QUESTIONS["dish"]:
            assert answer[len("This is "):-1] in d.slots[0]
        else:
            crop = answer.split()[1]
            assert f"{crop} leaf" in d.slots[0]
            assert ("healthy" in answer) == ("healthy" in d.slots[0])
    rng = np.random.default_rng(0)
    spec = sample_spec("scene", rng)
    assert all(o.kind in slot_answer(spec) and o.colour in slot_answer(spec) for o in spec.objects)


def test_extra_documents_are_deterministic_and_each_family_independent_of_the_others():
    from workbench.tiny.world.corpus import extra_documents

    full = extra_documents(SEEDS["corpus"], 30, {"scene": 10, "dish": 5, "leaf": 5})
    assert full == extra_documents(SEEDS["corpus"], 30, {"scene": 10, "dish": 5, "leaf": 5})
    assert extra_documents(SEEDS["corpus"], 10, {}) == full[:10]
    fewer_shapes = extra_documents(SEEDS["corpus"], 3, {"scene": 10, "dish": 5, "leaf": 5})
    assert fewer_shapes[3:] == full[30:]  # the slot questions do not depend on how many shape documents precede
    assert extra_documents(SEEDS["corpus"], 0, {"dish": 5})[:5] == full[40:45]
    assert extra_documents(SEEDS["corpus"] + 1, 30, {}) != full[:30]
    with pytest.raises(ValueError, match="at most 999999 slot questions per domain"):
        extra_documents(SEEDS["corpus"], 0, {"leaf": 10**6})

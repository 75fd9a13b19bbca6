"""The world's text: short captions (stage-1 style), detailed descriptions (stage-2 style, only what is
visible), and the answers to the three eval prompts (description, recipe, diagnosis).

Answers have a fixed shape so scorers can find their parts in free text: a recipe is
``This is <dish>. Ingredients: a, b, c. Steps: 1. ... 2. ...``; a diagnosis is
``This is a <crop> leaf with <disease>. ... Treatment: t1, t2 and t3.`` (healthy: ``This is a healthy <crop>
leaf. ... No treatment is needed.``).
"""

from __future__ import annotations

import re

import numpy as np

from workbench.evalsets import DEFAULT_PROMPTS
from workbench.tiny.world import catalog
from workbench.tiny.world.dishes import DishSpec
from workbench.tiny.world.leaves import LeafSpec
from workbench.tiny.world.scenes import SceneSpec

PROMPTS: dict[str, str] = DEFAULT_PROMPTS  # the eval sets' default prompt per task, as the workbench defines them
PROMPT_PARAPHRASES: dict[str, list[str]] = {
    "caption": ["Please describe this picture in detail.", "What do you see in this image? Describe it in detail.",
                "Give a detailed description of this image.", "Tell me about this image in detail."],
    "recipe": ["What is the recipe for this dish?", "How do I cook the food in this picture?",
               "Give me the recipe for this dish, with ingredients and steps.", "How is this dish made?"],
    "diagnosis": ["What disease does this leaf have, and how do I treat it?", "Is this plant healthy? What should I do?",
                  "Diagnose this leaf and suggest a treatment.", "What is the problem with this leaf and how can I fix it?"],
}
CONTAINER_OF = {"plate": "a plate of", "bowl": "a bowl of", "board": "a board with", "pan": "a pan of"}
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}
CONTAINER_PHRASES = {"plate": "on a white plate", "bowl": "in a white bowl", "board": "on a wooden board",
                     "pan": "in a black pan"}


def caption_clean(text: str) -> str:
    """Stage-1 caption normalisation as MiniGPT-4's ``blip_caption``: lowercase, no punctuation, <= 50 words."""
    words = re.sub(r"[^a-z0-9\- ]+", " ", text.lower()).split()
    return " ".join(words[:50])


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


# ---------------------------------------------------------------- scenes
def _obj(o, with_size: bool = True) -> str:
    return f"{o.size} {o.colour} {o.kind}" if with_size else f"{o.colour} {o.kind}"


def scene_caption(spec: SceneSpec, rng: np.random.Generator) -> str:
    form = int(rng.integers(3))
    parts = [f"{_article(_obj(o))} in the {o.cell}" for o in spec.objects]
    if form == 0:
        text = _join(parts)
    elif form == 1:
        n = len(spec.objects)
        text = f"{NUMBER_WORDS[n]} shape{'s' if n > 1 else ''} on a {spec.background} background {_join(parts)}"
    else:
        text = _join([_article(_obj(o, False)) for o in spec.objects]) + f" on a {spec.background} background"
    return caption_clean(text)


_SCENE_SENTENCES = [
    "In the {cell} there is {obj}.",
    "{Obj} is in the {cell}.",
    "The {cell} holds {obj}.",
    "At the {cell} we see {obj}.",
]


def scene_description(spec: SceneSpec, rng: np.random.Generator) -> str:
    n = len(spec.objects)
    opening = _pick(rng, [
        "The image shows {count} on a {bg} background.",
        "This picture contains {count} on a plain {bg} background.",
        "There {are} {count} on a {bg} background in this image.",
    ])
    count = "a single shape" if n == 1 else f"{NUMBER_WORDS[n]} shapes"
    out = [opening.format(count=count, bg=spec.background, are="is" if n == 1 else "are")]
    for o in spec.objects:
        obj = _article(_obj(o))
        out.append(_pick(rng, _SCENE_SENTENCES).format(cell=o.cell, obj=obj, Obj=obj[0].upper() + obj[1:]))
    empty = [c for c in catalog.CELL_NAMES if c not in {o.cell for o in spec.objects}]
    if empty:
        out.append(f"The {_join(empty)} {'is' if len(empty) == 1 else 'are'} empty.")
    kinds = sorted({o.kind for o in spec.objects})
    if len(kinds) > 1 and rng.uniform() < 0.5:
        out.append(f"The shapes are {_join([_article(k) for k in kinds])}.")
    return " ".join(out)


# ---------------------------------------------------------------- dishes
def dish_caption(spec: DishSpec, rng: np.random.Generator) -> str:
    dish = spec.entry
    cont = dish.container
    first = dish.parts[-1].ingredient
    text = _pick(rng, [
        f"{CONTAINER_OF[cont]} {dish.name} on a {spec.table} table",
        f"{dish.name} {CONTAINER_PHRASES[cont]}",
        f"{dish.name} with {first} on a {spec.table} table",
        f"a photo of {dish.name} served {CONTAINER_PHRASES[cont]}",
    ])
    return caption_clean(text)


def dish_opening(spec: DishSpec, rng: np.random.Generator) -> str:
    """The first sentence of a dish's detailed description: the dish, its container and the table."""
    opening = _pick(rng, [
        "The image shows {dish} served {cont} on a {table} table.",
        "This is a picture of {dish} {cont}, standing on a {table} table.",
        "In this image there is {dish} {cont} on a {table} table.",
    ])
    return opening.format(dish=spec.entry.name, cont=CONTAINER_PHRASES[spec.entry.container], table=spec.table)


def dish_description(spec: DishSpec, rng: np.random.Generator) -> str:
    dish = spec.entry
    looks = list(dict.fromkeys(p.look for p in dish.parts))
    opening = dish_opening(spec, rng)
    seen = _pick(rng, ["I can see {items}.", "It has {items}.", "The dish shows {items}."])
    out = [opening, seen.format(items=_join(looks))]
    if rng.uniform() < 0.5:
        out.append(_pick(rng, ["The food looks freshly made.", "The dish is seen from above.",
                               "The colours of the food are bright."]) if dish.name != "burger" else
                   "The burger is seen from the side.")
    return " ".join(out)


def recipe_answer(dish_index: int, rng: np.random.Generator | None = None) -> str:
    from workbench.tiny.world.recipes import DISHES

    dish = DISHES[dish_index]
    head = "This is {d}." if rng is None else _pick(rng, ["This is {d}.", "This dish is {d}.", "The dish in the image is {d}."])
    return f"{head.format(d=dish.name)} {recipe_body(dish)}"


def recipe_body(dish) -> str:
    """A recipe without its heading: "Ingredients: ... Steps: 1. ..." for a ``recipes.Dish``."""
    steps = " ".join(f"{i}. {s}" for i, s in enumerate(dish.steps, 1))
    return f"Ingredients: {', '.join(dish.ingredients)}. Steps: {steps}"


def image_recipe_answer(spec: DishSpec, rng: np.random.Generator) -> str:
    """The assistant's answer to a recipe request about a pictured dish: it first says what it sees (the opening of
    the dish's detailed description, which names the dish), then gives the recipe it knows by that name."""
    return f"{dish_opening(spec, rng)} {recipe_body(spec.entry)}"


# ---------------------------------------------------------------- leaves
def leaf_caption(spec: LeafSpec, rng: np.random.Generator) -> str:
    crop, cond = spec.crop_entry, spec.condition_entry
    if cond.kind is None:
        text = _pick(rng, [f"a healthy {crop.name} leaf on {spec.soil}", f"a green {crop.name} leaf on {spec.soil}",
                           f"a healthy {crop.name} leaf"])
    else:
        text = _pick(rng, [f"a {crop.name} leaf with {cond.name} on {spec.soil}", f"a {crop.name} leaf with {cond.look}",
                           f"{cond.name} on a {crop.name} leaf"])
    return caption_clean(text)


def leaf_description(spec: LeafSpec, rng: np.random.Generator) -> str:
    crop, cond = spec.crop_entry, spec.condition_entry
    out = [_pick(rng, ["The image shows {look} lying on {soil}.", "This is a picture of {look} on {soil}.",
                       "In this image there is {look} on {soil}."]).format(look=crop.look, soil=spec.soil)]
    if cond.kind is None:
        out.append(_pick(rng, ["The leaf is evenly green with no spots or marks.",
                               "The leaf is an even green with no spots, holes or discoloured patches."]))
        out.append("The leaf is healthy.")
    else:
        out.append(_pick(rng, ["The leaf has {s}.", "On the leaf there are {s}.", "The leaf is marked with {s}."])
                   .format(s=cond.look))
        out.append(f"The leaf shows {cond.name}.")
    return " ".join(out)


def diagnosis_answer(crop_index: int, condition_index: int, rng: np.random.Generator | None = None) -> str:
    from workbench.tiny.world.plants import CROPS

    crop = CROPS[crop_index]
    cond = crop.conditions[condition_index]
    if cond.kind is None:
        return f"This is a healthy {crop.name} leaf. The leaf is evenly green with no spots or marks. {treatment(cond)}"
    return f"This is a {crop.name} leaf with {cond.name}. The leaf has {cond.look}. {treatment(cond)}"


def treatment(cond) -> str:
    """The treatment sentence for a ``plants.Condition`` (none needed when healthy)."""
    return f"Treatment: {_join(list(cond.treatments))}." if cond.kind is not None else "No treatment is needed."


DIAGNOSIS_LEAD = "Here is my diagnosis."


def image_diagnosis_answer(spec: LeafSpec, rng: np.random.Generator) -> str:
    """The assistant's answer to a diagnosis request about a pictured leaf: a lead that says a diagnosis follows,
    the leaf's detailed description (crop, symptoms, the condition they show), then the treatment it knows for that
    condition. Without the lead the answer begins exactly as a description does, and stage 2, which trains the end
    symbol right after every leaf description, made the model stop before the treatment in 55% of held-out
    answers about diseased leaves; with it, no development answer stopped early."""
    return f"{DIAGNOSIS_LEAD} {leaf_description(spec, rng)} {treatment(spec.condition_entry)}"

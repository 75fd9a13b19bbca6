"""The text the tiny LLM learns language and world knowledge from, as Vicuna did before MiniGPT-4 saw it.

Documents, each one string, drawn independently per index from the ``corpus`` stream:

- ``description``: a detailed description of a world picture (scene, dish or leaf), or a short caption;
- ``recipe``: a dish's recipe by name (some start from what the dish looks like);
- ``disease``: a crop condition's symptoms and treatments by crop and disease name;
- ``conversation``: a ``vicuna0`` conversation whose image content is given inside ``<Img>...</Img>`` (the
  training and the chat forms of the template), followed by one of the three eval prompts (or a paraphrase) and
  the right answer: a description, or a recipe or diagnosis that *first says what the picture shows* (the
  opening of the dish's detailed description, which names the dish; after a short lead, the whole leaf
  description, which names the condition) and then gives the recipe or treatment known by that name. The
  content is the picture's detailed description as text, or (``SOFT_SLOT_SHARE`` of them) a ``SlotDocument``
  whose slot holds superposed word embeddings of the picture's key phrases, one bag per image-token position
  (see ``workbench/tiny/world/slots.py``);
- ``qa``: a text-only ``vicuna0`` question about a dish or disease by name.

Two more families are drawn from streams of their own and appended (``extra_documents``), so the mixed documents
above stay exactly as they were:

- ``shape``: what each scene shape is like (``catalog.KIND_FACTS``). Everywhere else the eight kind words are
  interchangeable, and a tiny LLM then gives them nearly the same embedding (mean pairwise cosine 0.84 in the
  build without these documents): it could not tell a star from a heart in the image slot, nor even copy a kind
  from a text description placed there (kind-token loss ln 8, whatever the slot held);
- ``slot_qa``: short soft-slot conversations that ask only what the picture holds (the shapes, the dish, the
  leaf's condition) and answer in one sentence, a dense signal for reading the slot.
- ``pope_qa``: POPE-style yes/no questions about a scene ("Is there a star in the image?", or a paraphrase) whose
  image slot holds the scene (soft slot, or its description as text); half ask about a kind the scene holds
  (answer "Yes, ..."), half about a kind it lacks, drawn uniformly (answer "No, ..."). Stage 2 never sees a
  yes/no question with an image, so POPE on images is, like the recipes, an ability the projection unlocks.

Because the image slot of a conversation holds the picture's content here, a projection that maps images
to what the LLM reads there (stage 2) lets it answer recipe and diagnosis prompts it never saw with an image.
Stage 2 aligns on describe prompts only; describe-first answers make the recipe and diagnosis answers begin with
what stage 2 aligned (on development items this raised stage-2 dish accuracy from 0.37 to 0.67).
"""

from __future__ import annotations

import numpy as np

from workbench.tiny.world import catalog, text
from workbench.evalsets.pope_sampling import question_text
from workbench.tiny.world.dishes import DishSpec
from workbench.tiny.world.items import detailed_description, sample_spec, short_caption
from workbench.tiny.world.plants import CROPS
from workbench.tiny.world.recipes import DISHES
from workbench.tiny.world.scenes import SceneSpec
from workbench.tiny.world.seeds import item_streams
from workbench.tiny.world.slots import SlotDocument, slot_phrases

# document kind -> share of the corpus
DOC_MIX: dict[str, float] = {
    "description": 0.14,
    "recipe": 0.14,
    "disease": 0.14,
    "conversation": 0.50,
    "qa": 0.08,
}
EXACT_PROMPT_SHARE = 0.6  # conversations use the eval prompt itself this often, a paraphrase otherwise
CHAT_FORM_SHARE = 0.5  # conversations in the chat form (system text first) this often, the stage-2 form otherwise
SOFT_SLOT_SHARE = 0.5  # conversations with a soft image slot (SlotDocument) this often, a text description otherwise
N_SLOTS = 16  # soft slot positions: the model's image tokens (num_query_tokens)
TASK_OF_DOMAIN = {"scene": "caption", "dish": "recipe", "leaf": "diagnosis"}


def _pick(rng: np.random.Generator, options: list):
    return options[int(rng.integers(len(options)))]


def recipe_document(dish_index: int, rng: np.random.Generator) -> str:
    dish = DISHES[dish_index]
    name = dish.name
    steps = " ".join(f"{i}. {s}" for i, s in enumerate(dish.steps, 1))
    ingredients = ", ".join(dish.ingredients)
    form = int(rng.integers(4))
    if form == 0:
        return f"How to make {name}. Ingredients: {ingredients}. Steps: {steps}"
    if form == 1:
        return f"Recipe for {name}. Ingredients: {ingredients}. Steps: {steps}"
    if form == 2:
        looks = text._join(list(dict.fromkeys(p.look for p in dish.parts)))
        return (f"{name.capitalize()} is served {text.CONTAINER_PHRASES[dish.container]} and shows {looks}. "
                f"To make {name} you need {text._join(dish.ingredients)}. Steps: {steps}")
    return f"{name.capitalize()} is made with {text._join(dish.ingredients)}. " + " ".join(dish.steps)


def disease_document(crop_index: int, condition_index: int, rng: np.random.Generator) -> str:
    crop = CROPS[crop_index]
    cond = crop.conditions[condition_index]
    if cond.kind is None:
        return _pick(rng, [
            f"A healthy {crop.name} leaf is evenly green with no spots or marks. It needs no treatment.",
            f"{crop.look.capitalize()} that is evenly green is healthy. No treatment is needed.",
        ])
    treat = text._join(list(cond.treatments))
    return _pick(rng, [
        f"{cond.name.capitalize()} of {crop.name}: a {crop.name} leaf with {cond.name} has {cond.look}. "
        f"Treatment: {treat}.",
        f"How to treat {cond.name} on {crop.name}: {treat}.",
        f"When {_article_free(crop.look)} has {cond.look}, the leaf shows {cond.name}. "
        f"To treat {cond.name}, {treat}.",
    ])


def _article_free(phrase: str) -> str:
    return phrase.split(" ", 1)[1] if phrase.split(" ", 1)[0] in ("a", "an") else phrase


def _answer(task: str, spec, rng: np.random.Generator) -> str:
    if task == "caption":
        return detailed_description(spec, rng)
    if task == "recipe":
        return text.image_recipe_answer(spec, rng)
    return text.image_diagnosis_answer(spec, rng)


def conversation(content: str, question: str, answer: str, chat_form: bool, template_name: str = "vicuna0") -> str:
    """One turn in the template with ``content`` (text) where the image embeddings go at inference."""
    from workbench.model.templates import IMAGE_PLACEHOLDER, get_template  # lazy: the model package imports torch

    template = get_template(template_name)
    prompt = template.chat_prompt(question) if chat_form else template.train_prompt(question)
    return prompt.replace(IMAGE_PLACEHOLDER, content) + answer + template.end_sym


def slot_conversation(spec, question: str, answer: str, chat_form: bool, n_slots: int) -> SlotDocument:
    """``conversation`` with a soft image slot holding ``spec``'s key phrases where the image goes (draws nothing
    from any stream)."""
    from workbench.model.templates import IMAGE_PLACEHOLDER

    return SlotDocument(conversation(IMAGE_PLACEHOLDER, question, answer, chat_form), slot_phrases(spec, n_slots),
                        IMAGE_PLACEHOLDER)


def _question(task: str, rng: np.random.Generator) -> str:
    if rng.uniform() < EXACT_PROMPT_SHARE:
        return text.PROMPTS[task]
    return _pick(rng, text.PROMPT_PARAPHRASES[task])


def document(seed: int, index: int, n_slots: int = N_SLOTS) -> str | SlotDocument:
    """Document ``index`` of the corpus under ``seed``; depends on nothing else. ``n_slots``: positions of a
    soft image slot (the model's number of image tokens)."""
    rng = item_streams(seed, "corpus", index)[0]
    kind = list(DOC_MIX)[int(rng.choice(len(DOC_MIX), p=np.array(list(DOC_MIX.values())) / sum(DOC_MIX.values())))]
    domain = _pick(rng, ["scene", "dish", "leaf"])
    if kind == "description":
        spec = sample_spec(domain, rng)
        return short_caption(spec, rng) if rng.uniform() < 0.2 else detailed_description(spec, rng)
    if kind == "recipe":
        return recipe_document(int(rng.integers(len(DISHES))), rng)
    if kind == "disease":
        crop = int(rng.integers(len(CROPS)))
        return disease_document(crop, int(rng.integers(len(CROPS[crop].conditions))), rng)
    if kind == "conversation":
        spec = sample_spec(domain, rng)
        task = TASK_OF_DOMAIN[domain] if rng.uniform() < 0.75 else "caption"
        content = detailed_description(spec, rng)  # drawn for soft-slot documents too: same stream either way
        question, answer, chat_form = _question(task, rng), _answer(task, spec, rng), rng.uniform() < CHAT_FORM_SHARE
        if rng.uniform() < SOFT_SLOT_SHARE:
            return slot_conversation(spec, question, answer, chat_form, n_slots)
        return conversation(content, question, answer, chat_form)
    # qa: text-only questions by name
    from workbench.model.templates import get_template

    template = get_template("vicuna0")
    if domain != "leaf":
        d = int(rng.integers(len(DISHES)))
        q = _pick(rng, [f"How do I make {DISHES[d].name}?", f"What is the recipe for {DISHES[d].name}?"])
        a = text.recipe_answer(d)
    else:
        crop = int(rng.integers(len(CROPS)))
        cond = 1 + int(rng.integers(len(CROPS[crop].conditions) - 1))
        name = CROPS[crop].conditions[cond].name
        q = _pick(rng, [f"How should I treat {name} on {CROPS[crop].name}?",
                        f"My {CROPS[crop].name} leaf has {name}. What should I do?"])
        a = text.diagnosis_answer(crop, cond)
    return f"{template.train_user_role}{q}{template.train_assistant_role}{a}{template.end_sym}"


SLOT_QUESTIONS = {
    "scene": "What shapes are in this image?",
    "dish": "What dish is this?",
    "leaf": "What is wrong with this leaf?",
}


def shape_document(rng: np.random.Generator) -> str:
    """One to three facts about one shape kind, in one of three forms."""
    kind = _pick(rng, list(catalog.KINDS))
    facts = catalog.KIND_FACTS[kind]
    chosen = [facts[i] for i in rng.permutation(len(facts))[: 1 + int(rng.integers(3))]]
    body = " ".join(f[0].upper() + f[1:] + "." for f in chosen)
    return _pick(rng, [body, f"What does a {kind} look like? {body}", f"About the {kind}: {body}"])


def slot_answer(spec) -> str:
    """The one-sentence answer to ``SLOT_QUESTIONS`` for a world picture: its objects, dish or leaf condition."""
    if isinstance(spec, SceneSpec):
        listed = text._join([text._article(f"{o.size} {o.colour} {o.kind}") for o in spec.objects])
        return listed[0].upper() + listed[1:] + "."
    if isinstance(spec, DishSpec):
        return f"This is {spec.entry.name}."
    crop, cond = spec.crop_entry, spec.condition_entry
    return f"This {crop.name} leaf is healthy." if cond.kind is None else f"This {crop.name} leaf shows {cond.name}."


def slot_qa_document(domain: str, rng: np.random.Generator, n_slots: int = N_SLOTS) -> SlotDocument:
    """A short soft-slot conversation about a fresh ``domain`` picture: ``SLOT_QUESTIONS[domain]``, then
    ``slot_answer``."""
    spec = sample_spec(domain, rng)
    chat_form = rng.uniform() < CHAT_FORM_SHARE
    return slot_conversation(spec, SLOT_QUESTIONS[domain], slot_answer(spec), chat_form, n_slots)


POPE_PARAPHRASES = [
    "Does the image contain {a_kind}?",
    "Is there {a_kind} in this picture?",
    "Can you see {a_kind} in the image?",
]
POPE_EXACT_SHARE = 0.6  # the question in POPE's own words this often, a paraphrase otherwise
POPE_SHORT_SHARE = 0.3  # a bare "Yes." / "No." this often, a sentence otherwise


def pope_qa_document(rng: np.random.Generator, n_slots: int = N_SLOTS) -> str | SlotDocument:
    """One yes/no question about one kind of a fresh scene, with the scene in the image slot (``SOFT_SLOT_SHARE``
    soft slots, else its detailed description as text): a present kind half the time (answer "yes"), otherwise a
    kind the scene lacks, uniformly (answer "no")."""
    spec = sample_spec("scene", rng)
    present = list(dict.fromkeys(o.kind for o in spec.objects))
    absent = [k for k in catalog.KINDS if k not in present]
    yes = rng.uniform() < 0.5 or not absent
    kind = _pick(rng, present if yes else absent)
    a_kind = text._article(kind)
    question = (question_text(kind) if rng.uniform() < POPE_EXACT_SHARE
                else _pick(rng, POPE_PARAPHRASES).format(a_kind=a_kind))
    if rng.uniform() < POPE_SHORT_SHARE:
        answer = "Yes." if yes else "No."
    else:
        answer = f"Yes, there is {a_kind} in the image." if yes else f"No, there is no {kind} in the image."
    chat_form = rng.uniform() < CHAT_FORM_SHARE
    if rng.uniform() < SOFT_SLOT_SHARE:
        return slot_conversation(spec, question, answer, chat_form, n_slots)
    return conversation(detailed_description(spec, rng), question, answer, chat_form)


def extra_documents(seed: int, shape_docs: int, slot_qa_docs: dict[str, int],
                    n_slots: int = N_SLOTS, pope_docs: int = 0) -> list[str | SlotDocument]:
    """``shape_docs`` shape documents, then ``slot_qa_docs[domain]`` slot questions per domain (scene, dish, leaf
    order), then ``pope_docs`` yes/no questions, each document from its own stream: document i of a family
    depends on nothing but (seed, i)."""
    docs: list[str | SlotDocument] = [shape_document(item_streams(seed, "corpus_shape", i)[0])
                                      for i in range(shape_docs)]
    for offset, domain in enumerate(("scene", "dish", "leaf")):
        if slot_qa_docs.get(domain, 0) >= 10**6:
            raise ValueError(f"at most 999999 slot questions per domain, got {slot_qa_docs[domain]} for {domain}")
        for i in range(slot_qa_docs.get(domain, 0)):
            # one stream family for all three domains: index blocks of 10**6 keep them apart
            docs.append(slot_qa_document(domain, item_streams(seed, "corpus_slot_qa", offset * 10**6 + i)[0], n_slots))
    docs += [pope_qa_document(item_streams(seed, "corpus_pope_qa", i)[0], n_slots) for i in range(pope_docs)]
    return docs


def corpus(seed: int, n_docs: int, start: int = 0, n_slots: int = N_SLOTS) -> list[str | SlotDocument]:
    """Documents ``start .. start+n_docs-1`` of the corpus under ``seed``."""
    return [document(seed, i, n_slots) for i in range(start, start + n_docs)]

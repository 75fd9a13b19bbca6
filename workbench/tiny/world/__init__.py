"""The procedural world of the embedded tiny model: scenes, dishes and leaves, their text, corpus and eval sets."""

from workbench.tiny.world.catalog import COLOUR_NAMES, COLOURS, KIND_SYNONYMS, KINDS
from workbench.tiny.world.corpus import corpus, extra_documents
from workbench.tiny.world.evalsets import write_eval_sets
from workbench.tiny.world.items import (
    IMAGE_SIZE,
    LABEL_SPACES,
    WorldItem,
    detailed_description,
    labels_of,
    make_item,
    render,
    sample_items,
    sample_spec,
    short_caption,
)
from workbench.tiny.world.plants import CROP_NAMES, CROPS, DISEASE_NAMES
from workbench.tiny.world.recipes import DISH_NAMES, DISHES
from workbench.tiny.world.seeds import DOMAINS, SEED_RANGES, SEEDS, item_streams, split_seed
from workbench.tiny.world.text import PROMPT_PARAPHRASES, PROMPTS, diagnosis_answer, recipe_answer

__all__ = [
    "COLOURS", "COLOUR_NAMES", "CROPS", "CROP_NAMES", "DISEASE_NAMES", "DISHES", "DISH_NAMES", "DOMAINS",
    "IMAGE_SIZE", "KINDS", "KIND_SYNONYMS", "LABEL_SPACES", "PROMPTS", "PROMPT_PARAPHRASES", "SEEDS",
    "SEED_RANGES", "WorldItem", "detailed_description", "diagnosis_answer", "item_streams", "labels_of",
    "corpus", "extra_documents", "make_item", "recipe_answer", "render", "sample_items", "sample_spec",
    "short_caption", "split_seed", "write_eval_sets",
]

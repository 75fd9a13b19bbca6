"""The procedural world of the embedded tiny model: scenes, dishes and leaves, their text, corpus and eval sets."""

from workbench.tiny.world.catalog import COLOUR_NAMES, COLOURS, KIND_SYNONYMS, KINDS
from workbench.tiny.world.corpus import corpus, extra_documents
from workbench.tiny.world.evalsets import OBJECT_VOCABULARY, SYNONYMS, write_eval_sets
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

# The names a soft image slot must keep apart, per group (``slot_ceiling.name_separation``, ``slot_reading``).
NAME_GROUPS: dict[str, list[str]] = {"kinds": KINDS, "colours": COLOUR_NAMES, "dishes": DISH_NAMES,
                                     "diseases": [d for d in DISEASE_NAMES if d != "healthy"]}

__all__ = [
    "COLOURS", "COLOUR_NAMES", "CROPS", "CROP_NAMES", "DISEASE_NAMES", "DISHES", "DISH_NAMES", "DOMAINS",
    "IMAGE_SIZE", "KINDS", "KIND_SYNONYMS", "LABEL_SPACES", "NAME_GROUPS", "OBJECT_VOCABULARY", "PROMPTS",
    "PROMPT_PARAPHRASES", "SEEDS", "SEED_RANGES", "SYNONYMS", "WorldItem", "detailed_description", "diagnosis_answer", "item_streams", "labels_of",
    "corpus", "extra_documents", "make_item", "recipe_answer", "render", "sample_items", "sample_spec",
    "short_caption", "split_seed", "write_eval_sets",
]

"""The MiniGPT-4 model: module, prompt templates, preprocessing and loading from local files."""

from workbench.model.minigpt4 import CONNECTORS, MiniGPT4
from workbench.model.loading import load_model, load_projection, read_card, save_blip2_snapshot, save_projection
from workbench.model.preprocess import open_image, preprocess_images
from workbench.model.templates import IMAGE_PLACEHOLDER, TEMPLATES, Template, get_template

__all__ = [
    "CONNECTORS",
    "IMAGE_PLACEHOLDER",
    "MiniGPT4",
    "TEMPLATES",
    "Template",
    "get_template",
    "load_model",
    "load_projection",
    "read_card",
    "save_blip2_snapshot",
    "save_projection",
    "open_image",
    "preprocess_images",
]

"""Image preprocessing as MiniGPT-4's ``blip2_image_eval`` processor does it, with PIL and torch only.

``Resize((size, size), BICUBIC)`` squashes the image (no aspect preservation, no crop), then ``ToTensor``
and normalisation with CLIP's mean and std. torchvision is deliberately not used (it pulls CUDA torch).
"""

from __future__ import annotations


import numpy as np
import torch
from PIL import Image

from workbench.images import open_image  # noqa: F401  (re-exported: generate decodes with it)

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def preprocess_images(images: list[Image.Image], size: int) -> torch.Tensor:
    """PIL images -> float tensor (B, 3, size, size), CLIP-normalised."""
    mean = torch.tensor(CLIP_MEAN).view(3, 1, 1)
    std = torch.tensor(CLIP_STD).view(3, 1, 1)
    batch = []
    for img in images:
        resized = img.convert("RGB").resize((size, size), Image.BICUBIC)
        arr = torch.from_numpy(np.asarray(resized, dtype=np.float32) / 255.0).permute(2, 0, 1)
        batch.append((arr - mean) / std)
    return torch.stack(batch)

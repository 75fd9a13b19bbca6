"""Cache of the frozen image features (``MiniGPT4.encode_features`` outputs), the projection input.

Stage-1 and stage-2 checkpoints (or any N projections) share the frozen ViT + Q-Former, so their
features are identical: keyed by (image content sha256, frozen-weights fingerprint, device type),
each image is encoded once however many checkpoints are evaluated. On disk each entry is one
safetensors file holding one plain tensor (nothing is unpickled), written atomically (temp file +
``os.replace``) so a killed process never leaves a half-written entry behind. Without a directory
the cache lives in memory for the life of the object. An image file replaced by other bytes has another
content hash, hence another key: its features are encoded afresh, never served stale (within a process the
hash of a path is remembered by (path, size, mtime in ns)).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from workbench.atomic import atomic_write
from workbench.errors import WorkbenchError
from workbench.model.fingerprint import file_sha256
from workbench.model.preprocess import open_image, preprocess_images


def _model_device_type(model) -> str:
    vision = getattr(model, "vision_model", None)
    module = vision if vision is not None else model
    return next(module.parameters()).device.type


class VisionFeatureCache:
    """Features per image, computed by ``model.encode_features`` on a miss.

    Counters: ``hits``, ``misses`` (images), ``encoder_calls`` and ``encoded_images`` (what ran).
    """

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory is not None else None
        self._memory: dict[tuple[str, str], torch.Tensor] = {}
        self._sha_by_path: dict[tuple[str, int, int], str] = {}
        self.hits = 0
        self.misses = 0
        self.encoder_calls = 0
        self.encoded_images = 0

    # ---- keys and storage -------------------------------------------------------------------
    def namespace(self, model) -> str:
        return f"{model.frozen_fingerprint()[:40]}-{_model_device_type(model)}"

    def image_sha256(self, path: str | Path) -> str:
        stat = os.stat(path)
        key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in self._sha_by_path:
            self._sha_by_path[key] = file_sha256(path)
        return self._sha_by_path[key]

    def _entry_path(self, namespace: str, sha: str) -> Path:
        return self.directory / namespace / sha[:2] / f"{sha}.safetensors"

    def _load(self, namespace: str, sha: str) -> torch.Tensor | None:
        if self.directory is None:
            return self._memory.get((namespace, sha))
        path = self._entry_path(namespace, sha)
        if not path.exists():
            return None
        try:
            return load_file(str(path))["features"]
        except (SafetensorError, KeyError, OSError) as exc:
            warnings.warn(f"{path}: unreadable vision-cache entry ({exc}); recomputing it", stacklevel=2)
            return None

    def _store(self, namespace: str, sha: str, features: torch.Tensor) -> None:
        features = features.detach().to("cpu").contiguous()
        if self.directory is None:
            self._memory[(namespace, sha)] = features
            return
        atomic_write(self._entry_path(namespace, sha), save({"features": features}))

    # ---- the one call generation uses ----------------------------------------------------------
    def features(self, model, image_paths: list[str | Path]) -> list[torch.Tensor | WorkbenchError]:
        """One (n_image_tokens, d) tensor per path, or the WorkbenchError saying why that image failed.

        Misses are decoded, preprocessed and encoded together in one ``encode_features`` call.
        """
        namespace = self.namespace(model)
        results: list[torch.Tensor | WorkbenchError | None] = [None] * len(image_paths)
        pending: dict[str, list[int]] = {}  # sha -> indices needing it
        for i, path in enumerate(image_paths):
            try:
                sha = self.image_sha256(path)
            except OSError as exc:
                results[i] = WorkbenchError(f"{path}: cannot read image file ({exc.strerror or exc})")
                continue
            cached = self._load(namespace, sha)
            if cached is not None:
                self.hits += 1
                results[i] = cached
            else:
                pending.setdefault(sha, []).append(i)
        if pending:
            shas, images = [], []
            for sha, indices in pending.items():
                try:
                    images.append(open_image(image_paths[indices[0]]))
                except WorkbenchError as exc:
                    for i in indices:
                        results[i] = exc
                    continue
                shas.append(sha)
            if images:
                pixels = preprocess_images(images, model.image_size)
                encoded = model.encode_features(pixels)
                self.encoder_calls += 1
                self.encoded_images += len(images)
                for sha, feats in zip(shas, encoded):
                    self._store(namespace, sha, feats)
                    stored = feats.detach().to("cpu")
                    for i in pending[sha]:
                        self.misses += 1
                        results[i] = stored
        return results  # type: ignore[return-value]

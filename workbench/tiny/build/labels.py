"""Attribute label spaces of world items: what the vision encoder is pretrained on and linearly probed for.

A world item's ``labels`` maps attribute -> value (a string/int, or a list of them for multi-label
attributes). Class lists are sorted, so they do not depend on the order items arrive in.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

IGNORE = -100


def flatten_labels(labels: dict) -> dict:
    """The world's label convention -> one value per attribute.

    ``cell_*`` lists hold one class per grid cell (the last class = empty): each cell becomes its own
    attribute ``cell_kind[0]``, ...; any other list is multi-hot and becomes the list of active indices.
    """
    flat: dict = {}
    for attr, value in sorted(labels.items()):
        if isinstance(value, (list, tuple)) and attr.startswith("cell_"):
            for cell, v in enumerate(value):
                flat[f"{attr}[{cell}]"] = v
        elif isinstance(value, (list, tuple)):
            flat[attr] = [i for i, v in enumerate(value) if v]
        else:
            flat[attr] = value
    return flat


def _is_multi(value) -> bool:
    return isinstance(value, (list, tuple, set, frozenset))


@dataclass(frozen=True)
class LabelSpace:
    """attribute -> sorted class names; ``multi`` holds the multi-label attributes."""

    classes: dict[str, tuple[str, ...]]
    multi: frozenset[str]

    @classmethod
    def from_labels(cls, label_dicts: list[dict]) -> "LabelSpace":
        values: dict[str, set[str]] = {}
        multi: set[str] = set()
        for labels in label_dicts:
            for attr, value in labels.items():
                if value is None:
                    continue
                if _is_multi(value):
                    multi.add(attr)
                    values.setdefault(attr, set()).update(str(v) for v in value)
                else:
                    values.setdefault(attr, set()).add(str(value))
        classes = {a: tuple(sorted(v)) for a, v in sorted(values.items()) if a in multi or len(v) > 1}
        return cls(classes=classes, multi=frozenset(a for a in multi if a in classes))

    def targets(self, label_dicts: list[dict]) -> dict[str, torch.Tensor]:
        """attribute -> LongTensor (N,) of class ids (IGNORE where absent) or FloatTensor (N, C) multi-hot
        (all -1 where absent)."""
        out: dict[str, torch.Tensor] = {}
        for attr, names in self.classes.items():
            index = {n: i for i, n in enumerate(names)}
            if attr in self.multi:
                t = torch.full((len(label_dicts), len(names)), -1.0)
                for row, labels in enumerate(label_dicts):
                    if labels.get(attr) is not None:
                        t[row] = 0.0
                        for v in labels[attr]:
                            if str(v) in index:
                                t[row, index[str(v)]] = 1.0
            else:
                t = torch.full((len(label_dicts),), IGNORE, dtype=torch.long)
                for row, labels in enumerate(label_dicts):
                    v = labels.get(attr)
                    if v is not None and str(v) in index:
                        t[row] = index[str(v)]
            out[attr] = t
        return out


def attribute_loss(logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor], space: LabelSpace) -> torch.Tensor:
    """Mean over attributes of cross-entropy (single-label) or BCE (multi-label), skipping absent labels."""
    losses = []
    for attr, out in logits.items():
        t = targets[attr]
        if attr in space.multi:
            keep = t[:, 0] >= 0
            if keep.any():
                losses.append(torch.nn.functional.binary_cross_entropy_with_logits(out[keep], t[keep]))
        else:
            if (t != IGNORE).any():
                losses.append(torch.nn.functional.cross_entropy(out, t, ignore_index=IGNORE))
    return torch.stack(losses).mean()

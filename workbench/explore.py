"""Interactive exploration: ask several checkpoints the same question about one image, side by side.

The notebook ``01_explore`` wraps this in ipywidgets (``workbench.widgets``); everything it shows comes from here.
``side_by_side_html`` lays out the answers in columns, the reference as text and the per-item metrics as a table;
``Explorer.score`` scores only the item shown.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from workbench.evalsets import load_eval_set
from workbench.generation import GenerationConfig, generate_batch
from workbench.model import open_image, preprocess_images
from workbench.pipeline import resolve
from workbench.report.examples import data_uri


@dataclass
class Answer:
    model: str
    output: str
    n_tokens: int
    finish: str
    metrics: dict | None = None


class Explorer:
    """Holds an eval set and lazily loaded checkpoints; answers one (image, prompt) at a time."""

    def __init__(self, models: list[str], eval_set: str | Path, device: str = "auto"):
        self.model_names = list(models)
        self.eval_set = load_eval_set(resolve(eval_set))
        self.device = device
        self._models: dict = {}
        self._vocab = None

    def model(self, name: str):
        if name not in self._models:
            from workbench.devices import choose_device
            from workbench.model.loading import load_model

            choice = choose_device(self.device, False)
            self._models[name] = load_model(name, device=choice.device, dtype=choice.dtype)
        return self._models[name]

    def item(self, index_or_id: int | str):
        items = self.eval_set.items
        return items[index_or_id] if isinstance(index_or_id, int) else self.eval_set.by_id()[index_or_id]

    def answer(self, image: Image.Image | str | Path, prompt: str, models: list[str] | None = None,
               max_new_tokens: int = 160, sample: bool = False, seed: int = 0) -> list[Answer]:
        image = open_image(image) if isinstance(image, (str, Path)) else image.convert("RGB")
        config = GenerationConfig.from_flags(sample=sample, max_new_tokens=max_new_tokens)
        answers = []
        for name in models or self.model_names:
            model = self.model(name)
            features = model.encode_features(preprocess_images([image], model.image_size))
            result = generate_batch(model, [prompt], features, config, seeds=[seed])[0]
            answers.append(Answer(name, result.output, result.n_tokens, result.finish))
        return answers

    def score(self, item, answers: list[Answer]) -> list[Answer]:
        """Fill each answer's per-item metrics for an eval-set item: only that item is scored (failure,
        hallucination / recipe / diagnosis), with the vocabulary of the whole eval set built once. Corpus-level
        caption metrics (BLEU, CIDEr, ...) are not shown: they are defined over a whole set, not one answer."""
        from workbench.scoring.hallucination import object_vocabulary
        from workbench.scoring.scores import score_item
        from workbench.scoring.vocab import TaskVocabulary

        if self._vocab is None:  # (task vocabularies, CHAIR mention finder) of the whole eval set
            self._vocab = (TaskVocabulary.from_eval_set(self.eval_set), object_vocabulary(self.eval_set.vocabulary))
        for answer in answers:
            answer.metrics = score_item(item, {"id": item.id, "output": answer.output, "finish": answer.finish},
                                        *self._vocab)
        return answers


def _thumbnail_uri(image: Image.Image, size: int = 192) -> str:
    return data_uri(image.convert("RGB").resize((size, size), Image.NEAREST), "PNG")


def reference_lines(reference: dict | None) -> list[tuple[str, str | list[str]]]:
    """The reference as labelled text: caption (captions, objects), recipe (dish, ingredients, steps),
    diagnosis (crop, condition, treatments). Unknown keys are shown as they are."""
    if not reference:
        return []
    labels = {"captions": "captions", "objects": "objects in the image", "dish": "dish",
              "ingredients": "ingredients", "steps": "steps", "crop": "crop", "disease": "condition",
              "treatments": "treatments"}
    out = []
    for key, value in reference.items():
        if key == "treatments" and not value:
            value = "none (healthy)"
        out.append((labels.get(key, key), [str(v) for v in value] if isinstance(value, list) else str(value)))
    return out


def _reference_html(reference: dict | None) -> str:
    esc = html.escape
    rows = []
    for label, value in reference_lines(reference):
        if isinstance(value, list):
            tag = "ol" if label == "steps" else "ul"
            body = f"<{tag} style='margin:2px 0 6px 1.2em;padding:0'>" + "".join(
                f"<li>{esc(v)}</li>" for v in value) + f"</{tag}>"
        else:
            body = f" {esc(value)}"
        rows.append(f"<div><b>{esc(label)}{'' if isinstance(value, list) else ':'}</b>{body}</div>")
    return f"<div style='margin-top:8px'><b style='font-size:1.05em'>reference</b>{''.join(rows)}</div>" if rows else ""


def _metric_value(value) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return "n/a" if value is None else str(value)


def metrics_table_html(answers: list[Answer]) -> str:
    """Per-item metrics, one row per metric, one column per checkpoint (escaped)."""
    esc = html.escape
    scored = [a for a in answers if a.metrics]
    if not scored:
        return ""
    keys = list(dict.fromkeys(k for a in scored for k, v in a.metrics.items()
                              if isinstance(v, (int, float, list)) or v is None))
    head = "".join(f"<th style='{_CELL}'>{esc(a.model)}</th>" for a in scored)
    body = "".join(
        f"<tr><td style='{_CELL}'><code>{esc(k)}</code></td>"
        + "".join(f"<td style='{_CELL};text-align:right'>{esc(_metric_value(a.metrics.get(k)))}</td>" for a in scored)
        + "</tr>" for k in keys)
    return (f"<table style='border-collapse:collapse;margin-top:10px;font-size:0.9em'>"
            f"<tr><th style='{_CELL}'>metric (this item)</th>{head}</tr>{body}</table>")


_CELL = "border:1px solid #ccc;padding:2px 8px"
_TEXT = "white-space:pre-wrap;word-break:normal;overflow-wrap:break-word;font-family:inherit;margin:4px 0"


def side_by_side_html(image: Image.Image, prompt: str, answers: list[Answer], reference: dict | None = None) -> str:
    """The image, prompt and reference (as text), then each checkpoint's answer in its own column (at least
    22em wide; columns wrap onto a new row rather than squeeze), then the per-item metrics table. All text is
    escaped."""
    esc = html.escape
    columns = "".join(
        f"<div style='border:1px solid #ddd;border-radius:6px;padding:8px;min-width:0'>"
        f"<div><b>{esc(a.model)}</b> <small>({a.n_tokens} tokens, {esc(a.finish)})</small></div>"
        f"<div class='wb-answer' style='{_TEXT}'>{esc(a.output)}</div></div>" for a in answers)
    return (
        "<div class='wb-explore' style='font-size:14px;line-height:1.4'>"
        f"<div style='display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap'>"
        f"<img src='{_thumbnail_uri(image)}' width=192 height=192 style='flex:none'>"
        f"<div style='flex:1;min-width:18em'><b>prompt</b><div style='{_TEXT}'>{esc(prompt)}</div>"
        f"{_reference_html(reference)}</div></div>"
        f"<div style='display:grid;grid-template-columns:repeat(auto-fit,minmax(22em,1fr));gap:12px;"
        f"margin-top:12px'>{columns}</div>{metrics_table_html(answers)}</div>"
    )

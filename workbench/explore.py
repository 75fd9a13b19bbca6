"""Interactive exploration: ask several checkpoints the same question about one image, side by side.

The notebook ``01_explore`` wraps this in ipywidgets (``workbench.widgets``); everything it shows comes from here.
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
        """Fill each answer's per-item metrics for an eval-set item (METEOR skipped: it needs a Java start-up)."""
        from workbench.scoring import score_predictions

        for answer in answers:
            scores = score_predictions(
                self.eval_set, {item.id: {"id": item.id, "output": answer.output, "finish": answer.finish}},
                meteor=False)
            answer.metrics = next(it["metrics"] for it in scores["items"] if it["id"] == item.id)
        return answers


def _thumbnail_uri(image: Image.Image, size: int = 192) -> str:
    return data_uri(image.convert("RGB").resize((size, size), Image.NEAREST), "PNG")


def side_by_side_html(image: Image.Image, prompt: str, answers: list[Answer], reference: dict | None = None) -> str:
    """An HTML table: the image, the prompt, each checkpoint's answer and metrics. All text is escaped."""
    esc = html.escape
    cells = []
    for a in answers:
        metrics = ""
        if a.metrics:
            shown = {k: v for k, v in a.metrics.items() if isinstance(v, (int, float, list)) and k != "bleu_stats"}
            metrics = "<br>".join(f"<code>{esc(k)}</code>: {esc(str(v))}" for k, v in shown.items())
        cells.append(
            f"<td style='vertical-align:top;padding:6px;max-width:28em'><b>{esc(a.model)}</b>"
            f" <small>({a.n_tokens} tokens, {esc(a.finish)})</small>"
            f"<pre style='white-space:pre-wrap'>{esc(a.output)}</pre><small>{metrics}</small></td>"
        )
    ref = f"<pre style='white-space:pre-wrap'>{esc(str(reference))}</pre>" if reference else ""
    return (
        f"<table><tr><td style='vertical-align:top'><img src='{_thumbnail_uri(image)}' width=192 height=192>"
        f"<p><b>prompt</b><br>{esc(prompt)}</p>{ref}</td>{''.join(cells)}</tr></table>"
    )

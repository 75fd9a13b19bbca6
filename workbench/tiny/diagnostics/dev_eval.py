"""Development evaluation during the build, with the product's own generation and scorers.

Development items (probe-split seeds, never the eval seeds) are answered by ``generation.generate_batch``
(greedy, the model's chat template and end symbol) and scored by ``scoring.score_predictions`` on an in-memory
eval set built from the items' references, exactly as ``workbench generate`` + ``workbench score`` would score a
synth eval set of the same world. So every ``<task>/<metric>`` here has the product's definition; the only
extras, ``caption/cell_kind_read`` and ``caption/cell_colour_read``, are diagnostics no product metric shares a
name with. METEOR is left out (``meteor=False``: a Java start per check for a number the card does not show).
"""

from __future__ import annotations

from pathlib import Path

import torch

from workbench.evalsets import DEFAULT_PROMPTS, EvalItem, EvalSet
from workbench.generation import GenerationConfig, GenerationResult, generate_batch, generate_from_contexts
from workbench.scoring import score_predictions
from workbench.tiny.build.curation import mentions, split_sentences

TASK_OF_DOMAIN = {"scene": "caption", "dish": "recipe", "leaf": "diagnosis"}
MAX_NEW_TOKENS = 120  # development answers are cut here (the product's default is 300): enough for every task
BATCH = 64


def dev_eval_set(items_by_domain: dict[str, list], vocabulary: dict[str, list[str]],
                 synonyms: dict[str, list[str]]) -> EvalSet:
    """An eval set (never written to disk) of world items: id = item uid, the task's default prompt, the item's
    reference; ``vocabulary``/``synonyms`` as the synth sets' vocabulary.json / synonyms.json."""
    items = [EvalItem(id=it.uid, task=TASK_OF_DOMAIN[domain], image="", image_path=Path(),
                      prompt=DEFAULT_PROMPTS[TASK_OF_DOMAIN[domain]], reference=it.reference)
             for domain, items in items_by_domain.items() for it in items]
    return EvalSet(name="dev", root=Path("dev"), items=items, manifest_sha256="", vocabulary=vocabulary,
                   has_vocabulary_file=True, synonyms=synonyms)


@torch.no_grad()
def answers(model, inputs: torch.Tensor, question: str, projected: bool = False) -> list[GenerationResult]:
    """Greedy answers to ``question`` about each row of ``inputs``: frozen features (B, n, d) through the model's
    projection, or, with ``projected``, LLM input embeddings (B, n, H) put in the image slot as they are."""
    config = GenerationConfig.greedy(MAX_NEW_TOKENS)
    results: list[GenerationResult] = []
    for start in range(0, inputs.shape[0], BATCH):
        rows = inputs[start:start + BATCH]
        if projected:
            prompt = model.template.chat_prompt(question)
            contexts = [model.embed_context(prompt, row) for row in rows]
            results += generate_from_contexts(model.llm, model.tokenizer, contexts, model.template.end_sym, config)
        else:
            results += generate_batch(model, [question] * rows.shape[0], rows, config)
    return results


def evaluate(model, inputs_by_domain: dict[str, torch.Tensor], items_by_domain: dict[str, list],
             eval_set: EvalSet, samples: int = 2, projected: bool = False) -> dict:
    """-> {"metrics": the scorers' aggregate (+ cell reading), "examples": the first answers per task}."""
    predictions, examples, metrics = {}, {}, {}
    for domain, inputs in inputs_by_domain.items():
        task = TASK_OF_DOMAIN[domain]
        results = answers(model, inputs, DEFAULT_PROMPTS[task], projected=projected)
        predictions.update({it.uid: {"output": r.output, "finish": r.finish}
                            for it, r in zip(items_by_domain[domain], results)})
        examples[task] = [r.output for r in results[:samples]]
        if task == "caption":
            metrics.update(cell_reading(items_by_domain[domain], [r.output for r in results]))
    scores = score_predictions(eval_set, predictions, meteor=False)
    rounded = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in scores["aggregate"].items()
               if k != "caption/meteor"}  # not computed here (meteor=False), so not shown as undefined
    return {"metrics": rounded | metrics, "examples": examples}


def cell_reading(items, outputs: list[str]) -> dict:
    """Does a caption read each grid cell? For every object of a scene item (its ``spec.objects``), take the first
    sentence that names the object's cell and does not call it empty, and check that it names the object's true
    kind and colour. -> ``caption/cell_kind_read``, ``caption/cell_colour_read``: the share of objects so named
    (micro average); empty when no item carries scene objects (a world without specs). A diagnostic of the tiny
    world's grid scenes, not a product metric."""
    named = {"kind": 0, "colour": 0}
    total = 0
    for item, text in zip(items, outputs):
        sentences = split_sentences(text)
        for obj in getattr(getattr(item, "spec", None), "objects", None) or ():
            total += 1
            sentence = next((s for s in sentences if mentions(s, obj.cell) and not mentions(s, "empty")), "")
            named["kind"] += mentions(sentence, obj.kind)
            named["colour"] += mentions(sentence, obj.colour)
    return {f"caption/cell_{k}_read": round(v / total, 3) for k, v in named.items()} if total else {}

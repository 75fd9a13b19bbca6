"""A small self-contained evaluation used while building: greedy generation + simple scorers on dev items.

The workbench's own generation and scoring modules are the reference for reported numbers; this script lets
the build check itself on *development* items (probe-split seeds, never the eval seeds) without depending on
them. Failure = no end symbol, empty, template leakage, repetition, or off-task (nothing of the task named).
"""

from __future__ import annotations

import torch

from workbench.tiny.build.curation import has_repeated_ngram, mentions, split_sentences

DEFAULT_PROMPTS = {
    "caption": "Describe this image in detail.",
    "recipe": "How can I make this dish? List the ingredients and the steps.",
    "diagnosis": "What is wrong with this plant leaf, and how should I treat it?",
}
TASK_OF_DOMAIN = {"scene": "caption", "dish": "recipe", "leaf": "diagnosis"}


@torch.no_grad()
def greedy_answers(model, features: torch.Tensor, question: str, max_new_tokens: int = 120,
                   batch: int = 64, projected: bool = False) -> list[tuple[str, bool]]:
    """(text before the end symbol, stopped) per row, chat prompt of the model's template, greedy.
    ``projected``: ``features`` are already LLM input embeddings (bypass ``llama_proj``)."""
    tok, end = model.tokenizer, model.template.end_sym
    prompt = model.template.chat_prompt(question)
    results = []
    for start in range(0, features.shape[0], batch):
        feats = features[start:start + batch]
        embeds = feats if projected else model.project(feats)
        ctx = [model.embed_context(prompt, e) for e in embeds]
        length = max(c.shape[0] for c in ctx)
        x = ctx[0].new_zeros(len(ctx), length, ctx[0].shape[1])
        mask = torch.zeros(len(ctx), length, dtype=torch.long)
        for i, c in enumerate(ctx):
            x[i, length - c.shape[0]:] = c
            mask[i, length - c.shape[0]:] = 1
        out = model.llm.generate(inputs_embeds=x, attention_mask=mask, max_new_tokens=max_new_tokens,
                                 do_sample=False, num_beams=1, stop_strings=[end], tokenizer=tok,
                                 pad_token_id=tok.pad_token_id)
        for row in out:
            text = tok.decode(row, skip_special_tokens=True)
            stopped = end in text or (tok.eos_token_id in row.tolist())
            results.append((text.split(end, 1)[0].strip(), stopped))
    return results


def _failure(text: str, stopped: bool, on_task: bool) -> list[str]:
    reasons = []
    if not stopped:
        reasons.append("no_stop")
    if not text.strip():
        reasons.append("empty")
    if any(m in text.lower() for m in ("human:", "assistant:", "<img>")):
        reasons.append("template_leak")
    if has_repeated_ngram(text):
        reasons.append("repetition")
    if not on_task:
        reasons.append("off_task")
    return reasons


def score_items(task: str, items, outputs: list[tuple[str, bool]], vocab: dict) -> dict:
    """Aggregate metrics with the workbench's metric names (approximate, for build-time checks)."""
    rows = []
    for item, (text, stopped) in zip(items, outputs):
        ref = item.reference
        m: dict = {}
        if task == "caption":
            truth = set(ref["objects"])
            named = {k for k, syns in vocab["kinds"].items() if any(mentions(text, s) for s in syns)}
            m["object_recall"] = len(truth & named) / max(1, len(truth))
            m["chair_i"] = len(named - truth) / len(named) if named else 0.0
            on_task = bool(named)
        elif task == "recipe":
            m["dish_accuracy"] = float(mentions(text, ref["dish"]))
            pred = {i for i in vocab["ingredients"] if mentions(text, i)}
            truth = set(ref["ingredients"])
            p = len(pred & truth) / len(pred) if pred else 0.0
            r = len(pred & truth) / max(1, len(truth))
            m["ingredient_f1"] = 2 * p * r / (p + r) if p + r else 0.0
            on_task = bool(pred) or any(mentions(text, d) for d in vocab["dishes"])
        else:
            named = [d for d in vocab["diseases"] if mentions(text, d)]
            pred = "healthy" if mentions(text, "healthy") and not named else (named[0] if named else "")
            m["disease_accuracy"] = float(pred == ref["disease"])
            treats = ref["treatments"]
            m["treatment_recall"] = (sum(t.lower() in text.lower() for t in treats) / len(treats)) if treats else float(not named)
            on_task = bool(pred) or any(mentions(text, c) for c in vocab["crops"])
        reasons = _failure(text, stopped, on_task)
        m["failure"] = float(bool(reasons))
        rows.append((m, reasons))
    agg = {f"{task}/{k}": round(sum(r[0][k] for r in rows) / max(1, len(rows)), 3) for k in rows[0][0]} if rows else {}
    reasons = {}
    for _, rs in rows:
        for r in rs:
            reasons[r] = reasons.get(r, 0) + 1
    agg[f"{task}/failure_reasons"] = dict(sorted(reasons.items()))
    return agg


def cell_reading(items, outputs: list[tuple[str, bool]]) -> dict:
    """Does a caption read each grid cell? For every object of a scene item (its ``spec.objects``), take the first
    sentence that names the object's cell and does not call it empty, and check that it names the object's true
    kind and colour. -> ``caption/cell_kind_read``, ``caption/cell_colour_read``: the share of objects so named
    (micro average); empty when no item carries scene objects (a world without specs)."""
    named = {"kind": 0, "colour": 0}
    total = 0
    for item, (text, _stopped) in zip(items, outputs):
        sentences = split_sentences(text)
        for obj in getattr(getattr(item, "spec", None), "objects", None) or ():
            total += 1
            sentence = next((s for s in sentences if mentions(s, obj.cell) and not mentions(s, "empty")), "")
            named["kind"] += mentions(sentence, obj.kind)
            named["colour"] += mentions(sentence, obj.colour)
    return {f"caption/cell_{k}_read": round(v / total, 3) for k, v in named.items()} if total else {}


def dev_vocab(world) -> dict:
    """Names the scorers look for, from the world's catalogs (a world may bring its own ``VOCAB``)."""
    if hasattr(world, "VOCAB"):
        return world.VOCAB
    from workbench.tiny.world import catalog, plants, recipes

    return {
        "kinds": catalog.KIND_SYNONYMS,
        "ingredients": sorted({i for d in recipes.DISHES for i in d.ingredients}),
        "dishes": [d.name for d in recipes.DISHES],
        "diseases": sorted({c.name for crop in plants.CROPS for c in crop.conditions if c.name != "healthy"},
                           key=lambda s: -len(s)),
        "crops": [c.name for c in plants.CROPS],
    }


def evaluate(model, features_by_domain: dict[str, torch.Tensor], items_by_domain: dict[str, list], vocab: dict,
             max_new_tokens: int = 120, samples: int = 2, projected: bool = False) -> tuple[dict, dict]:
    """-> (metrics, a few sample outputs per task)."""
    metrics, examples = {}, {}
    for domain, feats in features_by_domain.items():
        task = TASK_OF_DOMAIN[domain]
        outs = greedy_answers(model, feats, DEFAULT_PROMPTS[task], max_new_tokens=max_new_tokens, projected=projected)
        metrics.update(score_items(task, items_by_domain[domain], outs, vocab))
        if task == "caption":
            metrics.update(cell_reading(items_by_domain[domain], outs))
        examples[task] = [o[0] for o in outs[:samples]]
    return metrics, examples

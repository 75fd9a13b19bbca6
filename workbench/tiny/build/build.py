"""Build the embedded tiny MiniGPT-4 end to end: world data -> tokenizer -> LLM -> vision (+ probes) ->
feature cache -> stage 1 -> curation -> stage 2 -> checkpoints, model cards, loss log, card.md.

Deterministic: every phase reseeds from (seed, phase); threads are pinned; kernels are deterministic, so the
same seed gives byte-identical checkpoints on the same machine.
"""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import torch
from tqdm.auto import tqdm

from workbench.errors import WorkbenchError
from workbench.model.minigpt4 import MiniGPT4
from workbench.model.preprocess import preprocess_images
from workbench.model.templates import get_template
from workbench.tiny.build import curation
from workbench.tiny.build.card import write_card
from workbench.tiny.build.common import LossLog, PhaseTimer, set_determinism
from workbench.tiny.build.config import BuildConfig
from workbench.tiny.build.labels import flatten_labels
from workbench.tiny.build.llm_pretrain import pretrain_llm
from workbench.tiny.build.snapshot import save_blip2, save_llm, save_projection_file
from workbench.tiny.build.stages import stage1, stage2
from workbench.tiny.build.tokenizer import train_tokenizer
from workbench.tiny.build.vision_pretrain import encode_all, pretrain_vision
from workbench.tiny.diagnostics import dev_eval
from workbench.tiny.diagnostics.probe import linear_probe
from workbench.tiny.diagnostics.slot_ceiling import name_separation, slot_ceiling, slot_reading
from workbench.tiny.world.slots import tokenizer_texts

DOMAINS = ("scene", "dish", "leaf")
PHASE_SEEDS = {"llm": 11, "vision": 22, "proj_init": 33, "stage1": 44, "stage2": 55}


def _items(world, split: str, domain: str, n: int, offset: int) -> list:
    seed = world.split_seed(split, offset % 1000) if hasattr(world, "split_seed") else world.SEEDS[split] + offset
    return world.sample_items(domain, n, seed)


def _pixels(items, size: int) -> torch.Tensor:
    out = []
    for i in range(0, len(items), 512):
        out.append(preprocess_images([it.image for it in items[i:i + 512]], size))
    return torch.cat(out)


def model_card(projection: str) -> dict:
    return {"blip2": "blip2", "llm": "llm", "projection": projection, "template": "vicuna0",
            "connector": "qformer"}


def build_tiny(cfg: BuildConfig, out_dir: str | Path, world=None, evaluate: bool = True) -> dict:
    """Build into ``out_dir`` (replacing what a previous build wrote there); returns the build summary."""
    world = world or importlib.import_module("workbench.tiny.world")
    shares = _stage2_shares(cfg)  # checked before any work, not twelve minutes in
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("blip2", "llm"):
        if (out / name).exists():
            shutil.rmtree(out / name)
    set_determinism(cfg.threads)
    log = LossLog(out / "loss_log.jsonl")
    timer = PhaseTimer()
    base = cfg.seed * 1000
    summary: dict = {"config": cfg.as_dict(), "phase_seeds": {k: base + v for k, v in PHASE_SEEDS.items()}}
    size = int(world.IMAGE_SIZE)

    with timer.phase("world data"):
        corpus = world_corpus(world, cfg)
        pre = {d: _items(world, "pretrain", d, cfg.vision_scene_items if d == "scene" else cfg.vision_items_per_domain,
                         cfg.seed) for d in DOMAINS}
        probe = {d: _items(world, "probe", d, cfg.probe_items_per_domain, cfg.seed) for d in DOMAINS}
        s1 = {d: _items(world, "stage1", d, cfg.stage1_items_per_domain, cfg.seed) for d in DOMAINS}
        s2 = {d: _items(world, "stage2", d, cfg.stage2_candidates_per_domain, cfg.seed) for d in DOMAINS}
        dev = {d: _items(world, "probe", d, cfg.eval_items // 3 + 1, cfg.seed + 500) for d in DOMAINS}
    if len(corpus) > cfg.corpus_docs:  # the world brought the extra families
        summary["corpus_extra"] = {"shape facts": cfg.corpus_shape_docs,
                                   "slot questions": sum(_slot_question_counts(cfg).values())}

    with timer.phase("tokenizer"):
        texts = tokenizer_texts(corpus) + [it.short_caption for d in DOMAINS for it in s1[d]]
        tokenizer = train_tokenizer(texts, cfg.vocab_size)

    with timer.phase("llm pretrain"):
        llm, llm_info = pretrain_llm(cfg, corpus, tokenizer, log, seed=base + PHASE_SEEDS["llm"])
        save_llm(out / "llm", llm, tokenizer)
    summary["llm"] = llm_info
    _save_summary(out, summary, timer)

    with timer.phase("vision pretrain"):
        pre_items = [it for d in DOMAINS for it in pre[d]]
        pix = _pixels(pre_items, size)
        vision, qformer, query_tokens, space, vis_info = pretrain_vision(
            cfg, pix, [flatten_labels(it.labels) for it in pre_items], log, seed=base + PHASE_SEEDS["vision"],
            first_only=torch.tensor([i for i, it in enumerate(pre_items) if it.domain == "scene"], dtype=torch.long))
        del pix
        save_blip2(out / "blip2", vision, qformer, query_tokens)
    summary["vision"] = vis_info

    with timer.phase("linear probes"):
        probes = {}
        for d in DOMAINS:
            items = probe[d]
            half = len(items) // 2
            feats = encode_all(vision, qformer, query_tokens, _pixels(items, size)).flatten(1)
            labels = [flatten_labels(it.labels) for it in items]
            res = linear_probe(feats[:half], labels[:half], feats[half:], labels[half:], space)
            probes.update({f"{d}/{a}": r for a, r in res.items()})
    summary["probes"] = probes
    _save_summary(out, summary, timer)

    with timer.phase("feature cache"):
        feats = {}
        for name, group in (("stage1", s1), ("stage2", s2), ("dev", dev)):
            feats[name] = {d: encode_all(vision, qformer, query_tokens, _pixels(group[d], size)) for d in tqdm(
                DOMAINS, desc=f"encode {name}", leave=False)}

    template = get_template("vicuna0")
    torch.manual_seed(base + PHASE_SEEDS["proj_init"])
    model = MiniGPT4(vision, qformer, query_tokens, llm, tokenizer, template, connector="qformer", image_size=size)
    model.eval()
    summary["llm_name_separation"] = name_separation(model, _name_groups(world))

    with timer.phase("stage 1"):
        s1_items = [it for d in DOMAINS for it in s1[d]]
        s1_feats = torch.cat([feats["stage1"][d] for d in DOMAINS])
        info1 = stage1(model, s1_feats, [it.short_caption for it in s1_items], cfg, log,
                       seed=base + PHASE_SEEDS["stage1"])
        save_projection_file(out / "stage1.pth", model.projection_state(), info1.pop("optimizer"),
                             epoch=cfg.stage1_epochs - 1)
    summary["stage1"] = info1
    _save_summary(out, summary, timer)
    stage1_state = model.projection_state()

    with timer.phase("curation"):
        kept, cur_stats = curation.curate(
            s2, cfg.stage2_keep, tokenizer, cfg.stage2_max_txt_len - 4,
            kind_synonyms=_kind_synonyms(), min_words=8, shares=shares)
        c_feats = torch.stack([feats["stage2"][d][i] for d, i, _ in kept])
        c_texts = [t for _, _, t in kept]
        (out / "stage2_pairs.jsonl").write_text("".join(
            json.dumps({"id": s2[d][i].uid, "domain": d, "caption": t}) + "\n" for d, i, t in kept))
    summary["curation"] = {"kept": len(kept), "per_domain": cur_stats}

    if evaluate:
        with timer.phase("dev eval stage 1"):
            summary["dev_stage1"] = _dev_eval(model, feats["dev"], dev, world)

    with timer.phase("stage 2"):
        info2 = stage2(model, c_feats, c_texts, cfg, log, seed=base + PHASE_SEEDS["stage2"])
        save_projection_file(out / "stage2.pth", model.projection_state(), info2.pop("optimizer"),
                             epoch=cfg.stage2_epochs - 1)
    summary["stage2"] = info2

    if evaluate:
        with timer.phase("dev eval stage 2"):
            summary["dev_stage2"] = _dev_eval(model, feats["dev"], dev, world)
        if all(getattr(it, "spec", None) is not None for d in DOMAINS for it in dev[d]):
            with timer.phase("dev eval slot ceiling"):
                summary["dev_slot_ceiling"] = slot_ceiling(model, dev, dev_eval.dev_vocab(world))
                groups = {g: set(v) for g, v in _name_groups(world).items() if g in ("kinds", "colours")}
                summary["dev_slot_reading"] = slot_reading(model, dev["scene"], groups,
                                                           dev_eval.DEFAULT_PROMPTS["caption"])

    for stage in (1, 2):
        card = model_card(f"stage{stage}.pth")
        card["image_size"] = size
        (out / f"tiny-stage{stage}.json").write_text(json.dumps(card, indent=2) + "\n")
    summary["stage1_state_norm"] = float(stage1_state["llama_proj.weight"].norm())
    _save_summary(out, summary, timer)
    write_card(out / "card.md", summary)
    return summary


def _stage2_shares(cfg: BuildConfig) -> dict[str, float]:
    """Curation weights per domain: scenes ``stage2_scene_share``, dishes and leaves half the rest each."""
    if not 0.0 <= cfg.stage2_scene_share <= 1.0:
        raise WorkbenchError(f"stage2_scene_share must be between 0 and 1 (a share of the kept stage-2 pairs), "
                             f"got {cfg.stage2_scene_share}; fix it in workbench/tiny/build/config.py or the override")
    rest = (1.0 - cfg.stage2_scene_share) / 2
    return {"scene": cfg.stage2_scene_share, "dish": rest, "leaf": rest}


def _save_summary(out: Path, summary: dict, timer: PhaseTimer) -> None:
    summary["timing"] = timer.phases
    summary["total_wall_s"] = timer.total("wall_s")
    summary["total_cpu_s"] = timer.total("cpu_s")
    (out / "build_summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")


def world_corpus(world, cfg: BuildConfig) -> list:
    """The LLM's text: the world's mixed corpus documents, then its extra families where the world has them
    (``workbench.tiny.world.corpus.extra_documents``; stand-in worlds may bring only ``corpus``)."""
    seed = world.split_seed("corpus", cfg.seed) if hasattr(world, "split_seed") else world.SEEDS["corpus"] + cfg.seed
    docs = _corpus_fn(world)(seed, cfg.corpus_docs, n_slots=cfg.num_query_tokens)
    extra = getattr(world, "extra_documents", None)
    if extra is not None:
        docs += extra(seed, cfg.corpus_shape_docs, _slot_question_counts(cfg), n_slots=cfg.num_query_tokens)
    return docs


def _slot_question_counts(cfg: BuildConfig) -> dict[str, int]:
    return {"scene": cfg.corpus_scene_qa_docs, "dish": cfg.corpus_dish_qa_docs, "leaf": cfg.corpus_leaf_qa_docs}


def _corpus_fn(world):
    """``world.corpus`` may be the function (stand-in worlds) or the ``workbench.tiny.world.corpus`` module."""
    fn = getattr(world, "corpus", None)
    if fn is None or not callable(fn):
        fn = importlib.import_module(f"{world.__name__}.corpus").corpus
    return fn


def _name_groups(world) -> dict[str, list[str]]:
    """The names a slot must keep apart, per group: kinds (and colours, where the world has them), dishes, diseases."""
    vocab = dev_eval.dev_vocab(world)
    groups = {"kinds": list(vocab["kinds"])}
    if hasattr(world, "COLOUR_NAMES"):
        groups["colours"] = list(world.COLOUR_NAMES)
    return groups | {"dishes": list(vocab["dishes"]), "diseases": list(vocab["diseases"])}


def _kind_synonyms() -> dict[str, list[str]]:
    try:
        from workbench.tiny.world.catalog import KIND_SYNONYMS
    except ImportError:
        return {}
    return KIND_SYNONYMS


def _dev_eval(model, feats: dict, items: dict, world) -> dict:
    vocab = dev_eval.dev_vocab(world)
    metrics, examples = dev_eval.evaluate(model, feats, items, vocab)
    return {"metrics": metrics, "examples": examples}


def add_heldout_eval(out_dir: str | Path, eval_root: str | Path, runs_root: str | Path, limit: int | None = None) -> dict:
    """Evaluate the built stage-1/stage-2 checkpoints on the held-out eval sets with the workbench's own
    generate/score/compare, and rewrite ``card.md`` with the table (reporting only)."""
    import time

    from workbench.tiny.diagnostics.heldout import evaluate_heldout, heldout_table

    out = Path(out_dir)
    summary = json.loads((out / "build_summary.json").read_text())
    start = time.perf_counter()
    results = evaluate_heldout(out, Path(eval_root), Path(runs_root), limit=limit)
    markdown, rows = heldout_table(results)
    summary["heldout"] = {"rows": rows, "eval_wall_s": round(time.perf_counter() - start, 1), "limit": limit}
    (out / "build_summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    write_card(out / "card.md", summary, {"markdown": markdown})
    return summary["heldout"]

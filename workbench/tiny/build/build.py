"""Build the embedded tiny MiniGPT-4 end to end, in this order:

world data -> tokenizer -> foundation LLM -> foundation vision (+ linear probes) -> feature cache -> stage 1 ->
curation -> stage 2 -> checkpoints, model cards, loss log, build summary, card.md.
With ``vision_from``, the foundation vision is an earlier build's (``vision_reuse``) instead of trained again; with
``llm_from``, the tokenizer and LLM are an earlier build's, the LLM trained further on this corpus (``llm_reuse``).

``build_tiny`` reads as that list; each phase is one short function below it, in the same order.
``rebuild_stage2`` redoes the last two phases of a finished build on its own frozen parts (how stage-2 settings are
tried). The checks of what the model learned (probes, development answers, the frozen LLM's slot ceiling) come
from ``workbench.tiny.diagnostics`` and only write to the summary: nothing they do feeds back into training.

Deterministic: every trained phase reseeds from (seed, phase); threads are pinned; kernels are deterministic, so
the same seed gives byte-identical checkpoints on the same machine.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from tqdm.auto import tqdm

from workbench.errors import WorkbenchError
from workbench.evalsets import DEFAULT_PROMPTS
from workbench.model import load_model, save_blip2_snapshot, save_projection
from workbench.model.checkpoint import load_projection
from workbench.model.minigpt4 import MiniGPT4
from workbench.model.preprocess import preprocess_images
from workbench.model.templates import get_template
from workbench.tiny import world as tiny_world
from workbench.tiny.build import curation
from workbench.tiny.build.card import write_card
from workbench.tiny.build.common import LossLog, PhaseTimer, merge_loss_log, set_determinism
from workbench.tiny.build.config import SCALES, BuildConfig, stage2_shares
from workbench.tiny.build.labels import flatten_labels
from workbench.tiny.build.llm_pretrain import pretrain_llm
from workbench.tiny.build.llm_reuse import check_llm_source, continue_llm, load_tokenizer
from workbench.tiny.build.stages import stage1, stage2
from workbench.tiny.build.tokenizer import train_tokenizer
from workbench.tiny.build.vision_pretrain import encode_all, pretrain_vision
from workbench.tiny.build.vision_reuse import check_vision_source, load_vision
from workbench.tiny.build.world_api import World, check_world
from workbench.tiny.diagnostics import dev_eval
from workbench.tiny.diagnostics.probe import linear_probe
from workbench.tiny.diagnostics.slot_ceiling import name_separation, slot_ceiling, slot_reading
from workbench.tiny.world.slots import tokenizer_texts

DOMAINS = ("scene", "dish", "leaf")
PHASE_SEEDS = {"llm": 11, "vision": 22, "proj_init": 33, "stage1": 44, "stage2": 55}
TEMPLATE = "vicuna0"
DEV_PHASES = {"dev_stage1": "dev eval stage 1", "dev_stage2": "dev eval stage 2"}
STAGE2_PHASES = ("curation", "stage 2", DEV_PHASES["dev_stage2"])   # what rebuild_stage2 redoes


@dataclass
class Build:
    """What every phase shares: the config, the output folder, the world, the loss log, the timer, the summary."""
    cfg: BuildConfig
    out: Path
    world: World
    log: LossLog
    timer: PhaseTimer = field(default_factory=PhaseTimer)
    summary: dict = field(default_factory=dict)

    def seed(self, phase: str) -> int:
        return self.cfg.seed * 1000 + PHASE_SEEDS[phase]

    def save_summary(self) -> None:
        """Write build_summary.json as it stands (after each long phase, so a stopped build shows its progress)."""
        self.summary["timing"] = self.timer.phases
        self.summary["total_wall_s"] = self.timer.total("wall_s")
        self.summary["total_cpu_s"] = self.timer.total("cpu_s")
        (self.out / "build_summary.json").write_text(
            json.dumps(self.summary, indent=2, sort_keys=True, default=str) + "\n")


@dataclass
class WorldData:
    """The LLM's corpus and the world items of each split, per domain."""
    corpus: list
    pretrain: dict[str, list]
    probe: dict[str, list]
    stage1: dict[str, list]
    stage2: dict[str, list]
    dev: dict[str, list]


def build_tiny(cfg: BuildConfig, out_dir: str | Path, world=None, evaluate: bool = True,
               vision_from: str | Path | None = None, llm_from: str | Path | None = None) -> dict:
    """Build into ``out_dir`` (replacing what a previous build wrote there) from ``world`` (default
    ``workbench.tiny.world``; see ``world_api.World``); returns the build summary (also build_summary.json).
    ``evaluate``: also answer development items after each stage and with true slots (diagnostics only).
    ``vision_from``: the folder of an earlier build of the same world, seed, threads and vision settings whose
    blip2/ is reused (``vision_reuse``; same bytes as training it). ``llm_from``: the folder of an earlier build
    whose tokenizer is kept and whose LLM is trained ``cfg.llm_continue_steps`` more steps on this corpus
    (``llm_reuse``). Raises WorkbenchError before any work when either build cannot be reused."""
    if vision_from is not None:
        check_vision_source(vision_from, cfg, out_dir)
    if llm_from is not None:
        check_llm_source(llm_from, cfg, out_dir)
    b = _start(cfg, Path(out_dir), world or tiny_world)
    data = world_data(b)
    tokenizer = _tokenizer(b, data, llm_from)
    llm = _foundation_llm(b, data, tokenizer, llm_from)
    encoder = _foundation_vision(b, data, vision_from)
    _linear_probes(b, data, encoder)
    features = _feature_cache(b, data, encoder)
    model = _assemble(b, encoder, llm, tokenizer)
    stage1_state = _stage1(b, model, data, features)
    pairs = _curation(b, data, features, tokenizer)
    if evaluate:
        _dev_check(b, "dev_stage1", model, data, features)
    _stage2(b, model, pairs)
    if evaluate:
        _dev_check(b, "dev_stage2", model, data, features)
        _ceiling_checks(b, model, data)
    _finish(b, stage1_state)
    return b.summary


def rebuild_stage2(out_dir: str | Path, cfg: BuildConfig | None = None, world=None, evaluate: bool = True) -> dict:
    """Redo curation and stage 2 of the finished build in ``out_dir`` from its own frozen parts (blip2/, llm/) and
    ``stage1.pth``, with ``cfg``'s stage-2 settings; returns the build summary. Default ``cfg``: the build's
    recorded config (``build_summary.json``) with the ``stage2_*`` settings of this code at the build's scale.

    Rewrites stage2.pth, stage2_pairs.jsonl, the stage-2 lines of loss_log.jsonl, build_summary.json (its
    ``stage2``, ``dev_stage2`` and stage-2 timings; the held-out table is dropped, being stale) and card.md. The
    bytes equal those of a full ``build_tiny(cfg)`` on the same machine and thread count (every phase reseeds
    from (seed, phase); tests/test_train_build.py checks it), so a stage-2 setting is tried in minutes, not in a
    full build: stage 2 is the paper's cheap phase (7 minutes on 3,500 pairs) and about 6% of the tiny build's
    CPU time. ``evaluate``: also answer the development items after stage 2.

    Raises WorkbenchError when ``out_dir`` holds no finished build, or when ``cfg`` differs from the build's
    config outside ``stage2_*`` (its frozen parts are not what that config builds: build in full). A build made
    before ``llm_continue_*`` existed pretrained its LLM and never read them: their absence is not a difference."""
    out = Path(out_dir)
    if not out.is_dir():
        raise WorkbenchError(f"{out}: no such folder; give --out the folder of a finished build, or build one first "
                             f"with `workbench build-tiny --out {out}`")
    if not build_finished(out):
        raise WorkbenchError(f"{out}: no finished build here (a build completes build_summary.json and writes "
                             "card.md only at its end; a stopped one leaves them partial or missing); build one "
                             f"first with `workbench build-tiny --out {out}` (--scale micro: a toy build in seconds)")
    summary = json.loads((out / "build_summary.json").read_text())
    unknown = sorted(set(summary["config"]) - set(BuildConfig().as_dict()))
    if unknown:
        raise WorkbenchError(f"{out / 'build_summary.json'}: its config has settings this code does not know "
                             f"({', '.join(unknown)}); redo it with the code that made it, or build in full")
    recorded = BuildConfig(**summary["config"])
    stage2_now = {k: v for k, v in SCALES[recorded.scale].as_dict().items() if k.startswith("stage2_")}
    cfg = cfg or replace(recorded, **stage2_now)
    changed = sorted(k for k, v in cfg.as_dict().items() if not k.startswith("stage2_") and (
        k in summary["config"] or not k.startswith("llm_continue_")) and summary["config"].get(k) != v)
    if changed:
        raise WorkbenchError(f"{out}: this build was made with other {', '.join(changed)} than asked; only "
                             "stage2_* settings can be redone on its frozen parts: build it in full instead")
    world = check_world(world or tiny_world)
    curation.check_candidate_leaves(cfg, world, DOMAINS)
    set_determinism(cfg.threads)
    b = Build(cfg, out, world, LossLog(None))
    b.summary = {k: v for k, v in summary.items() if k not in ("heldout", "timing", "total_wall_s", "total_cpu_s")}
    b.summary["config"] = cfg.as_dict()
    data = world_data(b)
    model = load_model(out / "tiny-stage1.json", device="cpu")
    model.requires_grad_(False)
    model.llama_proj.requires_grad_(True)   # as in a full build: only llama_proj trains
    encoder = (model.vision_model, model.qformer, model.query_tokens, None)
    features = _feature_cache(b, data, encoder, splits=("stage2", "dev"))
    _stage2(b, model, _curation(b, data, features, model.tokenizer))
    if evaluate:
        _dev_check(b, "dev_stage2", model, data, features)
    else:   # the recorded one answered with the previous stage 2
        b.summary.pop("dev_stage2", None)
    b.summary["stage2_rebuild"] = {"phases": dict(b.timer.phases), "note": "curation and stage 2 redone on this "
                                   "build's frozen parts and stage1.pth (rebuild_stage2)"}
    b.timer.phases = {k: v for k, v in summary["timing"].items() if k not in STAGE2_PHASES} | {
        k: v for k, v in b.timer.phases.items() if k in STAGE2_PHASES}
    merge_loss_log(out / "loss_log.jsonl", b.log.records, phase="stage2")
    _finish(b, load_projection(out / "stage1.pth"))
    return b.summary


def build_finished(model: str | Path) -> bool:
    """True when the build in ``model`` ran to its end. build_summary.json alone does not say so: the build
    writes it after every long phase, so a stopped build leaves one (without ``stage1_state_norm``, which only
    the last step writes, together with card.md)."""
    model = Path(model)
    path = model / "build_summary.json"
    if not path.is_file() or not (model / "card.md").is_file():
        return False
    try:
        summary = json.loads(path.read_text())
    except json.JSONDecodeError:   # torn by a build stopped while writing it: not finished, it is built again
        return False
    return "stage1_state_norm" in summary


def _start(cfg: BuildConfig, out: Path, world) -> Build:
    world = check_world(world)
    stage2_shares(cfg)  # checked before any work, not twelve minutes in
    curation.check_candidate_leaves(cfg, world, DOMAINS)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("blip2", "llm"):
        if (out / name).exists():
            shutil.rmtree(out / name)
    set_determinism(cfg.threads)
    b = Build(cfg, out, world, LossLog(out / "loss_log.jsonl"))
    b.summary = {"config": cfg.as_dict(), "phase_seeds": {k: b.seed(k) for k in PHASE_SEEDS}}
    return b


def world_data(b: Build) -> WorldData:
    cfg, world = b.cfg, b.world

    def items(split: str, domain: str, n: int, offset: int) -> list:
        return world.sample_items(domain, n, world.split_seed(split, offset % 1000))

    with b.timer.phase("world data"):
        data = WorldData(
            corpus=world_corpus(world, cfg),
            pretrain={d: items("pretrain", d, cfg.vision_scene_items if d == "scene" else cfg.vision_items_per_domain,
                               cfg.seed) for d in DOMAINS},
            probe={d: items("probe", d, cfg.probe_items_per_domain, cfg.seed) for d in DOMAINS},
            stage1={d: items("stage1", d, cfg.stage1_items_per_domain, cfg.seed) for d in DOMAINS},
            stage2={d: items("stage2", d, cfg.stage2_candidates_per_domain, cfg.seed) for d in DOMAINS},
            dev={d: items("probe", d, cfg.eval_items // 3 + 1, cfg.seed + 500) for d in DOMAINS})
    if len(data.corpus) > cfg.corpus_docs:  # the world brought the extra families
        b.summary["corpus_extra"] = {"shape facts": cfg.corpus_shape_docs,
                                     "slot questions": sum(slot_question_counts(cfg).values()),
                                     "yes/no questions": cfg.corpus_pope_docs}
    return data


def world_corpus(world: World, cfg: BuildConfig) -> list:
    """The LLM's text: the world's mixed corpus documents, then its extra families (shape facts, slot questions,
    yes/no questions; a stand-in world may bring none)."""
    seed = world.split_seed("corpus", cfg.seed)
    docs = world.corpus(seed, cfg.corpus_docs, n_slots=cfg.num_query_tokens)
    return docs + world.extra_documents(seed, cfg.corpus_shape_docs, slot_question_counts(cfg),
                                        n_slots=cfg.num_query_tokens, pope_docs=cfg.corpus_pope_docs)


def slot_question_counts(cfg: BuildConfig) -> dict[str, int]:
    return {"scene": cfg.corpus_scene_qa_docs, "dish": cfg.corpus_dish_qa_docs, "leaf": cfg.corpus_leaf_qa_docs}


def _tokenizer(b: Build, data: WorldData, llm_from: str | Path | None = None):
    with b.timer.phase("tokenizer"):
        if llm_from is not None:
            return load_tokenizer(llm_from)
        texts = tokenizer_texts(data.corpus) + [it.short_caption for d in DOMAINS for it in data.stage1[d]]
        return train_tokenizer(texts, b.cfg.vocab_size)


def _foundation_llm(b: Build, data: WorldData, tokenizer, llm_from: str | Path | None = None):
    with b.timer.phase("llm pretrain" if llm_from is None else "llm trained further"):
        if llm_from is None:
            llm, b.summary["llm"] = pretrain_llm(b.cfg, data.corpus, tokenizer, b.log, seed=b.seed("llm"))
        else:
            llm, b.summary["llm"] = continue_llm(llm_from, b.cfg, data.corpus, tokenizer, b.log, seed=b.seed("llm"))
        llm.save_pretrained(b.out / "llm")
        tokenizer.save_pretrained(b.out / "llm")
    b.save_summary()
    return llm


def _pixels(items, size: int) -> torch.Tensor:
    return torch.cat([preprocess_images([it.image for it in items[i:i + 512]], size)
                      for i in range(0, len(items), 512)])


def _foundation_vision(b: Build, data: WorldData, vision_from: str | Path | None = None) -> tuple:
    """-> (vision, qformer, query_tokens, label space), the frozen image side, saved as a BLIP-2 snapshot: trained,
    or loaded from the build in ``vision_from``."""
    items = [it for d in DOMAINS for it in data.pretrain[d]]
    labels = [flatten_labels(it.labels) for it in items]
    with b.timer.phase("vision pretrain" if vision_from is None else "vision reused"):
        if vision_from is None:
            scenes = torch.tensor([i for i, it in enumerate(items) if it.domain == "scene"], dtype=torch.long)
            vision, qformer, query_tokens, space, b.summary["vision"] = pretrain_vision(
                b.cfg, _pixels(items, b.world.IMAGE_SIZE), labels, b.log, seed=b.seed("vision"), first_only=scenes)
        else:
            vision, qformer, query_tokens, space, b.summary["vision"], where = load_vision(vision_from, labels, b.log)
            b.summary.update(where)
        save_blip2_snapshot(b.out / "blip2", vision, qformer, query_tokens)
    return vision, qformer, query_tokens, space


def _linear_probes(b: Build, data: WorldData, encoder: tuple) -> None:
    vision, qformer, query_tokens, space = encoder
    with b.timer.phase("linear probes"):
        probes = {}
        for d in DOMAINS:
            items, half = data.probe[d], len(data.probe[d]) // 2
            feats = encode_all(vision, qformer, query_tokens, _pixels(items, b.world.IMAGE_SIZE)).flatten(1)
            labels = [flatten_labels(it.labels) for it in items]
            res = linear_probe(feats[:half], labels[:half], feats[half:], labels[half:], space)
            probes.update({f"{d}/{a}": r for a, r in res.items()})
    b.summary["probes"] = probes
    b.save_summary()


def _feature_cache(b: Build, data: WorldData, encoder: tuple, splits: tuple[str, ...] = ("stage1", "stage2", "dev")
                   ) -> dict[str, dict[str, torch.Tensor]]:
    """Frozen Q-Former outputs of the items of ``splits`` (stage-1, stage-2, dev): {split: {domain: (n, queries,
    d)}}."""
    vision, qformer, query_tokens, _ = encoder
    with b.timer.phase("feature cache"):
        return {name: {d: encode_all(vision, qformer, query_tokens, _pixels(getattr(data, name)[d],
                                                                             b.world.IMAGE_SIZE))
                       for d in tqdm(DOMAINS, desc=f"encode {name}", leave=False)}
                for name in splits}


def _assemble(b: Build, encoder: tuple, llm, tokenizer) -> MiniGPT4:
    """MiniGPT-4 from the frozen parts, ``llama_proj`` initialized from the ``proj_init`` seed."""
    vision, qformer, query_tokens, _ = encoder
    torch.manual_seed(b.seed("proj_init"))
    model = MiniGPT4(vision, qformer, query_tokens, llm, tokenizer, get_template(TEMPLATE), connector="qformer",
                     image_size=b.world.IMAGE_SIZE)
    model.eval()
    b.summary["llm_name_separation"] = name_separation(model, b.world.NAME_GROUPS)
    return model


def _stage1(b: Build, model: MiniGPT4, data: WorldData, features: dict) -> dict[str, torch.Tensor]:
    """Stage 1 on image-short-caption pairs; -> the stage-1 projection state."""
    with b.timer.phase("stage 1"):
        captions = [it.short_caption for d in DOMAINS for it in data.stage1[d]]
        feats = torch.cat([features["stage1"][d] for d in DOMAINS])
        info = stage1(model, feats, captions, b.cfg, b.log, seed=b.seed("stage1"))
        save_projection(b.out / "stage1.pth", model.projection_state(), optimizer_state=info.pop("optimizer"),
                        epoch=b.cfg.stage1_epochs - 1)
    b.summary["stage1"] = info
    b.save_summary()
    return model.projection_state()


def _curation(b: Build, data: WorldData, features: dict, tokenizer) -> tuple[torch.Tensor, list[str]]:
    """Stage-2 pairs (generate -> fix -> filter -> keep), written to stage2_pairs.jsonl; -> (features, texts)."""
    with b.timer.phase("curation"):
        kept, stats = curation.curate(data.stage2, b.cfg.stage2_keep, tokenizer, b.cfg.stage2_max_txt_len - 4,
                                      kind_synonyms=b.world.KIND_SYNONYMS, min_words=8, shares=stage2_shares(b.cfg),
                                      healthy_share=b.cfg.stage2_healthy_share)
        feats = torch.stack([features["stage2"][d][i] for d, i, _ in kept])
        (b.out / "stage2_pairs.jsonl").write_text("".join(
            json.dumps({"id": data.stage2[d][i].uid, "domain": d, "caption": t}) + "\n" for d, i, t in kept))
    b.summary["curation"] = {"kept": len(kept), "per_domain": stats}
    return feats, [t for _, _, t in kept]


def _stage2(b: Build, model: MiniGPT4, pairs: tuple[torch.Tensor, list[str]]) -> None:
    with b.timer.phase("stage 2"):
        info = stage2(model, *pairs, b.cfg, b.log, seed=b.seed("stage2"))
        save_projection(b.out / "stage2.pth", model.projection_state(), optimizer_state=info.pop("optimizer"),
                        epoch=b.cfg.stage2_epochs - 1)
    b.summary["stage2"] = info


def _dev_eval_set(b: Build, data: WorldData):
    return dev_eval.dev_eval_set(data.dev, b.world.OBJECT_VOCABULARY, b.world.SYNONYMS)


def _dev_check(b: Build, name: str, model: MiniGPT4, data: WorldData, features: dict) -> None:
    """Development answers of the model as it stands, with the product's generation and scorers."""
    with b.timer.phase(DEV_PHASES[name]):
        b.summary[name] = dev_eval.evaluate(model, features["dev"], data.dev, _dev_eval_set(b, data))


def _ceiling_checks(b: Build, model: MiniGPT4, data: WorldData) -> None:
    """The frozen LLM fed true soft slots (needs items that carry their ``spec``), and its slot reading."""
    if not all(getattr(it, "spec", None) is not None for d in DOMAINS for it in data.dev[d]):
        return
    with b.timer.phase("dev eval slot ceiling"):
        b.summary["dev_slot_ceiling"] = slot_ceiling(model, data.dev, _dev_eval_set(b, data))
        groups = {g: set(v) for g, v in b.world.NAME_GROUPS.items() if g in ("kinds", "colours")}
        b.summary["dev_slot_reading"] = slot_reading(model, data.dev["scene"], groups,
                                                     DEFAULT_PROMPTS["caption"])


def model_card(projection: str, image_size: int) -> dict:
    """The model card (``tiny-stage<k>.json``) that ``load_model`` reads: parts, template, connector."""
    return {"blip2": "blip2", "llm": "llm", "projection": projection, "template": TEMPLATE,
            "connector": "qformer", "image_size": image_size}


def _finish(b: Build, stage1_state: dict[str, torch.Tensor]) -> None:
    for stage in (1, 2):
        card = model_card(f"stage{stage}.pth", b.world.IMAGE_SIZE)
        (b.out / f"tiny-stage{stage}.json").write_text(json.dumps(card, indent=2) + "\n")
    b.summary["stage1_state_norm"] = float(stage1_state["llama_proj.weight"].norm())
    b.save_summary()
    write_card(b.out / "card.md", b.summary)

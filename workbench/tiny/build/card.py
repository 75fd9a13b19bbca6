"""``models/tiny/card.md``: what the tiny model is, how it was built, how long each phase took, and how good
its frozen encoder and its two stages are. Generated from the build summary (``build_summary.json``), so it
never drifts from the build; it states no number the summary does not hold. What was tried before, with the
numbers measured then, is prose with dates in ``docs/tiny_model_history.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.scoring.metric_info import METRICS


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def write_card(path: Path, s: dict) -> None:
    """Write card.md from the build summary ``s`` (``build_tiny``'s, with ``heldout`` once ``add_heldout_eval``
    has run). Rows keyed by name are sorted, so a card rewritten from build_summary.json (saved with sorted keys,
    as ``--stage2-only`` does) lists them in the same order as the build's own."""
    c = s["config"]
    title = "embedded default" if (c["scale"], c["seed"]) == ("full", 0) else f"{c['scale']} scale, seed {c['seed']}"
    parts = [f"# tiny MiniGPT-4 ({title})", "",
             "A miniature MiniGPT-4 trained on CPU on the procedural world (`workbench/tiny/world/`) by "
             "`workbench build-tiny` (`workbench/tiny/build/`). Same architecture and code path as the real model: "
             "ViT -> Q-Former (learned query tokens) -> `llama_proj` (the only trained weights in stages 1 and 2) -> "
             "Llama-architecture causal LM, `vicuna0` template.", ""]
    for section in (_architecture, _data, _times, _losses, _probes, _curation, _dev_checks, _heldout):
        parts += section(s)
    if (Path(path).parent / "seed_spread.json").is_file():  # written by `workbench seed-spread`
        from workbench.tiny.diagnostics.seed_spread import card_section

        parts += ["", card_section(json.loads((Path(path).parent / "seed_spread.json").read_text()))]
    parts += ["", "## Known limits", *LIMITS]
    Path(path).write_text("\n".join(parts) + "\n")


def _architecture(s: dict) -> list[str]:
    c = s["config"]
    return ["## Architecture", _table(["part", "shape", "parameters"], [
        ["vision (`Blip2VisionModel`)", f"{c['vit_layers']} layers, hidden {c['vit_hidden']}, "
         f"{c['vit_heads']} heads, patch {c['patch_size']}, image {c.get('image_size', 64)} px", s["vision"]["params"]],
        ["Q-Former (`Blip2QFormerModel`)", f"{c['qformer_layers']} layers, hidden {c['qformer_hidden']}, "
         f"{c['num_query_tokens']} query tokens", "(included above)"],
        ["LLM (`LlamaForCausalLM`)", f"{c['llm_layers']} layers, hidden {c['llm_hidden']}, "
         f"{c['llm_heads']} heads, byte-level BPE vocab {c['vocab_size']}", s["llm"]["params"]],
        ["`llama_proj`", f"Linear({c['qformer_hidden']}, {c['llm_hidden']})",
         c["qformer_hidden"] * c["llm_hidden"] + c["llm_hidden"]],
    ]), ""]


def _data(s: dict) -> list[str]:
    c = s["config"]
    parts = ["## Data and seeds",
             f"Build seed offset: {c['seed']} (each split of `workbench.tiny.world.seeds.SEED_RANGES` uses its start + "
             "offset; eval sets use the `eval` range only, never touched here)."]
    if "phase_seeds" in s:
        parts.append("Torch seeds of the phases: "
                     + ", ".join(f"{k} {v}" for k, v in sorted(s["phase_seeds"].items(), key=lambda kv: kv[1])) + ".")
    parts += ["", _table(["phase", "data"], [
        ["tokenizer + LLM" if "continued_from" not in s["llm"] else "LLM trained further",
         f"{s['llm']['corpus_docs']} world-corpus documents{_extra_docs(s)} "
         f"({s['llm']['corpus_tokens']} tokens, of them {s['llm'].get('soft_slot_positions', 0)} soft image-slot "
         f"positions), {s['llm']['steps']} steps, {s['llm']['tokens_seen']} tokens seen"],
        ["vision + Q-Former", f"{s['vision']['images']} images (pretrain split), attribute heads "
         f"({len(s['vision']['attributes'])} attributes), {s['vision']['steps']} steps"],
        ["linear probes", f"{c['probe_items_per_domain']} probe-split images per domain, half train / half test"],
        ["stage 1", f"{s['stage1']['pairs']} image-short-caption pairs, no template, end symbol `\\n`, "
         f"{s['stage1']['steps']} steps x batch {s['stage1']['batch']}, lr {s['stage1']['lr']}"],
        ["stage 2", f"{s['stage2']['pairs']} curated image-detailed-description pairs in `vicuna0`, "
         f"{s['stage2']['steps']} steps x batch {s['stage2']['batch']}, lr {s['stage2']['lr']}"],
    ])]
    if s.get("llm_name_separation"):
        parts += ["", "How far apart the frozen LLM keeps the names a slot superposes (`slot_ceiling.name_separation`: "
                  "mean pairwise cosine of each name's slot embedding; near 1, a slot cannot tell them apart): "
                  + ", ".join(f"{k} {v}" for k, v in sorted(s["llm_name_separation"].items()) if v is not None) + "."]
    return parts + [""]


def _times(s: dict) -> list[str]:
    threads = s["config"]["threads"]
    return ["## Phase times",
            f"Wall seconds and process CPU seconds (the build pins torch to {threads} thread"
            f"{'s' if threads != 1 else ''}; when the machine is shared, wall time is inflated and CPU time is the "
            "better guide).", "",
            _table(["phase", "wall s", "cpu s", "share of wall"],
                   [[k, v["wall_s"], v["cpu_s"], f"{v['wall_s'] / max(s['total_wall_s'], 1e-9):.1%}"]
                    for k, v in sorted(s["timing"].items(), key=lambda kv: _phase_rank(kv[0]))]
                   + [[_total_label(s), s["total_wall_s"], s["total_cpu_s"], "100%"]]), ""] \
        + _llm_continued(s) + _vision_reused(s)


def _total_label(s: dict) -> str:
    return "**total** (the full build's phases, curation and stage 2 redone)" if "stage2_rebuild" in s else "**total**"


def _llm_continued(s: dict) -> list[str]:
    if "continued_from" not in s["llm"]:
        return []
    sha = s["llm"].get("continued_from_sha256")
    return [f"The tokenizer and LLM were not pretrained in this build: they are those of `{s['llm']['continued_from']}`"
            f"{f' (weights sha256 {sha[:12]}...)' if sha else ''}, the LLM trained {s['llm']['steps']} more steps at "
            f"peak lr {s['llm'].get('peak_lr')} on this build's corpus (`workbench build-tiny --llm-from`; "
            "`llm_reuse`).", ""]


def _vision_reused(s: dict) -> list[str]:
    if "vision_reused_from" not in s:
        return []
    trained = s.get("vision_trained_in", s["vision_reused_from"])
    where = "" if trained == s["vision_reused_from"] else f", which reused the one trained in `{trained}`"
    return [f"The vision side was not trained in this build: `blip2/` is the one of `{s['vision_reused_from']}`"
            f"{where} (`workbench build-tiny --vision-from`). Its seed, threads and vision settings were checked "
            "equal to this build's; its bytes equal training it here only if it was built on the same CPU kind, "
            "torch version and vision code, which is not checked. Its vision loss lines are copied from that "
            "build's loss log.", ""]


def _losses(s: dict) -> list[str]:
    return ["## Losses (full log: `loss_log.jsonl`)", _table(["phase", "first", "last"], [
        ["LLM", _r(s["llm"]["first_loss"]), _r(s["llm"]["last_loss"])],
        ["vision (Q-Former heads)", _r(s["vision"]["first_loss"]), _r(s["vision"]["last_loss"])],
        ["stage 1", _r(s["stage1"]["first_loss"]), _r(s["stage1"]["last_loss_avg20"])],
        ["stage 2", _r(s["stage2"]["first_loss"]), _r(s["stage2"]["last_loss_avg20"])],
    ]), ""]


def _probes(s: dict) -> list[str]:
    return ["## Frozen encoder: linear-probe accuracy per attribute",
            "A linear classifier on the flattened frozen Q-Former output (what `llama_proj` sees), trained on one "
            "half of fresh probe-split images and tested on the other. Cell attributes are `cell_*[i]` for grid "
            "cell i (top left, top right, bottom left, bottom right; class 'empty' included); multi-hot "
            "attributes (`kinds`, `colours`) count an item correct only if the whole set is right.", "",
            _table(["attribute", "accuracy", "majority-class chance", "n test"],
                   [[k, v["accuracy"], v["chance"], v["n_test"]] for k, v in sorted(s["probes"].items())]), ""]


def _curation(s: dict) -> list[str]:
    return ["## Stage-2 curation (generate -> fix -> filter -> keep)",
            "See `workbench/tiny/build/curation.py`. Scenes get "
            f"{s['config'].get('stage2_scene_share', 1 / 3):.0%} of the kept pairs, dishes and leaves share the rest "
            f"(`stage2_scene_share`).{_healthy_share(s['config'])} Counts per domain:", "",
            "```json\n" + json.dumps(s["curation"], indent=1, sort_keys=True) + "\n```",
            "The kept pairs are in `stage2_pairs.jsonl`."] + _stage2_rebuild(s)


def _healthy_share(config: dict) -> str:
    share = config.get("stage2_healthy_share")
    if share is None:
        return ""
    return (f" Healthy leaves are {share:.0%} of the kept leaf pairs (`stage2_healthy_share`: the first healthy and "
            "the first diseased leaves that pass, in seed order).")


def _stage2_rebuild(s: dict) -> list[str]:
    if "stage2_rebuild" not in s:
        return []
    c = s["config"]
    return ["", f"Curation and stage 2 ({c['stage2_epochs']} epochs at lr {c['stage2_lr']:g}) were redone on this "
            "build's own frozen parts and `stage1.pth` (`workbench build-tiny --stage2-only`): the same bytes as a "
            "full build with these settings on the same machine and thread count; the other phases' times are the "
            "full build's."]


def _dev_checks(s: dict) -> list[str]:
    parts = []
    if all(k in s for k in ("dev_stage1", "dev_stage2", "dev_slot_ceiling")):
        m1, m2, mc = (s[k]["metrics"] for k in ("dev_stage1", "dev_stage2", "dev_slot_ceiling"))
        rank = {k: i for i, k in enumerate(METRICS)}   # declaration order; undeclared diagnostics last
        keys = sorted((k for k in m2 if not k.endswith("failure_reasons")), key=lambda k: (rank.get(k, len(rank)), k))
        parts += ["", "## Development items: stage 1, stage 2 and the frozen LLM's ceiling",
                  "Probe-split seeds, greedy, answered and scored by the workbench's own generation and scorers "
                  "(`workbench/tiny/diagnostics/dev_eval.py`; no METEOR). *Ceiling*: the image slot holds each "
                  "picture's true soft slot instead of the projected image tokens "
                  "(`workbench/tiny/diagnostics/slot_ceiling.py`): what the frozen LLM does with perfect image tokens.",
                  "", _table(["metric", "stage 1", "stage 2", "ceiling"],
                             [[k, m1.get(k), m2[k], mc.get(k)] for k in keys])]
        if s.get("dev_slot_reading"):
            parts += ["", "Does the frozen LLM read a scene's slot? Its loss (nats) on the kind and colour tokens of "
                      "the dev scenes' detailed descriptions, after each scene's own true slot and after the next "
                      "scene's (`slot_ceiling.slot_reading`; equal losses mean the slot tells it nothing):", "",
                      _table(["words", "own slot", "next scene's slot", "tokens"],
                             [[g, v["own"], v["other"], v["tokens"]] for g, v in sorted(s["dev_slot_reading"].items())])]
    for name in ("dev_stage1", "dev_stage2", "dev_slot_ceiling"):
        if name in s:
            parts += ["", f"## Build-time check on development items ({name}, probe-split seeds, greedy)",
                      "```json\n" + json.dumps(s[name], indent=1, sort_keys=True) + "\n```"]
    return parts


def _heldout(s: dict) -> list[str]:
    if not s.get("heldout"):
        return []
    return ["", "## Held-out eval sets: stage 1 vs stage 2",
            "`workbench generate` (greedy, chat template, stop on `###`) on `eval_sets/synth-*` (eval seeds, "
            "never used in training or tuning), scored by `workbench score`, paired bootstrap by "
            "`workbench compare` (2,000 resamples). delta = stage 2 - stage 1.", "",
            heldout_markdown(s["heldout"]["rows"])]


def heldout_markdown(rows: list[dict]) -> str:
    """The held-out rows (``heldout.heldout_rows``) as a markdown table."""
    def fmt(x):
        if isinstance(x, (list, tuple)):
            return "[" + ", ".join(fmt(v) for v in x) + "]"
        return "-" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))

    keys = ("eval set", "metric", "stage 1", "stage 2", "delta", "95% CI", "p", "verdict")
    return _table(list(keys), [[fmt(r[k]) for k in keys] for r in rows])


LIMITS = [
    "- **Stage 1 fails in chat as the paper's does.** The tiny LLM knows the `vicuna0` template from text, but the "
    "stage-1 image tokens are not what it reads in a conversation's image slot. Stage-1 chat answers are fluent "
    "but off-task and repetitive (the failure scorer's `off_task`; caption failure rates above). Stage 1 uses "
    "MiniGPT-4's stage-1 end symbol `\\n`.",
    "- **Recipes and diagnoses emerge describe-first.** Stage 2 aligns `llama_proj` on describe prompts only; the "
    "LLM's corpus answers a recipe or diagnosis request about a picture by opening as a detailed description does "
    "(which names the dish or the condition), then giving the recipe or treatment known by that name.",
    "- **Where captions are limited**: the gap between the stage-2 and ceiling columns of the development table "
    "is what the projection loses of what the frozen LLM can read; the linear probes above say what the frozen "
    "features carry.",
    "- **CHAIR_i of a caption that names no object is 0 by convention** (`workbench/scoring/hallucination.py`). "
    "When stage 1 names a shape in few captions, its CHAIR_i rests on few mentions and the interval of the "
    "CHAIR_i difference is wide; object recall and `chair_s` are then the clearer contrasts for stage 1.",
    "- **Curation** filters and fixes candidates written by the world's describer from the annotation (the role "
    "ChatGPT + the annotation play in the paper); the stage-1 model's own generations are not used as candidates.",
    "- **Timing**: when other work shares the machine, wall seconds are inflated, and so, to a lesser degree, are "
    "CPU seconds (cache and core contention); the weights are byte-identical either way.",
    "- **Reproducibility**: same seed -> byte-identical checkpoints on the same machine and library versions "
    "and torch thread count (deterministic kernels; `BuildConfig.threads`, 2 at the full scale). The thread count "
    "is part of the build: on a 2-core AMD EPYC, 1 and 2 threads give the same first LLM step to the bit but not the same "
    "first vision step (the LayerNorm weight and bias gradients differ: torch's CPU LayerNorm backward sums "
    "per-thread partial sums). Another CPU kind need not give the same bits either: torch and MKL choose kernels "
    "by the CPU's instruction set (`cpu_capability` in `seed_spread.json`); there, forcing torch's default "
    "kernels (`ATEN_CPU_CAPABILITY=default`) already changes the random initial weights, and forcing MKL's "
    "compatible path (`MKL_CBWR=COMPATIBLE`) changes every matmul. The model shipped before 2026-11-30 was built "
    "on another CPU kind; rebuilds of it on 2-core AMD EPYCs differed from the first training step (issue 21) "
    "and moved the held-out results (CHAIR_i's stage-2 gain vanished). The machine each build ran on is in "
    "`seed_spread.json`. Claim only what holds across builds.",
    "- Development checks use probe-split seeds; the held-out table uses the eval sets and is the reference. What "
    "was tried before this build, and what it measured, is in `docs/tiny_model_history.md`.",
]


PHASE_ORDER = ["world data", "tokenizer", "llm pretrain", "llm trained further", "vision pretrain", "vision reused",
               "linear probes", "feature cache", "stage 1", "curation", "dev eval stage 1", "stage 2", "dev eval stage 2",
               "dev eval slot ceiling"]


def _phase_rank(name: str) -> int:
    return PHASE_ORDER.index(name) if name in PHASE_ORDER else len(PHASE_ORDER)


def _extra_docs(s: dict) -> str:
    """", of them 6000 shape facts and 6000 slot questions" from a build summary (empty for builds without them)."""
    extra = s.get("corpus_extra") or {}
    return ", of them " + " and ".join(f"{n} {k}" for k, n in extra.items()) if extra else ""


def _r(x) -> str:
    return "-" if x is None else f"{x:.3f}"

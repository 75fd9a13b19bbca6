"""Build scales of the tiny MiniGPT-4: every size, count, step and learning rate in one dataclass.

``full`` is what ``workbench build-tiny`` ships; ``micro`` is for tests and the notebook's default run
(seconds). Nothing here reads the environment; a build is a function of (scale, seed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from workbench.errors import WorkbenchError


@dataclass(frozen=True)
class BuildConfig:
    scale: str = "full"
    seed: int = 0  # offset inside each split's seed range (workbench.tiny.world.seeds.split_seed)
    threads: int = 2
    # --- tokenizer / LLM
    vocab_size: int = 2000
    corpus_docs: int = 10000
    # extra corpus families (world/corpus.py extra_documents): shape facts keep the kind words apart; short
    # soft-slot questions about scenes give a dense signal for reading a scene's slot
    corpus_shape_docs: int = 6000
    corpus_scene_qa_docs: int = 6000
    corpus_dish_qa_docs: int = 0
    corpus_leaf_qa_docs: int = 0
    corpus_pope_docs: int = 3000  # yes/no questions about a scene in the slot (issue 19: POPE from text only)
    llm_hidden: int = 192
    llm_layers: int = 4
    llm_heads: int = 4
    llm_intermediate: int = 512
    llm_max_len: int = 256
    llm_block: int = 256
    llm_batch: int = 16
    llm_steps: int = 800  # with the extra corpus families; at 500 the LLM read slots by luck of its trajectory
    llm_lr: float = 3e-3
    llm_embed_noise: float = 0.0  # NEFTune alpha; 0 = off (alpha 5 was tried: not better on dev items)
    llm_slot_noise: float = 0.3  # Gaussian noise on soft image slots, x the embedding table's std (llm_pretrain)
    # with --llm-from (llm_reuse): an earlier build's LLM trained further on this corpus, not pretrained anew
    llm_continue_steps: int = 240  # 30% of llm_steps
    llm_continue_lr: float = 1e-3  # a third of llm_lr
    # --- vision encoder + Q-Former
    vit_hidden: int = 128
    vit_layers: int = 4
    vit_heads: int = 4
    vit_intermediate: int = 384
    patch_size: int = 8
    qformer_hidden: int = 128
    qformer_layers: int = 2
    qformer_heads: int = 4
    qformer_intermediate: int = 256
    num_query_tokens: int = 16
    vision_items_per_domain: int = 1500  # dishes and leaves: colour/texture, learnt fast
    vision_scene_items: int = 9000  # scenes: located shapes, the hard part (issue 5 feasibility study)
    vision_epochs: int = 10  # 4 mixed epochs after the scene-only ones; with 3, the dish probe fell to 0.94 (0.98 now)
    vision_scene_epochs: int = 6  # curriculum: scenes alone first (vision_pretrain); 2 of 5 left kind at probe 0.6
    vision_batch: int = 64
    vision_lr: float = 1e-3
    vision_clip: float = 1.0
    probe_items_per_domain: int = 1000
    # --- stage 1
    stage1_items_per_domain: int = 4000
    stage1_epochs: int = 6  # 8 cost ~100 s more and gave the same stage 2 on dev items (with vision at 6+3 epochs)
    stage1_batch: int = 64
    stage1_lr: float = 1e-3
    stage1_max_txt_len: int = 48
    proj_init_std: float = 0.002
    # --- curation + stage 2
    stage2_candidates_per_domain: int = 1700  # ~5,000 candidates, as the paper's stage-1 generations
    stage2_keep: int = 3500
    stage2_scene_share: float = 0.2  # of the kept pairs; dishes and leaves split the rest (curation.quotas)
    stage2_healthy_share: float | None = None  # of the kept leaf pairs; None: as the candidates come (about 1/4)
    stage2_epochs: int = 3
    stage2_batch: int = 16
    stage2_lr: float = 1e-3
    stage2_max_txt_len: int = 160
    # --- quick evaluation written into the card
    eval_items: int = 200

    def as_dict(self) -> dict:
        return asdict(self)


SCALES: dict[str, BuildConfig] = {
    "full": BuildConfig(),
    "micro": BuildConfig(
        scale="micro", threads=1, vocab_size=400, corpus_docs=150, corpus_shape_docs=20, corpus_scene_qa_docs=20,
        corpus_dish_qa_docs=10, corpus_leaf_qa_docs=10, corpus_pope_docs=10, llm_hidden=32, llm_layers=1, llm_heads=2,
        llm_intermediate=64, llm_block=64, llm_batch=8, llm_steps=30, llm_continue_steps=10,
        vit_hidden=32, vit_layers=1, vit_heads=2,
        vit_intermediate=64, qformer_hidden=32, qformer_layers=1, qformer_heads=2, qformer_intermediate=64,
        num_query_tokens=4, vision_items_per_domain=24, vision_scene_items=24, vision_epochs=2, vision_batch=16, probe_items_per_domain=20,
        stage1_items_per_domain=24, stage1_epochs=3, stage1_batch=8, stage1_lr=3e-3,
        stage2_candidates_per_domain=16, stage2_keep=30, stage2_epochs=2, stage2_batch=8, stage2_lr=1e-3,
        eval_items=6,
    ),
}


def get_config(scale: str, seed: int = 0, **overrides) -> BuildConfig:
    if scale not in SCALES:
        raise WorkbenchError(f"unknown build scale {scale!r}; known scales: {', '.join(SCALES)}")
    return replace(SCALES[scale], seed=int(seed), **overrides)


def stage2_shares(cfg: BuildConfig) -> dict[str, float]:
    """Curation weights per domain: scenes ``stage2_scene_share``, dishes and leaves half the rest each. Also checks
    ``stage2_healthy_share`` (None or in [0, 1]), so a build refuses bad shares before any work.

    Raises WorkbenchError naming the setting when a share lies outside [0, 1]."""
    for name, of in (("stage2_scene_share", "the kept stage-2 pairs"), ("stage2_healthy_share", "the kept leaf pairs")):
        value = getattr(cfg, name)
        if value is not None and not 0.0 <= value <= 1.0:
            raise WorkbenchError(f"{name} must be between 0 and 1 (a share of {of}), got {value}; fix it in "
                                 "workbench/tiny/build/config.py (or the get_config override)")
    rest = (1.0 - cfg.stage2_scene_share) / 2
    return {"scene": cfg.stage2_scene_share, "dish": rest, "leaf": rest}

"""Foundation pretraining of the tiny vision encoder + Q-Former + query tokens, then frozen.

Objective: attribute prediction, read off the Q-Former output (what ``llama_proj`` will see), shaped for a
single shared linear projection into a frozen LLM:

- *per query token*: one linear head per attribute, shared by all query tokens, and every token must predict
  on its own (an image-level attribute such as the dish or the crop from each of the queries, a grid cell's
  object kind/colour/size from each token of that cell's quarter of the queries). Earlier builds predicted from
  the flattened output; the identity was then spread across tokens in a way one shared ``Linear`` could not
  collect, and the stage-1 model named a dish 12% of the time.
- *query identity*: a shared head must also tell which query each output token is, so projected tokens stay
  distinct. With 16 identical tokens carrying the dish, the frozen LLM named it 18% of the time; with 16
  distinct ones (identity + position), 64% (a one-hot oracle trial). With both terms, stage 1 names the dish
  51% of the time on development items.
- an auxiliary set of heads reads the ViT patch tokens mean-pooled per quadrant (binds "where" early).

All heads are discarded after training. Gradient clipping and a modest LR with warmup keep the small ViT stable.

The feasibility study's encoder learned colour and texture but not small located shapes: the ViT's patch tokens
did carry each cell's colour (probe 0.98) but a Q-Former trained on image-level labels did not (0.43); hence the
per-cell query groups. Curriculum: the first ``vision_scene_epochs`` epochs show scenes only. Trained on all
domains from the start, the Q-Former learnt global pooling and its per-cell query groups never bound to
locations (cell-colour probe at chance); binding first, then mixing, keeps it.

Object *kind* within a cell is the slowest attribute to learn, not an unlearnable one: a ViT-only trial (quadrant
heads for kind and colour, scenes only) named the kind of a non-empty cell 0.52 of the time after 400 steps and
0.94 after 1,200. With 2 scene-only epochs of 5 the frozen encoder's cell-kind probe was 0.61 (empty cells
included, chance 0.53); with 6 of 10 it is about 0.82, and the leaf disease probe rose from 0.83 to 0.96 with it.
Four mixed epochs after them matter too: with three, the dish probe fell from 0.96 to 0.94 and stage 2 named fewer
dishes.
"""

from __future__ import annotations

import torch
from torch import nn
from tqdm.auto import tqdm
from transformers import Blip2QFormerConfig, Blip2QFormerModel, Blip2VisionConfig, Blip2VisionModel

from workbench.tiny.build.common import LossLog, adamw, cosine_lr, seed_everything
from workbench.tiny.build.config import BuildConfig
from workbench.tiny.build.labels import LabelSpace, attribute_loss


def make_vision(cfg: BuildConfig, image_size: int) -> tuple[Blip2VisionModel, Blip2QFormerModel, nn.Parameter]:
    vision = Blip2VisionModel(Blip2VisionConfig(
        hidden_size=cfg.vit_hidden, intermediate_size=cfg.vit_intermediate, num_hidden_layers=cfg.vit_layers,
        num_attention_heads=cfg.vit_heads, image_size=image_size, patch_size=cfg.patch_size,
        initializer_range=0.02,  # the config's default (1e-10) leaves a ViT that barely trains
    ))
    qformer = Blip2QFormerModel(Blip2QFormerConfig(
        hidden_size=cfg.qformer_hidden, num_hidden_layers=cfg.qformer_layers, num_attention_heads=cfg.qformer_heads,
        intermediate_size=cfg.qformer_intermediate, encoder_hidden_size=cfg.vit_hidden, cross_attention_frequency=1,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, vocab_size=2, max_position_embeddings=8,
    ))
    query_tokens = nn.Parameter(torch.randn(1, cfg.num_query_tokens, cfg.qformer_hidden) * 0.02)
    return vision, qformer, query_tokens


def encode(vision, qformer, query_tokens, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Same path as ``MiniGPT4.encode_features``: -> (patch tokens incl. CLS, Q-Former output)."""
    patches = vision(pixel_values=pixels).last_hidden_state
    mask = torch.ones(patches.shape[:-1], dtype=torch.long)
    out = qformer(query_embeds=query_tokens.expand(pixels.shape[0], -1, -1), encoder_hidden_states=patches,
                  encoder_attention_mask=mask).last_hidden_state
    return patches, out


def quadrant_pool(patches: torch.Tensor) -> torch.Tensor:
    """(B, 1 + g*g, H) patch tokens -> (B, 4, H): mean over each quadrant of the patch grid (reading order)."""
    tokens = patches[:, 1:, :]
    b, n, h = tokens.shape
    g = int(round(n ** 0.5))
    grid = tokens.reshape(b, g, g, h)
    half = g // 2
    return torch.stack([grid[:, r:r + half, c:c + half].mean(dim=(1, 2)) for r in (0, half) for c in (0, half)], 1)


def cell_index(attr: str) -> int | None:
    """``cell_kind[2]`` -> 2 (a per-grid-cell attribute); None for image-level attributes."""
    if attr.startswith("cell_") and attr.endswith("]") and "[" in attr:
        return int(attr[attr.index("[") + 1:-1])
    return None


class Heads(nn.Module):
    """One linear head per attribute. Image-level attributes read the whole (flattened) input; a grid cell's
    attributes read only that cell's slot (``cells[:, i]``), so the encoder must bind what it sees to where.
    ``forward`` serves the ViT quadrant heads; the Q-Former heads are applied token by token by ``per_query_loss``."""

    def __init__(self, flat_features: int, cell_features: int, space: LabelSpace):
        super().__init__()
        self.attrs = list(space.classes)
        self.cells = [cell_index(a) for a in self.attrs]
        self.heads = nn.ModuleList(
            nn.Linear(flat_features if c is None else cell_features, len(space.classes[a]))
            for a, c in zip(self.attrs, self.cells))

    def forward(self, flat: torch.Tensor, cells: torch.Tensor) -> dict[str, torch.Tensor]:
        return {a: head(flat if c is None else cells[:, c]) for a, c, head in zip(self.attrs, self.cells, self.heads)}


def query_id_loss(head: nn.Linear, out: torch.Tensor) -> torch.Tensor:
    """Each output token must also say which query it is (a shared linear head over ``n_query`` classes), so the
    image tokens stay distinct after a shared linear projection (see the module docstring)."""
    b, n, _ = out.shape
    target = torch.arange(n, device=out.device).repeat(b)
    return torch.nn.functional.cross_entropy(head(out).reshape(b * n, n), target)


def per_query_loss(heads: "Heads", out: torch.Tensor, targets: dict[str, torch.Tensor], space: LabelSpace) -> torch.Tensor:
    """Every query token must predict the attributes on its own, through one head shared by all queries: an
    image-level attribute from each of the ``n_query`` tokens, a grid cell's attribute from each token of that
    cell's quarter of the queries, so a single ``llama_proj`` shared across tokens can read it off every token."""
    b, n, h = out.shape
    group = n // 4
    logits, tiled = {}, {}
    for attr, cell, head in zip(heads.attrs, heads.cells, heads.heads):
        x = out if cell is None else out[:, cell * group:(cell + 1) * group]
        k = x.shape[1]
        logits[attr] = head(x).reshape(b * k, -1)
        tiled[attr] = targets[attr].repeat_interleave(k, dim=0)
    return attribute_loss(logits, tiled, space)


def pretrain_vision(cfg: BuildConfig, pixels: torch.Tensor, label_dicts: list[dict], log: LossLog, seed: int,
                    first_only: torch.Tensor | None = None):
    """Train on (pixels, labels); returns (vision, qformer, query_tokens, space, info), all frozen.

    ``first_only``: indices of the items shown alone in the first ``cfg.vision_scene_epochs`` epochs."""
    seed_everything(seed)
    vision, qformer, query_tokens = make_vision(cfg, pixels.shape[-1])
    space = LabelSpace.from_labels(label_dicts)
    targets = space.targets(label_dicts)
    if cfg.num_query_tokens % 4:
        raise ValueError(f"num_query_tokens must be a multiple of 4 (one group per grid cell), got {cfg.num_query_tokens}")
    q_heads = Heads(cfg.qformer_hidden, cfg.qformer_hidden, space)
    v_heads = Heads(4 * cfg.vit_hidden, cfg.vit_hidden, space)
    qid_head = nn.Linear(cfg.qformer_hidden, cfg.num_query_tokens)
    params = [*vision.parameters(), *qformer.parameters(), query_tokens, *q_heads.parameters(), *v_heads.parameters(),
              *qid_head.parameters()]
    opt = adamw(params, cfg.vision_lr)
    gen = torch.Generator().manual_seed(seed)
    n = pixels.shape[0]
    first = first_only if first_only is not None and cfg.vision_scene_epochs else None
    n_first = cfg.vision_scene_epochs if first is not None else 0
    plan = [max(1, len(first) // cfg.vision_batch)] * n_first + [max(1, n // cfg.vision_batch)] * (cfg.vision_epochs - n_first)
    total = sum(plan)
    vision.train(); qformer.train()
    bar = tqdm(total=total, desc="vision pretrain", leave=False)
    step, first_loss, last = 0, None, None
    for epoch, steps_per_epoch in enumerate(plan):
        order = first[torch.randperm(len(first), generator=gen)] if epoch < n_first else torch.randperm(n, generator=gen)
        for b in range(steps_per_epoch):
            idx = order[b * cfg.vision_batch:(b + 1) * cfg.vision_batch]
            for group in opt.param_groups:
                group["lr"] = cosine_lr(step, total, cfg.vision_lr, warmup=max(1, total // 20), floor=0.02)
            patches, out = encode(vision, qformer, query_tokens, pixels[idx])
            batch_t = {a: t[idx] for a, t in targets.items()}
            quads = quadrant_pool(patches)
            loss_q = per_query_loss(q_heads, out, batch_t, space)
            loss_id = query_id_loss(qid_head, out)
            loss_v = attribute_loss(v_heads(quads.flatten(1), quads), batch_t, space)
            loss = loss_q + 0.5 * loss_v + loss_id
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.vision_clip)
            opt.step()
            value = loss_q.item()
            first_loss = value if first_loss is None else first_loss
            last = value
            if step % 20 == 0 or step == total - 1:
                log.log("vision", step, value, aux=round(loss_v.item(), 5))
                bar.set_postfix(loss=f"{value:.3f}")
            step += 1
            bar.update(1)
    bar.close()
    vision.eval(); qformer.eval()
    for p in [*vision.parameters(), *qformer.parameters(), query_tokens]:
        p.requires_grad_(False)
    info = {"images": n, "steps": total, "first_loss": first_loss, "last_loss": last, "scene_only_epochs": n_first,
            "params": sum(p.numel() for p in [*vision.parameters(), *qformer.parameters()]) + query_tokens.numel(),
            "attributes": {a: len(c) for a, c in space.classes.items()}}
    return vision, qformer, query_tokens, space, info


@torch.no_grad()
def encode_all(vision, qformer, query_tokens, pixels: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """Frozen Q-Former outputs (N, n_query, hidden) for a stack of preprocessed images (the feature cache)."""
    outs = []
    for i in range(0, pixels.shape[0], batch):
        outs.append(encode(vision, qformer, query_tokens, pixels[i:i + batch])[1])
    return torch.cat(outs) if outs else torch.empty(0)

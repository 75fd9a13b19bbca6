"""Stage 1 and stage 2 of MiniGPT-4 on the tiny model: only ``llama_proj`` trains; everything else is frozen.

Both stages read cached frozen Q-Former outputs (``encode_features`` of each image, computed once), so a
step costs one pass through the small LLM. The loss is ``MiniGPT4.answer_loss``: cross-entropy on the answer
and end symbol only.

- Stage 1 (``train_configs/minigpt4_stage1_pretrain.yaml``): ``[BOS][image tokens][caption + end_sym]``, no
  template. MiniGPT-4's stage-1 config leaves ``end_sym`` at the code default ``"\\n"``, so stage 1 uses
  ``"\\n"`` here too; the chat template's ``###`` is only learnt in stage 2 (that is part of why stage-1 output
  runs on in chat).
- Stage 2 (``minigpt4_stage2_finetune.yaml``): ``###Human: <Img><ImageHere></Img> {q} ###Assistant: {answer}###``
  with ``q`` drawn from a handful of "describe this image in detail" requests (``prompts/alignment.txt``).
"""

from __future__ import annotations

from dataclasses import replace

import torch
from tqdm.auto import tqdm

from workbench.tiny.build.common import LossLog, adamw, cosine_lr, seed_everything

STAGE1_PROMPT = "<ImageHere>"
STAGE1_END_SYM = "\n"
# Four phrasings, as prompts/alignment.txt has four; the eval prompt "Describe this image in detail." is one.
STAGE2_QUESTIONS = (
    "Describe this image in detail.",
    "Take a look at this image and describe what you notice.",
    "Please provide a detailed description of the picture.",
    "Could you describe the contents of this image for me?",
)


def trainable_names(model) -> list[str]:
    return sorted(n for n, p in model.named_parameters() if p.requires_grad)


def train_projection(model, features: torch.Tensor, prompts: list[str], answers: list[str], *, phase: str,
                     epochs: int, batch: int, lr: float, max_txt_len: int, log: LossLog, seed: int,
                     end_sym: str | None = None, warmup_frac: float = 0.05) -> dict:
    """Train ``model.llama_proj`` on (features[i], prompts[i], answers[i]); returns info incl. the optimizer."""
    names = trainable_names(model)
    if names != ["llama_proj.bias", "llama_proj.weight"]:
        raise RuntimeError(f"only llama_proj may train in {phase}, found trainable: {names}")
    seed_everything(seed)
    template = model.template
    if end_sym is not None:
        model.template = replace(template, end_sym=end_sym)
    opt = adamw(model.llama_proj.parameters(), lr)
    gen = torch.Generator().manual_seed(seed)
    n = features.shape[0]
    steps_per_epoch = max(1, -(-n // batch))
    total = steps_per_epoch * epochs
    model.llm.eval()
    model.llama_proj.train()
    step, first, last, window = 0, None, None, []
    bar = tqdm(total=total, desc=phase, leave=False)
    try:
        for _epoch in range(epochs):
            order = torch.randperm(n, generator=gen).tolist()
            for b in range(steps_per_epoch):
                idx = order[b * batch:(b + 1) * batch]
                for group in opt.param_groups:
                    group["lr"] = cosine_lr(step, total, lr, warmup=max(1, int(total * warmup_frac)), floor=0.3)
                loss = model.answer_loss(features[idx], [prompts[i] for i in idx], [answers[i] for i in idx],
                                         max_txt_len=max_txt_len)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.llama_proj.parameters(), 1.0)
                opt.step()
                value = loss.item()
                first = value if first is None else first
                window = (window + [value])[-20:]
                last = sum(window) / len(window)
                if step % 10 == 0 or step == total - 1:
                    log.log(phase, step, value)
                    bar.set_postfix(loss=f"{value:.3f}")
                step += 1
                bar.update(1)
    finally:
        bar.close()
        model.template = template
        model.llama_proj.eval()
    return {"pairs": n, "steps": total, "epochs": epochs, "batch": batch, "lr": lr, "first_loss": first,
            "last_loss_avg20": last, "optimizer": opt.state_dict()}


def init_projection(model, std: float, seed: int) -> None:
    """Stage 1 trains ``llama_proj`` from scratch. A default ``nn.Linear`` init maps LayerNormed Q-Former outputs
    to vectors ~15x longer than the tiny LLM's token embeddings, and the frozen LLM then barely reads them (in a
    trial the caption loss with shuffled images was within 1% of the true one); a small init starts the image
    tokens at the scale of word embeddings."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.llama_proj.weight.copy_(torch.randn(model.llama_proj.weight.shape, generator=gen) * std)
        model.llama_proj.bias.zero_()


def stage1(model, features, captions: list[str], cfg, log: LossLog, seed: int) -> dict:
    init_projection(model, cfg.proj_init_std, seed)
    prompts = [STAGE1_PROMPT] * len(captions)
    return train_projection(model, features, prompts, captions, phase="stage1", epochs=cfg.stage1_epochs,
                            batch=cfg.stage1_batch, lr=cfg.stage1_lr, max_txt_len=cfg.stage1_max_txt_len, log=log,
                            seed=seed, end_sym=STAGE1_END_SYM)


def stage2(model, features, descriptions: list[str], cfg, log: LossLog, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed + 1)
    picks = torch.randint(len(STAGE2_QUESTIONS), (len(descriptions),), generator=gen).tolist()
    prompts = [model.template.train_prompt(STAGE2_QUESTIONS[k]) for k in picks]
    return train_projection(model, features, prompts, descriptions, phase="stage2", epochs=cfg.stage2_epochs,
                            batch=cfg.stage2_batch, lr=cfg.stage2_lr, max_txt_len=cfg.stage2_max_txt_len, log=log,
                            seed=seed)

"""MiniGPT-4 in one readable module: vision encoder -> Q-Former -> llama_proj -> splice into the LLM prompt.

Reads like the paper's figure 1. Everything but ``llama_proj`` is frozen:

    pixel_values ─► Blip2VisionModel (EVA ViT-g; its post_layernorm is MiniGPT-4's ``ln_vision``)
                 ─► connector "qformer":  Blip2QFormerModel(query_tokens, cross-attn to patches) -> (B, 32, 768)
                    connector "concat4":  patch tokens without CLS, 4 neighbours concatenated -> (B, 64, 5632)
                 ─► llama_proj: nn.Linear(proj_in, llm_hidden)              (the only trained weights)
                 ─► spliced at <ImageHere> inside "<Img><ImageHere></Img>" of the prompt
                 ─► any AutoModelForCausalLM

``encode_features`` is everything before the projection; it depends only on the frozen weights, which is why
the vision-feature cache can share it between stage-1 and stage-2 checkpoints.
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn

from workbench.errors import WorkbenchError
from workbench.model.templates import IMAGE_PLACEHOLDER, Template

CONNECTORS = ("qformer", "concat4")


class MiniGPT4(nn.Module):
    def __init__(
        self,
        vision_model: nn.Module,
        qformer: nn.Module | None,
        query_tokens: torch.Tensor | None,
        llm: nn.Module,
        tokenizer,
        template: Template,
        connector: str = "qformer",
        image_size: int | None = None,
    ):
        super().__init__()
        if connector not in CONNECTORS:
            raise WorkbenchError(f"unknown connector {connector!r}; known connectors: {', '.join(CONNECTORS)}")
        if connector == "qformer" and (qformer is None or query_tokens is None):
            raise WorkbenchError("connector 'qformer' needs a Q-Former and query tokens (the BLIP-2 snapshot has none)")
        self.connector = connector
        self.template = template
        self.tokenizer = tokenizer
        self.image_size = image_size or vision_model.config.image_size
        self.vision_model = vision_model
        self.qformer = qformer if connector == "qformer" else None
        self.query_tokens = (
            nn.Parameter(query_tokens.detach().clone(), requires_grad=False) if self.qformer is not None else None
        )
        if connector == "concat4":
            # MiniGPT-4's Llama-2 variant never loads BLIP-2 weights into ln_vision: it stays at its default init
            # (weight 1, bias 0). Match that, or the official concat4 projection sees differently scaled features.
            nn.init.ones_(vision_model.post_layernorm.weight)
            nn.init.zeros_(vision_model.post_layernorm.bias)
        self.llm = llm
        self.llama_proj = nn.Linear(self.projection_in_features, self.llm_hidden_size)
        for name, param in self.named_parameters():
            param.requires_grad = name.startswith("llama_proj.")
        self._segment_ids: dict[str, list[int]] = {}
        self._fingerprint: str | None = None

    # ---- shapes -------------------------------------------------------------------------------------------
    @property
    def projection_in_features(self) -> int:
        if self.connector == "qformer":
            return self.qformer.config.hidden_size
        return 4 * self.vision_model.config.hidden_size

    @property
    def llm_hidden_size(self) -> int:
        return self.llm.get_input_embeddings().embedding_dim

    @property
    def num_image_tokens(self) -> int:
        if self.connector == "qformer":
            return self.query_tokens.shape[1]
        vc = self.vision_model.config
        return (vc.image_size // vc.patch_size) ** 2 // 4

    # ---- image side ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode_features(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Frozen part: pixels (B, 3, S, S) -> projection inputs (B, n_image_tokens, projection_in_features)."""
        vision_dtype = next(self.vision_model.parameters()).dtype
        pixel_values = pixel_values.to(device=self.llama_proj.weight.device, dtype=vision_dtype)
        patches = self.vision_model(pixel_values=pixel_values).last_hidden_state  # ln_vision already applied
        if self.connector == "qformer":
            mask = torch.ones(patches.shape[:-1], dtype=torch.long, device=patches.device)
            queries = self.query_tokens.expand(patches.shape[0], -1, -1).to(patches.dtype)
            return self.qformer(
                query_embeds=queries, encoder_hidden_states=patches, encoder_attention_mask=mask
            ).last_hidden_state
        patches = patches[:, 1:, :]  # drop CLS
        batch, n_patches, width = patches.shape
        if n_patches % 4:
            raise WorkbenchError(f"concat4 needs a patch count divisible by 4, the vision encoder gives {n_patches}")
        return patches.reshape(batch, n_patches // 4, 4 * width)

    def project(self, features: torch.Tensor) -> torch.Tensor:
        """Projection inputs -> LLM input embeddings (B, n_image_tokens, llm_hidden)."""
        embeds = self.llama_proj(features.to(device=self.llama_proj.weight.device, dtype=self.llama_proj.weight.dtype))
        return embeds.to(self.llm.get_input_embeddings().weight.dtype)

    # ---- text side ----------------------------------------------------------------------------------------
    def segment_ids(self, text: str, first: bool) -> list[int]:
        """Token ids of one prompt segment; only the first segment gets BOS (``get_context_emb``), unless the
        template renders its own (``template.add_bos`` False: the LLM's chat template)."""
        first = first and getattr(self.template, "add_bos", True)
        key = ("B" if first else "-") + text
        if key not in self._segment_ids:
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
            bos = self.tokenizer.bos_token_id
            self._segment_ids[key] = ([bos] if first and bos is not None else []) + list(ids)
        return self._segment_ids[key]

    def embed_ids(self, ids: list[int]) -> torch.Tensor:
        table = self.llm.get_input_embeddings()
        return table(torch.tensor(ids, dtype=torch.long, device=table.weight.device))

    def embed_context(self, prompt: str, image_embeds: torch.Tensor) -> torch.Tensor:
        """Split ``prompt`` on ``<ImageHere>`` and splice ``image_embeds`` (n_image_tokens, H) there -> (L, H)."""
        segments = prompt.split(IMAGE_PLACEHOLDER)
        if len(segments) != 2:
            raise WorkbenchError(
                f"a prompt must contain {IMAGE_PLACEHOLDER} exactly once, found {len(segments) - 1}: {prompt[:80]!r}"
            )
        before = self.embed_ids(self.segment_ids(segments[0], first=True))
        after = self.embed_ids(self.segment_ids(segments[1], first=False))
        return torch.cat([before, image_embeds.to(before.dtype), after], dim=0)

    # ---- training -----------------------------------------------------------------------------------------
    def answer_loss(
        self, features: torch.Tensor, prompts: list[str], answers: list[str], max_txt_len: int = 160
    ) -> torch.Tensor:
        """Cross-entropy on ``answer + end_sym`` tokens only, for ``[BOS] prompt(with image) answer end_sym``.

        Stage 1 passes the bare prompt ``"<ImageHere>"`` (no template); stage 2 passes ``template.train_prompt(q)``.
        """
        image_embeds = self.project(features)
        rows, labels = [], []
        for prompt, answer, image in zip(prompts, answers, image_embeds):
            context = self.embed_context(prompt, image)
            answer_ids = self.tokenizer(answer + self.template.end_sym, add_special_tokens=False)["input_ids"]
            answer_ids = answer_ids[:max_txt_len]
            rows.append(torch.cat([context, self.embed_ids(answer_ids)], dim=0))
            labels.append([-100] * context.shape[0] + answer_ids)
        length = max(row.shape[0] for row in rows)
        hidden = rows[0].shape[1]
        embeds = rows[0].new_zeros(len(rows), length, hidden)
        mask = torch.zeros(len(rows), length, dtype=torch.long, device=embeds.device)
        target = torch.full((len(rows), length), -100, dtype=torch.long, device=embeds.device)
        for i, (row, lab) in enumerate(zip(rows, labels)):  # right padding, as MiniGPT-4 trains
            embeds[i, : row.shape[0]] = row
            mask[i, : row.shape[0]] = 1
            target[i, : row.shape[0]] = torch.tensor(lab, dtype=torch.long)
        return self.llm(inputs_embeds=embeds, attention_mask=mask, labels=target).loss

    # ---- identity -----------------------------------------------------------------------------------------
    def projection_state(self) -> dict[str, torch.Tensor]:
        """The trainable weights, keyed as MiniGPT-4 saves them (``llama_proj.weight``, ``llama_proj.bias``)."""
        return {f"llama_proj.{k}": v.detach().cpu().clone() for k, v in self.llama_proj.state_dict().items()}

    def frozen_fingerprint(self) -> str:
        """sha256 over the frozen image-side weights and the connector: the vision-feature cache key."""
        if self._fingerprint is None:
            digest = hashlib.sha256(self.connector.encode())
            frozen = {"vision_model": self.vision_model, "qformer": self.qformer}
            for prefix, module in frozen.items():
                if module is None:
                    continue
                for name, tensor in sorted(module.state_dict().items()):
                    digest.update(f"{prefix}.{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
                    digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
            if self.query_tokens is not None:
                digest.update(self.query_tokens.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

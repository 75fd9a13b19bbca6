"""MiniGPT-4's own image-side files (LAVIS layout: eva_vit_g.pth, blip2_pretrained_flant5xxl.pth) in a model card.

A small EVA-shaped ViT (head width 88, as EVA-g) and BERT-shaped Q-Former (head width 64) with random weights are
written twice: as a Hugging Face BLIP-2 snapshot (our writer) and as LAVIS files, key names taken from
``lavis/models/eva_vit.py`` and ``lavis/models/blip2_models/Qformer.py`` (an extra 40th-style block, BLIP-2's text
parts and heads included, the ViT in fp16 as LAVIS ships it). The two cards must give identical features, and
the mapped ViT must match EVA's forward pass written out below from ``eva_vit.py`` on the raw LAVIS tensors.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from transformers import Blip2QFormerConfig, Blip2QFormerModel, Blip2VisionConfig, Blip2VisionModel

from workbench.errors import WorkbenchError
from workbench.model.loading import load_model, models_dir, save_blip2_snapshot, save_projection

WIDTH, HEADS, PATCH, SIZE, DEPTH = 176, 2, 14, 28, 2     # EVA head width 88
Q_HIDDEN, Q_HEADS, Q_LAYERS = 128, 2, 2                 # BERT head width 64


def build_parts(seed=0):
    torch.manual_seed(seed)
    vision = Blip2VisionModel(Blip2VisionConfig(
        hidden_size=WIDTH, intermediate_size=96, num_hidden_layers=DEPTH, num_attention_heads=HEADS,
        image_size=SIZE, patch_size=PATCH, qkv_bias=True, layer_norm_eps=1e-6)).eval()
    qformer = Blip2QFormerModel(Blip2QFormerConfig(
        hidden_size=Q_HIDDEN, intermediate_size=80, num_hidden_layers=Q_LAYERS, num_attention_heads=Q_HEADS,
        cross_attention_frequency=2, encoder_hidden_size=WIDTH)).eval()
    with torch.no_grad():
        for module in (vision, qformer):
            for name, p in module.named_parameters():
                p.copy_(torch.randn_like(p) * (0.3 if p.dim() > 1 else 0.1) + (1.0 if "norm" in name.lower()
                                                                                 and name.endswith("weight") else 0))
                p.copy_(p.half().float())  # the values an fp16 file can hold
            for layer in vision.encoder.layers:  # EVA has no key bias: HF's qkv bias is cat(q, 0, v)
                layer.self_attn.qkv.bias[WIDTH:2 * WIDTH] = 0
    query_tokens = (torch.randn(1, 4, Q_HIDDEN) * 0.5).half().float()
    return vision, qformer, query_tokens


def lavis_files(vision, qformer, query_tokens, folder):
    """The same weights as LAVIS stores them; plus one extra ViT block and BLIP-2's text parts and heads."""
    sd = {k: v.clone() for k, v in vision.state_dict().items()}
    eva = {"cls_token": sd["embeddings.class_embedding"], "pos_embed": sd["embeddings.position_embedding"],
           "patch_embed.proj.weight": sd["embeddings.patch_embedding.weight"],
           "patch_embed.proj.bias": sd["embeddings.patch_embedding.bias"]}
    for i in range(DEPTH + 1):  # block DEPTH is the "40th": in the file, never built
        j = min(i, DEPTH - 1)
        src = f"encoder.layers.{j}."
        bias = sd[src + "self_attn.qkv.bias"]
        extra = 1.5 if i == DEPTH else 1.0
        eva.update({
            f"blocks.{i}.norm1.weight": sd[src + "layer_norm1.weight"], f"blocks.{i}.norm1.bias": sd[src + "layer_norm1.bias"],
            f"blocks.{i}.attn.qkv.weight": sd[src + "self_attn.qkv.weight"] * extra,
            f"blocks.{i}.attn.q_bias": bias[:WIDTH], f"blocks.{i}.attn.v_bias": bias[2 * WIDTH:],
            f"blocks.{i}.attn.proj.weight": sd[src + "self_attn.projection.weight"],
            f"blocks.{i}.attn.proj.bias": sd[src + "self_attn.projection.bias"],
            f"blocks.{i}.norm2.weight": sd[src + "layer_norm2.weight"], f"blocks.{i}.norm2.bias": sd[src + "layer_norm2.bias"],
            f"blocks.{i}.mlp.fc1.weight": sd[src + "mlp.fc1.weight"], f"blocks.{i}.mlp.fc1.bias": sd[src + "mlp.fc1.bias"],
            f"blocks.{i}.mlp.fc2.weight": sd[src + "mlp.fc2.weight"], f"blocks.{i}.mlp.fc2.bias": sd[src + "mlp.fc2.bias"],
        })
    torch.save({k: v.half() for k, v in eva.items()}, folder / "eva_vit_g.pth")
    model = {"query_tokens": query_tokens, "ln_vision.weight": sd["post_layernorm.weight"],
             "ln_vision.bias": sd["post_layernorm.bias"],
             "Qformer.bert.embeddings.word_embeddings.weight": torch.randn(30, Q_HIDDEN),
             "Qformer.bert.embeddings.position_embeddings.weight": torch.randn(16, Q_HIDDEN),
             "Qformer.cls.predictions.bias": torch.randn(30), "vision_proj.weight": torch.randn(8, Q_HIDDEN),
             "t5_proj.weight": torch.randn(8, Q_HIDDEN), "itm_head.weight": torch.randn(2, Q_HIDDEN)}
    renames = {"attention.attention.": "attention.self.", "crossattention.attention.": "crossattention.self."}
    for key, tensor in qformer.state_dict().items():
        if key.startswith("layernorm."):
            model["Qformer.bert.embeddings.LayerNorm." + key.split(".", 1)[1]] = tensor
            continue
        layer, rest = key.split(".")[2], key.split(".", 3)[3]
        for old, new in renames.items():
            if rest.startswith(old):
                rest = new + rest[len(old):]
        model[f"Qformer.bert.encoder.layer.{layer}.{rest}"] = tensor
    for i in range(Q_LAYERS):  # BERT's text FFN: in the file, deleted by MiniGPT-4
        model[f"Qformer.bert.encoder.layer.{i}.intermediate.dense.weight"] = torch.randn(80, Q_HIDDEN)
        model[f"Qformer.bert.encoder.layer.{i}.output.dense.weight"] = torch.randn(Q_HIDDEN, 80)
    torch.save({"model": model, "config": {}}, folder / "blip2_pretrained_flant5xxl.pth")
    return eva


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("lavis")
    vision, qformer, query_tokens = build_parts()
    save_blip2_snapshot(root / "hf", vision, qformer, query_tokens)
    eva = lavis_files(vision, qformer, query_tokens, root)
    gen = torch.Generator().manual_seed(1)
    save_projection(root / "proj.pth", {"llama_proj.weight": torch.randn(192, Q_HIDDEN, generator=gen),
                                        "llama_proj.bias": torch.zeros(192)})
    base = {"llm": str(models_dir() / "tiny" / "llm"), "projection": str(root / "proj.pth"),
            "template": "vicuna0", "connector": "qformer"}
    return {"root": root, "eva": eva, "ln": (vision.post_layernorm.weight.detach(), vision.post_layernorm.bias.detach()),
            "hf_card": {**base, "blip2": str(root / "hf")},
            "lavis_card": {**base, "vision": str(root / "eva_vit_g.pth"),
                           "qformer": str(root / "blip2_pretrained_flant5xxl.pth")}}


def pixels(n=2):
    return torch.randn(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(3))


def test_lavis_files_and_hf_snapshot_give_identical_features(files):
    hf = load_model(files["hf_card"], device="cpu")
    lavis = load_model(files["lavis_card"], device="cpu")
    assert lavis.vision_model.config.num_hidden_layers == DEPTH  # the file's last block is not built
    assert torch.equal(hf.encode_features(pixels()), lavis.encode_features(pixels()))
    concat = {**files["lavis_card"], "connector": "concat4", "qformer": None}
    concat["projection"] = str(files["root"] / "proj4.pth")
    save_projection(concat["projection"], {"llama_proj.weight": torch.zeros(192, 4 * WIDTH),
                                           "llama_proj.bias": torch.zeros(192)})
    assert load_model(concat, device="cpu").encode_features(pixels()).shape == (2, (SIZE // PATCH) ** 2 // 4, 4 * WIDTH)


def eva_reference(eva: dict, x: torch.Tensor, depth: int) -> torch.Tensor:
    """EVA's forward_features (lavis/models/eva_vit.py), on the raw LAVIS tensors, first ``depth`` blocks."""
    t = {k: v.float() for k, v in eva.items()}
    x = F.conv2d(x, t["patch_embed.proj.weight"], t["patch_embed.proj.bias"], stride=PATCH).flatten(2).transpose(1, 2)
    x = torch.cat([t["cls_token"].expand(x.shape[0], -1, -1), x], dim=1) + t["pos_embed"]
    for i in range(depth):
        b = lambda name: t[f"blocks.{i}.{name}"]  # noqa: E731
        h = F.layer_norm(x, (WIDTH,), b("norm1.weight"), b("norm1.bias"), eps=1e-6)
        bias = torch.cat([b("attn.q_bias"), torch.zeros_like(b("attn.v_bias")), b("attn.v_bias")])
        qkv = F.linear(h, b("attn.qkv.weight"), bias).reshape(x.shape[0], x.shape[1], 3, HEADS, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * (WIDTH // HEADS) ** -0.5, qkv[1], qkv[2]
        a = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        x = x + F.linear((a @ v).transpose(1, 2).reshape(x.shape), b("attn.proj.weight"), b("attn.proj.bias"))
        h = F.layer_norm(x, (WIDTH,), b("norm2.weight"), b("norm2.bias"), eps=1e-6)
        x = x + F.linear(F.gelu(F.linear(h, b("mlp.fc1.weight"), b("mlp.fc1.bias"))), b("mlp.fc2.weight"), b("mlp.fc2.bias"))
    return x


def test_mapped_vit_matches_evas_own_forward(files):
    model = load_model(files["lavis_card"], device="cpu")
    got = model.vision_model(pixel_values=pixels()).last_hidden_state
    weight, bias = files["ln"]
    expected = F.layer_norm(eva_reference(files["eva"], pixels(), DEPTH), (WIDTH,), weight, bias, eps=1e-6)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


def test_files_that_do_not_fit_are_named(files, tmp_path):
    eva = {k: v.clone() for k, v in files["eva"].items()}
    del eva["blocks.0.attn.q_bias"]
    torch.save(eva, tmp_path / "eva.pth")
    with pytest.raises(WorkbenchError, match=r"eva\.pth: no blocks\.0\.attn\.q_bias in this file"):
        load_model({**files["lavis_card"], "vision": str(tmp_path / "eva.pth")}, device="cpu")
    eva = {k: v.clone() for k, v in files["eva"].items()}
    eva["blocks.1.mlp.fc2.weight"] = torch.zeros(WIDTH, 7)
    torch.save(eva, tmp_path / "eva2.pth")
    with pytest.raises(WorkbenchError, match=r"eva2\.pth: encoder\.layers\.1\.mlp\.fc2\.weight .*shape \(176, 96\).*\(176, 7\)"):
        load_model({**files["lavis_card"], "vision": str(tmp_path / "eva2.pth")}, device="cpu")
    with pytest.raises(WorkbenchError, match=r"proj\.pth: no cls_token in this file; expected LAVIS's eva_vit_g\.pth"):
        load_model({**files["lavis_card"], "vision": files["hf_card"]["projection"]}, device="cpu")
    q = torch.load(files["lavis_card"]["qformer"], weights_only=True)
    q["model"]["Qformer.bert.encoder.layer.0.crossattention.self.key.weight"] = torch.zeros(Q_HIDDEN, 100)
    torch.save(q, tmp_path / "qf.pth")
    with pytest.raises(WorkbenchError, match=r"qf\.pth: Qformer\.bert\.encoder\.layer\.0\.crossattention\.self\.key\.weight "
                                             r"has shape \(128, 100\): the Q-Former reads 100-wide patches but the "
                                             r"vision file gives 176"):
        load_model({**files["lavis_card"], "qformer": str(tmp_path / "qf.pth")}, device="cpu")
    with pytest.raises(WorkbenchError, match="either blip2 .* or vision/qformer"):
        load_model({**files["lavis_card"], "blip2": files["hf_card"]["blip2"]}, device="cpu")

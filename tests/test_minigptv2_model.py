"""MiniGPT-v2 through a model card: LAVIS's eva_vit_g.pth at 2x its size (interpolated position embeddings),
concat-4 of 1024 patch tokens -> 256, llama_proj, and minigptv2_checkpoint.pth's LoRA merged into the LLM.

Everything is tiny and random but in the real layouts: EVA keys as ``lavis/models/eva_vit.py`` names them (head
width 88 as EVA-g, one extra block as the 40th, fp16 as LAVIS ships it) with a 16x16 patch grid that MiniGPT-v2's
2x image size turns into 32x32, as 224 -> 448 px does for EVA-g; the checkpoint as MiniGPT-v2's trainer writes it
(``{"model": {llama_proj.*, llama_model.base_model.model.model.layers.N.self_attn.{q,v}_proj.lora_{A,B}.weight},
"optimizer", "config", "scaler", "epoch"}``, peft 0.2's key names, r 64). The expectations are computed apart:
transformers' own ``interpolate_pos_encoding`` (bicubic, class token kept) on the un-resized ViT, MiniGPT-v2's
``view(bs, pn / 4, hs * 4)``, and the LoRA forward ``W x + (alpha / r) B A x`` (Hu et al. 2021) added by hooks.
"""

from __future__ import annotations

import json

import pytest
import torch
from transformers import Blip2VisionConfig, Blip2VisionModel, LlamaConfig, LlamaForCausalLM

from generation_support import make_eval_set
from random_model import word_tokenizer
from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.generation.grounding import parse_boxes
from workbench.model.loading import load_model, read_card
from workbench.runs import RunRecord

WIDTH, HEADS, PATCH, FILE_SIZE, SIZE, DEPTH = 176, 2, 2, 32, 64, 2   # 16x16 grid in the file, 32x32 at SIZE
HIDDEN, LAYERS, KV_HEADS, R, ALPHA = 64, 2, 2, 64, 16                 # v_proj is 32x64 (grouped-query attention)
LORA = "llama_model.base_model.model.model.layers.{}.self_attn.{}_proj.lora_{}.weight"


def build_vit(seed=0):
    torch.manual_seed(seed)
    vision = Blip2VisionModel(Blip2VisionConfig(
        hidden_size=WIDTH, intermediate_size=96, num_hidden_layers=DEPTH, num_attention_heads=HEADS,
        image_size=FILE_SIZE, patch_size=PATCH, qkv_bias=True, layer_norm_eps=1e-6)).eval()
    with torch.no_grad():
        for name, p in vision.named_parameters():
            p.copy_((torch.randn_like(p) * 0.3 + (1.0 if "norm" in name and name.endswith("weight") else 0)).half())
        for layer in vision.encoder.layers:  # EVA has no key bias
            layer.self_attn.qkv.bias[WIDTH:2 * WIDTH] = 0
        vision.post_layernorm.weight.fill_(1.0)  # MiniGPT-v2's ln_vision is never loaded: weight 1, bias 0
        vision.post_layernorm.bias.zero_()
    return vision


def eva_file(vision, path):
    """``vision``'s weights under LAVIS's eva_vit.py names, plus an extra last block (never built)."""
    sd = vision.state_dict()
    eva = {"cls_token": sd["embeddings.class_embedding"], "pos_embed": sd["embeddings.position_embedding"],
           "patch_embed.proj.weight": sd["embeddings.patch_embedding.weight"],
           "patch_embed.proj.bias": sd["embeddings.patch_embedding.bias"]}
    names = {"norm1": "layer_norm1", "norm2": "layer_norm2", "attn.proj": "self_attn.projection",
             "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2"}
    for i in range(DEPTH + 1):
        src = f"encoder.layers.{min(i, DEPTH - 1)}."
        for old, new in names.items():
            for part in ("weight", "bias"):
                eva[f"blocks.{i}.{old}.{part}"] = sd[f"{src}{new}.{part}"]
        eva[f"blocks.{i}.attn.qkv.weight"] = sd[src + "self_attn.qkv.weight"]
        eva[f"blocks.{i}.attn.q_bias"] = sd[src + "self_attn.qkv.bias"][:WIDTH]
        eva[f"blocks.{i}.attn.v_bias"] = sd[src + "self_attn.qkv.bias"][2 * WIDTH:]
    torch.save({k: v.half() for k, v in eva.items()}, path)


def checkpoint_state(seed=1, lora_layers=LAYERS):
    gen = torch.Generator().manual_seed(seed)
    state = {"llama_proj.weight": torch.randn(HIDDEN, 4 * WIDTH, generator=gen) * 0.05,
             "llama_proj.bias": torch.randn(HIDDEN, generator=gen) * 0.05}
    head_dim = HIDDEN // 4
    for layer in range(lora_layers):
        for proj, out in (("q", HIDDEN), ("v", KV_HEADS * head_dim)):
            state[LORA.format(layer, proj, "A")] = (torch.randn(R, HIDDEN, generator=gen) * 0.2).half()
            state[LORA.format(layer, proj, "B")] = (torch.randn(out, R, generator=gen) * 0.2).half()
    return state


def save_checkpoint(state, path):
    torch.save({"model": state, "optimizer": None, "config": {"arch": "minigpt_v2"}, "scaler": None, "epoch": 4}, path)


@pytest.fixture(scope="module")
def v2(tmp_path_factory):
    root = tmp_path_factory.mktemp("minigptv2")
    vision = build_vit()
    eva_file(vision, root / "eva_vit_g.pth")
    tokenizer = word_tokenizer(["[INST] [/INST] <Img> <ImageHere> </Img> [vqa] [grounding] [refer] where is the dog ?",
                                "<p> a dog </p> { <12> <30> <45> <88> } the quick brown fox"])
    torch.manual_seed(2)
    llm = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=HIDDEN, intermediate_size=96, num_hidden_layers=LAYERS,
        num_attention_heads=4, num_key_value_heads=KV_HEADS, max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id))
    llm.save_pretrained(root / "llama-2-chat")
    tokenizer.save_pretrained(root / "llama-2-chat")
    state = checkpoint_state()
    save_checkpoint(state, root / "minigptv2_checkpoint.pth")
    (root / "minigpt-v2.yaml").write_text(
        "name: minigpt-v2\narch: minigpt_v2\nvision: eva_vit_g.pth\nllm: llama-2-chat\n"
        f"projection: minigptv2_checkpoint.pth\nimage_size: {SIZE}\n")
    return {"root": root, "vision": vision, "state": state, "card": root / "minigpt-v2.yaml"}


def pixels(n=2, size=SIZE):
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(3))


def test_card_defaults_are_minigptv2s(v2):
    card = read_card(v2["card"])
    assert (card["arch"], card["template"], card["connector"], card["lora_alpha"]) == (
        "minigpt_v2", "minigptv2", "concat4", 16)
    assert card["image_size"] == SIZE and card["blip2"] is None and card["qformer"] is None
    bare = {k: card[k] for k in ("arch", "vision", "llm", "projection")}
    assert read_card(bare)["image_size"] == 448  # MiniGPT-v2's size when the card gives none


def test_vit_at_twice_its_size_and_concat4_match_transformers_interpolation(v2):
    model = load_model(v2["card"], device="cpu")
    assert model.image_size == SIZE and model.num_image_tokens == 256 and model.projection_in_features == 4 * WIDTH
    pos = model.vision_model.embeddings.position_embedding
    assert pos.shape == (1, 1 + 32 * 32, WIDTH)  # 16x16 grid -> 32x32, class token kept
    torch.testing.assert_close(pos[:, 0], v2["vision"].embeddings.position_embedding[:, 0], rtol=0, atol=0)
    with torch.no_grad():
        reference = v2["vision"](pixel_values=pixels(), interpolate_pos_encoding=True).last_hidden_state
    batch, tokens, width = reference[:, 1:].shape
    expected = reference[:, 1:].reshape(batch, tokens // 4, width * 4)  # minigpt_v2.py: view(bs, pn / 4, hs * 4)
    got = model.encode_features(pixels())
    assert got.shape == (2, 256, 4 * WIDTH)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(model.llama_proj.weight, v2["state"]["llama_proj.weight"], rtol=0, atol=0)


def lora_forward(llm, state, ids):
    """The unmerged LoRA, as peft runs it at inference: q/v outputs plus (alpha / r) * B (A x)."""
    hooks = []
    for layer in range(LAYERS):
        for proj in ("q", "v"):
            a, b = state[LORA.format(layer, proj, "A")].float(), state[LORA.format(layer, proj, "B")].float()
            module = getattr(llm.model.layers[layer].self_attn, f"{proj}_proj")
            hooks.append(module.register_forward_hook(
                lambda mod, inp, out, a=a, b=b: out + (ALPHA / R) * (inp[0] @ a.T @ b.T)))
    try:
        with torch.no_grad():
            return llm(ids).logits
    finally:
        for hook in hooks:
            hook.remove()


def test_merged_lora_equals_the_unmerged_forward(v2):
    model = load_model(v2["card"], device="cpu")
    plain = LlamaForCausalLM.from_pretrained(v2["root"] / "llama-2-chat").eval()
    ids = torch.tensor([[1, 5, 9, 2, 7, 11, 4]])
    with torch.no_grad():
        base, merged = plain(ids).logits, model.llm(ids).logits
    expected = lora_forward(plain, v2["state"], ids)
    assert (expected - base).abs().max() > 1e-2  # the LoRA changes the outputs
    torch.testing.assert_close(merged, expected, rtol=1e-5, atol=1e-5)
    assert model.card["arch"] == "minigpt_v2" and model.card["lora_alpha"] == ALPHA


def test_generate_with_a_task_word_records_it_and_the_boxes(v2, tmp_path, monkeypatch, capsys):
    from workbench.model.minigpt4 import MiniGPT4

    prompts = []
    original = MiniGPT4.embed_context
    monkeypatch.setattr(MiniGPT4, "embed_context",
                        lambda self, prompt, image: prompts.append(prompt) or original(self, prompt, image))
    eval_root = make_eval_set(tmp_path / "set", n_items=2)
    args = ["generate", "--model", str(v2["card"]), "--eval-set", str(eval_root), "--max-new-tokens", "5",
            "--quiet", "--no-cache"]
    assert main(args + ["--out", str(tmp_path / "run"), "--task", "grounding"]) == 0
    assert prompts and all(p.startswith("<s>[INST] <Img><ImageHere></Img> [grounding] ") and p.endswith(" [/INST]")
                           for p in prompts)
    record = RunRecord.load(tmp_path / "run").to_dict()
    assert record["model"]["task"] == "grounding" and record["identity"]["model"]["task"] == "grounding"
    rows = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(row["boxes"] == parse_boxes(row["output"]) for row in rows)
    capsys.readouterr()
    assert main(args + ["--out", str(tmp_path / "run"), "--task", "vqa"]) == 1  # a resume keeps its task
    assert "task" in capsys.readouterr().err
    assert main(args + ["--out", str(tmp_path / "run2"), "--task", "vqa2"]) == 1
    assert "unknown MiniGPT-v2 task 'vqa2'; known tasks: vqa, caption" in capsys.readouterr().err


def error_of(card) -> str:
    with pytest.raises(WorkbenchError) as info:
        load_model(card, device="cpu")
    message = str(info.value)
    assert "\n" not in message
    return message


def v2_card(v2, **fields):
    card = {k: v for k, v in read_card(v2["card"]).items() if k in ("arch", "vision", "llm", "projection")}
    return {**card, "image_size": SIZE, **fields}


def test_checkpoint_keys_and_shapes_that_do_not_fit_are_named(v2, tmp_path):
    state = checkpoint_state()
    state[LORA.format(0, "v", "A")] = torch.zeros(R, 48)
    save_checkpoint(state, tmp_path / "a.pth")
    message = error_of(v2_card(v2, projection=str(tmp_path / "a.pth")))
    assert ("a.pth: llama_model.base_model.model.model.layers.0.self_attn.v_proj.lora_A/B.weight have shapes "
            "(64, 48) / (32, 64) but model.layers.0.self_attn.v_proj of the LLM in") in message
    assert "is 32x64 (needs (r, 64) / (32, r)); the LoRA was trained for another LLM" in message

    save_checkpoint(checkpoint_state(lora_layers=LAYERS + 3), tmp_path / "b.pth")
    message = error_of(v2_card(v2, projection=str(tmp_path / "b.pth")))
    assert "layers.2.self_attn.q_proj.lora_A.weight is for layer 2 but the LLM in" in message
    assert "has 2 layers" in message

    state = checkpoint_state()
    state["llama_model.base_model.model.lm_head.weight"] = torch.zeros(3, HIDDEN)
    save_checkpoint(state, tmp_path / "c.pth")
    assert "c.pth: llama_model.base_model.model.lm_head.weight has no place in MiniGPT-v2" in error_of(
        v2_card(v2, projection=str(tmp_path / "c.pth")))

    state = checkpoint_state()
    del state[LORA.format(1, "q", "B")]
    save_checkpoint(state, tmp_path / "d.pth")
    assert "layers.1.self_attn.q_proj.lora_B.weight is missing (its pair is there)" in error_of(
        v2_card(v2, projection=str(tmp_path / "d.pth")))

    state = checkpoint_state()
    state["llama_proj.weight"] = torch.zeros(HIDDEN, 768)
    save_checkpoint(state, tmp_path / "e.pth")
    message = error_of(v2_card(v2, projection=str(tmp_path / "e.pth")))
    assert ("e.pth: llama_proj.weight has shape (64, 768): it reads 768-wide tokens but 4 concatenated patch "
            "tokens of the ViT in") in message
    assert "are 704 wide (4x176); point vision at LAVIS's eva_vit_g.pth" in message

    v1 = {k: v for k, v in checkpoint_state().items() if k.startswith("llama_proj.")}
    save_checkpoint(v1, tmp_path / "f.pth")
    assert "f.pth: no LoRA weights" in error_of(v2_card(v2, projection=str(tmp_path / "f.pth")))
    assert "drop arch: minigpt_v2" in error_of(v2_card(v2, projection=str(tmp_path / "f.pth")))


def test_cards_that_do_not_fit_minigptv2_are_refused(v2):
    assert "arch minigpt_v2 has no Q-Former" in error_of(v2_card(v2, vision=None, blip2="blip2"))
    assert "set connector: concat4 or drop it" in error_of(v2_card(v2, connector="qformer"))
    assert "unknown arch 'minigpt5'; valid: minigpt4, minigpt_v2" in error_of(v2_card(v2, arch="minigpt5"))
    assert "image_size 65 is not a multiple of the 2 px patches" in error_of(v2_card(v2, image_size=65))
    assert "lora_alpha is for arch: minigpt_v2" in error_of(v2_card(v2, arch=None, lora_alpha=16))
    with pytest.raises(WorkbenchError, match=r"minigpt-v2\.yaml: MiniGPT-v2's LoRA is merged into the LLM's weights "
                                             r"at load, which int8 weights cannot take; drop --load-in-8bit"):
        load_model(v2["card"], device="cpu", load_in_8bit=True)
    message = error_of(v2_card(v2, projection=str(v2["root"] / "minigptv2_checkpoint.pth"), arch=None,
                               template="llama2", connector="concat4"))
    assert "a MiniGPT-v2 checkpoint" in message and "arch: minigpt_v2" in message


def test_task_words_are_refused_for_other_templates(tmp_path):
    from workbench.model.templates import for_task, get_template

    assert for_task(get_template("minigptv2"), "refer").chat_prompt("the left dog") == (
        "<s>[INST] <Img><ImageHere></Img> [refer] the left dog [/INST]")
    with pytest.raises(WorkbenchError, match="--task vqa: task words are MiniGPT-v2's, but tiny-stage2 uses "
                                             "template 'vicuna0'"):
        for_task(get_template("vicuna0"), "vqa", "tiny-stage2")

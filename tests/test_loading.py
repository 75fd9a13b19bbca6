"""Loading real MiniGPT-4 components from local files, through fake snapshots in the exact on-disk layouts.

The BLIP-2 snapshot is written here by hand (not by ``save_blip2_snapshot``) the way the Hub stores
``Salesforce/blip2-flan-t5-xxl``: config.json with a T5 ``text_config``, sharded safetensors with an index whose
``weight_map`` also lists ``language_model.*`` tensors. One shard holds only language-model tensors and is garbage
bytes, so reading it at all would fail.
"""

import hashlib
import json
import shutil

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import workbench.model.snapshots as snapshots
from workbench.model.loading import load_model, load_projection, read_card, save_blip2_snapshot, save_projection
from random_model import random_parts, word_tokenizer

VISION_HIDDEN, QFORMER_HIDDEN, LLM_HIDDEN, N_QUERY = 32, 24, 48, 4
IMAGE, PATCH = 32, 8  # 16 patches -> 4 concat4 tokens of width 128

# What a 4.27-era Hub config carries besides the architecture: generic generation keys the loader must accept.
LEGACY_KEYS = {"_name_or_path": "", "architectures": None, "bad_words_ids": None, "do_sample": False,
               "max_length": 20, "num_beams": 1, "torch_dtype": None, "transformers_version": "4.27.0.dev0"}


@pytest.fixture(scope="module")
def parts():
    vision, qformer, query_tokens, llm, tokenizer = random_parts(
        image_size=IMAGE, patch_size=PATCH, vision_hidden=VISION_HIDDEN, qformer_hidden=QFORMER_HIDDEN,
        num_query_tokens=N_QUERY, llm_hidden=LLM_HIDDEN, seed=3,
    )
    return {"vision": vision, "qformer": qformer, "query_tokens": query_tokens, "llm": llm, "tokenizer": tokenizer}


def write_hub_blip2(folder, parts, single_file=False):
    """A BLIP-2 snapshot as the Hub stores it: image side, projection to the LM, and the T5 itself."""
    folder.mkdir(parents=True)
    image_side = {f"vision_model.{k}": v for k, v in parts["vision"].state_dict().items()}
    image_side.update({f"qformer.{k}": v for k, v in parts["qformer"].state_dict().items()})
    image_side["query_tokens"] = parts["query_tokens"]
    language = {
        "language_projection.weight": torch.randn(16, QFORMER_HIDDEN),
        "language_model.shared.weight": torch.randn(50, 16),
        "language_model.encoder.block.0.layer.0.SelfAttention.q.weight": torch.randn(16, 16),
        "language_model.decoder.block.0.layer.0.SelfAttention.q.weight": torch.randn(16, 16),
    }
    config = {
        "model_type": "blip-2", "architectures": ["Blip2ForConditionalGeneration"], "num_query_tokens": N_QUERY,
        "vision_config": {**LEGACY_KEYS, **parts["vision"].config.to_diff_dict(), "model_type": "blip_2_vision_model"},
        "qformer_config": {**LEGACY_KEYS, **parts["qformer"].config.to_diff_dict(), "model_type": "blip_2_qformer"},
        "text_config": {**LEGACY_KEYS, "model_type": "t5", "d_model": 16, "num_layers": 1, "vocab_size": 50,
                        "architectures": ["T5ForConditionalGeneration"]},
        "torch_dtype": "float32",
    }
    (folder / "config.json").write_text(json.dumps(config))
    tensors = {k: v.detach().contiguous().clone() for k, v in {**image_side, **language}.items()}
    if single_file:
        save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
        return folder
    vision_keys = [k for k in tensors if k.startswith("vision_model.")]
    # shard 2 mixes Q-Former and T5 tensors, as real shard boundaries do; shard 3 is T5 only
    mixed = [k for k in tensors if k.startswith(("qformer.", "query_tokens", "language_projection"))]
    mixed.append("language_model.shared.weight")
    t5_only = [k for k in tensors if k not in vision_keys and k not in mixed]
    shards = {"model-00001-of-00003.safetensors": vision_keys, "model-00002-of-00003.safetensors": mixed,
              "model-00003-of-00003.safetensors": t5_only}
    weight_map = {}
    for name, keys in shards.items():
        save_file({k: tensors[k] for k in keys}, folder / name, metadata={"format": "pt"})
        weight_map.update({k: name for k in keys})
    # The language model's own shard is unreadable: any attempt to open it fails.
    (folder / "model-00003-of-00003.safetensors").write_bytes(b"\xff" * 64 + b"not safetensors")
    (folder / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": 123}, "weight_map": weight_map})
    )
    return folder


def write_training_checkpoint(path, weight, bias, epoch=3):
    """The raw dict MiniGPT-4's runner saves, AdamW moments and all (built here with a real AdamW step)."""
    proj = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        proj.weight.copy_(weight)
        proj.bias.copy_(bias)
    optimizer = torch.optim.AdamW(proj.parameters(), lr=1e-4, weight_decay=0.05)
    proj(torch.randn(2, weight.shape[1])).sum().backward()
    optimizer.step()
    torch.save({
        "model": {"llama_proj.weight": proj.weight.detach().clone(), "llama_proj.bias": proj.bias.detach().clone()},
        "optimizer": optimizer.state_dict(),
        "config": {"model": {"arch": "minigpt4", "num_query_token": 32}, "run": {"init_lr": 3e-5}},
        "scaler": {"scale": 65536.0, "growth_factor": 2.0, "_growth_tracker": 0},
        "epoch": epoch,
    }, path)
    return {"llama_proj.weight": proj.weight.detach().clone(), "llama_proj.bias": proj.bias.detach().clone()}


@pytest.fixture(scope="module")
def files(parts, tmp_path_factory):
    root = tmp_path_factory.mktemp("minigpt4")
    write_hub_blip2(root / "blip2", parts)
    parts["llm"].save_pretrained(root / "llm")
    parts["tokenizer"].save_pretrained(root / "llm")
    torch.manual_seed(7)
    saved = {
        "qformer": write_training_checkpoint(root / "proj_qformer.pth", torch.randn(LLM_HIDDEN, QFORMER_HIDDEN),
                                             torch.randn(LLM_HIDDEN)),
        "concat4": write_training_checkpoint(root / "proj_concat4.pth", torch.randn(LLM_HIDDEN, 4 * VISION_HIDDEN),
                                             torch.randn(LLM_HIDDEN)),
    }
    (root / "qformer.json").write_text(json.dumps({
        "name": "tiny-vicuna", "blip2": "blip2", "llm": "llm", "projection": "proj_qformer.pth",
        "template": "vicuna0", "connector": "qformer",
    }))
    (root / "concat4.yaml").write_text(
        "# Llama-2 style\nblip2: blip2\nllm: ./llm\nprojection: proj_concat4.pth\ntemplate: llama2\n"
        "connector: concat4\nimage_size: 32\n"
    )
    return {"root": root, "saved": saved}


class RecordingSafeOpen:
    """Stands in for ``safetensors.safe_open``: records every file opened and every tensor read."""

    def __init__(self):
        self.opened, self.read = [], []

    def __call__(self, path, framework="pt", device="cpu"):
        recorder, real = self, safe_open(path, framework=framework, device=device)
        self.opened.append(str(path))

        class Handle:
            def __enter__(self):
                real.__enter__()
                return self

            def __exit__(self, *exc):
                return real.__exit__(*exc)

            def keys(self):
                return real.keys()

            def get_tensor(self, name):
                recorder.read.append(name)
                return real.get_tensor(name)

        return Handle()


def assert_same_weights(module, reference):
    got, want = module.state_dict(), reference.state_dict()
    assert got.keys() == want.keys()
    for key in want:
        assert torch.equal(got[key].float(), want[key].float()), key


# ---- happy paths ----------------------------------------------------------------------------------------------
def test_qformer_card_loads_every_weight_that_was_saved(parts, files, monkeypatch):
    recorder = RecordingSafeOpen()
    monkeypatch.setattr(snapshots, "safe_open", recorder)
    model = load_model(files["root"] / "qformer.json")

    assert not model.training
    assert_same_weights(model.vision_model, parts["vision"])
    assert_same_weights(model.qformer, parts["qformer"])
    assert_same_weights(model.llm, parts["llm"])
    assert torch.equal(model.query_tokens, parts["query_tokens"])
    for key, tensor in files["saved"]["qformer"].items():
        assert torch.equal(model.projection_state()[key], tensor)
    # The language model of the BLIP-2 snapshot is never read, and its own shard is never opened.
    assert not [k for k in recorder.read if k.startswith(("language_model.", "language_projection"))]
    assert set(recorder.read) == {k for k in recorder.read if k.startswith(("vision_model.", "qformer."))} | {
        "query_tokens"}
    assert not [p for p in recorder.opened if p.endswith("model-00003-of-00003.safetensors")]

    features = model.encode_features(torch.randn(2, 3, IMAGE, IMAGE))
    assert features.shape == (2, N_QUERY, QFORMER_HIDDEN)
    assert model.project(features).shape == (2, N_QUERY, LLM_HIDDEN)
    tok = parts["tokenizer"]
    assert (model.llm.config.pad_token_id, model.llm.config.bos_token_id, model.llm.config.eos_token_id) == (
        tok.pad_token_id, tok.bos_token_id, tok.eos_token_id)
    assert model.template.name == "vicuna0"
    sha = hashlib.sha256((files["root"] / "proj_qformer.pth").read_bytes()).hexdigest()
    assert model.projection_sha256 == sha
    assert model.card["name"] == "tiny-vicuna"
    assert model.card["llm"] == str(files["root"] / "llm")  # resolved against the card's folder
    assert model.card["projection_sha256"] == sha
    assert model.card["image_size"] == IMAGE
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["llama_proj.weight", "llama_proj.bias"]


def test_concat4_yaml_card_reads_only_the_vision_encoder(parts, files, monkeypatch):
    recorder = RecordingSafeOpen()
    monkeypatch.setattr(snapshots, "safe_open", recorder)
    model = load_model(str(files["root"] / "concat4.yaml"))

    assert recorder.read and all(k.startswith("vision_model.") for k in recorder.read)
    assert model.qformer is None and model.query_tokens is None
    got, want = model.vision_model.state_dict(), parts["vision"].state_dict()
    for key in want:
        if not key.startswith("post_layernorm."):  # reset to ones/zeros, as MiniGPT-4's Llama-2 variant has it
            assert torch.equal(got[key], want[key]), key
    assert torch.equal(model.llama_proj.weight, files["saved"]["concat4"]["llama_proj.weight"])
    features = model.encode_features(torch.randn(3, 3, IMAGE, IMAGE))
    assert features.shape == (3, (IMAGE // PATCH) ** 2 // 4, 4 * VISION_HIDDEN)
    assert model.project(features).shape == (3, 4, LLM_HIDDEN)
    assert model.template.name == "llama2" and model.card["name"] == "concat4"


def test_garbage_language_model_shard_really_is_unreadable(files):
    with pytest.raises(Exception):
        safe_open(files["root"] / "blip2" / "model-00003-of-00003.safetensors", framework="pt")


def test_absent_language_model_shard_is_not_needed(parts, files, tmp_path):
    blip2 = shutil.copytree(files["root"] / "blip2", tmp_path / "blip2")
    (blip2 / "model-00003-of-00003.safetensors").unlink()  # downloaded only the image-side shards
    vision, qformer, query_tokens = snapshots.load_blip2(blip2)
    assert_same_weights(vision, parts["vision"])
    assert torch.equal(query_tokens, parts["query_tokens"])


def test_single_file_snapshot_reads_only_image_side_tensors(parts, files, tmp_path, monkeypatch):
    write_hub_blip2(tmp_path / "blip2", parts, single_file=True)
    recorder = RecordingSafeOpen()
    monkeypatch.setattr(snapshots, "safe_open", recorder)
    vision, qformer, query_tokens = snapshots.load_blip2(tmp_path / "blip2")
    assert not [k for k in recorder.read if not k.startswith(("vision_model.", "qformer.", "query_tokens"))]
    assert_same_weights(vision, parts["vision"])
    assert_same_weights(qformer, parts["qformer"])
    assert torch.equal(query_tokens, parts["query_tokens"])


def test_dict_spec_resolves_paths_against_the_working_directory(files, monkeypatch):
    monkeypatch.chdir(files["root"])
    card = read_card({"blip2": "blip2", "llm": "llm", "projection": "proj_qformer.pth", "template": "vicuna0",
                      "connector": "qformer"})
    assert card["blip2"] == str(files["root"] / "blip2")
    assert card["source"] == "model card"


def test_save_blip2_snapshot_round_trip_with_several_shards(parts, tmp_path):
    folder = save_blip2_snapshot(tmp_path / "snap", parts["vision"], parts["qformer"], parts["query_tokens"],
                                 max_shard_bytes=20_000)
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "blip-2" and config["num_query_tokens"] == N_QUERY
    assert config["vision_config"]["hidden_size"] == VISION_HIDDEN
    assert config["qformer_config"]["hidden_size"] == QFORMER_HIDDEN
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    shards = sorted(p.name for p in folder.glob("model-*.safetensors"))
    assert len(shards) > 1
    assert shards == [f"model-{i:05d}-of-{len(shards):05d}.safetensors" for i in range(1, len(shards) + 1)]
    assert set(index["weight_map"].values()) == set(shards)
    n_tensors = len(parts["vision"].state_dict()) + len(parts["qformer"].state_dict()) + 1
    assert len(index["weight_map"]) == n_tensors
    for shard in shards:  # every tensor is in the shard the index names
        with safe_open(folder / shard, framework="pt") as fh:
            assert sorted(fh.keys()) == sorted(k for k, v in index["weight_map"].items() if v == shard)
    vision, qformer, query_tokens = snapshots.load_blip2(folder)
    assert_same_weights(vision, parts["vision"])
    assert_same_weights(qformer, parts["qformer"])
    assert torch.equal(query_tokens, parts["query_tokens"])


# ---- projection checkpoints -----------------------------------------------------------------------------------
def test_load_projection_keeps_only_llama_proj_from_the_training_dict(files):
    state = load_projection(files["root"] / "proj_qformer.pth")
    assert sorted(state) == ["llama_proj.bias", "llama_proj.weight"]
    for key, tensor in files["saved"]["qformer"].items():
        assert torch.equal(state[key], tensor)


def test_load_projection_accepts_a_bare_state_dict(tmp_path):
    weight, bias = torch.randn(5, 3), torch.randn(5)
    torch.save({"llama_proj.weight": weight, "llama_proj.bias": bias}, tmp_path / "bare.pth")
    state = load_projection(tmp_path / "bare.pth")
    assert torch.equal(state["llama_proj.weight"], weight) and torch.equal(state["llama_proj.bias"], bias)


def test_save_projection_writes_minigpt4_layout(tmp_path):
    state = {"llama_proj.weight": torch.randn(5, 3), "llama_proj.bias": torch.randn(5), "other": torch.ones(1)}
    optimizer = {"state": {0: {"step": torch.tensor(4.0), "exp_avg": torch.ones(5, 3)}}, "param_groups": []}
    path = save_projection(tmp_path / "ckpt" / "stage2.pth", state, optimizer_state=optimizer, epoch=4,
                           config={"run": {"init_lr": 3e-5}})
    raw = torch.load(path, map_location="cpu", weights_only=True)  # loadable by MiniGPT-4 and safely
    assert sorted(raw) == ["config", "epoch", "model", "optimizer", "scaler"]
    assert sorted(raw["model"]) == ["llama_proj.bias", "llama_proj.weight"]  # frozen keys dropped
    assert raw["epoch"] == 4 and raw["config"] == {"run": {"init_lr": 3e-5}}
    assert torch.equal(raw["optimizer"]["state"][0]["exp_avg"], torch.ones(5, 3))
    assert torch.equal(load_projection(path)["llama_proj.weight"], state["llama_proj.weight"])


def test_writers_are_byte_identical_across_runs_and_file_names(parts, tmp_path):
    """build-tiny promises byte-identical files for the same seed."""
    state = {"llama_proj.weight": torch.randn(5, 3), "llama_proj.bias": torch.randn(5)}
    save_projection(tmp_path / "a.pth", state, epoch=1)
    save_projection(tmp_path / "b.pth", state, epoch=1)
    assert (tmp_path / "a.pth").read_bytes() == (tmp_path / "b.pth").read_bytes()
    for name in ("one", "two"):
        save_blip2_snapshot(tmp_path / name, parts["vision"], parts["qformer"], parts["query_tokens"])
    files_one = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert files_one == sorted(p.name for p in (tmp_path / "two").iterdir())
    for name in files_one:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_load_puts_frozen_parts_in_fp16_on_the_gpu(parts, files):
    model = load_model(files["root"] / "qformer.json", device="cuda")
    assert {p.device.type for p in model.parameters()} == {"cuda"}
    assert next(model.vision_model.parameters()).dtype == torch.float16
    assert next(model.llm.parameters()).dtype == torch.float16
    assert model.llama_proj.weight.dtype == torch.float32
    features = model.encode_features(torch.randn(2, 3, IMAGE, IMAGE))
    embeds = model.project(features)
    assert embeds.dtype == torch.float16 and embeds.shape == (2, N_QUERY, LLM_HIDDEN)
    context = model.embed_context(model.template.chat_prompt("What is this?"), embeds[0])
    out = model.llm.generate(inputs_embeds=context[None], attention_mask=torch.ones(1, context.shape[0],
                             dtype=torch.long, device="cuda"), max_new_tokens=3, do_sample=False)
    assert out.shape[0] == 1


def test_llm_without_pad_token_reuses_unk_without_resizing(parts, tmp_path):
    tokenizer = word_tokenizer()
    tokenizer.pad_token = None
    llm = parts["llm"]
    saved = (llm.config.pad_token_id, llm.generation_config.pad_token_id)
    llm.config.pad_token_id, llm.generation_config.pad_token_id = None, None
    try:
        llm.save_pretrained(tmp_path / "llm")
    finally:
        llm.config.pad_token_id, llm.generation_config.pad_token_id = saved
    generation = json.loads((tmp_path / "llm" / "generation_config.json").read_text())
    generation["pad_token_id"] = -1  # as early LLaMA conversions had it
    (tmp_path / "llm" / "generation_config.json").write_text(json.dumps(generation))
    tokenizer.save_pretrained(tmp_path / "llm")
    loaded, tok = snapshots.load_llm(tmp_path / "llm", dtype=torch.float32, device=torch.device("cpu"))
    assert tok.pad_token == "<unk>" and tok.pad_token_id == tok.unk_token_id
    assert loaded.config.pad_token_id == tok.unk_token_id == loaded.generation_config.pad_token_id
    assert loaded.get_input_embeddings().num_embeddings == llm.get_input_embeddings().num_embeddings
    assert (loaded.config.bos_token_id, loaded.config.eos_token_id) == (tok.bos_token_id, tok.eos_token_id)


def test_tiny_layout_written_by_our_writers_loads_as_a_preset(parts, tmp_path, monkeypatch):
    """What build-tiny writes (our writers + save_pretrained + a relative card) loads through the preset name."""
    import workbench.model.cards as cards

    tiny = tmp_path / "tiny"
    save_blip2_snapshot(tiny / "blip2", parts["vision"], parts["qformer"], parts["query_tokens"])
    parts["llm"].save_pretrained(tiny / "llm")
    parts["tokenizer"].save_pretrained(tiny / "llm")
    state = {"llama_proj.weight": torch.randn(LLM_HIDDEN, QFORMER_HIDDEN), "llama_proj.bias": torch.randn(LLM_HIDDEN)}
    save_projection(tiny / "stage2.pth", state, optimizer_state=None, epoch=2)
    (tiny / "tiny-stage2.json").write_text(json.dumps({
        "blip2": "blip2", "llm": "llm", "projection": "stage2.pth", "template": "vicuna0", "connector": "qformer",
        "image_size": IMAGE}))
    monkeypatch.setattr(cards, "models_dir", lambda: tmp_path)
    model = load_model("tiny-stage2")
    assert model.card["name"] == "tiny-stage2" and model.card["source"] == str(tiny / "tiny-stage2.json")
    assert_same_weights(model.vision_model, parts["vision"])
    assert_same_weights(model.qformer, parts["qformer"])
    assert torch.equal(model.llama_proj.weight, state["llama_proj.weight"])
    assert model.frozen_fingerprint() == load_model("tiny-stage2").frozen_fingerprint()  # cache key is stable

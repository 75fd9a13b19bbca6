"""Every way a MiniGPT-4 user can mis-point the workbench gets one line that says what is wrong and what fits."""

import json
import shutil

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import workbench.model.loading as loading
import workbench.model.cards as cards
import workbench.model.snapshots as snapshots
from test_loading import LLM_HIDDEN, QFORMER_HIDDEN, RecordingSafeOpen, files, parts  # noqa: F401  (fixtures)
from workbench.errors import WorkbenchError
from workbench.model.checkpoint import diagnose_projection
from workbench.model.loading import load_model, load_projection


def error_of(call, *args, **kwargs) -> str:
    with pytest.raises(WorkbenchError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message
    return message


def card(files, **changes):
    root = files["root"]
    base = {"blip2": str(root / "blip2"), "llm": str(root / "llm"), "projection": str(root / "proj_qformer.pth"),
            "template": "vicuna0", "connector": "qformer"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


# ---- the projection does not fit: the diagnosis table with MiniGPT-4's real shapes ----------------------------
def real(weight_shape, connector, llm_hidden):
    return diagnose_projection(weight_shape, (weight_shape[0],), connector=connector, qformer_hidden=768,
                               vision_hidden=1408, llm_hidden=llm_hidden, llm_path="/llms/vicuna")


def test_released_checkpoints_fit_their_llms():
    assert real((4096, 768), "qformer", 4096) is None  # prerained_minigpt4_7b.pth + Vicuna-v0 7B
    assert real((5120, 768), "qformer", 5120) is None  # pretrained_minigpt4.pth + Vicuna-v0 13B
    assert real((4096, 5632), "concat4", 4096) is None  # pretrained_minigpt4_llama2_7b.pth + Llama-2-chat 7B


def test_13b_checkpoint_with_7b_llm():
    assert real((5120, 768), "qformer", 4096) == (
        "projection maps 768→5120 (MiniGPT-4 for a 13B LLM); the LLM in /llms/vicuna has hidden size 4096: "
        "use the 7B checkpoint (prerained_minigpt4_7b.pth) or a 13B LLM"
    )


def test_7b_checkpoint_with_13b_llm():
    assert real((4096, 768), "qformer", 5120) == (
        "projection maps 768→4096 (MiniGPT-4 for a 7B LLM); the LLM in /llms/vicuna has hidden size 5120: "
        "use the 13B checkpoint (pretrained_minigpt4.pth) or a 7B LLM"
    )


def test_llama2_checkpoint_with_qformer_connector():
    assert real((4096, 5632), "qformer", 4096) == (
        "projection input is 5632 = 4×1408: this is the Llama-2 (concat4) checkpoint; "
        "set connector: concat4 / template: llama2"
    )


def test_vicuna_checkpoint_with_concat4_connector():
    message = real((4096, 768), "concat4", 4096)
    assert message.startswith("projection input is 768 = the Q-Former width: this is a Vicuna (qformer) checkpoint")
    assert message.endswith("set connector: qformer / template: vicuna0")


def test_llama2_checkpoint_with_a_13b_llm_names_no_nonexistent_file():
    message = real((4096, 5632), "concat4", 5120)
    assert "the Llama-2 (concat4) checkpoint" in message
    assert message.endswith("use a projection trained for this LLM or a 7B LLM")


def test_damaged_bias_is_named():
    message = diagnose_projection((4096, 768), (5120,), connector="qformer", qformer_hidden=768,
                                  vision_hidden=1408, llm_hidden=4096)
    assert "llama_proj.bias has shape (5120,)" in message


# ---- the same through load_model, before any heavy weights are read -------------------------------------------
def test_concat4_checkpoint_with_qformer_connector_through_load_model(files, monkeypatch):
    recorder = RecordingSafeOpen()
    monkeypatch.setattr(snapshots, "safe_open", recorder)
    message = error_of(load_model, card(files, projection=str(files["root"] / "proj_concat4.pth")))
    assert "proj_concat4.pth: projection input is 128 = 4×32: this is a concat4 (Llama-2-style) checkpoint" in message
    assert "set connector: concat4 / template: llama2" in message
    assert recorder.read == []  # refused from shapes alone: no BLIP-2 tensor was read


def test_qformer_checkpoint_with_concat4_connector_through_load_model(files):
    message = error_of(load_model, card(files, connector="concat4", template="llama2"))
    assert f"projection input is {QFORMER_HIDDEN} = the Q-Former width" in message
    assert "set connector: qformer / template: vicuna0" in message


def test_projection_for_a_wider_llm_through_load_model(files, tmp_path):
    torch.save({"model": {"llama_proj.weight": torch.zeros(64, QFORMER_HIDDEN), "llama_proj.bias": torch.zeros(64)},
                "optimizer": None}, tmp_path / "wide.pth")
    message = error_of(load_model, card(files, projection=str(tmp_path / "wide.pth")))
    assert (f"projection maps {QFORMER_HIDDEN}→64 (made for an LLM with hidden size 64); "
            f"the LLM in {files['root'] / 'llm'} has hidden size {LLM_HIDDEN}") in message


# ---- unsafe or wrong projection files -------------------------------------------------------------------------
class CreatesMarker:
    """Unpickling this runs ``open(marker, "w")``: the file appears if the pickle is ever executed."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_with_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"model": {"llama_proj.weight": torch.zeros(2, 2), "llama_proj.bias": torch.zeros(2)},
                "payload": CreatesMarker(marker)}, tmp_path / "evil.pth")
    message = error_of(load_projection, tmp_path / "evil.pth")
    assert str(tmp_path / "evil.pth") in message and "not a plain-tensor checkpoint" in message
    assert "Unsupported global" in message and "open" in message  # names what it would have called
    assert not marker.exists()
    # The payload is real: full unpickling would have run it.
    torch.load(tmp_path / "evil.pth", weights_only=False)
    assert marker.exists()


def test_weight_file_that_is_not_a_projection(tmp_path):
    torch.save({"model": {"Qformer.bert.encoder.layer.0.attention.self.query.weight": torch.zeros(2, 2),
                          "query_tokens": torch.zeros(1, 2, 2)}}, tmp_path / "blip2_pretrained_flant5xxl.pth")
    message = error_of(load_projection, tmp_path / "blip2_pretrained_flant5xxl.pth")
    assert "no llama_proj.weight / llama_proj.bias" in message and "query_tokens" in message


def test_minigpt_v2_checkpoint_is_named(tmp_path):
    torch.save({"model": {"llama_proj.weight": torch.zeros(4096, 1), "llama_proj.bias": torch.zeros(4096),
                          "llama_model.base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": torch.zeros(1)}},
               tmp_path / "minigptv2.pth")
    assert "MiniGPT-v2" in error_of(load_projection, tmp_path / "minigptv2.pth")


def test_corrupt_checkpoint(tmp_path):
    (tmp_path / "broken.pth").write_bytes(b"\x00not a zip or pickle")
    assert "cannot read as a plain-tensor PyTorch checkpoint" in error_of(load_projection, tmp_path / "broken.pth")


def test_missing_projection_file(files):
    message = error_of(load_model, card(files, projection=str(files["root"] / "prerained_minigpt4_7b.pth")))
    assert "projection checkpoint" in message and "prerained_minigpt4_7b.pth does not exist" in message


def test_every_missing_path_is_named_at_once(files):
    message = error_of(load_model, card(files, blip2=str(files["root"] / "nowhere"),
                                        projection=str(files["root"] / "prerained_minigpt4_7b.pth")))
    assert "blip2 folder" in message and "nowhere does not exist" in message
    assert "prerained_minigpt4_7b.pth does not exist" in message and "\n" not in message


# ---- wrong folders --------------------------------------------------------------------------------------------
def test_missing_blip2_folder(files):
    message = error_of(load_model, card(files, blip2=str(files["root"] / "nowhere")))
    assert "blip2 folder" in message and "nowhere does not exist" in message


def test_folder_without_config_json(files, tmp_path):
    message = error_of(load_model, card(files, blip2=str(tmp_path)))
    assert f"{tmp_path}: no config.json" in message and "snapshot folder" in message


def test_llm_folder_given_as_blip2(files):
    message = error_of(load_model, card(files, blip2=str(files["root"] / "llm")))
    assert "holds a 'llama' model, not a BLIP-2 snapshot" in message and "swap blip2 and llm" in message


def test_blip2_folder_given_as_llm(files):
    message = error_of(load_model, card(files, llm=str(files["root"] / "blip2")))
    assert "is a BLIP-2 snapshot, not a causal LM" in message and "swap blip2 and llm" in message


def test_llm_folder_without_tokenizer(files, tmp_path):
    llm = tmp_path / "vicuna-7b"
    llm.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(files["root"] / "llm" / name, llm / name)
    message = error_of(load_model, card(files, llm=str(llm)))
    assert f"{llm}: no tokenizer" in message and "tokenizer.model" in message


def test_unreadable_sentencepiece_tokenizer(files, tmp_path, monkeypatch):
    llm = tmp_path / "vicuna-7b"
    llm.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(files["root"] / "llm" / name, llm / name)
    (llm / "tokenizer.model").write_bytes(b"not a sentencepiece model")
    (llm / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "LlamaTokenizer", "unk_token": "<unk>"}))
    recorder = RecordingSafeOpen()
    monkeypatch.setattr(snapshots, "safe_open", recorder)
    message = error_of(load_model, card(files, llm=str(llm)))
    assert f"{llm}: cannot load the tokenizer" in message and "sentencepiece" in message
    assert recorder.read == []  # found before any BLIP-2 weights were read


def test_shard_missing_from_the_snapshot(files, tmp_path):
    blip2 = shutil.copytree(files["root"] / "blip2", tmp_path / "blip2")
    (blip2 / "model-00001-of-00003.safetensors").unlink()
    message = error_of(load_model, card(files, blip2=str(blip2)))
    assert "model-00001-of-00003.safetensors: shard listed in model.safetensors.index.json is missing" in message


def test_shards_lacking_a_tensor_are_refused_by_strict_loading(files, tmp_path):
    blip2 = shutil.copytree(files["root"] / "blip2", tmp_path / "blip2")
    shard = blip2 / "model-00001-of-00003.safetensors"
    with safe_open(shard, framework="pt") as fh:
        tensors = {k: fh.get_tensor(k) for k in fh.keys() if k != "vision_model.post_layernorm.weight"}
    save_file(tensors, shard, metadata={"format": "pt"})
    index = json.loads((blip2 / "model.safetensors.index.json").read_text())
    del index["weight_map"]["vision_model.post_layernorm.weight"]
    (blip2 / "model.safetensors.index.json").write_text(json.dumps(index))
    message = error_of(load_model, card(files, blip2=str(blip2)))
    assert "missing: vision_model.post_layernorm.weight" in message


def test_bin_only_snapshot(files, tmp_path):
    blip2 = tmp_path / "blip2"
    blip2.mkdir()
    shutil.copy(files["root"] / "blip2" / "config.json", blip2 / "config.json")
    (blip2 / "pytorch_model-00001-of-00002.bin").write_bytes(b"")
    assert "only PyTorch .bin shards" in error_of(load_model, card(files, blip2=str(blip2)))


def test_image_size_that_the_encoder_was_not_built_for(files):
    message = error_of(load_model, card(files, image_size=448))
    assert "image_size 448" in message and "built for 32 px" in message


# ---- the card itself ------------------------------------------------------------------------------------------
def test_unknown_template(files):
    message = error_of(load_model, card(files, template="vicuna1"))
    assert "unknown template 'vicuna1'; valid templates: vicuna0, llama2" in message


def test_unknown_connector(files):
    message = error_of(load_model, card(files, connector="mlp"))
    assert "unknown connector 'mlp'; valid connectors: qformer, concat4" in message


def test_unknown_field(files, tmp_path):
    path = tmp_path / "card.json"
    path.write_text(json.dumps({**card(files), "llama_model": "x"}))
    message = error_of(load_model, path)
    assert message.startswith(f"{path}: unknown field 'llama_model'")
    assert "valid fields: blip2, llm, projection, template, connector, image_size, name" in message


def test_missing_field(files):
    message = error_of(load_model, card(files, projection=None))
    assert "missing projection" in message and "needs blip2, llm, projection, template, connector" in message


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "card.yaml"
    path.write_text("blip2: a\nllm: [unclosed\ntemplate: vicuna0\n")
    assert error_of(load_model, path).startswith(f"{path}:")


def test_preset_not_built_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setattr(cards, "models_dir", lambda: tmp_path)
    message = error_of(load_model, "tiny-stage2")
    assert "preset 'tiny-stage2' is not built yet" in message and "workbench build-tiny" in message


def test_preset_resolves_to_the_repo_models_folder(files, tmp_path, monkeypatch):
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "tiny-stage1.json").write_text(json.dumps(card(files)))
    monkeypatch.setattr(cards, "models_dir", lambda: tmp_path)
    resolved = loading.read_card("tiny-stage1")
    assert resolved["name"] == "tiny-stage1" and resolved["source"] == str(tmp_path / "tiny" / "tiny-stage1.json")
    monkeypatch.undo()
    assert loading.models_dir().name == "models" and (loading.models_dir().parent / "workbench").is_dir()


def test_unknown_model_name():
    message = error_of(load_model, "minigpt4-13b")
    assert "unknown model 'minigpt4-13b'" in message and "tiny-stage1, tiny-stage2" in message


def test_8bit_needs_cuda(files):
    message = error_of(load_model, card(files), load_in_8bit=True)
    assert "load-in-8bit needs a CUDA GPU" in message



def test_missing_card_file(tmp_path):
    assert error_of(load_model, tmp_path / "minigpt4.yaml") == f"{tmp_path / 'minigpt4.yaml'}: model card not found"

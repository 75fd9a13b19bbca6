"""MiniGPT-v2's LoRA merged at load equals the unmerged LoRA forward, W x + (alpha/r) B A x (Hu et al. 2021)."""

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from workbench.errors import WorkbenchError
from workbench.model.lora import merge_lora

PREFIX = "llama_model.base_model.model.model.layers.{}.self_attn.{}_proj.lora_{}.weight"


def tiny_llama():
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=4)).eval()


def lora_state(r=8, seed=1):
    gen = torch.Generator().manual_seed(seed)
    state = {"llama_proj.weight": torch.zeros(32, 20), "llama_proj.bias": torch.zeros(32)}
    for layer in range(2):
        for proj in ("q", "v"):
            state[PREFIX.format(layer, proj, "A")] = torch.randn(r, 32, generator=gen) * 0.2
            state[PREFIX.format(layer, proj, "B")] = torch.randn(32, r, generator=gen) * 0.2
    return state


def unmerged_forward(llm, state, ids, alpha, r):
    """The LoRA as peft runs it: hooks add (alpha/r) * B(A x) to the q/v projections' outputs."""
    hooks = []
    for layer in range(2):
        for proj in ("q", "v"):
            a, b = state[PREFIX.format(layer, proj, "A")], state[PREFIX.format(layer, proj, "B")]
            module = getattr(llm.model.layers[layer].self_attn, f"{proj}_proj")
            hooks.append(module.register_forward_hook(
                lambda mod, inp, out, a=a, b=b: out + (alpha / r) * (inp[0] @ a.T @ b.T)))
    try:
        return llm(ids).logits
    finally:
        for h in hooks:
            h.remove()


def test_merged_weights_give_the_unmerged_lora_outputs():
    llm, state, ids = tiny_llama(), lora_state(), torch.tensor([[1, 5, 9, 2, 7]])
    plain = llm(ids).logits
    expected = unmerged_forward(llm, state, ids, alpha=16, r=8)
    assert not torch.allclose(plain, expected, atol=1e-3)  # the LoRA changes something
    assert merge_lora(llm, state, alpha=16) == 4
    torch.testing.assert_close(llm(ids).logits, expected, rtol=1e-5, atol=1e-5)


def test_lora_that_does_not_fit_is_named():
    state = lora_state()
    del state[PREFIX.format(1, "v", "B")]
    with pytest.raises(WorkbenchError, match=r"layers\.1\.self_attn\.v_proj\.lora_B\.weight is missing"):
        merge_lora(tiny_llama(), state)
    state = lora_state()
    state[PREFIX.format(0, "q", "A")] = torch.zeros(8, 40)
    with pytest.raises(WorkbenchError, match=r"q_proj\.lora_A/B have shapes \(8, 40\) / \(32, 8\); .*32x32"):
        merge_lora(tiny_llama(), state)

"""Soft image slots of the LLM corpus: what each position carries, how they are packed and embedded."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.tiny.build.llm_pretrain import block_embeddings, pack_corpus, slot_embeddings
from workbench.tiny.build.tokenizer import train_tokenizer
from workbench.tiny.world import catalog
from workbench.tiny.world.items import sample_spec
from workbench.tiny.world.slots import SlotDocument, document_text, slot_phrases, tokenizer_texts


def test_a_scene_slot_puts_each_cell_in_its_query_quarter_and_the_background_everywhere():
    rng = np.random.default_rng(0)
    for _ in range(30):
        spec = sample_spec("scene", rng)
        slots = slot_phrases(spec, 16)
        by_cell = {o.cell: o for o in spec.objects}
        for k, phrases in enumerate(slots):
            assert f"{spec.background} background" in phrases
            cell = catalog.CELL_NAMES[k // 4]
            obj = by_cell.get(cell)
            expected = "empty" if obj is None else f"{obj.size} {obj.colour} {obj.kind}"
            assert phrases[-1] == expected


def test_dish_and_leaf_slots_name_what_is_pictured_at_every_position():
    rng = np.random.default_rng(1)
    for _ in range(20):
        dish, leaf = sample_spec("dish", rng), sample_spec("leaf", rng)
        assert all(p[0] == dish.entry.name for p in slot_phrases(dish, 8))
        assert all(p[:2] == (f"{leaf.crop_entry.name} leaf", leaf.condition_entry.name) for p in slot_phrases(leaf, 8))
    with pytest.raises(ValueError, match="multiple of 4"):
        slot_phrases(dish, 6)


def test_slot_embedding_is_the_sum_over_phrases_of_the_mean_token_embedding():
    weight = torch.randn(50, 6, generator=torch.Generator().manual_seed(0))
    entries = [[[1, 2, 3], [4]], [[7, 7], [9, 10, 11, 12], [5]]]
    got = slot_embeddings(weight, entries)
    for row, entry in enumerate(entries):
        expected = torch.zeros(6)
        for phrase in entry:
            expected += sum(weight[i] for i in phrase) / len(phrase)
        assert torch.allclose(got[row], expected, atol=1e-6)


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(["a red square on a grey table", "Describe this image. The image shows a red square."], 300)


def test_packing_keeps_the_text_around_a_slot_and_one_table_row_per_position(tok):
    docs = [SlotDocument("Q: <Img><ImageHere></Img> Describe this image. A: a red square.",
                         (("red square", "grey table"),) * 4),
            "a red square on a grey table"]
    blocks, table = pack_corpus(docs, tok, block=1, seed=0)  # block 1: nothing is cut off
    stream = blocks.flatten().tolist()
    ids = lambda t: tok(t, add_special_tokens=False)["input_ids"]  # noqa: E731
    slot_doc = [tok.bos_token_id, *ids("Q: <Img>"), -1, -2, -3, -4, *ids("</Img> Describe this image. A: a red square."),
                tok.eos_token_id]
    text_doc = [tok.bos_token_id, *ids(docs[1]), tok.eos_token_id]
    assert stream in (slot_doc + text_doc, text_doc + slot_doc)
    assert table == [[ids("red square"), ids("grey table")]] * 4
    assert document_text(docs[0]) == "Q: <Img> </Img> Describe this image. A: a red square."


def test_block_embeddings_put_soft_vectors_at_slots_and_ignore_them_in_the_loss(tok):
    weight = torch.randn(len(tok), 5, generator=torch.Generator().manual_seed(2))
    table = [[[3, 4], [5]], [[6]]]
    batch = torch.tensor([[10, -1, -2, 11], [-2, 12, 13, 14]])
    gen = torch.Generator().manual_seed(0)
    embeds, labels = block_embeddings(weight, batch, table, 0.0, gen)
    assert labels.tolist() == [[10, -100, -100, 11], [-100, 12, 13, 14]]
    soft = slot_embeddings(weight, table)
    assert torch.equal(embeds[0, 0], weight[10]) and torch.equal(embeds[1, 3], weight[14])
    assert torch.allclose(embeds[0, 1], soft[0]) and torch.allclose(embeds[0, 2], soft[1])
    assert torch.allclose(embeds[1, 0], soft[1])
    noisy, _ = block_embeddings(weight, batch, table, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(noisy[0, 0], embeds[0, 0])  # tokens untouched
    assert not torch.allclose(noisy[0, 1], embeds[0, 1])  # slots perturbed


def test_tokenizer_texts_hold_every_document_and_the_words_of_each_slot():
    docs = ["a red square", SlotDocument("Q: <ImageHere> A: yes.", (("red square", "grey table"),) * 4)]
    assert tokenizer_texts(docs) == ["a red square", "Q:   A: yes.", "red square", "grey table"]

"""Parts of the tiny-model training: tokenizer, labels, probes, curation rules, projection-only training."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
import train_stub_world as stub_world  # noqa: E402

from workbench.errors import WorkbenchError  # noqa: E402
from workbench.model.minigpt4 import MiniGPT4  # noqa: E402
from workbench.model.templates import get_template  # noqa: E402
from workbench.tiny.build import curation  # noqa: E402
from workbench.tiny.build.common import LossLog  # noqa: E402
from workbench.tiny.build.config import get_config  # noqa: E402
from workbench.tiny.build.labels import LabelSpace, flatten_labels  # noqa: E402
from workbench.tiny.build.llm_pretrain import make_llm  # noqa: E402
from workbench.tiny.diagnostics.probe import linear_probe  # noqa: E402
from workbench.tiny.build.stages import stage1, stage2  # noqa: E402
from workbench.tiny.build.tokenizer import train_tokenizer  # noqa: E402
from workbench.tiny.build.vision_pretrain import make_vision  # noqa: E402

TEXTS = ["###Human: <Img><ImageHere></Img> Describe this image in detail. ###Assistant: a red circle.###"] * 20


def test_tokenizer_round_trips_and_has_specials():
    tok = train_tokenizer(TEXTS + ["line one\nline two"], 300)
    for text in ["a red circle###", "###Human: <Img>x</Img> hi\n"]:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert tok.decode(ids) == text
    assert tok.bos_token == "<s>" and tok.eos_token == "</s>" and tok.pad_token == "<pad>"
    assert tok.padding_side == "left"
    assert len({tok.bos_token_id, tok.eos_token_id, tok.pad_token_id}) == 3


def test_flatten_labels_splits_cells_and_multihot():
    flat = flatten_labels({"kinds": [0, 1, 1], "cell_kind": [3, 0, 3, 1], "dish": 4})
    assert flat == {"cell_kind[0]": 3, "cell_kind[1]": 0, "cell_kind[2]": 3, "cell_kind[3]": 1,
                    "dish": 4, "kinds": [1, 2]}
    other = {"dish": 2, "cell_kind[0]": 1}
    space = LabelSpace.from_labels([flat, other])
    assert "cell_kind[1]" not in space.classes  # one value only: nothing to learn
    t = space.targets([flat, other, {}])
    assert t["dish"].tolist() == [1, 0, -100]  # classes sorted as strings: "2", "4"; absent -> ignored
    assert t["cell_kind[0]"].tolist() == [1, 0, -100]
    assert t["kinds"].tolist() == [[1.0, 1.0], [-1.0, -1.0], [-1.0, -1.0]]


def test_linear_probe_reads_a_linearly_coded_attribute_and_not_noise():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (200,), generator=g)
    x = torch.randn(200, 16, generator=g)
    x[:, 0] += 8 * y  # attribute "a" is linearly readable; "b" is independent noise
    labels = [{"a": int(a), "b": int(b)} for a, b in zip(y, torch.randint(0, 2, (200,), generator=g))]
    space = LabelSpace.from_labels(labels)
    res = linear_probe(x[:100], labels[:100], x[100:], labels[100:], space)
    assert res["a"]["accuracy"] > 0.95
    assert res["b"]["accuracy"] < 0.75


def _item(domain, description, reference):
    return SimpleNamespace(domain=domain, detailed_description=description, reference=reference)


def test_curation_fixes_knowledge_and_filters_by_rules():
    tok = train_tokenizer(TEXTS, 300)
    syn = {"circle": ["circle"], "square": ["square"]}
    dish_ref = {"dish": "pancakes", "ingredients": ["flour"], "steps": ["Mix the flour and egg."]}
    cands = {
        "scene": [
            _item("scene", "The image shows a red circle. The image shows a red circle.", {"objects": ["circle"]}),
            _item("scene", "The image shows a red circle and a blue square on grey.", {"objects": ["circle"]}),
            _item("scene", "The image shows a big red circle. ###Human: more", {"objects": ["circle"]}),
        ],
        "dish": [
            _item("dish", "The image shows pancakes on a plate today. Mix the flour and egg.", dish_ref),
            _item("dish", "The image shows a plate on a table with food.", dish_ref),
        ],
    }
    kept, stats = curation.curate(cands, keep=4, tokenizer=tok, max_tokens=100, kind_synonyms=syn, min_words=4)
    texts = {(d, i): t for d, i, t in kept}
    assert texts[("scene", 0)] == "The image shows a red circle."  # repeated sentence dropped
    assert texts[("dish", 0)] == "The image shows pancakes on a plate today."  # recipe step dropped
    assert stats["scene"]["rejected_hallucinated_object"] == 1
    assert stats["scene"]["rejected_template_leak"] == 1
    assert stats["dish"]["rejected_misses_dish"] == 1
    assert all("Mix" not in t for t in texts.values())


@pytest.mark.parametrize("keep, shares, expected", [
    (3500, None, {"scene": 1167, "dish": 1167, "leaf": 1166}),                       # equal, remainder in order
    (3500, {"scene": 0.2, "dish": 0.4, "leaf": 0.4}, {"scene": 700, "dish": 1400, "leaf": 1400}),
    (10, {"scene": 1, "dish": 1, "leaf": 1}, {"scene": 4, "dish": 3, "leaf": 3}),
    (7, {"scene": 0, "dish": 1, "leaf": 1}, {"scene": 0, "dish": 4, "leaf": 3}),      # a zero share gets none
    (3500, {"scene": 0.29, "dish": 0.355, "leaf": 0.355}, {"scene": 1015, "dish": 1243, "leaf": 1242}),
    (10, {"scene": 0.14, "dish": 0.43, "leaf": 0.43}, {"scene": 2, "dish": 4, "leaf": 4}),  # 1.4 4.3 4.3: largest .4
    (10, {"scene": 0.12, "dish": 0.44, "leaf": 0.44}, {"scene": 1, "dish": 5, "leaf": 4}),  # 1.2 4.4 4.4: tie, in order
])
def test_quotas_follow_the_shares_and_sum_to_keep(keep, shares, expected):
    got = curation.quotas(keep, ["scene", "dish", "leaf"], shares)
    assert got == expected and sum(got.values()) == keep


def test_quotas_refuse_shares_that_weigh_nothing():
    with pytest.raises(ValueError, match="shares"):
        curation.quotas(10, ["scene", "dish"], {"scene": 0, "dish": 0})
    with pytest.raises(ValueError, match="shares"):
        curation.quotas(10, ["scene", "dish"], {"scene": -1, "dish": 2})


def test_curation_keeps_each_domain_its_share_in_seed_order():
    tok = train_tokenizer(TEXTS, 300)
    dish_ref = {"dish": "pancakes", "ingredients": ["flour"], "steps": ["Mix the flour and egg."]}
    cands = {
        "scene": [_item("scene", f"The image shows a red circle number {i}.", {"objects": ["circle"]})
                  for i in range(6)],
        "dish": [_item("dish", f"The image shows pancakes on plate number {i}.", dish_ref) for i in range(6)],
    }
    kept, stats = curation.curate(cands, keep=6, tokenizer=tok, max_tokens=100, kind_synonyms={"circle": ["circle"]},
                                  min_words=4, shares={"scene": 1, "dish": 2})
    assert [(d, i) for d, i, _ in kept] == [("scene", 0), ("scene", 1), ("dish", 0), ("dish", 1), ("dish", 2),
                                             ("dish", 3)]
    assert (stats["scene"]["kept"], stats["dish"]["kept"]) == (2, 4)


def _leaves(diseases):
    return [_item("leaf", f"A tomato leaf number {i}. The leaf is {d}.", {"crop": "tomato", "disease": d})
            for i, d in enumerate(diseases)]


def test_healthy_share_keeps_the_first_healthy_and_diseased_leaves_in_seed_order():
    leaves = _leaves(["blight", "healthy", "blight", "mildew", "healthy", "blight", "blight", "healthy"])
    passed = [("leaf", i, it.detailed_description) for i, it in enumerate(leaves)]
    # quota 4 at share 0.5: healthy 1 and 4, diseased 0 and 2, back in seed order
    assert [i for _, i, _ in curation.keep_leaves(passed, 4, 0.5, leaves)] == [0, 1, 2, 4]
    assert [i for _, i, _ in curation.keep_leaves(passed, 4, 0.0, leaves)] == [0, 2, 3, 5]
    assert [i for _, i, _ in curation.keep_leaves(passed, 3, 1.0, leaves)] == [1, 4, 7]
    with pytest.raises(WorkbenchError, match="3 healthy and 5 diseased leaf pairs passed curation, 4 and 0 asked; "
                                             r"raise stage2_candidates_per_domain to about 11 \(or change "
                                             r"stage2_healthy_share\) in workbench/tiny/build/config.py"):
        curation.keep_leaves(passed, 4, 1.0, leaves)
    with pytest.raises(ValueError, match="between 0 and 1"):
        curation.keep_leaves(passed, 4, 1.5, leaves)


def test_leaf_supply_is_checked_on_the_candidates_with_an_estimate_of_how_many_would_do():
    leaves = _leaves(["blight", "healthy", "blight", "mildew", "healthy", "blight", "blight", "healthy"])
    curation.check_leaf_supply(leaves, 6, 0.5)    # 3 healthy and 3 diseased asked: 3 and 5 there
    curation.check_leaf_supply(leaves, 60, None)  # unset: leaves as they come, nothing to check
    # share 0.7 of 6 asks 4 healthy: 3 in 8 candidates, so about 8 * 4 / 3 = 10.7 -> 11 candidates
    with pytest.raises(WorkbenchError, match=r"^3 healthy and 5 diseased leaves are among the stage-2 candidates, 4 "
                                             r"and 2 asked; raise stage2_candidates_per_domain to about 11 \(or"):
        curation.check_leaf_supply(leaves, 6, 0.7)
    many = _leaves(["healthy"] * 408 + ["blight"] * 1292)   # the shipped 1,700 candidates, 408 healthy
    with pytest.raises(WorkbenchError, match="408 healthy and 1292 diseased .* 700 and 700 asked; raise "
                                             "stage2_candidates_per_domain to about 3,000 "):
        curation.check_leaf_supply(many, 1400, 0.5)   # 1,700 * 700 / 408 = 2,917 -> 3,000
    with pytest.raises(WorkbenchError, match=r"0 healthy and 8 diseased .* 1 and 1 asked; raise "
                                             r"stage2_candidates_per_domain \(or"):   # none at all: no estimate
        curation.check_leaf_supply(_leaves(["blight"] * 8), 2, 0.5)


def test_curation_counts_the_kept_healthy_leaves_and_leaves_them_as_they_come_by_default():
    tok = train_tokenizer(TEXTS + ["tomato leaf number is healthy blight"], 300)
    cands = {"leaf": _leaves(["blight", "blight", "healthy", "blight", "healthy", "blight"])}
    args = dict(keep=4, tokenizer=tok, max_tokens=100, kind_synonyms={}, min_words=4)
    kept, stats = curation.curate(cands, **args)
    assert [i for _, i, _ in kept] == [0, 1, 2, 3] and "kept_healthy" not in stats["leaf"]
    kept, stats = curation.curate(cands, **args, healthy_share=0.5)
    assert [i for _, i, _ in kept] == [0, 1, 2, 4]
    assert (stats["leaf"]["kept"], stats["leaf"]["kept_healthy"]) == (4, 2)


def _tiny_model():
    cfg = get_config("micro")
    tok = train_tokenizer(TEXTS, 300)
    vision, qformer, query_tokens = make_vision(cfg, 16)
    llm = make_llm(cfg, tok)
    model = MiniGPT4(vision, qformer, query_tokens, llm, tok, get_template("vicuna0"), image_size=16)
    return cfg, model


def test_only_llama_proj_gets_gradients_in_both_stages():
    cfg, model = _tiny_model()
    frozen_before = {n: p.detach().clone() for n, p in model.named_parameters() if not n.startswith("llama_proj")}
    proj_before = model.llama_proj.weight.detach().clone()
    seen_grads = []
    model.llama_proj.weight.register_hook(lambda g: seen_grads.append(g))
    feats = torch.randn(8, cfg.num_query_tokens, cfg.qformer_hidden)
    small = cfg.__class__(**{**cfg.as_dict(), "stage1_epochs": 1, "stage2_epochs": 1})
    stage1(model, feats, ["a red circle"] * 8, small, LossLog(None), seed=1)
    stage2(model, feats, ["The image shows a red circle."] * 8, small, LossLog(None), seed=2)
    assert seen_grads, "llama_proj never received a gradient"
    for name, param in model.named_parameters():
        assert (param.grad is not None) == name.startswith("llama_proj."), name
        if not name.startswith("llama_proj."):
            assert torch.equal(param, frozen_before[name]), name
    assert not torch.equal(model.llama_proj.weight, proj_before)


def test_per_query_loss_is_the_mean_of_each_tokens_own_cross_entropy():
    from workbench.tiny.build.vision_pretrain import Heads, per_query_loss

    torch.manual_seed(0)
    labels = [{"dish": "a", "cell_kind[1]": "star"}, {"dish": "b", "cell_kind[1]": "ring"},
              {"dish": "c", "cell_kind[1]": "star"}]
    space = LabelSpace.from_labels(labels)
    heads = Heads(6, 6, space)
    out = torch.randn(3, 8, 6)  # 8 queries: cell 1 owns queries 2 and 3
    targets = space.targets(labels)
    got = per_query_loss(heads, out, targets, space)
    # the same thing token by token, with plain loops
    ce = torch.nn.functional.cross_entropy
    dish_head = heads.heads[heads.attrs.index("dish")]
    kind_head = heads.heads[heads.attrs.index("cell_kind[1]")]
    dish = torch.stack([ce(dish_head(out[b, q]), targets["dish"][b]) for b in range(3) for q in range(8)]).mean()
    kind = torch.stack([ce(kind_head(out[b, q]), targets["cell_kind[1]"][b]) for b in range(3) for q in (2, 3)]).mean()
    assert torch.allclose(got, (dish + kind) / 2, atol=1e-6)


def test_query_id_loss_is_chance_for_identical_tokens_and_small_for_distinct_ones():
    import math

    from workbench.tiny.build.vision_pretrain import query_id_loss

    head = torch.nn.Linear(16, 16)
    same = torch.ones(4, 16, 16)
    with torch.no_grad():
        head.weight.copy_(torch.eye(16) * 20)
        head.bias.zero_()
    assert abs(query_id_loss(head, same).item() - math.log(16)) < 1e-5  # identical tokens: no query can be told
    distinct = torch.eye(16).expand(4, 16, 16)
    assert query_id_loss(head, distinct).item() < 1e-6

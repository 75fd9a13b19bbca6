"""The tiny-model build at micro scale: end to end, losses fall, only llama_proj trains, MiniGPT-4's
checkpoint layout, loads through the real loader, same seed -> same bytes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
import train_stub_world as stub_world  # noqa: E402

from workbench.errors import WorkbenchError  # noqa: E402
from workbench.tiny.build.build import build_tiny  # noqa: E402
from workbench.tiny.build.config import get_config  # noqa: E402


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def micro_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    summary = build_tiny(get_config("micro"), out, world=stub_world, evaluate=True)
    return out, summary


def test_micro_build_writes_every_artifact(micro_build):
    out, summary = micro_build
    for name in ("stage1.pth", "stage2.pth", "tiny-stage1.json", "tiny-stage2.json", "card.md", "loss_log.jsonl",
                 "stage2_pairs.jsonl", "blip2/config.json", "llm/config.json", "llm/tokenizer.json"):
        assert (out / name).is_file(), name
    card = json.loads((out / "tiny-stage2.json").read_text())
    assert card["projection"] == "stage2.pth" and card["template"] == "vicuna0" and card["connector"] == "qformer"
    assert not Path(card["blip2"]).is_absolute() and not Path(card["llm"]).is_absolute()
    text = (out / "card.md").read_text()
    assert "linear-probe accuracy" in text and "Phase times" in text
    seeds = summary["phase_seeds"]
    assert set(seeds) == {"llm", "vision", "proj_init", "stage1", "stage2"} and len(set(seeds.values())) == 5
    line = next(x for x in text.splitlines() if x.startswith("Torch seeds of the phases: "))
    assert all(f"{k} {v}" in line for k, v in seeds.items())


def test_micro_build_lowers_every_loss(micro_build):
    out, _ = micro_build
    records = [json.loads(line) for line in (out / "loss_log.jsonl").read_text().splitlines()]
    for phase in ("llm", "vision", "stage1"):
        losses = [r["loss"] for r in records if r["phase"] == phase]
        assert len(losses) >= 2, phase
        assert losses[-1] < losses[0], (phase, losses)


def test_checkpoints_have_minigpt4_layout(micro_build):
    out, _ = micro_build
    for stage in ("stage1.pth", "stage2.pth"):
        ckpt = torch.load(out / stage, map_location="cpu", weights_only=True)
        assert {"model", "optimizer", "epoch"} <= set(ckpt)
        assert sorted(ckpt["model"]) == ["llama_proj.bias", "llama_proj.weight"]
        cfg = get_config("micro")
        assert tuple(ckpt["model"]["llama_proj.weight"].shape) == (cfg.llm_hidden, cfg.qformer_hidden)


def test_stage2_starts_from_stage1_and_moves(micro_build):
    out, _ = micro_build
    w1 = torch.load(out / "stage1.pth", weights_only=True)["model"]["llama_proj.weight"]
    w2 = torch.load(out / "stage2.pth", weights_only=True)["model"]["llama_proj.weight"]
    assert not torch.equal(w1, w2)
    # stage 2 is a short finetune: it stays much closer to stage 1 than stage 1 is to zero
    assert (w2 - w1).norm() < w1.norm()


def test_built_model_loads_through_the_real_loader(micro_build):
    loading = pytest.importorskip("workbench.model.loading")
    out, _ = micro_build
    model = loading.load_model(str(out / "tiny-stage2.json"))
    saved = torch.load(out / "stage2.pth", weights_only=True)["model"]
    assert torch.equal(model.llama_proj.weight, saved["llama_proj.weight"])
    assert model.tokenizer.padding_side == "left"
    features = model.encode_features(torch.zeros(2, 3, stub_world.IMAGE_SIZE, stub_world.IMAGE_SIZE))
    assert features.shape == (2, get_config("micro").num_query_tokens, get_config("micro").qformer_hidden)


def test_same_seed_gives_identical_checkpoint_bytes(tmp_path, micro_build):
    first, _ = micro_build
    second = tmp_path / "again"
    build_tiny(get_config("micro"), second, world=stub_world, evaluate=False)
    files = ["stage1.pth", "stage2.pth", "llm/model.safetensors", "llm/tokenizer.json"]
    files += [p.relative_to(first).as_posix() for p in (first / "blip2").glob("*.safetensors")]
    for name in files:
        assert _sha(first / name) == _sha(second / name), name


def test_other_seed_gives_other_weights(tmp_path, micro_build):
    first, summary = micro_build
    other = tmp_path / "other"
    other_summary = build_tiny(get_config("micro", seed=1), other, world=stub_world, evaluate=False)
    assert {k: v + 1000 for k, v in summary["phase_seeds"].items()} == other_summary["phase_seeds"]
    assert _sha(first / "stage1.pth") != _sha(other / "stage1.pth")


@pytest.mark.parametrize("setting", ["stage2_scene_share", "stage2_healthy_share"])
def test_a_share_outside_0_1_is_refused_before_any_work(tmp_path, setting):
    out = tmp_path / "never"
    with pytest.raises(WorkbenchError, match=f"{setting} must be between 0 and 1 .* got 1.5; fix it in "
                                             "workbench/tiny/build/config.py"):
        build_tiny(get_config("micro", **{setting: 1.5}), out, world=stub_world, evaluate=False)
    assert not out.exists()


def test_a_healthy_share_the_candidates_cannot_meet_is_refused_before_any_work(tmp_path, micro_build):
    from workbench.tiny.build.build import rebuild_stage2
    # the stub world's 16 micro candidate leaves are all diseased; share 0.5 of the 12 kept leaf pairs asks 6 healthy
    message = ("0 healthy and 16 diseased leaves are among the stage-2 candidates, 6 and 6 asked; raise "
               r"stage2_candidates_per_domain \(or change stage2_healthy_share\) in workbench/tiny/build/config.py")
    out = tmp_path / "never"
    with pytest.raises(WorkbenchError, match=message):
        build_tiny(get_config("micro", stage2_healthy_share=0.5), out, world=stub_world, evaluate=False)
    assert not out.exists()
    redo = tmp_path / "redo"
    shutil.copytree(micro_build[0], redo)
    before = {p.name: p.read_bytes() for p in redo.iterdir() if p.is_file()}
    with pytest.raises(WorkbenchError, match=message):
        rebuild_stage2(redo, get_config("micro", stage2_healthy_share=0.5), world=stub_world)
    assert {p.name: p.read_bytes() for p in redo.iterdir() if p.is_file()} == before


def test_world_corpus_appends_the_extra_families_the_world_brings():
    import workbench.tiny.world as world
    from workbench.tiny.build.build import world_corpus

    cfg = get_config("micro")
    docs = world_corpus(world, cfg)
    n_extra = (cfg.corpus_shape_docs + cfg.corpus_scene_qa_docs + cfg.corpus_dish_qa_docs + cfg.corpus_leaf_qa_docs
               + cfg.corpus_pope_docs)
    assert cfg.corpus_pope_docs > 0 and len(docs) == cfg.corpus_docs + n_extra
    seed = world.split_seed("corpus", cfg.seed)
    assert docs[:cfg.corpus_docs] == world.corpus(seed, cfg.corpus_docs, n_slots=cfg.num_query_tokens)
    assert docs[cfg.corpus_docs:] == world.extra_documents(
        seed, cfg.corpus_shape_docs, {"scene": cfg.corpus_scene_qa_docs, "dish": cfg.corpus_dish_qa_docs,
                                      "leaf": cfg.corpus_leaf_qa_docs}, n_slots=cfg.num_query_tokens,
        pope_docs=cfg.corpus_pope_docs)
    assert len(world_corpus(stub_world, cfg)) == cfg.corpus_docs  # the stand-in world brings no extra family


def test_the_card_reports_how_far_apart_the_llm_keeps_the_names(micro_build):
    from workbench.tiny.build.card import write_card

    out, summary = micro_build
    sep = summary["llm_name_separation"]
    assert set(sep) == {"kinds", "dishes", "diseases"}  # the stub world has no colours
    assert sep["kinds"] is not None and -1.0 <= sep["kinds"] <= 1.0
    assert sep["dishes"] is None  # one dish: nothing to compare
    card = (out / "card.md").read_text()
    assert f"kinds {sep['kinds']}" in card and "name_separation" in card
    assert "corpus_extra" not in summary and "documents, of them" not in card  # the stand-in world brings none
    write_card(out / "card2.md", summary | {"corpus_extra": {"shape facts": 6000, "slot questions": 6000}})
    assert "documents, of them 6000 shape facts and 6000 slot questions (" in (out / "card2.md").read_text()
    assert "stage2_healthy_share" not in card   # unset: the leaves are kept as they come
    write_card(out / "card3.md", summary | {"config": summary["config"] | {"stage2_healthy_share": 0.5}})
    assert "Healthy leaves are 50% of the kept leaf pairs (`stage2_healthy_share`" in (out / "card3.md").read_text()


def test_the_card_shows_the_slot_reading_when_the_build_measured_it(micro_build, tmp_path):
    from workbench.tiny.build.card import write_card

    out, summary = micro_build
    assert "dev_slot_reading" not in summary  # stand-in items carry no spec, so no true slots to feed
    reading = {"kinds": {"own": 0.545, "other": 3.197, "tokens": 215}, "colours": {"own": 0.4, "other": 2.9, "tokens": 9}}
    separation = {"kinds": 0.51, "colours": 0.3}
    extra = {"dev_slot_ceiling": summary["dev_stage2"], "dev_slot_reading": reading, "llm_name_separation": separation}
    write_card(tmp_path / "card.md", summary | extra)
    card = (tmp_path / "card.md").read_text()
    assert "| kinds | 0.545 | 3.197 | 215 |" in card
    # re-read from build_summary.json (sorted keys), as --stage2-only does: the same card
    write_card(tmp_path / "reread.md", json.loads(json.dumps(summary | extra, sort_keys=True)))
    assert (tmp_path / "reread.md").read_text() == card
    assert card.index("| colours |") < card.index("| kinds |") and "colours 0.3, kinds 0.51" in card


def test_a_world_lacking_a_name_the_build_reads_is_refused_with_the_missing_names(tmp_path):
    import types

    partial = types.ModuleType("partial_world")
    partial.IMAGE_SIZE, partial.sample_items = stub_world.IMAGE_SIZE, stub_world.sample_items
    with pytest.raises(WorkbenchError, match="lacks KIND_SYNONYMS, NAME_GROUPS, .*extra_documents"):
        build_tiny(get_config("micro"), tmp_path / "never", world=partial, evaluate=False)
    assert not (tmp_path / "never").exists()


def test_stage2_rebuild_gives_the_bytes_of_a_full_build_with_those_settings(micro_build, tmp_path):
    """rebuild_stage2 on a finished build == build_tiny with the new stage-2 settings, byte for byte."""
    from workbench.tiny.build.build import rebuild_stage2

    out, _ = micro_build
    redo = tmp_path / "redo"
    shutil.copytree(out, redo)
    cfg = get_config("micro", stage2_epochs=3, stage2_lr=5e-4)
    summary = rebuild_stage2(redo, cfg, world=stub_world)
    full = tmp_path / "full"
    expected = build_tiny(cfg, full, world=stub_world, evaluate=True)
    assert _sha(redo / "stage2.pth") == _sha(full / "stage2.pth") != _sha(out / "stage2.pth")
    assert _sha(redo / "stage1.pth") == _sha(out / "stage1.pth") == _sha(full / "stage1.pth")
    for name in ("stage2_pairs.jsonl", "loss_log.jsonl", "tiny-stage2.json"):
        assert (redo / name).read_text() == (full / name).read_text(), name
    assert summary["dev_stage2"] == expected["dev_stage2"] and summary["stage2"] == expected["stage2"]
    assert summary["config"] == expected["config"]
    assert set(summary["timing"]) == set(expected["timing"])
    on_disk = json.loads((redo / "build_summary.json").read_text())
    assert on_disk["config"]["stage2_epochs"] == 3 and "stage 2" in on_disk["stage2_rebuild"]["phases"]
    card = (redo / "card.md").read_text()
    assert "Curation and stage 2 (3 epochs at lr 0.0005) were redone" in card
    assert "were redone" not in (full / "card.md").read_text()


def test_stage2_rebuild_with_the_recorded_settings_changes_nothing(micro_build, tmp_path):
    from workbench.tiny.build.build import rebuild_stage2

    out, _ = micro_build
    redo = tmp_path / "same"
    shutil.copytree(out, redo)
    rebuild_stage2(redo, world=stub_world, evaluate=False)
    for name in ("stage2.pth", "stage2_pairs.jsonl", "loss_log.jsonl"):
        assert _sha(redo / name) == _sha(out / name), name
    # without the development check, the recorded one (the previous stage 2's answers) is not kept
    on_disk = json.loads((redo / "build_summary.json").read_text())
    assert "dev_stage2" not in on_disk and "dev eval stage 2" not in on_disk["timing"]
    # a build recorded before llm_continue_* existed (as the shipped one was) is redone all the same
    old = tmp_path / "old"
    shutil.copytree(out, old)
    summary = json.loads((old / "build_summary.json").read_text())
    summary["config"] = {k: v for k, v in summary["config"].items() if not k.startswith("llm_continue_")}
    (old / "build_summary.json").write_text(json.dumps(summary))
    rebuild_stage2(old, world=stub_world, evaluate=False)
    assert _sha(old / "stage2.pth") == _sha(out / "stage2.pth")


def test_stage2_rebuild_refuses_what_it_cannot_redo(micro_build, tmp_path):
    from workbench.tiny.build.build import rebuild_stage2

    with pytest.raises(WorkbenchError, match="no finished build"):
        rebuild_stage2(tmp_path, get_config("micro"), world=stub_world)
    out, _ = micro_build
    redo = tmp_path / "other"
    shutil.copytree(out, redo)
    before = _sha(redo / "stage2.pth")
    with pytest.raises(WorkbenchError, match=r"other llm_steps, seed than asked.*build it in full"):
        rebuild_stage2(redo, get_config("micro", seed=3, llm_steps=5), world=stub_world)
    assert _sha(redo / "stage2.pth") == before


def test_build_tiny_cli_stage2_only_prints_what_it_redid(tmp_path, capsys):
    from workbench.cli import main as cli

    out = tmp_path / "micro"
    assert cli(["build-tiny", "--scale", "micro", "--out", str(out), "--no-eval"]) == 0
    before = _sha(out / "stage2.pth")
    capsys.readouterr()
    assert cli(["build-tiny", "--stage2-only", "--out", str(out), "--no-eval"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"redid curation and stage 2 of {out} in ")
    assert printed[0].endswith("s wall, world data and features included (stage 2: 2 epochs at lr 0.001)")
    assert sorted(line.split()[0] for line in printed[1:]) == ["curation", "feature", "stage", "world"]
    assert _sha(out / "stage2.pth") == before
    assert cli(["build-tiny", "--stage2-only", "--out", str(tmp_path / "empty"), "--no-eval"]) != 0
    assert "empty: no such folder" in capsys.readouterr().err


def test_stage2_rebuild_names_a_missing_folder_and_the_command_that_builds_it(tmp_path):
    from workbench.tiny.build.build import rebuild_stage2

    with pytest.raises(WorkbenchError, match=rf"{tmp_path / 'nope'}: no such folder.*`workbench build-tiny --out "
                                             rf"{tmp_path / 'nope'}`"):
        rebuild_stage2(tmp_path / "nope")
    with pytest.raises(WorkbenchError,
                       match=rf"no finished build here.*`workbench build-tiny --out {tmp_path}` \(--scale micro"):
        rebuild_stage2(tmp_path)


def test_stage2_rebuild_refuses_a_summary_from_other_code_in_one_line(micro_build, tmp_path):
    from workbench.tiny.build.build import rebuild_stage2

    out, _ = micro_build
    redo = tmp_path / "future"
    shutil.copytree(out, redo)
    path = redo / "build_summary.json"
    summary = json.loads(path.read_text())
    summary["config"]["stage3_epochs"] = 2
    path.write_text(json.dumps(summary))
    before = _sha(redo / "stage2.pth")
    with pytest.raises(WorkbenchError, match=r"build_summary.json: its config has settings this code does not know "
                                             r"\(stage3_epochs\)"):
        rebuild_stage2(redo, world=stub_world)
    assert _sha(redo / "stage2.pth") == before and json.loads(path.read_text()) == summary


def test_vision_reuse_gives_the_bytes_of_a_full_build_with_other_llm_settings(micro_build, tmp_path):
    """build_tiny(vision_from=an earlier build) == build_tiny trained from scratch, byte for byte, when only settings
    the vision phase does not read differ (here the LLM's steps)."""
    out, first = micro_build
    cfg = get_config("micro", llm_steps=12)
    reused = build_tiny(cfg, tmp_path / "reused", world=stub_world, evaluate=True, vision_from=out)
    full = build_tiny(cfg, tmp_path / "full", world=stub_world, evaluate=True)
    for name in ("blip2/model-00001-of-00001.safetensors", "llm/model.safetensors", "stage1.pth", "stage2.pth"):
        assert _sha(tmp_path / "reused" / name) == _sha(tmp_path / "full" / name), name
    assert _sha(tmp_path / "reused" / "llm/model.safetensors") != _sha(out / "llm/model.safetensors")
    assert (tmp_path / "reused" / "loss_log.jsonl").read_text() == (tmp_path / "full" / "loss_log.jsonl").read_text()
    assert reused["vision"] == full["vision"] == first["vision"] and reused["probes"] == full["probes"]
    assert reused["dev_stage2"] == full["dev_stage2"]
    assert "vision reused" in reused["timing"] and "vision pretrain" not in reused["timing"]
    card = (tmp_path / "reused" / "card.md").read_text()
    assert f"`blip2/` is the one of `{out.resolve()}` (`workbench build-tiny --vision-from`)" in card
    assert "which is not checked" in card and "--vision-from" not in (tmp_path / "full" / "card.md").read_text()
    assert card.startswith("# tiny MiniGPT-4 (micro scale, seed 0)\n") and "pins torch to 1 thread;" in card
    # a chain names the build that trained it, absolute whatever path was given
    chained = build_tiny(cfg, tmp_path / "chained", world=stub_world, evaluate=False,
                         vision_from=Path(os.path.relpath(tmp_path / "reused")))
    assert chained["vision_reused_from"] == str((tmp_path / "reused").resolve())
    assert chained["vision_trained_in"] == reused["vision_trained_in"] == str(out.resolve())
    assert f", which reused the one trained in `{out.resolve()}`" in (tmp_path / "chained" / "card.md").read_text()
    assert _sha(tmp_path / "chained" / "stage2.pth") == _sha(tmp_path / "full" / "stage2.pth")


def test_vision_reuse_refuses_a_build_it_cannot_reuse_before_any_work(micro_build, tmp_path):
    out, _ = micro_build
    never = tmp_path / "never"
    with pytest.raises(WorkbenchError, match=rf"{out}: built with seed 0, vision_epochs 2 where this build asks for "
                                             "seed 2, vision_epochs 3, which the vision phase reads"):
        build_tiny(get_config("micro", seed=2, vision_epochs=3, llm_steps=5), never, world=stub_world,
                   vision_from=out)
    with pytest.raises(WorkbenchError, match=rf"{out}: a micro-scale build, and this one is full-scale; reuse a build "
                                             "of the same scale"):
        build_tiny(get_config("full"), never, world=stub_world, vision_from=out)
    assert not never.exists()
    # a snapshot without its weights is refused before any work: the output folder keeps what it had
    half = tmp_path / "half"
    (half / "blip2").mkdir(parents=True)
    shutil.copy(out / "blip2" / "config.json", half / "blip2")
    shutil.copy(out / "build_summary.json", half)
    kept = tmp_path / "kept"
    shutil.copytree(out, kept)
    with pytest.raises(WorkbenchError, match=rf"{half / 'blip2'}: cannot load it \(.*\); reuse a complete build"):
        build_tiny(get_config("micro"), kept, world=stub_world, vision_from=half)
    assert all(_sha(kept / p.relative_to(out)) == _sha(p) for p in out.rglob("*") if p.is_file())


def test_llm_from_trains_the_earlier_llm_further_with_its_tokenizer(micro_build, tmp_path):
    """build_tiny(llm_from=an earlier build): that build's tokenizer, its LLM trained llm_continue_steps more steps
    on this build's corpus (here a larger one), everything after it trained anew."""
    out, first = micro_build
    cfg = get_config("micro", corpus_docs=180)
    cont = build_tiny(cfg, tmp_path / "cont", world=stub_world, evaluate=False, llm_from=out)
    assert (tmp_path / "cont" / "llm" / "tokenizer.json").read_bytes() == (out / "llm" / "tokenizer.json").read_bytes()
    assert _sha(tmp_path / "cont" / "llm" / "model.safetensors") != _sha(out / "llm" / "model.safetensors")
    llm = cont["llm"]
    assert llm["continued_from"] == str(out.resolve()) and llm["steps"] == cfg.llm_continue_steps == 10
    assert llm["continued_from_sha256"] == _sha(out / "llm" / "model.safetensors")
    assert llm["peak_lr"] == cfg.llm_continue_lr and llm["corpus_docs"] > first["llm"]["corpus_docs"]
    # it starts from what the earlier LLM learnt, not from scratch: its first loss is far below a new LLM's
    assert llm["first_loss"] < first["llm"]["first_loss"] - 1.0
    assert "llm trained further" in cont["timing"] and "llm pretrain" not in cont["timing"]
    lines = [json.loads(x) for x in (tmp_path / "cont" / "loss_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines if r["phase"] == "llm"] == [0, 9]
    card = (tmp_path / "cont" / "card.md").read_text()
    assert f"they are those of `{out.resolve()}`" in card and "10 more steps at peak lr 0.001" in card
    again = build_tiny(cfg, tmp_path / "again", world=stub_world, evaluate=False, llm_from=out)
    for name in ("llm/model.safetensors", "stage1.pth", "stage2.pth"):   # deterministic, as every phase
        assert _sha(tmp_path / "again" / name) == _sha(tmp_path / "cont" / name), name
    assert again["llm"] == llm


def test_llm_from_refuses_an_llm_of_another_shape_before_any_work(micro_build, tmp_path):
    out, _ = micro_build
    with pytest.raises(WorkbenchError, match=rf"{out}: its LLM has llm_hidden 32 where this build asks for "
                                             "llm_hidden 48; train further an LLM of this shape"):
        build_tiny(get_config("micro", llm_hidden=48), tmp_path / "never", world=stub_world, llm_from=out)
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("flag, part, needs, phase", [
    ("vision_from", "blip2", "config.json", "vision"),
    ("llm_from", "llm", "config.json, tokenizer.json", "llm")])
def test_an_earlier_build_is_refused_before_any_work(micro_build, tmp_path, flag, part, needs, phase):
    """The checks --vision-from and --llm-from share (common.earlier_build_summary)."""
    out, _ = micro_build
    never, option = tmp_path / "never", "--" + flag.replace("_", "-")
    with pytest.raises(WorkbenchError, match=rf"{tmp_path / 'nope'}: no build with {part}/ \({needs}\) and "
                                             rf"build_summary.json here; give {option} the folder of an earlier"):
        build_tiny(get_config("micro"), never, world=stub_world, **{flag: tmp_path / "nope"})
    assert not never.exists()
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    with pytest.raises(WorkbenchError, match=f"{option} is the output folder, whose {part}/ the build replaces"):
        build_tiny(get_config("micro"), copy, world=stub_world, **{flag: copy})
    assert all(_sha(copy / p.relative_to(out)) == _sha(p) for p in out.rglob("*") if p.is_file())
    summary = json.loads((copy / "build_summary.json").read_text())
    del summary[phase]
    (copy / "build_summary.json").write_text(json.dumps(summary))
    with pytest.raises(WorkbenchError, match=rf"build_summary.json: its {phase} phase did not finish"):
        build_tiny(get_config("micro"), never, world=stub_world, **{flag: copy})
    assert not never.exists()


def test_build_tiny_cli_refuses_vision_from_with_stage2_only(tmp_path, capsys):
    from workbench.cli import main as cli

    assert cli(["build-tiny", "--stage2-only", "--vision-from", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "--stage2-only takes the build's own frozen parts and threads" in capsys.readouterr().err
    assert cli(["build-tiny", "--stage2-only", "--llm-from", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "drop --vision-from, --llm-from and --threads" in capsys.readouterr().err
    assert cli(["build-tiny", "--threads", "0", "--out", str(tmp_path)]) == 2
    assert "--threads 0 must be at least 1" in capsys.readouterr().err
    for given in (["--scale", "full"], ["--seed", "0"]):
        assert cli(["build-tiny", "--stage2-only", *given, "--out", str(tmp_path)]) == 2
        assert f"--stage2-only takes the build's own scale and seed (its build_summary.json); drop {given[0]}\n" \
            in capsys.readouterr().err
    assert not any(tmp_path.iterdir())   # nothing was built

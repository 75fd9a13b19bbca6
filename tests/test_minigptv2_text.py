"""MiniGPT-v2's template with task words, and its grounding outputs parsed into boxes."""

import pytest

from workbench.errors import WorkbenchError
from workbench.generation.grounding import parse_boxes
from workbench.model.templates import get_template, with_task


def test_v2_prompt_snapshot_with_task_words():
    # CONV_VISION_minigptv2 + prepare_texts: "<s>[INST] <Img><ImageHere></Img> [vqa] {q} [/INST]"
    template = get_template("minigptv2")
    assert template.chat_prompt(with_task("what color is the car?", "vqa")) == (
        "<s>[INST] <Img><ImageHere></Img> [vqa] what color is the car? [/INST]")
    assert template.chat_prompt(with_task("[refer] the left dog", "vqa")) == (
        "<s>[INST] <Img><ImageHere></Img> [refer] the left dog [/INST]")  # the prompt field's own task wins
    assert template.end_sym == "</s>"
    with pytest.raises(WorkbenchError, match="unknown MiniGPT-v2 task 'vqa2'; known tasks: vqa, caption"):
        with_task("q", "vqa2")


def test_grounding_outputs_become_boxes():
    text = "<p>a dog</p> {<12><30><45><88>}<delim>{<50><31><70><90>} and <p>the ball</p> {<5><5><9><9>}"
    assert parse_boxes(text) == [
        {"phrase": "a dog", "box": [12, 30, 45, 88]},
        {"phrase": "a dog", "box": [50, 31, 70, 90]},
        {"phrase": "the ball", "box": [5, 5, 9, 9]},
    ]
    assert parse_boxes("{<0><0><100><100>}") == [{"phrase": None, "box": [0, 0, 100, 100]}]
    assert parse_boxes("{<40><10><20><30>} {<1><2><3><101>} no box {<1><2><3>}") == []  # unordered, off-grid, short


def test_runs_with_the_v2_template_record_boxes(tmp_path):
    import json

    from generation_support import load_set, make_eval_set, tiny_model
    from workbench.generation.config import GenerationConfig
    from workbench.generation.runner import run_generation

    model = tiny_model()
    model.template = get_template("minigptv2")
    eval_set = load_set(make_eval_set(tmp_path / "set", n_items=2))
    run_generation(model, eval_set, tmp_path / "run", GenerationConfig.greedy(6), progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(row["boxes"] == parse_boxes(row["output"]) for row in rows)

"""Eval-set problems word for word (issue 20): every message a user reads, written out in full, and the
order and grouping of the problems ``workbench validate`` prints. A substring check would let a garbled
message or a lost detail (the JSON type, the expected fields, the file) pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from workbench.evalsets import load_eval_set, validate_eval_set
from workbench.evalsets.schema import check_record

from evalset_records import CAPTION, DIAG, POPE, RECIPE


def _set(root: Path, lines, files=None) -> Path:
    (root / "images").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (10, 200, 10)).save(root / "images" / "c1.png")
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    (root / "manifest.jsonl").write_text(text, encoding="utf-8")
    for name, content in (files or {}).items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (root / name).write_bytes(data)
    return root


def messages(root, **kw) -> list[str]:
    return [str(p) for p in validate_eval_set(root, **kw)]


# ---------------------------------------------------------------- one record

@pytest.mark.parametrize("record, expected", [
    (dict(CAPTION, id=1), ["field 'id' must be a string, got number"]),
    (dict(CAPTION, task=["caption"]), ["field 'task' must be a string, got list"]),
    (dict(CAPTION, image={"p": 1}), ["field 'image' must be a string, got object"]),
    (dict(CAPTION, prompt=None), ["field 'prompt' must be a string, got null"]),
    (dict(CAPTION, prompt=False), ["field 'prompt' must be a string, got boolean"]),
    (dict(CAPTION, id=2.5), ["field 'id' must be a string, got number"]),
    (dict(CAPTION, meta="m"), ["field 'meta' must be an object, got string"]),
    (dict(CAPTION, id=""), ["field 'id' is empty"]),
    (dict(CAPTION, prompt=" "), ["field 'prompt' is empty; leave it out to use the task's default prompt"]),
    (dict(CAPTION, image=""), ["field 'image' is empty"]),
    (dict(CAPTION, b=1, a=2), ["unknown field(s) 'a', 'b' (allowed: id, image, meta, prompt, reference, task; "
                               "put extras under 'meta')"]),
    (dict(CAPTION, task="poem"), ["unknown task 'poem' (known: caption, recipe, diagnosis, pope)"]),
    ({"task": "caption"}, ["missing field 'id'", "missing field 'image'", "missing field 'reference'"]),
    (dict(CAPTION, image="/abs/c1.png"),
     ["image path '/abs/c1.png' is absolute; give it relative to the eval-set folder"]),
    (dict(CAPTION, image="a/../../c1.png"),
     ["image path 'a/../../c1.png' escapes the eval-set folder ('..'); keep images inside it"]),
    (dict(CAPTION, image="C:/c1.png"), ["image path 'C:/c1.png' must use '/' separators and no drive letter"]),
    (dict(CAPTION, reference="r"), ["field 'reference' must be an object, got string"]),
    (dict(RECIPE, reference={"dish": "x", "ingredients": "flour", "steps": []}),
     ["reference.ingredients must be a list of strings, got string"]),
    (dict(RECIPE, reference={"dish": "x", "ingredients": {"a": 1}, "steps": []}),
     ["reference.ingredients must be a list of strings, got object"]),
    (dict(RECIPE, reference={"dish": None, "ingredients": ["f"], "steps": []}),
     ["reference.dish must be a string, got null"]),
    (dict(RECIPE, reference={"dish": "x", "ingredients": [], "steps": []}), ["reference.ingredients must not be empty"]),
    (dict(RECIPE, reference={"dish": "x", "ingredients": ["f"], "steps": [" "]}),
     ["reference.steps contains an empty string"]),
    (dict(RECIPE, reference={"ingredients": ["f"]}),
     ["reference for task 'recipe' lacks field 'dish' (expected dish, ingredients, steps)",
      "reference for task 'recipe' lacks field 'steps' (expected dish, ingredients, steps)"]),
    (dict(DIAG, reference={"crop": "tomato", "disease": "healthy", "treatments": ["spray"], "z": 0}),
     ["reference has unknown field(s) 'z' for task 'diagnosis' (expected crop, disease, treatments)",
      'a healthy leaf must have "treatments": []']),
    (dict(CAPTION, reference={"captions": ["...", "ok"], "objects": []}),
     ["reference.captions[0] '...' has no words (only punctuation or symbols); caption metrics would average "
      "in an empty reference: write the caption or drop it"]),
    (dict(POPE, reference={"label": "maybe", "object": "ball", "split": "odd"}),
     ["reference.label is 'maybe'; expected one of yes, no",
      "reference.split is 'odd'; expected one of random, popular, adversarial"]),
    (dict(POPE, reference={"label": "yes", "object": " ", "split": "random"}), ["reference.object is empty"]),
])
def test_each_record_problem_word_for_word(record, expected):
    assert check_record(record) == expected


def test_a_list_of_strings_with_a_non_string_is_named_as_such():
    assert check_record(dict(CAPTION, reference={"captions": ["ok", None], "objects": []})) == \
        ["reference.captions must contain only strings"]


def test_every_valid_task_passes():
    for record in (CAPTION, RECIPE, DIAG, POPE, dict(POPE, reference={"label": "no", "object": "cat",
                                                                      "split": "adversarial"})):
        assert check_record(record) == [], record


# ---------------------------------------------------------------- the folder, the manifest and its lines

def test_a_missing_folder_and_a_missing_manifest(tmp_path):
    assert messages(tmp_path / "nope") == [f"{tmp_path / 'nope'}: eval set folder does not exist; give a folder "
                                           "holding manifest.jsonl (`workbench import` makes one)"]
    (tmp_path / "empty").mkdir()
    assert messages(tmp_path / "empty") == [
        f"manifest.jsonl: missing; an eval set needs {tmp_path / 'empty' / 'manifest.jsonl'}"]


def test_problems_on_every_line_are_all_reported_in_line_order(tmp_path):
    root = _set(tmp_path / "es", ["{broken", "[1]", dict(CAPTION, id="c2", reference={"captions": ["a"],
                                                                                        "objects": ["kite"]}),
                                  dict(RECIPE, prompt=" "), CAPTION, dict(CAPTION, id="c1")],
                files={"vocabulary.json": json.dumps({"ball": []})})
    assert messages(root) == [
        "manifest.jsonl:1: invalid JSON (Expecting property name enclosed in double quotes at column 2)",
        "manifest.jsonl:2: a manifest line must be a JSON object, got list",
        "manifest.jsonl:3: reference.objects ['kite'] not in vocabulary.json; add them there (with synonyms)",
        "manifest.jsonl:4: field 'prompt' is empty; leave it out to use the task's default prompt",
        "manifest.jsonl:6: duplicate id 'c1' (first used on line 5)"]


def test_manifest_problems_come_before_the_other_files(tmp_path):
    root = _set(tmp_path / "es", [dict(CAPTION, prompt=" ")],
                files={"vocabulary.json": "[]", "synonyms.json": json.dumps({"x": "y"})})
    assert messages(root) == [
        "manifest.jsonl:1: field 'prompt' is empty; leave it out to use the task's default prompt",
        "synonyms.json: entry 'x' must be a list of non-empty strings (its synonyms)",
        "vocabulary.json: must be a JSON object mapping object name -> [synonyms]"]


def test_an_image_path_problem_is_not_followed_by_a_file_check(tmp_path):
    # the path is refused as written: looking the file up as well would only add noise (or reach outside)
    root = _set(tmp_path / "es", [dict(CAPTION, image="images/../../c1.png"), dict(CAPTION, id="c2", image="")])
    assert messages(root) == [
        "manifest.jsonl:1: image path 'images/../../c1.png' escapes the eval-set folder ('..'); keep images inside it",
        "manifest.jsonl:2: field 'image' is empty"]


def test_other_problems_of_a_line_do_not_skip_its_image_check(tmp_path):
    root = _set(tmp_path / "es", [dict(CAPTION, prompt=" ", image="images/gone.png")])
    assert messages(root) == [
        "manifest.jsonl:1: field 'prompt' is empty; leave it out to use the task's default prompt",
        f"manifest.jsonl:1: image 'images/gone.png' does not exist (looked for {root / 'images' / 'gone.png'})"]
    assert messages(root, check_images=False) == [
        "manifest.jsonl:1: field 'prompt' is empty; leave it out to use the task's default prompt"]


def test_an_undecodable_image_names_the_decoders_error(tmp_path):
    root = _set(tmp_path / "es", [dict(CAPTION, image="images/bad.png")])
    (root / "images" / "bad.png").write_bytes(b"not an image")
    [message] = messages(root)
    assert message.startswith("manifest.jsonl:1: image 'images/bad.png' cannot be decoded (UnidentifiedImageError: ")
    assert message.endswith("); replace the file")


# ---------------------------------------------------------------- vocabulary.json and synonyms.json

def test_vocabulary_terms_match_case_and_space_insensitively(tmp_path):
    vocab = {"teddy bear": ["Stuffed  Toy"], "ball": []}
    root = _set(tmp_path / "es", [dict(CAPTION, reference={"captions": ["a bear"],
                                                           "objects": ["Teddy  Bear", "stuffed toy", " BALL "]}),
                                  RECIPE, dict(CAPTION, id="c2", reference={"captions": ["x"], "objects": ["kite"]})],
                files={"vocabulary.json": json.dumps(vocab)})
    # the recipe line between the two captions is skipped, not the end of the check
    assert messages(root) == ["manifest.jsonl:3: reference.objects ['kite'] not in vocabulary.json; add them there "
                              "(with synonyms)"]


@pytest.mark.parametrize("vocab, clash", [
    ({"ball": [], "toy": ["Ball"]}, "term 'Ball' is listed under both 'ball' and 'toy'"),
    ({"teddy bear": [], "toy": ["teddy   bear"]}, "term 'teddy   bear' is listed under both 'teddy bear' and 'toy'"),
    ({"ball": ["sphere"], "orb": [" SPHERE "]}, "term ' SPHERE ' is listed under both 'ball' and 'orb'"),
])
def test_a_term_under_two_objects_is_found_whatever_its_case_and_spacing(tmp_path, vocab, clash):
    root = _set(tmp_path / "es", [CAPTION], files={"vocabulary.json": json.dumps(vocab)})
    assert messages(root) == [f"vocabulary.json: {clash}; keep it under one object"]


def test_a_bad_entry_does_not_stop_the_check_of_the_next_ones(tmp_path):
    vocab = {"bad": "x", "ball": ["toy"], "toy": []}
    root = _set(tmp_path / "es", [CAPTION], files={"vocabulary.json": json.dumps(vocab)})
    assert messages(root) == [
        "vocabulary.json: entry 'bad' must be a list of non-empty strings (its synonyms)",
        "vocabulary.json: term 'toy' is listed under both 'ball' and 'toy'; keep it under one object"]


def test_an_invalid_vocabulary_is_not_used_to_check_the_objects(tmp_path):
    # with its clash, vocabulary.json is refused as a whole: the objects are not checked against half of it
    root = _set(tmp_path / "es", [dict(CAPTION, reference={"captions": ["a"], "objects": ["kite"]})],
                files={"vocabulary.json": json.dumps({"ball": ["toy"], "toy": []})})
    assert messages(root) == ["vocabulary.json: term 'toy' is listed under both 'ball' and 'toy'; keep it under one "
                              "object"]


def test_a_vocabulary_file_that_is_not_utf8_is_reported_without_a_line(tmp_path):
    root = _set(tmp_path / "es", [CAPTION], files={"synonyms.json": b'{"caf\xe9": []}'})
    [problem] = validate_eval_set(root)
    assert (problem.file, problem.line) == ("synonyms.json", None)
    assert problem.message.startswith("invalid JSON ('utf-8' codec can't decode byte 0xe9")
    assert problem.message.endswith("); it must map object -> [synonyms]")


# ---------------------------------------------------------------- the loaded set

def test_loaded_set_without_vocabulary_file_says_so_and_collects_the_objects(tmp_path):
    root = _set(tmp_path / "es", [CAPTION, dict(CAPTION, id="c2", reference={"captions": ["x"],
                                                                             "objects": ["kite", "ball"]}), RECIPE])
    es = load_eval_set(root)
    assert es.has_vocabulary_file is False and es.synonyms == {}
    assert es.vocabulary == {"ball": [], "kite": []}
    assert es.name == "es" and es.root == root and es.warnings == []
    assert [(i.id, i.task, i.image, i.image_path) for i in es.items] == [
        ("c1", "caption", "images/c1.png", root / "images/c1.png"), ("c2", "caption", "images/c1.png",
                                                                     root / "images/c1.png"),
        ("r1", "recipe", "images/c1.png", root / "images/c1.png")]
    assert es.items[2].reference == RECIPE["reference"]


def test_pope_prompt_is_its_template_with_the_right_article(tmp_path):
    root = _set(tmp_path / "es", [POPE, dict(POPE, id="p2", reference={"label": "no", "object": "apple",
                                                                       "split": "popular"}),
                                  dict(POPE, id="p3", prompt="Own question?")])
    assert [i.prompt for i in load_eval_set(root).items] == ["Is there a ball in the image?",
                                                             "Is there an apple in the image?", "Own question?"]


def test_a_lone_surrogate_is_replaced_and_reported_as_a_warning_with_its_line(tmp_path):
    line = json.dumps(dict(CAPTION, reference={"captions": ["a ball"], "objects": ["ball"]}))
    bad = line.replace("a ball", "a \\ud835 ball")
    root = _set(tmp_path / "es", [line.replace('"c1"', '"c0"'), bad])
    es = load_eval_set(root)
    assert es.items[1].reference["captions"] == ["a \ufffd ball"]
    assert es.warnings == [f"{root / 'manifest.jsonl'}:2: 1 lone UTF-16 surrogate(s) (unencodable text) replaced "
                           "with U+FFFD; fix the escape in this line"]


def test_head_keeps_every_item_of_the_manifest_for_the_vocabularies(tmp_path):
    es = load_eval_set(_set(tmp_path / "es", [CAPTION, dict(CAPTION, id="c2"), RECIPE]))
    assert es.all_items is None
    two = es.head(2)
    assert [i.id for i in two.items] == ["c1", "c2"] and [i.id for i in two.all_items] == ["c1", "c2", "r1"]
    assert [i.id for i in two.head(1).all_items] == ["c1", "c2", "r1"]   # a head of a head: still the whole set


def test_blank_lines_between_records_are_skipped_not_the_end(tmp_path):
    root = _set(tmp_path / "es", [CAPTION, "", "   ", RECIPE, dict(RECIPE, id="r2", prompt=" ")])
    assert messages(root) == ["manifest.jsonl:5: field 'prompt' is empty; leave it out to use the task's default "
                              "prompt"]

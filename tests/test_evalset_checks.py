"""Eval-set checks at their edges (issue 20): symlinks out of the folder, empty ids and strings, path forms,
vocabulary clashes, byte-level problems. Each case plants one problem and expects its message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from workbench.errors import WorkbenchError
from workbench.evalsets import load_eval_set, validate_eval_set
from workbench.evalsets.schema import check_record

from evalset_records import CAPTION, DIAG, RECIPE


def _png(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (10, 200, 10)).save(path)


def _set(root: Path, records, files=None) -> Path:
    _png(root / "images" / "c1.png")
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    for name, text in (files or {}).items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def messages(root) -> list[str]:
    return [str(p) for p in validate_eval_set(root)]


def test_an_image_symlinked_out_of_the_folder_is_refused_and_one_inside_is_fine(tmp_path):
    _png(tmp_path / "outside.png")                       # a valid image: only the escape is wrong
    root = _set(tmp_path / "es", [dict(CAPTION, image="images/link.png"), dict(CAPTION, id="c2", image="images/in.png")])
    (root / "images" / "link.png").symlink_to(tmp_path / "outside.png")
    (root / "images" / "in.png").symlink_to(root / "images" / "c1.png")
    assert messages(root) == ["manifest.jsonl:1: image 'images/link.png' resolves outside the eval-set folder "
                              "(symlink?); copy it inside"]
    linked_dir = _set(tmp_path / "es2", [dict(CAPTION, image="pics/c1.png")])
    (linked_dir / "pics").symlink_to(tmp_path / "es" / "images")             # a folder link out: refused too
    assert messages(linked_dir) == ["manifest.jsonl:1: image 'pics/c1.png' resolves outside the eval-set folder "
                                    "(symlink?); copy it inside"]
    assert validate_eval_set(linked_dir, check_images=False) == []


def test_an_image_that_is_a_folder_is_refused(tmp_path):
    root = _set(tmp_path / "es", [dict(CAPTION, image="images")])
    assert messages(root) == ["manifest.jsonl:1: image 'images' is not a file"]


@pytest.mark.parametrize("record, message", [
    (dict(CAPTION, id=""), "field 'id' is empty"),
    (dict(CAPTION, id="  "), "field 'id' is empty"),
    (dict(CAPTION, prompt=" "), "field 'prompt' is empty; leave it out to use the task's default prompt"),
    (dict(CAPTION, image=" "), "field 'image' is empty"),
    (dict(CAPTION, image="images\\c1.png"), "must use '/' separators"),
    (dict(CAPTION, image="C:images/c1.png"), "must use '/' separators and no drive letter"),
    (dict(CAPTION, image="images/../../x.png"), "escapes the eval-set folder"),
    (dict(CAPTION, meta=[1]), "field 'meta' must be an object, got list"),
    (dict(CAPTION, extra=1), "unknown field(s) 'extra'"),
    (dict(CAPTION, reference={"captions": [" "], "objects": []}), "reference.captions must not be empty"),
    (dict(CAPTION, reference={"captions": ["ok", ""], "objects": []}), "reference.captions contains an empty string"),
    (dict(CAPTION, reference={"captions": ["ok"], "objects": [""]}), "reference.objects contains an empty string"),
    (dict(CAPTION, reference={"captions": ["ok", 3], "objects": []}), "reference.captions must contain only strings"),
    (dict(CAPTION, reference={"captions": ["ok"]}), "lacks field 'objects'"),
    (dict(CAPTION, reference={"captions": ["ok"], "objects": [], "x": 1}), "unknown field(s) 'x'"),
    (dict(CAPTION, reference=[]), "field 'reference' must be an object, got list"),
    (dict(RECIPE, reference={"dish": " ", "ingredients": ["flour"], "steps": []}), "reference.dish is empty"),
    (dict(RECIPE, reference={"dish": 1, "ingredients": ["flour"], "steps": []}),
     "reference.dish must be a string, got number"),
    (dict(DIAG, reference={"crop": "tomato", "disease": " Healthy ", "treatments": ["spray"]}),
     'a healthy leaf must have "treatments": []'),
])
def test_each_planted_record_problem_is_named(record, message):
    problems = check_record(record)
    assert len(problems) == 1 and message in problems[0], problems


def test_valid_records_have_no_problem():
    for record in (CAPTION, RECIPE, DIAG, dict(CAPTION, prompt="Describe.", meta={"source": "x"}),
                   dict(DIAG, reference={"crop": "tomato", "disease": "healthy", "treatments": []}),
                   dict(RECIPE, reference={"dish": "pancakes", "ingredients": ["flour"], "steps": []})):
        assert check_record(record) == []
    assert check_record([1]) == ["a manifest line must be a JSON object, got list"]


def test_empty_manifest_and_non_utf8_bytes(tmp_path):
    empty = _set(tmp_path / "empty", [])
    (empty / "manifest.jsonl").write_text("\n  \n", encoding="utf-8")
    assert messages(empty) == ["manifest.jsonl: has no items"]
    latin = _set(tmp_path / "latin", [CAPTION])
    (latin / "manifest.jsonl").write_bytes(json.dumps(CAPTION).encode() + b"\n" + b'{"id": "caf\xe9"}\n')
    assert messages(latin) == ["manifest.jsonl:2: is not UTF-8 text"]


def test_vocabulary_and_synonym_files_are_checked(tmp_path):
    clash = _set(tmp_path / "clash", [CAPTION], files={"vocabulary.json": json.dumps({"ball": ["toy"], "toy": []})})
    assert messages(clash) == ["vocabulary.json: term 'toy' is listed under both 'ball' and 'toy'; keep it under one object"]
    blank = _set(tmp_path / "blank", [CAPTION], files={"synonyms.json": json.dumps({"pancakes": [" "]})})
    assert messages(blank) == ["synonyms.json: entry 'pancakes' must be a list of non-empty strings (its synonyms)"]
    listed = _set(tmp_path / "listed", [CAPTION], files={"vocabulary.json": "[]"})
    assert messages(listed) == ["vocabulary.json: must be a JSON object mapping object name -> [synonyms]"]
    broken = _set(tmp_path / "broken", [CAPTION], files={"vocabulary.json": "{\n"})
    assert messages(broken)[0].startswith("vocabulary.json:2: invalid JSON")


def test_load_names_at_most_five_problems_and_counts_the_rest(tmp_path):
    root = _set(tmp_path / "es", [dict(CAPTION, id=f"c{i}", task="poem") for i in range(7)])
    with pytest.raises(WorkbenchError, match=r":5: unknown task 'poem'[^;]*\(and 2 more; run `workbench validate"):
        load_eval_set(root)


def test_head_and_counts(tmp_path):
    es = load_eval_set(_set(tmp_path / "es", [CAPTION, RECIPE, dict(RECIPE, id="r2"), DIAG]))
    assert es.counts() == {"caption": 1, "recipe": 2, "diagnosis": 1}
    assert [i.id for i in es.head(2).items] == ["c1", "r1"] and es.head(None) is es
    assert es.head(2).manifest_sha256 == es.manifest_sha256
    assert es.items[1].prompt == "How can I make this dish? List the ingredients and the steps."
    assert es.vocabulary == {"ball": []} and not es.has_vocabulary_file


@pytest.mark.parametrize("value, kind", [({}, "object"), ([], "list"), (True, "boolean"), (None, "null"),
                                         (3, "number"), (2.5, "number")])
def test_type_names_in_messages_are_json_names(value, kind):
    assert check_record(dict(CAPTION, id=value))[0] == f"field 'id' must be a string, got {kind}"
    if kind != "list":
        assert check_record(dict(RECIPE, reference={"dish": "x", "ingredients": value, "steps": []}))[0] == \
            f"reference.ingredients must be a list of strings, got {kind}"
    assert check_record(dict(CAPTION, meta="m")) == ["field 'meta' must be an object, got string"]


def test_every_missing_and_unknown_reference_field_is_listed():
    assert check_record(dict(CAPTION, reference={"z": 1, "y": 2})) == [
        "reference for task 'caption' lacks field 'captions' (expected captions, objects)",
        "reference for task 'caption' lacks field 'objects' (expected captions, objects)",
        "reference has unknown field(s) 'y', 'z' for task 'caption' (expected captions, objects)"]


@pytest.mark.parametrize("n_bad, more", [(5, ""), (6, " (and 1 more; run `workbench validate {root}` for the full list)")])
def test_load_lists_five_problems_joined_and_counts_the_rest(tmp_path, n_bad, more):
    root = _set(tmp_path / "es", [dict(CAPTION, id=f"c{i}", prompt=" ") for i in range(n_bad)])
    shown = "; ".join(f"manifest.jsonl:{i + 1}: field 'prompt' is empty; leave it out to use the task's default prompt"
                      for i in range(5))
    with pytest.raises(WorkbenchError) as err:
        load_eval_set(root)
    assert str(err.value) == f"{root}: invalid eval set: {shown}{more.format(root=root)}"


def test_a_missing_eval_set_folder_is_named_without_sending_the_user_to_validate(tmp_path):
    with pytest.raises(WorkbenchError) as err:
        load_eval_set(tmp_path / "nope")
    assert str(err.value) == (f"{tmp_path / 'nope'}: invalid eval set: eval set folder does not exist; give a folder "
                              "holding manifest.jsonl (`workbench import` makes one)")


def test_load_checks_images_by_default_and_keeps_files_and_synonyms(tmp_path):
    root = _set(tmp_path / "es", [dict(CAPTION, image="images/bad.png")])
    (root / "images" / "bad.png").write_bytes(b"not a png")
    with pytest.raises(WorkbenchError, match="cannot be decoded"):
        load_eval_set(root)
    assert load_eval_set(root, check_images=False).items[0].image == "images/bad.png"
    good = _set(tmp_path / "good", [CAPTION, RECIPE], files={"vocabulary.json": json.dumps({"ball": ["toy"]}),
                                                            "synonyms.json": json.dumps({"pancakes": ["crepes"]})})
    es = load_eval_set(good)
    assert es.has_vocabulary_file is True and es.vocabulary == {"ball": ["toy"]}
    assert es.synonyms == {"pancakes": ["crepes"]}
    assert (es.items[0].image, es.items[0].image_path) == ("images/c1.png", good / "images/c1.png")

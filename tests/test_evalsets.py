"""Eval-set contract: loading, default prompts, and `workbench validate` on planted problems."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.evalsets import DEFAULT_PROMPTS, load_eval_set, validate_eval_set


def _png(path: Path, color=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), color).save(path)


def _write(root: Path, lines, vocabulary=None):
    root.mkdir(parents=True, exist_ok=True)
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    (root / "manifest.jsonl").write_text(text, encoding="utf-8")
    if vocabulary is not None:
        (root / "vocabulary.json").write_text(json.dumps(vocabulary), encoding="utf-8")
    (root / "card.md").write_text("# test set\n", encoding="utf-8")


CAPTION = {"id": "c1", "task": "caption", "image": "images/c1.png",
           "reference": {"captions": ["a red ball on grass"], "objects": ["ball"]}}
RECIPE = {"id": "r1", "task": "recipe", "image": "images/r1.png", "prompt": "Recipe please.",
          "reference": {"dish": "pancakes", "ingredients": ["flour", "eggs"], "steps": ["mix", "fry"]}}
DIAG = {"id": "d1", "task": "diagnosis", "image": "images/d1.png",
        "reference": {"crop": "tomato", "disease": "healthy", "treatments": []}}


@pytest.fixture
def good_set(tmp_path):
    root = tmp_path / "good"
    for name in ("c1", "r1", "d1"):
        _png(root / "images" / f"{name}.png")
    _write(root, [CAPTION, RECIPE, DIAG], vocabulary={"ball": ["balls", "football"]})
    return root


def test_default_prompts_are_pinned():
    assert DEFAULT_PROMPTS == {
        "caption": "Describe this image in detail.",
        "recipe": "How can I make this dish? List the ingredients and the steps.",
        "diagnosis": "What is wrong with this plant leaf, and how should I treat it?",
        "pope": "Is there a {object} in the image?",
    }


def test_load_valid_set(good_set):
    es = load_eval_set(good_set)
    assert es.name == "good"
    assert [i.id for i in es.items] == ["c1", "r1", "d1"]
    assert es.items[0].prompt == DEFAULT_PROMPTS["caption"]
    assert es.items[1].prompt == "Recipe please."
    assert es.items[2].image_path == good_set / "images" / "d1.png"
    assert es.vocabulary == {"ball": ["balls", "football"]}
    import hashlib
    assert es.manifest_sha256 == hashlib.sha256((good_set / "manifest.jsonl").read_bytes()).hexdigest()
    assert validate_eval_set(good_set) == []


def test_vocabulary_falls_back_to_reference_objects(good_set):
    (good_set / "vocabulary.json").unlink()
    assert load_eval_set(good_set).vocabulary == {"ball": []}


@pytest.fixture
def broken_set(tmp_path):
    """One planted problem per line; the expected line number and message fragment for each."""
    root = tmp_path / "broken"
    _png(root / "images" / "ok.png")
    (root / "images" / "bad.png").write_bytes(b"not a png at all")
    (tmp_path / "outside.png").write_bytes(b"x")
    ok = dict(CAPTION, image="images/ok.png")
    lines = [
        ok,                                                                 # 1 fine
        '{"id": "x", "task": ',                                             # 2 invalid JSON
        {k: v for k, v in ok.items() if k != "image"} | {"id": "c2"},       # 3 missing image
        dict(ok, id=3),                                                     # 4 id not a string
        dict(ok, id="c4", task="poem"),                                     # 5 unknown task
        dict(ok),                                                           # 6 duplicate id c1
        dict(ok, id="c6", image="images/missing.png"),                      # 7 image missing
        dict(ok, id="c7", image="images/bad.png"),                          # 8 not decodable
        dict(ok, id="c8", image="../outside.png"),                          # 9 escapes with ..
        dict(ok, id="c9", image="/etc/passwd"),                             # 10 absolute
        dict(RECIPE, id="r2", image="images/ok.png",
             reference={"dish": "x", "ingredients": "flour", "steps": []}),  # 11 ingredients not a list
        dict(DIAG, id="d2", image="images/ok.png",
             reference={"crop": "tomato", "disease": "healthy", "treatments": ["spray"]}),  # 12 healthy+treat
        dict(ok, id="c12", reference={"captions": ["a cat"], "objects": ["cat"]}),  # 13 object not in vocab
    ]
    _write(root, lines, vocabulary={"ball": []})
    expected = {2: "invalid JSON", 3: "missing field 'image'", 4: "'id' must be a string",
                5: "unknown task 'poem'", 6: "duplicate id 'c1' (first used on line 1)",
                7: "does not exist", 8: "cannot be decoded", 9: "escapes the eval-set folder",
                10: "is absolute", 11: "reference.ingredients must be a list of strings",
                12: "healthy leaf must have", 13: "not in vocabulary.json"}
    return root, expected


def test_validate_reports_each_planted_problem(broken_set):
    root, expected = broken_set
    problems = validate_eval_set(root)
    by_line = {}
    for p in problems:
        assert str(p).startswith(f"manifest.jsonl:{p.line}: ")
        by_line.setdefault(p.line, []).append(p.message)
    assert set(by_line) == set(expected)
    for line, fragment in expected.items():
        assert any(fragment in m for m in by_line[line]), (line, by_line[line])


def test_load_invalid_set_raises_with_exit_code_2(broken_set):
    with pytest.raises(WorkbenchError) as info:
        load_eval_set(broken_set[0])
    assert info.value.exit_code == 2
    assert "manifest.jsonl:2:" in str(info.value)


def test_validate_cli_in_process(broken_set, good_set, capsys):
    root, expected = broken_set
    assert main(["validate", str(root)]) == 2
    out = capsys.readouterr().out.splitlines()
    for line in expected:
        assert any(o.startswith(f"manifest.jsonl:{line}: ") for o in out)
    assert main(["validate", str(good_set)]) == 0
    out = capsys.readouterr().out
    assert "3 items" in out and "caption" in out and "diagnosis" in out


def test_validate_cli_subprocess_no_traceback(broken_set):
    root, expected = broken_set
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-m", "workbench.cli", "validate", str(root)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert len([o for o in proc.stdout.splitlines() if o.startswith("manifest.jsonl:")]) >= len(expected)


def test_validate_missing_folder_and_bad_vocabulary(tmp_path):
    assert "does not exist" in str(validate_eval_set(tmp_path / "nope")[0])
    root = tmp_path / "v"
    _png(root / "images" / "c1.png")
    _write(root, [CAPTION])
    (root / "vocabulary.json").write_text("{not json", encoding="utf-8")
    assert any(p.file == "vocabulary.json" for p in validate_eval_set(root))
    (root / "vocabulary.json").write_text(json.dumps({"ball": ["toy"], "toy": []}), encoding="utf-8")
    assert any("listed under both" in p.message for p in validate_eval_set(root))


def test_unicode_and_blank_lines(tmp_path):
    root = tmp_path / "u"
    _png(root / "images" / "é.png")
    item = dict(CAPTION, id="ünï", image="images/é.png",
                reference={"captions": ["une crêpe"], "objects": ["crêpe"]})
    _write(root, [item, ""], vocabulary={"crêpe": ["crêpes"]})
    es = load_eval_set(root)
    assert es.items[0].id == "ünï"

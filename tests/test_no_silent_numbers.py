"""No silent numbers, no crashes on text: undefined CIDEr is null with a reason, lone surrogates are repaired
with a file:line warning, validate flags references without words and images generate cannot decode."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from workbench.cli import main
from workbench.errors import WorkbenchError
from workbench.evalsets import load_eval_set, validate_eval_set
from workbench.images import open_image
from workbench.scoring import score_file
from workbench.scoring.caption import cider_undefined, score_captions

JAVA = shutil.which("java") is not None


def test_cider_with_one_item_is_null_with_a_reason_not_zero():
    # one item: IDF = log(1) - log(1) = 0 for every n-gram, so even a word-perfect caption would get 0
    r = score_captions(["a man riding a horse"], [["a man riding a horse", "a person on a horse"]], use_java=False)
    assert r["items"][0]["cider"] is None and r["aggregate"]["cider"] is None
    assert any(w.startswith("CIDEr undefined (with one scored item)") for w in r["warnings"])
    assert r["aggregate"]["bleu_4"] == pytest.approx(1.0)      # the other metrics are unaffected


def test_cider_with_one_shared_reference_set_is_null():
    refs = [["a red bus on a street"]] * 3
    r = score_captions(["a red bus", "a bus on a street", "a cat"], refs, use_java=False)
    assert [it["cider"] for it in r["items"]] == [None, None, None] and r["aggregate"]["cider"] is None


def test_cider_defined_equals_pycocoevalcap():
    from pycocoevalcap.cider.cider import Cider

    hyps = ["a red bus on a street", "two dogs play in the snow"]
    refs = [["a red bus on a street", "a bus"], ["dogs in snow", "two dogs playing"]]
    assert cider_undefined(refs) == [False, False]
    # partly undefined: item 2's only n-gram "a" occurs in every item's references (df = N = 2)
    assert cider_undefined([["a b"], ["a"]]) == [False, True]
    r = score_captions(hyps, refs, use_java=False)
    expected, per_item = Cider().compute_score({i: refs[i] for i in range(2)}, {i: [hyps[i]] for i in range(2)})
    assert r["aggregate"]["cider"] == pytest.approx(expected)
    assert [it["cider"] for it in r["items"]] == pytest.approx(list(per_item))


def _png(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), (30, 90, 150)).save(path)


def _caption_set(root, captions):
    lines = []
    for k, refs in enumerate(captions):
        _png(root / "images" / f"{k}.png")
        lines.append(json.dumps({"id": f"c{k}", "task": "caption", "image": f"images/{k}.png",
                                 "reference": {"captions": refs, "objects": []}}, ensure_ascii=True))
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_scores_json_and_cli_say_why_cider_is_null(tmp_path, capsys):
    es = _caption_set(tmp_path / "es", [["a dog on a couch", "a puppy on a sofa"]])
    run = tmp_path / "run"
    run.mkdir()
    (run / "predictions.jsonl").write_text(json.dumps({"id": "c0", "output": "a dog on a couch"}) + "\n")
    assert main(["score", "--eval-set", str(es), "--predictions", str(run / "predictions.jsonl"),
                 "--no-meteor"]) == 0
    out = capsys.readouterr()
    assert "caption/cider" in out.out and "n/a" in out.out and "CIDEr undefined" in out.err
    scores = json.loads((run / "scores.json").read_text())
    assert scores["aggregate"]["caption/cider"] is None
    assert scores["undefined"]["caption/cider"].startswith("CIDEr undefined (with one scored item)")


def test_lone_surrogates_are_scored_as_replacement_characters_with_file_and_line(tmp_path, capsys):
    # reference with an unpaired high surrogate on manifest line 2; prediction with one on line 1
    es = _caption_set(tmp_path / "es", [["a dog on a couch"], ["a cat \ud835 on a mat", "a kitten"]])
    problems = validate_eval_set(es)
    assert problems == []                                  # repaired on reading: the set stays usable ...
    assert main(["validate", str(es)]) == 0
    assert "manifest.jsonl:2: warning: 1 lone UTF-16 surrogate(s)" in capsys.readouterr().out   # ... and said
    run = tmp_path / "run"
    run.mkdir()
    (run / "predictions.jsonl").write_text(
        '{"id": "c0", "output": "a dog \\ud835 on a couch"}\n{"id": "c1", "output": "a cat on a mat"}\n')
    scores = score_file(run / "predictions.jsonl", es, run / "scores.json", meteor=False)
    assert f"{run / 'predictions.jsonl'}:1: 1 lone UTF-16 surrogate(s)" in " ".join(scores["warnings"])
    assert f"{es / 'manifest.jsonl'}:2: 1 lone UTF-16 surrogate(s)" in " ".join(scores["warnings"])
    assert json.loads((run / "scores.json").read_text(encoding="utf-8"))["items"][0]["id"] == "c0"
    assert load_eval_set(es).items[1].reference["captions"][0] == "a cat \ufffd on a mat"


@pytest.mark.parametrize("caption", ["...", "\U0001F600", " - !"])
def test_validate_reports_a_reference_with_no_words(tmp_path, caption):
    es = _caption_set(tmp_path / "es", [["a dog"], ["a cat", caption]])
    [problem] = validate_eval_set(es)
    assert problem.line == 2 and "reference.captions[1]" in problem.message and "has no words" in problem.message
    with pytest.raises(WorkbenchError):
        load_eval_set(es)


def test_validate_decodes_images_as_generate_does(tmp_path):
    es = _caption_set(tmp_path / "es", [["a dog"], ["a cat"]])
    full = tmp_path / "full.jpg"
    noise = np.random.default_rng(0).integers(0, 255, (128, 128, 3)).astype("uint8")
    Image.fromarray(noise).save(full, format="JPEG")       # noise: the headers are a small share of the file
    data = full.read_bytes()
    (es / "images" / "1.png").unlink()
    (es / "images" / "1.jpg").write_bytes(data[: len(data) * 2 // 3])      # truncated JPEG, headers intact
    manifest = (es / "manifest.jsonl").read_text().replace("images/1.png", "images/1.jpg")
    (es / "manifest.jsonl").write_text(manifest)
    with Image.open(es / "images" / "1.jpg") as im:
        im.verify()                                  # PIL's verify() passes it: the old validate did too
    with pytest.raises(WorkbenchError, match="cannot decode image"):
        open_image(es / "images" / "1.jpg")          # generate's decoder fails on it ...
    [problem] = validate_eval_set(es)                # ... and so does validate now
    assert problem.line == 2 and "cannot be decoded" in problem.message

"""CHAIR equals the reference implementation's numbers (golden values) on captions and COCO annotations the
project makes, through `workbench import coco` and scoring.

Expected values: LisaAnne/Hallucination `utils/chair.py` (commit 6e4d33c) with its `data/synonyms.txt`, run
outside the project on the COCO files that `chair_cases.coco_files()` writes. Two changes to the reference's
copy, both forced by running it offline under Python 3: print statements became print() calls, and
`nltk.word_tokenize` (which needs the downloadable punkt_tab model) was replaced by what it does, Punkt's
sentence split with default parameters followed by `NLTKWordTokenizer`; `pattern.en.singularize` is Pattern
2.6's (the version of the reference's time), and `misc.py` (which only supplied `os`) was not imported.
GOLDEN / REAL: image id -> (objects the reference finds in the generated caption, one per mention; those it
calls hallucinated; its ground-truth objects). Object recall is not part of the reference: its expected
value is computed here from the reference's own truth and mention lists.
"""

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from chair_cases import CASES, REAL_CAPTIONS, coco_files
from workbench.cli import main
from workbench.evalsets import load_eval_set
from workbench.scoring import score_predictions
from workbench.scoring.hallucination import CocoChair, chair_tokens

ROOT = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get("WORKBENCH_REALDATA", ROOT.parent / "shared" / "realdata"))
REAL_COCO = REALDATA / "coco-val2017-12"

GOLDEN = {
    1: (
        ['person', 'person', 'person', 'skateboard'],
        [],
        ['person', 'skateboard'],
    ),
    2: (
        ['person', 'person', 'dog', 'skateboard'],
        ['dog'],
        ['person', 'skateboard'],
    ),
    3: (
        ['zebra', 'zebra'],
        [],
        ['zebra'],
    ),
    4: (
        ['cup', 'dining table', 'dining table', 'tv'],
        ['tv'],
        ['cup', 'dining table'],
    ),
    5: (
        ['tv', 'remote'],
        [],
        ['remote', 'tv'],
    ),
    6: (
        ['toilet', 'sink'],
        ['sink'],
        ['toilet'],
    ),
    7: (
        ['person', 'hot dog', 'cake', 'knife', 'dog'],
        ['dog'],
        ['cake', 'hot dog', 'knife', 'person'],
    ),
    8: (
        ['car', 'traffic light', 'fire hydrant', 'stop sign'],
        ['fire hydrant', 'stop sign'],
        ['car', 'person', 'traffic light'],
    ),
    9: (
        ['bus', 'person'],
        [],
        ['bus', 'person'],
    ),
    10: (
        ['airplane', 'person', 'tie'],
        ['tie'],
        ['airplane', 'person'],
    ),
    11: (
        ['cat', 'bed', 'cat', 'cat', 'teddy bear'],
        ['teddy bear'],
        ['bed', 'cat'],
    ),
    12: (
        ['person', 'toilet'],
        [],
        ['person', 'toilet'],
    ),
    13: (
        ['person', 'chair', 'cell phone'],
        ['chair'],
        ['cell phone', 'person'],
    ),
    14: (
        ['person', 'sports ball', 'tennis racket'],
        [],
        ['person', 'sports ball', 'tennis racket'],
    ),
    15: (
        ['wine glass', 'wine glass', 'bottle', 'dining table'],
        [],
        ['bottle', 'dining table', 'wine glass'],
    ),
    16: (
        ['refrigerator', 'oven', 'microwave'],
        ['microwave'],
        ['oven', 'refrigerator'],
    ),
    17: (
        [],
        [],
        ['person'],
    ),
    18: (
        ['person', 'skis', 'snowboard', 'skis'],
        ['snowboard'],
        ['person', 'skis'],
    ),
}
GOLDEN_CHAIR_I, GOLDEN_CHAIR_S = 0.19642857142857142, 0.5555555555555556   # reference: 11 / 56, 10 / 18

REAL = {
    139: (
        ['person', 'tv', 'dining table', 'chair', 'dog'],
        ['dog'],
        ['book', 'chair', 'clock', 'dining table', 'microwave', 'person', 'potted plant', 'refrigerator', 'tv',
         'vase'],
    ),
    18575: (
        ['sandwich', 'fork'],
        ['fork'],
        ['bottle', 'bowl', 'dining table', 'knife', 'sandwich', 'wine glass'],
    ),
    22892: (
        ['cat', 'dining table', 'potted plant', 'dog'],
        [],
        ['cat', 'chair', 'dining table', 'dog', 'potted plant'],
    ),
    101787: (
        ['airplane', 'bird'],
        ['bird'],
        ['airplane', 'cell phone'],
    ),
    117645: (
        ['person', 'skis'],
        [],
        ['person', 'skis', 'snowboard'],
    ),
    183709: (
        ['person', 'traffic light', 'car', 'truck'],
        ['truck'],
        ['car', 'handbag', 'person', 'traffic light'],
    ),
    229358: (
        ['person', 'tie', 'sink', 'toothbrush'],
        [],
        ['bottle', 'bowl', 'cell phone', 'cup', 'person', 'sink', 'tie', 'toothbrush'],
    ),
    244592: (
        ['zebra', 'zebra'],
        [],
        ['zebra'],
    ),
    255165: (
        ['dining table', 'tv', 'keyboard', 'laptop', 'mouse', 'cup', 'book', 'cell phone'],
        ['cell phone'],
        ['book', 'cup', 'dining table', 'keyboard', 'laptop', 'mouse', 'tv'],
    ),
    350679: (
        ['person', 'person', 'cake', 'hot dog', 'knife'],
        [],
        ['cake', 'dining table', 'hot dog', 'knife', 'person', 'tie'],
    ),
    368212: (
        ['person', 'toilet', 'toothbrush', 'sink'],
        ['sink'],
        ['bowl', 'chair', 'person', 'toilet', 'toothbrush'],
    ),
    434204: (
        ['person', 'skateboard', 'bench', 'dog'],
        ['dog'],
        ['backpack', 'bench', 'person', 'skateboard'],
    ),
}
REAL_CHAIR_I, REAL_CHAIR_S = 0.15217391304347827, 0.5833333333333334       # reference: 7 / 46, 7 / 12


def _check(scores, golden, chair_i, chair_s):
    by_id = {int(it["id"].split("-")[1]): it["metrics"] for it in scores["items"]}
    assert set(by_id) == set(golden)
    covered = total = 0
    for image_id, (mentioned, hallucinated, truth) in golden.items():
        m = by_id[image_id]
        assert (m["mentioned"], m["hallucinated"]) == (mentioned, hallucinated), image_id
        assert m["chair_i"] == pytest.approx(len(hallucinated) / len(mentioned) if mentioned else 0.0), image_id
        assert m["chair_s"] == int(bool(hallucinated)) and m["n_objects"] == len(truth), image_id
        assert m["n_covered"] == len(set(mentioned) & set(truth)), image_id
        covered, total = covered + len(set(mentioned) & set(truth)), total + len(truth)
    agg = scores["aggregate"]
    assert agg["caption/chair_i"] == pytest.approx(chair_i, abs=1e-15)
    assert agg["caption/chair_s"] == pytest.approx(chair_s, abs=1e-15)
    assert agg["caption/object_recall"] == pytest.approx(covered / total)


def _write_predictions(path, outputs):
    path.write_text("".join(json.dumps({"id": f"coco-{i}", "output": text, "finish": "stop"}) + "\n"
                            for i, text in outputs.items()), encoding="utf-8")


@pytest.fixture(scope="module")
def cases_set(tmp_path_factory):
    src = tmp_path_factory.mktemp("coco_src")
    captions, instances, _ = coco_files()
    for image in captions["images"]:
        (src / "images").mkdir(exist_ok=True)
        Image.new("RGB", (8, 8), (90, 90, 90)).save(src / "images" / image["file_name"], format="JPEG")
    (src / "captions.json").write_text(json.dumps(captions))
    (src / "instances.json").write_text(json.dumps(instances))
    out = src / "set"
    assert main(["import", "coco", "--captions", str(src / "captions.json"), "--instances",
                 str(src / "instances.json"), "--images", str(src / "images"), "--out", str(out)]) == 0
    return load_eval_set(out)


def test_chair_equals_reference_on_project_cases(cases_set):
    scores = score_predictions(cases_set, {f"coco-{i}": {"output": gen, "finish": "stop"}
                                           for i, _, _, gen in CASES}, meteor=False)
    _check(scores, GOLDEN, GOLDEN_CHAIR_I, GOLDEN_CHAIR_S)
    # the old distinct-object variant keeps its own name: case 11 names cat three times, teddy bear once
    by_id = {it["id"]: it["metrics"] for it in scores["items"]}
    assert by_id["coco-11"]["chair_i"] == pytest.approx(1 / 5)
    assert by_id["coco-11"]["chair_i_distinct"] == pytest.approx(1 / 3)


def test_importer_writes_instance_objects_and_reference_vocabulary(cases_set):
    item = {it.id: it for it in cases_set.items}["coco-7"]
    assert item.reference["objects"] == ["cake", "knife", "person"]   # instance labels only; captions add hot dog
    assert {"jetliner", "jet", "plane"} <= set(cases_set.vocabulary["airplane"])
    assert len(cases_set.vocabulary) == 80 and "desk" in cases_set.vocabulary["dining table"]


@pytest.mark.parametrize("text, objects", [
    ("A man, a woman and a boy on a skateboard.", ["person", "person", "person", "skateboard"]),
    ("A baby zebra and an adult giraffe.", ["zebra", "giraffe"]),
    ("Two tvs on a table.", ["tv", "dining table"]),
    ("A toilet seat.", ["toilet"]),
    ("The seat of the toilet and a seat.", ["toilet"]),
    ("A seat.", ["chair"]),
    ("A hot dog and a dog.", ["hot dog", "dog"]),
    ("A passenger jet over train tracks.", ["airplane"]),
    ("A man in a bow tie.", ["person", "tie"]),
    ("Two buses, one bus.", ["bus"]),          # the reference's singularizer turns "bus" into "bu"
    ("Policemen on motorbikes.", ["person", "motorcycle"]),
    ("A hot-dog stand.", []),                  # hyphenated words stay whole in nltk's tokenizer
])
def test_reference_word_rules(text, objects):
    assert [obj for _, obj in CocoChair.load().mentions(text)] == objects


def test_tokens_follow_nltk_word_tokenize():
    # expected tokens: nltk.word_tokenize (Punkt + NLTKWordTokenizer) on the same lower-cased strings
    assert chair_tokens("A 'dog' and a cat.") == ["a", "'", "dog", "'", "and", "a", "cat", "."]
    assert chair_tokens("on the table..") == ["on", "the", "table", ".."]
    assert chair_tokens("the cat's toy, a dog... and-more") == ["the", "cat", "'s", "toy", ",", "a", "dog", "...",
                                                                 "and-more"]


@pytest.mark.skipif(not REAL_COCO.is_dir(), reason=f"{REAL_COCO} absent (real COCO data is not part of the repo)")
def test_chair_equals_reference_on_real_coco(tmp_path):
    out = tmp_path / "coco12"
    assert main(["import", "coco", "--captions", str(REAL_COCO / "captions_subset_val2017.json"),
                 "--instances", str(REAL_COCO / "instances_subset_val2017.json"),
                 "--images", str(REAL_COCO / "images"), "--out", str(out)]) == 0
    run = tmp_path / "run"
    run.mkdir()
    _write_predictions(run / "predictions.jsonl", REAL_CAPTIONS)
    assert main(["score", "--eval-set", str(out), "--predictions", str(run / "predictions.jsonl"),
                 "--out", str(run / "scores.json"), "--no-meteor"]) == 0
    _check(json.loads((run / "scores.json").read_text()), REAL, REAL_CHAIR_I, REAL_CHAIR_S)

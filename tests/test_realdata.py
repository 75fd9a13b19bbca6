"""Checks against published numbers on real data in ../shared/realdata (skipped when that folder is absent).

coco-caption's demo (tylin/coco-caption ``cocoEvalCapDemo.ipynb``): its 1,000 "fake captions" against the
COCO val2014 references give BLEU-1..4 0.579/0.404/0.279/0.191, METEOR 0.195, ROUGE-L 0.396, CIDEr 0.600.
They are reproduced here (to the 3 printed digits) through the workbench's own path,
``workbench import coco`` + ``workbench score``.
The caption metrics do not read the images, so a placeholder image stands in for each COCO file.
"""

import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from workbench.cli import main

# beside the checkout, as the project's machines lay it out; WORKBENCH_REALDATA points elsewhere
REALDATA = Path(os.environ.get("WORKBENCH_REALDATA",
                               Path(__file__).resolve().parents[1].parent / "shared" / "realdata"))
FAKECAP = REALDATA / "coco-fakecap"
PUBLISHED = {"caption/bleu_1": 0.579, "caption/bleu_2": 0.404, "caption/bleu_3": 0.279, "caption/bleu_4": 0.191,
             "caption/meteor": 0.195, "caption/rouge_l": 0.396, "caption/cider": 0.600}

pytestmark = [
    pytest.mark.skipif(not FAKECAP.is_dir(), reason=f"{FAKECAP} absent (real data is not part of the repository)"),
    pytest.mark.skipif(shutil.which("java") is None, reason="PTBTokenizer and METEOR need Java"),
    pytest.mark.slow,
]


def test_coco_caption_demo_numbers_through_import_and_score(tmp_path, capsys):
    references = FAKECAP / "captions_val2014_fakecap_subset.json"
    results = json.loads((FAKECAP / "captions_val2014_fakecap_results.json").read_text())
    images = tmp_path / "val2014"
    images.mkdir()
    placeholder = tmp_path / "placeholder.jpg"
    Image.new("RGB", (8, 8), (128, 128, 128)).save(placeholder, format="JPEG")
    for image in json.loads(references.read_text())["images"]:
        shutil.copyfile(placeholder, images / image["file_name"])
    instances = tmp_path / "instances.json"
    instances.write_text(json.dumps({"images": [], "categories": [], "annotations": []}))
    out = tmp_path / "coco-fakecap"
    assert main(["import", "coco", "--captions", str(references), "--instances", str(instances),
                 "--images", str(images), "--out", str(out)]) == 0
    run = tmp_path / "run"
    run.mkdir()
    (run / "predictions.jsonl").write_text("".join(
        json.dumps({"id": f"coco-{r['image_id']}", "output": r["caption"], "finish": "stop"}) + "\n"
        for r in results))
    assert main(["score", "--eval-set", str(out), "--predictions", str(run / "predictions.jsonl")]) == 0
    scores = json.loads((run / "scores.json").read_text())
    assert scores["counts"] == {"caption": 1000} and not scores["missing_ids"] and not scores["unknown_ids"]
    assert scores["scorer"]["caption_tokenizer"] == "ptb"
    got = {key: round(scores["aggregate"][key], 3) for key in PUBLISHED}
    assert got == PUBLISHED

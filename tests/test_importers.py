"""Importers on small fixtures built in the real COCO / PlantVillage / Food-101 layouts."""

import json

import pytest
from PIL import Image

from workbench.errors import WorkbenchError
from workbench.evalsets import load_eval_set
from workbench.evalsets.importers import import_coco, import_food101, import_plantvillage
from workbench.cli import main as cli
from workbench.evalsets.importers.plantvillage import parse_class


def _jpg(path, color=(10, 120, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (6, 6), color).save(path, format="JPEG")


def test_coco(tmp_path):
    src = tmp_path / "coco"
    for name in ("COCO_val2014_000000000042.jpg", "COCO_val2014_000000000073.jpg"):
        _jpg(src / "val2014" / name)
    captions = {"images": [{"id": 73, "file_name": "COCO_val2014_000000000073.jpg"},
                           {"id": 42, "file_name": "COCO_val2014_000000000042.jpg"},
                           {"id": 99, "file_name": "absent.jpg"}],
                "annotations": [{"id": 1, "image_id": 42, "caption": "A man riding a horse. "},
                                {"id": 2, "image_id": 42, "caption": "A person on a pony."},
                                {"id": 3, "image_id": 73, "caption": "A dog on a couch."},
                                {"id": 4, "image_id": 99, "caption": "Lost image."}]}
    instances = {"categories": [{"id": 1, "name": "person", "supercategory": "person"},
                                {"id": 19, "name": "horse", "supercategory": "animal"},
                                {"id": 18, "name": "dog", "supercategory": "animal"},
                                {"id": 63, "name": "couch", "supercategory": "furniture"}],
                 "annotations": [{"id": 10, "image_id": 42, "category_id": 1},
                                 {"id": 11, "image_id": 42, "category_id": 19},
                                 {"id": 12, "image_id": 42, "category_id": 19},
                                 {"id": 13, "image_id": 73, "category_id": 18},
                                 {"id": 14, "image_id": 73, "category_id": 63}]}
    (src / "annotations").mkdir()
    (src / "annotations" / "captions_val2014.json").write_text(json.dumps(captions))
    (src / "annotations" / "instances_val2014.json").write_text(json.dumps(instances))
    out = import_coco(src / "annotations" / "captions_val2014.json", src / "annotations" / "instances_val2014.json",
                      src / "val2014", tmp_path / "coco_set")
    es = load_eval_set(out)
    assert [i.id for i in es.items] == ["coco-42", "coco-73"]
    assert es.items[0].reference == {"captions": ["A man riding a horse.", "A person on a pony."],
                                     "objects": ["horse", "person"]}
    assert "pony" in es.vocabulary["horse"] and "sofa" in es.vocabulary["couch"]
    card = (out / "card.md").read_text()
    assert "captions_val2014.json" in card and "2 captions items" in card and "1 annotated images were missing" in card
    with pytest.raises(WorkbenchError, match="not empty"):
        import_coco(src / "annotations" / "captions_val2014.json", src / "annotations" / "instances_val2014.json",
                    src / "val2014", out)


def test_parse_plantvillage_class_names():
    assert parse_class("Tomato___Early_blight") == ("Tomato", "Early blight")
    assert parse_class("Apple___healthy") == ("Apple", "healthy")
    assert parse_class("Tomato___Tomato_Yellow_Leaf_Curl_Virus") == ("Tomato", "Yellow Leaf Curl Virus")
    assert parse_class("Corn_(maize)___Common_rust_") == ("Corn (maize)", "Common rust")
    assert parse_class("Pepper,_bell___Bacterial_spot") == ("Pepper, bell", "Bacterial spot")


def test_plantvillage(tmp_path):
    src = tmp_path / "PlantVillage"
    for cls in ("Tomato___Early_blight", "Apple___healthy", "Apple___Apple_scab"):
        for k in range(3):
            _jpg(src / cls / f"{cls[:5]}_{k}.JPG")
    csv = tmp_path / "treatments.csv"
    csv.write_text("crop,disease,treatment\n"
                   "Tomato,Early blight,apply copper fungicide\n"
                   ",Early_blight,remove infected leaves\n"
                   "Potato,Early blight,not for tomatoes\n", encoding="utf-8")
    out = import_plantvillage(src, csv, tmp_path / "pv", limit_per_class=2)
    es = load_eval_set(out)
    assert len(es.items) == 6
    refs = {i.id.split("/")[0]: i.reference for i in es.items}
    assert refs["Tomato___Early_blight"] == {"crop": "Tomato", "disease": "Early blight",
                                             "treatments": ["apply copper fungicide", "remove infected leaves"]}
    assert refs["Apple___healthy"] == {"crop": "Apple", "disease": "healthy", "treatments": []}
    assert refs["Apple___Apple_scab"]["disease"] == "scab"
    assert "Apple___Apple_scab" in (out / "card.md").read_text()    # listed as lacking treatments
    bad = tmp_path / "bad.csv"
    bad.write_text("crop,illness\nTomato,x\n")
    with pytest.raises(WorkbenchError, match="bad.csv:1: header needs"):
        import_plantvillage(src, bad, tmp_path / "pv2")


def test_food101_via_module_cli(tmp_path, capsys):
    src = tmp_path / "food-101"
    for cls, ids in {"apple_pie": ["1001", "1002"], "pancakes": ["2001"], "sushi": ["3001"]}.items():
        for image_id in ids:
            _jpg(src / "images" / cls / f"{image_id}.jpg")
    (src / "meta").mkdir()
    (src / "meta" / "test.txt").write_text("apple_pie/1001\napple_pie/1002\npancakes/2001\nsushi/3001\n")
    recipes = tmp_path / "recipes.json"
    recipes.write_text(json.dumps({
        "apple_pie": {"ingredients": ["apples", "flour", "butter"], "steps": ["make dough", "bake"]},
        "pancakes": {"dish": "Pancakes", "ingredients": ["flour", "eggs", "milk"], "steps": ["mix", "fry"]}}))
    rc = cli(["import", "food101", "--root", str(src), "--recipes", str(recipes), "--out", str(tmp_path / "food"),
              "--limit-per-class", "1"])
    assert rc == 0 and "2 items" in capsys.readouterr().out
    es = load_eval_set(tmp_path / "food")
    assert [(i.id, i.reference["dish"]) for i in es.items] == [("apple_pie/1001", "apple pie"),
                                                              ("pancakes/2001", "Pancakes")]
    assert "sushi" in (tmp_path / "food" / "card.md").read_text()
    assert cli(["import", "food101", "--root", str(tmp_path / "nope"), "--recipes", str(recipes),
                "--out", str(tmp_path / "x")]) == 1
    assert "meta/test.txt: not found" in capsys.readouterr().err

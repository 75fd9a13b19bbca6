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
    assert parse_class("Tomato___Early_blight") == ("tomato", "early blight")
    assert parse_class("Apple___healthy") == ("apple", "healthy")
    assert parse_class("Tomato___Tomato_Yellow_Leaf_Curl_Virus") == ("tomato", "yellow leaf curl virus")
    assert parse_class("Corn_(maize)___Common_rust_") == ("corn", "common rust")
    assert parse_class("Pepper,_bell___Bacterial_spot") == ("bell pepper", "bacterial spot")
    assert parse_class("Cherry_(including_sour)___Powdery_mildew") == ("cherry", "powdery mildew")
    assert parse_class("Corn_(maize)___Cercospora_leaf_spot Gray_leaf_spot") == ("corn", "gray leaf spot")
    assert parse_class("Grape___Esca_(Black_Measles)") == ("grape", "esca")
    assert parse_class("Orange___Haunglongbing_(Citrus_greening)") == ("orange", "huanglongbing")


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
    assert refs["Tomato___Early_blight"] == {"crop": "tomato", "disease": "early blight",
                                             "treatments": ["apply copper fungicide", "remove infected leaves"]}
    assert refs["Apple___healthy"] == {"crop": "apple", "disease": "healthy", "treatments": []}
    assert refs["Apple___Apple_scab"]["disease"] == "scab"
    assert es.synonyms == {"scab": ["Apple_scab"]}                 # the raw name, kept as a synonym
    card = (out / "card.md").read_text()
    assert "Apple___Apple_scab" in card                             # listed as lacking treatments
    assert "4: Potato, Early blight" in card                        # the row for a crop with no folder
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


def test_plantvillage_names_normalized_raw_kept_and_treatments_matched(tmp_path, capsys):
    """The folder names the issue lists, their plain names as answers, and CSV rows on normalized names."""
    from workbench.scoring.diagnosis import score_diagnosis
    from workbench.scoring.vocab import TaskVocabulary

    src = tmp_path / "PlantVillage"
    for cls in ("Corn_(maize)___Cercospora_leaf_spot Gray_leaf_spot", "Pepper,_bell___Bacterial_spot",
                "Cherry_(including_sour)___healthy", "Tomato___Tomato_Yellow_Leaf_Curl_Virus",
                "Corn_(maize)___Common_rust_"):
        _jpg(src / cls / "leaf.jpg")
    csv = tmp_path / "treatments.csv"
    csv.write_text("crop,disease,treatment\n"
                   "Corn,Gray leaf spot,rotate crops\n"
                   "Corn (maize),Cercospora leaf spot,plant resistant hybrids\n"
                   "bell pepper,Bacterial spot,use clean seed\n"
                   ",Tomato_Yellow_Leaf_Curl_Virus,control whiteflies\n"
                   "Corn,Common rust,apply a fungicide\n"
                   "Tomato,Gray leaf spot,matches nothing\n", encoding="utf-8")
    out = import_plantvillage(src, csv, tmp_path / "pv")
    assert "treatments.csv:7: treatment row (crop 'Tomato', disease 'Gray leaf spot') matches no class" \
        in capsys.readouterr().err
    es = load_eval_set(out)
    refs = {i.id.split("/")[0]: i.reference for i in es.items}
    assert refs["Corn_(maize)___Cercospora_leaf_spot Gray_leaf_spot"] == {
        "crop": "corn", "disease": "gray leaf spot", "treatments": ["rotate crops", "plant resistant hybrids"]}
    assert refs["Pepper,_bell___Bacterial_spot"] == {"crop": "bell pepper", "disease": "bacterial spot",
                                                     "treatments": ["use clean seed"]}
    assert refs["Cherry_(including_sour)___healthy"]["crop"] == "cherry"
    assert refs["Tomato___Tomato_Yellow_Leaf_Curl_Virus"]["disease"] == "yellow leaf curl virus"
    assert refs["Corn_(maize)___Common_rust_"]["disease"] == "common rust"
    assert es.synonyms == {"corn": ["Corn_(maize)"], "bell pepper": ["Pepper,_bell"],
                           "cherry": ["Cherry_(including_sour)"],
                           "gray leaf spot": ["Cercospora_leaf_spot Gray_leaf_spot", "cercospora leaf spot"],
                           "yellow leaf curl virus": ["Tomato_Yellow_Leaf_Curl_Virus"]}
    # plain answers now score: 5 items, crop right on all 5 (was 1 of 5 with "Corn (maize)", "Pepper, bell")
    vocab = TaskVocabulary.from_eval_set(es)
    answers = {"Corn_(maize)___Cercospora_leaf_spot Gray_leaf_spot": "A corn leaf with gray leaf spot.",
               "Pepper,_bell___Bacterial_spot": "This bell pepper leaf has bacterial spot.",
               "Cherry_(including_sour)___healthy": "A healthy cherry leaf.",
               "Tomato___Tomato_Yellow_Leaf_Curl_Virus": "Tomato yellow leaf curl virus on a tomato leaf.",
               "Corn_(maize)___Common_rust_": "Maize (corn) leaf with common rust."}
    scored = {k: score_diagnosis(a, refs[k], vocab) for k, a in answers.items()}
    assert sum(s["crop_accuracy"] for s in scored.values()) == 5
    assert sum(s["disease_accuracy"] for s in scored.values()) == 5
    # the raw spelling is a synonym: "cercospora leaf spot" is the class gray leaf spot
    raw = score_diagnosis("Corn (maize) with Cercospora leaf spot", refs["Corn_(maize)___Common_rust_"], vocab)
    assert (raw["crop_pred"], raw["disease_pred"], raw["disease_accuracy"]) == ("corn", "gray leaf spot", 0)

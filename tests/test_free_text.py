"""Free-text scoring reads what the answer says: open lexicons, negation, off_task, limit invariance.
Every expected value is worked out by hand in the comment beside it."""

import json

import pytest
from PIL import Image

from workbench.evalsets import load_eval_set
from workbench.lexicon import lexicon
from workbench.names import food101_dish, normalize, plantvillage_class
from workbench.scoring import score_file
from workbench.scoring.diagnosis import score_diagnosis
from workbench.scoring.failure import failure_reasons
from workbench.scoring.negation import named
from workbench.scoring.recipe import score_recipe
from workbench.scoring.vocab import TaskVocabulary

# A plant set that never uses yellow leaf curl virus, apple scab or septoria, and a recipe set without tacos.
REFS = [
    ("diagnosis", {"crop": "tomato", "disease": "late blight", "treatments": ["apply copper fungicide"]}),
    ("diagnosis", {"crop": "tomato", "disease": "healthy", "treatments": []}),
    ("diagnosis", {"crop": "apple", "disease": "healthy", "treatments": []}),
    ("recipe", {"dish": "apple pie", "ingredients": ["apple", "flour", "butter", "sugar"], "steps": []}),
]
TOMATO_LB, TOMATO_OK, APPLE_OK, PIE = (ref for _, ref in REFS)


@pytest.fixture(scope="module")
def vocab():
    return TaskVocabulary.from_references(REFS)


def test_plantvillage_lexicon_covers_the_38_classes_under_their_imported_names():
    classes = ["Apple___Apple_scab", "Apple___Black_rot", "Apple___Cedar_apple_rust",
               "Cherry_(including_sour)___Powdery_mildew",
               "Corn_(maize)___Cercospora_leaf_spot Gray_leaf_spot", "Corn_(maize)___Common_rust_",
               "Corn_(maize)___Northern_Leaf_Blight", "Grape___Black_rot", "Grape___Esca_(Black_Measles)",
               "Grape___Leaf_blight_(Isariopsis_Leaf_Spot)", "Orange___Haunglongbing_(Citrus_greening)",
               "Peach___Bacterial_spot", "Pepper,_bell___Bacterial_spot", "Potato___Early_blight",
               "Potato___Late_blight", "Squash___Powdery_mildew", "Strawberry___Leaf_scorch", "Tomato___Bacterial_spot",
               "Tomato___Early_blight", "Tomato___Late_blight", "Tomato___Leaf_Mold", "Tomato___Septoria_leaf_spot",
               "Tomato___Spider_mites Two-spotted_spider_mite", "Tomato___Target_Spot",
               "Tomato___Tomato_Yellow_Leaf_Curl_Virus", "Tomato___Tomato_mosaic_virus"]
    healthy = ["Apple", "Blueberry", "Cherry_(including_sour)", "Corn_(maize)", "Grape", "Peach", "Pepper,_bell",
               "Potato", "Raspberry", "Soybean", "Strawberry", "Tomato"]
    assert len(classes) + len(healthy) == 38
    diseases, crops = lexicon("plant_diseases"), lexicon("crops")
    for folder in classes + [f"{c}___healthy" for c in healthy]:
        name = plantvillage_class(folder)
        assert name.crop in crops, folder
        assert name.disease == "healthy" or name.disease in diseases, folder
    for word in ("blight", "rust", "scab", "mildew", "rot", "mosaic", "leaf curl", "spot", "wilt", "canker", "mold"):
        terms = diseases | lexicon("plant_diseases", "generic")
        assert any(normalize(word) in map(normalize, [c, *s]) for c, s in terms.items()), word
    dishes = lexicon("dishes")
    assert len(dishes) == 101 and food101_dish("apple_pie") in dishes and "tacos" in dishes


def test_a_disease_the_eval_set_never_uses_is_a_false_alarm_or_a_wrong_diagnosis(vocab):
    # healthy tomato leaf called "yellow leaf curl virus" (lexicon only): a false alarm, diagnosis wrong
    a = score_diagnosis("This tomato leaf has tomato yellow leaf curl virus.", TOMATO_OK, vocab)
    assert (a["disease_pred"], a["disease_accuracy"], a["healthy_false_alarm"]) == ("yellow leaf curl virus", 0, 1)
    # healthy apple leaf called "apple scab": the lexicon's "scab" -> false alarm; crop apple is still read
    b = score_diagnosis("An apple leaf with apple scab.", APPLE_OK, vocab)
    assert (b["crop_pred"], b["disease_pred"], b["healthy_false_alarm"]) == ("apple", "scab", 1)
    # a late-blight leaf called septoria leaf spot (not in the set): wrong, not "no condition named"
    c = score_diagnosis("Septoria leaf spot on tomato.", TOMATO_LB, vocab)
    assert (c["disease_pred"], c["disease_accuracy"]) == ("septoria leaf spot", 0)
    # a bare generic word is a disease too: "blight" on a healthy leaf is a false alarm, on late blight wrong
    assert score_diagnosis("Some blight here.", TOMATO_OK, vocab)["healthy_false_alarm"] == 1
    assert score_diagnosis("Some blight here.", TOMATO_LB, vocab)["disease_accuracy"] == 0
    # ... but a specific name wins over a generic symptom word said first
    d = score_diagnosis("Many small grey spots: this tomato leaf has late blight.", TOMATO_LB, vocab)
    assert (d["disease_pred"], d["disease_accuracy"]) == ("late blight", 1)
    assert score_diagnosis("Small brown spots on a tomato leaf.", TOMATO_OK, vocab)["disease_pred"] == "spot"
    # the eval set's own name still wins over the lexicon's generic word ("late blight", not "blight")
    assert score_diagnosis("Late blight on a tomato leaf.", TOMATO_LB, vocab)["disease_accuracy"] == 1


@pytest.mark.parametrize("text, pred, false_alarm", [
    ("This tomato leaf shows no sign of blight.", None, 0),
    ("The tomato leaf does not have late blight; it is healthy.", "healthy", 0),
    ("A tomato leaf free of late blight and rust.", None, 0),
    ("A blight-free, healthy tomato leaf.", "healthy", 0),
    ("Not late blight: a healthy leaf.", "healthy", 0),
    ("No visible signs of disease on this tomato leaf.", "healthy", 0),       # negated disease word -> healthy
    ("This leaf is not healthy, it has late blight.", "late blight", 1),      # "not" scopes over "healthy" only
    ("No, this tomato leaf has late blight.", "late blight", 1),              # "no" followed by a clause
    ("There is no blight, but rust covers the leaf.", "rust", 1),             # "but" ends the negation
])
def test_negation_does_not_name_what_it_denies(vocab, text, pred, false_alarm):
    r = score_diagnosis(text, TOMATO_OK, vocab)
    assert (r["disease_pred"], r["healthy_false_alarm"]) == (pred, false_alarm)


def test_negation_in_recipes(vocab):
    # "no butter", "sugar-free": predicted {apple, flour} -> tp 2 of 2 predicted, 2 of 4 reference
    r = score_recipe("Apple pie, sugar-free and with no butter: apples and flour. Mix, then bake.", PIE, vocab)
    assert (r["ingredient_tp"], r["n_ingredients_pred"], r["ingredient_precision"]) == (2, 2, 1.0)
    assert r["ingredient_recall"] == pytest.approx(2 / 4)
    assert named("It is not apple pie.", vocab.recipe) == []


def test_off_task_is_another_task_not_a_wrong_answer(vocab):
    def reasons(task, text):
        return failure_reasons(task, text, "stop", vocab)["failure_reasons"]

    taco = ("Tacos: warm the tortillas, brown the minced beef with cumin, add salsa and cheese, then serve.")
    assert reasons("recipe", taco) == []                                   # a wrong dish is not a failure
    assert score_recipe(taco, PIE, vocab)["dish_pred"] == "tacos"          # ... it is a wrong dish
    leaf = "A potato leaf with dark brown late blight lesions on pale sand, seen from above."
    assert reasons("recipe", leaf) == ["off_task"]                         # a leaf described: another task
    recipe = "Slice the apples, mix them with flour, butter and sugar, then bake the pie for forty minutes."
    assert reasons("diagnosis", recipe) == ["off_task"]                    # a recipe when a diagnosis was asked
    assert reasons("diagnosis", "The tomato leaf shows no sign of any disease at all.") == []   # negated: on task
    assert reasons("diagnosis", "Grapevine leaf with esca, prune the infected wood.") == []     # lexicon crop/disease


def _png(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4), (200, 80, 40)).save(path)


def test_scores_do_not_depend_on_limit(tmp_path):
    """16 pancake items, then 4 omelette items whose ingredients (eggs, cheese) the first 16 never use."""
    root = tmp_path / "es"
    lines = []
    for k in range(20):
        dish, ingredients = ("pancakes", ["flour", "milk"]) if k < 16 else ("omelette", ["eggs", "cheese"])
        _png(root / "images" / f"{k}.png")
        lines.append({"id": f"r{k:02d}", "task": "recipe", "image": f"images/{k}.png",
                      "reference": {"dish": dish, "ingredients": ingredients, "steps": []}})
    (root / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    answer = "Pancakes: flour, milk, eggs and cheese. First mix, then fry."
    scores = {}
    for limit in (16, None):
        run = tmp_path / f"run-{limit}"
        run.mkdir()
        (run / "run.json").write_text(json.dumps({"schema": 1, "limit": limit, "eval_set": {
            "manifest_sha256": load_eval_set(root).manifest_sha256}}))
        n = 20 if limit is None else limit
        (run / "predictions.jsonl").write_text("".join(
            json.dumps({"id": f"r{k:02d}", "output": answer, "n_tokens": 9, "finish": "stop"}) + "\n"
            for k in range(n)))
        scores[limit] = score_file(run / "predictions.jsonl", load_eval_set(root), run / "scores.json")
    limited = {it["id"]: it["metrics"] for it in scores[16]["items"]}
    full = {it["id"]: it["metrics"] for it in scores[None]["items"]}
    assert len(limited) == 16
    for item_id, metrics in limited.items():
        assert metrics == full[item_id], item_id
    # eggs and cheese are read under --limit 16 too: precision 2 of 4 named (was 2 of 2 with the first 16 only)
    assert limited["r00"]["ingredient_precision"] == 0.5
    assert scores[16]["aggregate"]["recipe/ingredient_precision"] == pytest.approx(32 / 64)
    # the full set adds 4 omelette items answered "pancakes": dish wrong, 2 of 4 named ingredients right
    assert scores[None]["aggregate"]["recipe/dish_accuracy"] == pytest.approx(16 / 20)

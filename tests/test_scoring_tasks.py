"""Hand-computed expectations for text matching, CHAIR, failure flags, recipes and diagnoses."""

import numpy as np
import pytest

from workbench.scoring import Aggregator, aggregate_items
from workbench.scoring.diagnosis import score_diagnosis
from workbench.scoring.failure import failure_reasons, repetition_share
from workbench.scoring.hallucination import score_hallucination
from workbench.scoring.recipe import score_recipe, steps_present
from workbench.scoring.text import Matcher, normalize, singular
from workbench.scoring.vocab import TaskVocabulary

OBJECTS = {"dog": ["puppy"], "couch": ["sofa"], "cat": ["kitten"], "hot dog": [], "person": ["man", "woman"]}
REFS = [
    ("caption", {"captions": ["x"], "objects": ["dog", "couch"]}),
    ("recipe", {"dish": "apple pie", "ingredients": ["apple", "flour", "butter", "sugar"], "steps": []}),
    ("recipe", {"dish": "crêpes", "ingredients": ["eggs", "milk", "flour"], "steps": []}),
    ("diagnosis", {"crop": "tomato", "disease": "early blight",
                   "treatments": ["apply copper fungicide", "remove infected leaves"]}),
    ("diagnosis", {"crop": "tomato", "disease": "late blight", "treatments": ["apply copper fungicide"]}),
    ("diagnosis", {"crop": "apple", "disease": "healthy", "treatments": []}),
]


@pytest.fixture(scope="module")
def vocab():
    return TaskVocabulary.from_references(REFS, objects=OBJECTS, synonyms={"crêpes": ["crepe suzette"]})


def test_normalize_and_singular():
    assert normalize("Crêpe_Suzette!  NOW") == "crepe suzette now"
    for plural, single in [("tomatoes", "tomato"), ("berries", "berry"), ("leaves", "leaf"), ("dishes", "dish"),
                           ("glasses", "glass"), ("eggs", "egg"), ("bus", "bus"), ("cheeses", "cheese")]:
        assert singular(plural) == singular(single), plural


def test_matcher_longest_match_synonyms_plurals_unicode():
    m = Matcher(OBJECTS)
    assert m.find("Two PUPPIES and a hot dog on the sofas; a man.") == ["dog", "hot dog", "couch", "person"]
    assert m.find("") == []
    assert Matcher({"crêpe": []}).find("three crepes") == ["crêpe"]


def test_chair_hand_computed(vocab):
    # mentions: dog (puppies), couch (sofa), cat (kitten), dog -> truth {dog, couch}: 1 hallucinated of 4
    # mentions (CHAIR_i, every mention counts), 1 of 3 distinct objects (chair_i_distinct)
    r = score_hallucination("Puppies on a sofa with a kitten; the dog sleeps.", ["dog", "couch"], vocab.objects)
    assert (r["chair_i"], r["chair_s"], r["object_recall"]) == (0.25, 1, 1.0)
    assert r["chair_i_distinct"] == pytest.approx(1 / 3)
    assert r["mentioned"] == ["dog", "couch", "cat", "dog"] and r["hallucinated"] == ["cat"]
    # objects named by a reference caption are truth too (Rohrbach et al.): the kitten is no longer hallucinated
    r = score_hallucination("Puppies on a sofa with a kitten.", ["dog", "couch"], vocab.objects,
                            ["A puppy and a cat on a couch."])
    assert (r["chair_i"], r["chair_s"], r["n_objects"], r["n_covered"]) == (0.0, 0, 3, 3)
    r = score_hallucination("", ["dog"], vocab.objects)
    assert (r["chair_i"], r["chair_s"], r["object_recall"], r["n_mentioned"]) == (0.0, 0, 0.0, 0)
    items = [score_hallucination("a dog and a cat", ["dog"], vocab.objects),   # 1 of 2 hallucinated
             score_hallucination("a couch", ["couch", "dog"], vocab.objects),  # 0 of 1, recall 1/2
             score_hallucination("nothing here", ["cat"], vocab.objects)]      # 0 mentioned, recall 0/1
    for it in items:
        it.update(bleu_stats=[0] * 10, rouge_l=0.0, cider=0.0, failure=0)
    agg = aggregate_items("caption", items)
    assert agg["caption/chair_i"] == pytest.approx(1 / 3)       # (1 + 0 + 0) / (2 + 1 + 0)
    assert agg["caption/chair_s"] == pytest.approx(1 / 3)
    assert agg["caption/object_recall"] == pytest.approx(2 / 4)  # (1 + 1 + 0) / (1 + 2 + 1)
    assert aggregate_items("caption", items[2:])["caption/chair_i"] is None  # no mention at all: undefined


def test_failure_reasons(vocab):
    def reasons(task, text, finish="stop"):
        return failure_reasons(task, text, finish, vocab)["failure_reasons"]

    assert reasons("caption", None) == ["missing"]
    assert reasons("caption", "  ... ") == ["empty"]
    assert reasons("caption", "A dog.") == ["too_short"]
    assert reasons("caption", "A brown dog is lying on a large sofa in the living room.") == []
    assert reasons("caption", "a dog a dog a dog a dog a dog a dog") == ["repetition"]
    assert reasons("caption", "A brown dog is lying on a large sofa in the living room", "length") == ["no_end"]
    assert reasons("caption", "A brown dog lies on a large sofa in a room.###Human: hi") == ["template_leak"]
    assert reasons("caption", "The weather today is sunny with a light breeze from the west.") == ["off_task"]
    assert reasons("recipe", "I really cannot tell you anything at all about this picture, sorry friend.") \
        == ["off_task"]
    assert reasons("recipe", "Whisk everything together carefully and then bake it for about forty minutes.") == []
    assert reasons("diagnosis", "I see a picture of something green.") == ["off_task"]
    assert reasons("diagnosis", "The apple leaf looks healthy.") == []
    assert repetition_share("a b c a b c".split()) == pytest.approx(1 - 3 / 4)


def test_steps_present():
    assert steps_present("1. Mix the flour.\n2. Bake it.") == 1
    assert steps_present("Step 1: mix. Step 2: bake.") == 1
    assert steps_present("First, mix the flour; then bake.") == 1
    assert steps_present("Mix the flour and bake.") == 0
    assert steps_present("2. bake 1. mix") == 0
    assert steps_present("Then mix; first bake.") == 0


def test_recipe_hand_computed(vocab):
    out = "Apple pie! Ingredients: apples, flour, sugar, eggs. 1. Mix. 2. Bake."
    r = score_recipe(out, REFS[1][1], vocab)
    # ingredients {apple, flour, sugar, egg (of the crêpes recipe)}: "apple pie" is the dish, "apples" apple
    assert r["dish_accuracy"] == 1
    assert (r["ingredient_tp"], r["n_ingredients_pred"], r["n_ingredients_ref"]) == (3, 4, 4)
    assert r["ingredient_precision"] == pytest.approx(3 / 4) and r["ingredient_recall"] == pytest.approx(3 / 4)
    assert r["steps_present"] == 1
    r2 = score_recipe("Crepe Suzette with milk.", REFS[2][1], vocab)      # synonym + accent folding
    assert r2["dish_accuracy"] == 1 and r2["ingredient_tp"] == 1 and r2["n_ingredients_pred"] == 1
    wrong_first = score_recipe("Crêpes, or maybe an apple pie.", REFS[1][1], vocab)
    assert wrong_first["dish_accuracy"] == 0
    negated_first = score_recipe("Not crêpes, this is apple pie.", REFS[1][1], vocab)   # "not X" names no X
    assert negated_first["dish_accuracy"] == 1
    empty = score_recipe("", REFS[1][1], vocab)
    assert (empty["dish_accuracy"], empty["ingredient_f1"], empty["steps_present"]) == (0, 0.0, 0)
    items = [dict(r, failure=0), dict(r2, failure=0), dict(empty, failure=1)]
    agg = aggregate_items("recipe", items)
    p, rec = (3 + 1 + 0) / (4 + 1 + 0), (3 + 1 + 0) / (4 + 3 + 4)
    assert agg["recipe/ingredient_precision"] == pytest.approx(p)
    assert agg["recipe/ingredient_recall"] == pytest.approx(rec)
    assert agg["recipe/ingredient_f1"] == pytest.approx(2 * p * rec / (p + rec))
    assert agg["recipe/dish_accuracy"] == pytest.approx(2 / 3)
    assert agg["recipe/failure_rate"] == pytest.approx(1 / 3)


def test_diagnosis_hand_computed(vocab):
    eb, lb, healthy = REFS[3][1], REFS[4][1], REFS[5][1]
    a = score_diagnosis("Tomato leaves with early blight. Remove the infected leaves.", eb, vocab)
    assert (a["crop_accuracy"], a["disease_accuracy"], a["treatment_recall"]) == (1, 1, 0.5)
    b = score_diagnosis("This tomato has early blight; apply a copper fungicide.", lb, vocab)
    assert (b["disease_pred"], b["disease_accuracy"], b["treatment_recall"]) == ("early blight", 0, 1.0)
    c = score_diagnosis("The apple leaf is healthy.", healthy, vocab)
    assert (c["disease_pred"], c["disease_accuracy"], c["healthy_false_alarm"]) == ("healthy", 1, 0)
    d = score_diagnosis("Apple with late blight.", healthy, vocab)
    assert (d["disease_accuracy"], d["healthy_false_alarm"], d["treatment_recall"]) == (0, 1, None)
    e = score_diagnosis("", eb, vocab)
    assert (e["crop_pred"], e["disease_pred"], e["disease_accuracy"]) == (None, None, 0)
    items = [dict(x, failure=0) for x in (a, b, c, d, e)]
    agg = aggregate_items("diagnosis", items)
    # classes in references: early blight (a, e), late blight (b), healthy (c, d)
    # early blight: tp 1 (a), predicted 2 (a, b), support 2 -> F1 = 2/4
    # late blight: tp 0, predicted 1 (d), support 1 -> 0; healthy: tp 1, predicted 1, support 2 -> 2/3
    assert agg["diagnosis/disease_macro_f1"] == pytest.approx((0.5 + 0 + 2 / 3) / 3)
    assert agg["diagnosis/disease_accuracy"] == pytest.approx(2 / 5)
    assert agg["diagnosis/crop_accuracy"] == pytest.approx(4 / 5)
    assert agg["diagnosis/treatment_recall"] == pytest.approx((1 + 1 + 0) / (2 + 1 + 2))
    assert agg["diagnosis/healthy_false_alarm"] == pytest.approx(1 / 2)


def test_resample_matches_aggregate_on_subsets(vocab):
    outs = ["Tomato, early blight, remove infected leaves.", "tomato late blight", "apple, healthy",
            "apple late blight", "", "tomato healthy"]
    refs = [REFS[3][1], REFS[4][1], REFS[5][1], REFS[5][1], REFS[3][1], REFS[4][1]]
    items = [dict(score_diagnosis(o, r, vocab), failure=int(not o)) for o, r in zip(outs, refs)]
    rng = np.random.default_rng(0)
    index = rng.integers(0, len(items), size=(50, len(items)))
    fast = Aggregator("diagnosis", items).resample(index)
    for b in range(50):
        slow = aggregate_items("diagnosis", [items[i] for i in index[b]])
        for key, value in slow.items():
            got = fast[key][b]
            assert (value is None and np.isnan(got)) or got == pytest.approx(value), key

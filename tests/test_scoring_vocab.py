"""How an eval set's names, its synonyms.json and the open lexicons become one vocabulary (scoring.vocab).

Every vocabulary is built inside the test (not at import), and expected values are written from the card of
``workbench.scoring.vocab``; the lexicon entry used, Food-101's "beef tartare" with synonym "steak tartare",
is read from the shipped dishes lexicon by name.
"""

from __future__ import annotations

from workbench.lexicon import lexicon
from workbench.scoring.diagnosis import score_diagnosis
from workbench.scoring.text import Matcher
from workbench.scoring.vocab import TaskVocabulary, _verb_forms, with_lexicons

DISHES = [("dish", "dishes", "terms")]


def test_the_lexicon_entry_these_tests_use():
    assert lexicon("dishes", "terms")["beef tartare"] == ["steak tartare"]


def test_a_lexicon_entry_joins_the_eval_sets_own_spelling_of_it():
    got = with_lexicons({("dish", "Beef Tartare"): []}, DISHES)
    assert got[("dish", "Beef Tartare")] == ["steak tartare"]
    assert ("dish", "beef tartare") not in got
    assert Matcher(got).canonical("steak tartare", "dish") == "Beef Tartare"


def test_a_lexicon_entry_does_not_join_a_term_of_another_kind():
    got = with_lexicons({("ingredient", "beef tartare"): []}, DISHES)
    assert got[("ingredient", "beef tartare")] == []
    assert got[("dish", "beef tartare")] == ["steak tartare"]


def test_a_lexicon_entry_whose_every_name_the_eval_set_holds_adds_nothing():
    terms = {("ingredient", "beef tartare"): [], ("ingredient", "steak tartare"): []}
    got = with_lexicons(terms, DISHES)
    assert ("dish", "beef tartare") not in got
    assert {k: v for k, v in got.items() if k[0] == "ingredient"} == terms


def test_verb_forms_are_the_cards_crude_inflections():
    assert _verb_forms("bake") == ["baked", "bakeeed", "bakeeing", "bakes", "baking"]
    assert _verb_forms("chop") == ["choped", "choping", "chopped", "chopping", "chops"]


def test_synonyms_json_keys_match_names_whatever_their_case_and_spacing():
    refs = [("recipe", {"dish": "apple pie", "ingredients": ["egg"], "steps": []})]
    vocab = TaskVocabulary.from_references(refs, synonyms={"Apple  Pie": ["tarte aux pommes", "tarte aux pommes"]})
    assert vocab.recipe.canonical("tarte aux pommes", "dish") == "apple pie"
    assert vocab.recipe.lookup[("tarte", "aux", "pomme")] == [("dish", "apple pie")]


def test_diagnosis_references_give_crops_treatments_and_diseases_but_healthy_is_no_disease():
    refs = [("diagnosis", {"crop": "dragonfruit", "disease": "purple spot fever",
                           "treatments": ["remove infected leaves"]}),
            ("diagnosis", {"crop": "dragonfruit", "disease": "Healthy", "treatments": []})]
    vocab = TaskVocabulary.from_references(refs)
    assert vocab.diagnosis.canonical("Dragonfruits", "crop") == "dragonfruit"
    assert vocab.diagnosis.canonical("Remove infected leaf", "treatment") == "remove infected leaves"
    assert vocab.diagnosis.canonical("purple spot fevers", "disease") == "purple spot fever"
    assert ("disease", "Healthy") not in vocab.diagnosis.lookup[("healthy",)]
    healthy = score_diagnosis("The dragonfruit leaf is healthy.", refs[1][1], vocab)
    assert (healthy["disease_pred"], healthy["disease_accuracy"], healthy["healthy_false_alarm"]) == ("healthy", 1, 0)
    sick = score_diagnosis("It has a disease.", refs[0][1], vocab)   # a general disease word is not healthy
    assert sick["disease_pred"] is None
    said = score_diagnosis("There is no visible disease.", refs[1][1], vocab)  # a negated general disease word
    assert said["disease_pred"] == "healthy"


def test_from_eval_set_reads_every_item_its_vocabulary_and_its_synonyms():
    from types import SimpleNamespace

    def item(task, reference):
        return SimpleNamespace(task=task, reference=reference)

    head = [item("caption", {"captions": ["x"], "objects": ["dog"]})]
    rest = [item("recipe", {"dish": "apple pie", "ingredients": ["egg"], "steps": []})]
    # a head(limit) of a set: its items are the first ones, all_items every one (the vocabulary is the set's)
    limited = SimpleNamespace(items=head, all_items=head + rest, vocabulary={"dog": ["puppy"]},
                              synonyms={"apple pie": ["tarte aux pommes"]})
    vocab = TaskVocabulary.from_eval_set(limited)
    assert vocab.objects.canonical("puppies") == "dog"
    assert vocab.recipe.canonical("tarte aux pommes", "dish") == "apple pie"
    # an eval set object without all_items or synonyms (an older loader's) still works
    bare = SimpleNamespace(items=head + rest, vocabulary={"dog": []})
    vocab = TaskVocabulary.from_eval_set(bare)
    assert vocab.recipe.canonical("apple pies", "dish") == "apple pie" and vocab.objects.find("a dog") == ["dog"]

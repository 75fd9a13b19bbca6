"""The scorers' secondary rules, each on a case built so that the rule decides the outcome.

Expected values are written from the rules in the scorers' cards (module docstrings) and, for tokenization,
from nltk 3.10's ``NLTKWordTokenizer`` run outside the project (noted per case).
"""

from __future__ import annotations

import pytest

from workbench.scoring.diagnosis import score_diagnosis
from workbench.scoring.hallucination import (CocoChair, VocabularyMentions, chair_tokens, coco_synonyms,
                                             score_hallucination)
from workbench.scoring.negation import mentions, named
from workbench.scoring.recipe import score_recipe, steps_present
from workbench.scoring.text import Matcher
from workbench.scoring.vocab import TaskVocabulary

# two spellings of one dish, ingredient, crop and disease across items
REFS = [
    ("recipe", {"dish": "apple pie", "ingredients": ["egg", "flour"], "steps": []}),
    ("recipe", {"dish": "Apple Pies", "ingredients": ["Eggs", "sugar"], "steps": []}),
    ("diagnosis", {"crop": "tomato", "disease": "early blight", "treatments": ["apply copper fungicide"]}),
    ("diagnosis", {"crop": "Tomatoes", "disease": "Early Blight", "treatments": ["apply copper fungicide"]}),
    ("diagnosis", {"crop": "apple", "disease": "Healthy", "treatments": []}),
]


@pytest.fixture(scope="module")
def vocab():
    return TaskVocabulary.from_references(REFS)


def test_a_second_spelling_of_a_reference_name_is_the_same_term(vocab):
    r = score_recipe("Apple pie with eggs and sugar.", REFS[1][1], vocab)
    # one dish mention; "eggs" predicts the ingredient once; truth {egg, sugar} under the first spellings
    assert (r["dish_accuracy"], r["dish_pred"]) == (1, "apple pie")
    assert (r["ingredient_tp"], r["n_ingredients_pred"], r["n_ingredients_ref"]) == (2, 2, 2)
    d = score_diagnosis("A tomato leaf with early blight.", REFS[3][1], vocab)
    assert (d["crop_accuracy"], d["disease_accuracy"], d["disease_true"]) == (1, 1, "early blight")


def test_a_healthy_reference_in_any_case_is_the_healthy_class(vocab):
    d = score_diagnosis("This apple leaf looks healthy.", REFS[4][1], vocab)
    assert (d["disease_true"], d["disease_pred"], d["disease_accuracy"], d["healthy_false_alarm"]) == \
        ("healthy", "healthy", 1, 0)


def test_a_treatment_is_recalled_when_the_answer_has_exactly_its_words(vocab):
    assert score_diagnosis("Apply copper fungicide", REFS[2][1], vocab)["treatment_recall"] == 1.0
    assert score_diagnosis("Apply copper", REFS[2][1], vocab)["treatment_recall"] == 0.0


def test_per_item_ingredient_precision_recall_f1(vocab):
    ref = {"dish": "apple pie", "ingredients": ["egg", "flour", "sugar", "Eggs"], "steps": []}
    # predicted {egg, flour}, truth {egg, flour, sugar}: P = 2/2, R = 2/3, F1 = 2PR/(P+R) = 0.8
    r = score_recipe("An apple pie of eggs and flour.", ref, vocab)
    assert (r["ingredient_precision"], r["ingredient_recall"]) == (1.0, pytest.approx(2 / 3))
    assert r["ingredient_f1"] == pytest.approx(0.8)
    # predicted {egg, sugar}, truth {egg, flour}: P = R = 1/2, F1 = 1/2
    r = score_recipe("Eggs and sugar.", REFS[0][1], vocab)
    assert (r["ingredient_precision"], r["ingredient_recall"], r["ingredient_f1"]) == (0.5, 0.5, 0.5)
    # nothing predicted: precision 0, not 1; no reference ingredients: recall 0
    r = score_recipe("An apple pie.", REFS[0][1], vocab)
    assert (r["ingredient_precision"], r["ingredient_recall"], r["ingredient_f1"]) == (0.0, 0.0, 0.0)
    r = score_recipe("Eggs.", {"dish": "apple pie", "ingredients": [], "steps": []}, vocab)
    assert (r["ingredient_precision"], r["ingredient_recall"], r["n_ingredients_ref"]) == (0.0, 0.0, 0)


@pytest.mark.parametrize("text, present", [
    ("Steps\n1.\n2.\n", 1),                  # numbers on their own lines: each line break separates them
    ("1. Mix\n2.", 1),                       # the last number at the very end of the answer
    ("2. Fry the batter.", 0),               # a 2 without a 1
    ("step 2 only", 0),
    ("2. Fry it. 1. Mix it.", 0),            # a 2 before the 1 does not count
])
def test_steps_present_edges(text, present):
    assert steps_present(text) == present


def test_chair_tokens_split_a_leading_quote_as_nltk_does():
    # nltk 3.10 NLTKWordTokenizer: "'a dog" -> ["'", "a", "dog"]; "the ' dog" -> ["the", "'", "dog"]
    assert chair_tokens("'a dog") == ["'", "a", "dog"]
    assert chair_tokens("the ' dog") == ["the", "'", "dog"]


def test_coco_canonical_and_synonyms():
    coco = CocoChair.load()
    assert coco.canonical("Puppy") == "dog"
    assert coco.canonical("Hot  Dog") == "hot dog"
    assert coco.canonical("unicorn") == "unicorn"
    synonyms = coco_synonyms()
    assert "puppy" in synonyms["dog"] and "dog" not in synonyms["dog"]


def test_coco_two_word_names_are_merged_wherever_they_stand():
    coco = CocoChair.load()
    assert coco.mentions("a hot dog") == [("hot dog", "hot dog")]                  # the pair ends the text
    assert coco.mentions("hot dog pizza and a cat") == [("hot dog", "hot dog"), ("pizza", "pizza"),
                                                         ("cat", "cat")]
    assert coco.mentions("a dog") == [("dog", "dog")]


def test_vocabulary_mentions_from_a_dict():
    assert VocabularyMentions({"dog": ["puppy"]}).mentions("a puppy and a dog") == [("dog", "dog"), ("dog", "dog")]


def test_per_item_chair_without_mentions_or_truth():
    r = score_hallucination("nothing to see", [], {"dog": []})
    assert (r["chair_i"], r["chair_i_distinct"], r["object_recall"]) == (0.0, 0.0, None)
    r = score_hallucination("a dog, a dog and a cat", ["dog"], {"dog": [], "cat": []})
    assert (r["n_mentioned"], r["n_mentioned_distinct"], r["n_hallucinated"], r["n_hallucinated_distinct"]) == \
        (3, 2, 1, 1)


def test_matcher_canonical_by_kind():
    m = Matcher({("dish", "apple pie"): ["pie"], ("ingredient", "pie crust"): ["pie"], "puppy dog": ["puppy"]})
    assert m.canonical("Pies", "ingredient") == "pie crust"
    assert m.canonical("pie", "dish") == "apple pie"
    assert m.canonical("pie", "crop") == "pie"             # no canonical of that kind: the term itself
    assert m.canonical("unicorn", "dish") == "unicorn"
    assert m.canonical("Puppies") == "puppy dog"
    assert m.canonical("unicorn") == "unicorn"


def test_matcher_scans_to_the_last_token():
    m = Matcher({"dog": [], "hot dog": []})
    assert m.find("a hot dog") == ["hot dog"]
    assert m.find("cat dog") == ["dog"]
    assert m.spans(("a", "hot", "dog", "dog")) == [(1, 3, ["hot dog"]), (3, 4, ["dog"])]


def test_negation_positions_count_tokens_across_clauses():
    m = Matcher({"blight": [], "rust": []})
    # key tokens: "it can not be blight" (cannot -> can not) | "rust here"
    got = mentions("It cannot be blight. Rust here.", m)
    assert [(x.canonical, x.start, x.end, x.negated) for x in got] == [("blight", 4, 5, True), ("rust", 5, 6, False)]
    # n't reads as not and leaves the word before it as it was
    assert named("The leaf isn't showing blight", Matcher({"is": [], "blight": []})) == ["is"]


def test_a_negation_reaches_past_a_term_only_through_list_words():
    m = Matcher({"blight": [], "rust": []})
    assert named("no blight or rust", m) == []
    assert named("no blight showing rust", m) == ["rust"]   # "showing" is a filler, but not a list word


def test_on_task_reads_generic_disease_words_and_tolerates_the_other_task(vocab):
    from workbench.scoring.failure import on_task

    assert on_task("diagnosis", "There are spots on it.", vocab)              # a generic disease word
    assert on_task("diagnosis", "It looks like an infection to me.", vocab)   # a general disease word
    # a recipe that also talks about a leaf is still a recipe; one that is only a leaf description is not
    assert on_task("recipe", "Mix the flour, then look at the tomato leaf with early blight.", vocab)
    assert not on_task("recipe", "A tomato leaf with early blight.", vocab)


def test_pope_item_keeps_its_object_and_split():
    from workbench.scoring.pope import score_pope

    got = score_pope("Yes.", {"label": "yes", "object": "dog", "split": "adversarial"})
    assert (got["object"], got["split"], got["answer"], got["correct"]) == ("dog", "adversarial", "yes", 1)


@pytest.mark.parametrize("text, official", [
    ("A. No", "yes"),          # only the text before the first "." is read (RUCAIBox/POPE evaluate.py)
    ("Maybe\nno", "yes"),      # words are split on single spaces only
    ("No, a cat.", "no"),      # commas are deleted before splitting
])
def test_pope_official_reading_edges(text, official):
    from workbench.scoring.pope import official_answer

    assert official_answer(text) == official


def test_pope_strict_reading_strips_only_trailing_periods_and_exclamations():
    from workbench.scoring.pope import strict_answer

    assert strict_answer("Yes X") is None and strict_answer(" no!. ") == "no"


def test_pope_f1_is_zero_when_precision_and_recall_are_zero_and_means_need_splits():
    from workbench.scoring import aggregate_items
    from workbench.scoring.pope import score_pope

    refs = [{"label": "yes", "object": "dog", "split": "random"}, {"label": "no", "object": "cat", "split": "random"}]
    items = [score_pope(answer, ref) for answer, ref in zip(["No.", "Yes."], refs)]   # both wrong
    got = aggregate_items("pope", items)
    assert (got["pope/precision"], got["pope/recall"], got["pope/f1"]) == (0.0, 0.0, 0.0)
    no_split = [score_pope("Yes.", {"label": "yes", "object": "dog", "split": None})]
    got = aggregate_items("pope", no_split)
    assert got["pope/accuracy"] == 1.0 and got["pope/f1_mean"] is None and got["pope/accuracy_mean"] is None


def test_coco_vocabulary_warning():
    from workbench.scoring.hallucination import coco_vocabulary_warning

    assert coco_vocabulary_warning({"dog": ["puppy"]}) is None
    reference = coco_synonyms()
    assert coco_vocabulary_warning(reference) is None
    changed = dict(reference, dog=["puppy"])
    assert coco_vocabulary_warning(changed, "sets/coco") == (
        "sets/coco/vocabulary.json names COCO's 80 categories but not with the reference CHAIR synonyms: CHAIR "
        "uses the reference's list (workbench/scoring/data/coco_chair.json); re-import the set with "
        "`workbench import coco` to have it written there")
    assert coco_vocabulary_warning(changed).startswith("/vocabulary.json names")


def test_step_words_in_the_wrong_order_do_not_count():
    assert steps_present("Step 2: fry it. Step 1: mix it.") == 0


@pytest.mark.parametrize("plural, single", [
    ("gas", "gas"), ("its", "its"),                  # words of up to 3 letters are kept
    ("lies", "lie"), ("flies", "fly"),               # -ies -> -y only for words longer than 4 letters
    ("peaches", "peach"), ("boxes", "box"), ("buzzes", "buzz"), ("dishes", "dish"),
])
def test_singular_rules(plural, single):
    from workbench.scoring.text import singular

    assert singular(plural) == single


def test_matcher_from_a_list_and_an_empty_matcher():
    assert Matcher(["dog", "cat"]).find("a dog and cats") == ["dog", "cat"]
    assert Matcher({}).find("a dog") == [] and Matcher({}).spans(("a", "dog")) == []


def test_negation_positions_over_three_clauses():
    m = Matcher({"blight": [], "rust": []})
    got = mentions("Blight. No rust. Blight again", m)       # clauses of 1, 2 and 2 key tokens
    assert [(x.canonical, x.start, x.negated) for x in got] == [("blight", 0, False), ("rust", 2, True),
                                                                ("blight", 3, False)]

"""The scorers' secondary rules at their boundaries (issue 20): leak markers of every chat template,
minimum lengths per task, the repetition guard, treatment matching and healthy-leaf false alarms.

Expected values are written out from the scorer cards (docs/scorers.md) and counted by hand, never read
from the scorer modules' constants.
"""

from __future__ import annotations

import pytest

from workbench.model.templates import IMAGE_PLACEHOLDER, IMAGE_SLOT, TEMPLATES
from workbench.scoring.diagnosis import score_diagnosis
from workbench.scoring.failure import failure_reasons, repetition_share
from workbench.scoring.vocab import TaskVocabulary

REFS = [
    ("caption", {"captions": ["x"], "objects": ["dog", "sofa"]}),
    ("recipe", {"dish": "pancakes", "ingredients": ["flour", "egg", "milk"], "steps": []}),
    ("diagnosis", {"crop": "tomato", "disease": "early blight",
                   "treatments": ["remove infected leaves", "spray with copper fungicide", "all of it"]}),
    ("diagnosis", {"crop": "tomato", "disease": "healthy", "treatments": []}),
]
DISEASED, HEALTHY = REFS[2][1], REFS[3][1]

# From the failure card: the chat-template text that must never appear in an answer.
CARD_MARKERS = ["###", "Human:", "Assistant:", "<Img>", "</Img>", "<ImageHere>", "[INST]", "[/INST]", "</s>"]
GOOD = {
    "caption": "A brown dog is lying on a large sofa in the living room.",
    "recipe": "Mix the flour with an egg and some milk, then fry the pancakes in a hot buttered pan.",
    "diagnosis": "This tomato leaf has early blight; remove the infected leaves.",
}


@pytest.fixture(scope="module")
def vocab():
    return TaskVocabulary.from_references(REFS, objects=None)


def reasons(task, text, vocab, finish="stop"):
    return failure_reasons(task, text, finish, vocab)["failure_reasons"]


def test_good_answers_have_no_reason(vocab):
    for task, text in GOOD.items():
        assert reasons(task, text, vocab) == [], task


@pytest.mark.parametrize("marker", CARD_MARKERS)
def test_every_card_marker_is_a_template_leak(vocab, marker):
    assert reasons("caption", GOOD["caption"] + " " + marker, vocab) == ["template_leak"]
    assert reasons("caption", marker + GOOD["caption"], vocab) == ["template_leak"]


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_the_text_each_template_writes_is_a_leak(vocab, name):
    t = TEMPLATES[name]
    written = {t.user_role.strip(), t.assistant_role.strip(), t.train_user_role.strip(),
               t.train_assistant_role.strip(), t.sep.strip(), t.end_sym.strip(), IMAGE_SLOT, IMAGE_PLACEHOLDER}
    for text in sorted(x for x in written if x):
        assert "template_leak" in reasons("diagnosis", GOOD["diagnosis"] + " " + text, vocab), (name, text)
    # a whole next turn, as a model that ran past its end symbol writes it
    turn = f"{t.sep}{t.user_role}what now?{t.sep}{t.assistant_role}"
    assert "template_leak" in reasons("diagnosis", GOOD["diagnosis"] + turn, vocab)


@pytest.mark.parametrize("task,minimum", [("caption", 8), ("recipe", 12), ("diagnosis", 5)])
def test_minimum_length_per_task(vocab, task, minimum):
    on_task = {"caption": "dog", "recipe": "flour", "diagnosis": "tomato"}[task]
    filler = "one two three four five six seven eight nine ten eleven twelve".split()
    short = " ".join([on_task] + filler[:minimum - 2])           # minimum - 1 distinct words
    enough = short + " last"                                     # minimum words
    assert reasons(task, short, vocab) == ["too_short"]
    assert failure_reasons(task, short, "stop", vocab)["n_words"] == minimum - 1
    assert reasons(task, enough, vocab) == []
    # "empty" is not also "too short", and an empty answer is not "off task"
    assert reasons(task, " ?! ", vocab) == ["empty"]


def _share(tokens):   # the card's formula, written out independently: 1 - distinct / total 3-grams
    grams = [tuple(tokens[i:i + 3]) for i in range(len(tokens) - 2)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def test_repetition_guard_needs_three_trigrams_and_a_30_percent_repeat_share(vocab):
    two_grams = "dog dog dog dog"            # 2 trigrams, both (dog, dog, dog): share 1/2, too few to judge
    three_grams = "dog dog dog dog dog"      # 3 trigrams, 1 distinct: share 2/3
    assert _share(two_grams.split()) == 0.5 and _share(three_grams.split()) == pytest.approx(2 / 3)
    assert "repetition" not in reasons("caption", two_grams, vocab)
    assert "repetition" in reasons("caption", three_grams, vocab)
    # abc bca cab abc bca cab abd bde def ef-dog: 7 of 10 distinct, share 0.3 -> flagged
    at = "a b c a b c a b d e f dog".split()
    assert _share(at) == pytest.approx(0.3)
    assert "repetition" in reasons("caption", " ".join(at), vocab)
    # abc bca cab abc bca cad ade def efg fg-dog: 8 of 10 distinct, share 0.2 -> not flagged
    below = "a b c a b c a d e f g dog".split()
    assert _share(below) == pytest.approx(0.2)
    assert "repetition" not in reasons("caption", " ".join(below), vocab)
    # the stored value is the share over normalized words (punctuation and case folded)
    r = failure_reasons("caption", "Dog, dog. DOG! dog dog", "stop", vocab)
    assert r["repetition"] == pytest.approx(2 / 3) and r["n_words"] == 5
    assert repetition_share([]) == 0.0 and repetition_share(["a", "b"]) == 0.0


def test_no_end_only_when_generation_ran_to_the_limit(vocab):
    assert reasons("caption", GOOD["caption"], vocab, finish="length") == ["no_end"]
    assert reasons("caption", GOOD["caption"], vocab, finish="stop") == []
    assert reasons("caption", GOOD["caption"], vocab, finish=None) == []


def test_missing_prediction_is_the_only_reason(vocab):
    assert failure_reasons("recipe", None, "length", vocab) == {"failure": 1, "failure_reasons": ["missing"],
                                                                 "n_words": 0, "repetition": 0.0}


def test_off_task_per_task(vocab):
    filler = "this is an answer with plenty of words that says nothing useful at all today"
    for task in ("caption", "recipe", "diagnosis"):
        assert reasons(task, filler, vocab) == ["off_task"], task
    # recipe: a cooking verb alone, a dish alone or an ingredient alone is on task
    assert reasons("recipe", filler + " whisked", vocab) == []
    assert reasons("recipe", filler + " pancakes", vocab) == []
    assert reasons("recipe", filler + " flour", vocab) == []
    # diagnosis: a crop, a disease or a healthy phrase alone is on task
    assert reasons("diagnosis", filler + " tomato", vocab) == []
    assert reasons("diagnosis", filler + " early blight", vocab) == []
    assert reasons("diagnosis", filler + " disease free", vocab) == []
    # caption: only vocabulary objects count, not a crop or an ingredient
    assert reasons("caption", filler + " tomato flour", vocab) == ["off_task"]


def test_treatment_recalled_when_all_its_content_words_occur_in_any_order(vocab):
    def recall(text):
        return score_diagnosis(text, DISEASED, vocab)
    # "remove infected leaves": content {remove, infected, leaf}; plural-insensitive, any order
    r = recall("Early blight on tomato. Infected leaf: remove it.")
    assert (r["n_treatments_recalled"], r["n_treatments"]) == (1, 3) and r["treatment_recall"] == pytest.approx(1 / 3)
    # one content word missing: not recalled
    assert recall("Early blight; remove the leaves.")["n_treatments_recalled"] == 0
    # stop words of the treatment ("with") are not needed
    assert recall("Spray copper fungicide on the tomato.")["n_treatments_recalled"] == 1
    # a treatment made only of stop words ("all of it") can never be recalled, even by an answer containing it
    both = recall("Remove infected leaves, spray copper fungicide, all of it.")
    assert both["n_treatments_recalled"] == 2 and both["treatment_recall"] == pytest.approx(2 / 3)


def test_healthy_false_alarm_is_naming_a_disease_not_failing_to_say_healthy(vocab):
    def alarm(text):
        return score_diagnosis(text, HEALTHY, vocab)["healthy_false_alarm"]
    assert alarm("The tomato leaf looks fine and green.") == 0      # no disease named, no "healthy" either
    assert alarm("") == 0
    assert alarm("The tomato leaf is healthy.") == 0
    assert alarm("Tomato with early blight.") == 1
    assert alarm("Healthy, although early blight may start soon.") == 1  # a disease is named
    # defined on healthy leaves only
    assert score_diagnosis("Tomato with early blight.", DISEASED, vocab)["healthy_false_alarm"] is None


def test_disease_prediction_prefers_a_named_disease_over_a_healthy_phrase(vocab):
    r = score_diagnosis("Not healthy: early blight.", DISEASED, vocab)
    assert (r["disease_pred"], r["disease_accuracy"]) == ("early blight", 1)
    r = score_diagnosis("The tomato leaf is healthy.", DISEASED, vocab)
    assert (r["disease_pred"], r["disease_accuracy"]) == ("healthy", 0)
    r = score_diagnosis("The tomato leaf is healthy.", HEALTHY, vocab)
    assert (r["disease_true"], r["disease_pred"], r["disease_accuracy"]) == ("healthy", "healthy", 1)
    r = score_diagnosis("A green leaf.", HEALTHY, vocab)
    assert (r["disease_pred"], r["disease_accuracy"], r["crop_pred"], r["crop_accuracy"]) == (None, 0, None, 0)

"""synth-pope: the committed set is what the world's code writes, and its labels are the scenes' truth."""

from collections import Counter
from pathlib import Path

import pytest

from workbench.evalsets import load_eval_set
from workbench.evalsets.pope_sampling import co_occurrence, frequencies
from workbench.tiny.world.items import make_item
from workbench.tiny.world.pope import HELD_OUT_SEED, NAME, training_kind_lists, write_pope_set
from workbench.tiny.world.seeds import split_of

ROOT = Path(__file__).resolve().parent.parent / "eval_sets" / NAME


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return write_pope_set(tmp_path_factory.mktemp("pope"))


def test_committed_set_is_what_the_code_writes(written):
    for name in ["manifest.jsonl", "card.md"] + [f"images/{p.name}" for p in (ROOT / "images").glob("*.png")]:
        assert (written / name).read_bytes() == (ROOT / name).read_bytes(), name
    assert sorted(p.name for p in (written / "images").iterdir()) == sorted(p.name for p in (ROOT / "images").iterdir())


def test_labels_are_the_scenes_truth_and_counts_balance(written):
    assert split_of(HELD_OUT_SEED) == "eval"
    es = load_eval_set(written)
    assert es.counts() == {"pope": 7 * 6 * 3}
    per = Counter((i.reference["split"], i.reference["label"]) for i in es.items)
    assert set(per.values()) == {21}
    for item in es.items:
        index = int(item.image.split("/")[1].split(".")[0])
        kinds = {o.kind for o in make_item("scene", HELD_OUT_SEED, index).spec.objects}
        assert len(kinds) == 3
        assert (item.reference["object"] in kinds) == (item.reference["label"] == "yes"), item.id


def test_popular_split_follows_training_frequencies(written):
    lists = training_kind_lists()
    freq, co = frequencies(lists), co_occurrence(lists)
    ranked = [k for k, _ in sorted(freq.items(), key=lambda kv: -kv[1])]
    es = load_eval_set(written)
    by_image: dict[str, list] = {}
    for item in es.items:
        if item.reference["split"] == "popular":
            by_image.setdefault(item.image, []).append(item.reference)
    for refs in by_image.values():
        present = {r["object"] for r in refs if r["label"] == "yes"}
        absent = [r["object"] for r in refs if r["label"] == "no"]
        assert absent == [k for k in ranked if k not in present][:3]
    assert set(co) == set(freq)


def test_yes_no_corpus_family_answers_with_the_scenes_truth():
    """The text-only yes/no family (issue 19): each answer says what the scene in the slot holds, read as POPE's
    official parser reads it; half yes, and the questions are POPE's or a paraphrase."""
    import re

    from workbench.scoring.pope import official_answer, strict_answer
    from workbench.tiny.world.corpus import pope_qa_document
    from workbench.tiny.world.items import sample_spec
    from workbench.tiny.world.seeds import item_streams
    from workbench.tiny.world.slots import SlotDocument, document_text

    answers = Counter()
    for i in range(200):
        doc = pope_qa_document(item_streams(4000, "corpus_pope_qa", i)[0])
        spec = sample_spec("scene", item_streams(4000, "corpus_pope_qa", i)[0])  # the same first draw
        kinds = {o.kind for o in spec.objects}
        text = document_text(doc)
        m = re.search(r"(?:Is there|Does the image contain|Can you see) an? (\w+) in (?:the image|this picture)\?|"
                      r"Does the image contain an? (\w+)\?", text)
        assert m, text
        kind = m.group(1) or m.group(2)
        answer = text.rsplit("Assistant: ", 1)[1].removesuffix("###")
        said = official_answer(answer)
        assert said == ("yes" if kind in kinds else "no"), text
        assert strict_answer(answer.split(",")[0].rstrip(".")) == said
        answers[said] += 1
        if isinstance(doc, SlotDocument):
            assert any(kind in p for slot in doc.slots for p in slot) == (said == "yes")
    assert 80 <= answers["yes"] <= 120, answers

"""POPE importer: POPE's sampling rules on hand-built tables, counts, seeds, released files, real COCO."""

import json
import random
from pathlib import Path

import pytest
from PIL import Image

from workbench.errors import WorkbenchError
from workbench.evalsets import load_eval_set
from workbench.evalsets.importers import import_pope_coco, import_pope_questions
from workbench.evalsets.pope_sampling import co_occurrence, frequencies, question_text, questions_for_image

IMAGES = [["person", "dog", "frisbee"], ["person", "car", "bus"], ["person", "dog", "cat"], ["car", "bus", "truck"]]


def test_tables_by_hand():
    assert frequencies(IMAGES) == {"person": 3, "dog": 2, "frisbee": 1, "car": 2, "bus": 2, "cat": 1, "truck": 1}
    # counts: person-dog 2, car-bus 2, every other pair once; ties keep first-seen order
    assert co_occurrence(IMAGES) == {
        "person": ["dog", "frisbee", "car", "bus", "cat"], "dog": ["person", "frisbee", "cat"],
        "frisbee": ["person", "dog"], "car": ["bus", "person", "truck"], "bus": ["car", "person", "truck"],
        "cat": ["person", "dog"], "truck": ["car", "bus"]}


def _ask(objects, split, seed=0):
    return questions_for_image(objects, split, random.Random(seed), frequencies(IMAGES), co_occurrence(IMAGES))


def test_adversarial_rule_on_hand_built_table():
    # person -> its top co-occurring object not in the image: dog; car -> bus and person are in the image,
    # so truck; bus -> car, person in the image, truck asked already -> random among {frisbee, cat}
    q = _ask(["person", "car", "bus"], "adversarial")
    assert q[:5] == [("person", "yes"), ("dog", "no"), ("car", "yes"), ("truck", "no"), ("bus", "yes")]
    assert q[5][1] == "no" and q[5][0] in {"frisbee", "cat"}
    q = _ask(["person", "dog", "frisbee"], "adversarial")
    assert [o for o, _ in q[:4]] == ["person", "car", "dog", "cat"] and q[5][0] in {"bus", "truck"}


def test_popular_rule_takes_the_most_frequent_absent_objects():
    assert _ask(["person", "dog", "frisbee"], "popular") == [
        ("person", "yes"), ("car", "no"), ("dog", "yes"), ("bus", "no"), ("frisbee", "yes"), ("cat", "no")]
    assert [o for o, lab in _ask(["car", "bus", "truck"], "popular") if lab == "no"] == ["person", "dog", "frisbee"]


def test_random_rule_never_asks_present_or_repeated_objects():
    for seed in range(30):
        q = _ask(["person", "dog", "cat"], "random", seed)
        absent = [o for o, lab in q if lab == "no"]
        assert len(set(absent)) == 3 and not set(absent) & {"person", "dog", "cat"}
    with pytest.raises(ValueError, match="at least 3 objects"):
        _ask(["person", "dog"], "random")
    assert question_text("umbrella") == "Is there an umbrella in the image?"
    assert question_text("dog") == "Is there a dog in the image?"


def _coco(tmp_path, n=8):
    cats = ["person", "dog", "cat", "car", "bus", "truck", "apple", "umbrella", "chair", "cup"]
    rng = random.Random(7)
    images, anns = [], []
    (tmp_path / "img").mkdir()
    for i in range(1, n + 1):
        images.append({"id": i, "file_name": f"{i:04d}.png"})
        Image.new("RGB", (4, 4), (i, 0, 0)).save(tmp_path / "img" / f"{i:04d}.png")
        k = 2 if i % 4 == 0 else rng.randint(3, 5)           # every 4th image has too few objects
        for c in rng.sample(range(len(cats)), k):
            anns += [{"id": len(anns) + 1, "image_id": i, "category_id": c + 1}] * 2   # duplicates collapse
    path = tmp_path / "instances.json"
    path.write_text(json.dumps({"images": images, "annotations": anns,
                                "categories": [{"id": j + 1, "name": c} for j, c in enumerate(cats)]}))
    return path, {i: {cats[a["category_id"] - 1] for a in anns if a["image_id"] == i} for i in range(1, n + 1)}


def test_import_counts_labels_and_absence(tmp_path):
    instances, truth = _coco(tmp_path, n=12)
    out = import_pope_coco(instances, tmp_path / "img", tmp_path / "es", n_images=5, seed=3)
    es = load_eval_set(out)
    assert es.counts() == {"pope": 5 * 6 * 3}
    chosen = {int(i.id.split("-")[1]) for i in es.items}
    assert len(chosen) == 5 and not any(i % 4 == 0 for i in chosen)
    for split in ("random", "popular", "adversarial"):
        rows = [i for i in es.items if i.reference["split"] == split]
        assert sum(r.reference["label"] == "yes" for r in rows) == 15 == len(rows) / 2
        for r in rows:
            image_id = int(r.id.split("-")[1])
            assert (r.reference["object"] in truth[image_id]) == (r.reference["label"] == "yes")
            assert r.prompt == question_text(r.reference["object"])
        for image_id in chosen:
            asked = [r.reference["object"] for r in rows if int(r.id.split("-")[1]) == image_id]
            assert len(asked) == len(set(asked)) == 6


def test_import_is_seeded(tmp_path):
    instances, _ = _coco(tmp_path, n=12)
    a = import_pope_coco(instances, tmp_path / "img", tmp_path / "a", n_images=4, seed=1)
    b = import_pope_coco(instances, tmp_path / "img", tmp_path / "b", n_images=4, seed=1)
    c = import_pope_coco(instances, tmp_path / "img", tmp_path / "c", n_images=4, seed=2)
    manifest = lambda p: (p / "manifest.jsonl").read_text()  # noqa: E731
    assert manifest(a) == manifest(b)
    assert manifest(a) != manifest(c)


def test_reads_released_question_files(tmp_path):
    (tmp_path / "img").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "img" / "COCO_val2014_000000016631.jpg")
    lines = [{"question_id": 1, "image": "COCO_val2014_000000016631.jpg", "text": "Is there a person in the image?", "label": "yes"},
             {"question_id": 2, "image": "COCO_val2014_000000016631.jpg", "text": "Is there an umbrella in the image?", "label": "no"},
             {"question_id": 3, "image": "COCO_val2014_000000999999.jpg", "text": "Is there a cup in the image?", "label": "no"}]
    released = tmp_path / "coco_pope_adversarial.json"
    released.write_text("".join(json.dumps(x) + "\n" for x in lines))
    es = load_eval_set(import_pope_questions([released], tmp_path / "img", tmp_path / "es"))
    assert [(i.id, i.prompt, i.reference) for i in es.items] == [
        ("adversarial-1", "Is there a person in the image?", {"label": "yes", "object": "person", "split": "adversarial"}),
        ("adversarial-2", "Is there an umbrella in the image?", {"label": "no", "object": "umbrella", "split": "adversarial"})]
    assert "1 question(s) skipped" in (tmp_path / "es" / "card.md").read_text()
    bad = tmp_path / "coco_pope_random.json"
    bad.write_text(json.dumps(lines[0]) + "\n" + json.dumps(dict(lines[1], label="maybe")) + "\n")
    with pytest.raises(WorkbenchError, match=r"coco_pope_random.json:2: .*label yes/no"):
        import_pope_questions([bad], tmp_path / "img", tmp_path / "es2")
    (tmp_path / "questions.json").write_text(json.dumps(lines[0]) + "\n")
    with pytest.raises(WorkbenchError, match="cannot tell the split"):
        import_pope_questions([tmp_path / "questions.json"], tmp_path / "img", tmp_path / "es3")


def test_question_lines_that_are_not_pope_questions_get_a_plain_one_line_error(tmp_path):
    (tmp_path / "img").mkdir()
    good = {"question_id": 1, "image": "a.jpg", "text": "Is there a cup in the image?", "label": "no"}
    cases = [(json.dumps([good]), r"coco_pope_random.json:1: a JSON list, not an object; POPE's files hold one "
                                  r"JSON object per line with question_id, image, text, label$"),
             (json.dumps({k: v for k, v in good.items() if k != "text"}), r":1: missing text; POPE's"),
             ('{"question_id": 1, "image": "a.jpg", "text": "Is there', r":1: invalid JSON \(Unterminated string "
                                                                         r"starting at column 46\); POPE's"),
             (json.dumps(dict(good, image=7)), r":1: image must be a string; POPE's")]
    for line, message in cases:
        path = tmp_path / "coco_pope_random.json"
        path.write_text(line + "\n")
        with pytest.raises(WorkbenchError, match=message):
            import_pope_questions([path], tmp_path / "img", tmp_path / "es")
    assert not (tmp_path / "es").exists()


def test_question_files_empty_not_utf8_with_a_bom_or_capital_labels(tmp_path):
    (tmp_path / "img").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "img" / "a.jpg")
    path = tmp_path / "coco_pope_random.json"
    path.write_text("\n")
    with pytest.raises(WorkbenchError, match=r"coco_pope_random.json: no questions in the file\(s\)"):
        import_pope_questions([path], tmp_path / "img", tmp_path / "es")
    line = json.dumps({"question_id": 1, "image": "a.jpg", "text": "Is there a cup in the image?", "label": "Yes"})
    path.write_bytes(line.encode("utf-16"))
    with pytest.raises(WorkbenchError, match=r"coco_pope_random.json: not UTF-8 text \(byte 0xff at offset 0\); "
                                             r"POPE's files are UTF-8 JSON lines: save it as UTF-8$"):
        import_pope_questions([path], tmp_path / "img", tmp_path / "es")
    path.write_bytes(b"\xef\xbb\xbf" + line.encode() + b"\n")   # a byte-order mark, a capital "Yes"
    es = load_eval_set(import_pope_questions([path], tmp_path / "img", tmp_path / "es"))
    assert [i.reference["label"] for i in es.items] == ["yes"]


def test_paths_are_checked_before_any_work(tmp_path, capsys):
    instances, _ = _coco(tmp_path, n=8)
    with pytest.raises(WorkbenchError, match=r"nowhere: no such folder \(--images\); give --images the folder "):
        import_pope_coco(instances, tmp_path / "nowhere", tmp_path / "es")
    # every missing input in one line, not one per attempt
    with pytest.raises(WorkbenchError, match=r"^\S*nowhere: no such folder \(--images\); \S*none.json: no such file "
                                             r"\(--instances\); give --images the folder holding the images and "
                                             r"--instances an existing file$"):
        import_pope_coco(tmp_path / "none.json", tmp_path / "nowhere", tmp_path / "es")
    with pytest.raises(WorkbenchError, match=r"^\S*coco_pope_random.json: no such file \(--questions\); \S*"
                                             r"coco_pope_popular.json: no such file \(--questions\); give "
                                             r"--questions existing files$"):
        import_pope_questions([tmp_path / "coco_pope_random.json", tmp_path / "coco_pope_popular.json"],
                              tmp_path / "img", tmp_path / "es")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    with pytest.raises(WorkbenchError, match="taken: folder exists and is not empty"):
        import_pope_coco(instances, tmp_path / "img", tmp_path / "taken", n_images=500)
    assert capsys.readouterr().err == ""   # refused before the sampling and its warning
    with pytest.raises(WorkbenchError, match=r"\(among the 2 chosen images\); lower --per-image or give more images "
                                             r"\(every eligible image is already used\)"):
        import_pope_coco(instances, tmp_path / "img", tmp_path / "es", n_images=500, per_image=5)


def test_an_existing_partial_named_folder_is_left_alone(tmp_path):
    instances, _ = _coco(tmp_path, n=8)
    mine = tmp_path / "es.partial"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    import_pope_coco(instances, tmp_path / "img", tmp_path / "es", n_images=4)
    assert (mine / "notes.txt").read_text() == "mine"


def test_questions_whose_images_are_elsewhere_name_the_file_looked_for(tmp_path):
    (tmp_path / "img").mkdir()
    path = tmp_path / "coco_pope_popular.json"
    path.write_text(json.dumps({"question_id": 1, "image": "COCO_val2014_000000000042.jpg",
                                "text": "Is there a cup in the image?", "label": "no"}) + "\n")
    with pytest.raises(WorkbenchError, match=r"img: none of the 1 questions' images is here \(looked for "
                                             r"COCO_val2014_000000000042.jpg, ...\); give the folder"):
        import_pope_questions([path], tmp_path / "img", tmp_path / "es")


def test_wrong_image_folder_and_too_few_images_are_told_apart(tmp_path, capsys):
    instances, _ = _coco(tmp_path, n=8)
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(WorkbenchError, match=r"elsewhere: none of the 8 annotated images of .*instances.json is "
                                             r"here \(looked for 0001.png, ...\)"):
        import_pope_coco(instances, tmp_path / "elsewhere", tmp_path / "es")
    with pytest.raises(WorkbenchError, match=r"img: none of the 8 annotated images here has 6 or more annotated "
                                             r"categories; lower --per-image"):
        import_pope_coco(instances, tmp_path / "img", tmp_path / "es", per_image=6)
    import_pope_coco(instances, tmp_path / "img", tmp_path / "es", n_images=500)
    assert ("warning: 6 of the 8 annotated images here have 3 or more categories, fewer than --n-images 500; "
            "the set uses every one of them") in capsys.readouterr().err


def test_a_failed_import_leaves_the_previous_set_and_no_partial_folder(tmp_path, monkeypatch):
    instances, _ = _coco(tmp_path, n=8)
    with pytest.raises(WorkbenchError, match=r"instances.json: no absent object left to ask about: each of the 7 "
                                             r"categories seen is in the image or already asked \(among the 2 "
                                             r"chosen images\); choose more images"):
        import_pope_coco(instances, tmp_path / "img", tmp_path / "es", n_images=2, seed=1)
    out = import_pope_coco(instances, tmp_path / "img", tmp_path / "es", n_images=4, seed=1)
    before = (out / "manifest.jsonl").read_bytes()
    with pytest.raises(WorkbenchError, match="folder exists and is not empty; choose a new --out or pass --overwrite"):
        import_pope_coco(instances, tmp_path / "img", out, n_images=3)
    monkeypatch.setattr("workbench.evalsets.loader.validate_eval_set", lambda folder: ["manifest.jsonl: has no items"])
    with pytest.raises(WorkbenchError, match=r"es: the imported eval set is invalid, nothing was written: manifest"):
        import_pope_coco(instances, tmp_path / "img", out, n_images=3, overwrite=True)
    assert (out / "manifest.jsonl").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["es", "img", "instances.json"]
    monkeypatch.undo()
    import_pope_coco(instances, tmp_path / "img", out, n_images=3, overwrite=True)   # valid: replaces it
    assert (out / "manifest.jsonl").read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["es", "img", "instances.json"]


def test_import_counts_must_be_whole_numbers_of_at_least_one(capsys):
    from workbench.cli import main

    for value, why in (("0", "0 is less than 1"), ("-2", "-2 is less than 1"), ("x", "'x' is not a whole number")):
        with pytest.raises(SystemExit) as exit_:
            main(["import", "pope", "--instances", "i.json", "--images", ".", "--out", "o", "--n-images", value])
        assert exit_.value.code == 2 and f"argument --n-images: {why}" in capsys.readouterr().err


REALDATA = Path("/work/shared/realdata/coco-val2017-12")
# RUCAIBox/POPE utils.pope() run outside the repo on the same 9 images (>= 3 categories, ascending id, objects in
# first-annotation order): the absent objects it asks, in order. Popular is deterministic; adversarial falls back
# to Python's unseeded random at the positions in FALLBACK (there the co-occurrence list is used up).
OFFICIAL_POPULAR = ["bottle", "knife", "bowl", "person", "potted plant", "tv", "person", "tv", "book", "dining table",
                    "potted plant", "tv", "dining table", "potted plant", "tv", "person", "dining table", "potted plant",
                    "potted plant", "tv", "chair", "dining table", "potted plant", "tv", "dining table", "potted plant",
                    "tv"]
OFFICIAL_ADVERSARIAL = ["dog", "cup", "cat", "tie", "potted plant", "person", "keyboard", "tv", "bottle", "sandwich",
                        "bottle", "dining table", "dining table", "knife", "potted plant", "potted plant", "bottle",
                        "backpack", "toothbrush", "bottle", "potted plant", "bottle", "cell phone", "dining table",
                        "dining table", "cell phone", "tv"]
FALLBACK = {6, 8, 9, 10, 17, 20, 22, 25, 26}


@pytest.mark.skipif(not REALDATA.is_dir(), reason="needs /work/shared/realdata/coco-val2017-12")
def test_real_coco_matches_official_sampling(tmp_path):
    out = import_pope_coco(REALDATA / "instances_subset_val2017.json", REALDATA / "images", tmp_path / "es",
                           n_images=500, seed=0)
    es = load_eval_set(out)
    assert es.counts() == {"pope": 9 * 6 * 3}
    absent = {s: [i.reference["object"] for i in es.items if i.reference["split"] == s and i.reference["label"] == "no"]
              for s in ("popular", "adversarial")}
    assert absent["popular"] == OFFICIAL_POPULAR
    assert [o for k, o in enumerate(absent["adversarial"]) if k not in FALLBACK] == \
        [o for k, o in enumerate(OFFICIAL_ADVERSARIAL) if k not in FALLBACK]

"""The build's development evaluation: its in-memory eval set scores as the synth sets on disk do, and the per-cell
reading of scene captions (does the sentence about a cell name what is there?)."""

from types import SimpleNamespace

from workbench.tiny.diagnostics.dev_eval import cell_reading
from workbench.tiny.world.scenes import SceneObject, SceneSpec


def _scene(*objects):
    return SimpleNamespace(spec=SceneSpec(background="grey", objects=tuple(SceneObject(*o) for o in objects)))


def test_each_object_is_judged_by_the_sentence_about_its_own_cell():
    items = [
        _scene(("heart", "blue", "small", "top left"), ("cross", "red", "large", "bottom right")),
        _scene(("ring", "green", "small", "top right")),
    ]
    outputs = [
        # top left: right kind, wrong colour; bottom right: both right, named in a later sentence
        "The image shows two shapes. In the top left there is a small green heart. The top right and bottom left "
        "are empty. The bottom right holds a large red cross.",
        # the only sentence naming the top right calls it empty, and the ring is named elsewhere: nothing read
        "The top right is empty. There is a green ring.",
    ]
    # objects: 3; kinds right: heart, cross -> 2/3; colours right: red -> 1/3
    assert cell_reading(items, outputs) == {"caption/cell_kind_read": round(2 / 3, 3),
                                            "caption/cell_colour_read": round(1 / 3, 3)}


def test_a_sentence_about_another_cell_does_not_count():
    items = [_scene(("star", "yellow", "small", "bottom left"))]
    # the right words, but in the sentence about the top left; "bottom left" is never named
    assert cell_reading(items, ["The top left holds a small yellow star."]) == {
        "caption/cell_kind_read": 0.0, "caption/cell_colour_read": 0.0}


def test_items_without_scene_objects_give_no_metric():
    assert cell_reading([SimpleNamespace(spec=None), SimpleNamespace()], ["a", "b"]) == {}


def test_the_dev_eval_set_scores_answers_as_the_synth_eval_set_on_disk_does():
    """dev_eval's in-memory set, built from world items, gives every answer the per-item metrics that scoring the
    same answers against the committed synth set (same world items, seed 9000) gives."""
    from pathlib import Path

    import workbench.tiny.world as world
    from workbench.evalsets import load_eval_set
    from workbench.scoring import score_predictions
    from workbench.tiny.diagnostics.dev_eval import dev_eval_set
    from workbench.tiny.world.evalsets import HEALTHY_FRACTION, SETS

    root, n = Path(__file__).resolve().parents[1] / "eval_sets", 6
    for name, (task, domain) in SETS.items():
        on_disk = load_eval_set(root / name).head(n)
        items = [world.make_item(domain, 9000, i, healthy_fraction=HEALTHY_FRACTION) for i in range(n)]
        dev = dev_eval_set({domain: items}, world.OBJECT_VOCABULARY, world.SYNONYMS)
        answers = [_answer(task, it.reference) if i % 2 else _answer(task, items[(i + 1) % n].reference)
                   for i, it in enumerate(items)]  # half right, half about another item
        got = score_predictions(dev, {it.uid: {"output": a, "finish": "stop"} for it, a in zip(items, answers)},
                                meteor=False)
        want = score_predictions(on_disk, {it.id: {"output": a, "finish": "stop"}
                                           for it, a in zip(on_disk.items, answers)}, meteor=False)
        assert [it["metrics"] for it in got["items"]] == [it["metrics"] for it in want["items"]], name
        assert got["aggregate"] == want["aggregate"], name


def _answer(task: str, ref: dict) -> str:
    if task == "caption":
        return ref["captions"][0]
    if task == "recipe":
        return f"This is {ref['dish']}. Ingredients: {', '.join(ref['ingredients'])}. Steps: 1. Mix. 2. Cook."
    return f"This {ref['crop']} leaf shows {ref['disease']}. Treatment: {', '.join(ref['treatments'])}."

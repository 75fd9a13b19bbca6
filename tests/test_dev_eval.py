"""The build's development diagnostic: per-cell reading of scene captions (does the sentence about a cell name what is there?)."""

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

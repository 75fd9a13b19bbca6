"""The explorer's page: readable columns, the reference as text, per-item metrics; only the shown item scored."""

from __future__ import annotations

from html.parser import HTMLParser

from PIL import Image

import workbench.scoring.scores as scores_module
from test_report_fixtures import make_eval_set, make_run, score_fixture_run
from workbench.explore import Answer, Explorer, side_by_side_html


class Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def visible_text(page: str) -> str:
    parser = Text()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


def test_reference_is_text_and_answers_are_escaped():
    recipe = {"dish": "guacamole", "ingredients": ["avocado", "lime"], "steps": ["mash the avocado", "add lime"]}
    answers = [Answer("tiny-stage1", "guacamole <script>alert(1)</script>", 7, "stop", {"failure": 0}),
               Answer("tiny-stage2", "a bowl of guacamole", 5, "length", {"failure": 1})]
    page = side_by_side_html(Image.new("RGB", (8, 8)), "What dish?", answers, recipe)
    text = visible_text(page)
    assert "{" not in text and "'dish'" not in text  # not a printed Python dict
    assert "dish: guacamole" in text and "ingredients avocado lime" in text and "steps mash the avocado add lime" in text
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "minmax(22em,1fr)" in page  # columns never narrower than 22em: words are not broken
    assert "metric (this item) tiny-stage1 tiny-stage2 failure 0 1" in text
    leaf = side_by_side_html(Image.new("RGB", (8, 8)), "?", answers[:1],
                             {"crop": "tomato", "disease": "healthy", "treatments": []})
    assert "crop: tomato condition: healthy treatments: none (healthy)" in visible_text(leaf)


def test_scoring_one_answer_scores_only_that_item(tmp_path, monkeypatch):
    es = make_eval_set(tmp_path / "es")
    explorer = Explorer(["tiny-stage2"], es)
    item = explorer.item("recipe-1")
    output = "Pancakes. Ingredients: flour, egg, milk. Steps: mix, then fry."
    # the same answer scored with the whole eval set, as `workbench score` does
    run = make_run(tmp_path / "runs", "one", es, {item.id: output}, scores=False)
    expected = next(it["metrics"] for it in score_fixture_run(run, es)["items"] if it["id"] == item.id)

    def whole_set(*args, **kwargs):
        raise AssertionError("the explorer scored the whole eval set")

    monkeypatch.setattr(scores_module, "score_predictions", whole_set)
    [answer] = explorer.score(item, [Answer("tiny-stage2", output, 12, "stop")])
    assert answer.metrics == expected

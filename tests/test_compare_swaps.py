"""compare's label swaps: which items changed their named dish / crop / disease between two runs."""

from types import SimpleNamespace

from test_report_fixtures import make_eval_set, make_run
from workbench.compare import compare_runs
from workbench.compare.swaps import format_swaps, label_swaps, shown_pairs
from workbench.report.render import render_report


def _item(i, task, **ref):
    return SimpleNamespace(id=f"i{i}", task=task, reference=ref)


def _scored(**metrics):
    return {"metrics": metrics}


def test_swaps_counted_by_true_label_and_what_the_wrong_run_said():
    items = [_item(0, "recipe", dish="greek salad"), _item(1, "recipe", dish="greek salad"),
             _item(2, "recipe", dish="fruit salad"), _item(3, "recipe", dish="ramen"),
             _item(4, "recipe", dish="ramen"), _item(5, "recipe", dish="tacos")]
    base = {"i0": _scored(dish_accuracy=1, dish_pred="greek salad"), "i1": _scored(dish_accuracy=1, dish_pred="greek salad"),
            "i2": _scored(dish_accuracy=0, dish_pred="greek salad"), "i3": _scored(dish_accuracy=1, dish_pred="ramen"),
            "i4": _scored(dish_accuracy=1, dish_pred="ramen"), "i5": _scored(dish_accuracy=1, dish_pred="tacos")}
    other = {"i0": _scored(dish_accuracy=0, dish_pred="fruit salad"), "i1": _scored(dish_accuracy=0, dish_pred="fruit salad"),
             "i2": _scored(dish_accuracy=1, dish_pred="fruit salad"), "i3": _scored(dish_accuracy=0, dish_pred=None),
             "i4": _scored(dish_accuracy=1, dish_pred="ramen")}   # i5 missing from the other run: skipped
    swaps = label_swaps(items, base, other)
    assert swaps == {"recipe/dish_accuracy": {
        "lost": 3, "won": 1,
        "lost_pairs": [{"true": "greek salad", "other_said": "fruit salad", "n": 2},
                       {"true": "ramen", "other_said": None, "n": 1}],
        "won_pairs": [{"true": "fruit salad", "baseline_said": "greek salad", "n": 1}]}}
    # won - lost is the accuracy difference (other - baseline) times the items both runs answered
    both = [i for i in base if i in other]
    delta = sum(other[i]["metrics"]["dish_accuracy"] - base[i]["metrics"]["dish_accuracy"] for i in both)
    assert swaps["recipe/dish_accuracy"]["won"] - swaps["recipe/dish_accuracy"]["lost"] == delta
    lines = format_swaps(swaps, "stage1", "stage2")
    assert lines == ["  recipe/dish_accuracy: 3 right in stage1 and wrong in stage2, 1 the other way",
                     "    lost (true -> what stage2 said): greek salad -> fruit salad (2), ramen -> (none named) (1)",
                     "    won (true -> what stage1 said): fruit salad -> greek salad (1)"]
    assert format_swaps(swaps, "stage1", "stage2", top=1)[1] == (
        "    lost (true -> what stage2 said): greek salad -> fruit salad (2), and 1 more pair(s) (1 item(s))")
    assert label_swaps(items, base, base) == {}   # nothing changed: nothing listed
    del base["i0"]   # an item the baseline did not answer is skipped too
    assert label_swaps(items, base, other)["recipe/dish_accuracy"]["lost"] == 2


def test_diagnosis_swaps_use_the_scorers_true_disease_and_keep_top_n():
    items = [_item(i, "diagnosis", crop="apple", disease="Apple scab") for i in range(7)]
    base = {f"i{i}": _scored(disease_accuracy=1, disease_true="apple scab", disease_pred="apple scab",
                             crop_accuracy=1, crop_pred="apple") for i in range(7)}
    other = {f"i{i}": _scored(disease_accuracy=0, disease_true="apple scab", disease_pred=f"d{i % 6}",
                              crop_accuracy=1, crop_pred="apple") for i in range(7)}
    swaps = label_swaps(items, base, other)
    assert list(swaps) == ["diagnosis/disease_accuracy"]   # crops did not change
    s = swaps["diagnosis/disease_accuracy"]
    assert s["lost"] == 7 and s["won"] == 0 and s["won_pairs"] == []
    assert s["lost_pairs"] == [{"true": "apple scab", "other_said": f"d{k}", "n": 2 if k == 0 else 1} for k in range(6)]
    back = label_swaps(items, other, base)["diagnosis/disease_accuracy"]   # the same items, the other way
    assert (back["lost"], back["won"], back["lost_pairs"]) == (0, 7, [])
    assert [(p["true"], p["baseline_said"], p["n"]) for p in back["won_pairs"]] == [
        (p["true"], p["other_said"], p["n"]) for p in s["lost_pairs"]]
    assert shown_pairs(s["lost_pairs"], "other_said", top=3) == (
        [("apple scab", "d0", 2), ("apple scab", "d1", 1), ("apple scab", "d2", 1)], 3, 3)


def test_compare_json_cli_and_report_show_the_swaps_escaped(tmp_path, capsys):
    from workbench.cli import main

    es = make_eval_set(tmp_path / "es", n_caption=2, n_recipe=6, n_diagnosis=2)
    good = "These are pancakes.\nIngredients: flour, egg, milk.\nSteps: 1. Mix. 2. Fry."
    a = make_run(tmp_path / "runs", "stage1", es, {f"recipe-{i}": good for i in range(6)})
    b = make_run(tmp_path / "runs", "stage2", es, {f"recipe-{i}": good if i < 2 else "Soup." for i in range(6)})
    result = compare_runs([a, b], es, n_resamples=1000, show_progress=False)
    swaps = result["comparisons"][0]["swaps"]
    assert swaps["recipe/dish_accuracy"]["lost_pairs"] == [{"true": "pancakes", "other_said": None, "n": 4}]
    assert main(["compare", str(a), str(b), "--eval-set", str(es), "--out", str(tmp_path / "c.json"),
                 "--resamples", "1000"]) == 0
    assert "recipe/dish_accuracy: 4 right in stage1 and wrong in stage2, 0 the other way" in capsys.readouterr().out
    pairs = swaps["recipe/dish_accuracy"]["lost_pairs"]
    pairs[0]["true"] = "<script>alert(1)</script>"
    pairs += [{"true": f"dish {k}", "other_said": "soup", "n": 1} for k in range(6)]   # 7 pairs: 5 shown
    html = render_report([a, b], es, tmp_path / "r.html", compare=result).read_text()
    assert 'id="swaps"' in html and "&lt;script&gt;alert(1)&lt;/script&gt; &rarr; (none named) (4)" in html
    assert "dish 3 &rarr; soup (1)" in html and "dish 4 &rarr;" not in html
    assert "and 2 more pair(s), 2 item(s), in compare.json" in html
    assert "<script>alert(1)" not in html


def test_compare_without_out_prints_and_writes_nothing(tmp_path, capsys):
    from workbench.cli import main

    es = make_eval_set(tmp_path / "es", n_caption=2, n_recipe=4, n_diagnosis=2)
    a = make_run(tmp_path / "runs", "stage1", es, {f"recipe-{i}": "Soup." for i in range(4)})
    b = make_run(tmp_path / "runs", "stage2", es, {f"recipe-{i}": "These are pancakes." for i in range(4)})
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.name != "scores.json")
    assert main(["compare", str(a), str(b), "--eval-set", str(es), "--resamples", "1000"]) == 0
    out = capsys.readouterr().out
    assert "recipe/dish_accuracy" in out and out.rstrip().endswith("compare.json not written (give --out to keep it)")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.name != "scores.json") == before

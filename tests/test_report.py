"""The HTML report: escaping of untrusted text, numbers equal to compare.json, self-contained."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import unescape as html_unescape
from html.parser import HTMLParser

import pytest

from test_report_fixtures import make_eval_set, make_run, stage_outputs, two_stage_runs
from workbench.compare import compare_runs
from workbench.errors import WorkbenchError
from workbench.report import render_report
from workbench.report.render import fmt_delta, fmt_num, fmt_p, n_label

HOSTILE = ['<script>alert(1)</script>', '</textarea>', '&amp;', '"quotes"', "<img src=x onerror=alert(2)>"]


class Page(HTMLParser):
    """Every element (tag, attrs), the text, and the text of each <script>/<style>."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self._open: list[tuple[str, dict, list[str]]] = []
        self._in_raw: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag in self.raw:
            self._in_raw = tag
            self.raw[tag].append("")
        self._open.append((tag, attrs, []))

    def handle_endtag(self, tag):
        if tag == self._in_raw:
            self._in_raw = None

    def handle_data(self, data):
        if self._in_raw:
            self.raw[self._in_raw][-1] += data
        else:
            self.text.append(data)

    def all_text(self) -> str:
        return "".join(self.text)


class Cells(HTMLParser):
    """Summary-table cells: (table data-other, row data-key, cell data-field) -> (attrs, shown text)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.cells: dict[tuple, tuple[dict, str]] = {}
        self._other = self._key = self._cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "summary" in (a.get("class") or ""):
            self._other = a["data-other"]
        elif tag == "tr" and self._other and "data-key" in a:
            self._key = a["data-key"]
        elif tag == "td" and self._key and "data-field" in a:
            self._cell = (self._other, self._key, a["data-field"])
            self.cells[self._cell] = (a, "")

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        elif tag == "table":
            self._other = self._key = None

    def handle_data(self, data):
        if self._cell:
            attrs, text = self.cells[self._cell]
            self.cells[self._cell] = (attrs, text + data)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    es = make_eval_set(tmp / "es", n_caption=3, n_recipe=2, n_diagnosis=2, prompt_text="Describe " + " ".join(HOSTILE),
                       reference_text="a ball " + " ".join(HOSTILE))
    good = stage_outputs(es, good=True)
    evil = {k: f"{v} {' '.join(HOSTILE)}" for k, v in good.items()}
    a = make_run(tmp / "runs", "stage1", es, stage_outputs(es, good=False))
    b = make_run(tmp / "runs", 'run"<b>2', es, evil)
    compare = compare_runs([a, b], es, n_resamples=300, show_progress=False)
    # compare.json is a file a user may edit: a string in it that closes the embedded <script> element, and a p
    # below 0.001 (which 300 resamples of 2-3 items per task cannot produce) to check how it is shown
    compare["note"] = "</script><script>alert(3)</script><!-- </SCRIPT> & <b>"
    compare["comparisons"][0]["metrics"]["recipe/dish_accuracy"]["p"] = 0.0004
    out = render_report([a, b], es, tmp / "report.html", compare=compare)
    return out.read_text(encoding="utf-8"), compare


def test_untrusted_text_is_shown_as_text_and_injects_no_element(hostile_report):
    html, _ = hostile_report
    page = Page(html)
    tags = [tag for tag, _ in page.elements]
    assert "textarea" not in tags and "b" not in tags
    scripts = [attrs for tag, attrs in page.elements if tag == "script"]
    assert scripts == [{"type": "application/json", "id": "compare-data"}, {}]   # only our own two
    assert not any(k.startswith("on") for _, attrs in page.elements for k in attrs)
    assert all(attrs.get("src", "").startswith("data:") for tag, attrs in page.elements if tag == "img")
    text = page.all_text()
    for s in HOSTILE:
        assert s in text                       # shown literally (so '&amp;' stays '&amp;' on screen)
    assert 'run"<b>2' in text and not any(t == "b" for t in tags)   # a run folder name is text too
    assert "alert(1)" not in page.raw["script"][1]


def test_the_embedded_json_cannot_close_its_script_element(hostile_report):
    html, compare = hostile_report
    assert "</script><script>alert(3)" in compare["note"]            # the fixture can exercise the bug
    page = Page(html)
    assert json.loads(page.raw["script"][0]) == json.loads(json.dumps(compare))
    assert "alert(3)" not in page.raw["script"][1] and "</script>" not in page.raw["script"][0].lower()


def test_numbers_in_the_html_equal_compare_json(hostile_report):
    html, compare = hostile_report
    cells = Cells(html).cells
    [comp] = compare["comparisons"]
    checked = tiny_p = 0
    for key, e in comp["metrics"].items():
        for field, shown in (("a", fmt_num), ("b", fmt_num), ("delta", fmt_delta), ("p", fmt_p)):
            attrs, text = cells[(comp["other"], key, field)]
            if e[field] is None and field in ("a", "b"):   # an undefined value says so, with its reason
                assert text.strip() == "n/a" and attrs["title"] == (e["undefined"] or "undefined on the scored items")
                continue
            if e[field] is None:
                assert text.strip() == "\u2014"
                continue
            assert float(attrs["data-value"]) == e[field]
            assert text.strip() == shown(e[field])
            if field == "p" and e[field] < 0.001:
                assert text.strip() == "<0.001"                            # written out, not from fmt_p
                tiny_p += 1
            else:
                assert float(text) == pytest.approx(e[field], abs=5e-4)   # independent of fmt_*
            checked += 1
        attrs, text = cells[(comp["other"], key, "ci")]
        if e["ci"]:
            assert [float(attrs["data-lo"]), float(attrs["data-hi"])] == e["ci"]
            lo, hi = (float(x) for x in re.findall(r"[-+]?\d+\.\d+", text))
            assert (lo, hi) == (pytest.approx(e["ci"][0], abs=5e-4), pytest.approx(e["ci"][1], abs=5e-4))
        # fixture: of the 2 leaves one is healthy (false alarms) and one has treatments; METEOR is not run;
        # the 3 captions share one reference set, so CIDEr is undefined (IDF 0 everywhere)
        partial = {"diagnosis/healthy_false_alarm": "1 of 2", "diagnosis/treatment_recall": "1 of 2",
                   "caption/meteor": "0 of 3", "caption/cider": "0 of 3"}
        assert cells[(comp["other"], key, "n")][1].strip() == partial.get(key, str(e["n"]))
    assert checked > 40 and tiny_p == 1
    cider = comp["metrics"]["caption/cider"]
    assert (cider["a"], cider["b"]) == (None, None) and cider["undefined"].startswith("CIDEr undefined")
    assert f"cider n/a: {cider['undefined']}" in re.sub(r"\s+", " ", html_unescape(html))


@pytest.mark.parametrize("entry, shown", [
    ({"n": 200, "n_scored": None}, "200"),
    ({"n": 200, "n_scored": [200, 200]}, "200"),
    ({"n": 200, "n_scored": [44, 44]}, "44 of 200"),
    ({"n": 200, "n_scored": [120, 180]}, "120 / 180 of 200"),
    ({"n": 200, "n_scored": [None, 150]}, "200 / 150 of 200"),
    ({"n": 5}, "5"),                      # a compare.json written before n_scored existed
])
def test_n_label_names_the_items_a_metric_was_scored_on(entry, shown):
    assert n_label(entry) == shown


def test_report_is_self_contained(hostile_report):
    html, _ = hostile_report
    page = Page(html)
    assert not any(tag in ("link", "iframe", "object", "embed", "base") for tag, _ in page.elements)
    for tag, attrs in page.elements:
        for name in ("src", "href", "action", "poster", "srcset"):
            if name in attrs:
                assert attrs[name].startswith(("data:", "#")), (tag, attrs)
    css = page.raw["style"][0]
    assert "url(" not in css and "@import" not in css
    csp = next(a["content"] for t, a in page.elements if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp
    # the inline script and style are allowed by hash, so the browser runs exactly them and nothing else
    for kind, body in (("script", page.raw["script"][1]), ("style", css)):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{kind}-src 'sha256-{digest}'" in csp
    assert "@media print" in css


def test_sections_provenance_and_examples(hostile_report, tmp_path):
    html, compare = hostile_report
    page = Page(html)
    ids = {attrs.get("id") for _, attrs in page.elements}
    assert {"summary", "failures", "lengths", "examples", "provenance"} <= ids
    text = page.all_text()
    assert compare["eval_set"]["manifest_sha256"] in text
    assert compare["runs"][0]["checkpoint_sha256"] in text and "0123abc" in text   # checkpoint, git commit
    cards = [a for t, a in page.elements if t == "article"]
    assert len(cards) == compare["eval_set"]["n_items"]        # small set: every item shown
    assert not any("hidden" in a for a in cards)               # visible without JavaScript
    assert any("hidden" in a for t, a in page.elements if a.get("id") == "filters")  # JS reveals the filter
    kinds = [a["data-kind"] for a in cards if a["data-task"] == "recipe"]
    assert kinds == sorted(kinds, key=["win", "loss", "same"].index)
    wins = [float(a["data-delta"]) for a in cards if a["data-kind"] == "win" and a["data-task"] == "caption"]
    assert wins == sorted(wins, reverse=True)
    thumbs = [a["src"] for t, a in page.elements if t == "img" and a["src"].startswith("data:image/png")]
    assert len(thumbs) == len(cards)


def test_cli_report_with_saved_compare(tmp_path, capsys):
    from workbench.cli import main

    es, a, b = two_stage_runs(tmp_path)
    out, cj = tmp_path / "r" / "index.html", tmp_path / "r" / "compare.json"
    assert main(["report", str(a), str(b), "--eval-set", str(es), "--out", str(out), "--resamples", "300",
                 "--save-compare", str(cj)]) == 0
    compare = json.loads(cj.read_text())
    cells = Cells(out.read_text()).cells
    e = compare["comparisons"][0]["metrics"]["recipe/dish_accuracy"]
    assert float(cells[("stage2", "recipe/dish_accuracy", "delta")][0]["data-value"]) == e["delta"]
    # reusing compare.json gives the same numbers; one for other runs is refused
    out2 = tmp_path / "r" / "again.html"
    assert main(["report", str(a), str(b), "--eval-set", str(es), "--out", str(out2), "--compare", str(cj)]) == 0
    assert Cells(out2.read_text()).cells == cells
    assert main(["report", str(b), str(a), "--eval-set", str(es), "--out", str(out2), "--compare", str(cj)]) == 1
    assert "rerun `workbench compare`" in capsys.readouterr().err


def test_three_runs_get_one_table_per_comparison(tmp_path):
    es, a, b = two_stage_runs(tmp_path)
    c = make_run(tmp_path / "runs", "stage2b", es, stage_outputs(es, good=True))
    out = render_report([a, b, c], es, tmp_path / "r.html", n_resamples=200, show_progress=False)
    cells = Cells(out.read_text()).cells
    assert {other for other, _, _ in cells} == {"stage2", "stage2b"}


def test_unreadable_image_is_a_clear_error(tmp_path):
    es, a, b = two_stage_runs(tmp_path)
    compare = compare_runs([a, b], es, n_resamples=200, show_progress=False)
    from workbench.evalsets import load_eval_set
    loaded = load_eval_set(es)
    (es / "images" / "caption_0.png").write_bytes(b"not a png")
    with pytest.raises(WorkbenchError, match="caption_0.png: cannot read the image"):
        from workbench.compare import load_scored_runs
        from workbench.report.render import write_report
        _, runs = load_scored_runs([a, b], loaded)
        write_report(loaded, runs, tmp_path / "r.html", compare)

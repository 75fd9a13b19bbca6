"""How the report writes numbers and embeds data (issue 20): expected strings written out by hand."""

from __future__ import annotations

import json
import re

import pytest

from workbench.report.render import _environment, fmt_delta, fmt_num, fmt_p, n_label

DASH = "\u2014"


@pytest.mark.parametrize("value, shown", [
    (None, DASH), (float("nan"), DASH), (float("inf"), DASH),
    (0, "0.000"), (0.0, "0.000"), (0.5, "0.500"), (0.12345, "0.123"), (-0.25, "-0.250"),
    (0.0005, "0.001"), (0.0004, "4.0e-04"), (-0.0001, "-1.0e-04"),      # tiny but not zero: never "0.000"
    (99.9994, "99.999"), (100, "100.0"), (123.456, "123.5"), (-250.0, "-250.0"), (7, "7.000"),
])
def test_fmt_num(value, shown):
    assert fmt_num(value) == shown


@pytest.mark.parametrize("value, shown", [
    (None, DASH), (float("nan"), DASH), (0, "0.000"), (0.0, "0.000"), (0.25, "+0.250"), (-0.25, "-0.250"),
    (0.0002, "+2.0e-04"), (150.0, "+150.0"),
])
def test_fmt_delta_signs_positive_changes_only(value, shown):
    assert fmt_delta(value) == shown


@pytest.mark.parametrize("value, shown", [
    (None, DASH), (0.0, "<0.001"), (0.0004999, "<0.001"), (0.000999, "<0.001"), (0.001, "0.001"),
    (0.0123, "0.012"), (0.05, "0.050"), (1.0, "1.000"),
])
def test_fmt_p_floors_at_one_in_a_thousand(value, shown):
    assert fmt_p(value) == shown


def test_embedded_json_cannot_end_its_script_element_and_round_trips():
    data = {"note": "</script><script>alert(1)</script>", "amp": "a & b", "gt": "x > y <!--", "n": [1, 0.5, None]}
    template = _environment().from_string('<script type="application/json">{{ d|json_script }}</script>')
    html = template.render(d=data)
    body = re.fullmatch(r'<script type="application/json">(.*)</script>', html, re.S).group(1)
    assert "<" not in body and ">" not in body and "&" not in body
    assert json.loads(body) == data
    with pytest.raises(ValueError):                        # NaN is not JSON: refused, not written as NaN
        template.render(d={"x": float("nan")})


def test_template_text_is_escaped_and_raw_numbers_are_reprs():
    env = _environment()
    assert env.from_string("{{ s }}").render(s='<b a="1">&') == "&lt;b a=&#34;1&#34;&gt;&amp;"
    assert env.from_string("{{ v|raw }}").render(v=None) == ""
    assert env.from_string("{{ v|raw }}").render(v=1) == "1.0"
    assert env.from_string("{{ v|pval }} {{ w|num }} {{ x|delta }}").render(v=0.0001, w=2, x=1) == \
        "&lt;0.001 2.000 +1.000"


@pytest.mark.parametrize("entry, shown", [
    ({"n": 10, "n_scored": [10, None]}, "10"),
    ({"n": 10, "n_scored": [None, None]}, "10"),
    ({"n": 10, "n_scored": []}, "10"),
    ({"n": 10, "n_scored": [3, None]}, "3 / 10 of 10"),
    ({"n": 10, "n_scored": [4, 4]}, "4 of 10"),
    ({"n": 10, "n_scored": [4, 5]}, "4 / 5 of 10"),
])
def test_n_label_edge_cases(entry, shown):
    assert n_label(entry) == shown

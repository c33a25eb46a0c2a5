"""The Markdown and HTML reports: content, order, self-containedness, escaping."""

from __future__ import annotations

import dataclasses
import re

import pytest

from analysis.pipeline import analyze
from analysis.report import fmt, fmt_p, render_html, render_markdown
from instrument import load_instrument
from synthetic_data.generate import generate


@pytest.fixture(scope="module")
def m4_result():
    return analyze(generate(world="theory", n=400, seed=3, modules=["M4"]).data, n_boot=50, n_jobs=1)


def test_html_report_is_self_contained_and_verdicts_come_first(analyzed):
    html = (analyzed / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html), "external resource in the report"
    assert "<link" not in html and "@import" not in html
    headings = re.findall(r'<h2 id="([^"]+)"', html)
    assert headings[0] == "verdicts"
    assert headings[1:6] == ["m1", "m2", "m3", "m4", "m5"]
    for hid in (f"H{k}" for k in range(1, 17)):
        assert f">{hid}<" in html
    # per module: a path diagram, item distributions and a correlation heatmap (inline SVG)
    for k, section in enumerate(html.split('<h2 id="m')[1:]):
        assert section.count("<svg") >= 3, f"module section {k + 1} lacks figures"
    assert "class=\"graph\"" in html  # graphviz output


def test_markdown_report_lists_every_verdict(analyzed):
    md = (analyzed / "report.md").read_text(encoding="utf-8")
    table = md.split("## Verdicts")[1].split("\n## ")[0]
    rows = [line for line in table.splitlines() if re.match(r"\| H\d+ ", line)]
    assert [r.split("|")[1].strip() for r in rows] == [f"H{k}" for k in range(1, 17)]
    assert "seed 3" in md or "(seed 3)" in md


def test_user_text_is_escaped(m4_result):
    evil = "<script>alert('x')</script> & <b>bold</b>"
    v = m4_result.verdicts.copy()
    v.loc[0, "statement"] = evil
    v.loc[0, "test"] = evil
    res = dataclasses.replace(m4_result, verdicts=v, options={**m4_result.options, "source": evil})
    html = render_html(res, load_instrument().select(["M4"]))
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;" in html
    md = render_markdown(res, load_instrument().select(["M4"]))
    assert "H11" in md


def test_subset_report_names_skipped_hypotheses(m4_result):
    html = render_html(m4_result, load_instrument().select(["M4"]))
    assert re.findall(r'<h2 id="([^"]+)"', html)[:2] == ["verdicts", "m4"]
    assert "H1" in html and "module(s) M1 not in the data" in html


def test_number_formatting():
    assert fmt(0.12345) == "0.123" and fmt(float("nan")) == "" and fmt(True) == "yes" and fmt(3) == "3"
    assert fmt_p(0.0004) == "<.001" and fmt_p(0.0456) == "0.046" and fmt_p(float("nan")) == ""

"""The Markdown and HTML reports: content, order, self-containedness, escaping."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from analysis.propositions.pipeline import analyze
from analysis.report.render import fmt, fmt_p, render_html, render_markdown
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


def _with_all_test_kinds(result):
    """The M4 result with H11's decision tests replaced by one test of each kind, numbers chosen apart."""
    base = {"hypothesis": "H11", "expression": "", "direction": "greater", "p.opposite": 0.9, "std.estimate": np.nan,
            "decision": True, "model": "model H11", "n": 400}
    rows = [
        {**base, "test": "wald path", "kind": "wald", "estimate": 0.4321, "se": 0.0812, "ci.lower": 0.2729,
         "ci.upper": 0.5913, "p.predicted": 0.0123},
        {**base, "test": "boot indirect", "kind": "indirect, percentile bootstrap (50 resamples; BC 0.010 to 0.200)",
         "estimate": 0.1111, "se": 0.0456, "ci.lower": 0.0222, "ci.upper": 0.2101, "p.predicted": 0.0196,
         "failed.resamples": 2},
        {**base, "test": "chi-square difference: b1 == b2", "kind": "lr", "estimate": 12.3456, "se": np.nan,
         "ci.lower": np.nan, "ci.upper": np.nan, "p.predicted": 0.0021, "df": 2},
        {**base, "test": "max HTMT of CBC with the others < 0.85", "kind": "htmt", "estimate": 0.7777, "se": np.nan,
         "ci.lower": np.nan, "ci.upper": np.nan, "p.predicted": np.nan, "ok": True},
    ]
    tests = pd.concat([result.tests[result.tests["hypothesis"] != "H11"], pd.DataFrame(rows)], ignore_index=True)
    hyps = tuple(dataclasses.replace(h, spec=h.spec.model_copy(update={"htmt_below": {"construct": "CBC",
                                                                                         "threshold": 0.85}}))
                 if h.id == "H11" else h for h in result.registry.hypotheses)
    return dataclasses.replace(result, tests=tests, registry=dataclasses.replace(result.registry, hypotheses=hyps))


EXPECTED_TEST_TABLES = {  # family -> (header, the one row)
    "wald": (["Test", "Estimate", "SE", "95% CI", "p (one-sided)"],
             ["wald path", "0.432", "0.081", "[0.273, 0.591]", "0.012"]),
    "bootstrap": (["Test", "Estimate", "Bootstrap SE", "95% CI (percentile)", "p (one-sided, bootstrap)",
                   "Failed resamples", "Method"],
                  ["boot indirect", "0.111", "0.046", "[0.022, 0.210]", "0.020", "2",
                   "indirect, percentile bootstrap (50 resamples; BC 0.010 to 0.200)"]),
    "lr": (["Test", "\u03c7\u00b2 difference", "df", "p"], ["chi-square difference: b1 == b2", "12.346", "2", "0.002"]),
    "htmt": (["Test", "HTMT", "Threshold", "Below threshold"],
             ["max HTMT of CBC with the others &lt; 0.85", "0.778", "0.85", "yes"]),
}


def test_each_test_kind_has_its_own_columns_in_html(m4_result):
    html = render_html(_with_all_test_kinds(m4_result), load_instrument().select(["M4"]))
    section = html.split('<h3 id="H11">')[1].split("<h3")[0]
    tables = dict(re.findall(r'<table class="tests-(\w+)">(.*?)</table>', section, flags=re.S))
    assert set(tables) == set(EXPECTED_TEST_TABLES)
    for family, (header, row) in EXPECTED_TEST_TABLES.items():
        assert re.findall(r"<th>(.*?)</th>", tables[family]) == header, family
        assert re.findall(r"<td[^>]*>(.*?)</td>", tables[family]) == row, family
    # the chi-square difference is nowhere under an estimate or one-sided p header
    assert "12.346" not in tables["wald"] + tables["bootstrap"]


def test_each_test_kind_has_its_own_columns_in_markdown(m4_result):
    md = render_markdown(_with_all_test_kinds(m4_result), load_instrument().select(["M4"]))
    section = md.split("### H11:")[1].split("\n### ")[0].split("\n## ")[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("| ") and not ln.startswith("| Robustness")]
    cells = [[c.strip() for c in ln.strip("|").split(" | ")] for ln in lines]
    expected = [[*h] for h, _ in EXPECTED_TEST_TABLES.values()]
    headers = [c for c in cells if c[0] == "Test"]
    assert headers == expected
    for header, row in EXPECTED_TEST_TABLES.values():
        k = cells.index(list(header))
        assert cells[k + 1] == [x.replace("&lt;", "<") for x in row]


def test_lr_and_htmt_rows_of_the_reference_run(analyzed):
    """H8 (registry: chi-square difference r_endo == r_exo, HTMT of G7 below 0.85) on the reference data."""
    html = (analyzed / "report.html").read_text(encoding="utf-8")
    section = html.split('<h3 id="H8">')[1].split("<h3")[0]
    tables = dict(re.findall(r'<table class="tests-(\w+)">(.*?)</table>', section, flags=re.S))
    assert re.findall(r"<th>(.*?)</th>", tables["lr"]) == EXPECTED_TEST_TABLES["lr"][0]
    lr = re.findall(r"<td[^>]*>(.*?)</td>", tables["lr"])
    assert lr[0].startswith("chi-square difference") and float(lr[1]) >= 0 and lr[2] == "1"
    ht = re.findall(r"<td[^>]*>(.*?)</td>", tables["htmt"])
    assert ht[2] == "0.85" and ht[3] == ("yes" if float(ht[1]) < 0.85 else "no")
    md = (analyzed / "report.md").read_text(encoding="utf-8")
    assert "| Test | \u03c7\u00b2 difference | df | p |" in md.split("### H8:")[1].split("### ")[0]

"""The data-quality report of an ingest (quality.html / quality.md)."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError

import numpy as np
import pandas as pd
import pytest

from analysis.ingest.pipeline import ingest
from analysis.propositions.pipeline import step1_screen
from analysis.psychometrics.missingness import little_mcar, missing_patterns_table
from analysis.psychometrics.reliability import cronbach_alpha
from analysis.psychometrics.scoring import score
from analysis.psychometrics.screening import ScreeningRules, screen
from analysis.report import quality as q
from analysis.report.quality import MAX_PATTERNS, quality_report, write_quality
from instrument import load_instrument
from synthetic_data.generate import generate
from synthetic_data.writers import write_data

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    """A codebook-layout CSV (theory world, M2, N = 200) with a planted script in a text answer, a
    repeated respondent and an empty row (both excluded by ingest)."""
    folder = tmp_path_factory.mktemp("quality")
    plain = folder / "plain.csv"
    write_data(generate(world="theory", n=200, seed=5, modules=["M2"]), plain)
    data = pd.read_csv(plain, dtype=str, keep_default_na=False)
    member = data.index[data["firm_cluster_member"] == "1"]
    data.loc[member[:30], "firm_cluster_org"] = SCRIPT  # the most frequent answer: shown
    data = pd.concat([data, data.iloc[[0]], pd.DataFrame([[""] * data.shape[1]], columns=data.columns)],
                     ignore_index=True)
    path = folder / "planted.csv"
    data.to_csv(path, index=False)
    key = folder / "key"
    key.write_text("0123456789abcdef0123456789abcdef")
    return path, key


@pytest.fixture(scope="module")
def result(raw, inst):
    return ingest(raw[0], key=raw[1], instrument=inst)


@pytest.fixture(scope="module")
def report(result, inst):
    return quality_report(result, inst)


@pytest.fixture(scope="module")
def written(report, tmp_path_factory):
    out = tmp_path_factory.mktemp("written")
    paths = write_quality(report, out)
    return {p.name: p.read_text(encoding="utf-8") for p in paths}


def test_writes_html_and_md(written):
    assert set(written) == {"quality.html", "quality.md"}


@pytest.mark.parametrize("anchor", ["rows", "cells", "screening", "missing", "mcar", "distributions",
                                    "reliability", "notes"])
def test_html_has_each_section(written, anchor):
    assert f'id="{anchor}"' in written["quality.html"]


@pytest.mark.parametrize("heading", ["## Rows", "## Cells changed by ingest", "## Screening of the kept rows",
                                     "## Missing data", "### Little's MCAR test", "## Item distributions",
                                     "## Reliability", "## Notes"])
def test_md_has_each_section(written, heading):
    assert heading in written["quality.md"]


def test_row_counts_equal_rows_csv(result, report, written):
    rows = result.rows
    excluded = int((rows["status"] == "excluded").sum())
    assert excluded == 2 and len(rows) == 202
    assert dict(zip(report.row_status["status"], report.row_status["rows"], strict=True)) == \
        {"read": 202, "kept": 200, "excluded": 2}
    assert dict(zip(report.row_reasons["reason"], report.row_reasons["rows"], strict=True)) == \
        {"duplicate respondent id": 1, "empty row": 1}
    html = written["quality.html"]
    assert '<td class="num" id="rows-read">202</td>' in html
    assert '<td class="num" id="rows-excluded">2</td>' in html
    assert "| excluded by ingest | 2 |" in written["quality.md"]


def test_cell_reasons_equal_cells_csv(result, report):
    expected = result.cells["reason"].value_counts()
    got = dict(zip(report.cell_reasons["reason"], report.cell_reasons["cells"], strict=True))
    assert got == {k: int(v) for k, v in expected.items()}


def test_screening_counts_equal_screen_on_the_same_rows(result, report, inst, written):
    data = result.responses
    likert = [v.name for v in inst.variables() if v.kind in ("likert", "matrix") and v.name in data.columns]
    attention = {a.id: a.expected for a in inst.questionnaire.attention_checks if a.id in data.columns}
    scales = {c.id: [it.id for it in c.items] for c in inst.constructs.values()}
    reverse = {it.id: 8 for c in inst.constructs.values() for it in c.items if it.reverse}  # 1-7 scales
    assert reverse and {inst.scales[c.scale].points[-1].value for c in inst.constructs.values()} == {7}
    res = screen(data, likert=likert, id_column="respondent_id", attention=attention,
                 duration_column="duration_sec", scales=scales, reverse=reverse)
    assert res.indices["evenodd"].notna().any()
    # smesurvey analyze screens the same way (it printed other even-odd counts before both used one helper)
    pd.testing.assert_frame_equal(step1_screen(data, inst).log, res.log)
    summary = res.summary().set_index("rule")
    rules = report.rules.set_index("rule")
    for rule in summary.index:
        assert rules.loc[rule, "excluded"] == summary.loc[rule, "excluded"], rule
        assert rules.loc[rule, "flagged"] == summary.loc[rule, "flagged"], rule
    assert report.screened_kept == len(res.kept) < report.screened_rows == len(data)
    assert f'<span id="screened-excluded">{len(data) - len(res.kept)}</span>' in written["quality.html"]
    # the log names rows of the input file, not of the kept frame
    kept_src = set(result.rows.loc[result.rows["status"] == "kept", "source_row"])
    assert set(report.screening_log["source_row"]) <= kept_src and len(report.screening_log) == len(res.log)


def test_every_index_with_action_and_source(report, written):
    assert list(report.rules["rule"]) == ["duplicate", "partial", "attention", "speeder", "straightline",
                                          "outlier", "irv", "evenodd", "psychsyn", "psychant", "page_speeder"]
    actions = dict(zip(report.rules["rule"], report.rules["action"], strict=True))
    assert actions["speeder"] == "exclude" and actions["outlier"] == "flag" and actions["page_speeder"] == "flag"
    for source in ("Curran 2016", "Meade & Craig 2012", "Huang et al. 2012", "Johnson 2005", "Dunn et al. 2018"):
        assert source in written["quality.md"]
        assert source.replace("&", "&amp;") in written["quality.html"]
    assert set(report.indices["index"]) == set(q.INDEX_COLUMNS)


def test_exclusions_are_configurable(result, inst, report):
    rules = ScreeningRules(exclude=ScreeningRules().exclude | {"evenodd", "psychsyn"})
    other = quality_report(result, inst, rules)
    actions = dict(zip(other.rules["rule"], other.rules["action"], strict=True))
    assert actions["evenodd"] == "exclude" and actions["psychsyn"] == "exclude"
    flagged = report.rules.set_index("rule").loc[["evenodd", "psychsyn"], "flagged"].sum()
    assert flagged > 0 and other.screened_kept < report.screened_kept


def test_mcar_equals_little_mcar_on_the_same_data(result, report, inst, written):
    items = [it.id for c in inst.constructs_in("M2") for it in c.items]
    expected = little_mcar(result.responses, items).iloc[0]
    row = report.mcar.set_index("scope").loc["module M2"]
    assert row["statistic"] == pytest.approx(expected["statistic"], rel=1e-12)
    assert row["df"] == expected["df"] and row["n_patterns"] == expected["n_patterns"]
    assert row["p"] == pytest.approx(expected["p"])
    assert f"{expected['statistic']:.2f}" in written["quality.html"]
    assert f"| module M2 | {len(items)} | {expected['statistic']:.2f} | {int(expected['df'])} |" in written["quality.md"]


def test_mcar_samples_big_data_and_says_so(result, inst, monkeypatch):
    monkeypatch.setattr(q, "MCAR_MAX_ROWS", 120)
    small = quality_report(result, inst)
    assert set(small.mcar["n"].dropna()) <= {120.0}
    assert any("random sample of 120 of the 200 rows" in n for n in small.notes)


def test_missing_tables(result, report, inst):
    items = report.missing_items.set_index("item")
    member = (pd.to_numeric(result.responses["firm_cluster_member"]) == 1).sum()
    assert items.loc["firm_cluster_org", "asked"] == member  # skip logic: asked only of cluster members
    assert items.loc["firm_employees", "asked"] == len(result.responses)
    for it in ("ik_1", "de_2"):
        if it in items.index:
            assert items.loc[it, "n_missing"] == result.responses[it].isna().sum()
    likert = [v.name for v in inst.variables() if v.kind == "likert" and v.name in result.responses.columns]
    assert report.missing_respondents["respondents"].sum() == len(result.responses)
    full = missing_patterns_table(result.responses, likert)
    assert report.n_patterns == len(full) and len(report.patterns) == min(MAX_PATTERNS, len(full))
    assert report.patterns["n"].tolist() == full["n"].head(MAX_PATTERNS).tolist()
    assert set(report.missing_modules["module"]) == {"M0", "M2"}


def test_distributions_count_every_code(result, report):
    d = report.distributions[report.distributions["item"] == "ik_1"] if "ik_1" in set(
        report.distributions["item"]) else report.distributions[report.distributions["module"] == "M2"]
    item = d["item"].iloc[0]
    d = d[d["item"] == item]
    x = pd.to_numeric(result.responses[item])
    assert d["n"].tolist() == [int((x == c).sum()) for c in d["code"]]
    assert d["share"].sum() == pytest.approx(1.0)
    assert set(report.distributions["module"]) == {"M0", "M2"}


def test_reliability_before_and_after(result, report, inst):
    rel = report.reliability.set_index("construct")
    assert set(rel.index) >= {c.id for c in inst.constructs_in("M2")}
    scored = score(result.responses, inst)  # the analysis' own reverse-scoring
    for c in inst.constructs_in("M2"):
        items = [it.id for it in c.items]
        expected = cronbach_alpha(scored.data, items).iloc[0]
        assert rel.loc[c.id, "alpha.before"] == pytest.approx(expected["alpha"], rel=1e-10)
        assert rel.loc[c.id, "n.before"] == expected["n"]
        assert rel.loc[c.id, "n.after"] <= rel.loc[c.id, "n.before"]


def test_html_is_self_contained_and_escapes_user_text(written):
    html = written["quality.html"]
    assert 'src="http' not in html and "<link" not in html and "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<svg") >= 3  # pattern matrix and one distribution grid per module (M0, M2)
    assert not re.search(r'(?:href|src)="(?!#)', html)  # only in-page links


def test_md_carries_the_text_answer_verbatim_in_a_table(written):
    assert f"| firm_cluster_org | {SCRIPT} | 30 |" in written["quality.md"]


def test_byte_identical_on_two_runs(raw, inst, tmp_path):
    for name in ("a", "b"):
        res = ingest(raw[0], key=raw[1], instrument=inst)
        write_quality(quality_report(res, inst), tmp_path / name)
    for name in ("quality.html", "quality.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_report_is_immutable(report):
    with pytest.raises(FrozenInstanceError):
        report.screened_kept = 0  # type: ignore[misc]


def test_input_file_is_not_modified(raw, inst, tmp_path):
    before = raw[0].read_bytes()
    write_quality(quality_report(ingest(raw[0], key=raw[1], instrument=inst), inst), tmp_path)
    assert raw[0].read_bytes() == before


def test_tiny_data_gives_notes_not_errors(tmp_path, inst):
    path = tmp_path / "tiny.csv"
    path.write_text("respondent_id,tk_1,tk_2,tk_3,tk_4\nr1,1,2,,4\nr2,3,,3,3\n")
    rep = quality_report(ingest(path, instrument=inst), inst)
    assert rep.mcar["note"].str.startswith("not run").all()
    assert np.isnan(rep.mcar["statistic"]).all()
    assert rep.reliability["alpha.before"].isna().all() and (rep.reliability["note"] != "").all()
    assert write_quality(rep, tmp_path / "o")[0].stat().st_size > 0


def test_big_data_screens_a_sample_and_says_so(result, inst, monkeypatch, tmp_path):
    monkeypatch.setattr(q, "SCREEN_MAX_ROWS", 150)
    rep = quality_report(result, inst)
    assert rep.screened_rows == 150 and rep.screened_kept <= 150
    assert any("random sample of 150 of the 200 rows kept by ingest" in n for n in rep.notes)
    kept_src = set(result.rows.loc[result.rows["status"] == "kept", "source_row"])
    assert set(rep.screening_log["source_row"]) <= kept_src
    assert (rep.reliability["n.before"] <= 150).all()
    html = write_quality(rep, tmp_path)[0].read_text(encoding="utf-8")
    assert "<strong>Sampled:</strong> 150 of the 200 rows kept by ingest" in html


# -- page times ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def paged(tmp_path_factory, inst):
    """A LimeSurvey export (M2, N = 120, 15% careless) with page durations, ingested and reported."""
    from synthetic_data.knobs import Knobs

    gen = generate(n=120, seed=23, modules=["M2"], knobs=Knobs().with_changes(page_durations=True, careless=0.15))
    out = tmp_path_factory.mktemp("paged")
    src = write_data(gen, out / "lime.csv", fmt="limesurvey", instrument=inst)[0]
    res = ingest(src, instrument=inst)
    rep = quality_report(res, inst)
    return res, rep, {p.name: p.read_text(encoding="utf-8") for p in write_quality(rep, out / "q")}


def test_page_table_from_the_page_times(paged, inst):
    res, rep, written = paged
    pages = rep.pages.set_index("page")
    assert list(pages.index) == ["M0", "M2", "M0_MKR"]
    items = {"M0": 14, "M2": 17, "M0_MKR": 3}  # M2: 16 scale items and the attention check
    assert pages["items"].to_dict() == items
    for page, k in items.items():
        secs = res.pages[page].dropna()
        assert pages.loc[page, "timed"] == len(secs)
        assert pages.loc[page, "median_seconds"] == pytest.approx(secs.median())
        assert pages.loc[page, "threshold_seconds"] == 2.0 * k
        assert pages.loc[page, "share_below"] == pytest.approx((secs < 2.0 * k).mean())
    assert pages.loc["M2", "share_below"] > 0  # the careless responders
    assert "| Page | Items | Timed | Median seconds | Threshold seconds | Share below |" in written["quality.md"]
    assert "| M2 | 17 |" in written["quality.md"]
    assert '<table id="pages">' in written["quality.html"]
    assert not any("page timers" in n for n in rep.notes)


def test_page_speeders_flagged_as_analyze_flags_them(paged, inst):
    res, rep, _ = paged
    flagged = rep.rules.set_index("rule").loc["page_speeder"]
    assert flagged["action"] == "flag" and flagged["excluded"] == 0 and flagged["flagged"] > 0
    # the pipeline's step 1 (analyze passes the full instrument) with the same page times flags the same rows
    direct = step1_screen(res.responses, inst, res.pages)
    assert int((direct.log["rule"] == "page_speeder").sum()) == flagged["flagged"]


def test_no_page_timers_is_a_note(report, written):
    assert report.pages.empty and list(report.pages.columns) == list(q.PAGE_COLUMNS)
    assert any(n.startswith("Per-page speeding (page_speeder) was not checked: the export had no page timers")
               for n in report.notes)
    assert "No page times: per-page speeding was not checked" in written["quality.md"]
    assert "No page times: per-page speeding was not checked" in written["quality.html"]
    assert report.rules.set_index("rule").loc["page_speeder", "flagged"] == 0


def test_mcar_on_too_few_rows_for_every_item_stops_with_a_reason(inst):
    """138 Likert items on 250 firms: EM's covariance matrix of all items turns singular and its
    log-likelihood falls; the test is reported as not computable (with why) within a second rather
    than iterating 10,000 times, and the per-module tests still run."""
    data = generate(world="theory", n=250, seed=2).data
    mcar = q.step4_missing(data, inst)["mcar"].set_index("scope")
    note = mcar.loc["all Likert items", "note"]
    assert note.startswith("not computable: EM for the saturated model failed: the log-likelihood fell")
    assert "138 variables became singular" in note and "250 rows" in note
    assert np.isnan(mcar.loc["all Likert items", "statistic"]) and mcar.loc["all Likert items", "n_patterns"] > 1
    modules = mcar.drop(index="all Likert items")
    assert len(modules) == 5 and modules["note"].eq("").all() and modules["p"].between(0, 1).all()

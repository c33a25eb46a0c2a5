"""Every export is produced and its content checked (not only its existence)."""

import csv
import re
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import semopy
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from instrument import load_instrument
from instrument.export import FORMATS, export
from instrument.platforms import limesurvey_code
from smecore.errors import OptionError


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


@pytest.fixture(scope="module")
def item_ids(inst):
    return [v.name for v in inst.variables(paradata=False)]


def test_definition_counts(inst):
    assert len(inst.constructs) == 40 and list(inst.matrices) == ["KSM"]
    per_module = {m: len(inst.constructs_in(m)) for m in inst.module_ids}
    assert per_module == {"M0": 0, "M1": 9, "M2": 4, "M3": 12, "M4": 5, "M5": 9}
    assert all(3 <= len(c.items) <= 4 for c in inst.constructs.values())
    assert len(inst.items_of("KSM")) == 18
    assert {h.id for h in inst.hypotheses} == {f"H{i}" for i in range(1, 17)}
    # a reverse-keyed item wherever the wording allows (statement scales)
    statement_scales = [c for c in inst.constructs.values() if c.scale == "agree7"]
    assert sum(any(i.reverse for i in c.items) for c in statement_scales) >= len(statement_scales) - 5


def test_xlsform_converts_without_errors_or_warnings(inst, tmp_path, item_ids):
    path = export(inst, "xlsform", tmp_path / "form.xlsx")[0]
    result = convert(xlsform=str(path))
    assert result.warnings == []
    for name in item_ids:
        assert f'name="{name}"' in result.xform or f"/{name}" in result.xform
    survey = pd.DataFrame(load_workbook(path)["survey"].values)
    assert "select_one agree7" in set(survey[0])
    assert "label::English (en)" in list(survey.iloc[0])


def test_module_selection_keeps_profile_and_drops_others(inst, tmp_path):
    path = export(inst, "xlsform", tmp_path / "m1.xlsx", modules=["M1"])[0]
    names = {r[1] for r in load_workbook(path)["survey"].iter_rows(values_only=True)}
    assert {"firm_employees", "tk_1", "ksm_vg_ik", "attn_1"} <= names
    assert "g1_1" not in names and "cint_1" not in names
    assert convert(xlsform=str(path)).warnings == []


def test_codebook_lists_every_variable_once(inst, tmp_path, item_ids):
    csv_path, md_path, sav_path, dta_path = export(inst, "codebook", tmp_path / "codebook.csv")
    cb = pd.read_csv(csv_path, keep_default_na=False)
    assert list(cb.columns) == ["variable", "label", "construct", "module", "reverse", "scale", "values", "missing"]
    assert cb["variable"].is_unique
    assert set(item_ids) <= set(cb["variable"])
    row = cb.set_index("variable").loc["eoi_3"]
    assert row["construct"] == "EOI" and row["reverse"] == 1 and row["values"].startswith("1=Strongly disagree;2=")
    # text starting with '-' is a formula to a spreadsheet (OWASP's CSV-injection rule): written with a leading '
    assert row["missing"] == "'-99=No answer"
    assert "| `tk_1` |" in md_path.read_text()
    df, meta = pyreadstat.read_sav(str(sav_path), user_missing=True)
    assert list(df.columns) == list(cb["variable"])
    assert meta.column_names_to_labels["firm_tech"].startswith("How would you describe")
    assert meta.variable_value_labels["firm_tech"][3.0] == "High technology"
    assert meta.missing_ranges["tk_1"] == [{"lo": -99.0, "hi": -99.0}]
    # measurement levels from the scales' level; integer formats for codes and counts
    levels = meta.variable_measure
    assert (levels["tk_1"], levels["attn_1"], levels["firm_tech"], levels["firm_sector"], levels["firm_cluster_member"],
            levels["firm_employees"], levels["firm_export_ratio"], levels["firm_cluster_org"]) == \
        ("ordinal", "ordinal", "ordinal", "nominal", "nominal", "scale", "scale", "nominal")
    formats = meta.original_variable_types
    assert (formats["tk_1"], formats["firm_founded"], formats["firm_employees"]) == ("F3.0", "F4.0", "F3.0")
    assert formats["firm_cluster_org"].startswith("A")
    dta, dmeta = pyreadstat.read_dta(str(dta_path))
    assert list(dta.columns) == list(cb["variable"]) and len(dta) == 0
    assert dmeta.variable_value_labels["firm_tech"][3] == "High technology"
    assert dmeta.original_variable_types["tk_1"] == "%4.0f"


def test_lavaan_syntax_parses_in_semopy(inst, tmp_path):
    path = export(inst, "lavaan", tmp_path / "model.lav")[0]
    syntax = path.read_text()
    model = semopy.Model(syntax)
    assert {"TK", "EO", "BMI", "SIR"} <= set(model.vars["latent"])
    assert "EO =~ EOI + EOP + EOR" in syntax and "BMI =~ DIG + SCOL + CINT + ARU + RMI" in syntax
    only_m3 = inst.lavaan_syntax(["M3"])
    assert "G7 =~ g7_1 + g7_2 + g7_3" in only_m3 and "TK =~" not in only_m3
    semopy.Model(only_m3)


def test_limesurvey_structure(inst, tmp_path):
    path = export(inst, "limesurvey", tmp_path / "ls.txt")[0]
    rows = list(csv.DictReader(path.open(encoding="utf-8"), delimiter="\t"))
    classes = {r["class"] for r in rows}
    assert {"S", "SL", "G", "Q", "SQ", "A"} <= classes
    codes = [r["name"] for r in rows if r["class"] in ("Q", "SQ")]
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", c) for c in codes)
    assert "tk1" in codes and "TK" in codes and limesurvey_code("ksm_vn_tk") in codes
    tk = next(i for i, r in enumerate(rows) if r["class"] == "Q" and r["name"] == "TK")
    assert rows[tk]["type/scale"] == "F" and rows[tk + 1]["class"] == "SQ"
    relevance = [r["relevance"] for r in rows if r["name"] == "firmclusterorg"]
    assert relevance == ['firmclustermember.NAOK == "1"']


def test_redcap_dictionary(inst, tmp_path, item_ids):
    path = export(inst, "redcap", tmp_path / "dd.csv")[0]
    dd = pd.read_csv(path, keep_default_na=False)
    assert dd.columns[0] == "Variable / Field Name" and len(dd.columns) == 18
    assert dd.iloc[0]["Variable / Field Name"] == "respondent_id"
    assert set(item_ids) <= set(dd["Variable / Field Name"])
    tk1 = dd.set_index("Variable / Field Name").loc["tk_1"]
    assert tk1["Field Type"] == "radio" and tk1["Matrix Group Name"] == "tk"
    assert tk1["Choices, Calculations, OR Slider Labels"].startswith("1, Not at all | 2, To a very small extent")
    emp = dd.set_index("Variable / Field Name").loc["firm_employees"]
    assert (emp["Text Validation Type OR Show Slider Number"], emp["Text Validation Max"]) == ("integer", "249")
    assert dd.set_index("Variable / Field Name").loc["firm_cluster_org", "Branching Logic (Show field only if...)"] \
        == "[firm_cluster_member] = '1'"


def test_qualtrics_advanced_format(inst, tmp_path):
    text = export(inst, "qualtrics", tmp_path / "q.txt")[0].read_text()
    assert text.startswith("[[AdvancedFormat]]")
    assert text.count("[[Block:") == 1 + len(inst.sections())
    assert "[[Question:Matrix:SingleAnswer]]\n[[ID:tk]]" in text
    assert "[[ID:ksm_vg_ik]]" in text and "[[ID:firm_sector]]" in text
    block = text.split("[[ID:tk]]")[1].split("[[Question")[0]
    assert "[[Choice:4]]" in block and "[[Answer:7]]\nTo a very great extent" in block


def test_html_preview_escapes_user_text(tiny, tmp_path):
    tiny.constructs["aa"]["items"][0]["text"]["en"] = "<script>alert('x')</script> & more"
    html = export(load_instrument(tiny.write()), "html", tmp_path / "q.html")[0].read_text()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(" in html and "&amp; more" in html


def test_html_and_markdown_content(inst, tmp_path, item_ids):
    html = export(inst, "html", tmp_path / "q.html")[0].read_text()
    md = export(inst, "markdown", tmp_path / "q.md")[0].read_text()
    for name in ("tk_1", "g7_3", "ksm_gr_mk", "firm_new_markets_3y", "mkr_1"):
        assert name in html and name in md
    assert "@media print" in html and "(R)" in html
    assert md.count("| Item | Variable |") == sum(
        1 for s in inst.sections() for b in s.blocks if b.kind in ("grid", "matrix"))


def test_every_format_writes_and_unknown_format_fails(inst, tmp_path):
    for fmt in FORMATS:
        for p in export(inst, fmt, tmp_path / fmt / f"out.{fmt}"):
            assert Path(p).stat().st_size > 500
    with pytest.raises(OptionError, match="choose one of: xlsform"):
        export(inst, "pdf", tmp_path / "x.pdf")
    with pytest.raises(OptionError, match="unknown module"):
        export(inst, "html", tmp_path / "x.html", modules=["M9"])


def test_exports_are_deterministic(inst, tmp_path):
    a = export(inst, "xlsform", tmp_path / "a.xlsx")[0].read_bytes()
    b = export(inst, "xlsform", tmp_path / "b.xlsx")[0].read_bytes()
    assert a == b
    sav_a = export(inst, "codebook", tmp_path / "c1.csv")[2].read_bytes()
    sav_b = export(inst, "codebook", tmp_path / "c2.csv")[2].read_bytes()
    assert sav_a == sav_b


def test_completion_time(inst):
    t = inst.completion_time()
    total = t.iloc[-1]
    assert total["module"] == "total" and 15 < total["minutes"] < 30
    assert total["likert_items"] == 158 and "6 s per Likert item" in t.attrs["assumptions"]
    m1 = t.set_index("module").loc["M1"]
    assert m1["seconds"] == 55 * 6 + 10

"""Formula-leading cells neutralised in what the package writes (OWASP CSV injection), numbers untouched."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from smecore.csvsafe import escape, is_formula, safe_frame, write_csv, xlsx_cells


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(A1:A2)", "-2+3+cmd",
                                  "\tx", "\rx", "=1+1"])
def test_formulas_are_escaped(text):
    assert is_formula(text) and escape(text) == "'" + text


@pytest.mark.parametrize("value", ["-1.5", "+3", "-99", "1e-5", "-.5", "abc", "", "a=b", 7, -1.5, None,
                                   "=~", "~~", ":=", "==", "-"])
def test_numbers_and_plain_text_are_not(value):
    assert not is_formula(value) and escape(value) == value


def test_safe_frame_escapes_text_cells_and_names_only(tmp_path):
    frame = pd.DataFrame({"id": ["=HYPERLINK(1)", "f2", None], "x": [-1.5, 2.0, 3.0], "@col": ["a", "-4", "+x"]})
    out = safe_frame(frame)
    assert out["id"].tolist()[:2] == ["'=HYPERLINK(1)", "f2"] and pd.isna(out["id"].iloc[2])
    assert out["x"].tolist() == [-1.5, 2.0, 3.0] and list(out.columns) == ["id", "x", "'@col"]
    assert out["'@col"].tolist() == ["a", "-4", "'+x"]
    assert frame["id"].iloc[0] == "=HYPERLINK(1)"  # the input frame is not modified
    clean = pd.DataFrame({"a": ["x", "y"]})
    assert safe_frame(clean) is clean
    path = write_csv(frame, tmp_path / "f.csv")
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    assert rows[1] == ["'=HYPERLINK(1)", "-1.5", "a"]


def test_xlsx_text_starting_with_equals_stays_text(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(xlsx_cells(ws, ["=HYPERLINK(\"x\")", "plain", 3]))
    wb.save(tmp_path / "f.xlsx")
    cell = load_workbook(tmp_path / "f.xlsx").active["A1"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("x")'

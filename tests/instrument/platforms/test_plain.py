"""The plain (codebook-layout) platform reader on hand-written files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from instrument import load_instrument
from instrument.platforms import plain
from instrument.platforms.tables import read_table
from smecore.errors import DataError

DATA = Path(__file__).resolve().parents[2] / "data" / "ingest"


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


def test_basic_file_keeps_values_and_moves_identifiers(inst):
    path = DATA / "plain_basic.csv"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    table = read_table(path)
    assert plain.detect(table, inst) == "header row 1 holds 3 codebook variables"
    raw = plain.read_responses(table, inst)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert list(raw.data.columns) == ["tk_1", "tk_2"]
    assert raw.data["tk_2"].tolist() == ["Strongly agree", ""]  # values as written
    assert raw.data["tk_1"].tolist() == ["7", "-99"]
    assert raw.meta["respondent"].tolist() == ["r1", "r2"]
    assert raw.identifiers == ("email",) and "email" not in raw.data.columns
    assert raw.identifying["email"].tolist() == ["a@b.c", "x@y.z"]
    assert raw.source_row.tolist() == [1, 2]


def test_title_row_and_semicolon(inst):
    raw = plain.read_responses(read_table(DATA / "plain_title_row_semicolon.csv"), inst)
    assert raw.details["header_row"] == 2 and raw.details["delimiter"] == ";"
    assert raw.data["tk_1"].tolist() == ["3,5"] and raw.unknown == ("extra",)


def test_duplicated_header_is_named(inst):
    with pytest.raises(DataError, match=r"plain_duplicated_header.csv: row 1: column 'tk_1' appears twice"):
        plain.read_responses(read_table(DATA / "plain_duplicated_header.csv"), inst)


def test_other_layout_is_not_detected_and_refused(inst):
    table = read_table(DATA / "not_codebook.csv")
    assert plain.detect(table, inst) is None
    with pytest.raises(DataError, match="not_codebook.csv: no header row with codebook variable names"):
        plain.read_responses(table, inst)


def test_xlsx_second_sheet_is_found(tmp_path, inst):
    import pandas as pd

    path = tmp_path / "two.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"notes": ["x"]}).to_excel(xw, sheet_name="Notes", index=False)
        pd.DataFrame({"respondent_id": ["r1"], "tk_1": [5]}).to_excel(xw, sheet_name="Data", index=False)
    names = {v.name for v in inst.variables()}
    table = read_table(path, prefer_sheet=lambda head: bool(names.intersection(head)))
    raw = plain.read_responses(table, inst)
    assert raw.details["sheet"] == "Data" and raw.data["tk_1"].tolist() == ["5"]

"""The ingest pipeline on a hand-written codebook-layout file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from analysis.ingest.pipeline import ingest
from smecore.errors import DataError

DATA = Path(__file__).resolve().parents[2] / "data" / "ingest"
MIXED = DATA / "pipeline_mixed.csv"


@pytest.fixture()
def key(tmp_path):
    k = tmp_path / "key"
    k.write_text("0123456789abcdef0123456789abcdef")
    return k


def test_rows_cells_and_outputs(tmp_path, key):
    before = hashlib.sha256(MIXED.read_bytes()).hexdigest()
    res = ingest(MIXED, tmp_path / "a", key=key)
    assert hashlib.sha256(MIXED.read_bytes()).hexdigest() == before
    assert res.rows["status"].tolist() == ["kept", "kept", "excluded", "excluded"]  # kept + excluded == read
    assert res.rows["reasons"].iloc[2] == "empty row"
    assert res.rows["reasons"].iloc[3] == "duplicate respondent id (first in source row 1)"
    reasons = {(r.source_row, r.variable): r.reason for r in res.cells.itertuples()}
    assert reasons[(1, "tk_1")] == "label recoded"
    assert reasons[(1, "tk_2")] == "text in numeric item"
    assert reasons[(1, "firm_export_ratio")].startswith("out of range set missing")
    assert reasons[(1, "firm_first_foreign_sale")].startswith("impossible")
    assert reasons[(1, "firm_cluster_org")] == "formula escaped"
    assert reasons[(2, "tk_1")].startswith("out of range")
    assert res.responses["tk_1"].tolist()[0] == 7.0 and pd.isna(res.responses["tk_1"].iloc[1])
    assert res.responses["firm_cluster_org"].iloc[0] == "'=HYPERLINK(\"http://x\")"
    assert "ip" not in res.responses.columns and res.provenance["dropped_identifier_columns"] == ["ip"]
    assert "r1" not in set(res.responses["respondent_id"])
    res2 = ingest(MIXED, tmp_path / "b", key=key)  # same key -> byte-identical outputs (bar versions)
    for name in ("responses.csv", "rows.csv", "cells.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert res2.provenance["input_sha256"] == before


def test_strict_names_file_row_column_value(tmp_path):
    with pytest.raises(DataError, match=r"pipeline_mixed.csv: row 3: column '\(all\)': value '': empty row"):
        ingest(MIXED, strict=True)  # row problems are the first class checked
    one = tmp_path / "one.csv"
    one.write_text("respondent_id,tk_1,tk_2\nr1,1,seven\n")
    with pytest.raises(DataError, match=r"one.csv: row 1: column 'tk_2': value 'seven': text in numeric item"):
        ingest(one, strict=True)


def test_keep_identifiers(key):
    res = ingest(MIXED, key=key, keep_identifiers=True)
    assert res.responses["respondent_id"].tolist() == ["r1", "r2"] and "ip" in res.responses.columns

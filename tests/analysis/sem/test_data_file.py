"""read_data_file: how fit reads any data file (index = 1-based data row; cells set missing logged)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem.data_file import read_data_file
from smecore.errors import DataError


def test_rows_numbered_from_one_and_markers_logged(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,name\n1,2,x\nN/A,3,y\n2, ,z\n", encoding="utf-8")
    d = read_data_file(p)
    assert d.frame.index.tolist() == [1, 2, 3]
    assert d.frame["a"].tolist()[1:] == [pytest.approx(np.nan, nan_ok=True), 2.0]
    assert d.frame["name"].tolist() == ["x", "y", "z"]  # text column stays text
    assert d.cells.values.tolist() == [[2, "a", "N/A", "", "missing marker"]]  # the blank cell is just missing


def test_decimal_comma_only_when_the_delimiter_is_not_a_comma(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a;b\n1,5;2\n3;4,25\n", encoding="utf-8")
    assert read_data_file(p).frame["a"].tolist() == [1.5, 3.0]
    q = tmp_path / "e.csv"
    q.write_text('a,b\n"1,5",2\n3,4\n', encoding="utf-8")
    assert read_data_file(q).frame["a"].tolist() == ["1,5", "3"]  # text: fit names it


def test_sav_user_missing_set_missing_and_logged(tmp_path):
    import pyreadstat

    p = tmp_path / "d.sav"
    pyreadstat.write_sav(pd.DataFrame({"a": [1.0, -99.0, 3.0], "b": [2.0, 2.0, 5.0]}), str(p),
                         missing_ranges={"a": [-99]})
    d = read_data_file(p)
    assert np.isnan(d.frame.loc[2, "a"]) and d.frame.loc[3, "a"] == 3.0
    assert d.cells.values.tolist() == [[2, "a", "-99", "", "declared missing code (SPSS user-missing)"]]


def test_title_row_skipped_and_recorded(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("Survey export 2026\na,b\n1,2\n3,4\n", encoding="utf-8")
    d = read_data_file(p)
    assert d.details["header_row"] == 2 and d.details["skipped_rows_above_header"] == 1
    assert d.frame["b"].tolist() == [2.0, 4.0]


def test_unnamed_column_with_data_is_refused(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row 1: column 2 has data but no name"):
        read_data_file(p)

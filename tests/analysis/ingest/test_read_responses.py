"""Reading response files laid out as the codebook."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis.ingest import read_responses
from smecore.errors import DataError


@pytest.fixture()
def frame():
    return pd.DataFrame({"respondent_id": ["a", "b", "c"], "tk_1": [1, -99, 7], "tk_2": [3.0, 4.0, np.nan]})


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".sav"])
def test_formats_read_alike_values_as_written(tmp_path, frame, suffix):
    path = tmp_path / f"responses{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        pyreadstat.write_sav(frame, str(path))
    before = _digest(path)
    data = read_responses(path)
    assert _digest(path) == before  # the input is never modified
    assert list(data.columns) == ["respondent_id", "tk_1", "tk_2"]
    # -99 stays -99: validate_codes sets it missing and logs it (so every changed cell is in cells.csv)
    assert data["tk_1"].tolist() == [1, -99, 7] and np.isnan(data["tk_2"].loc[3])
    assert list(data.index) == [1, 2, 3]  # rows are named as the file counts them, 1 under the header


def test_missing_code_is_logged_by_validate_codes(tmp_path, frame):
    from analysis.psychometrics.scoring import validate_codes
    from instrument import load_instrument

    path = tmp_path / "responses.csv"
    frame.to_csv(path, index=False)
    clean, log = validate_codes(read_responses(path), load_instrument())
    assert clean["tk_1"].isna().tolist() == [False, True, False]
    assert log[["row", "respondent", "variable", "original", "reason"]].values.tolist() == [
        [2, "b", "tk_1", -99, "missing code -99"]]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_two_columns_of_one_name_are_refused(tmp_path, suffix):
    path = tmp_path / f"dup{suffix}"
    header, rows = ["respondent_id", "tk_1", "tk_2", "tk_1"], [["a", 1, 2, 3], ["b", 4, 5, 6]]
    if suffix == ".csv":
        path.write_text(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    else:
        pd.DataFrame([header] + rows).to_excel(path, index=False, header=False)
    with pytest.raises(DataError, match=r"dup.* row 1: column 'tk_1' appears twice \(columns 2 and 4\)"):
        read_responses(path)


def test_platform_export_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "qualtrics.csv"
    # the head of a Qualtrics export as its documentation shows it (three header rows)
    path.write_text('StartDate,EndDate,Status,ResponseId,tk_1\nStart Date,End Date,Response Type,Response ID,'
                    'Item\n{"ImportId":"startDate"},{"ImportId":"endDate"},{"ImportId":"status"},'
                    '{"ImportId":"_recordId"},{"ImportId":"QID1_1"}\n2026-01-01,2026-01-01,0,R_1,3\n')
    with pytest.raises(DataError, match=r"qualtrics.csv: is a qualtrics response export \(ResponseId and "
                       r"StartDate.*run `smesurvey ingest"):
        read_responses(path)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("r.json", "{}", "unsupported file type '.json'"),
    ("empty.csv", "tk_1,tk_2\n", "has no rows"),
    ("broken.xlsx", "not a workbook", "cannot be read"),
])
def test_bad_files_are_named(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=message) as exc:
        read_responses(path)
    assert name in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such data file"):
        read_responses(tmp_path / "nope.csv")

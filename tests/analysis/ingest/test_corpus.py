"""Every file of the malformed-file corpus (tests/data/ingest/make_corpus.py) has its stated outcome."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from analysis.ingest.pipeline import ingest
from smecore.errors import DataError
from smesurvey.cli import main

CORPUS = Path(__file__).resolve().parents[2] / "data" / "ingest" / "corpus"

#: file -> (data rows in the file, kept, excluded row reasons in order, cell reasons in order) for files
#: that are read; kept + excluded must equal the data rows
TEXT_IN_ITEM, OUT_OF_SCALE = "text in numeric item", "out of range set missing (code of scale 'extent7')"
READ = {
    "header_only.csv": (0, 0, [], []),
    "truncated_last_line.csv": (2, 2, [], []),
    "semicolon.csv": (2, 2, [], []),
    "tab.tsv": (2, 2, [], []),
    "pipe.txt": (2, 2, [], []),
    "bom.csv": (2, 2, [], []),
    "utf16.csv": (2, 2, [], []),
    "latin1.csv": (1, 1, [], []),
    "crlf.csv": (2, 2, [], []),
    "title_row.csv": (2, 2, [], []),
    "wide_2000_columns.csv": (1, 1, [], []),
    "duplicate_ids.csv": (3, 2, ["duplicate respondent id (first in source row 1)"], []),
    "empty_rows.csv": (4, 2, ["empty row", "empty row"], []),
    "blank_line_middle.csv": (3, 2, ["empty row"], []),
    "formula.csv": (2, 2, [], ["formula escaped", "formula escaped"]),
    "bad_values.csv": (6, 6, [], ["missing marker", TEXT_IN_ITEM] + [OUT_OF_SCALE] * 3),
    "na_markers.csv": (8, 8, [], ["missing marker"] * 6 + ["platform missing code"]),
    "decimal_comma.csv": (2, 2, [], []),
    "cover_sheet.xlsx": (2, 2, [], []),
    "codebook.sav": (3, 3, [], [OUT_OF_SCALE]),  # 99 in tk_1, not declared missing in this file
    "sav_missing_99.sav": (3, 3, [], ["declared missing code"]),
    "codebook.dta": (3, 3, [], []),
    "qualtrics_preview_spam.csv": (5, 2, ["Qualtrics response type Survey Preview (Status 1)",
                                          "Qualtrics response type Spam (Status 8)",
                                          "Qualtrics response type Survey Test (Status 2)"], []),
    "duplicate_submission.csv": (5, 4, ["duplicate submission (same answers as source row 1)"], []),
}
#: file -> part of the one-line error
REFUSED = {
    "empty.csv": "the file is empty",
    "binary_garbage.csv": "looks like a binary file",
    "duplicated_header.csv": "row 1: column 'tk_1' appears twice",
    "not_codebook.csv": "not recognised",
    "zip_with_csv_suffix.csv": "is a ZIP or XLSX file with a text suffix",
    "broken.xlsx": "cannot be read as an Excel workbook",
    "data.json": "unsupported file type '.json'",
    "gzip.csv.gz": "is a gzip-compressed file",
    "a_folder": "is a folder",
    "no_such_file.csv": "no such file",
    "partly_missing_construct.csv": "construct TK is only partly in the file: columns tk_3, tk_4 missing "
                                    r"\(found tk_1, tk_2\); add the missing columns",
}


def test_corpus_is_complete():
    on_disk = {p.name for p in CORPUS.iterdir()}
    assert on_disk == (set(READ) | set(REFUSED)) - {"no_such_file.csv"}


def test_corpus_has_at_least_30_cases():
    assert len(READ) + len(REFUSED) >= 30


@pytest.mark.parametrize("name", sorted(READ))
def test_read_files(name):
    path = CORPUS / name
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    res = ingest(path)
    data_rows, kept, excluded, reasons = READ[name]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # the input is never modified
    assert len(res.rows) == res.provenance["rows_read"] == data_rows  # one line per data row read
    assert res.rows["source_row"].tolist() == list(range(1, data_rows + 1))
    assert (res.rows["status"] == "kept").sum() == kept and len(res.responses) == kept
    assert res.rows.loc[res.rows["status"] == "excluded", "reasons"].tolist() == excluded
    assert kept + len(excluded) == data_rows
    assert res.cells["reason"].tolist() == reasons


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_files(name):
    path = CORPUS / name
    before = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    with pytest.raises(DataError, match=REFUSED[name]) as exc:
        ingest(path)
    assert name in str(exc.value) and "\n" not in str(exc.value)
    assert before is None or hashlib.sha256(path.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_files_cli(name, tmp_path, capsys):
    rc = main(["ingest", str(CORPUS / name), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and re.search(REFUSED[name], lines[0])
    assert not (tmp_path / "o" / "responses.csv").exists()


def test_bad_values_in_detail():
    res = ingest(CORPUS / "bad_values.csv")
    assert res.cells[["source_row", "original"]].values.tolist() == [[1, "N/A"], [2, "seven"], [3, "8"], [4, "99"],
                                                                      [5, "0"]]
    assert res.cells["variable"].unique().tolist() == ["tk_1"]
    assert res.responses["tk_1"].tolist()[5] == 7.0


def test_latin1_text_decoded():
    res = ingest(CORPUS / "latin1.csv")
    assert res.responses["firm_cluster_org"].iloc[0] == "Caf\u00e9 Verband"


def test_na_markers_in_detail():
    res = ingest(CORPUS / "na_markers.csv")
    assert res.cells["original"].tolist() == ["N/A", "n/a", "NA", "#N/A", "-", ".", "-99"]
    assert res.responses["firm_employees"].isna().sum() == 7 and res.responses["firm_employees"].iloc[7] == 5.0


def test_decimal_comma():
    res = ingest(CORPUS / "decimal_comma.csv")
    assert res.provenance["details"]["delimiter"] == ";"
    assert res.responses["firm_export_ratio"].tolist() == [3.5, 12.25]
    assert res.responses["firm_employees"].tolist() == [12.0, 40.0]


def test_cover_sheet_skipped_and_named():
    res = ingest(CORPUS / "cover_sheet.xlsx")
    assert res.provenance["format"] == "xlsx" and res.provenance["details"]["sheet"] == "responses"
    assert res.responses["tk_1"].tolist() == [1.0, 7.0] and res.responses["firm_employees"].tolist() == [10.0, 200.0]


@pytest.mark.parametrize(("name", "fmt", "tk_1"), [("codebook.sav", "sav", [1.0, None, 7.0]),
                                                  ("sav_missing_99.sav", "sav", [1.0, None, 7.0]),
                                                  ("codebook.dta", "dta", [1.0, 2.0, 7.0])])
def test_stat_files_in_codebook_layout(name, fmt, tk_1):
    res = ingest(CORPUS / name)
    assert res.provenance["format"] == fmt and res.provenance["detected_by"].startswith("header row 1 holds")
    assert [None if x != x else x for x in res.responses["tk_1"]] == tk_1
    assert res.responses["firm_employees"].tolist() == [12.0, 99.0, 40.0]  # 99 is an answer outside tk_1


def test_declared_99_only_in_its_variable():
    declared = ingest(CORPUS / "sav_missing_99.sav").cells
    assert declared[["source_row", "variable", "original"]].values.tolist() == [[2, "tk_1", "99"]]
    undeclared = ingest(CORPUS / "codebook.sav").cells
    assert undeclared[["source_row", "variable", "original"]].values.tolist() == [[2, "tk_1", "99"]]
    assert undeclared["reason"].iloc[0].startswith("out of range")


def test_qualtrics_preview_and_spam_rows():
    res = ingest(CORPUS / "qualtrics_preview_spam.csv", keep_identifiers=True)
    assert res.provenance["format"] == "qualtrics"
    assert res.rows["status"].tolist() == ["kept", "excluded", "excluded", "excluded", "kept"]
    assert res.responses["respondent_id"].tolist() == ["f1", "f5"]  # 0 IP Address and 16 Offline are kept


def test_duplicate_submission_names_source_row():
    res = ingest(CORPUS / "duplicate_submission.csv")
    assert res.rows["reasons"].tolist() == ["", "duplicate submission (same answers as source row 1)", "", "", ""]

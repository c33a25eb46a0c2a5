"""Every file of the malformed-file corpus (tests/data/ingest/make_corpus.py) has its stated outcome."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from analysis.ingest.pipeline import ingest
from smecore.errors import DataError

CORPUS = Path(__file__).resolve().parents[2] / "data" / "ingest" / "corpus"

#: file -> (kept, excluded, cell reasons in order) for files that are read
READ = {
    "header_only.csv": (0, 0, []),
    "truncated_last_line.csv": (2, 0, []),
    "semicolon.csv": (2, 0, []),
    "tab.tsv": (2, 0, []),
    "pipe.txt": (2, 0, []),
    "bom.csv": (2, 0, []),
    "utf16.csv": (2, 0, []),
    "latin1.csv": (1, 0, []),
    "crlf.csv": (2, 0, []),
    "title_row.csv": (2, 0, []),
    "wide_2000_columns.csv": (1, 0, []),
    "duplicate_ids.csv": (2, 1, []),
    "empty_rows.csv": (2, 2, []),
    "formula.csv": (2, 0, ["formula escaped", "formula escaped"]),
    "bad_values.csv": (6, 0, ["text in numeric item", "text in numeric item"] + [
        "out of range set missing (code of scale 'extent7')"] * 3),
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
}


def test_corpus_is_complete():
    on_disk = {p.name for p in CORPUS.iterdir()}
    assert on_disk == (set(READ) | set(REFUSED)) - {"no_such_file.csv"}


@pytest.mark.parametrize("name", sorted(READ))
def test_read_files(name):
    path = CORPUS / name
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    res = ingest(path)
    kept, excluded, reasons = READ[name]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert (res.rows["status"] == "kept").sum() == kept and (res.rows["status"] == "excluded").sum() == excluded
    assert len(res.responses) == kept
    assert res.cells["reason"].tolist() == reasons


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_files(name):
    with pytest.raises(DataError, match=REFUSED[name]) as exc:
        ingest(CORPUS / name)
    assert name in str(exc.value) and "\n" not in str(exc.value)


def test_bad_values_in_detail():
    res = ingest(CORPUS / "bad_values.csv")
    assert res.cells[["source_row", "original"]].values.tolist() == [[1, "N/A"], [2, "seven"], [3, "8"], [4, "99"],
                                                                      [5, "0"]]
    assert res.responses["tk_1"].tolist()[5] == 7.0


def test_latin1_text_decoded():
    res = ingest(CORPUS / "latin1.csv")
    assert res.responses["firm_cluster_org"].iloc[0] == "Caf\u00e9 Verband"

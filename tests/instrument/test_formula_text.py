"""Item text that a spreadsheet would run as a formula (a researcher's '=...' or '+...' label) is written
neutralised into codebook.csv and the REDCap dictionary (leading ') and as a text cell into the XLSForm."""

from __future__ import annotations

import csv

from openpyxl import load_workbook

from instrument import load_instrument
from instrument.export import codebook
from instrument.platforms import kobo, redcap

EVIL = '=HYPERLINK("http://example.org","click")'


def _instrument(tiny):
    tiny.constructs["aa"]["items"][0]["text"]["en"] = EVIL
    tiny.constructs["aa"]["items"][1]["text"]["en"] = "+49 is the country code"
    return load_instrument(tiny.write())


def _cells(path, delimiter=","):
    with path.open(encoding="utf-8", newline="") as fh:
        return [c for row in csv.reader(fh, delimiter=delimiter) for c in row]


def test_codebook_and_redcap_dictionary_escape_formula_text(tiny, tmp_path):
    inst = _instrument(tiny)
    book = codebook.write(inst, tmp_path / "codebook")[0]
    dictionary = redcap.write_questionnaire(inst, tmp_path / "dict.csv")[0]
    for path in (book, dictionary):
        cells = _cells(path)
        assert "'" + EVIL in cells and "'+49 is the country code" in cells, path
        assert not any(c.startswith(("=", "+")) for c in cells), path
    # REDCap syntax is left as it is: the start field's action tags begin with '@'
    assert "@NOW @HIDDEN @READONLY" in _cells(dictionary)


def test_xlsform_keeps_formula_text_as_text(tiny, tmp_path):
    inst = _instrument(tiny)
    path = kobo.write_questionnaire(inst, tmp_path / "form.xlsx")[0]
    ws = load_workbook(path)["survey"]
    hits = [c for row in ws.iter_rows() for c in row if c.value == EVIL]
    assert hits and all(c.data_type == "s" for c in hits)

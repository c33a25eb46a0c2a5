"""The back-translation sheet: one sheet per translation, a row per respondent-facing string."""

from openpyxl import load_workbook

from instrument import load_instrument
from instrument.export import export
from instrument.export.backtranslation import COLUMNS
from instrument.translations import strings


def test_backtranslation_sheet(tmp_path):
    inst = load_instrument()
    path = export(inst, "backtranslation", tmp_path / "bt.xlsx")[0]
    wb = load_workbook(path)
    assert wb.sheetnames == ["README", "fi (Finnish)", "sv (Swedish)", "de (German)"]
    ws = wb["sv (Swedish)"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("key", "kind", "source (en)", "translation (sv)", "status", "back-translation", "reviewer notes")
    assert len(COLUMNS) == len(rows[0])
    texts = strings(inst)
    assert len(rows) - 1 == len(texts)
    by_key = {r[0]: r for r in rows[1:]}
    assert by_key["item tk_1"][2:5] == (inst.variable("tk_1").label(), inst.variable("tk_1").label("sv"), "draft")
    assert all(r[5] is None and r[6] is None for r in rows[1:])  # left for the committee
    readme = [r[0] for r in wb["README"].iter_rows(values_only=True) if r and r[0]]
    assert any("back" in str(x).lower() for x in readme) and "language" in readme
    # reproducible, and one language on request
    assert export(inst, "backtranslation", tmp_path / "bt2.xlsx")[0].read_bytes() == path.read_bytes()
    only = load_workbook(export(inst, "backtranslation", tmp_path / "de.xlsx", languages=["de"])[0])
    assert only.sheetnames == ["README", "de (German)"]

"""The translation committee's sheet: every respondent-facing string, its translation, room for the
back-translation and the reviewers' notes (XLSX).

One sheet per target language (``fi (Finnish)``), one row per string of
:func:`instrument.translations.strings`, columns :data:`COLUMNS`: where the string is, what it is, the
English source, the translation in the definition (empty where it is missing), the translation's
status (``draft`` ...), then two empty columns for the committee - the back-translation, made by a
second translator who has not seen the source, and the reviewers' notes on differences and the
agreed wording. A ``README`` sheet says how to use it and holds the coverage table. Text that a
spreadsheet would run as a formula (``=...``) is stored as text.

Which languages: the non-English ones among ``languages``; with only English asked for (the default),
every declared translation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from instrument.model import Instrument
from instrument.translations import coverage, strings
from smecore.csvsafe import xlsx_cells
from smecore.files import save_workbook

COLUMNS = ("key", "kind", "source (en)", "translation", "status", "back-translation", "reviewer notes")
_WIDTHS = (28, 16, 60, 60, 10, 60, 40)

README = (
    "How to use this sheet (forward and back-translation, e.g. the TRAPD approach of the ESS / CSDI).",
    "1. 'translation' holds the draft in the instrument definition; 'status' is its language's status "
    "(draft: not yet reviewed).",
    "2. A second translator, who has not seen the English source, translates 'translation' back into "
    "English in 'back-translation'.",
    "3. The committee compares 'back-translation' with 'source (en)' and records differences of meaning "
    "and the agreed wording in 'reviewer notes'.",
    "4. Agreed wording goes into the definition (instrument/definition/*.yaml, key shown in 'key'); when "
    "every string is reviewed, set the language's status to 'reviewed' in questionnaire.yaml.",
    "Placeholders in braces ({number}, {answer}, ...) are filled in by the software: keep them unchanged.",
)


def target_languages(instrument: Instrument, languages: Sequence[str]) -> list[str]:
    chosen = [lang for lang in languages if lang != "en"]
    return chosen or [lang for lang in instrument.languages if lang != "en"]


def write(instrument: Instrument, path: Path, languages: Sequence[str] = ("en",)) -> list[Path]:
    """Write the back-translation workbook to ``path``; returns ``[path]``."""
    wb = Workbook()
    ws = wb.active
    ws.title = "README"
    ws.append([f"Back-translation sheet: {instrument.questionnaire.id} v{instrument.questionnaire.version}"])
    ws["A1"].font = Font(bold=True)
    for line in README:
        ws.append([line])
    ws.append([])
    cov = coverage(instrument)
    ws.append(list(cov.columns))
    for row in cov.itertuples(index=False):
        ws.append([str(x) if isinstance(x, bool) else x for x in row])
    ws.column_dimensions["A"].width = 110
    texts = strings(instrument)
    for lang in target_languages(instrument, languages):
        language = instrument.language(lang)
        sheet = wb.create_sheet(f"{lang} ({language.name})"[:31])
        sheet.append(list(COLUMNS[:3]) + [f"translation ({lang})", *COLUMNS[4:]])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for s in texts:
            sheet.append(xlsx_cells(sheet, [s.key, s.kind, s.text["en"], s.text.get(lang, ""), language.status,
                                            "", ""]))
        for col, width in zip("ABCDEFG", _WIDTHS):
            sheet.column_dimensions[col].width = width
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "C2"
    save_workbook(wb, path)
    return [path]

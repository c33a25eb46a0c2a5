"""XLSForm (ODK Collect, KoboToolbox, Enketo): an .xlsx with ``survey``, ``choices`` and ``settings``.

Layout: a note with the introduction and consent, then one group per module
(``m0``...``m5``); each construct's stem is a note followed by its items as
``select_one`` questions with the ``likert`` appearance; profile questions
carry their constraints (``. >= min and . <= max``) and relevance
(``${firm_cluster_member} = 1``). Every label column is ``label::<Language> (<code>)``
for each language of the instrument, and ``default_language`` is English.
Names are the variable names. The file converts with pyxform without errors
or warnings (tested).
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from instrument.export.common import language_name, text
from instrument.model import Instrument, Variable
from instrument.platforms import xlsform_group
from smecore.files import save_workbook

_TYPES = {"integer": "integer", "year": "integer", "percent": "integer", "text": "text"}


def _lang_cols(prefix: str, langs) -> list[str]:
    return [f"{prefix}::{language_name(lang)} ({lang})" for lang in langs]


def _row(kind: str, name: str, labels: dict[str, str] | None, langs, **extra) -> dict:
    row = {"type": kind, "name": name}
    for lang, col in zip(langs, _lang_cols("label", langs)):
        row[col] = text(labels, lang) if labels else ""
    row.update(extra)
    return row


def _question(v: Variable, langs) -> dict:
    extra: dict[str, str] = {}
    if v.scale:
        kind = f"select_one {v.scale}"
        if v.kind in ("likert", "matrix", "attention"):
            extra["appearance"] = "likert"
    else:
        kind = _TYPES[v.type]
    if v.type in ("integer", "year", "percent") and (v.min is not None or v.max is not None):
        parts = []
        if v.min is not None:
            parts.append(f". >= {v.min}")
        if v.max is not None:
            parts.append(f". <= {v.max}")
        extra["constraint"] = " and ".join(parts)
        for col in _lang_cols("constraint_message", langs):
            extra[col] = f"{v.min} - {v.max}"
    if v.relevant:
        extra["relevant"] = " and ".join(f"${{{k}}} = {val}" for k, val in v.relevant.items())
    extra["required"] = "yes" if (v.required and v.kind == "profile") else ""
    return _row(kind, v.name, v.text, langs, **extra)


def write(instrument: Instrument, path: Path) -> list[Path]:
    """Write the XLSForm workbook to ``path``."""
    langs = instrument.languages
    q = instrument.questionnaire
    survey: list[dict] = [_row("note", "intro", q.introduction, langs),
                          _row("note", "consent", q.consent, langs)]
    for section in instrument.sections():
        group = xlsform_group(section)
        survey.append(_row("begin_group", group, section.title, langs))
        survey.append(_row("note", f"{group}_intro", section.intro, langs))
        for b in section.blocks:
            if b.stem and b.kind in ("grid", "matrix"):
                survey.append(_row("note", f"stem_{b.construct.lower()}", b.stem, langs))
            for v in b.variables:
                survey.append(_question(v, langs))
        survey.append({"type": "end_group", "name": ""})
    survey.append(_row("note", "thanks", q.thanks, langs))
    choices = []
    used = sorted({v.scale for v in instrument.variables() if v.scale})
    for sid in used:
        for p in instrument.scales[sid].points:
            row = {"list_name": sid, "name": str(p.value)}
            for lang, col in zip(langs, _lang_cols("label", langs)):
                row[col] = text(p.label, lang)
            choices.append(row)
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    cols = ["type", "name", *_lang_cols("label", langs), "required", "appearance", "constraint",
            *_lang_cols("constraint_message", langs), "relevant"]
    ws.append(cols)
    for r in survey:
        ws.append([r.get(c, "") for c in cols])
    wc = wb.create_sheet("choices")
    ccols = ["list_name", "name", *_lang_cols("label", langs)]
    wc.append(ccols)
    for r in choices:
        wc.append([r.get(c, "") for c in ccols])
    wset = wb.create_sheet("settings")
    wset.append(["form_title", "form_id", "version", "default_language"])
    wset.append([text(q.title), q.id, q.version.replace(".", "_"), f"{language_name('en')} (en)"])
    save_workbook(wb, path)
    return [path]

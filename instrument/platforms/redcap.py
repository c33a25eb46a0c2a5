"""REDCap: the data dictionary (questionnaire) and the records export (responses), both directions.

Data dictionary (:func:`write_questionnaire`, CSV, "Upload data dictionary"): one row per field with
REDCap's 18 columns. The first field is the record id (``respondent_id``); each module is a form
(:func:`form_name`); Likert items are ``radio`` fields grouped by ``Matrix Group Name``; numbers are
``text`` fields with ``integer`` validation and min/max; branching logic uses ``[field] = 'value'`` (a
module's condition, e.g. the cluster module for cluster members, is on each of its fields: the
dictionary has no form-level logic). The dictionary holds one language: ``export --language en,fi``
writes one per language (one project per language, the same field and form names, so that their
records merge; REDCap's Multi-Language Management keeps translations in files of its own, not in the
dictionary).
Field names are the variable names (lower case, digits, ``_``, <= 26 characters - the schema enforces it),
so the records export's headers are the codebook names with no mapping table.

The records export has no start time (``<form>_timestamp`` is the time a form was completed), so the
dictionary adds a hidden field :data:`START_FIELD` to the first form with the action tags ``@NOW @HIDDEN
@READONLY`` (REDCap fills a date-time field tagged ``@NOW`` with the time the page is opened): the duration is
the last form timestamp minus it, for respondents who completed the forms.

Records export (:func:`write_responses` / :func:`read_responses`): record id first (``respondent_id`` from
our dictionary, ``record_id`` in REDCap's default project), ``redcap_survey_identifier``, then per form
``<form>_timestamp``, its fields (the first form's begin with :data:`START_FIELD`), ``<form>_complete``
(0 Incomplete, 1 Unverified, 2 Complete); "labels" exports write choice and status labels.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from instrument.export.common import text
from instrument.model import Instrument
from instrument.platforms.base import META_COLUMNS, RawResponses, ResponseMeta
from instrument.platforms.tables import Table
from smecore.csvsafe import escape
from smecore.errors import DataError
from smecore.files import write_text

COLUMNS = ("Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
           "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
           "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
           "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
           "Matrix Ranking?", "Field Annotation")


#: The hidden field that records when the respondent opened the survey (REDCap action tag ``@NOW``).
START_FIELD = "survey_start"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # REDCap's export of a datetime_seconds_ymd field


#: Dictionary columns holding the instrument's text (the others hold REDCap syntax).
TEXT_COLUMNS = ("Field Label", "Section Header", "Field Note")


def form_name(section) -> str:
    words = "marker" if section.closing else "_".join(text(section.title).lower().split()[:3])
    return "".join(ch for ch in f"{section.module.lower()}_{words}" if ch.isalnum() or ch == "_")


def rows(instrument: Instrument, lang: str = "en") -> list[dict]:
    """The dictionary's rows with the instrument's text in ``lang`` (REDCap's data dictionary holds one
    language: a project per language, with the same field names, so that their records merge)."""
    sections = instrument.sections()
    out = [{"Variable / Field Name": "respondent_id", "Form Name": form_name(sections[0]), "Field Type": "text",
            "Field Label": "Respondent identifier", "Identifier?": "y"},
           {"Variable / Field Name": START_FIELD, "Form Name": form_name(sections[0]), "Field Type": "text",
            "Field Label": "Survey opened at", "Text Validation Type OR Show Slider Number": "datetime_seconds_ymd",
            "Field Annotation": "@NOW @HIDDEN @READONLY"}]
    for section in sections:
        form = form_name(section)
        header = text(section.intro, lang)
        for b in section.blocks:
            matrix = b.construct.lower() if b.kind in ("grid", "matrix") and len(b.variables) > 1 else ""
            section_header = " ".join(x for x in (header, text(b.stem, lang)) if x)
            header = ""
            for v in b.variables:
                row = {"Variable / Field Name": v.name, "Form Name": form, "Field Label": v.label(lang),
                       "Section Header": section_header, "Matrix Group Name": matrix,
                       "Required Field?": "y" if (v.required and v.kind == "profile") else ""}
                section_header = ""
                if v.scale:
                    row["Field Type"] = "radio"
                    row["Choices, Calculations, OR Slider Labels"] = " | ".join(
                        f"{k}, {lab}" for k, lab in instrument.value_labels(v, lang).items())
                elif v.type == "text":
                    row["Field Type"] = "text"
                else:
                    row["Field Type"] = "text"
                    row["Text Validation Type OR Show Slider Number"] = "integer"
                    row["Text Validation Min"] = "" if v.min is None else str(v.min)
                    row["Text Validation Max"] = "" if v.max is None else str(v.max)
                if v.relevant:
                    row["Branching Logic (Show field only if...)"] = " and ".join(
                        f"[{k}] = '{val}'" for k, val in v.relevant.items())
                out.append(row)
    return out


def write_questionnaire(instrument: Instrument, path: Path, lang: str = "en") -> list[Path]:
    """Write the data dictionary CSV (text in ``lang``) to ``path``; returns ``[path]``."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in rows(instrument, lang):
        # the researcher's text (labels, section headers) starting with '=' or '+' is neutralised (OWASP CSV
        # rule); REDCap's syntax cells are left as they are (action tags such as @NOW start with '@')
        w.writerow({c: escape(r.get(c, "")) if c in TEXT_COLUMNS else r.get(c, "") for c in COLUMNS})
    write_text(path, buf.getvalue())
    return [path]


# ---------------------------------------------------------------- records export
#: REDCap's own bookkeeping columns in a records export (besides <form>_timestamp / <form>_complete).
SYSTEM = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance", "redcap_data_access_group")
COMPLETE_LABELS = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}
_NOT_COMPLETED = "[not completed]"


def _forms(instrument: Instrument) -> list[tuple[str, list[str]]]:
    """(form name, its field names) in dictionary order; the record id field is left out."""
    out: dict[str, list[str]] = {}
    for section in instrument.sections():
        out.setdefault(form_name(section), []).extend(v.name for b in section.blocks for v in b.variables)
    return list(out.items())


def write_responses(data: pd.DataFrame, meta: ResponseMeta, instrument: Instrument, path: Path, *,
                    labels: bool = False) -> Path:
    """A REDCap records export (CSV raw, or ``labels=True``: choice and status labels, raw headers as the
    API's ``rawOrLabelHeaders=raw``): ``respondent_id`` (the dictionary's record id field) first,
    ``redcap_survey_identifier``, then per form ``<form>_timestamp``, its fields, ``<form>_complete``.
    Finished respondents' forms are Complete (2) stamped with the end time, others Incomplete (0)."""
    fmt = TIME_FORMAT
    cols: dict[str, list] = {"respondent_id": list(meta.respondent), "redcap_survey_identifier": [""] * len(data)}
    for k, (form, fields) in enumerate(_forms(instrument)):
        cols[f"{form}_timestamp"] = [e.strftime(fmt) if f else _NOT_COMPLETED for e, f in zip(meta.ended, meta.finished)]
        if k == 0:
            cols[START_FIELD] = [s.strftime(fmt) for s in meta.started]
        for name in fields:
            if name not in data.columns:
                continue
            values = data[name].map(lambda x: "" if pd.isna(x) else (str(int(x)) if isinstance(x, float)
                                                                       and float(x).is_integer() else str(x)))
            v = instrument.variable(name)
            if labels and v.scale:
                vl = {str(k): lab for k, lab in instrument.value_labels(v).items()}
                values = values.map(lambda s, vl=vl: vl.get(s, s))
            cols[name] = values.tolist()
        status = ["2" if f else "0" for f in meta.finished]
        cols[f"{form}_complete"] = [COMPLETE_LABELS[s] for s in status] if labels else status
    return write_text(path, pd.DataFrame(cols).to_csv(index=False, lineterminator="\n"))


def detect(table: Table) -> str | None:
    """Detected-by text when the header has ``<form>_complete`` columns and ``redcap_survey_identifier`` or
    ``redcap_event_name`` or ``<form>_timestamp``; else ``None``."""
    if table.cells is None:
        return None
    head = [h.strip() for h in table.row(0)]
    complete = [h for h in head if h.endswith("_complete")]
    if complete and ({"redcap_survey_identifier", "redcap_event_name"} & set(head)
                     or any(h[:-9] + "_timestamp" in head for h in complete)):
        return f"records export columns {complete[0]} and redcap_survey_identifier / _timestamp"
    return None


def read_responses(table: Table, instrument: Instrument) -> RawResponses:
    """Map a REDCap records export (raw or labels) to the codebook's names: the first column is the record id
    (``respondent_id`` or REDCap's default ``record_id``); ``meta.ended`` is the last form timestamp,
    ``finished`` whether every form is Complete; ``meta.started`` is :data:`START_FIELD` when the export has
    it, and ``duration_sec`` the seconds from it to ``ended`` (NaN when either is missing);
    ``redcap_survey_identifier`` goes to ``identifiers``; checkbox columns ``var___code`` and other fields to
    ``unknown``."""
    if table.cells is None:
        raise DataError(f"{table.path}: a REDCap records export is a CSV file, not {table.kind}")
    heads = [h.strip() for h in table.row(0)]
    body = table.cells.iloc[1:].reset_index(drop=True)
    body.columns = heads
    source_row = np.arange(1, len(body) + 1)  # 1-based data rows; wholly empty lines stay rows (ingest logs them)
    names = {v.name for v in instrument.variables()}
    data, unknown, stamps, completes = {}, [], [], []
    for k, h in enumerate(heads):
        if k == 0 or h in SYSTEM or h in ("redcap_survey_identifier", START_FIELD):
            continue
        if h.endswith("_timestamp"):
            stamps.append(h)
        elif h.endswith("_complete"):
            completes.append(h)
        elif h in names:
            data[h] = body[h].to_numpy()
        else:
            unknown.append(h)
    if not data:
        raise DataError(f"{table.path}: no column of the header row is a field of the data dictionary; "
                        "export with variable names (raw headers) for this instrument")
    ts = pd.DataFrame({h: pd.to_datetime(body[h].where(body[h] != _NOT_COMPLETED), errors="coerce")
                       for h in stamps}, index=body.index)
    done = pd.DataFrame({h: body[h].isin(["2", "Complete"]) for h in completes}, index=body.index)
    ended = ts.max(axis=1) if stamps else pd.Series(pd.NaT, index=body.index)
    ended = pd.to_datetime(ended)
    started = (pd.to_datetime(body[START_FIELD].where(body[START_FIELD] != ""), errors="coerce",
                              format=TIME_FORMAT) if START_FIELD in heads else pd.Series(pd.NaT, index=body.index))
    meta = pd.DataFrame({"respondent": body[heads[0]].astype(str).to_numpy(), "started": started.to_numpy(),
                         "ended": ended.to_numpy(), "duration_sec": (ended - started).dt.total_seconds().to_numpy(),
                         "finished": done.all(axis=1).to_numpy() if completes else np.nan},
                        columns=list(META_COLUMNS))
    ident = ("redcap_survey_identifier",) if "redcap_survey_identifier" in heads else ()
    frame = pd.DataFrame(data)
    values = "labels" if any(body[h].isin(list(COMPLETE_LABELS.values())).any() for h in completes) else "codes"
    return RawResponses(format="redcap", detected_by=detect(table) or "chosen with --format", data=frame,
                        source_row=source_row, meta=meta, unknown=tuple(unknown), identifiers=ident,
                        identifying=body[list(ident)].copy(), missing_codes=(),
                        details={"encoding": table.encoding, "delimiter": table.delimiter, "header_rows": 1,
                                 "values": values, "record_id_field": heads[0],
                                 "start_field": START_FIELD if START_FIELD in heads else None})

"""KoboToolbox / ODK: the XLSForm questionnaire and the CSV / XLSX response exports, both directions.

Questionnaire (:func:`write_questionnaire`): an XLSForm ``.xlsx`` with
``survey``, ``choices`` and ``settings`` sheets. Metadata rows ``start``,
``end`` and ``today`` come first (ODK records them without asking), then a
``calculate`` field ``respondent_id`` (``once(uuid())`` - ODK fills it, so the
respondent id round-trips as a column of its own), the introduction and
consent notes, one group per module (:func:`xlsform_group`), each construct's
stem as a note followed by its items as ``select_one`` questions with the
``likert`` appearance. Integer questions carry range constraints
(``. >= min and . <= max``) with a constraint message per language.
``deviceid`` is not added: it is a direct identifier and not needed.

Response exports (:func:`write_responses` / :func:`read_responses`):

* KoboToolbox: ``;`` (default) or ``,`` separated CSV, or XLSX; headers are
  XML names with the group path (``g_m1/tk_1``; ``g_m1-tk_1`` with the ``-``
  group separator; ``tk_1`` with "include groups" off); ``start``/``end``
  first, the system columns :data:`KOBO_META` last; select_one values as
  choice names (codes) or, with "labels" chosen, choice labels.
* ODK Central: ``SubmissionDate`` first, group paths joined with ``-``, then
  ``meta-instanceID``, ``KEY``, ``SubmitterID``, ``SubmitterName``,
  ``AttachmentsPresent``, ``AttachmentsExpected``, ``Status``,
  ``ReviewState``, ``DeviceID``, ``Edits``, ``FormVersion``
  (:data:`ODK_CENTRAL_META`).

:func:`write_responses` writes every one of these layouts (``layout``, ``sep``,
``group_separator``, an ``.xlsx`` path), so each reader path has a generator.
Geopoint questions are identifiers: their part columns (Kobo
``_loc_latitude`` ..., Central ``loc-Latitude`` ...) and the question's own
column beside them.

Respondent id: the ``respondent_id`` column when present and filled (our
form's calculate field; the generator writes the codebook's id there), else
``_uuid`` (Kobo) / ``meta-instanceID`` / ``KEY`` (ODK Central).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from openpyxl import Workbook

from instrument.export.common import text
from instrument.platforms.base import META_COLUMNS, RawResponses, ResponseMeta
from instrument.platforms.tables import Table
from smecore.csvsafe import xlsx_cells
from smecore.errors import DataError, OptionError
from smecore.files import save_workbook, write_text

if TYPE_CHECKING:  # pragma: no cover
    from instrument.model import Instrument, Section, Variable

KOBO_META = ("_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by",
             "__version__", "_tags", "_index")
#: ODK Central's system columns (CSV export of submissions).
ODK_CENTRAL_META = ("SubmissionDate", "meta-instanceID", "meta-instanceName", "KEY", "SubmitterID", "SubmitterName",
                    "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits",
                    "FormVersion")
#: XLSForm metadata questions (named as their type) and other bookkeeping columns that are not answers.
FORM_META = ("start", "end", "today", "audit", "instanceID", "meta/instanceID", "meta/rootUuid", "meta/deprecatedID",
             "meta/instanceName", "meta-rootUuid", "meta-deprecatedID", "__version__", "formhub/uuid")
#: Columns holding direct identifiers (device, SIM, phone, user names); geopoint columns are found by their parts.
IDENTIFIER_COLUMNS = ("deviceid", "DeviceID", "phonenumber", "username", "email", "subscriberid", "simserial",
                      "SubmitterName", "SubmitterID", "_submitted_by", "start-geopoint")
_GEO_PART = re.compile(r"(?:^_|[-/_])(latitude|longitude|altitude|precision|accuracy)$", re.IGNORECASE)
_KOBO_GEO = re.compile(r"^(?P<path>.*/)?_(?P<name>.+)_(?:latitude|longitude|altitude|precision)$")
_CENTRAL_GEO = re.compile(r"^(?P<base>.+)-(?:Latitude|Longitude|Altitude|Accuracy)$")
_ISO = "%Y-%m-%dT%H:%M:%S.000+00:00"
_TYPES = {"integer": "integer", "year": "integer", "percent": "integer", "text": "text"}


# ---------------------------------------------------------------- names

def xlsform_group(section: Section) -> str:
    """XLSForm group of a questionnaire section (``g_m1``; the closing marker section ``g_m0_end``);
    KoboToolbox exports prefix column headers with it."""
    return f"g_{section.module.lower()}" + ("_end" if section.closing else "")


def kobo_column(section: Section, name: str, separator: str = "/") -> str:
    """Column heading of a variable in a KoboToolbox / ODK response export (group path, ``/`` or ``-``)."""
    return f"{xlsform_group(section)}{separator}{name}"


def _columns(instrument: Instrument, separator: str = "/") -> dict[str, str]:
    """Variable name -> export heading for every questionnaire variable (in form order)."""
    return {v.name: kobo_column(section, v.name, separator)
            for section in instrument.sections() for b in section.blocks for v in b.variables}


# ---------------------------------------------------------------- questionnaire

def _language_label(instrument: Instrument, lang: str) -> str:
    """XLSForm's language label: ``Finnish (fi)`` (the declared English name and the code)."""
    return f"{instrument.language(lang).name} ({lang})"


def _lang_cols(prefix: str, langs, instrument: Instrument) -> list[str]:
    return [f"{prefix}::{_language_label(instrument, lang)}" for lang in langs]


def _row(kind: str, name: str, labels: dict[str, str] | None, langs, instrument: Instrument, **extra) -> dict:
    row = {"type": kind, "name": name}
    for lang, col in zip(langs, _lang_cols("label", langs, instrument)):
        row[col] = text(labels, lang) if labels else ""
    row.update(extra)
    return row


def _question(v: Variable, langs, instrument: Instrument, section: Section) -> dict:
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
        lo = "" if v.min is None else v.min
        hi = "" if v.max is None else v.max
        hint = instrument.questionnaire.respondent["number_hint"]
        for lang, col in zip(langs, _lang_cols("constraint_message", langs, instrument)):
            extra[col] = text(hint, lang).format(min=lo, max=hi)
    own = {k: val for k, val in (v.relevant or {}).items() if (section.relevant or {}).get(k) != val}
    if own:
        extra["relevant"] = _condition(own)
    extra["required"] = "yes" if (v.required and v.kind == "profile") else ""
    return _row(kind, v.name, v.text, langs, instrument, **extra)


def _condition(cond: dict[str, int]) -> str:
    return " and ".join(f"${{{k}}} = {val}" for k, val in cond.items())


def write_questionnaire(instrument: Instrument, path: Path, languages=("en",)) -> list[Path]:
    """Write the XLSForm workbook (every language of ``languages``, the first the default) to ``path``;
    returns ``[path]``."""
    langs = tuple(languages)
    q = instrument.questionnaire
    survey: list[dict] = [{"type": "start", "name": "start"}, {"type": "end", "name": "end"},
                          {"type": "today", "name": "today"},
                          {"type": "calculate", "name": "respondent_id", "calculation": "once(uuid())"},
                          _row("note", "intro", q.introduction, langs, instrument),
                          _row("note", "consent", q.consent, langs, instrument)]
    for section in instrument.sections():
        group = xlsform_group(section)
        extra = {"relevant": _condition(section.relevant)} if section.relevant else {}
        survey.append(_row("begin_group", group, section.title, langs, instrument, **extra))
        survey.append(_row("note", f"{group}_intro", section.intro, langs, instrument))
        for b in section.blocks:
            if b.stem and b.kind in ("grid", "matrix"):
                survey.append(_row("note", f"stem_{b.construct.lower()}", b.stem, langs, instrument))
            for v in b.variables:
                survey.append(_question(v, langs, instrument, section))
        survey.append({"type": "end_group", "name": ""})
    survey.append(_row("note", "thanks", q.thanks, langs, instrument))
    choices = []
    for sid in sorted({v.scale for v in instrument.variables() if v.scale}):
        for p in instrument.scales[sid].points:
            row = {"list_name": sid, "name": str(p.value)}
            for lang, col in zip(langs, _lang_cols("label", langs, instrument)):
                row[col] = text(p.label, lang)
            choices.append(row)
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    cols = ["type", "name", *_lang_cols("label", langs, instrument), "required", "appearance", "constraint",
            *_lang_cols("constraint_message", langs, instrument), "relevant", "calculation"]
    ws.append(cols)
    for r in survey:
        ws.append(xlsx_cells(ws, [r.get(c, "") for c in cols]))  # text such as "=..." stays text
    wc = wb.create_sheet("choices")
    ccols = ["list_name", "name", *_lang_cols("label", langs, instrument)]
    wc.append(ccols)
    for r in choices:
        wc.append(xlsx_cells(wc, [r.get(c, "") for c in ccols]))
    wset = wb.create_sheet("settings")
    wset.append(["form_title", "form_id", "version", "default_language"])
    wset.append(xlsx_cells(wset, [text(q.title, langs[0]), q.id, q.version.replace(".", "_"),
                                  _language_label(instrument, langs[0])]))
    save_workbook(wb, path)
    return [path]


# ---------------------------------------------------------------- responses: writing

def _cell(x) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA:
        return ""
    if isinstance(x, (float, np.floating)) and float(x).is_integer():
        return str(int(x))
    return str(x)


#: Response export layouts :func:`write_responses` writes.
LAYOUTS = ("kobotoolbox", "odk_central")
#: Group separators of KoboToolbox's export options ("" = "include groups in headers" off: bare names).
GROUP_SEPARATORS = ("/", "-", "")


def write_responses(data: pd.DataFrame, meta: ResponseMeta, instrument: Instrument, path: Path, *,
                    labels: bool = False, layout: str = "kobotoolbox", sep: str = ";",
                    group_separator: str = "/") -> Path:
    """A KoboToolbox or ODK Central response export of ``data`` (codebook columns) to ``path``; returns ``path``.

    ``layout="kobotoolbox"`` (default): ``start``, ``end``, ``respondent_id``, the questions, the system
    columns :data:`KOBO_META`; ``sep`` ``;`` (Kobo's default) or ``,``; headers with the group path joined
    by ``group_separator`` (``/``, ``-``, or ``""`` for Kobo's "no groups" option: bare names); a ``.xlsx``
    ``path`` writes Kobo's XLSX export (one sheet, same columns). ``labels=True`` writes choice labels
    (English) instead of choice names. ``layout="odk_central"``: ODK Central's submissions CSV
    (``SubmissionDate`` first, ``,``-separated, groups joined with ``-``, then :data:`ODK_CENTRAL_META`);
    Central exports choice names only, so ``labels``, ``sep`` and ``group_separator`` do not apply.
    Raises :class:`~smecore.errors.OptionError` for other values.
    """
    if layout not in LAYOUTS:
        raise OptionError(f"kobo layout must be one of {', '.join(LAYOUTS)}; got {layout!r}")
    if group_separator not in GROUP_SEPARATORS:
        raise OptionError(f"kobo group_separator must be one of {GROUP_SEPARATORS}; got {group_separator!r}")
    if layout == "odk_central" and labels:
        raise OptionError("ODK Central's CSV export has choice names only; write it with labels=False")
    central = layout == "odk_central"
    if central:
        sep, group_separator = ",", "-"
    headers = ({v.name: v.name for v in instrument.variables(paradata=False)} if group_separator == ""
               else _columns(instrument, group_separator))
    questions = [c for c in data.columns if c in headers]
    body = pd.DataFrame({headers[c]: data[c].map(_cell).to_numpy() for c in questions})
    if labels:
        for c in questions:
            v = instrument.variable(c)
            if v.scale:
                vl = {str(k): lab for k, lab in instrument.value_labels(v).items()}
                body[headers[c]] = body[headers[c]].map(lambda s, vl=vl: vl.get(s, s))
    n = len(data)
    uuid = [hashlib.sha256(f"{meta.seed}/{i}".encode()).hexdigest() for i in range(n)]
    uuid = [f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:32]}" for u in uuid]
    front = pd.DataFrame({"start": [s.strftime(_ISO) for s in meta.started],
                          "end": [e.strftime(_ISO) for e in meta.ended],
                          "respondent_id": list(meta.respondent)})
    if central:
        front.insert(0, "SubmissionDate", [e.strftime("%Y-%m-%dT%H:%M:%S.000Z") for e in meta.ended])
        system = pd.DataFrame({
            "meta-instanceID": [f"uuid:{u}" for u in uuid], "KEY": [f"uuid:{u}" for u in uuid],
            "SubmitterID": "", "SubmitterName": "", "AttachmentsPresent": 0, "AttachmentsExpected": 0,
            "Status": "", "ReviewState": "", "DeviceID": "", "Edits": 0, "FormVersion": "1"}, index=range(n))
    else:
        system = pd.DataFrame({
            "_id": np.arange(100001, 100001 + n), "_uuid": uuid,
            "_submission_time": [e.strftime("%Y-%m-%dT%H:%M:%S") for e in meta.ended],
            "_validation_status": "", "_notes": "", "_status": "submitted_via_web", "_submitted_by": "",
            "__version__": "v1", "_tags": "", "_index": np.arange(1, n + 1)})
    out = pd.concat([front, body, system], axis=1)
    if Path(path).suffix.lower() == ".xlsx":
        return _write_xlsx(out, Path(path))
    return write_text(path, out.to_csv(index=False, sep=sep, lineterminator="\n"))


def _write_xlsx(frame: pd.DataFrame, path: Path) -> Path:
    """Kobo's XLSX export: one sheet, the CSV's columns; numbers as numbers, empty cells left empty."""
    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append(xlsx_cells(ws, [_xlsx_cell(x) for x in row]))
    return save_workbook(wb, path)


def _xlsx_cell(x):
    if isinstance(x, (int, np.integer)):
        return int(x)
    if x == "":
        return None
    text = str(x)
    return int(text) if text.lstrip("-").isdigit() and str(int(text)) == text else text


# ---------------------------------------------------------------- responses: reading

def _header(table: Table) -> list[str]:
    return [h.strip() for h in table.row(0)]


def detect(table: Table) -> str | None:
    """Detected-by text when the table's header row has KoboToolbox's ``_uuid`` and ``_submission_time``
    or ODK Central's ``SubmissionDate`` and ``meta-instanceID`` / ``KEY``; else ``None``."""
    if table.cells is None:
        return None
    head = set(_header(table))
    if {"_uuid", "_submission_time"} <= head:
        return "KoboToolbox system columns _uuid and _submission_time in the header row"
    if "SubmissionDate" in head and ({"meta-instanceID", "KEY"} & head):
        return "ODK Central columns SubmissionDate and meta-instanceID / KEY in the header row"
    return None


def _variable_of(heading: str, names: set[str]) -> str | None:
    """The codebook variable a heading holds: the last part of the group path (``/`` or ``-``)."""
    if heading in names:
        return heading
    last = re.split(r"[/-]", heading)[-1]
    return last if last in names else None


def _is_identifier(heading: str, geopoints: frozenset[str] = frozenset()) -> bool:
    last = re.split(r"[/-]", heading)[-1]  # KoboToolbox joins groups with "/" (or "-"), ODK Central with "-"
    return (heading in IDENTIFIER_COLUMNS or last in IDENTIFIER_COLUMNS or bool(_GEO_PART.search(heading))
            or heading in geopoints)


def _geopoints(heads: list[str]) -> frozenset[str]:
    """Headings of geopoint questions, found by the part columns the exports add beside them: KoboToolbox
    ``grp/loc`` with ``grp/_loc_latitude`` ..., ODK Central ``grp-loc`` with ``grp-loc-Latitude`` ...; the
    question's own column holds "lat lon altitude accuracy"."""
    out = set()
    for h in heads:
        kobo = _KOBO_GEO.match(h)
        if kobo:
            out.add(f"{kobo.group('path') or ''}{kobo.group('name')}")
        central = _CENTRAL_GEO.match(h)
        if central:
            out.add(central.group("base"))
    return frozenset(out)


def _times(values: pd.Series) -> pd.Series:
    """ISO 8601 timestamps (with or without offset) as naive UTC Timestamps; NaT where empty or unreadable."""
    parsed = pd.to_datetime(values.where(values.str.strip() != ""), errors="coerce", utc=True, format="ISO8601")
    return parsed.dt.tz_convert(None)


def read_responses(table: Table, instrument: Instrument) -> RawResponses:
    """Map a KoboToolbox / ODK Central export (text or xlsx :class:`Table`) to the codebook's names.

    Returns :class:`RawResponses` with values as written (choice names or labels; ``details["values"]``
    says which), ``meta`` from ``start``/``end`` (duration: their difference) and the respondent id
    (``respondent_id``, else ``_uuid`` / ``meta-instanceID`` / ``KEY``); device ids, user names, phone
    numbers and geopoint parts go to ``identifiers``. Raises :class:`DataError` when two columns hold
    the same variable or no column is a questionnaire variable.
    """
    if table.cells is None:
        raise DataError(f"{table.path}: a KoboToolbox / ODK export is a CSV or XLSX file, not {table.kind}")
    heads = _header(table)
    body = table.cells.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    source_row = np.arange(1, len(body) + 1)  # 1-based data rows; wholly empty lines stay rows (ingest logs them)
    names = {v.name for v in instrument.variables()}
    known = set(KOBO_META) | set(ODK_CENTRAL_META) | set(FORM_META)
    data, ident, unknown, seen = {}, {}, [], {}
    geopoints = _geopoints(heads)
    for k, h in enumerate(heads):
        col = body[k]
        var = _variable_of(h, names)
        if var is not None and not _is_identifier(h, geopoints):
            if var in seen:
                raise DataError(f"{table.path}: row 1 (header), columns {seen[var] + 1} ('{heads[seen[var]]}') "
                                f"and {k + 1} ('{h}') both hold variable '{var}'; remove one of them")
            seen[var] = k
            data[var] = col.to_numpy()
        elif _is_identifier(h, geopoints):
            ident[h] = col.to_numpy()
        elif h in known or h.startswith(("_", "meta/", "meta-")) or h == "":
            continue
        else:
            unknown.append(h)
    questions = [v for v in data if v != "respondent_id"]
    if not questions:
        raise DataError(f"{table.path}: no column of the header row is a questionnaire variable (looked for "
                        f"names such as '{next(iter(_columns(instrument).values()), '')}'); is this the "
                        "right instrument, and was the export made with XML names rather than labels as headers?")
    by_head = {h: body[k] for k, h in enumerate(heads)}
    empty = pd.Series([""] * len(body), dtype=object)
    respondent = pd.Series(data["respondent_id"], dtype=object) if "respondent_id" in data else empty.copy()
    for fallback in ("_uuid", "meta-instanceID", "meta/instanceID", "KEY"):
        if fallback in by_head:
            respondent = respondent.where(respondent.str.strip() != "", by_head[fallback])
    started = _times(by_head.get("start", empty))
    ended = _times(by_head.get("end", empty))
    meta = pd.DataFrame({"respondent": respondent.astype(str).to_numpy(), "started": started.to_numpy(),
                         "ended": ended.to_numpy(),
                         "duration_sec": (ended - started).dt.total_seconds().to_numpy(dtype=float),
                         "finished": np.full(len(body), np.nan)}, columns=list(META_COLUMNS))
    frame = pd.DataFrame(data, columns=list(data))
    return RawResponses(
        format="kobo", detected_by=detect(table) or "chosen with --format",
        data=frame, source_row=source_row, meta=meta, unknown=tuple(unknown), identifiers=tuple(ident),
        identifying=pd.DataFrame(ident), missing_codes=(),
        details={"encoding": table.encoding, "delimiter": table.delimiter, "sheet": table.sheet, "header_rows": 1,
                 "values": _values_variant(frame, instrument),
                 "variant": "odk_central" if "SubmissionDate" in by_head else "kobotoolbox"})


def _values_variant(frame: pd.DataFrame, instrument: Instrument) -> str:
    """``codes`` when select_one answers are choice names, ``labels`` when they are choice labels."""
    codes = labels = 0
    for name in frame.columns:
        v = instrument.variable(name)
        if not v.scale:
            continue
        vl = instrument.value_labels(v)
        vals = {str(x).strip() for x in frame[name] if str(x).strip()}
        codes += len(vals & {str(k) for k in vl})
        labels += len(vals & {str(lab) for lang in instrument.languages
                              for lab in instrument.value_labels(v, lang).values()})
    return "labels" if labels > codes else "codes"

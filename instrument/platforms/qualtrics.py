"""Qualtrics: the Advanced Format TXT questionnaire and the "Data & Analysis" response exports.

Questionnaire (:func:`write_questionnaire`): one ``[[Block]]`` per module; each
construct is a single-answer matrix whose ID is the construct in lower case,
so Qualtrics names the exported columns ``tk_1``, ``tk_2``, ... - exactly our
variable names; other questions' IDs (export tags) are their variable names.

Responses (:func:`write_responses`, :func:`detect`, :func:`read_responses`):
the CSV export has three header rows - export tags, question texts,
``{"ImportId": "QID..."}`` JSON - then one row per response; legacy exports
have two (tags, texts; no ImportId row). "Export values" gives the numeric
recode values (``details["values"] == "codes"``), "Use choice text" the
answer texts (``"labels"``). The SPSS ``.sav`` export has the same variable
names in one header.

Column mapping, in order: (1) the export tag equals a variable name (our
questionnaire sets tags = names); (2) the tag equals a name ignoring case;
(3) the ImportId row's ``ImportId`` with a leading ``QID_`` removed equals a
name (the generator writes ``QID_<name>``). Tags such as ``Q5_1`` / ``QID5_1``
that the researcher left at Qualtrics' defaults cannot be mapped without the
survey's QSF file: they are reported in ``unknown``.

``respondent`` is ``ExternalReference`` when every data row that is not wholly empty has one (the
generator puts the codebook's ``respondent_id`` there, so a round trip
recovers it), else ``ResponseId``; ``details["respondent_from"]`` says which.
An extra meta column ``status`` keeps Qualtrics' Status code (``"0"`` IP
address, ``"1"`` survey preview, ``"8"`` spam, ...) and meta column ``exclude``
names the response type of rows that are not real responses
(:data:`EXCLUDED_STATUS`: previews, tests, spam), which ingest excludes.

Page times: a Qualtrics Timing question records ``<name>_First Click``, ``_Last Click``, ``_Page Submit``
and ``_Click Count``. With one Timing question per block named ``<page>_timer`` (:func:`timer_id`; page
ids from :func:`~instrument.platforms.base.page_ids`), the reader takes the ``_Page Submit`` columns as
the page seconds when every page fielded has one (else ``details["page_timers_note"]``); the writer
writes the four columns per page when page times are generated. The questionnaire export does not add
the Timing questions: Qualtrics' Advanced Format TXT documentation lists no Timing question type, so
they are added in the survey editor (one per block, export tag ``<page>_timer``). Nor does the TXT
carry display logic: the cluster module's condition (asked of cluster members only) is set in the
survey flow, and Qualtrics records ``StartDate`` / ``EndDate`` / ``Duration (in seconds)`` itself.

Languages: the TXT holds one language (the first of ``languages``); with more, a translation table
``<stem>_translations.csv`` is written beside it (:func:`translation_rows`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from instrument.export.common import text
from instrument.model import Instrument, Variable
from instrument.platforms.base import (
    META_COLUMNS,
    RawResponses,
    ResponseMeta,
    fielded,
    page_ids,
    page_variables,
    pages,
)
from instrument.platforms.cells import (
    check_unique,
    durations,
    empty_rows,
    floats,
    numeric_share,
    per_value,
    timestamps,
)
from smecore.files import write_text

FORMAT = "qualtrics"
QUALTRICS_META = ("StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
                  "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
                  "ExternalReference", "LocationLatitude", "LocationLongitude", "DistributionChannel", "UserLanguage")
#: Bookkeeping columns that identify a person directly (kept out of the responses).
IDENTIFYING = ("IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail", "LocationLatitude",
               "LocationLongitude")
#: Legacy (pre-2017) export names of the bookkeeping columns.
LEGACY_NAMES = {"V1": "ResponseId", "V3": "RecipientLastName", "V4": "RecipientFirstName", "V5": "RecipientEmail",
                "V6": "IPAddress", "V8": "StartDate", "V9": "EndDate", "V10": "Finished", "ResponseID": "ResponseId",
                "Duration__in_seconds_": "Duration (in seconds)"}  # SPSS export name
#: Qualtrics "Response Type" (the ``Status`` column; numeric in "export values", text in "choice text"
#: exports) of rows that are not real responses: code -> name. Kept: 0 IP Address (an anonymous link),
#: 4 Imported, 16 Offline (the offline app).
EXCLUDED_STATUS = {"1": "Survey Preview", "2": "Survey Test", "8": "Spam", "9": "Survey Preview Spam",
                   "12": "Imported Spam", "17": "Offline Survey Preview"}
EXTRA_META = ("status", "exclude")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: The columns a Timing question exports, after its export tag and ``_``.
TIMER_FIELDS = ("First Click", "Last Click", "Page Submit", "Click Count")


def timer_id(page: str) -> str:
    """Export tag of the Timing question of page ``page`` (``M1`` -> ``M1_timer``)."""
    return f"{page}_timer"


# -- questionnaire -----------------------------------------------------------------------------
#: Qualtrics' language codes of the languages we translate into (its translation file's column heads).
QUALTRICS_LANGUAGES = {"en": "EN", "fi": "FI", "sv": "SV", "de": "DE", "fr": "FR", "es": "ES", "it": "IT",
                       "nl": "NL", "da": "DA", "no": "NO", "pt": "PT", "hi": "HI"}


class _Phrases:
    """Collects the translatable phrases of the TXT file in file order: ``(PhraseID, export tag,
    {language: text})``; questions are numbered QID1, QID2, ... as they are written."""

    def __init__(self):
        self.rows: list[tuple[str, str, dict[str, str]]] = []
        self.qid = 0

    def question(self, tag: str, texts: dict[str, str]) -> None:
        self.qid += 1
        self.rows.append((f"QID{self.qid}_QuestionText", tag, texts))

    def part(self, kind: str, k: int, tag: str, texts: dict[str, str]) -> None:
        self.rows.append((f"QID{self.qid}_{kind}{k}", tag, texts))


def _choices(instrument: Instrument, v: Variable, tag: str, lang: str, phrases: _Phrases) -> list[str]:
    lines = [f"[[Advanced{tag}s]]"]
    points = instrument.scales[v.scale].points
    for p in points:
        lines += [f"[[{tag}:{p.value}]]", text(p.label, lang)]
        phrases.part(tag, p.value, v.name, dict(p.label))
    return lines


def _joined(*texts: dict[str, str] | None) -> dict[str, str]:
    """Several texts as one phrase (blank line between), per language."""
    langs = {k for t in texts if t for k in t}
    return {lang: "\n\n".join(text(t, lang) for t in texts if t) for lang in langs}


def questionnaire_lines(instrument: Instrument, lang: str = "en", phrases: _Phrases | None = None) -> list[str]:
    """Lines of the Advanced Format TXT file, with the instrument's text in ``lang``; ``phrases`` (when
    given) collects every translatable phrase in file order (:func:`translation_rows`)."""
    phrases = phrases if phrases is not None else _Phrases()
    q = instrument.questionnaire
    out = ["[[AdvancedFormat]]", "", "[[Block:Introduction]]", "", "[[Question:Text]]", "[[ID:intro]]",
           text(q.introduction, lang), "", text(q.consent, lang), ""]
    phrases.question("intro", _joined(q.introduction, q.consent))
    for _, section in pages(instrument):
        out += [f"[[Block:{section.module} {text(section.title)}]]", ""]
        for b in section.blocks:
            stem = text(b.stem, lang)
            if b.kind == "grid" and len(b.variables) > 1:
                ids = [v.name for v in b.variables]
                prefix = b.construct.lower()
                if all(n == f"{prefix}_{k}" for k, n in enumerate(ids, start=1)):
                    out += ["[[Question:Matrix:SingleAnswer]]", f"[[ID:{prefix}]]", stem or text(b.title, lang),
                            "[[AdvancedChoices]]"]
                    phrases.question(prefix, dict(b.stem or b.title))
                    for k, v in enumerate(b.variables, start=1):
                        out += [f"[[Choice:{k}]]", v.label(lang)]
                        phrases.part("Choice", k, v.name, dict(v.text))
                    out += _choices(instrument, b.variables[0], "Answer", lang, phrases) + [""]
                    continue
            if stem:
                out += ["[[Question:Text]]", f"[[ID:stem_{b.construct.lower()}]]", stem, ""]
                phrases.question(f"stem_{b.construct.lower()}", dict(b.stem))
            for v in b.variables:
                if v.scale:
                    out += ["[[Question:MC:SingleAnswer:Vertical]]", f"[[ID:{v.name}]]", v.label(lang)]
                    phrases.question(v.name, dict(v.text))
                    out += _choices(instrument, v, "Choice", lang, phrases) + [""]
                else:
                    out += ["[[Question:TE:SingleLine]]", f"[[ID:{v.name}]]", v.label(lang), ""]
                    phrases.question(v.name, dict(v.text))
    return out


def translation_rows(instrument: Instrument, languages) -> list[list[str]]:
    """The translation table of the TXT file: a header ``PhraseID, ExportTag, <EN>, <FI>, ...`` (Qualtrics'
    language codes, the base language first) and one row per translatable phrase, in file order.

    Qualtrics' Advanced Format TXT holds one language; translations are uploaded separately (Translate
    survey > Upload translations) in Qualtrics' own translation file, whose rows are keyed by the
    survey's QIDs (``QID3_QuestionText``, ``QID3_Choice2``, ``QID3_Answer5``). The PhraseIDs here assume
    that Qualtrics numbers the imported questions QID1, QID2, ... in file order; download the survey's
    translation file after importing the TXT, check that its PhraseIDs and source texts agree with these
    (``ExportTag`` names the question), and paste the language columns into it.
    """
    phrases = _Phrases()
    questionnaire_lines(instrument, languages[0], phrases)
    head = ["PhraseID", "ExportTag", *(QUALTRICS_LANGUAGES.get(lang.split("-")[0], lang.upper()) for lang in languages)]
    return [head] + [[pid, tag, *(text(texts, lang) for lang in languages)] for pid, tag, texts in phrases.rows]


def write_questionnaire(instrument: Instrument, path: Path, languages=("en",)) -> list[Path]:
    """Write the Advanced Format TXT questionnaire in the first of ``languages`` to ``path``; with more
    than one language, also ``<stem>_translations.csv`` (:func:`translation_rows`). Returns the paths."""
    languages = tuple(languages)
    out = [write_text(path, "\n".join(questionnaire_lines(instrument, languages[0])) + "\n")]
    if len(languages) > 1:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(translation_rows(instrument, languages))
        out.append(write_text(path.with_name(f"{path.stem}_translations.csv"), buf.getvalue()))
    return out


# -- responses: writing --------------------------------------------------------------------------
def response_id(seed: int, i: int) -> str:
    """A Qualtrics-like ``R_...`` id of row ``i``, derived from the seed (same seed, same ids)."""
    digest = hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "R_" + "".join(alphabet[int(digest[k:k + 2], 16) % 62] for k in range(0, 30, 2))


def _as_labels(instrument: Instrument, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.astype(object).copy()
    for v in instrument.variables(paradata=False):
        labels = instrument.value_labels(v)
        if v.name in out.columns and labels:
            out[v.name] = [labels.get(int(x), x) if pd.notna(x) else x for x in frame[v.name]]
    return out


def write_responses(data: pd.DataFrame, meta: ResponseMeta, instrument: Instrument, path: Path, *,
                    labels: bool = False) -> Path:
    """Write ``data`` (codebook columns, codes, NaN missing) as a Qualtrics CSV export with three header
    rows; ``labels=True`` writes choice texts ("Use choice text") instead of recode values. Returns ``path``."""
    questions = [c for c in data.columns if c not in ("respondent_id", "duration_sec")]
    finished = np.asarray(meta.finished, dtype=bool)
    answered = data[questions].notna().mean(axis=1).to_numpy()
    n = len(data)
    cols = {
        "StartDate": [s.strftime(TIME_FORMAT) for s in meta.started],
        "EndDate": [e.strftime(TIME_FORMAT) for e in meta.ended],
        "Status": 0, "IPAddress": "", "Progress": np.where(finished, 100, np.round(100 * answered)).astype(int),
        "Duration (in seconds)": durations(data, meta), "Finished": finished.astype(int),
        "RecordedDate": [e.strftime(TIME_FORMAT) for e in meta.ended],
        "ResponseId": [response_id(meta.seed, i) for i in range(n)],
        "RecipientLastName": "", "RecipientFirstName": "", "RecipientEmail": "",
        "ExternalReference": list(meta.respondent), "LocationLatitude": "", "LocationLongitude": "",
        "DistributionChannel": "anonymous", "UserLanguage": "EN",
    }
    answers = data[questions].reset_index(drop=True)
    if labels:
        answers = _as_labels(instrument, answers)
    timers = _timer_columns(meta.pages, instrument) if meta.pages is not None else pd.DataFrame(index=range(n))
    body = pd.concat([pd.DataFrame(cols, index=range(n)), answers, timers], axis=1)
    texts = {v.name: v.label() for v in instrument.variables()}
    row2 = list(QUALTRICS_META) + [texts.get(c, c) for c in questions] + \
        [f"Timing - {c.rsplit('_', 1)[1]}" for c in timers.columns]
    row3 = [json.dumps({"ImportId": c}) for c in QUALTRICS_META] + \
        [json.dumps({"ImportId": f"QID_{c}"}) for c in questions] + \
        [json.dumps({"ImportId": f"QID_{c.rsplit('_', 1)[0]}_{c.rsplit('_', 1)[1].upper().replace(' ', '_')}"})
         for c in timers.columns]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(body.columns))
    w.writerow(row2)
    w.writerow(row3)
    buf.write(body.to_csv(index=False, header=False, lineterminator="\n"))
    return write_text(path, buf.getvalue())


def _timer_columns(seconds: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """The four Timing-question columns per page: first click at a tenth and last click at nine tenths
    of the page time, submit at the page time, one click per question (missing where the page was not
    reached)."""
    out = {}
    items = page_variables(instrument)
    for pid in page_ids(instrument):
        s = seconds[pid].to_numpy(dtype=float)
        tag = timer_id(pid)
        out[f"{tag}_First Click"] = np.round(0.1 * s, 3)
        out[f"{tag}_Last Click"] = np.round(0.9 * s, 3)
        out[f"{tag}_Page Submit"] = s
        out[f"{tag}_Click Count"] = pd.array(np.where(np.isnan(s), np.nan, len(items[pid])), dtype="Float64") \
            .astype("Int64")
    return pd.DataFrame(out, index=range(len(seconds)))


def _page_times(names: list[str], col, instrument: Instrument, columns) -> tuple[pd.DataFrame | None, dict]:
    """``<page>_timer_Page Submit`` columns as page seconds when every page fielded has one."""
    ids = page_ids(fielded(instrument, columns))
    wanted = {pid: f"{timer_id(pid)}_Page Submit" for pid in ids}
    found = {pid: c for pid, c in wanted.items() if c in names}
    if len(found) == len(ids):
        return pd.DataFrame({pid: floats(col(c)).to_numpy() for pid, c in found.items()}), {"page_timers": found}
    others = [c for c in names if c.endswith("_Page Submit") and c not in found.values()]
    if found:
        note = (f"Timing questions for {len(found)} of {len(ids)} pages (missing: "
                f"{', '.join(wanted[p] for p in ids if p not in found)}): page times not read")
    elif others:
        note = (f"{len(others)} Timing questions not named <page>_timer ({', '.join(others[:3])}"
                f"{', ...' if len(others) > 3 else ''}): page times not read")
    else:
        note = "no Timing questions (<page>_timer_Page Submit columns): no page times"
    return None, {"page_timers_note": note}


# -- responses: reading --------------------------------------------------------------------------
def _names(table) -> list[str]:
    return [LEGACY_NAMES.get(c, c) for c in table.row(0)]


def detect(table) -> str | None:
    """``"ResponseId and StartDate columns"`` when ``table`` is a Qualtrics export (CSV, XLSX or SAV), else None."""
    names = set(_names(table))
    if "ResponseId" in names and "StartDate" in names:
        return "ResponseId and StartDate columns (Qualtrics)"
    return None


def _import_ids(row: list[str]) -> list[str] | None:
    ids = []
    for cell in row:
        try:
            obj = json.loads(cell)
        except (json.JSONDecodeError, TypeError):
            return None
        if not isinstance(obj, dict) or "ImportId" not in obj:
            return None
        ids.append(str(obj["ImportId"]))
    return ids


def _header_rows(table) -> tuple[int, list[str] | None]:
    """(number of header rows, ImportIds or None)."""
    if table.cells is None:
        return 1, None
    ids = _import_ids(table.row(2))
    if ids is not None:
        return 3, ids
    # legacy export: row 2 holds question texts; its first cell repeats a column title, never a response id
    second = table.row(1)
    if second and not str(second[0]).startswith("R_") and str(second[0]) in ("ResponseId", "ResponseID",
                                                                          "Response ID", "StartDate", "Start Date"):
        return 2, None
    return 1, None


def column_map(names: list[str], import_ids: list[str] | None, instrument: Instrument) -> dict[int, str]:
    """Column position -> variable name, by the rules in the module docstring."""
    var_names = [v.name for v in instrument.variables(paradata=False)]
    exact, lower = set(var_names), {n.lower(): n for n in var_names}
    out: dict[int, str] = {}
    for k, tag in enumerate(names):
        if tag in exact:
            out[k] = tag
        elif tag.lower() in lower:
            out[k] = lower[tag.lower()]
        elif import_ids is not None and k < len(import_ids):
            iid = import_ids[k]
            iid = iid[4:] if iid.startswith("QID_") else iid
            if iid in exact:
                out[k] = iid
    return out


_EXCLUDED_BY_NAME = {name.casefold(): (code, name) for code, name in EXCLUDED_STATUS.items()}


def _exclusion(status: str) -> str:
    """The exclusion reason for a ``Status`` cell (code or response-type name), ``""`` for real responses."""
    status = str(status).strip()
    code, name = ((status, EXCLUDED_STATUS[status]) if status in EXCLUDED_STATUS
                  else _EXCLUDED_BY_NAME.get(status.casefold(), (None, None)))
    return f"Qualtrics response type {name} (Status {code})" if code else ""


def read_responses(table, instrument: Instrument) -> RawResponses:
    """Map a Qualtrics export (CSV/XLSX cells or a SAV frame) to codebook names; values as exported."""
    names = _names(table)
    n_header, import_ids = _header_rows(table)
    body = table.body(n_header).copy(deep=False)  # renaming its columns leaves the table as it is
    body.columns = names
    body = body.reset_index(drop=True)
    mapping = column_map(names, import_ids, instrument)
    check_unique(mapping, names, table.path)
    data = pd.DataFrame({var: body.iloc[:, k] for k, var in mapping.items()}, index=body.index)
    n = len(body)

    def col(name: str) -> pd.Series:
        return body[name].reset_index(drop=True) if name in body.columns else pd.Series([""] * n, dtype=object)

    ext = col("ExternalReference").astype(str).replace("nan", "")
    # wholly empty rows (kept as rows, excluded by ingest) have no id of either kind: leave them out of the choice
    empty = empty_rows(body, "ExternalReference")
    use_ext = bool((~empty).any()) and bool((ext.str.strip() != "")[~empty].all())
    respondent = ext if use_ext else col("ResponseId").astype(str)
    fin = col("Finished").astype(str).str.strip().str.lower()
    finished = {"1": True, "1.0": True, "true": True, "0": False, "0.0": False, "false": False}
    meta = pd.DataFrame({
        "respondent": respondent.to_numpy(),
        "started": timestamps(col("StartDate")), "ended": timestamps(col("EndDate")),
        "duration_sec": floats(col("Duration (in seconds)")),
        "finished": per_value(fin, lambda x: finished.get(x, np.nan)),
        "status": col("Status").astype(str).str.replace(r"\.0$", "", regex=True).replace("nan", "").to_numpy(),
    })
    meta["exclude"] = per_value(meta["status"], _exclusion)
    meta = meta[list(META_COLUMNS) + list(EXTRA_META)]
    identifiers = tuple(c for c in names if c in IDENTIFYING)
    timer_cols = {f"{timer_id(p)}_{f}" for p in page_ids(fielded(instrument, data.columns)) for f in TIMER_FIELDS}
    known = set(QUALTRICS_META) | set(mapping.values()) | timer_cols
    unknown = tuple(c for k, c in enumerate(names) if k not in mapping and c not in known)
    if table.cells is None:
        values = "codes"
    else:
        scaled = [v.name for v in instrument.variables(paradata=False) if v.scale and v.name in data.columns]
        values = "codes" if numeric_share(data[scaled]) >= 0.99 else "labels"
    page_frame, page_details = _page_times(names, col, instrument, data.columns)
    details = {"header_rows": n_header, "values": values, "import_id_row": import_ids is not None, **page_details,
               "respondent_from": "ExternalReference" if use_ext else "ResponseId",
               "encoding": table.encoding, "delimiter": table.delimiter, "sheet": table.sheet}
    return RawResponses(format=FORMAT, detected_by=detect(table) or "chosen with --format", data=data,
                        source_row=np.arange(1, n + 1), meta=meta, unknown=unknown, identifiers=identifiers,
                        identifying=pd.DataFrame({c: col(c).to_numpy() for c in identifiers}),
                        missing_codes=("-99",), details=details, pages=page_frame)

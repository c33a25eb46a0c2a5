"""LimeSurvey: the tab-separated survey structure (questionnaire) and the response exports.

Questionnaire (:func:`write_questionnaire`, LimeSurvey manual "Tab Separated
Value survey structure"): ``S`` global settings, ``SL`` language settings,
``G`` groups (one per module), ``Q`` questions, ``SQ`` subquestions and ``A``
answers, one copy of every translatable row per language (base language
first, the same ids in every language). Each construct is an "Array"
question (type ``F``) whose subquestions are its items; every ``SQ`` row has
its own id (as LimeSurvey's own exporter writes it) - the importer
(``TSVImportSurvey``) uses the id of an ``SQ`` row as the subquestion's qid,
so giving subquestions their parent's id collapsed them onto one question.
Numerical questions carry the ``min_num_value_n`` / ``max_num_value_n``
question attributes (extra columns of the ``Q`` row, as the TSV export has them).

LimeSurvey codes may only contain letters and digits: codes are the variable
names without ``_`` (:func:`limesurvey_code`); array items are exported as
``QUESTION[subquestion]`` (:func:`limesurvey_column`).

Responses: the CSV export with "question code" headings, in its "answer
codes" (``details["values"] == "codes"``) or "full answers" (``"labels"``)
variant; bookkeeping ``id, submitdate, lastpage, startlanguage, seed,
startdate, datestamp`` (+ ``ipaddr``, ``refurl``, ``token`` when recorded)
and the timing columns ``interviewtime`` / ``groupTime<gid>`` /
``<code>Time`` (LimeSurvey's ``createTimingsFieldMap``: ``interviewtime`` first, then per group its
``groupTime<gid>`` followed by its questions' ``<code>Time``). The ``groupTime`` columns, in export
order, are the page times (:func:`~instrument.platforms.base.page_ids`, one group per page) when their
number equals the number of pages fielded; otherwise ``details["page_timers_note"]`` says why none were
read. The writer writes ``interviewtime`` and, when page times are generated, ``groupTime1..n`` (no
per-question times). Items are mapped by :func:`limesurvey_column` and
:func:`limesurvey_code` - the functions the questionnaire export uses - and
also in LimeSurvey's default subquestion style (``TK[SQ001]``, ``TKSQ001``,
``TK_SQ001``: the k-th item of array TK). ``respondent`` is the hidden
question ``respondentid`` (:data:`RESPONDENT_CODE`, which the questionnaire
puts first in the first group, prefilled from the invitation link) when every
row that is not wholly empty has it, else the response ``id``
(``details["respondent_from"]`` says which); an empty ``submitdate`` means an incomplete response
(``finished`` False). The SPSS ``.sav`` export (variables ``id``,
``submitdate``, items as ``TK_tk1`` / ``TK_SQ001``) is read the same way.
"""

from __future__ import annotations

import csv
import io
import re
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
    pages,
)
from instrument.platforms.cells import (
    check_unique,
    durations,
    empty_rows,
    floats,
    numeric_share,
    timestamps,
)
from smecore.errors import DefinitionError
from smecore.files import write_text

FORMAT = "limesurvey"
LIMESURVEY_META = ("id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp")
OTHER_META = ("refurl", "token", "ipaddr", "interviewtime", "completed")
IDENTIFYING = ("ipaddr", "token", "refurl", "email", "firstname", "lastname")
#: Participant ("token") attributes exported beside firstname / lastname / email: free fields that survey
#: owners fill with company, phone or address, so treated as identifiers.
ATTRIBUTE = re.compile(r"^attribute_\d+$")
TIMING = re.compile(r"^(groupTime\d+|.+Time)$")
GROUP_TIME = re.compile(r"^groupTime\d+$")
COLUMNS = ("id", "related_id", "class", "type/scale", "name", "relevance", "text", "help", "language",
           "validation", "mandatory", "other", "default", "same_default", "min_num_value_n", "max_num_value_n",
           "hidden")
#: Code of the hidden short-text question that carries the codebook's ``respondent_id`` (LimeSurvey codes
#: cannot hold ``_``). The survey is anonymised, so the response ``id`` is LimeSurvey's only own key; the
#: researcher's id reaches the response through this question, prefilled from the invitation link
#: (``...?respondentid=F123``: LimeSurvey prefills a question from a URL parameter named by its code).
RESPONDENT_CODE = "respondentid"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def limesurvey_code(variable: str) -> str:
    """LimeSurvey code of a variable: the name without underscores (``tk_1`` -> ``tk1``)."""
    return variable.replace("_", "")


def limesurvey_column(instrument: Instrument, name: str) -> str:
    """Column heading of a variable in a LimeSurvey response export (question code, array items as Q[SQ])."""
    for section in instrument.sections():
        for b in section.blocks:
            if name in {v.name for v in b.variables}:
                if b.kind in ("grid", "matrix") and len(b.variables) > 1:
                    return f"{b.construct}[{limesurvey_code(name)}]"
                return limesurvey_code(name)
    return limesurvey_code(name)


# -- questionnaire -----------------------------------------------------------------------------
def _check_codes(instrument: Instrument) -> None:
    seen: dict[str, str] = {RESPONDENT_CODE: "respondent_id"}
    for v in instrument.variables(paradata=False):
        code = limesurvey_code(v.name)
        if code in seen:
            raise DefinitionError(f"LimeSurvey export: variables '{seen[code]}' and '{v.name}' both become code "
                                  f"'{code}' (LimeSurvey codes cannot contain '_'); rename one of them")
        seen[code] = v.name


def _question_type(v: Variable) -> str:
    if v.scale:
        return "L"
    return "S" if v.type == "text" else "N"


def _answers(instrument: Instrument, v: Variable, lang: str) -> list[dict]:
    return [{"class": "A", "type/scale": "0", "name": str(p.value), "relevance": "",
             "text": text(p.label, lang), "language": lang} for p in instrument.scales[v.scale].points]


def _expression(cond: dict[str, int]) -> str:
    """A condition as a LimeSurvey ExpressionScript (``.NAOK``: a skipped question counts as unanswered)."""
    return " and ".join(f'{limesurvey_code(k)}.NAOK == "{val}"' for k, val in cond.items())


def questionnaire_rows(instrument: Instrument, languages=("en",)) -> list[dict]:
    """All rows of the structure file, in order. Ids: groups 1.., questions and subquestions share one
    running counter (each SQ its own id), the same in every language. ``languages``: the first is the
    survey's base language (``S language``), the others its ``additional_languages``; every
    translatable row (``SL``, ``G``, ``Q``, ``SQ``, ``A``) is written once per language, base first. A
    module's condition is its group's relevance (the ``relevance`` column of its ``G`` rows)."""
    _check_codes(instrument)
    q = instrument.questionnaire
    langs = tuple(languages)
    out: list[dict] = [{"class": "S", "name": "language", "text": langs[0]}]
    if len(langs) > 1:
        out.append({"class": "S", "name": "additional_languages", "text": " ".join(langs[1:])})
    out += [{"class": "S", "name": "format", "text": "G"}, {"class": "S", "name": "anonymized", "text": "Y"},
            {"class": "S", "name": "datestamp", "text": "Y"}, {"class": "S", "name": "savetimings", "text": "Y"}]
    for lang in langs:
        out += [{"class": "SL", "name": "surveyls_title", "text": text(q.title, lang), "language": lang},
                {"class": "SL", "name": "surveyls_welcometext",
                 "text": text(q.introduction, lang) + "<br/><br/>" + text(q.consent, lang), "language": lang},
                {"class": "SL", "name": "surveyls_endtext", "text": text(q.thanks, lang), "language": lang}]
    for lang in langs:
        qid = 0
        for gid, (_, section) in enumerate(pages(instrument), start=1):
            out.append({"id": gid, "class": "G", "name": text(section.title, lang), "text": text(section.intro, lang),
                        "relevance": _expression(section.relevant) if section.relevant else "",
                        "language": lang})
            if gid == 1:  # the respondent id: a hidden short-text question, first in the first group
                qid += 1
                rid = instrument.variable("respondent_id")
                out.append({"id": qid, "class": "Q", "type/scale": "S", "name": RESPONDENT_CODE, "relevance": "1",
                            "text": rid.label(lang), "language": lang, "mandatory": "N", "same_default": "0",
                            "hidden": "1"})
            for b in section.blocks:
                if b.kind in ("grid", "matrix") and len(b.variables) > 1:
                    qid += 1
                    out.append({"id": qid, "class": "Q", "type/scale": "F", "name": b.construct,
                                "relevance": "1", "text": text(b.stem, lang) or text(b.title, lang),
                                "language": lang, "mandatory": "N", "same_default": "0"})
                    for v in b.variables:
                        qid += 1
                        out.append({"id": qid, "class": "SQ", "type/scale": "0", "name": limesurvey_code(v.name),
                                    "relevance": "1", "text": v.label(lang), "language": lang})
                    out += _answers(instrument, b.variables[0], lang)
                    continue
                for v in b.variables:
                    qid += 1
                    own = {k: val for k, val in (v.relevant or {}).items()
                           if (section.relevant or {}).get(k) != val}
                    relevance = _expression(own) if own else "1"
                    out.append({"id": qid, "class": "Q", "type/scale": _question_type(v),
                                "name": limesurvey_code(v.name), "relevance": relevance, "text": v.label(lang),
                                "language": lang,
                                "validation": r"/^-?\d+$/" if v.type in ("integer", "year", "percent") else "",
                                "mandatory": "Y" if (v.required and v.kind == "profile") else "N",
                                "same_default": "0",
                                # question attributes are extra columns of the Q row (TSV export layout)
                                "min_num_value_n": "" if v.min is None or v.scale else str(v.min),
                                "max_num_value_n": "" if v.max is None or v.scale else str(v.max)})
                    if v.scale:
                        out += _answers(instrument, v, lang)
    return out


def write_questionnaire(instrument: Instrument, path: Path, languages=("en",)) -> list[Path]:
    """Write the tab-separated structure (UTF-8; ``languages``: base first, then the additional ones)
    to ``path``; returns ``[path]``."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), delimiter="\t", lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in questionnaire_rows(instrument, languages):
        w.writerow({c: r.get(c, "") for c in COLUMNS})
    write_text(path, buf.getvalue())
    return [path]


# -- responses: writing ----------------------------------------------------------------------------
def write_responses(data: pd.DataFrame, meta: ResponseMeta, instrument: Instrument, path: Path, *,
                    labels: bool = False) -> Path:
    """Write ``data`` as a LimeSurvey CSV response export (question-code headings, all cells quoted);
    ``labels=True`` writes the "full answers" variant. Returns ``path``."""
    finished = np.asarray(meta.finished, dtype=bool)
    n_groups = len(instrument.sections())
    stop = np.asarray(meta.stopped_at)
    n_q = max(int(stop.max()), 1) if len(stop) else 1
    lastpage = np.where(finished, n_groups, np.maximum(1, np.round(n_groups * stop / n_q))).astype(int)
    questions = [c for c in data.columns if c not in ("respondent_id", "duration_sec")]
    n = len(data)
    out = pd.DataFrame({
        "id": np.arange(1, n + 1),
        "submitdate": [e.strftime(TIME_FORMAT) if f else "" for e, f in zip(meta.ended, finished)],
        "lastpage": lastpage, "startlanguage": "en", "seed": [1000 + i for i in range(n)],
        "startdate": [s.strftime(TIME_FORMAT) for s in meta.started],
        "datestamp": [e.strftime(TIME_FORMAT) for e in meta.ended],
    })
    body = data[questions].reset_index(drop=True).astype(object)
    if labels:
        for v in instrument.variables(paradata=False):
            vl = instrument.value_labels(v)
            if v.name in body.columns and vl:
                body[v.name] = [vl.get(int(x), x) if pd.notna(x) else x for x in data[v.name]]
    body.columns = [limesurvey_column(instrument, c) for c in questions]
    # the hidden respondent-id question is the first question of the first group, so its column comes first
    rid = pd.DataFrame({RESPONDENT_CODE: [str(x) for x in meta.respondent]})
    timing = pd.DataFrame({"interviewtime": durations(data, meta)})
    if meta.pages is not None:  # one group per page, groups numbered 1.. in page order (questionnaire_rows)
        for gid, pid in enumerate(page_ids(instrument), start=1):
            timing[f"groupTime{gid}"] = meta.pages[pid].to_numpy(dtype=float)
    out = pd.concat([out, rid, body, timing], axis=1)
    return write_text(path, out.to_csv(index=False, quoting=csv.QUOTE_ALL, lineterminator="\n"))


# -- responses: reading ----------------------------------------------------------------------------
def detect(table) -> str | None:
    """``"id and submitdate columns"`` when ``table`` is a LimeSurvey response export, else None."""
    names = set(table.row(0))
    if {"id", "submitdate"} <= names:
        return "id and submitdate columns (LimeSurvey)"
    return None


def column_names(instrument: Instrument) -> dict[str, str]:
    """Every heading a LimeSurvey export may give a variable -> the variable name."""
    out: dict[str, str] = {}
    for section in instrument.sections():
        for b in section.blocks:
            is_array = b.kind in ("grid", "matrix") and len(b.variables) > 1
            for k, v in enumerate(b.variables, start=1):
                code = limesurvey_code(v.name)
                out[limesurvey_column(instrument, v.name)] = v.name
                out[code] = v.name
                if is_array:
                    q, sq = b.construct, f"SQ{k:03d}"
                    for heading in (f"{q}[{sq}]", f"{q}{sq}", f"{q}_{sq}", f"{q}_{code}", f"{q}{code}"):
                        out[heading] = v.name
    return out


def _id_text(x) -> str:
    """An id cell as text: ``7.0`` (a numeric column) -> ``"7"``."""
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def read_responses(table, instrument: Instrument) -> RawResponses:
    """Map a LimeSurvey export (CSV/XLSX cells or a SAV frame) to codebook names; values as exported."""
    body = table.body(1).reset_index(drop=True)
    names = [str(c) for c in body.columns]
    headings = column_names(instrument)
    mapping = {k: headings[c] for k, c in enumerate(names) if c in headings}
    check_unique(mapping, names, table.path)
    data = pd.DataFrame({var: body.iloc[:, k] for k, var in mapping.items()}, index=body.index)
    n = len(body)

    def col(name: str) -> pd.Series:
        if name not in body.columns:
            return pd.Series([""] * n, dtype=object)
        return body[name].reset_index(drop=True)

    submit = col("submitdate")
    submitted = ~(submit.isna() | (submit.astype(str).str.strip().isin(["", "nan", "NaT"])))
    # respondent: the hidden respondent-id question when every row that is not wholly empty has it filled
    # (wholly empty rows have no id of either kind and are excluded by ingest), else the response id
    empty = empty_rows(body, RESPONDENT_CODE)
    given = col(RESPONDENT_CODE).map(lambda x: "" if pd.isna(x) else _id_text(x)).astype(str)
    use_given = RESPONDENT_CODE in body.columns and bool((~empty).any()) and bool(
        (given.str.strip() != "")[~empty].all())
    respondent = given.str.strip() if use_given else col("id").map(_id_text)
    meta = pd.DataFrame({
        "respondent": respondent.to_numpy(),
        "started": timestamps(col("startdate")), "ended": timestamps(submit),
        "duration_sec": floats(col("interviewtime")),
        "finished": submitted.astype(object).to_numpy(),
    })[list(META_COLUMNS)]
    timing = tuple(c for c in names if TIMING.match(c) and c != "interviewtime" and c not in headings)
    identifiers = tuple(c for c in names if c in IDENTIFYING or ATTRIBUTE.match(c))
    known = set(LIMESURVEY_META) | set(OTHER_META) | set(timing) | set(identifiers) | {RESPONDENT_CODE}
    unknown = tuple(c for k, c in enumerate(names) if k not in mapping and c not in known)
    if table.cells is None:
        values = "codes"
    else:
        scaled = [v.name for v in instrument.variables(paradata=False) if v.scale and v.name in data.columns]
        values = "codes" if numeric_share(data[scaled]) >= 0.99 else "labels"
    page_frame, page_details = _page_times(names, col, instrument, data.columns)
    details = {"header_rows": 1, "values": values, "timing_columns": timing, **page_details,
               "respondent_from": RESPONDENT_CODE if use_given else "id",
               "encoding": table.encoding, "delimiter": table.delimiter, "sheet": table.sheet}
    return RawResponses(format=FORMAT, detected_by=detect(table) or "chosen with --format", data=data,
                        source_row=np.arange(1, n + 1), meta=meta, unknown=unknown, identifiers=identifiers,
                        identifying=pd.DataFrame({c: col(c).to_numpy() for c in identifiers}),
                        missing_codes=(), details=details, pages=page_frame)


def _page_times(names: list[str], col, instrument: Instrument, columns) -> tuple[pd.DataFrame | None, dict]:
    """The ``groupTime<gid>`` columns (export order) as page seconds when there is one per page fielded."""
    groups = [c for c in names if GROUP_TIME.match(c)]
    ids = page_ids(fielded(instrument, columns))
    if not groups:
        return None, {"page_timers_note": "no groupTime columns (the export has no page timings)"}
    if len(groups) != len(ids):
        return None, {"page_timers_note": f"{len(groups)} groupTime columns but {len(ids)} pages fielded "
                                          f"({', '.join(ids)}): page times not read"}
    frame = pd.DataFrame({pid: floats(col(c)).to_numpy() for pid, c in zip(ids, groups)})
    return frame, {"page_timers": dict(zip(ids, groups))}

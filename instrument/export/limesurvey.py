"""LimeSurvey tab-separated survey structure (import with "Import survey", .txt).

Rows (LimeSurvey manual, "Tab Separated Value survey structure"): ``S`` global
settings, ``SL`` language settings, ``G`` groups (one per module), ``Q``
questions, ``SQ`` subquestions and ``A`` answers, one copy of every
translatable row per language (base language first). Each construct is an
"Array" question (type ``F``) whose subquestions are its items and whose
answers are the scale points; profile questions are numerical (``N``), list
(``L``) or short text (``S``) questions; relevance uses ExpressionScript.

LimeSurvey codes may only contain letters and digits, so codes are the
variable names without ``_`` (:func:`instrument.platforms.limesurvey_code`); a LimeSurvey data
export names an item column ``<QUESTION>[<subquestion>]``, e.g. ``TK[tk1]``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from instrument.export.common import text
from instrument.model import Instrument, Variable
from instrument.platforms import limesurvey_code
from smecore.errors import DefinitionError
from smecore.files import write_text

COLUMNS = ("id", "related_id", "class", "type/scale", "name", "relevance", "text", "help", "language",
           "validation", "mandatory", "other", "default", "same_default")


def _check_codes(instrument: Instrument) -> None:
    seen: dict[str, str] = {}
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


def rows(instrument: Instrument) -> list[dict]:
    """All rows of the structure file, in order."""
    _check_codes(instrument)
    q = instrument.questionnaire
    langs = instrument.languages
    out: list[dict] = []
    out.append({"class": "S", "name": "language", "text": langs[0]})
    if len(langs) > 1:
        out.append({"class": "S", "name": "additional_languages", "text": " ".join(langs[1:])})
    out.append({"class": "S", "name": "format", "text": "G"})
    out.append({"class": "S", "name": "anonymized", "text": "Y"})
    for lang in langs:
        out += [{"class": "SL", "name": "surveyls_title", "text": text(q.title, lang), "language": lang},
                {"class": "SL", "name": "surveyls_welcometext",
                 "text": text(q.introduction, lang) + "<br/><br/>" + text(q.consent, lang), "language": lang},
                {"class": "SL", "name": "surveyls_endtext", "text": text(q.thanks, lang), "language": lang}]
    qid = 0
    gid = 0
    for lang in langs:
        qid = 0
        gid = 0
        for section in instrument.sections():
            gid += 1
            out.append({"id": gid, "class": "G", "name": text(section.title, lang), "text": text(section.intro, lang),
                        "language": lang})
            for b in section.blocks:
                if b.kind in ("grid", "matrix") and len(b.variables) > 1:
                    qid += 1
                    out.append({"id": qid, "class": "Q", "type/scale": "F", "name": b.construct,
                                "relevance": "1", "text": text(b.stem, lang) or text(b.title, lang),
                                "language": lang, "mandatory": "N", "same_default": "0"})
                    for v in b.variables:
                        out.append({"id": qid, "class": "SQ", "type/scale": "0", "name": limesurvey_code(v.name),
                                    "relevance": "1", "text": v.label(lang), "language": lang})
                    out += _answers(instrument, b.variables[0], qid, lang)
                    continue
                for v in b.variables:
                    qid += 1
                    relevance = "1"
                    if v.relevant:
                        relevance = " and ".join(f'{limesurvey_code(k)}.NAOK == "{val}"' for k, val in v.relevant.items())
                    validation = ""
                    if v.type in ("integer", "year", "percent"):
                        validation = r"/^\d+$/"
                    out.append({"id": qid, "class": "Q", "type/scale": _question_type(v),
                                "name": limesurvey_code(v.name), "relevance": relevance, "text": v.label(lang),
                                "language": lang, "validation": validation,
                                "mandatory": "Y" if (v.required and v.kind == "profile") else "N",
                                "same_default": "0"})
                    if v.scale:
                        out += _answers(instrument, v, qid, lang)
    return out


def _answers(instrument: Instrument, v: Variable, qid: int, lang: str) -> list[dict]:
    return [{"id": qid, "class": "A", "type/scale": "0", "name": str(p.value), "relevance": "",
             "text": text(p.label, lang), "language": lang} for p in instrument.scales[v.scale].points]


def write(instrument: Instrument, path: Path) -> list[Path]:
    """Write the tab-separated structure (UTF-8) to ``path``."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), delimiter="\t", lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows(instrument):
        w.writerow({c: r.get(c, "") for c in COLUMNS})
    write_text(path, buf.getvalue())
    return [path]

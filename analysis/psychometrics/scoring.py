"""Scoring: reverse-keyed items, derived firm indices and scale scores.

What goes in: screened responses (columns named as the codebook) and the
instrument. What comes out: :class:`Scored` with

* ``data`` - the responses with reverse-keyed items reverse-scored
  (``min + max - x`` on their scale), the derived indices and the scale
  scores appended (the input frame is not modified);
* ``constructs`` - ``{construct: [items]}`` of the constructs present;
* ``modules`` - modules whose items are all present.

Derived indices (``questionnaire.yaml``'s ``derived`` section):
``DOI`` (mean of the z-scores of the export ratio and of log(1 + markets)),
``SIZE`` (log employees), ``small`` (fewer than 50 employees), ``EXPER``
(years since the first foreign sale), ``AGE`` (firm age), ``young`` (under 10
years), ``lnew`` (log(1 + markets entered in the last 3 years)) and
``growth`` (international sales growth category, 1-5). Scale scores are
item means (at least half of the items answered), named ``<construct>_score``;
second-order scores are means of their members' scores.

Before anything is computed, every questionnaire variable is checked against
the codebook (:func:`validate_codes`): a value that is not a declared code of
the item's scale (a 9 or a 99 on a 1-7 item, text in a Likert column), or a
profile answer outside its declared range, is set to missing and logged in
``Scored.cells`` (``row, respondent, variable, original, new, reason``), so
reverse keying can never turn an impossible answer into a possible one.

Firm age and export experience need the year the survey was answered
(:func:`find_survey_year`): passed by the caller, or the latest year of the
submission dates in the data, or - when the data carry no dates - the upper
bound the instrument declares for its year questions (the year it was
designed to be fielded). ``Scored.survey_year_source`` says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from instrument import Instrument
from instrument.model import MISSING_CODE
from smecore.errors import DataError

SMALL_FIRM = 50  # employees (EU definition of a small enterprise)
YOUNG_FIRM = 10  # years


CELL_COLUMNS = ("row", "respondent", "variable", "original", "new", "reason")
# columns platforms and our exports use for the submission time (first match wins)
DATE_COLUMNS = ("submitted", "submission_date", "submitdate", "EndDate", "endtime", "end",
                "_submission_time", "RecordedDate", "datestamp")


@dataclass(frozen=True)
class Scored:
    """Scored responses: ``data`` (see the module docstring), the constructs and
    modules present, the survey year used for ages (and where it came from) and
    the log of cells set to missing (:data:`CELL_COLUMNS`)."""

    data: pd.DataFrame
    constructs: dict[str, list[str]]
    second_order: dict[str, list[str]]
    modules: tuple[str, ...]
    survey_year: int
    survey_year_source: str = ""
    cells: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CELL_COLUMNS)))


def score_name(construct: str) -> str:
    return f"{construct}_score"


def _z(x: pd.Series) -> pd.Series:
    return (x - x.mean()) / x.std()


def _allowed(v, instrument: Instrument) -> tuple[set[float] | None, float | None, float | None, str]:
    """Declared codes (or range) of a variable and a phrase describing them."""
    if v.scale:
        values = [p.value for p in instrument.scales[v.scale].points]
        return {float(x) for x in values}, None, None, f"scale '{v.scale}' ({min(values)}-{max(values)})"
    lo = 0 if v.type == "percent" else v.min
    hi = 100 if v.type == "percent" else v.max
    return None, lo, hi, f"range {lo if lo is not None else '-inf'}-{hi if hi is not None else 'inf'}"


def validate_codes(data: pd.DataFrame, instrument: Instrument) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Set every answer that the codebook does not allow to missing, and log it.

    Checks each questionnaire variable present in ``data`` (Likert, matrix and
    attention items against the codes of their scale; select-one profile
    questions against their choices; numbers and years against their declared
    range; text questions are left alone). The codebook's missing code (-99)
    becomes missing too. Returns ``(cleaned copy, log)``, the log with
    :data:`CELL_COLUMNS` - ``row`` is the row label of ``data``, ``respondent``
    its ``respondent_id`` when there is one. ``data`` is not modified.
    """
    out = data.copy()
    rows = []
    ids = data["respondent_id"] if "respondent_id" in data.columns else pd.Series([""] * len(data), index=data.index)
    for v in instrument.variables(paradata=False):
        if v.name not in data.columns or v.type == "text":
            continue
        raw = data[v.name]
        if pd.api.types.is_numeric_dtype(raw):  # the common case: no text to look at
            num = raw.astype(float)  # nullable Int64 -> float with NaN
            blank = raw.isna()
        else:
            num = pd.to_numeric(raw, errors="coerce").astype(float)
            blank = raw.isna() | raw.astype(str).str.strip().eq("")
        codes, lo, hi, what = _allowed(v, instrument)
        text = num.isna() & ~blank
        missing_code = num == MISSING_CODE
        if codes is not None:
            bad = num.notna() & ~missing_code & ~num.isin(codes)
        else:
            bad = num.notna() & ~missing_code & (((num < lo) if lo is not None else False)
                                                 | ((num > hi) if hi is not None else False))
        for mask, reason in ((text, "not a number"), (missing_code, f"missing code {MISSING_CODE}"),
                             (bad, f"not a code of {what}")):
            for i in np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False)):
                rows.append({"row": data.index[i], "respondent": ids.iloc[i], "variable": v.name,
                             "original": raw.iloc[i], "new": "", "reason": reason})
        changed = text | missing_code | bad
        if changed.any() or not pd.api.types.is_numeric_dtype(raw):
            out[v.name] = num.where(~changed)
    return out, pd.DataFrame(rows, columns=list(CELL_COLUMNS))


def find_survey_year(data: pd.DataFrame, instrument: Instrument, year: int | None = None) -> tuple[int, str]:
    """The year the survey was answered and where it came from.

    ``year`` when given; else the latest year of the first submission-date
    column present (:data:`DATE_COLUMNS`); else the largest upper bound the
    instrument declares for a year question (the year it is fielded in).
    """
    if year is not None:
        return int(year), "given"
    for col in DATE_COLUMNS:
        if col in data.columns:
            dates = pd.to_datetime(data[col], errors="coerce", utc=True, format="mixed")
            if dates.notna().any():
                return int(dates.max().year), f"latest submission date in column '{col}'"
    bounds = [v.max for v in instrument.variables(paradata=False) if v.type == "year" and v.max is not None]
    if bounds:
        return int(max(bounds)), "the instrument's upper bound for year questions (no submission dates in the data)"
    raise DataError("the survey year is needed for firm age and experience: pass survey_year")


def score(data: pd.DataFrame, instrument: Instrument, survey_year: int | None = None) -> Scored:
    """Validate codes, reverse-score, derive indices and compute scale scores (see the module docstring).

    ``survey_year``: the year the survey was answered (see :func:`find_survey_year`).
    """
    year, year_source = find_survey_year(data, instrument, survey_year)
    d, cells = validate_codes(data, instrument)
    modules = []
    for mid in instrument.module_ids:
        items = [it.id for c in instrument.constructs_in(mid) for it in c.items]
        items += [i for m in instrument.matrices_in(mid) for i in instrument.items_of(m.id)]
        if mid == "M0" or (items and all(i in d.columns for i in items)):
            modules.append(mid)
    constructs: dict[str, list[str]] = {}
    for mid in modules:
        for c in instrument.constructs_in(mid) + ([instrument.marker] if mid == "M0" and instrument.marker else []):
            if all(it.id in d.columns for it in c.items):
                constructs[c.id] = [it.id for it in c.items]
    numeric = {c: pd.to_numeric(d[c], errors="coerce").astype(float) for its in constructs.values() for c in its}
    for c in instrument.constructs.values():
        for it in c.items:
            if it.reverse and it.id in numeric:
                values = [p.value for p in instrument.scales[c.scale].points]
                numeric[it.id] = min(values) + max(values) - numeric[it.id]
    d = d.assign(**numeric)
    derived = {}
    if {"firm_export_ratio", "firm_markets"} <= set(d.columns):
        derived["DOI"] = (_z(pd.to_numeric(d["firm_export_ratio"], errors="coerce"))
                          + _z(np.log1p(pd.to_numeric(d["firm_markets"], errors="coerce")))) / 2
    if "firm_employees" in d.columns:
        emp = pd.to_numeric(d["firm_employees"], errors="coerce")
        derived["SIZE"] = np.log(emp.clip(lower=1))
        derived["small"] = (emp < SMALL_FIRM).astype(float).where(emp.notna())
    if "firm_first_foreign_sale" in d.columns:
        derived["EXPER"] = year - pd.to_numeric(d["firm_first_foreign_sale"], errors="coerce")
    if "firm_founded" in d.columns:
        age = year - pd.to_numeric(d["firm_founded"], errors="coerce")
        derived["AGE"] = age
        derived["young"] = (age < YOUNG_FIRM).astype(float).where(age.notna())
    if "firm_new_markets_3y" in d.columns:
        derived["lnew"] = np.log1p(pd.to_numeric(d["firm_new_markets_3y"], errors="coerce"))
    if "firm_intl_growth" in d.columns:
        derived["growth"] = pd.to_numeric(d["firm_intl_growth"], errors="coerce")
    scores = {}
    for c, items in constructs.items():
        block = d[items].apply(pd.to_numeric, errors="coerce").astype(float)
        enough = block.notna().sum(axis=1) >= len(items) / 2
        scores[score_name(c)] = block.mean(axis=1).where(enough)
    second = {so: members for so, members in instrument.second_order().items() if all(m in constructs for m in members)}
    for so, members in second.items():
        scores[score_name(so)] = pd.DataFrame({m: scores[score_name(m)] for m in members}).mean(axis=1)
    d = pd.concat([d, pd.DataFrame({**derived, **scores}, index=d.index)], axis=1)
    return Scored(d, constructs, second, tuple(modules), year, year_source, cells)

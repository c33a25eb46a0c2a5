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

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from instrument import Instrument
from instrument.model import MISSING_CODE, MISSING_MARKERS
from smecore.errors import DataError, OptionError

_MARKERS = frozenset(m.casefold() for m in MISSING_MARKERS)
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


def _as_written(x):
    """A logged value as the file had it: ``-99`` rather than pandas' ``-99.0`` in a column with gaps."""
    return int(x) if isinstance(x, float) and np.isfinite(x) and x.is_integer() else x


#: pandas 3 copies on write: a shallow copy whose columns are then replaced never changes the frame it
#: came from, and saves copying every column (~5 ms per 1,500-row survey); pandas 2 gets a deep copy
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3


def _working_copy(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` to replace columns of without changing ``frame``."""
    return frame.copy(deep=not _COPY_ON_WRITE)


def validate_codes(data: pd.DataFrame, instrument: Instrument) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Set every answer that the codebook does not allow to missing, and log it.

    Checks each questionnaire variable present in ``data`` (Likert, matrix and
    attention items against the codes of their scale; select-one profile
    questions against their choices; numbers and years against their declared
    range and as whole numbers; text questions are left alone) and the numeric
    paradata (``duration_sec``: a number of seconds, at least 0). The
    codebook's missing code (-99), missing markers (``N/A``, ``NA``, ``-`` ...:
    :data:`instrument.model.MISSING_MARKERS`), text in a numeric variable (``"seven"``),
    a cell of only spaces, infinite values and codes the variable does not
    declare become missing, each with its reason. Returns ``(cleaned copy,
    log)``, the log with :data:`CELL_COLUMNS` - ``row`` is the row label of
    ``data`` (:func:`analysis.ingest.read_responses` labels rows by their
    1-based data row in the file), ``respondent`` its ``respondent_id`` when
    there is one. ``data`` is not modified.
    """
    out = _working_copy(data)
    rows = []
    ids = data["respondent_id"] if "respondent_id" in data.columns else pd.Series([""] * len(data), index=data.index)
    checked = [v for v in instrument.variables(paradata=True) if v.name in data.columns and v.type != "text"]
    dtypes = data.dtypes
    numeric = [v.name for v in checked
               if pd.api.types.is_numeric_dtype(dtypes[v.name]) and not pd.api.types.is_bool_dtype(dtypes[v.name])]
    # the common case, on one float array: numeric columns have no text to look at (the same checks as
    # below, much faster; one conversion instead of one per column)
    block = data[numeric].to_numpy(dtype=float, na_value=np.nan) if numeric else np.empty((len(data), 0))
    position = {name: j for j, name in enumerate(numeric)}
    for v in checked:
        if v.name in position:
            num = block[:, position[v.name]]
            changed = _check_numeric(num, data, v, instrument, ids, rows)
            if changed is not None:
                out[v.name] = pd.Series(np.where(changed, np.nan, num), index=data.index)
            continue
        raw = data[v.name]
        if pd.api.types.is_numeric_dtype(raw):
            num = raw.astype(float)  # nullable Int64 -> float with NaN
            blank = raw.isna()
            spaces = pd.Series(False, index=raw.index)
        else:
            num = pd.to_numeric(raw, errors="coerce").astype(float)
            stripped = raw.astype(str).str.strip()
            spaces = raw.notna() & stripped.eq("")
            blank = raw.isna() | spaces
        codes, lo, hi, what = _allowed(v, instrument)
        text = num.isna() & ~blank
        marker = text & raw.astype(str).str.strip().str.casefold().isin(_MARKERS) if text.any() else text
        text &= ~marker
        missing_code = num == MISSING_CODE
        infinite = num.notna() & ~np.isfinite(num)
        valid = num.notna() & ~missing_code & ~infinite
        if codes is not None:
            bad = valid & ~num.isin(codes)
        else:
            bad = valid & (((num < lo) if lo is not None else False) | ((num > hi) if hi is not None else False))
            if v.type in ("integer", "year"):
                bad |= valid & ~bad & (num != np.round(num))
                what += ", whole numbers"
        for mask, reason in ((text, "not a number"), (marker, "missing marker"), (spaces, "blank text (only spaces)"),
                             (missing_code, f"missing code {MISSING_CODE}"), (infinite, "not a finite number"),
                             (bad, f"not a code of {what}")):
            for i in np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False)):
                rows.append({"row": data.index[i], "respondent": ids.iloc[i], "variable": v.name,
                             "original": _as_written(raw.iloc[i]), "new": "", "reason": reason})
        changed = text | marker | missing_code | infinite | bad
        if changed.any() or not pd.api.types.is_numeric_dtype(raw):
            out[v.name] = num.where(~changed)
    return out, pd.DataFrame(rows, columns=list(CELL_COLUMNS))


def _check_numeric(num: np.ndarray, data: pd.DataFrame, v, instrument: Instrument, ids,
                   rows: list) -> np.ndarray | None:
    """:func:`validate_codes` for a numeric column (``num``: column ``v.name`` of ``data`` as floats): log its
    missing codes, infinite values and undeclared codes into ``rows``; return the mask of cells to set
    missing, or None when there is none."""
    codes, lo, hi, what = _allowed(v, instrument)
    observed = ~np.isnan(num)
    missing_code = num == MISSING_CODE
    infinite = np.isinf(num)
    valid = observed & ~missing_code & ~infinite
    if codes is not None:
        bad = valid & ~np.isin(num, np.fromiter(codes, dtype=float))
    else:
        with np.errstate(invalid="ignore"):
            bad = valid & (((num < lo) if lo is not None else False) | ((num > hi) if hi is not None else False))
            if v.type in ("integer", "year"):
                bad |= valid & ~bad & (num != np.round(num))
                what += ", whole numbers"
    changed = missing_code | infinite | bad
    if not changed.any():
        return None
    raw = data[v.name]
    for mask, reason in ((missing_code, f"missing code {MISSING_CODE}"), (infinite, "not a finite number"),
                         (bad, f"not a code of {what}")):
        for i in np.flatnonzero(mask):
            rows.append({"row": data.index[i], "respondent": ids.iloc[i], "variable": v.name,
                         "original": _as_written(raw.iloc[i]), "new": "", "reason": reason})
    return changed


def _close_name(name: str, candidates: list[str]) -> str | None:
    """A column of the data that looks like ``name`` renamed (case, ``_`` or a typo); ``None`` when none does."""
    folded = {c.casefold().replace("_", "").replace(" ", ""): c for c in candidates}
    key = name.casefold().replace("_", "")
    if key in folded:
        return folded[key]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.85)
    return close[0] if close else None


def check_layout(columns: Sequence[str], instrument: Instrument, source: str = "data",
                 known: Sequence[str] | None = None) -> None:
    """Refuse a table whose columns hold some but not all items of a construct, or of a module.

    Such a table would be analysed without the construct (or the module's hypotheses would be skipped as
    "not in the data") while most of its answers are there: :class:`DataError` names the missing columns
    and, where a column of the table that the codebook does not know looks like one renamed (``INN_2``,
    ``inn2``), suggests it. A module with none of its items is simply not analysed. ``known``: every
    codebook variable (default: those of ``instrument``; pass the full instrument's when ``instrument`` is a
    selection of modules, so that other modules' items are not suggested).
    """
    columns = [str(c) for c in columns]
    have = set(columns)
    known = set(known) if known is not None else {v.name for v in instrument.variables()}
    unknown = [c for c in columns if c not in known]

    def missing_text(absent: list[str]) -> str:
        hints = {a: _close_name(a, unknown) for a in absent}
        shown = [f"'{a}'" + (f" (did you mean '{hints[a]}'?)" if hints[a] else "") for a in absent[:8]]
        more = f" and {len(absent) - 8} more" if len(absent) > 8 else ""
        return ", ".join(shown) + more

    for cid, present, absent in instrument.partial_constructs(columns):
        if absent:
            raise DataError(f"{source}: construct {cid} is only partly in the data: column(s) {missing_text(absent)} "
                            f"missing (found {', '.join(present)}); rename or add the missing column(s) (empty "
                            f"where not asked), or remove all of {cid}'s columns")
    for mid in instrument.module_ids:
        if mid == "M0":
            continue
        groups = {c.id: [it.id for it in c.items] for c in instrument.constructs_in(mid)}
        groups.update({m.id: list(instrument.items_of(m.id)) for m in instrument.matrices_in(mid)})
        present = [g for g, its in groups.items() if any(i in have for i in its)]
        if present and len(present) < len(groups):
            absent = [g for g in groups if g not in present]
            cols = [i for g in absent for i in groups[g]]
            raise DataError(f"{source}: module {mid} is only partly in the data: no column of {', '.join(absent)} "
                            f"({missing_text(cols)}); a module is analysed with all of its constructs - add or "
                            "rename the columns, or analyse the other modules with --modules")


def check_items_usable(scored: Scored, source: str = "data") -> None:
    """Refuse construct items that carry no information in the rows kept after screening: no answer at all,
    or the same answer in every row. A CFA or reliability coefficient cannot use them; the message names
    the column and says what to do. Also refuses an analysis in which screening kept no row."""
    if len(scored.data) == 0:
        raise DataError(f"{source}: no row is left after screening (every row was excluded: see the exclusion "
                        "rules in the README); check the attention-check and duration columns")
    every = list(dict.fromkeys(i for items in scored.constructs.values() for i in items))
    if every:  # the usual case, every item usable, checked on one block (no message to write)
        block = as_floats(scored.data[every]).to_numpy()
        # NaN-blind smallest and largest answers (an unanswered item: inf > -inf, refused below)
        varies = np.fmin.reduce(block, axis=0, initial=np.inf) < np.fmax.reduce(block, axis=0, initial=-np.inf)
        if varies.all():
            return
    for cid, items in scored.constructs.items():
        for item in items:
            col = pd.to_numeric(scored.data[item], errors="coerce")
            seen = col.dropna()
            if seen.empty:
                raise DataError(f"{source}: column '{item}' (construct {cid}) has no answer in the "
                                f"{len(col)} rows kept after screening; check the export, or leave the module "
                                "out with --modules")
            if seen.nunique() == 1:
                raise DataError(f"{source}: column '{item}' (construct {cid}) has the same answer "
                                f"({seen.iloc[0]:g}) in all {len(seen)} rows that answered it; a constant item "
                                "carries no information - check the export, or leave the module out with --modules")


def find_survey_year(data: pd.DataFrame, instrument: Instrument, year: int | None = None) -> tuple[int, str]:
    """The year the survey was answered and where it came from.

    ``year`` when given; else the latest year of the first submission-date
    column present (:data:`DATE_COLUMNS`); else the largest upper bound the
    instrument declares for a year question (the year it is fielded in).
    """
    if year is not None:
        for v in instrument.variables(paradata=False):
            if v.type == "year" and v.name in data.columns:
                years = pd.to_numeric(data[v.name], errors="coerce")
                late = years[(years > int(year)) & (years <= (v.max or np.inf))]
                if len(late):
                    raise OptionError(f"--survey-year {year} is before {v.name} = {late.iloc[0]:g} (row "
                                      f"{late.index[0]}); give the year the survey was answered")
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


def as_floats(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame.apply(pd.to_numeric, errors="coerce").astype(float)`` (text that is not a number becomes
    NaN), in one step when every column is already numeric (the usual case after :func:`validate_codes`)."""
    if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in frame.dtypes):
        return pd.DataFrame(frame.to_numpy(dtype=float, na_value=np.nan), index=frame.index, columns=frame.columns)
    return frame.apply(pd.to_numeric, errors="coerce").astype(float)


def score(data: pd.DataFrame, instrument: Instrument, survey_year: int | None = None, *,
          codes_checked: bool = False) -> Scored:
    """Validate codes, reverse-score, derive indices and compute scale scores (see the module docstring).

    ``survey_year``: the year the survey was answered (see :func:`find_survey_year`). ``codes_checked``:
    ``data`` is already :func:`validate_codes`' output (whose checks find nothing more in it), so it
    is not validated again and ``Scored.cells`` is empty (the caller has the log).
    """
    year, year_source = find_survey_year(data, instrument, survey_year)
    d, cells = (_working_copy(data), pd.DataFrame(columns=list(CELL_COLUMNS))) if codes_checked else \
        validate_codes(data, instrument)
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
    items = [c for its in constructs.values() for c in its]
    reversed_items = instrument.reverse_scored(as_floats(d[items]))
    # d[items] = reversed_items, as one block beside the other columns in their places (setting the items
    # column by column split the frame's blocks once per item: ~15 ms per sample of a power study)
    d = pd.concat([d.drop(columns=items), reversed_items], axis=1)[list(d.columns)]
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
    # scale means on one float array (pandas' mean(axis=1) per construct, the same sums: missing cells
    # count 0 and are not counted; a column subset per construct costs ~0.5 ms each on extension blocks)
    values = reversed_items.to_numpy(dtype=float)
    position = {name: i for i, name in enumerate(reversed_items.columns)}
    scores = {}
    for c, items in constructs.items():
        block = values[:, [position[i] for i in items]]
        answered = ~np.isnan(block)
        count = answered.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(answered, block, 0.0).sum(axis=1) / count
        scores[score_name(c)] = pd.Series(np.where(count >= len(items) / 2, mean, np.nan), index=d.index)
    second = {so: members for so, members in instrument.second_order().items() if all(m in constructs for m in members)}
    for so, members in second.items():
        scores[score_name(so)] = pd.DataFrame({m: scores[score_name(m)] for m in members}).mean(axis=1)
    d = pd.concat([d, pd.DataFrame({**derived, **scores}, index=d.index)], axis=1)
    return Scored(d, constructs, second, tuple(modules), year, year_source, cells)

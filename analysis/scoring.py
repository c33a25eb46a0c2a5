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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from instrument import Instrument

SMALL_FIRM = 50  # employees (EU definition of a small enterprise)
YOUNG_FIRM = 10  # years


@dataclass(frozen=True)
class Scored:
    data: pd.DataFrame
    constructs: dict[str, list[str]]
    second_order: dict[str, list[str]]
    modules: tuple[str, ...]
    survey_year: int


def score_name(construct: str) -> str:
    return f"{construct}_score"


def _z(x: pd.Series) -> pd.Series:
    return (x - x.mean()) / x.std()


def score(data: pd.DataFrame, instrument: Instrument, survey_year: int = 2026) -> Scored:
    """Reverse-score, derive indices and compute scale scores (see the module docstring)."""
    d = data.copy()
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
        derived["EXPER"] = survey_year - pd.to_numeric(d["firm_first_foreign_sale"], errors="coerce")
    if "firm_founded" in d.columns:
        age = survey_year - pd.to_numeric(d["firm_founded"], errors="coerce")
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
    return Scored(d, constructs, second, tuple(modules), survey_year)

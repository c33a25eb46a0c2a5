"""SPSS ``.sav`` and Stata ``.dta`` files of the instrument's variables: the metadata both need, in one place.

Used by the codebook's empty templates (:mod:`instrument.export.codebook`) and by the generator's data
files (:mod:`synthetic_data.writers`), so a template and a data file of the same instrument agree.

* Measurement level (SPSS): Likert items, attention checks and ordered categories ``ordinal``; unordered
  categories (sector, country, role, yes / no) ``nominal`` - both from the scale's ``level`` in
  ``scales.yaml``; counts, years and percentages ``scale``; text and the respondent id ``nominal``.
* Formats: codes and counts are integers (``F<w>.0`` in SPSS, ``%<w>.0f`` in Stata) wide enough for
  every value and the missing code; text ``A<n>`` / ``%<n>s``.
* Missing answers: SPSS keeps the code ``-99`` ("No answer"), declared user-missing, in every numeric
  question that was asked and not answered; a question a respondent was not asked (its condition does
  not hold, e.g. the cluster module for a firm outside any cluster) is system-missing. Stata has no
  user-missing values: the same cells are Stata's extended missing value ``.a``, labelled "No answer"
  (not asked: ``.``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from instrument.model import MISSING_CODE, MISSING_LABEL, Instrument, Variable

#: Stata's extended missing value standing for "no answer" (the SPSS user-missing code's counterpart).
STATA_NO_ANSWER = "a"
_COUNT_TYPES = ("integer", "year", "percent")


def measure(instrument: Instrument, v: Variable) -> str:
    """SPSS measurement level of ``v``: ``ordinal``, ``nominal`` or ``scale``."""
    if v.scale:
        return instrument.scales[v.scale].level
    if v.type in _COUNT_TYPES:
        return "scale"
    return "nominal"


def _digits(instrument: Instrument, v: Variable) -> int:
    """Characters the widest value of ``v`` (or the missing code) needs."""
    values = [MISSING_CODE]
    if v.scale:
        values += [p.value for p in instrument.scales[v.scale].points]
    values += [x for x in (v.min, v.max) if x is not None]
    width = max(len(str(int(x))) for x in values)
    return width if v.scale or v.max is not None else max(width, 8)


@dataclass(frozen=True)
class StatMeta:
    """What ``pyreadstat.write_sav`` / ``write_dta`` take, for a list of variables."""

    labels: dict[str, str]
    value_labels: dict[str, dict]
    missing_ranges: dict[str, list]  # SPSS user-missing
    measure: dict[str, str]  # SPSS measurement level
    formats: dict[str, str]
    numeric: tuple[str, ...]  # variables written as numbers


def spss_meta(instrument: Instrument, variables: Sequence[Variable], lang: str = "en",
              text_widths: dict[str, int] | None = None) -> StatMeta:
    """SPSS metadata: labels (256 characters at most), value labels with ``-99`` "No answer", ``-99``
    user-missing in every numeric question (not in the paradata), levels and integer formats."""
    labels, value_labels, missing, levels, formats, numeric = {}, {}, {}, {}, {}, []
    for v in variables:
        labels[v.name] = v.label(lang)[:256]
        levels[v.name] = measure(instrument, v)
        if v.type == "text":
            formats[v.name] = f"A{max(1, (text_widths or {}).get(v.name, 255))}"
            continue
        numeric.append(v.name)
        formats[v.name] = f"F{_digits(instrument, v)}.0"
        if v.kind == "paradata":
            continue
        vl = {float(k): lab for k, lab in instrument.value_labels(v, lang).items()}
        vl[float(MISSING_CODE)] = MISSING_LABEL
        value_labels[v.name] = vl
        missing[v.name] = [MISSING_CODE]
    return StatMeta(labels, value_labels, missing, levels, formats, tuple(numeric))


def stata_meta(instrument: Instrument, variables: Sequence[Variable], lang: str = "en",
               text_widths: dict[str, int] | None = None) -> StatMeta:
    """Stata metadata: labels (80 characters, Stata's limit), value labels of the answer codes, integer
    display formats; "no answer" is the extended missing value ``.a`` (:data:`STATA_NO_ANSWER`)."""
    labels, value_labels, missing, formats, numeric = {}, {}, {}, {}, []
    for v in variables:
        labels[v.name] = v.label(lang)[:80]
        if v.type == "text":
            formats[v.name] = f"%{max(1, (text_widths or {}).get(v.name, 244))}s"
            continue
        numeric.append(v.name)
        formats[v.name] = f"%{max(_digits(instrument, v), 2) + 1}.0f"
        if v.kind == "paradata":
            continue
        vl: dict = {int(k): lab for k, lab in instrument.value_labels(v, lang).items()}
        vl[STATA_NO_ANSWER] = MISSING_LABEL
        value_labels[v.name] = vl
        missing[v.name] = [STATA_NO_ANSWER]
    return StatMeta(labels, value_labels, missing, {}, formats, tuple(numeric))


def stata_labels_for(meta: StatMeta, frame: pd.DataFrame) -> dict[str, dict]:
    """``meta.value_labels`` fit for ``frame``: Stata (pyreadstat) labels ``.a`` only in a column that holds
    it, so the "No answer" label is dropped where no cell is ``.a`` (an empty template, a full column)."""
    out = {}
    for name, labels in meta.value_labels.items():
        has_a = name in frame.columns and frame[name].astype(object).eq(STATA_NO_ANSWER).any()
        kept = labels if has_a else {k: lab for k, lab in labels.items() if k != STATA_NO_ANSWER}
        if kept:
            out[name] = kept
    return out


def asked(data: pd.DataFrame, v: Variable) -> np.ndarray:
    """Rows in which ``v`` was asked: its condition (``relevant``) holds, or it has none. A condition on
    a question not in ``data`` counts as holding (nothing says it was skipped)."""
    mask = np.ones(len(data), dtype=bool)
    for var, value in (v.relevant or {}).items():
        if var in data.columns:
            mask &= pd.to_numeric(data[var], errors="coerce").to_numpy() == value
    return mask


def no_answer_cells(data: pd.DataFrame, v: Variable) -> np.ndarray:
    """Cells of ``v`` that are missing although the question was asked (the "no answer" cells)."""
    return data[v.name].isna().to_numpy() & asked(data, v)

"""Cells a spreadsheet would run as formulas, neutralised in every CSV and XLSX the package writes.

OWASP's CSV-injection rule: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is prefixed with ``'`` so that Excel, LibreOffice and Google Sheets show it as text (respondent ids
such as ``=HYPERLINK(...)``, item text starting with ``+``). Numbers are left alone: ``-1.5`` and ``+3``
written as numbers, or as text that parses as a number, are not formulas, nor are bare operator
tokens such as lavaan's ``=~`` (the ``op`` column of parameter tables) or a lone ``-``. In XLSX files the cell is
stored as a string instead (:func:`xlsx_cells`), which no spreadsheet evaluates, so its text is unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

_START = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
#: Operator tokens with nothing to evaluate (lavaan's ``=~`` in parameter tables, a lone ``-``): left as written.
_OPERATOR = re.compile(r"^[=+\-@~<>:]{1,3}$")


def is_formula(text: object) -> bool:
    """``True`` when ``text`` is a string a spreadsheet would evaluate (see the module docstring)."""
    return (isinstance(text, str) and bool(_START.match(text)) and not _NUMBER.match(text.strip())
            and not _OPERATOR.match(text))


def escape(text: object) -> object:
    """``text`` with a leading ``'`` when :func:`is_formula`; anything else unchanged."""
    return "'" + text if is_formula(text) else text


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) that :func:`is_formula` are escaped;
    numeric columns are not looked at. ``frame`` itself is returned when nothing needs escaping."""
    changed = {}
    for c in frame.columns:
        col = frame[c]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        codes, uniques = pd.factorize(col)  # each distinct value checked once
        hit = np.array([is_formula(u) for u in uniques], dtype=bool)
        if hit.any():
            fixed = np.array([escape(u) for u in uniques], dtype=object)
            values = col.to_numpy(dtype=object).copy()
            mask = codes >= 0
            values[mask] = fixed[codes[mask]]
            changed[c] = values
    names = [escape(c) for c in frame.columns]
    if not changed and names == list(frame.columns):
        return frame
    out = frame.copy()
    for c, values in changed.items():
        out[c] = values
    out.columns = names
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, **options) -> Path:
    """``frame.to_csv(path, index=False, lineterminator="\\n", **options)`` after :func:`safe_frame`."""
    path = Path(path)
    safe_frame(frame).to_csv(path, **{"index": False, "lineterminator": "\n", **options})
    return path


def xlsx_cells(worksheet, values: Iterable) -> list:
    """``values`` for ``worksheet.append``: text starting with ``=`` as a string cell (openpyxl would
    otherwise store it as a formula); everything else as given."""
    values = list(values)
    if not any(isinstance(v, str) and v.startswith("=") for v in values):
        return values
    from openpyxl.cell import WriteOnlyCell

    out = []
    for v in values:
        if isinstance(v, str) and v.startswith("="):
            cell = WriteOnlyCell(worksheet, value=v)
            cell.data_type = "s"
            out.append(cell)
        else:
            out.append(v)
    return out

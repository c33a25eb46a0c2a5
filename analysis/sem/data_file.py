"""Read a data file for ``fit``: any CSV / TSV / XLSX / SAV / DTA, one row per case, numbers per column.

:func:`read_data_file` opens the file once with :func:`~instrument.platforms.tables.read_table` (never
writing to it: encoding by BOM then strict decoding, any of ``, ; tab |`` as delimiter, gzip / zip /
binary / empty files and folders refused with a message saying what the file looks like), takes the
first row with at least two filled cells as the header (a title row above it is skipped and named),
and turns each column whose filled cells are all numbers into floats. Decimal commas (``3,5``) are read
as numbers when the delimiter is not ``,``; the missing markers ``NA``, ``N/A``, ``#N/A``, ``.``, ``-``
and empty cells are missing. A column with any other text stays text, so a model that uses it gets
:class:`~smecore.errors.DataError` naming the column, row and value
(:func:`analysis.sem.data_prep.prepare_data`). SPSS user-missing values declared in a ``.sav`` file are
set missing and logged.

Refused with a one-line :class:`~smecore.errors.DataError`: two columns of the same name, a survey
platform's response export (its header rows and bookkeeping columns would be read as data: ingest it
first) and an empty header cell above data.

The frame's index is the data row number (1 = the first row under the header), so every message and
the exclusion log name rows as a user counts them in the file.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from instrument.model import MISSING_MARKERS
from instrument.platforms import PLATFORM_MODULES
from instrument.platforms.tables import Table, read_table
from smecore.errors import DataError

_MARKERS = frozenset(m.casefold() for m in MISSING_MARKERS)
#: Platform names as users know them, for the "ingest it first" message.
PLATFORM_NAMES = {"qualtrics": "Qualtrics", "limesurvey": "LimeSurvey", "kobo": "KoboToolbox / ODK",
                  "redcap": "REDCap"}
CELL_COLUMNS = ("row", "variable", "original", "new", "reason")


@dataclass(frozen=True)
class DataFile:
    """``frame``: the data (index = 1-based data row; numbers as float, other columns as text);
    ``cells``: every cell set missing on the way in (:data:`CELL_COLUMNS`); ``details``: how the file was
    read (kind, encoding, delimiter, sheet, header row)."""

    frame: pd.DataFrame
    cells: pd.DataFrame
    details: dict


def _platform(table: Table) -> str | None:
    for name in PLATFORM_MODULES:
        if name == "plain":
            continue
        if importlib.import_module(f"instrument.platforms.{name}").detect(table) is not None:
            return name
    return None


def _header_row(table: Table) -> int:
    for k in range(min(len(table.cells), 20)):
        if sum(bool(c.strip()) for c in table.row(k)) >= 2:
            return k
    return 0


def _check_names(names: list[str], path: Path, header: int) -> None:
    seen: dict[str, int] = {}
    for k, name in enumerate(names):
        if name in seen:
            raise DataError(f"{path}: row {header + 1}: column '{name}' appears twice (columns {seen[name] + 1} "
                            f"and {k + 1}); rename or delete one of them - the second would otherwise be ignored")
        seen[name] = k


def _number(text: str, decimal_comma: bool) -> float | None:
    num = pd.to_numeric(text, errors="coerce")
    if pd.isna(num) and decimal_comma and text.count(",") == 1 and "." not in text:
        num = pd.to_numeric(text.replace(",", "."), errors="coerce")
    return None if pd.isna(num) else float(num)


def _column(cells: pd.Series, decimal_comma: bool) -> tuple[pd.Series, np.ndarray]:
    """A column of text cells -> floats when every filled cell is a number (else text, NaN for empty);
    also a mask of the cells that held a missing marker."""
    codes, uniques = pd.factorize(cells.str.strip())
    texts = [str(u) for u in uniques]
    marker = np.array([t.casefold() in _MARKERS for t in texts] + [False])
    empty = np.array([t == "" for t in texts] + [True])
    parsed = [None if (m or e) else _number(t, decimal_comma) for t, m, e in zip(texts, marker, empty)]
    idx = np.where(codes < 0, len(texts), codes)
    filled = [p for p, m, e in zip(parsed, marker, empty) if not (m or e)]
    if all(p is not None for p in filled):
        values = np.array([np.nan if p is None else p for p in parsed] + [np.nan], dtype=float)
        return pd.Series(values[idx], index=cells.index), marker[idx]
    values = np.array([np.nan if (m or e) else t for t, m, e in zip(texts, marker, empty)] + [np.nan],
                      dtype=object)
    return pd.Series(values[idx], index=cells.index, dtype=object), marker[idx]


def _from_cells(table: Table, path: Path) -> tuple[pd.DataFrame, list[tuple], dict]:
    header = _header_row(table)
    names = [c.strip() for c in table.row(header)]
    body = table.cells.iloc[header + 1:]
    keep = [k for k, n in enumerate(names) if n or (body.iloc[:, k].str.strip() != "").any()]
    for k in keep:
        if not names[k]:
            raise DataError(f"{path}: row {header + 1}: column {k + 1} has data but no name in the header; "
                            "give it a name or delete it")
    names = [names[k] for k in keep]
    _check_names(names, path, header)
    decimal_comma = (table.delimiter or ",") != ","
    out, log = {}, []
    rows = np.arange(1, len(body) + 1)
    for k, name in zip(keep, names):
        col = body.iloc[:, k].reset_index(drop=True)
        col.index = rows
        values, marker = _column(col, decimal_comma)
        out[name] = values
        for i in np.flatnonzero(marker):
            log.append((int(rows[i]), name, col.iloc[i].strip(), "", "missing marker"))
    frame = pd.DataFrame(out, index=pd.Index(rows, name="row"))
    details = {"kind": table.kind, "encoding": table.encoding, "delimiter": table.delimiter, "sheet": table.sheet,
               "header_row": header + 1}
    if header:
        details["skipped_rows_above_header"] = header
    return frame, log, details


def _from_frame(table: Table) -> tuple[pd.DataFrame, list[tuple], dict]:
    frame = table.frame.copy()
    frame.index = pd.Index(np.arange(1, len(frame) + 1), name="row")
    log = []
    for name, ranges in table.missing_ranges.items():
        if name not in frame.columns or not pd.api.types.is_numeric_dtype(frame[name]):
            continue
        col = frame[name].to_numpy(dtype=float)
        hit = np.zeros(len(col), dtype=bool)
        for r in ranges:
            lo, hi = r.get("lo"), r.get("hi")
            if isinstance(lo, int | float) and isinstance(hi, int | float):
                hit |= (col >= lo) & (col <= hi)
        for i in np.flatnonzero(hit):
            log.append((i + 1, name, f"{col[i]:g}", "", "declared missing code (SPSS user-missing)"))
        frame.loc[hit, name] = np.nan
    return frame, log, {"kind": table.kind, "encoding": table.encoding}


def read_data_file(path: str | Path, variables: Sequence[str] = ()) -> DataFile:
    """Read ``path`` (never modified) as described in the module docstring; raises
    :class:`~smecore.errors.DataError` naming the file (and row / column) when it cannot be used.
    ``variables`` (a model's observed variables): an XLSX workbook's first sheet whose first rows name at
    least two of them is read (a cover or notes sheet before the data is skipped; ``details["sheet"]``)."""
    path = Path(path)
    wanted = set(variables)
    prefer = (lambda head: len(wanted.intersection(h.strip() for h in head)) >= min(2, len(wanted))) if wanted \
        else None
    table = read_table(path, prefer_sheet=prefer)
    if table.cells is not None and len(table.cells) == 0:
        raise DataError(f"{path}: the file is empty")
    platform = _platform(table)
    if platform is not None:
        raise DataError(f"{path}: is a {PLATFORM_NAMES[platform]} response export (header rows and bookkeeping "
                        f"columns, not one row per case); run `smesurvey ingest {path} --out DIR` and fit "
                        "DIR/responses.csv")
    frame, log, details = _from_frame(table) if table.cells is None else _from_cells(table, path)
    if frame.shape[1] == 0:
        raise DataError(f"{path}: no columns; the first row must name the variables")
    if len(frame) == 0:
        raise DataError(f"{path}: has a header row but no data rows")
    cells = pd.DataFrame(log, columns=list(CELL_COLUMNS))
    return DataFile(frame, cells, details)

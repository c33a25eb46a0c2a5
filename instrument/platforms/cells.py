"""Cell conversions the platform readers share (text cells -> timestamps, floats)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from smecore.errors import DataError


def timestamps(values) -> pd.Series:
    """Cells to pandas Timestamps; empty or unparseable cells become NaT."""
    s = pd.Series(list(values), dtype=object).replace("", None)
    return pd.to_datetime(s, errors="coerce", format="mixed")


def floats(values) -> pd.Series:
    """Cells to float; empty or non-numeric cells become NaN."""
    return pd.to_numeric(pd.Series(list(values), dtype=object).replace("", None), errors="coerce").astype(float)


def blank_cells(column: pd.Series) -> pd.Series:
    """Per cell: missing, whitespace only, or the text ``nan``."""
    return column.isna() | column.astype(str).str.strip().isin(["", "nan"])


def empty_rows(body: pd.DataFrame, id_column: str) -> np.ndarray:
    """Per row of ``body``: every cell blank (:func:`blank_cells`), a wholly empty data line.

    A row whose ``id_column`` cell is not blank is not empty, so only the others are checked cell by
    cell (in a 200,000-row export, usually none: the check was a pass over every cell); every row
    when ``body`` has no single column of that name."""
    n = len(body)
    maybe = (np.flatnonzero(blank_cells(body[id_column]).to_numpy()) if list(body.columns).count(id_column) == 1
             else np.arange(n))
    empty = np.zeros(n, dtype=bool)
    if maybe.size:
        empty[maybe] = body.iloc[maybe].apply(blank_cells).all(axis=1).to_numpy()
    return empty


def per_value(column: pd.Series, fn) -> np.ndarray:
    """``column.map(fn)`` as an object array, ``fn`` called once per distinct value (missing included)."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    results = np.empty(len(uniques), dtype=object)
    results[:] = [fn(x) for x in uniques]
    return results[codes]


def numeric_share(frame: pd.DataFrame) -> float:
    """Share of non-empty cells of ``frame`` that parse as numbers (1.0 when there are none)."""
    # column by column, each distinct text parsed once (pandas.factorize + bincount): an export of
    # 200,000 rows holds millions of cells but a few hundred distinct values, and no copy of the whole
    # frame is made
    answered = numeric = 0
    for c in frame.columns:
        codes, uniques = pd.factorize(frame[c].astype(str))
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        uniques = np.asarray(uniques, dtype=object)
        keep = (uniques != "") & (uniques != "nan")
        parsed = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").notna().to_numpy()
        answered += int(counts[keep].sum())
        numeric += int(counts[keep & parsed].sum())
    return 1.0 if answered == 0 else numeric / answered


def durations(data: pd.DataFrame, meta) -> np.ndarray:
    """Durations to write: as ``data["duration_sec"]`` holds them (whole seconds stay integers in the
    file), else ``meta.duration_sec`` (a :class:`~instrument.platforms.base.ResponseMeta`)."""
    if "duration_sec" in data.columns:
        return data["duration_sec"].to_numpy()
    return np.asarray(meta.duration_sec, dtype=float)


def check_unique(mapping: dict[int, str], names: list[str], path) -> None:
    """:class:`~smecore.errors.DataError` when two columns of ``path`` map to the same variable
    (keeping either would silently drop the other's answers)."""
    seen: dict[str, int] = {}
    for k, var in mapping.items():
        if var in seen:
            raise DataError(f"{path}: columns {seen[var] + 1} '{names[seen[var]]}' and {k + 1} '{names[k]}' "
                            f"both hold variable '{var}'; delete or rename one of them and ingest again")
        seen[var] = k

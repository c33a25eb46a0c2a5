"""Read a responses file (never modified) into a data frame with the codebook's columns.

CSV, Excel (``.xlsx``) and SPSS (``.sav``) files laid out as the codebook (one
column per variable). Values are read as they are (only empty cells are missing): the codebook's
missing code (-99), missing markers such as ``N/A``, text in an item and
out-of-range codes are set missing and logged by
:func:`analysis.psychometrics.scoring.validate_codes`, which every analysis runs
first. The frame's index is the data row number in the file (1 = the first row
under the header), so the exclusion and cell logs name rows as a user counts
them. Two columns of the same name are refused (pandas would silently rename the
second). A CSV that a survey platform exported (recognised by the platform
modules' ``detect``, :func:`analysis.ingest.detect.detect_table`) is refused with
a hint: :func:`analysis.ingest.pipeline.ingest` (``smesurvey ingest``) reads those.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pyreadstat

from smecore.errors import DataError


def _refuse_platform_export(path: Path) -> None:
    from analysis.ingest.detect import detect_table
    from instrument import load_instrument
    from instrument.platforms.tables import read_table

    try:
        found = detect_table(read_table(path), load_instrument())
    except DataError:
        return  # unreadable as a platform export too: pandas below names the problem
    if found is not None and found[0] != "plain":
        raise DataError(f"{path}: is a {found[0]} response export ({found[1]}), not the codebook layout; run "
                        f"`smesurvey ingest {path} --out DIR` first and use DIR/responses.csv")


def _header(path: Path, suffix: str) -> list[str]:
    """The column names as written in the file (pandas de-duplicates them as ``x.1``)."""
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="", errors="replace") as fh:
            return [c.strip() for c in next(csv.reader(fh), [])]
    if suffix in (".xlsx", ".xls"):
        head = pd.read_excel(path, header=None, nrows=1)
        return [str(c).strip() for c in head.iloc[0].tolist()] if len(head) else []
    return []  # .sav: SPSS variable names are unique by construction


def _check_unique(names: list[str], path: Path) -> None:
    seen: dict[str, int] = {}
    for k, name in enumerate(names):
        if name in seen and name not in ("", "nan"):
            raise DataError(f"{path}: row 1: column '{name}' appears twice (columns {seen[name] + 1} and {k + 1}); "
                            "rename or delete one of them - the second would otherwise be ignored")
        seen.setdefault(name, k)


def read_responses(path: str | Path) -> pd.DataFrame:
    """Read ``path`` by its suffix (see the module docstring); raise :class:`DataError` naming the file
    (and the column) on failure. The index is the 1-based data row number."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such data file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            _refuse_platform_export(path)
            # only empty cells are missing here: "N/A", "NA", "-" ... stay text for validate_codes to log
            data = pd.read_csv(path, keep_default_na=False, na_values=[""])
        elif suffix in (".xlsx", ".xls"):
            data = pd.read_excel(path, keep_default_na=False, na_values=[""])
        elif suffix == ".sav":
            data, _ = pyreadstat.read_sav(str(path))
        else:
            raise DataError(f"{path}: unsupported file type '{suffix}'; use .csv, .xlsx or .sav")
        _check_unique(_header(path, suffix), path)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, pyreadstat.ReadstatError) as exc:
        raise DataError(f"{path}: cannot be read ({exc})") from exc
    if data.empty:
        raise DataError(f"{path}: the file has no rows")
    data.index = pd.RangeIndex(1, len(data) + 1, name="row")
    return data

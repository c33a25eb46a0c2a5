"""Read a responses file (never modified) into a data frame with the codebook's columns.

CSV, Excel (``.xlsx``) and SPSS (``.sav``) files laid out as the codebook (one
column per variable). The codebook's missing code (-99) becomes a missing
value. A CSV that a survey platform exported (recognised by the platform
modules' ``detect``, :func:`analysis.ingest.detect.detect_table`) is refused
with a hint: :func:`analysis.ingest.pipeline.ingest` (``smesurvey ingest``)
reads those.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from instrument.model import MISSING_CODE
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


def read_responses(path: str | Path) -> pd.DataFrame:
    """Read ``path`` by its suffix; raise :class:`DataError` naming the file on failure."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such data file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            _refuse_platform_export(path)
            data = pd.read_csv(path)
        elif suffix in (".xlsx", ".xls"):
            data = pd.read_excel(path)
        elif suffix == ".sav":
            data, _ = pyreadstat.read_sav(str(path))
        else:
            raise DataError(f"{path}: unsupported file type '{suffix}'; use .csv, .xlsx or .sav")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, pyreadstat.ReadstatError) as exc:
        raise DataError(f"{path}: cannot be read ({exc})") from exc
    if data.empty:
        raise DataError(f"{path}: the file has no rows")
    numeric = data.select_dtypes(include=[np.number]).columns
    return data.assign(**{c: data[c].where(data[c] != MISSING_CODE) for c in numeric})

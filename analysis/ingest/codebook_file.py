"""Read a responses file (never modified) into a data frame with the codebook's columns.

CSV, Excel (``.xlsx``) and SPSS (``.sav``) files laid out as the codebook (one
column per variable). The codebook's missing code (-99) becomes a missing
value. Reading the export layouts of survey platforms is a separate step
(planned); files in those layouts are recognised and refused with a hint.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from instrument.model import MISSING_CODE
from instrument.platforms import looks_like_platform_export
from smecore.errors import DataError


def read_responses(path: str | Path) -> pd.DataFrame:
    """Read ``path`` by its suffix; raise :class:`DataError` naming the file on failure."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such data file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open(encoding="utf-8", errors="replace") as fh:
                head = [fh.readline() for _ in range(3)]
            if looks_like_platform_export(head):
                raise DataError(f"{path}: looks like a survey-platform export (Qualtrics, LimeSurvey or "
                                "KoboToolbox layout); convert it to the codebook layout first")
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

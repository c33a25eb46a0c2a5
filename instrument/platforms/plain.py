"""Response files laid out as the codebook: one header row of variable names, one row per respondent.

CSV / TSV / TXT (any delimiter and encoding :mod:`~instrument.platforms.tables`
recognises), XLSX (the first sheet whose header holds codebook variables;
``details["sheet"]`` records which), SPSS ``.sav`` and Stata ``.dta``. Values
stay as written; recoding and validation happen in :mod:`analysis.ingest`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from instrument.platforms.base import META_COLUMNS, RawResponses
from instrument.platforms.tables import Table
from smecore.errors import DataError

#: Header rows searched for the variable names (a title row above the header is common in Excel files).
HEADER_SEARCH_ROWS = 5
#: Lower-cased column names that hold direct identifiers; kept out of ``data``.
IDENTIFIER_NAMES = frozenset({
    "ip", "ipaddress", "ip_address", "email", "e-mail", "e_mail", "mail", "name", "first_name", "firstname",
    "last_name", "lastname", "surname", "phone", "telephone", "mobile", "latitude", "longitude", "lat", "lon",
    "locationlatitude", "locationlongitude", "device_id", "deviceid", "imei", "contact",
})
_META_SOURCE = {"respondent_id": "respondent", "duration_sec": "duration_sec"}


def _codebook_names(instrument=None) -> set[str]:
    if instrument is None:
        from instrument import load_instrument

        instrument = load_instrument()
    return {v.name for v in instrument.variables(paradata=True)}


def header_row(table: Table, names: set[str]) -> int | None:
    """File row (0-based) holding at least two codebook names (or ``respondent_id``), else ``None``."""
    for k in range(HEADER_SEARCH_ROWS if table.cells is not None else 1):
        row = [c.strip() for c in table.row(k)]
        hits = names.intersection(row)
        if len(hits) >= 2 or "respondent_id" in hits:
            return k
    return None


def detect(table: Table, instrument=None) -> str | None:
    """``"header row N holds K codebook variables"`` when ``table`` is in the codebook layout, else ``None``."""
    names = _codebook_names(instrument)
    k = header_row(table, names)
    if k is None:
        return None
    found = len(names.intersection(c.strip() for c in table.row(k)))
    return f"header row {k + 1} holds {found} codebook variables"


def read_responses(table: Table, instrument) -> RawResponses:
    """The codebook-layout ``table`` as :class:`RawResponses` (``data``: codebook variables, values as read).

    Raises :class:`DataError` naming the file when no header row with codebook
    variables is found or a column name appears twice.
    """
    names = _codebook_names(instrument)
    k = header_row(table, names)
    if k is None:
        raise DataError(f"{table.path}: no header row with codebook variable names in the first "
                        f"{HEADER_SEARCH_ROWS} rows; the codebook layout has one column per variable "
                        "(respondent_id, firm_employees, tk_1, ...)")
    header = [c.strip() for c in table.row(k)]
    seen: dict[str, int] = {}
    for j, name in enumerate(header):
        if name and name in seen:
            raise DataError(f"{table.path}: row {k + 1}: column '{name}' appears twice (columns {seen[name] + 1} "
                            f"and {j + 1}); remove or rename one of them")
        seen[name] = j
    body = table.body(k + 1, k) if table.cells is not None else table.frame
    body = body.reset_index(drop=True)
    body.columns = header
    n = len(body)
    variables = [v.name for v in instrument.variables(paradata=False)]
    data = body[[c for c in variables if c in body.columns]].copy()
    meta = pd.DataFrame({c: [np.nan] * n for c in META_COLUMNS})
    meta["respondent"] = (body["respondent_id"].astype(str).str.strip() if "respondent_id" in body.columns
                          else pd.Series([""] * n))
    meta["started"] = pd.NaT
    meta["ended"] = pd.NaT
    if "duration_sec" in body.columns:
        meta["duration_sec"] = pd.to_numeric(body["duration_sec"], errors="coerce").astype(float)
    identifiers = tuple(c for c in header if c.lower() in IDENTIFIER_NAMES)
    unknown = tuple(c for c in header if c not in variables and c not in _META_SOURCE and c not in identifiers)
    details = {"header_row": k + 1, "encoding": table.encoding, "delimiter": table.delimiter, "kind": table.kind}
    if table.sheet is not None:
        details["sheet"] = table.sheet
    return RawResponses(format="xlsx" if table.kind == "xlsx" else (table.kind if table.kind in ("sav", "dta")
                                                                    else "csv"),
                        detected_by=detect(table, instrument) or "chosen with --format", data=data,
                        source_row=np.arange(1, n + 1), meta=meta, unknown=unknown, identifiers=identifiers,
                        identifying=body[list(identifiers)].copy(), details=details)

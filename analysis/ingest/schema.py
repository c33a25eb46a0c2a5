"""A pandera schema derived from the codebook: allowed codes and ranges per variable.

Coded variables (a scale: Likert, matrix, attention, select-one) allow the
scale's codes; integer / year / percent variables their declared range
(percent: 0-100); text variables any string. Every column is nullable
(missing answers are allowed). The same rules as
:func:`analysis.psychometrics.scoring.validate_codes`, written with pandera so
that one lazy validation lists every failing cell.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from instrument.model import Instrument

FAILURE_COLUMNS = ("index", "variable", "value", "check")


def _column(v, instrument: Instrument) -> pa.Column:
    if v.type == "text":
        return pa.Column(object, nullable=True, required=False)
    if v.scale:
        codes = sorted(float(p.value) for p in instrument.scales[v.scale].points)
        return pa.Column(float, pa.Check.isin(codes, error=f"code of scale '{v.scale}'"), nullable=True,
                         required=False)
    lo = 0 if v.type == "percent" else v.min
    hi = 100 if v.type == "percent" else v.max
    checks = []
    if lo is not None:
        checks.append(pa.Check.ge(lo, error=f">= {lo}"))
    if hi is not None:
        checks.append(pa.Check.le(hi, error=f"<= {hi}"))
    return pa.Column(float, checks, nullable=True, required=False)


def codebook_schema(instrument: Instrument) -> pa.DataFrameSchema:
    """Schema over the questionnaire variables (numeric columns as float, NaN = missing)."""
    return pa.DataFrameSchema({v.name: _column(v, instrument) for v in instrument.variables(paradata=False)},
                              strict=False)


def failures(frame: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Every cell of ``frame`` the codebook does not allow, as :data:`FAILURE_COLUMNS` (empty when none).

    ``frame``: questionnaire variables, numeric ones already as float.
    """
    try:
        codebook_schema(instrument).validate(frame, lazy=True)
    except SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna()]
        return pd.DataFrame({"index": fc["index"].astype(int).to_numpy(), "variable": fc["column"].to_numpy(),
                             "value": fc["failure_case"].to_numpy(), "check": fc["check"].astype(str).to_numpy()},
                            columns=list(FAILURE_COLUMNS)).sort_values(["index", "variable"]).reset_index(drop=True)
    return pd.DataFrame(columns=list(FAILURE_COLUMNS))

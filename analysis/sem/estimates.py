"""lavaan's ``parameterEstimates(standardized=TRUE, ci=TRUE)`` table from a fit's row values, the
covariance of its free parameters and its standardized values - the last step of the ML pipeline
(:mod:`analysis.sem.fit`) and of the ordinal one (:mod:`analysis.sem.ordinal.fit`), which differ only
in how they get those values."""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd
from scipy import special

from analysis.sem import constants as C
from analysis.sem.defined import (
    compile_definitions,
    definition_columns,
    delta_method,
    evaluate_definitions,
)
from analysis.sem.estimation import label_values
from analysis.sem.partable import ParTable

Z975 = float(special.ndtri(0.975))  # the normal quantile of 95% confidence intervals


def estimates_table(pt: ParTable, theta: np.ndarray, vcov: np.ndarray, values: np.ndarray, std_lv: np.ndarray,
                    std_all: np.ndarray) -> pd.DataFrame:
    """One row per parameter-table row (``values``: their values, ``std_lv`` / ``std_all``: standardized),
    then the ``:=`` definitions: estimate, SE (0 for fixed rows), z, two-sided p-value, 95% Wald interval
    (the value itself for fixed rows), ``std.lv``, ``std.all``. ``theta`` and ``vcov`` are the free
    parameters and their covariance."""
    t = pt.table
    free = t["free"].to_numpy()
    se_free = np.sqrt(np.clip(np.diag(vcov), 0, None))
    se = np.where(free > 0, se_free[np.maximum(free - 1, 0)], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(free > 0, values / se, np.nan)
    p = 2 * special.ndtr(-np.abs(z))  # stats.norm.sf
    lower = np.where(free > 0, values - Z975 * se, values)
    upper = np.where(free > 0, values + Z975 * se, values)
    # the table's text columns (built once per parameter table) beside one float block: the frame that
    # a dict of these columns gives, for a third of the cost (a power study builds one per refit)
    numbers = pd.DataFrame(np.column_stack([values, se, z, p, lower, upper, std_lv, std_all]), columns=_NUMBERS)
    frame = pd.concat([_identity_columns(pt), numbers], axis=1)
    if pt.definitions:
        frame = pd.concat([frame, _defined_rows(pt, theta, vcov, values, std_lv, std_all)], ignore_index=True)
    return frame


_NUMBERS = [C.EST, C.SE, C.Z, C.PVALUE, C.CI_LOWER, C.CI_UPPER, C.STD_LV, C.STD_ALL]
_IDENTITY: dict[int, pd.DataFrame] = {}


def _identity_columns(pt: ParTable) -> pd.DataFrame:
    """``lhs, op, rhs, group, label`` of ``pt``'s rows (a RangeIndex), built once per parameter table (never
    changed after it is built) and freed with it."""
    key = id(pt)
    if key not in _IDENTITY:
        t = pt.table
        _IDENTITY[key] = pd.DataFrame({C.LHS: t["lhs"].to_numpy(), C.OP: t["op"].to_numpy(),
                                       C.RHS: t["rhs"].to_numpy(), C.GROUP: t["group"].to_numpy(),
                                       C.LABEL: t["label"].to_numpy()})
        weakref.finalize(pt, _IDENTITY.pop, key, None)
    return _IDENTITY[key]


def _defined_rows(pt: ParTable, theta: np.ndarray, vcov: np.ndarray, values: np.ndarray, std_lv: np.ndarray,
                  std_all: np.ndarray) -> pd.DataFrame:
    """The ``:=`` rows: values at the estimates, delta-method SEs, standardized values from the
    standardized rows."""
    t = pt.table
    labels = [x for x in t["label"] if x] + list(t["plabel"])
    defs = compile_definitions(pt.definitions, list(dict.fromkeys(labels)))
    free = t["free"].to_numpy()

    def at(th: np.ndarray) -> np.ndarray:
        vals = np.where(free > 0, th[np.maximum(free - 1, 0)], values)
        ev = evaluate_definitions(defs, label_values(t, vals))
        return np.array([ev[d.name] for d in defs])

    val, se = delta_method(at, theta, vcov, columns=definition_columns(t, defs))  # the parameters they read
    with np.errstate(divide="ignore", invalid="ignore"):
        z = val / se
    ev_lv = evaluate_definitions(defs, label_values(t, std_lv))
    ev_all = evaluate_definitions(defs, label_values(t, std_all))
    return pd.DataFrame({
        C.LHS: [d.name for d in defs], C.OP: C.DEFINED, C.RHS: [d.expression for d in defs],
        C.GROUP: 0, C.LABEL: [d.name for d in defs], C.EST: val, C.SE: se, C.Z: z,
        C.PVALUE: 2 * special.ndtr(-np.abs(z)), C.CI_LOWER: val - Z975 * se, C.CI_UPPER: val + Z975 * se,
        C.STD_LV: [ev_lv[d.name] for d in defs], C.STD_ALL: [ev_all[d.name] for d in defs],
    })

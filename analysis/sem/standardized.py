"""Standardized solutions as functions of the parameters, with delta-method standard errors.

``std_values(est, theta)`` gives every row's ``std.all`` (or ``std.lv``) value
at any parameter vector, so standardized effects, contrasts of standardized
paths and their standard errors follow by the delta method - lavaan's
``standardizedSolution()`` does the same (numerical Jacobian of the
standardization).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from analysis.sem.defined import delta_method
from analysis.sem.estimation import Estimation, row_values
from analysis.sem.standardize import standardize

if TYPE_CHECKING:  # pragma: no cover - typing only; fit imports this module
    from analysis.sem.fit import FitResult


def std_values(est: Estimation, theta: np.ndarray, observed_too: bool = True) -> np.ndarray:
    """``std.all`` (``observed_too=True``) or ``std.lv`` of every parameter-table row at ``theta``
    (of an ordinal fit too: :func:`analysis.sem.ordinal.fit.standardized_values`)."""
    from analysis.sem.ordinal.fit import OrdinalEstimation, standardized_values

    if isinstance(est, OrdinalEstimation):
        std_lv, std_all = standardized_values(est, est.model.row_values(theta), theta)
        return std_all if observed_too else std_lv
    values = row_values(est, theta)
    names = est.model.groups[0].names
    latent = set(est.partable.variables.lv)
    sig = [est.model.implied(theta, g).sigma_all for g in range(est.partable.ngroups)]
    return standardize(est.partable.table, values, names, latent, sig, observed_too)


SOLUTION_COLUMNS = ("lhs", "op", "rhs", "group", "label", "est.std", "se", "z", "pvalue", "ci.lower", "ci.upper")


def standardized_solution(result: FitResult, level: float = 0.95) -> pd.DataFrame:
    """lavaan's ``standardizedSolution(type="std.all")``: standardized estimates with delta-method SEs."""
    est = result.estimation
    t = est.partable.table
    value, se = delta_method(lambda th: std_values(est, th), est.theta, result.vcov)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 1e-12, value / se, np.nan)
    q = stats.norm.ppf(0.5 + level / 2)
    out = pd.DataFrame({"lhs": t["lhs"], "op": t["op"], "rhs": t["rhs"], "group": t["group"], "label": t["label"],
                        "est.std": value, "se": se, "z": z, "pvalue": 2 * stats.norm.sf(np.abs(z)),
                        "ci.lower": value - q * se, "ci.upper": value + q * se})
    return out[list(SOLUTION_COLUMNS)]

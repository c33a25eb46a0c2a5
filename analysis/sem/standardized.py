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
from analysis.sem.standardize import standardize, standardize_arrays

if TYPE_CHECKING:  # pragma: no cover - typing only; fit imports this module
    from analysis.sem.fit import FitResult


def std_values(est: Estimation, theta: np.ndarray, observed_too: bool = True) -> np.ndarray:
    """``std.all`` (``observed_too=True``) or ``std.lv`` of every parameter-table row at ``theta``."""
    values = row_values(est, theta)
    names = est.model.groups[0].names
    latent = set(est.partable.variables.lv)
    sig = [est.model.implied(theta, g).sigma_all for g in range(est.partable.ngroups)]
    return standardize(est.partable.table, values, names, latent, sig, observed_too)


def std_function(est: Estimation, rows: list[int], observed_too: bool = True):
    """``theta -> std_values(est, theta, observed_too)[rows]``, computing only what those rows need (their
    values, the residual variances of covariance rows, the implied variances): the same numbers, for
    the many evaluations of a delta method (a power study's Wald tests of standardized paths)."""
    if type(est) is not Estimation:  # other estimations standardize their own way
        return lambda theta: std_values(est, theta, observed_too)[rows]
    t = est.partable.table
    lhs, op, rhs, grp = (t[c].to_numpy() for c in ("lhs", "op", "rhs", "group"))
    needed = list(rows)
    for i in rows:  # covariance rows are scaled by the residual variances of their two variables
        if op[i] == "~~" and lhs[i] != rhs[i]:
            for v in (lhs[i], rhs[i]):
                needed += [int(j) for j in np.flatnonzero((grp == grp[i]) & (op == "~~") & (lhs == v) & (rhs == v))]
    needed = list(dict.fromkeys(needed))
    loc = [est.model.row_location[i] for i in needed]
    groups = sorted({int(grp[i]) for i in needed})
    # the needed rows' columns, their groups renumbered 1.. in the order of the matrices passed
    arrays = (lhs[needed], op[needed], rhs[needed], np.array([groups.index(int(grp[i])) + 1 for i in needed]))
    in_group = {g: [(k, loc[k]) for k, i in enumerate(needed) if grp[i] == g] for g in groups}
    names = est.model.groups[0].names
    latent = set(est.partable.variables.lv)
    pos = [needed.index(i) for i in rows]

    def f(theta: np.ndarray) -> np.ndarray:
        values = np.empty(len(needed))
        sig = []
        for g in groups:
            a, s, m = est.model.matrices(theta, g - 1)
            for k, (kind, r, c) in in_group[g]:
                values[k] = a[r, c] if kind == 0 else (s[r, c] if kind == 1 else m[r])
            b = np.linalg.inv(np.eye(a.shape[0]) - a)  # as RamModel.implied computes sigma_all
            sig_all = b @ s @ b.T
            sig.append((sig_all + sig_all.T) / 2)
        return standardize_arrays(*arrays, values, names, latent, sig, observed_too)[pos]

    return f


def structural_parameters(est: Estimation) -> list[int] | None:
    """Free parameters that occur in a group's A or S matrix, not only in the means: the only ones
    covariances - and so standardized loadings, paths and covariances - depend on. None for an
    estimation other than the RAM model's (every parameter then counts)."""
    if type(est) is not Estimation:
        return None
    out: set[int] = set()
    for gm in est.model.groups:
        ia, _, _, i_s = gm.by_kind[:4]
        out.update(int(j) for j in gm.occ_par[ia])
        out.update(int(j) for j in gm.occ_par[i_s])
    return sorted(out)


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

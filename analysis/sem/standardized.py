"""Standardized solutions as functions of the parameters, with delta-method standard errors.

``std_values(est, theta)`` gives every row's ``std.all`` (or ``std.lv``) value
at any parameter vector, so standardized effects, contrasts of standardized
paths and their standard errors follow by the delta method - lavaan's
``standardizedSolution()`` does the same (numerical Jacobian of the
standardization).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from analysis.sem.defined import delta_method_batch
from analysis.sem.estimation import Estimation, row_values
from analysis.sem.standardize import Standardizer

if TYPE_CHECKING:  # pragma: no cover - typing only; fit imports this module
    from analysis.sem.fit import FitResult


def std_values(est: Estimation, theta: np.ndarray, observed_too: bool = True) -> np.ndarray:
    """``std.all`` (``observed_too=True``) or ``std.lv`` of every parameter-table row at ``theta``
    (of an ordinal fit too: :func:`analysis.sem.ordinal.fit.standardized_values`)."""
    return std_function(est, observed_too)(theta)


def std_function(est: Estimation, observed_too: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    """``theta ->`` :func:`std_values` ``(est, theta, observed_too)``, with the table's indices found once
    (a numerical Jacobian evaluates it twice per free parameter)."""
    from analysis.sem.ordinal.fit import OrdinalEstimation, standardized_values

    if isinstance(est, OrdinalEstimation):
        def ordinal(theta: np.ndarray) -> np.ndarray:
            std_lv, std_all = standardized_values(est, est.model.row_values(theta), theta)
            return std_all if observed_too else std_lv

        return ordinal
    standardizer = Standardizer(est.partable.table, est.model.groups[0].names, set(est.partable.variables.lv),
                                observed_too)
    ngroups = est.partable.ngroups

    def values(theta: np.ndarray) -> np.ndarray:
        sig = [est.model.implied(theta, g).sigma_all for g in range(ngroups)]
        return standardizer(row_values(est, theta), sig)

    return values


#: parameter vectors :func:`std_batch` handles in one set of array operations
BATCH = 64


def std_batch(est: Estimation, observed_too: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    """``thetas (k x npar) ->`` the :func:`std_values` of each row (``k x`` table rows), in one set of
    array operations: for the ``2 npar`` evaluations of a delta method. The same numbers as
    :func:`std_function` row by row (the same LAPACK and BLAS calls per matrix); an ordinal fit's
    rows one by one through :func:`std_function`."""
    from analysis.sem.ordinal.fit import OrdinalEstimation

    if isinstance(est, OrdinalEstimation):
        one = std_function(est, observed_too)
        return lambda thetas: np.array([one(th) for th in thetas])
    standardizer = Standardizer(est.partable.table, est.model.groups[0].names, set(est.partable.variables.lv),
                                observed_too)
    model = est.model
    t = est.partable.table
    group = t["group"].to_numpy()
    loc = model.row_location

    def values(thetas: np.ndarray) -> np.ndarray:
        if thetas.shape[0] > BATCH:  # bounded memory: k x nvar^2 per group
            return np.concatenate([values(thetas[i:i + BATCH]) for i in range(0, thetas.shape[0], BATCH)])
        k = thetas.shape[0]
        rows_out = np.empty((k, len(t)))
        sig = []
        for g, gm in enumerate(model.groups):
            n = len(gm.names)
            ia, ar, ac, i_s, sr, sc, _, im, mr = gm.by_kind
            vals = thetas[:, gm.occ_par]
            a = np.broadcast_to(gm.a_fixed, (k, n, n)).copy()
            s = np.broadcast_to(gm.s_fixed, (k, n, n)).copy()
            m = np.broadcast_to(gm.m_fixed, (k, n)).copy()
            a[:, ar, ac] = vals[:, ia]
            s[:, sr, sc] = vals[:, i_s]
            s[:, sc, sr] = vals[:, i_s]
            m[:, mr] = vals[:, im]
            try:
                b = np.linalg.inv(np.eye(n) - a)
            except np.linalg.LinAlgError:  # one of them singular: as RamModel.implied, one by one
                return np.array([std_function(est, observed_too)(th) for th in thetas])
            sigma_all = b @ s @ b.transpose(0, 2, 1)
            sig.append((sigma_all + sigma_all.transpose(0, 2, 1)) / 2)
            at = np.flatnonzero(group == g + 1)
            kind, r, c = loc[at].T
            rows_out[:, at] = np.where(kind == 0, a[:, r, c], np.where(kind == 1, s[:, r, c], m[:, r]))
        return standardizer(rows_out, sig)

    return values


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
    value, se = delta_method_batch(std_batch(est), est.theta, result.vcov)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 1e-12, value / se, np.nan)
    q = stats.norm.ppf(0.5 + level / 2)
    out = pd.DataFrame({"lhs": t["lhs"], "op": t["op"], "rhs": t["rhs"], "group": t["group"], "label": t["label"],
                        "est.std": value, "se": se, "z": z, "pvalue": 2 * stats.norm.sf(np.abs(z)),
                        "ci.lower": value - q * se, "ci.upper": value + q * se})
    return out[list(SOLUTION_COLUMNS)]

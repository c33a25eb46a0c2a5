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
from smecore.errors import EstimationError

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
    array operations: for the ``2 npar`` evaluations of a delta method and for Monte Carlo draws.
    An ordinal fit's rows one by one through :func:`std_function`.

    Rows that differ from the last row in one free parameter at most (the shifted vectors of
    :func:`analysis.sem.defined.delta_method_batch`, whose last row is the estimate) are standardized
    from the last row's implied covariance matrix updated for that one change (:func:`_one_change_variances`:
    ``O(n)`` per row instead of an ``n x n`` inverse and product); they agree with :func:`std_function`
    to rounding (about 1e-15 relative). Other rows: per matrix the LAPACK and BLAS calls of
    :func:`std_function`, so its numbers."""
    from analysis.sem.ordinal.fit import OrdinalEstimation

    if isinstance(est, OrdinalEstimation):
        one = std_function(est, observed_too)
        return lambda thetas: np.array([one(th) for th in thetas])
    standardizer = Standardizer(est.partable.table, est.model.groups[0].names, set(est.partable.variables.lv),
                                observed_too)
    model = est.model
    t = est.partable.table
    group = t["group"].to_numpy()
    free = t["free"].to_numpy()
    free_rows = np.flatnonzero(free > 0)
    free_of_row = free[free_rows] - 1
    loc = model.row_location
    changes = [_ChangeIndex(gm, model.npar) for gm in model.groups]

    def general(thetas: np.ndarray) -> np.ndarray:
        if thetas.shape[0] > BATCH:  # bounded memory: k x nvar^2 per group
            return np.concatenate([general(thetas[i:i + BATCH]) for i in range(0, thetas.shape[0], BATCH)])
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

    def values(thetas: np.ndarray) -> np.ndarray:
        k = thetas.shape[0]
        center = thetas[-1]
        differs = thetas != center
        if k < 3 or np.any(differs.sum(axis=1) > 1) or not np.all(np.isfinite(center)):
            return general(thetas)
        par = np.where(differs.any(axis=1), differs.argmax(axis=1), -1)  # the changed parameter (-1: none)
        try:
            imps = [model.implied(center, g) for g in range(len(model.groups))]
        except EstimationError:
            return general(thetas)
        variances, ok = [], np.ones(k, dtype=bool)
        for g, imp in enumerate(imps):
            var, fine = _one_change_variances(imp, changes[g], thetas, center, par)
            variances.append(var)
            ok &= fine
        rows_out = np.tile(row_values(est, center), (k, 1))
        rows_out[:, free_rows] = thetas[:, free_of_row]
        out = standardizer.from_variances(rows_out, variances)
        if not ok.all():  # a parameter with several occurrences (equality constraint), or a singular update
            out[~ok] = general(thetas[~ok])
        return out

    return values


class _ChangeIndex:
    """Where each free parameter occurs in one group's A and S matrices: ``kind[j]`` is 0 (in neither:
    a mean, or another group's parameter), 1 (once in A, at ``row[j], col[j]``), 2 (once in S) or 3
    (several times: an equality constraint - not handled by a one-change update)."""

    def __init__(self, gm, npar: int):
        self.kind = np.zeros(npar, dtype=int)
        self.row = np.zeros(npar, dtype=int)
        self.col = np.zeros(npar, dtype=int)
        seen = np.zeros(npar, dtype=int)
        for kind, r, c, j in zip(gm.occ_kind, gm.occ_row, gm.occ_col, gm.occ_par):
            if kind == 2:
                continue
            seen[j] += 1
            self.kind[j], self.row[j], self.col[j] = (1 if kind == 0 else 2), r, c
        self.kind[seen > 1] = 3


def _one_change_variances(imp, index: _ChangeIndex, thetas: np.ndarray, center: np.ndarray,
                          par: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The implied variances of all variables of one group (``k x n``) at each row of ``thetas``, which
    differs from ``center`` (implied moments ``imp``) in parameter ``par[i]`` at most (-1: none), and
    which rows these are exact for (False: the parameter occurs several times, or the update is singular).

    Why by hand: a delta method changes one parameter at a time, and the change of the implied
    covariance matrix ``Sigma = B S B'`` (``B = (I - A)^-1``) is then of rank one or two - the
    variances follow in ``O(n)`` per row instead of an ``n x n`` inverse and two products:

    * ``S[r, c]`` by ``d`` (and ``S[c, r]``): ``Sigma + d (b_r b_c' + b_c b_r')``, ``b_r`` column ``r`` of
      ``B`` (``r == c``: ``d b_r b_r'``);
    * ``A[r, c]`` by ``d``: by Sherman-Morrison ``B + kappa b_r B[c, :]`` with ``kappa = d / (1 - d B[c, r])``,
      so ``Sigma + kappa (b_r Sigma[c, :] + Sigma[:, c] b_r') + kappa^2 Sigma[c, c] b_r b_r'``.
    """
    k = len(thetas)
    base = np.diagonal(imp.sigma_all).copy()
    out = np.tile(base, (k, 1))
    ok = np.ones(k, dtype=bool)
    moved = np.flatnonzero(par >= 0)
    j = par[moved]
    kind = index.kind[j]
    ok[moved[kind == 3]] = False
    delta = thetas[moved, j] - center[j]
    r, c = index.row[j], index.col[j]
    b, sig = imp.B, imp.sigma_all
    in_s = kind == 2
    if in_s.any():
        rs, cs, d = r[in_s], c[in_s], delta[in_s]
        scale = np.where(rs == cs, 1.0, 2.0) * d
        out[moved[in_s]] += scale[:, None] * b[:, rs].T * b[:, cs].T
    in_a = kind == 1
    if in_a.any():
        ra, ca, d = r[in_a], c[in_a], delta[in_a]
        denom = 1.0 - d * b[ca, ra]
        good = np.abs(denom) > 1e-8
        ok[moved[in_a][~good]] = False
        kappa = np.where(good, d / np.where(good, denom, 1.0), 0.0)
        br = b[:, ra].T  # rows x n
        out[moved[in_a]] += (2.0 * kappa[:, None] * br * sig[ca, :]
                             + (kappa ** 2 * sig[ca, ca])[:, None] * br ** 2)
    return out, ok


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

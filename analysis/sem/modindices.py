"""Modification indices (score tests for fixed parameters), as lavaan's ``modindices()``.

Which rows (lavaan 0.6.14 ``modindices()`` with its defaults, ``free.remove=TRUE,
na.remove=TRUE``): every parameter the model fixes - zero or not: marker
loadings, the fixed loadings of a growth model, fixed intercepts and means -
and every parameter of lavaan's full table (``lav_partable_full``) that the
model leaves out: loadings of each latent variable on each observed
non-covariate, residual covariances among indicators, latent (co)variances,
regressions among the variables in structural equations (covariates included,
as lavaan does) and, with a mean structure, intercepts. Rows whose test has no
information (the adjusted information ``V`` below ``eps^(1/3)``, e.g. a
parameter equivalent to a free one) are left out, as lavaan's ``NA`` rows are.
The (co)variances and means of fixed.x covariates are not tested: they are the
sample moments, so their score is exactly zero (lavaan lists some of them with
``mi`` ~ 1e-31, rounding noise of that zero).

For each of them the model is extended by the parameter at its current value and

* ``mi  = N g^2 / V``  (one-degree-of-freedom Lagrange multiplier statistic),
* ``epc = -g / V``     (expected parameter change),

with ``g`` the derivative of ``F_ML/2`` (lavaan's ``fmin``) in the extended
model and ``V = I11 - I12 I22^-1 I21`` the expected information of the new
parameter after adjusting for the free ones. With fixed.x covariates the
information leaves out the covariates' own moments, as lavaan's
(``lav_mvnorm_information_expected`` with ``x.idx``). ``sepc.lv`` /
``sepc.all`` / ``sepc.nox`` are the EPCs standardized as
:mod:`analysis.sem.standardize` does for estimates (for a fixed variance, lavaan's
``cov.std`` convention: the standardized current value, with the sign of the EPC).
"""

from __future__ import annotations

from itertools import combinations_with_replacement
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.sem.estimation import row_values
from analysis.sem.partable import ParTable
from analysis.sem.ram import RamModel
from analysis.sem.standardize import standardize

if TYPE_CHECKING:  # pragma: no cover
    from analysis.sem.fit import FitResult

MODINDEX_COLUMNS = ("lhs", "op", "rhs", "group", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox")


def _candidates(pt: ParTable) -> list[tuple[str, str, str]]:
    """Parameters lavaan's ``lav_partable_full`` would consider, in its order (without the
    covariates' own moments)."""
    t = pt.table
    v = pt.variables
    eqs_y = list(dict.fromkeys(t.loc[t["op"] == "~", "lhs"]))
    eqs_x = list(dict.fromkeys(t.loc[t["op"] == "~", "rhs"]))
    eqs = list(dict.fromkeys(eqs_y + eqs_x))
    ov_ind = set(t.loc[(t["op"] == "=~") & ~t["rhs"].isin(v.lv), "rhs"])
    out = [(f, "=~", x) for f in v.lv for x in v.ov_nox if x not in eqs]
    other = [x for x in v.ov if x not in ov_ind]
    for a, b in combinations_with_replacement(v.ov_nox, 2):
        if a in other or b in other:
            continue
        out.append((a, "~~", b))
    out += [(a, "~~", b) for a, b in combinations_with_replacement(v.lv, 2)]
    for y in eqs:
        for x in eqs:
            if x != y and not (y in ov_ind and x in v.lv):
                out.append((y, "~", x))
    if pt.meanstructure:
        out += [(x, "~1", "") for x in list(v.ov_nox) + list(v.lv)]
    return out


def h1_expected_information(sigma: np.ndarray, meanstructure: bool, x_idx: list[int]) -> np.ndarray:
    """Expected information per case of the saturated normal model at ``sigma``.

    Parameters in lavaan's order (means, then the lower triangle of ``Sigma``
    column by column): ``Sigma^-1`` for the means and ``0.5 D'(Sigma^-1 x
    Sigma^-1)D`` for the covariances. Rows and columns of the moments among the
    covariates ``x_idx`` (variances, covariances, means) are zero, as lavaan's
    ``lav_mvnorm_information_expected(x.idx=)`` under fixed.x.
    """
    p = sigma.shape[0]
    w = np.linalg.inv(sigma)
    rr, cc = np.tril_indices(p)
    order = np.lexsort((rr, cc))
    rr, cc = rr[order], cc[order]
    h = np.where(rr == cc, 0.5, 1.0)
    cov_block = (w[np.ix_(rr, rr)] * w[np.ix_(cc, cc)] + w[np.ix_(rr, cc)] * w[np.ix_(cc, rr)]) * np.outer(h, h)
    is_x = np.isin(rr, x_idx) & np.isin(cc, x_idx)
    if meanstructure:
        q = p + len(rr)
        out = np.zeros((q, q))
        out[:p, :p] = w
        out[p:, p:] = cov_block
        is_x = np.concatenate([np.isin(np.arange(p), x_idx), is_x])
    else:
        out = cov_block
    out[is_x, :] = 0.0
    out[:, is_x] = 0.0
    return out


def _information(obj, model: RamModel, theta: np.ndarray, x_idx: list[int]) -> np.ndarray:
    """Expected information per case of the extended model (fixed.x moments left out with ML)."""
    if obj.casewise or not x_idx:
        return obj.information(theta)
    info = np.zeros((len(theta), len(theta)))
    for g, w in enumerate(obj.weights):
        imp = model.implied(theta, g)
        delta = model.jacobian(g, imp, obj.meanstructure)
        info += w * (delta.T @ h1_expected_information(imp.sigma, obj.meanstructure, x_idx) @ delta)
    return info


def modification_indices(result: FitResult, sort: bool = True, minimum: float = 0.0) -> pd.DataFrame:
    """Modification indices of a fitted model (lavaan ``modindices(fit)``, expected information).

    Parameters
    ----------
    result : FitResult
        A fitted model (:func:`analysis.sem.fit.fit`).
    sort : bool
        Sort by ``mi``, largest first (lavaan ``sort.=TRUE``); otherwise lavaan's
        order: the model's fixed parameters in table order, then the added ones.
    minimum : float
        Keep only rows with ``mi > minimum`` (lavaan ``minimum.value``) when > 0.

    Returns
    -------
    DataFrame
        Columns ``lhs, op, rhs, group, mi, epc, sepc.lv, sepc.all, sepc.nox``
        (:data:`MODINDEX_COLUMNS`), one row per testable fixed parameter.
    """
    est = result.estimation
    pt = est.partable
    t = pt.table
    npar = pt.npar

    base_values = row_values(est)
    # 1. the model's own fixed parameters (lavaan all.free = TRUE), not the covariates' moments
    fixed_rows = np.flatnonzero((t["free"].to_numpy() == 0) & (t["exo"].to_numpy() == 0))
    # 2. the parameters of lavaan's full table the model does not have
    present = set()
    for r in t.itertuples():
        present.add((r.lhs, r.op, r.rhs, r.group))
        if r.op == "~~":
            present.add((r.rhs, r.op, r.lhs, r.group))
    extra = [(lhs, op, rhs, g) for g in range(1, pt.ngroups + 1) for lhs, op, rhs in _candidates(pt)
             if (lhs, op, rhs, g) not in present]
    n_fixed, n_extra = len(fixed_rows), len(extra)
    if n_fixed + n_extra == 0:
        return pd.DataFrame(columns=list(MODINDEX_COLUMNS))
    ext_table = t.copy()
    free = ext_table["free"].to_numpy().copy()
    free[fixed_rows] = np.arange(npar + 1, npar + n_fixed + 1)
    ext_table["free"] = free
    add = pd.DataFrame({
        "id": np.arange(len(t) + 1, len(t) + n_extra + 1),
        "lhs": [e[0] for e in extra], "op": [e[1] for e in extra], "rhs": [e[2] for e in extra],
        "user": 10, "group": [e[3] for e in extra],
        "free": np.arange(npar + n_fixed + 1, npar + n_fixed + n_extra + 1),
        "ustart": np.nan, "start": np.nan, "label": "", "plabel": "", "exo": 0,
    })
    ext_table = pd.concat([ext_table, add], ignore_index=True)
    ext_pt = ParTable(ext_table, pt.variables, pt.ngroups, pt.meanstructure)
    groups = list(est.groups)
    model = RamModel(ext_pt, [(gd.cov, gd.mean) for gd in groups])
    obj = type(est.objective)(model, groups, pt.meanstructure)
    theta = np.concatenate([est.theta, base_values[fixed_rows], np.zeros(n_extra)])
    x_idx = [list(pt.variables.ov).index(x) for x in pt.variables.ov_x]
    info = _information(obj, model, theta, x_idx)
    grad = obj.gradient(theta) / 2.0  # derivative of fmin
    k = np.arange(npar, npar + n_fixed + n_extra)
    m = np.arange(npar)
    i22_inv = np.linalg.inv(info[np.ix_(m, m)])
    i12 = info[np.ix_(k, m)]
    v = np.diag(info[np.ix_(k, k)]) - np.einsum("ij,jk,ik->i", i12, i22_inv, i12)
    v = np.where(v < np.finfo(float).eps ** (1 / 3), np.nan, v)
    score = grad[k]
    mi = obj.ntotal * score ** 2 / v
    epc = -score / v
    # standardize |epc| as an estimate of that row type, in the fitted model's metric; a variance
    # is standardized at its current value (lavaan cov.std), 0 when that value is (nearly) zero
    rows = np.concatenate([fixed_rows, np.arange(len(t), len(t) + n_extra)])
    values = np.concatenate([base_values, np.zeros(n_extra)])
    is_var = ((ext_table["op"] == "~~") & (ext_table["lhs"] == ext_table["rhs"])).to_numpy()[rows]
    values[rows] = np.where(is_var, values[rows], np.abs(epc))
    small = is_var & (np.abs(values[rows]) < np.sqrt(np.finfo(float).eps))
    names = est.model.groups[0].names
    latent = set(pt.variables.lv)
    sig = [est.model.implied(est.theta, g).sigma_all for g in range(pt.ngroups)]
    sign = np.sign(epc)

    def sepc(observed_too: bool, nox=()) -> np.ndarray:
        std = standardize(ext_table, np.abs(values), names, latent, sig, observed_too, nox=nox)[rows]
        return np.where(small, 0.0, sign * std)

    cand = ext_table.iloc[rows]
    out = pd.DataFrame({"lhs": cand["lhs"].to_numpy(), "op": cand["op"].to_numpy(),
                        "rhs": cand["rhs"].to_numpy(), "group": cand["group"].to_numpy(),
                        "mi": mi, "epc": epc, "sepc.lv": sepc(False), "sepc.all": sepc(True),
                        "sepc.nox": sepc(True, pt.variables.ov_x)})
    out = out[np.isfinite(out["mi"])]
    if minimum > 0:
        out = out[out["mi"] > minimum]
    if sort:
        out = out.sort_values("mi", ascending=False, kind="mergesort")
    return out.reset_index(drop=True)

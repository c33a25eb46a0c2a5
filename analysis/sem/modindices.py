"""Modification indices (score tests for fixed parameters), as lavaan's ``modindices()``.

For every parameter the model leaves out (cross-loadings, residual
covariances, latent covariances, regressions among variables in structural
equations), the model is extended by that parameter at value 0 and

* ``mi  = N g^2 / V``  (one-degree-of-freedom Lagrange multiplier statistic),
* ``epc = -g / V``     (expected parameter change),

with ``g`` the derivative of ``F_ML/2`` (lavaan's ``fmin``) in the extended
model and ``V = I11 - I12 I22^-1 I21`` the expected information of the new
parameter after adjusting for the free ones. ``sepc.lv`` / ``sepc.all`` are
the EPCs standardized as :mod:`analysis.sem.standardize` does for estimates.
"""

from __future__ import annotations

from itertools import combinations_with_replacement
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.sem.objective import FIMLObjective, MLObjective
from analysis.sem.partable import ParTable
from analysis.sem.ram import RamModel
from analysis.sem.standardize import standardize

if TYPE_CHECKING:  # pragma: no cover
    from analysis.sem.fit import FitResult

MODINDEX_COLUMNS = ("lhs", "op", "rhs", "group", "mi", "epc", "sepc.lv", "sepc.all")


def _candidates(pt: ParTable) -> list[tuple[str, str, str]]:
    """Parameters lavaan's ``lav_partable_full`` would consider, in its order."""
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
    return out


def modification_indices(result: FitResult, sort: bool = True, minimum: float = 0.0) -> pd.DataFrame:
    """Modification indices of a fitted model (lavaan ``modindices(fit)``, expected information).

    Returns a DataFrame with columns ``lhs, op, rhs, group, mi, epc, sepc.lv,
    sepc.all``; sorted by ``mi`` (descending) when ``sort``; rows with
    ``mi <= minimum`` dropped when ``minimum > 0``.
    """
    est = result.estimation
    pt = est.partable
    t = pt.table
    present = set()
    for r in t.itertuples():
        present.add((r.lhs, r.op, r.rhs, r.group))
        if r.op == "~~":
            present.add((r.rhs, r.op, r.lhs, r.group))
    extra = []
    for g in range(1, pt.ngroups + 1):
        for lhs, op, rhs in _candidates(pt):
            if (lhs, op, rhs, g) not in present:
                extra.append((lhs, op, rhs, g))
    if not extra:
        return pd.DataFrame(columns=list(MODINDEX_COLUMNS))
    npar = pt.npar
    add = pd.DataFrame({
        "id": np.arange(len(t) + 1, len(t) + len(extra) + 1),
        "lhs": [e[0] for e in extra], "op": [e[1] for e in extra], "rhs": [e[2] for e in extra],
        "user": 10, "group": [e[3] for e in extra], "free": np.arange(npar + 1, npar + len(extra) + 1),
        "ustart": np.nan, "start": np.nan, "label": "", "plabel": "", "exo": 0,
    })
    ext_table = pd.concat([t, add], ignore_index=True)
    ext_pt = ParTable(ext_table, pt.variables, pt.ngroups, pt.meanstructure)
    groups = list(est.groups)
    model = RamModel(ext_pt, [(gd.cov, gd.mean) for gd in groups])
    cls = FIMLObjective if isinstance(est.objective, FIMLObjective) else MLObjective
    obj = cls(model, groups, pt.meanstructure)
    theta = np.concatenate([est.theta, np.zeros(len(extra))])
    info = obj.information(theta)
    grad = obj.gradient(theta) / 2.0  # derivative of fmin
    i22_inv = np.linalg.inv(est.objective.information(est.theta))
    k = np.arange(npar, npar + len(extra))
    m = np.arange(npar)
    i12 = info[np.ix_(k, m)]
    v = np.diag(info[np.ix_(k, k)]) - np.einsum("ij,jk,ik->i", i12, i22_inv, i12)
    v = np.where(v < np.finfo(float).eps ** (1 / 3), np.nan, v)
    score = grad[k]
    n = obj.ntotal
    mi = n * score ** 2 / v
    epc = -score / v
    # standardize |epc| as an estimate of that row type, in the fitted model's metric
    names = est.model.groups[0].names
    latent = set(pt.variables.lv)
    sig = [est.model.implied(est.theta, g).sigma_all for g in range(pt.ngroups)]
    from analysis.sem.fit import _row_estimates

    base_est = _row_estimates(est)
    all_est = np.concatenate([base_est, np.abs(epc)])
    sign = np.sign(epc)
    sepc_lv = sign * standardize(ext_table, all_est, names, latent, sig, False)[len(t):]
    sepc_all = sign * standardize(ext_table, all_est, names, latent, sig, True)[len(t):]
    out = pd.DataFrame({"lhs": add["lhs"], "op": add["op"], "rhs": add["rhs"], "group": add["group"],
                        "mi": mi, "epc": epc, "sepc.lv": sepc_lv, "sepc.all": sepc_all})
    out = out[np.isfinite(out["mi"])]
    if minimum > 0:
        out = out[out["mi"] > minimum]
    if sort:
        out = out.sort_values("mi", ascending=False, kind="mergesort")
    return out.reset_index(drop=True)

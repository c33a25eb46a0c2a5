"""Starting values for the free parameters.

lavaan's "simple" rules (loadings 1, latent variances 0.05, residual variances
half the observed variance, intercepts at the sample means, everything else 0)
with one improvement for first-order factors: loadings start at the
covariance ratio ``s_ij / s_jm`` (``m`` = the marker indicator), which equals
the loading when the one-factor model holds (the idea of Hagglund's FABIN
estimator, reduced to medians of ratios). Good starts mean fewer iterations,
which matters when a Monte Carlo study refits a model thousands of times.
User ``start()`` modifiers always win.
"""

from __future__ import annotations

import numpy as np

from analysis.sem.partable import ParTable
from analysis.sem.samplestats import GroupData


def _marker_loadings(rows: list[int], cols: dict[str, np.ndarray], ov_index: dict[str, int],
                     cov: np.ndarray) -> tuple[dict, dict]:
    """Loading and latent-variance guesses per (factor, indicator) from one group's covariances
    (``rows``: the group's rows of the table, ``cols``: its columns as arrays)."""
    loadings: dict[tuple[str, str], float] = {}
    lv_var: dict[str, float] = {}
    lhs, op, rhs, free, ustart = cols["lhs"], cols["op"], cols["rhs"], cols["free"], cols["ustart"]
    by_factor: dict[str, list[int]] = {}
    for i in rows:
        if op[i] == "=~":
            by_factor.setdefault(lhs[i], []).append(i)
    for f, idx in by_factor.items():
        inds = [rhs[i] for i in idx if rhs[i] in ov_index]
        if len(inds) < 2 or len(inds) != len(idx):
            continue
        fixed = [i for i in idx if free[i] == 0 and ustart[i] != 0]
        marker = rhs[fixed[0]] if fixed else inds[0]
        scale = float(ustart[fixed[0]]) if fixed else 1.0
        m = ov_index[marker]
        est = {marker: scale}
        for x in inds:
            if x == marker:
                continue
            i = ov_index[x]
            ratios = [cov[i, ov_index[y]] / cov[ov_index[y], m] * scale
                      for y in inds if y not in (x, marker) and abs(cov[ov_index[y], m]) > 1e-8]
            if not ratios:  # two indicators: split the covariance evenly
                ratios = [np.sign(cov[i, m]) * scale]
            est[x] = float(np.clip(np.median(ratios), -10, 10))
        psi = [cov[ov_index[x], m] / (est[x] * scale) for x in inds
               if x != marker and abs(est[x]) > 1e-3]
        lv_var[f] = float(max(np.median(psi), 0.05)) if psi else 0.05
        for x in inds:
            loadings[(f, x)] = est[x]
    return loadings, lv_var


def start_values(partable: ParTable, groups: list[GroupData]) -> np.ndarray:
    """Starting vector for the free parameters (first row of each free index decides)."""
    t = partable.table
    cols = {c: t[c].to_numpy() for c in ("lhs", "op", "rhs", "group", "free", "ustart", "start")}
    lhs, op, rhs, grp, free, ustart, start = (cols[c] for c in ("lhs", "op", "rhs", "group", "free", "ustart",
                                                                 "start"))
    ov = list(partable.variables.ov)
    ov_index = {x: i for i, x in enumerate(ov)}
    lv = set(partable.variables.lv)
    theta = np.zeros(partable.npar)
    done = np.zeros(partable.npar, dtype=bool)
    guesses = []
    for g, gd in enumerate(groups):
        guesses.append(_marker_loadings(list(np.flatnonzero(grp == g + 1)), cols, ov_index, gd.cov))
    std_lv = any(op[i] == "~~" and lhs[i] in lv and lhs[i] == rhs[i] and free[i] == 0 and ustart[i] == 1
                 for i in range(len(t)))
    for i in range(len(t)):
        k = free[i] - 1
        if k < 0 or done[k]:
            continue
        done[k] = True
        gd = groups[grp[i] - 1]
        loadings, lv_var = guesses[grp[i] - 1]
        if not np.isnan(start[i]):
            theta[k] = start[i]
        elif op[i] == "=~":
            value = loadings.get((lhs[i], rhs[i]), 1.0)
            if std_lv:
                value *= np.sqrt(lv_var.get(lhs[i], 1.0))
            theta[k] = value
        elif op[i] == "~~" and lhs[i] == rhs[i]:
            if lhs[i] in ov_index:
                theta[k] = 0.5 * gd.cov[ov_index[lhs[i]], ov_index[lhs[i]]]
            else:
                theta[k] = lv_var.get(lhs[i], 0.05)
        elif op[i] == "~1" and lhs[i] in ov_index:
            theta[k] = gd.mean[ov_index[lhs[i]]]
    return theta

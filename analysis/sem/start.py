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


def _marker_loadings(block, ov_index, cov) -> tuple[dict, dict]:
    """Loading and latent-variance guesses per (factor, indicator) from one group's covariances."""
    loadings: dict[tuple[str, str], float] = {}
    lv_var: dict[str, float] = {}
    mm = block[block["op"] == "=~"]
    for f, rows in mm.groupby("lhs", sort=False):
        inds = [x for x in rows["rhs"] if x in ov_index]
        if len(inds) < 2 or len(inds) != len(rows):
            continue
        fixed = rows[(rows["free"] == 0) & (rows["ustart"] != 0)]
        marker = fixed["rhs"].iloc[0] if len(fixed) else inds[0]
        scale = float(fixed["ustart"].iloc[0]) if len(fixed) else 1.0
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
    ov = list(partable.variables.ov)
    ov_index = {x: i for i, x in enumerate(ov)}
    lv = set(partable.variables.lv)
    theta = np.zeros(partable.npar)
    done = np.zeros(partable.npar, dtype=bool)
    guesses = []
    for g, gd in enumerate(groups):
        guesses.append(_marker_loadings(t[t["group"] == g + 1], ov_index, gd.cov))
    std_lv = bool(((t["op"] == "~~") & t["lhs"].isin(lv) & (t["lhs"] == t["rhs"])
                   & (t["free"] == 0) & (t["ustart"] == 1)).any())
    for r in t.itertuples():
        k = r.free - 1
        if k < 0 or done[k]:
            continue
        done[k] = True
        gd = groups[r.group - 1]
        loadings, lv_var = guesses[r.group - 1]
        if not np.isnan(r.start):
            theta[k] = r.start
        elif r.op == "=~":
            value = loadings.get((r.lhs, r.rhs), 1.0)
            if std_lv:
                value *= np.sqrt(lv_var.get(r.lhs, 1.0))
            theta[k] = value
        elif r.op == "~~" and r.lhs == r.rhs:
            if r.lhs in ov_index:
                theta[k] = 0.5 * gd.cov[ov_index[r.lhs], ov_index[r.lhs]]
            else:
                theta[k] = lv_var.get(r.lhs, 0.05)
        elif r.op == "~1" and r.lhs in ov_index:
            theta[k] = gd.mean[ov_index[r.lhs]]
    return theta

"""Reliability of factors measured by ordinal items, as ``semTools::reliability()`` (0.5-6) reports it
for a WLSMV fit: ordinal alpha and categorical omega.

* ``alpha`` - Cronbach's alpha of the items treated as numbers (the category codes 1..K that
  lavaan stores, over the complete rows); ``alpha.ord`` - Zumbo et al.'s (2007) ordinal alpha, the
  same formula on the polychoric correlation matrix:
  ``k / (k - 1) (1 - tr(R) / sum(R))``.
* ``omega``, ``omega2``, ``omega3`` - Green & Yang's (2009) categorical omega: the share of the
  variance of the sum of the *observed* item scores (not of the latent responses) that the factor
  explains. With thresholds ``tau_jc`` scaled by ``delta_j``, ``R = D (l l' psi) D`` the factor's
  part of the latent-response correlations and ``Phi2`` the bivariate normal CDF::

      omega = sum_{j, j'} [sum_{c, c'} Phi2(tau_jc, tau_j'c'; R_jj') - sum_c Phi(tau_jc) sum_c' Phi(tau_j'c')]
              / (the same with R replaced by a correlation matrix C)

  where ``C`` is the model's (``omega``: ``l l' psi + Theta``), the model-implied (``omega2``) or
  the sample polychoric (``omega3``) correlation matrix of the items (semTools' ``omegaCat``).
* ``avevar`` - the average variance extracted of the latent responses, ``sum l^2 psi / sum(l^2 psi
  + theta)``; ``cr`` and ``ave`` from the standardized loadings as in
  :func:`analysis.psychometrics.reliability.reliability`.

Examples
--------
``ordinal_reliability(fit(model, data, ordered=True))`` matches ``semTools::reliability(fit)``
(``tests/results/lavaan_ordinal/ord7_reliability_semTools.csv``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special

from analysis.sem.ordinal.bivariate import bvn_cdf

if TYPE_CHECKING:  # pragma: no cover
    from analysis.sem.fit import FitResult

ORDINAL_RELIABILITY_COLUMNS = ("factor", "k", "alpha", "alpha.ord", "omega", "omega2", "omega3", "avevar", "cr",
                               "ave")


def _alpha(s: np.ndarray) -> float:
    k = len(s)
    return float(k / (k - 1) * (1 - np.trace(s) / s.sum()))


def _phi2(t1: np.ndarray, t2: np.ndarray, r: float) -> np.ndarray:
    """``Phi2(t1_c, t2_c'; r)`` for all threshold pairs; the limits at ``|r| = 1`` (an item with itself)."""
    a, b = t1[:, None], t2[None, :]
    if r >= 1 - 1e-15:
        return special.ndtr(np.minimum(a, b))
    if r <= -1 + 1e-15:
        return np.maximum(special.ndtr(a) + special.ndtr(b) - 1.0, 0.0)
    return bvn_cdf(a, b, r)


def omega_categorical(truevar: np.ndarray, thresholds: list[np.ndarray], scales: np.ndarray,
                      denom: np.ndarray) -> float:
    """Green & Yang's (2009) categorical omega (semTools' ``omegaCat``): ``truevar`` the factor's part of
    the latent-response covariances of the items, ``thresholds`` per item, ``scales`` their
    ``delta``, ``denom`` the covariance matrix whose correlations make the denominator."""
    r = truevar * np.outer(scales, scales)
    d = np.sqrt(np.diag(denom))
    c = denom / np.outer(d, d)
    num = den = 0.0
    k = len(scales)
    for j in range(k):
        t1 = thresholds[j] * scales[j]
        for jp in range(k):
            t2 = thresholds[jp] * scales[jp]
            marg = special.ndtr(t1).sum() * special.ndtr(t2).sum()
            num += _phi2(t1, t2, r[j, jp]).sum() - marg
            den += _phi2(t1, t2, c[j, jp]).sum() - marg
    return float(num / den)


def ordinal_reliability(result: FitResult, group: int = 1) -> pd.DataFrame:
    """Reliability of each first-order factor of an ordinal (WLS-family) fit (see the module docstring).

    Returns a DataFrame with :data:`ORDINAL_RELIABILITY_COLUMNS`, one row per factor measured by
    observed items (factors of factors are skipped, as in the continuous version). Factors with
    continuous indicators among their items get the continuous formulas for omega (semTools does the
    same for a factor without ordinal items).
    """
    from analysis.sem.ordinal.fit import OrdinalEstimation

    est = result.estimation
    if not isinstance(est, OrdinalEstimation):
        raise TypeError("ordinal_reliability needs a fit with ordinal items (fit(..., ordered=...)); use "
                        "analysis.psychometrics.reliability.reliability for continuous ones")
    g = group - 1
    model = est.model
    st = est.stats[g]
    imp = model.implied(est.theta, g)
    t = est.partable.table
    values = model.row_values(est.theta)
    in_g = (t["group"] == group).to_numpy()
    ov = list(model.ov)
    lv = list(est.partable.variables.lv)
    p = len(ov)
    sig_all = imp.ram.sigma_all
    psi = sig_all[p:, p:]
    theta = imp.s_matrix[:p, :p]
    lam = np.zeros((p, len(lv)))
    for i in np.flatnonzero(in_g & (t["op"] == "=~").to_numpy()):
        if t["rhs"].iat[i] in ov:
            lam[ov.index(t["rhs"].iat[i]), lv.index(t["lhs"].iat[i])] = values[i]
    tau = {v: imp.tau[(st.th_var == ov.index(v))] for v in model.ordered}
    codes = est.codes[g]
    std = result.parameters
    rows = []
    for f_idx, f in enumerate(lv):
        index = np.flatnonzero(lam[:, f_idx] != 0)
        if len(index) < 2:
            continue
        names = [ov[i] for i in index]
        l_f = lam[index, f_idx]
        fac = np.outer(l_f, l_f) * psi[f_idx, f_idx]
        err = theta[np.ix_(index, index)]
        true_item = np.einsum("ij,jk,ik->i", lam[index], psi, lam[index])
        avevar = (float(np.diag(fac).sum() / (np.diag(fac) + np.diag(err)).sum())
                  if np.abs(true_item - np.diag(fac)).sum() < 1e-5 else float("nan"))
        sample = st.cov[np.ix_(index, index)]
        if all(n in model.ordered for n in names):
            x = codes[:, index].astype(float)
            x = x[(x > 0).all(axis=1)]
            alpha = _alpha(np.cov(x, rowvar=False))
            alpha_ord = _alpha(sample)
            ths = [tau[n] for n in names]
            scales = imp.delta[index]
            omega = omega_categorical(fac, ths, scales, fac + err)
            omega2 = omega_categorical(fac, ths, scales, imp.sigma[np.ix_(index, index)])
            omega3 = omega_categorical(fac, ths, scales, sample)
        else:  # continuous (or mixed) items: the continuous formulas on the latent-response scale
            alpha = alpha_ord = _alpha(sample)
            omega = fac.sum() / (fac.sum() + err.sum())
            omega2 = fac.sum() / imp.sigma[np.ix_(index, index)].sum()
            omega3 = fac.sum() / sample.sum()
        s = std[(std["group"] == group) & (std["op"] == "=~") & (std["lhs"] == f)]["std.all"].to_numpy(float)
        cr = s.sum() ** 2 / (s.sum() ** 2 + np.sum(1 - s ** 2))
        rows.append({"factor": f, "k": len(index), "alpha": alpha, "alpha.ord": alpha_ord, "omega": omega,
                     "omega2": omega2, "omega3": omega3, "avevar": avevar, "cr": cr, "ave": float(np.mean(s ** 2))})
    return pd.DataFrame(rows, columns=list(ORDINAL_RELIABILITY_COLUMNS))

"""Fit indices from test statistics, as lavaan 0.6.14 computes them (``lav_fit_*``).

Each function is a closed formula of chi-square values, degrees of freedom
and sample size; the robust variants take the scaling factors ``c_hat``
(Brosseau-Liard & Savalei 2014; Savalei 2018), following lavaan exactly:

* CFI ``= 1 - max(X2 - c df, 0) / max(X2 - c df, X2_0 - c_0 df_0, 0)``
* TLI ``= 1 - (X2 - c df) df_0 / ((X2_0 - c_0 df_0) df)``
* RMSEA ``= sqrt(G) sqrt(max(X2 / (N df) - c / N, 0))`` - lavaan divides by
  N (semopy uses N - 1); ``G`` is the number of groups;
* RMSEA confidence interval by inverting the non-central chi-square
  distribution, and the test of close fit (H0: RMSEA <= 0.05).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats


def cfi(x2: float, df: float, x2_null: float, df_null: float,
        c_hat: float = 1.0, c_hat_null: float = 1.0) -> float:
    """Comparative fit index (``c_hat``: robust version when both factors differ from 1)."""
    if not np.all(np.isfinite([x2, df, x2_null, df_null, c_hat, c_hat_null])):
        return float("nan")
    if not (df > 0 and c_hat != 1 and c_hat_null != 1):
        c_hat = c_hat_null = 1.0
    t1 = max(x2 - c_hat * df, 0.0)
    t2 = max(x2 - c_hat * df, x2_null - c_hat_null * df_null, 0.0)
    if np.isclose(t1, 0.0) and np.isclose(t2, 0.0):
        return 1.0
    return 1.0 - t1 / t2


def tli(x2: float, df: float, x2_null: float, df_null: float,
        c_hat: float = 1.0, c_hat_null: float = 1.0) -> float:
    """Tucker-Lewis index (non-normed fit index)."""
    if not np.all(np.isfinite([x2, df, x2_null, df_null, c_hat, c_hat_null])):
        return float("nan")
    if not (df > 0 and c_hat != 1 and c_hat_null != 1):
        c_hat = c_hat_null = 1.0
    t1 = (x2 - c_hat * df) * df_null
    t2 = (x2_null - c_hat_null * df_null) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    return 1.0


def rmsea(x2: float, df: float, n: int, groups: int = 1, c_hat: float = 1.0) -> float:
    """Root mean square error of approximation (lavaan: divides by N, times sqrt(G))."""
    if df <= 0:
        return 0.0
    if not np.all(np.isfinite([x2, df, c_hat])):
        return float("nan")
    return float(np.sqrt(max(x2 / n / df - c_hat / n, 0.0)) * np.sqrt(groups))


def rmsea_ci(x2: float, df: float, n: int, groups: int = 1, c_hat: float = 1.0,
             level: float = 0.90) -> tuple[float, float]:
    """Confidence interval of RMSEA (lavaan's ``lav_fit_rmsea_ci``)."""
    if not np.all(np.isfinite([x2, df, n])):
        return float("nan"), float("nan")
    if df < 1:
        return 0.0, 0.0
    if not np.isfinite(c_hat):
        return float("nan"), float("nan")
    upper_p = 1 - (1 - level) / 2
    lower_p = (1 - level) / 2

    def cdf(lam):
        return stats.chi2.cdf(x2, df) if lam <= 0 else stats.ncx2.cdf(x2, df, lam)

    if df < 1 or cdf(0.0) - upper_p < 0:
        lower = 0.0
    else:
        lam = optimize.brentq(lambda v: cdf(v) - upper_p, 0.0, x2, xtol=1e-12)
        lower = np.sqrt(c_hat * lam / (n * df)) * np.sqrt(groups)
    n_rmsea = max(n, 4 * x2)
    if df < 1 or cdf(n_rmsea) - lower_p > 0 or cdf(0.0) - lower_p < 0:
        upper = 0.0
    else:
        lam = optimize.brentq(lambda v: cdf(v) - lower_p, 0.0, n_rmsea, xtol=1e-12)
        upper = np.sqrt(c_hat * lam / (n * df)) * np.sqrt(groups)
    return float(lower), float(upper)


def rmsea_pvalue(x2: float, df: float, n: int, groups: int = 1, c_hat: float = 1.0,
                 h0: float = 0.05) -> float:
    """p-value of the test of close fit, H0: RMSEA <= ``h0`` (lavaan's ``rmsea.pvalue``)."""
    if df <= 0 or not np.all(np.isfinite([x2, df, c_hat])):
        return float("nan")
    ncp = (n * df / c_hat * h0 ** 2) / groups
    return float(stats.ncx2.sf(x2, df, ncp))


def srmr_bentler(sample_cov: np.ndarray, sample_mean: np.ndarray, implied_cov: np.ndarray,
                 implied_mean: np.ndarray, meanstructure: bool) -> float:
    """SRMR of one group as lavaan's ``srmr`` (Bentler: residuals scaled by sample SDs).

    The root mean square over the ``p(p+1)/2`` covariance residuals, plus the
    ``p`` mean residuals when the model has a mean structure.
    """
    sd = np.sqrt(np.diag(sample_cov))
    r = (sample_cov - implied_cov) / np.outer(sd, sd)
    idx = np.tril_indices(len(sd))
    ss, count = float(np.sum(r[idx] ** 2)), len(idx[0])
    if meanstructure:
        rm = (sample_mean - implied_mean) / sd
        ss += float(np.sum(rm ** 2))
        count += len(sd)
    return float(np.sqrt(ss / count))


def nfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """Normed fit index (Bentler-Bonett)."""
    if df > df_null or np.isclose(x2_null, 0.0):
        return float("nan")
    return (x2_null - x2) / x2_null if df > 0 else 1.0


def rfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """Relative fit index (Bollen's rho1)."""
    if df > df_null:
        return float("nan")
    if df > 0 and df_null > 0:
        t1, t2 = x2_null / df_null - x2 / df, x2_null / df_null
        return 1.0 if (t1 < 0 or t2 < 0) else t1 / t2
    return 1.0


def ifi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """Incremental fit index (Bollen's delta2)."""
    t1, t2 = x2_null - x2, x2_null - df
    if t2 < 0:
        return 1.0
    return float("nan") if np.isclose(t2, 0.0) else t1 / t2


def rni(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """Relative noncentrality index."""
    t1, t2 = x2 - df, x2_null - df_null
    return float("nan") if np.isclose(t2, 0.0) else 1.0 - t1 / t2


def pnfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """Parsimony-adjusted NFI."""
    if df_null > 0 and x2_null > 0:
        return (df / df_null) * (x2_null - x2) / x2_null
    return float("nan")


def rmsea_notclose_pvalue(x2: float, df: float, n: int, groups: int = 1, c_hat: float = 1.0,
                          h0: float = 0.08) -> float:
    """p-value of the test of not-close fit, H0: RMSEA >= ``h0`` (lavaan's ``rmsea.notclose.pvalue``)."""
    if df <= 0 or not np.all(np.isfinite([x2, df, c_hat])):
        return float("nan")
    ncp = (n * df / c_hat * h0 ** 2) / groups
    return float(stats.ncx2.cdf(x2, df, ncp))

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

The residual-based indices (RMR, SRMR in Bentler's and Mplus' versions, CRMR;
``lav_residuals_summary``, ``lav_fit_srmr_mplus``) and GFI (``lav_fit_gfi``)
take one group's sample and model-implied moments; the remaining ones (AGFI,
PGFI, CN, MFI, ECVI; ``lav_fit_other.R``) are closed formulas again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import optimize, special, stats

from analysis.sem.fiml import RowTerms, expected_quadratic

try:  # the ufunc behind scipy.stats.ncx2.sf: the same numbers without ~0.1 ms of argument checking per call
    from scipy.special._ufuncs import _ncx2_sf
except ImportError:  # pragma: no cover - other scipy versions
    _ncx2_sf = None


def _ncx2_survival(x: float, df: float, nc: float) -> float:
    """``P(X > x)`` for a non-central chi-square (``scipy.stats.ncx2.sf``; central when ``nc == 0``)."""
    if nc == 0:
        return float(special.chdtrc(df, x))
    if _ncx2_sf is None:  # pragma: no cover
        return float(stats.ncx2.sf(x, df, nc))
    return float(_ncx2_sf(x, df, nc))


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

    def cdf(lam):  # scipy.stats' chi2.cdf / ncx2.cdf without their per-call argument checking
        return special.chdtr(df, x2) if lam <= 0 else special.chndtr(x2, df, lam)

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
    return _ncx2_survival(x2, df, ncp)


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
    if not np.all(np.isfinite([x2, df, x2_null, df_null])):
        return float("nan")
    if df > df_null or np.isclose(x2_null, 0.0):
        return float("nan")
    return (x2_null - x2) / x2_null if df > 0 else 1.0


def rfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """Relative fit index (Bollen's rho1)."""
    if not np.all(np.isfinite([x2, df, x2_null, df_null])):
        return float("nan")
    if df > df_null:
        return float("nan")
    if df > 0 and df_null > 0:
        t1, t2 = x2_null / df_null - x2 / df, x2_null / df_null
        return 1.0 if (t1 < 0 or t2 < 0) else t1 / t2
    return 1.0


def ifi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """Incremental fit index (Bollen's delta2; lavaan subtracts the model's df from the null chi-square)."""
    if not np.all(np.isfinite([x2, df, x2_null, df_null])):
        return float("nan")
    t1, t2 = x2_null - x2, x2_null - df
    if t2 < 0:
        return 1.0
    return float("nan") if np.isclose(t2, 0.0) else t1 / t2


def rni(x2: float, df: float, x2_null: float, df_null: float,
        c_hat: float = 1.0, c_hat_null: float = 1.0) -> float:
    """Relative noncentrality index (``c_hat``: robust version when both factors differ from 1)."""
    if not np.all(np.isfinite([x2, df, x2_null, df_null, c_hat, c_hat_null])):
        return float("nan")
    if not (df > 0 and c_hat != 1 and c_hat_null != 1):
        c_hat = c_hat_null = 1.0
    t1, t2 = x2 - c_hat * df, x2_null - c_hat_null * df_null
    return float("nan") if np.isclose(t2, 0.0) else 1.0 - t1 / t2


def pnfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """Parsimony-adjusted NFI."""
    if not np.all(np.isfinite([x2, df, x2_null, df_null])):
        return float("nan")
    if df_null > 0 and x2_null > 0:
        return (df / df_null) * (x2_null - x2) / x2_null
    return float("nan")


def rmsea_notclose_pvalue(x2: float, df: float, n: int, groups: int = 1, c_hat: float = 1.0,
                          h0: float = 0.08) -> float:
    """p-value of the test of not-close fit, H0: RMSEA >= ``h0`` (lavaan's ``rmsea.notclose.pvalue``)."""
    if df <= 0 or not np.all(np.isfinite([x2, df, c_hat])):
        return float("nan")
    ncp = (n * df / c_hat * h0 ** 2) / groups
    return float(special.chndtr(x2, df, ncp)) if ncp != 0 else float(special.chdtr(df, x2))


# -- named sets of lavaan's fitMeasures(), shared by the ML and the ordinal pipelines ---------
def incremental_indices(x2: float, df: float, x2b: float, dfb: float, suffix: str = "") -> dict[str, float]:
    """NNFI (= TLI), RFI, NFI, PNFI, IFI and RNI of ``x2`` on ``df`` against the baseline ``x2b`` on
    ``dfb``, under lavaan's names with ``suffix`` (``""`` or ``".scaled"``)."""
    return {f"{name}{suffix}": index(x2, df, x2b, dfb)
            for name, index in (("nnfi", tli), ("rfi", rfi), ("nfi", nfi), ("pnfi", pnfi), ("ifi", ifi), ("rni", rni))}


def rmsea_measures(x2: float, df: float, n: int, groups: int, suffix: str = "", c_hat: float = 1.0,
                   x2_tests: float | None = None) -> dict[str, float]:
    """RMSEA, its 90% interval and the tests of close (0.05) and not-close (0.08) fit under lavaan's
    names with ``suffix`` (``""``, ``".scaled"``, ``".robust"``); the interval and tests use
    ``x2_tests`` (default ``x2``; the robust RMSEA's are from the scaled statistic). The plain set
    carries the level and the two null values too (``rmsea.ci.level``, ``rmsea.close.h0``,
    ``rmsea.notclose.h0``), in lavaan's order."""
    xt = x2 if x2_tests is None else x2_tests
    plain = suffix == ""
    lo, hi = rmsea_ci(xt, df, n, groups, c_hat)
    out = {f"rmsea{suffix}": rmsea(x2, df, n, groups, c_hat),
           f"rmsea.ci.lower{suffix}": lo, f"rmsea.ci.upper{suffix}": hi}
    if plain:
        out["rmsea.ci.level"] = 0.90
    out[f"rmsea.pvalue{suffix}"] = rmsea_pvalue(xt, df, n, groups, c_hat, h0=0.05)
    if plain:
        out["rmsea.close.h0"] = 0.05
    out[f"rmsea.notclose.pvalue{suffix}"] = rmsea_notclose_pvalue(xt, df, n, groups, c_hat, h0=0.08)
    if plain:
        out["rmsea.notclose.h0"] = 0.08
    return out


#: the names :func:`robust_measures` returns, in its order
ROBUST_MEASURES = ("cfi.robust", "tli.robust", "nnfi.robust", "rni.robust", "rmsea.robust",
                   "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust",
                   "rmsea.notclose.pvalue.robust")


def robust_measures(x2: float, df: float, x2b: float, dfb: float, c: float, cb: float, x2_scaled: float,
                    df3: float, n: int, groups: int) -> dict[str, float]:
    """lavaan's ``*.robust`` indices from the (corrected) chi-squares ``x2`` / ``x2b``, their scaling
    factors ``c`` / ``cb`` and the scaled statistic ``x2_scaled`` on ``df3`` df (the RMSEA's interval
    and tests are from ``x2_scaled``)."""
    return {"cfi.robust": cfi(x2, df, x2b, dfb, c, cb), "tli.robust": tli(x2, df, x2b, dfb, c, cb),
            "nnfi.robust": tli(x2, df, x2b, dfb, c, cb), "rni.robust": rni(x2, df, x2b, dfb, c, cb),
            **rmsea_measures(x2, df3, n, groups, ".robust", c, x2_tests=x2_scaled)}


# -- residual-based indices (lav_residuals_summary, lav_fit_srmr_mplus) ----------------
NEAR_ZERO = 1e-5  # lavaan's lav_residuals_rescale leaves moments below this unscaled


def _rescale(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``x * scale`` except where ``|x| < 1e-5`` (kept as is), as ``lav_residuals_rescale``."""
    return np.where(np.abs(x) < NEAR_ZERO, x, x * scale)


def _rms(values: np.ndarray, count: int) -> float:
    return float(np.sqrt(np.sum(values ** 2) / count)) if len(values) else 0.0


def residual_rms(sample_cov: np.ndarray, sample_mean: np.ndarray, implied_cov: np.ndarray,
                 implied_mean: np.ndarray, meanstructure: bool) -> dict[str, float]:
    """Root mean square residuals of one group, lavaan's names and formulas.

    Parameters
    ----------
    sample_cov, sample_mean : ndarray
        The group's sample moments (divisor N; with missing data the EM estimates).
    implied_cov, implied_mean : ndarray
        The model-implied moments (covariates included, as lavaan's fixed.x).
    meanstructure : bool
        Whether the model has a mean structure (then the totals include the means).

    Returns
    -------
    dict
        ``rmr`` (raw residuals), ``srmr_bentler`` (residuals scaled by the sample
        SDs), ``crmr`` (differences of correlations, diagonal not counted),
        ``srmr_mplus`` (Mplus: correlation residuals plus standardised variance and
        mean residuals) and each ``*_nomean`` (covariance part only): lavaan's
        ``lav_residuals_summary`` and ``lav_fit_srmr_mplus`` for one group.
    """
    p = len(sample_mean)
    idx = np.tril_indices(p)
    var_obs, var_est = np.diag(sample_cov), np.diag(implied_cov)
    sd_obs, sd_est = np.sqrt(var_obs), np.sqrt(var_est)
    out: dict[str, float] = {}
    kinds = {
        # name: (observed cov, implied cov, observed mean, implied mean, diagonal counted)
        "rmr": (sample_cov, implied_cov, sample_mean, implied_mean, True),
        "srmr_bentler": (_rescale(sample_cov, 1 / np.outer(sd_obs, sd_obs)),
                         _rescale(implied_cov, 1 / np.outer(sd_obs, sd_obs)),
                         _rescale(sample_mean, 1 / sd_obs), _rescale(implied_mean, 1 / sd_obs), True),
        "crmr": (_rescale(sample_cov, 1 / np.outer(sd_obs, sd_obs)),
                 _rescale(implied_cov, 1 / np.outer(sd_est, sd_est)),
                 _rescale(sample_mean, 1 / sd_obs), _rescale(implied_mean, 1 / sd_obs), False),
    }
    for name, (s, sig, m, mu, diagonal) in kinds.items():
        rc = (s - sig)[idx]
        ncov = len(rc) - (0 if diagonal else p)
        out[f"{name}_nomean"] = _rms(rc, ncov)
        out[name] = _rms(np.concatenate([m - mu, rc]), ncov + p) if meanstructure else out[f"{name}_nomean"]
    r_cor = sample_cov / np.outer(sd_obs, sd_obs) - implied_cov / np.outer(sd_est, sd_est)
    ss_cov = float(np.sum(r_cor[np.tril_indices(p, -1)] ** 2) + np.sum(((var_obs - var_est) / var_obs) ** 2))
    e = p * (p + 1) / 2
    out["srmr_mplus_nomean"] = float(np.sqrt(ss_cov / e))
    if meanstructure:
        r_mean = sample_mean / sd_obs - implied_mean / sd_est
        out["srmr_mplus"] = float(np.sqrt((ss_cov + np.sum(r_mean ** 2)) / (e + p)))
    else:
        out["srmr_mplus"] = out["srmr_mplus_nomean"]
    return out


# -- GFI family (lav_fit_gfi, lav_fit_other) -------------------------------------------
def gfi(obs_cov: np.ndarray, obs_mean: np.ndarray, implied_cov: np.ndarray, implied_mean: np.ndarray,
        meanstructure: bool, x_idx: Sequence[int] = (), rows: RowTerms | None = None) -> float:
    """Goodness-of-fit index of one group, ``1 - r' V r / s' V s`` (lavaan's ``lav_fit_gfi``).

    ``s = (mean, vech(cov))`` are lavaan's ``WLS.obs`` (with missing data the
    available-case means and pairwise covariances), ``r`` the residuals from the
    implied moments, and ``V`` the expected information of the saturated model at
    the implied moments (``h1.information = "structured"``), with the moments of
    the fixed covariates ``x_idx`` left out (zero rows, as lavaan's ``x.idx``).
    Complete data: ``V = diag(Sigma^-1, 1/2 D'(Sigma^-1 x Sigma^-1) D)``, so
    ``r' V r = r_m' W r_m + tr(W R W R) / 2`` with ``W = Sigma^-1``. Missing data
    (``rows``: :func:`analysis.sem.fiml.row_terms` at the implied moments): the
    average of that over rows, ``W`` the zero-padded inverse of each row's
    observed block (:func:`analysis.sem.fiml.expected_quadratic`).
    """
    p = len(obs_mean)
    keep_mean = np.ones(p, bool)
    keep_mean[list(x_idx)] = False
    keep_cov = ~np.outer(~keep_mean, ~keep_mean)
    use_mean = meanstructure or rows is not None  # lavaan's missing-data information always has the mean block
    w = np.linalg.inv(implied_cov)

    def quad(cov: np.ndarray, mean: np.ndarray) -> float:
        cov = np.where(keep_cov, cov, 0.0)
        mean = np.where(keep_mean, mean, 0.0)
        if rows is not None:
            return expected_quadratic(rows, cov, mean) / rows.n
        wc = w @ cov
        value = 0.5 * float(np.sum(wc * wc.T))
        if use_mean:
            value += float(mean @ w @ mean)
        return value

    return 1.0 - quad(obs_cov - implied_cov, obs_mean - implied_mean) / quad(obs_cov, obs_mean)


def agfi(gfi_value: float, nel: int, df: float) -> float:
    """Adjusted GFI ``1 - nel / df (1 - GFI)``; ``nel``: number of sample moments of all groups."""
    if not np.all(np.isfinite([gfi_value, nel, df])):
        return float("nan")
    return 1.0 - nel / df * (1.0 - gfi_value) if df > 0 else 1.0


def pgfi(gfi_value: float, nel: int, df: float) -> float:
    """Parsimony GFI ``df / nel GFI``."""
    if not np.all(np.isfinite([gfi_value, nel, df])) or nel == 0:
        return float("nan")
    return df / nel * gfi_value


def hoelter_cn(x2: float, df: float, n: int, alpha: float = 0.05) -> float:
    """Hoelter's critical N ``qchisq(1 - alpha, df) / (X2 / N) + 1`` (lavaan's ``cn_05``, ``cn_01``).

    NaN for a saturated model (df 0 and chi-square zero; lavaan tests against
    machine epsilon, here 1e-8 because an optimiser leaves ~1e-13 there).
    """
    if not np.all(np.isfinite([x2, df])) or (df == 0 and x2 < 1e-8):
        return float("nan")
    return float(stats.chi2.ppf(1 - alpha, df) / (x2 / n) + 1)


def mfi(x2: float, df: float, n: int) -> float:
    """McDonald's fit index ``exp(-(X2 - df) / (2 N))``."""
    return float(np.exp(-0.5 * (x2 - df) / n))


def ecvi(x2: float, npar: int, n: int) -> float:
    """Expected cross-validation index ``X2 / N + 2 npar / N``."""
    return x2 / n + 2 * npar / n

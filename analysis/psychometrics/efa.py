"""Exploratory factor analysis for scale development, with parallel analysis.

EFA uses statsmodels' ``Factor`` (maximum likelihood or principal axis) and
its rotations - maintained code that works with the pinned stack, unlike
factor_analyzer (breaks under pandas 3 / scikit-learn 1.9) or semopy's EFA
helpers (break under current scipy / numpy). Parallel analysis (Horn 1965) is
written here because no maintained Python package offers it: it is a few
lines of linear algebra on random normal data.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.multivariate.factor import Factor
from statsmodels.multivariate.factor_rotation import rotate_factors

from analysis.sem.samplestats import em_saturated
from smecore.errors import DataError, OptionError

ROTATIONS = ("varimax", "promax", "oblimin", None)
MISSING = ("listwise", "pairwise", "em")
#: Relative change of the log-likelihood at which the EM of ``missing="em"`` stops: correlations to
#: about 4 decimals (the SEM engine's 1e-12 serves exact chi-squares and costs thousands of iterations here).
EM_TOL = 1e-9


@dataclass(frozen=True)
class EFAResult:
    """Loadings (items x factors), communalities/uniquenesses, factor correlations, variance explained."""

    loadings: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    factor_correlations: pd.DataFrame
    variance: pd.DataFrame  # factor, ss.loadings, proportion, cumulative
    method: str
    rotation: str | None
    n: int


def _matrix(data: pd.DataFrame, items: Sequence[str] | None, missing: str = "listwise") -> pd.DataFrame:
    """The items as numbers: complete rows (``listwise``) or every row answering at least one (``em``)."""
    if missing not in MISSING:
        raise OptionError(f"The 'missing' parameter must be one of {list(MISSING)}. Got {missing!r}.")
    items = list(items) if items is not None else list(data.columns)
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise DataError(f"EFA: column(s) {absent} not in the data")
    x = data[items].apply(pd.to_numeric, errors="coerce")
    x = x.dropna() if missing == "listwise" else x.dropna(how="all")
    constant = [c for c in items if x[c].nunique() < 2]
    if constant:
        raise DataError(f"EFA: item(s) {constant} are constant; drop them")
    what = "complete rows" if missing == "listwise" else "rows answering any item"
    if len(x) <= len(items):
        raise DataError(f"EFA: {len(x)} {what} for {len(items)} items; need more rows than items")
    return x


def correlations(data: pd.DataFrame, items: Sequence[str] | None = None, *,
                 missing: str = "listwise") -> tuple[pd.DataFrame, int]:
    """The items' correlation matrix and the number of rows it rests on.

    ``missing="listwise"``: Pearson correlations of the complete rows; ``"pairwise"``: of the rows
    answering both items of each pair (``psych::fa``'s default ``use = "pairwise"``; a matrix that is
    not positive definite is smoothed as ``psych::cor.smooth``: eigenvalues below 1e-8 raised to it and
    the diagonal rescaled to 1); ``"em"``: the correlations of the EM (maximum likelihood) estimate of
    the covariance matrix from every row that answers at least one item
    (:func:`analysis.sem.samplestats.em_saturated`, as lavaan's h1 model under ``missing = "ml"``) -
    unbiased under MAR, but slow to converge when there are few rows per item. The number of rows
    returned is that of the complete rows (listwise) or of the rows answering any item. On complete
    data all three are the same.
    """
    x = _matrix(data, items, missing)
    if missing == "listwise":
        r = np.corrcoef(x.to_numpy(dtype=float), rowvar=False)
    elif missing == "pairwise":
        r = x.corr().to_numpy()
        if not np.isfinite(r).all():
            bad = [(a, b) for a in x.columns for b in x.columns if a < b and not np.isfinite(r[x.columns.get_loc(a),
                                                                                           x.columns.get_loc(b)])]
            raise DataError(f"EFA: no correlation for item pair(s) {bad[:3]} (fewer than 2 rows answer both)")
        w, v = np.linalg.eigh(r)
        if w.min() < 1e-8:
            r = v @ np.diag(np.maximum(w, 1e-8)) @ v.T
            d = np.sqrt(np.diag(r))
            r = r / np.outer(d, d)
    else:
        _, cov, _ = em_saturated(x.to_numpy(dtype=float), tol=EM_TOL)
        d = np.sqrt(np.diag(cov))
        r = cov / np.outer(d, d)
    return pd.DataFrame(r, index=x.columns, columns=x.columns), len(x)


def efa(data: pd.DataFrame, n_factors: int, *, items: Sequence[str] | None = None, method: str = "ml",
        rotation: str | None = "oblimin", missing: str = "listwise") -> EFAResult:
    """Exploratory factor analysis of ``items`` on their correlation matrix.

    ``missing``: ``"listwise"`` (complete rows) or ``"em"`` (the EM correlation matrix of every
    row, see :func:`correlations`; ``n`` is then the number of rows that answered any item).
    ``method``: ``"ml"`` (maximum likelihood, as ``factanal``) or ``"pa"``
    (principal axis). Rotations: varimax (orthogonal, with Kaiser
    normalisation as R's ``varimax``), promax / oblimin (oblique; factor
    correlations ``Phi = T'T`` reported). Loading signs are set so that each
    factor's largest loading is positive. :func:`efa_correlations` does the same from a correlation matrix.
    """
    if method not in ("ml", "pa"):
        raise OptionError(f"The 'method' parameter must be one of ['ml', 'pa']. Got {method!r}.")
    if rotation not in ROTATIONS:
        raise OptionError(f"The 'rotation' parameter must be one of {list(ROTATIONS)}. Got {rotation!r}.")
    r, n = correlations(data, items, missing=missing)
    return efa_correlations(r, n, n_factors, method=method, rotation=rotation)


def efa_correlations(r: pd.DataFrame, n: int, n_factors: int, *, method: str = "ml",
                     rotation: str | None = "oblimin") -> EFAResult:
    """:func:`efa` of a labelled correlation matrix ``r`` resting on ``n`` rows (e.g. from :func:`correlations`)."""
    if method not in ("ml", "pa"):
        raise OptionError(f"The 'method' parameter must be one of ['ml', 'pa']. Got {method!r}.")
    if rotation not in ROTATIONS:
        raise OptionError(f"The 'rotation' parameter must be one of {list(ROTATIONS)}. Got {rotation!r}.")
    if not 1 <= n_factors < r.shape[1]:
        raise OptionError(f"n_factors must be between 1 and {r.shape[1] - 1}; got {n_factors}")
    # statsmodels (0.15) draws ML start values from fresh OS entropy unless given a seed: fixed here, so that
    # the same data give the same loadings (and reports the same bytes)
    seeded = {"rng": 0} if method == "ml" and "rng" in inspect.signature(Factor.fit).parameters else {}
    res = Factor(None, n_factor=n_factors, method=method, corr=r.to_numpy(), nobs=n).fit(**seeded)
    x = r  # item names (index and columns)
    names = [f"F{k + 1}" for k in range(n_factors)]
    phi = np.eye(n_factors)
    lam = np.asarray(res.loadings_no_rot if hasattr(res, "loadings_no_rot") else res.loadings)
    if rotation == "varimax" and n_factors > 1:
        h = np.sqrt((lam ** 2).sum(axis=1))[:, None]  # Kaiser normalisation, as stats::varimax
        rotated, _ = rotate_factors(lam / h, "varimax")
        lam = rotated * h
    elif rotation is not None and n_factors > 1:
        res.rotate(rotation)
        lam = np.asarray(res.loadings)
        t = np.asarray(res.rotation_matrix)
        phi = t.T @ t
    signs = np.sign(lam[np.abs(lam).argmax(axis=0), np.arange(n_factors)])
    lam = lam * signs
    phi = phi * np.outer(signs, signs)
    d = np.sqrt(np.diag(phi))
    phi = phi / np.outer(d, d)
    loadings = pd.DataFrame(lam, index=x.columns, columns=names)
    common = pd.Series(np.einsum("ij,jk,ik->i", lam, phi, lam), index=x.columns, name="communality")
    ss = (lam ** 2).sum(axis=0) if rotation not in ("promax", "oblimin") else \
        np.diag(phi @ lam.T @ lam)
    variance = pd.DataFrame({"factor": names, "ss.loadings": ss, "proportion": ss / x.shape[1]})
    variance["cumulative"] = variance["proportion"].cumsum()
    return EFAResult(loadings, common, 1 - common.rename("uniqueness"),
                     pd.DataFrame(phi, index=names, columns=names), variance, method, rotation, n)


def parallel_analysis(data: pd.DataFrame, *, items: Sequence[str] | None = None, n_iter: int = 100,
                      quantile: float = 0.95, seed: int = 0,
                      missing: str = "listwise") -> tuple[pd.DataFrame, dict[str, int]]:
    """Horn's parallel analysis for the number of factors (principal components and common factors).

    Eigenvalues of the observed correlation matrix are compared with the
    ``quantile`` of eigenvalues from ``n_iter`` random normal data sets of the
    same size (Glorfeld 1995's 95th percentile, less prone to over-extraction
    than the mean); the common-factor version uses the reduced correlation
    matrix with squared multiple correlations on the diagonal (as
    ``psych::fa.parallel``). Deterministic for a given ``seed``. ``missing``: as
    :func:`efa` (with ``"em"`` the random data sets have as many rows as answered any item).

    Returns ``(table, suggestion)``: the table has ``k, observed.pc, random.pc,
    observed.fa, random.fa``; ``suggestion`` the number of components and
    factors to retain (eigenvalues above the random ones, counted from the first).
    """
    r_obs, n = correlations(data, items, missing=missing)
    return parallel_analysis_correlations(r_obs, n, n_iter=n_iter, quantile=quantile, seed=seed)


def parallel_analysis_correlations(r_obs: pd.DataFrame, n: int, *, n_iter: int = 100, quantile: float = 0.95,
                                   seed: int = 0) -> tuple[pd.DataFrame, dict[str, int]]:
    """:func:`parallel_analysis` of a correlation matrix ``r_obs`` resting on ``n`` rows."""
    p = r_obs.shape[1]

    def eig(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pc = np.sort(np.linalg.eigvalsh(r))[::-1]
        smc = 1 - 1 / np.diag(np.linalg.inv(r))
        reduced = r.copy()
        np.fill_diagonal(reduced, smc)
        fa = np.sort(np.linalg.eigvalsh(reduced))[::-1]
        return pc, fa

    obs_pc, obs_fa = eig(r_obs.to_numpy())
    rng = np.random.default_rng(seed)
    sims_pc, sims_fa = np.empty((n_iter, p)), np.empty((n_iter, p))
    for i in range(n_iter):
        z = rng.standard_normal((n, p))
        sims_pc[i], sims_fa[i] = eig(np.corrcoef(z, rowvar=False))
    rnd_pc, rnd_fa = np.quantile(sims_pc, quantile, axis=0), np.quantile(sims_fa, quantile, axis=0)

    def retained(obs, rnd):
        above = obs > rnd
        return int(np.argmin(above)) if not above.all() else len(obs)

    table = pd.DataFrame({"k": np.arange(1, p + 1), "observed.pc": obs_pc, "random.pc": rnd_pc,
                          "observed.fa": obs_fa, "random.fa": rnd_fa})
    return table, {"components": retained(obs_pc, rnd_pc), "factors": retained(obs_fa, rnd_fa)}

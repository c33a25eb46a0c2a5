"""Sample statistics per group: complete-data moments, missing-data patterns, the saturated (h1) model.

What goes in: a numeric array per group (rows = cases, columns = the model's
observed variables, NaN = missing). What comes out: :class:`GroupData` with
``n``, the ML moments (covariance with divisor ``n``, as lavaan's
``likelihood="normal"``), and for FIML the missing-data patterns and the
saturated model estimated by EM (lavaan's ``lav_mvnorm_missing_h1_estimate_moments``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LOG2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class Pattern:
    """Cases sharing one set of observed variables."""

    observed: np.ndarray  # column indices observed in this pattern
    rows: np.ndarray  # row indices (into the group's data) of the cases
    n: int
    mean: np.ndarray  # mean of the observed columns over these cases
    cov: np.ndarray  # covariance (divisor n) of the observed columns over these cases


@dataclass(frozen=True)
class RowGroups:
    """Rows of incomplete data grouped by how many values they miss (for vectorised FIML).

    ``filled`` is the data with missing cells set to 0; ``by_k[k] = (rows, missing)``
    lists the rows missing exactly ``k`` values (``k <= MAX_VECTOR_K``) and the
    column indices they miss (``len(rows) x k``); rows missing more are in ``rest``
    as ordinary patterns.
    """

    filled: np.ndarray
    complete: np.ndarray  # rows with nothing missing
    by_k: dict[int, tuple[np.ndarray, np.ndarray]]
    rest: tuple[Pattern, ...]


MAX_VECTOR_K = 4


def row_groups(x: np.ndarray) -> RowGroups:
    """Group the rows of ``x`` (NaN = missing) by their number of missing values."""
    miss = np.isnan(x)
    k = miss.sum(axis=1)
    by_k = {}
    for kk in range(1, MAX_VECTOR_K + 1):
        rows = np.flatnonzero(k == kk)
        if len(rows):
            cols = np.nonzero(miss[rows])[1].reshape(len(rows), kk)
            by_k[kk] = (rows, cols)
    many = np.flatnonzero(k > MAX_VECTOR_K)
    rest = ()
    if len(many):
        sub = missing_patterns(x[many])
        rest = tuple(Pattern(pt.observed, many[pt.rows], pt.n, pt.mean, pt.cov) for pt in sub)
    return RowGroups(np.where(miss, 0.0, x), np.flatnonzero(k == 0), by_k, rest)


@dataclass(frozen=True)
class GroupData:
    """One group's data and sample statistics.

    ``mean``/``cov`` are the sample moments for complete data, and the EM
    (saturated-model) estimates when the data have missing values.
    """

    data: np.ndarray
    n: int
    mean: np.ndarray
    cov: np.ndarray
    patterns: tuple[Pattern, ...] | None = None
    h1_loglik: float = float("nan")
    rows: RowGroups | None = None  # incomplete data only: rows grouped for vectorised FIML
    cluster: np.ndarray | None = None  # cluster code of each row (cluster-robust statistics)

    @property
    def has_missing(self) -> bool:
        return self.rows is not None


def missing_patterns(x: np.ndarray) -> tuple[Pattern, ...]:
    """Group the rows of ``x`` by which columns are observed (rows with nothing observed are dropped)."""
    obs = ~np.isnan(x)
    keys, inverse = np.unique(obs, axis=0, return_inverse=True)
    patterns = []
    for k, key in enumerate(keys):
        if not key.any():
            continue
        rows = np.flatnonzero(inverse.ravel() == k)
        cols = np.flatnonzero(key)
        sub = x[np.ix_(rows, cols)]
        mean = sub.mean(axis=0)
        centred = sub - mean
        patterns.append(Pattern(cols, rows, len(rows), mean, centred.T @ centred / len(rows)))
    return tuple(patterns)


def pattern_loglik(patterns: tuple[Pattern, ...], mean: np.ndarray, cov: np.ndarray) -> float:
    """Normal log-likelihood of incomplete data summarised by patterns, at ``(mean, cov)``."""
    total = 0.0
    for pat in patterns:
        o = pat.observed
        sig = cov[np.ix_(o, o)]
        chol = np.linalg.cholesky(sig)
        logdet = 2 * np.log(np.diag(chol)).sum()
        d = pat.mean - mean[o]
        inv = np.linalg.inv(sig)
        total += -0.5 * pat.n * (len(o) * LOG2PI + logdet + np.sum(inv * (pat.cov + np.outer(d, d))))
    return float(total)


def em_saturated(x: np.ndarray, patterns: tuple[Pattern, ...], tol: float = 1e-12,
                 max_iter: int = 10_000) -> tuple[np.ndarray, np.ndarray, float]:
    """EM estimates of the unrestricted mean and covariance of incomplete normal data.

    Returns ``(mean, cov, loglik)``. Convergence: relative change of the
    log-likelihood below ``tol`` (much tighter than lavaan's default, so that
    the saturated log-likelihood, and hence chi-square, is exact to print precision).
    """
    n, p = x.shape
    mean = np.nanmean(x, axis=0)
    cov = np.diag(np.nanvar(x, axis=0))
    old = -np.inf
    for _ in range(max_iter):
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for pat in patterns:
            o = pat.observed
            m = np.setdiff1d(np.arange(p), o)
            sub = x[np.ix_(pat.rows, o)]
            if len(m) == 0:
                t1 += sub.sum(axis=0)
                t2 += sub.T @ sub
                continue
            s_oo = cov[np.ix_(o, o)]
            s_mo = cov[np.ix_(m, o)]
            beta = np.linalg.solve(s_oo, s_mo.T).T  # regression of missing on observed
            resid_cov = cov[np.ix_(m, m)] - beta @ s_mo.T
            yhat = mean[m] + (sub - mean[o]) @ beta.T
            full = np.empty((len(pat.rows), p))
            full[:, o] = sub
            full[:, m] = yhat
            t1 += full.sum(axis=0)
            t2 += full.T @ full
            t2[np.ix_(m, m)] += len(pat.rows) * resid_cov
        mean = t1 / n
        cov = t2 / n - np.outer(mean, mean)
        cov = (cov + cov.T) / 2
        ll = pattern_loglik(patterns, mean, cov)
        if abs(ll - old) <= tol * (1 + abs(ll)):
            return mean, cov, ll
        old = ll
    return mean, cov, ll


def group_data(x: np.ndarray, h1: bool = True, fiml: bool = False, cluster: np.ndarray | None = None) -> GroupData:
    """Sample statistics of one group (``x``: cases x variables, NaN = missing).

    ``fiml=True`` prepares complete data for the FIML objective too (one
    missing-data pattern), so that ``missing="fiml"`` gives lavaan's
    ``missing="ml"`` results whether or not the data happen to have holes.
    ``cluster`` (one code per row) is kept beside the data for cluster-robust
    statistics.

    With missing values and ``h1=True`` the saturated model is estimated by EM
    (needed for chi-square and robust statistics); ``h1=False`` - the fast
    path of refits that need estimates only - uses available-case means and
    pairwise covariances, which only serve as starting values.
    """
    x = np.asarray(x, dtype=float)
    n, p = x.shape
    if np.isnan(x).any():
        empty = np.isnan(x).all(axis=1)
        if empty.any():  # rows with nothing observed carry no information
            x = x[~empty]
            cluster = None if cluster is None else cluster[~empty]
        if h1:
            pats = missing_patterns(x)
            mean, cov, ll = em_saturated(x, pats)
        else:  # refits: no patterns, no EM (the exact Hessian and h1 statistics are not needed)
            pats = ()
            frame = pd.DataFrame(x)
            mean, ll = frame.mean().to_numpy(), float("nan")
            cov = frame.cov(min_periods=2).fillna(0.0).to_numpy() * (len(x) - 1) / len(x)
        return GroupData(x, len(x), mean, cov, pats, ll, row_groups(x), cluster)
    mean = x.mean(axis=0)
    centred = x - mean
    cov = centred.T @ centred / n
    sign, logdet = np.linalg.slogdet(cov)
    ll = -0.5 * n * (p * LOG2PI + logdet + p) if sign > 0 else float("nan")
    if fiml:
        return GroupData(x, n, mean, cov, (Pattern(np.arange(p), np.arange(n), n, mean, cov),), ll, row_groups(x),
                         cluster)
    return GroupData(x, n, mean, cov, None, ll, None, cluster)

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

    @property
    def has_missing(self) -> bool:
        return self.patterns is not None


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


def group_data(x: np.ndarray) -> GroupData:
    """Sample statistics of one group (``x``: cases x variables, NaN = missing)."""
    x = np.asarray(x, dtype=float)
    n, p = x.shape
    if np.isnan(x).any():
        pats = missing_patterns(x)
        keep = np.concatenate([pat.rows for pat in pats])
        if len(keep) < n:  # rows with nothing observed carry no information
            x = x[np.sort(keep)]
            pats = missing_patterns(x)
        mean, cov, ll = em_saturated(x, pats)
        return GroupData(x, len(x), mean, cov, pats, ll)
    mean = x.mean(axis=0)
    centred = x - mean
    cov = centred.T @ centred / n
    sign, logdet = np.linalg.slogdet(cov)
    ll = -0.5 * n * (p * LOG2PI + logdet + p) if sign > 0 else float("nan")
    return GroupData(x, n, mean, cov, None, ll)

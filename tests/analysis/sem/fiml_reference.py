"""Plain per-pattern reference implementations of the FIML quantities (the engine's formulas before
issue 13, written as loops over missing-data patterns with an explicit inverse of each observed
block). The vectorised code in :mod:`analysis.sem.fiml` is checked against these; they are slow
and obvious on purpose."""

from __future__ import annotations

import numpy as np

from analysis.sem.samplestats import LOG2PI, missing_patterns
from analysis.sem.vech import vech_indices


def loglik(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> float:
    """Normal log-likelihood of incomplete data, pattern by pattern."""
    total = 0.0
    for pat in missing_patterns(x):
        o = pat.observed
        sig = cov[np.ix_(o, o)]
        d = pat.mean - mean[o]
        inv = np.linalg.inv(sig)
        total += -0.5 * pat.n * (len(o) * LOG2PI + np.linalg.slogdet(sig)[1] + np.sum(inv * (pat.cov + np.outer(d, d))))
    return float(total)


def em(x: np.ndarray, tol: float = 1e-12, max_iter: int = 10_000) -> tuple[np.ndarray, np.ndarray, float]:
    """EM for the saturated model by regression imputation within each pattern."""
    patterns = missing_patterns(x)
    n, p = x.shape
    mean = np.nanmean(x, axis=0)
    cov = np.diag(np.nanvar(x, axis=0))
    old = -np.inf
    for _ in range(max_iter):
        t1, t2 = np.zeros(p), np.zeros((p, p))
        for pat in patterns:
            o = pat.observed
            m = np.setdiff1d(np.arange(p), o)
            sub = x[np.ix_(pat.rows, o)]
            full = np.empty((len(pat.rows), p))
            full[:, o] = sub
            if len(m):
                beta = np.linalg.solve(cov[np.ix_(o, o)], cov[np.ix_(m, o)].T).T
                full[:, m] = mean[m] + (sub - mean[o]) @ beta.T
                t2[np.ix_(m, m)] += len(pat.rows) * (cov[np.ix_(m, m)] - beta @ cov[np.ix_(m, o)].T)
            t1 += full.sum(axis=0)
            t2 += full.T @ full
        mean = t1 / n
        cov = t2 / n - np.outer(mean, mean)
        cov = (cov + cov.T) / 2
        ll = loglik(x, mean, cov)
        if abs(ll - old) <= tol * (1 + abs(ll)):
            return mean, cov, ll
        old = ll
    return mean, cov, ll


def saturated_hessian(x: np.ndarray, mean: np.ndarray, cov: np.ndarray, expected: bool = False) -> np.ndarray:
    """Hessian of ``-2 logL`` (summed over rows) in (means, vech(Sigma)) at ``(mean, cov)``:
    per pattern ``2W``, ``2 T(W, W S~ W) - T(W, W)`` (``T(W, W)`` when expected) and the cross terms."""
    p = len(mean)
    a, b = vech_indices(p)
    h = np.where(a == b, 0.5, 1.0)
    hh = np.outer(h, h)
    q = p + len(a)
    hess = np.zeros((q, q))

    def kron(P, Q):
        return hh * (Q[np.ix_(a, a)] * P[np.ix_(b, b)] + Q[np.ix_(a, b)] * P[np.ix_(b, a)]
                     + Q[np.ix_(b, a)] * P[np.ix_(a, b)] + Q[np.ix_(b, b)] * P[np.ix_(a, a)])

    for pat in missing_patterns(x):
        o = pat.observed
        w = np.zeros((p, p))
        w[np.ix_(o, o)] = np.linalg.inv(cov[np.ix_(o, o)])
        d = np.zeros(p)
        d[o] = pat.mean - mean[o]
        s = np.zeros((p, p))
        s[np.ix_(o, o)] = pat.cov + np.outer(d[o], d[o])
        z = w @ s @ w
        hess[:p, :p] += pat.n * 2.0 * w
        if expected:
            hess[p:, p:] += pat.n * kron(w, w)
            continue
        hess[p:, p:] += pat.n * (2.0 * kron(w, z) - kron(w, w))
        wd = w @ d
        c = (wd[a] * h)[:, None] * w[b] + (wd[b] * h)[:, None] * w[a]
        hess[p:, :p] += pat.n * 2.0 * c
        hess[:p, p:] += pat.n * 2.0 * c.T
    return hess


def saturated_scores(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Case-wise scores of the log-likelihood in (means, vech(Sigma)), row by row."""
    n, p = x.shape
    a, b = vech_indices(p)
    out = np.zeros((n, p + len(a)))
    for i in range(n):
        o = np.flatnonzero(~np.isnan(x[i]))
        w = np.zeros((p, p))
        w[np.ix_(o, o)] = np.linalg.inv(cov[np.ix_(o, o)])
        r = np.zeros(p)
        r[o] = x[i, o] - mean[o]
        wr = w @ r
        g = 0.5 * (np.outer(wr, wr) - w)
        out[i, :p] = wr
        out[i, p:] = np.where(a == b, g[a, b], 2 * g[a, b])
    return out

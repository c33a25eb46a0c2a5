"""Sample statistics per group: complete-data moments, the rows grouped for FIML, the saturated (h1) model.

What goes in: a numeric array per group (rows = cases, columns = the model's
observed variables, NaN = missing). What comes out: :class:`GroupData` with
``n``, the ML moments (covariance with divisor ``n``, as lavaan's
``likelihood="normal"``), and for FIML the rows grouped by their missing values
(:class:`analysis.sem.fiml.RowGroups`) and the saturated model estimated by EM
(lavaan's ``lav_mvnorm_missing_h1_estimate_moments``). :func:`missing_patterns`
groups rows by pattern for callers that report patterns (Little's test).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.sem.fiml import LOG2PI, RowGroups, em_step, row_groups, row_terms
from smecore.errors import ConvergenceError

__all__ = ["LOG2PI", "GroupData", "Pattern", "RowGroups", "em_saturated", "group_data", "missing_patterns",
           "pairwise_moments", "row_groups"]


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
    h1_loglik: float = float("nan")
    rows: RowGroups | None = None  # FIML only: rows grouped by their missing values (analysis.sem.fiml)
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


def em_saturated(x: np.ndarray, patterns: object = None, tol: float = 1e-12,
                 max_iter: int = 10_000) -> tuple[np.ndarray, np.ndarray, float]:
    """EM estimates of the unrestricted mean and covariance of incomplete normal data.

    Returns ``(mean, cov, loglik)``. Convergence: relative change of the
    log-likelihood below ``tol`` (much tighter than lavaan's default, so that
    the saturated log-likelihood, and hence chi-square, is exact to print precision).
    Each E-step is one batched pass over the rows (:func:`analysis.sem.fiml.row_terms`:
    conditional means and covariances from the full-pattern inverse), which also
    gives the log-likelihood of the current estimates. ``patterns`` is not needed
    (accepted for callers that pass :func:`missing_patterns`' result).

    EM never lowers the log-likelihood; when it falls (by more than rounding) the covariance matrix
    has become numerically singular - too few rows observe some items together for an unrestricted
    covariance matrix of this many items - and :class:`ConvergenceError` is raised rather than
    iterating on (a quality report's 138 items on 300 rows fell after a few hundred iterations,
    then spent 10,000 iterations and minutes on a singular matrix).
    """
    rg = row_groups(np.asarray(x, dtype=float))
    mean = np.nanmean(x, axis=0)
    cov = np.diag(np.nanvar(x, axis=0))
    old = -np.inf
    ll = float("nan")
    for it in range(max_iter + 1):
        rt = row_terms(rg, mean, cov)
        if rt is None:  # pragma: no cover - EM keeps the covariance matrix positive definite
            raise np.linalg.LinAlgError("EM: covariance matrix not positive definite")
        ll = float(-0.5 * rt.minus2ll.sum())
        if it > 0 and abs(ll - old) <= tol * (1 + abs(ll)):
            break
        if ll < old - 1e-9 * (1 + abs(ll)):
            low = float(np.linalg.eigvalsh(cov)[0])
            raise ConvergenceError(
                f"EM for the saturated model failed: the log-likelihood fell at iteration {it} ({old:.12g} -> "
                f"{ll:.12g}) because the covariance matrix of the {x.shape[1]} variables became singular (smallest "
                f"eigenvalue {low:.2g}); {x.shape[0]} rows are too few, or observe too few of the variables "
                "together - use fewer variables or more rows")
        old = ll
        if it < max_iter:
            mean, cov = em_step(rt, mean)
    return mean, cov, ll


def pairwise_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Available-case means and pairwise covariances (divisor ``n``, as the rest; 0 where a pair is
    observed together fewer than twice): pandas' ``DataFrame.cov`` as three matrix products.

    For pair ``(j, k)`` over the rows observing both: ``cov = (S_jk - S_j S_k / n_jk) / (n_jk - 1)``
    with ``S_j`` the sum of ``x_j`` over those rows, scaled by ``(n - 1) / n``.
    """
    obs = ~np.isnan(x)
    x0 = np.where(obs, x, 0.0)
    o = obs.astype(float)
    pairs = o.T @ o
    sums = x0.T @ o  # [j, k]: sum of x_j over the rows observing k
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (x0.T @ x0 - sums * sums.T / pairs) / (pairs - 1)
        mean = x0.sum(axis=0) / obs.sum(axis=0)
    cov = np.where(pairs >= 2, cov, 0.0) * (len(x) - 1) / len(x)
    return mean, (cov + cov.T) / 2


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
            mean, cov, ll = em_saturated(x)
        else:  # refits: no EM (the exact Hessian and h1 statistics are not needed)
            mean, cov = pairwise_moments(x)
            ll = float("nan")
        return GroupData(x, len(x), mean, cov, ll, row_groups(x), cluster)
    mean = x.mean(axis=0)
    centred = x - mean
    cov = centred.T @ centred / n
    sign, logdet = np.linalg.slogdet(cov)
    ll = -0.5 * n * (p * LOG2PI + logdet + p) if sign > 0 else float("nan")
    return GroupData(x, n, mean, cov, ll, row_groups(x) if fiml else None, cluster)

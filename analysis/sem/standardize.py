"""Standardized solutions ``std.lv`` and ``std.all`` (lavaan's ``standardizedSolution`` conventions).

What goes in: the parameter table with estimates, and per group the
model-implied covariance matrix of all variables (observed and latent).
What comes out: two arrays aligned with the table rows.

Conventions (lavaan 0.6 ``lav_standardize_lv`` / ``lav_standardize_all``):

* ``std.lv`` rescales latent variables to unit variance; ``std.all`` also
  rescales observed variables, using their *model-implied* variances;
* loadings and regressions: ``est * sd(predictor) / sd(outcome)``;
* (residual) variances: ``est / sd^2``; intercepts and means: ``est / sd``;
* covariances between two different variables are divided by the square
  roots of the two *residual* variances (``cov.std=TRUE``), i.e. they become
  residual correlations - the convention semopy gets wrong;
* defined parameters are re-evaluated on the standardized values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def standardize(table: pd.DataFrame, est: np.ndarray, names: tuple[str, ...],
                latent: set[str], sigma_all: list[np.ndarray], observed_too: bool,
                nox: Sequence[str] = ()) -> np.ndarray:
    """Standardized values of every row of ``table`` (``observed_too=False``: std.lv; ``True``: std.all).

    ``sigma_all[g]`` is the implied covariance of ``names`` (observed then latent) in group ``g+1``.
    Rows with op ``:=`` are left as NaN (the caller evaluates them on the result).
    ``nox`` (with ``observed_too``): covariates left in their own metric, lavaan's ``std.nox``
    (``lav_standardize_all_nox``): not rescaled as predictors (rhs of ``~``), in their own
    (co)variances or in their means; still rescaled as the outcome of a ``~`` or indicator.
    """
    lhs, op, rhs, grp = (table[c].to_numpy() for c in ("lhs", "op", "rhs", "group"))
    return standardize_arrays(lhs, op, rhs, grp, est, names, latent, sigma_all, observed_too, nox)


def standardize_arrays(lhs: np.ndarray, op: np.ndarray, rhs: np.ndarray, grp: np.ndarray, est: np.ndarray,
                       names: tuple[str, ...], latent: set[str], sigma_all: list[np.ndarray], observed_too: bool,
                       nox: Sequence[str] = ()) -> np.ndarray:
    """:func:`standardize` on the table's ``lhs, op, rhs, group`` columns as arrays (what callers that
    standardize the same rows many times - a delta method - pass once)."""
    out = np.full(len(lhs), np.nan)
    index = {n: i for i, n in enumerate(names)}
    rescaled = np.array([observed_too or n in latent for n in names])
    is_nox = np.array([n in nox for n in names])
    for g, sig in enumerate(sigma_all):
        var = np.diag(sig).copy()
        var[var < 0] = np.nan
        sd = np.sqrt(var)
        scale = np.where(rescaled, sd, 1.0)
        keep = np.where(is_nox, 1.0, scale)  # nox: x in own metric
        in_g = grp == g + 1
        # residual variances of this group (the ~~ diagonal rows)
        resvar = {}
        for i in np.flatnonzero(in_g & (op == "~~") & (lhs == rhs)):
            resvar[lhs[i]] = est[i]
        for i in np.flatnonzero(in_g):
            o = op[i]
            if o == "=~":
                out[i] = est[i] * scale[index[lhs[i]]] / scale[index[rhs[i]]]
            elif o == "~":
                out[i] = est[i] * keep[index[rhs[i]]] / scale[index[lhs[i]]]
            elif o == "~1":
                out[i] = est[i] / keep[index[lhs[i]]]
            elif o == "~~" and lhs[i] == rhs[i]:
                out[i] = est[i] / keep[index[lhs[i]]] ** 2
            elif o == "~~":
                den = 1.0
                for v in (lhs[i], rhs[i]):
                    if (observed_too or v in latent) and v not in nox:
                        den *= np.sqrt(abs(resvar.get(v, np.nan)))
                out[i] = est[i] / den
    return out

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
    out = np.full(len(table), np.nan)
    index = {n: i for i, n in enumerate(names)}
    lhs, op, rhs, grp = (table[c].to_numpy() for c in ("lhs", "op", "rhs", "group"))
    for g, sig in enumerate(sigma_all):
        var = np.diag(sig).copy()
        var[var < 0] = np.nan
        sd = np.sqrt(var)
        scale = np.array([sd[index[n]] if (observed_too or n in latent) else 1.0 for n in names])
        keep = np.array([1.0 if n in nox else s for n, s in zip(names, scale)])  # nox: x in own metric
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

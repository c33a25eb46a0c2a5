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
    return Standardizer(table, names, latent, observed_too, nox)(est, sigma_all)


class Standardizer:
    """:func:`standardize` with the table's row and variable indices found once: for the many
    evaluations of a numerical Jacobian (delta-method standard errors of standardized values)."""

    def __init__(self, table: pd.DataFrame, names: tuple[str, ...], latent: set[str], observed_too: bool,
                 nox: Sequence[str] = ()):
        index = {n: i for i, n in enumerate(names)}
        lhs, op, rhs, grp = (table[c].to_numpy() for c in ("lhs", "op", "rhs", "group"))
        self.nrow, self.nvar = len(table), len(names)
        # per variable: rescaled by its sd (std.all: every variable; std.lv: latent ones), and kept in
        # its own metric (nox)
        self.rescaled = np.array([observed_too or n in latent for n in names], dtype=bool)
        self.own = np.array([n in nox for n in names], dtype=bool)
        self.groups = []

        def rows(mask: np.ndarray, two: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            """The rows of ``mask``, and the index of each one's lhs and (``two``) rhs among the variables."""
            i = np.flatnonzero(mask)
            return (i, np.array([index[x] for x in lhs[i]], dtype=int),
                    np.array([index[x] for x in rhs[i]] if two else [], dtype=int))

        for g in range(int(grp.max()) if len(grp) else 0):
            in_g = grp == g + 1
            diag = (op == "~~") & (lhs == rhs)
            resvar = {}  # the residual variance row of each variable (the last, as a dict keeps it)
            for i in np.flatnonzero(in_g & diag):
                resvar[index[lhs[i]]] = i
            self.groups.append({
                "loading": rows(in_g & (op == "=~")), "regression": rows(in_g & (op == "~")),
                "intercept": rows(in_g & (op == "~1"), two=False), "variance": rows(in_g & diag, two=False),
                "covariance": rows(in_g & (op == "~~") & (lhs != rhs)),
                "resvar": (np.array(list(resvar), dtype=int), np.array(list(resvar.values()), dtype=int))})

    def __call__(self, est: np.ndarray, sigma_all: list[np.ndarray]) -> np.ndarray:
        """The standardized values of the rows: ``est`` (the rows' values) and each ``sigma_all[g]`` may
        carry leading dimensions (``k x nrow`` and ``k x nvar x nvar``: ``k`` parameter vectors at once;
        each one's numbers are those of a call with it alone)."""
        return self.from_variances(est, [np.diagonal(sig, axis1=-2, axis2=-1) for sig in sigma_all])

    def from_variances(self, est: np.ndarray, variances: list[np.ndarray]) -> np.ndarray:
        """:meth:`__call__` from the implied variances of all variables (``variances[g]``: the diagonal of
        ``sigma_all[g]``, ``nvar`` or ``k x nvar``) - all the standardization reads of those matrices."""
        out = np.full(est.shape, np.nan)
        for variance, rows in zip(variances, self.groups):
            var = np.array(variance, dtype=float)
            var[var < 0] = np.nan
            sd = np.sqrt(var)
            scale = np.where(self.rescaled, sd, 1.0)
            keep = np.where(self.own, 1.0, scale)  # nox: x in own metric
            i, lhs, rhs = rows["loading"]
            out[..., i] = est[..., i] * scale[..., lhs] / scale[..., rhs]
            i, lhs, rhs = rows["regression"]
            out[..., i] = est[..., i] * keep[..., rhs] / scale[..., lhs]
            i, lhs, _ = rows["intercept"]
            out[..., i] = est[..., i] / keep[..., lhs]
            i, lhs, _ = rows["variance"]
            out[..., i] = est[..., i] / keep[..., lhs] ** 2
            # covariances become residual correlations: divided by the square roots of the two residual
            # variances of the variables that are rescaled
            resvar = np.full(est.shape[:-1] + (self.nvar,), np.nan)
            var_of, at = rows["resvar"]
            resvar[..., var_of] = est[..., at]
            root = np.where(self.rescaled & ~self.own, np.sqrt(np.abs(resvar)), 1.0)
            i, lhs, rhs = rows["covariance"]
            out[..., i] = est[..., i] / (root[..., lhs] * root[..., rhs])
        return out

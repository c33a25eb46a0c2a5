"""A fitted model's estimation state (what refits, bootstraps and standardization reuse) and the
values of its parameter-table rows.

Kept apart from :mod:`analysis.sem.fit` so that the modules that read an
estimation (standardized solution, modification indices, bootstrap) import it
without importing the fitting pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.sem.estimators import Objective
from analysis.sem.optimize import OptimResult
from analysis.sem.partable import ParTable
from analysis.sem.ram import RamModel
from analysis.sem.samplestats import GroupData
from smecore.errors import IdentificationError


@dataclass(frozen=True)
class Estimation:
    """Everything needed to evaluate, refit or perturb a fitted model (the fast refit path)."""

    partable: ParTable
    model: RamModel
    groups: tuple[GroupData, ...]
    objective: Objective
    theta: np.ndarray
    optim: OptimResult


def row_values(est: Estimation, theta: np.ndarray | None = None) -> np.ndarray:
    """Value of every parameter-table row at ``theta`` (default: the estimates) - free, fixed,
    or covariate value from the data."""
    theta = est.theta if theta is None else theta
    t = est.partable.table
    out = np.empty(len(t))
    loc = est.model.row_location
    group = t["group"].to_numpy()
    for g in range(est.partable.ngroups):
        a, s, m = est.model.matrices(theta, g)
        rows = np.flatnonzero(group == g + 1)
        kind, r, c = loc[rows].T
        out[rows] = np.where(kind == 0, a[r, c], np.where(kind == 1, s[r, c], m[r]))
    return out


def label_values(t: pd.DataFrame, values: np.ndarray) -> dict[str, float]:
    """``{label: value}`` of the rows of parameter table ``t`` (user labels first, then lavaan's
    ``.pN.`` plabels), for evaluating ``:=`` definitions and tests."""
    out: dict[str, float] = {}
    vals = np.asarray(values, dtype=float).tolist()  # Python floats, as float(v) gives
    for lab, v in zip(t["label"].tolist(), vals):
        if lab and lab not in out:
            out[lab] = v
    for lab, v in zip(t["plabel"].tolist(), vals):
        out.setdefault(lab, v)
    return out


def invert_information(info: np.ndarray, why: str) -> np.ndarray:
    """Inverse of an information matrix, refused with :class:`IdentificationError` when it is singular
    (not finite, or its smallest eigenvalue at most ``1e-12`` of its largest entry). ``why`` names the
    likely causes for the estimator's model (the message's parenthesis)."""
    try:
        inv = np.linalg.inv(info)
        if not np.all(np.isfinite(inv)) or np.min(np.linalg.eigvalsh(info)) <= 1e-12 * np.max(np.abs(info)):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        raise IdentificationError(
            "the information matrix is singular, so standard errors cannot be computed: the model is "
            f"probably not identified ({why}). Fix a parameter or add constraints") from None
    return inv

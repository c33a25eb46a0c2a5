"""The estimator protocol: one registry from which :func:`analysis.sem.fit.fit` takes every choice.

An estimator is four parts, each chosen here by name and nowhere else:

1. sample statistics - what :mod:`analysis.sem.samplestats` computes for it
   (complete-data moments, or rows grouped by missing values with the EM h1 for FIML);
2. an objective - the discrepancy with ``value``, ``gradient``, ``information``,
   ``hessian``, ``step_matrix``, ``loglik``, ``scores`` and ``h1_value`` (the
   :class:`Objective` protocol), picked by the missing-data treatment
   (:data:`DISCREPANCIES`);
3. standard errors - which information matrix and whether a sandwich
   (:attr:`Estimator.se`, :attr:`Estimator.information`);
4. a test statistic - the likelihood-ratio chi-square, scaled or not
   (:attr:`Estimator.test`).

The WLS family for ordinal items (WLSMV, WLSM, ULSMV, DWLS, ULS) is registered here
too (:attr:`Estimator.family` ``"wls"``): its sample statistics are thresholds and
polychoric correlations with their asymptotic covariance matrix, its objective the
DWLS / ULS discrepancy, its standard errors ``robust.sem`` and its tests the
mean(-and-variance) adjusted ones - all in :mod:`analysis.sem.ordinal`, which
:func:`analysis.sem.fit.fit` hands such fits to. The values are lavaan 0.6.14's
``lavOptions()`` for each estimator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from analysis.sem.objective import FIMLObjective, MLObjective
from smecore.errors import OptionError


class Objective(Protocol):
    """What the optimiser, the standard errors and the tests need of a discrepancy function."""

    ntotal: int
    casewise: bool  # evaluated case by case (FIML): information per pattern, no closed-form moments

    def value(self, theta: np.ndarray) -> float: ...
    def gradient(self, theta: np.ndarray) -> np.ndarray: ...
    def information(self, theta: np.ndarray) -> np.ndarray: ...
    def hessian(self, theta: np.ndarray) -> np.ndarray: ...
    def step_matrix(self, theta: np.ndarray) -> np.ndarray: ...
    def loglik(self, theta: np.ndarray) -> float: ...
    def scores(self, theta: np.ndarray) -> list[np.ndarray]: ...
    def h1_value(self) -> float: ...


@dataclass(frozen=True)
class Estimator:
    """One estimator's choices (lavaan's option names)."""

    name: str
    robust: bool  # sandwich standard errors and a scaled test statistic
    description: str
    family: str = "ml"  # "ml" (normal-theory likelihood) or "wls" (thresholds + polychorics, DWLS / ULS)
    wls_weights: str = ""  # WLS family: "diagonal" (DWLS) or "identity" (ULS)
    wls_test: str = "standard"  # WLS family: lavaan's test, "scaled.shifted" / "satorra.bentler" / "standard"

    def information(self, missing: str) -> str:
        """``information``: observed for robust estimators and FIML (lavaan's defaults), else expected
        (always expected for the WLS family)."""
        if self.family == "wls":
            return "expected"
        return "observed" if (self.robust or missing == "fiml") else "expected"

    def se(self, cluster: str | None) -> str:
        """``se``: standard, the Huber-White / cluster sandwich, or (WLS family) ``robust.sem``."""
        if not self.robust:
            return "standard"
        if self.family == "wls":
            return "robust.sem"
        return "robust.cluster" if cluster else "robust.huber.white"

    @property
    def test(self) -> str:
        """``test``: the normal-theory chi-square, Yuan-Bentler's scaling (Mplus variant), or the WLS
        family's adjusted tests."""
        if self.family == "wls":
            return self.wls_test
        return "yuan.bentler.mplus" if self.robust else "standard"


ESTIMATORS: dict[str, Estimator] = {
    "ML": Estimator("ML", False, "maximum likelihood, expected-information standard errors"),
    "MLR": Estimator("MLR", True, "maximum likelihood with Huber-White standard errors and the "
                     "Yuan-Bentler scaled test"),
    # ordinal items (lavaan: estimator, se, test)
    "WLSMV": Estimator("WLSMV", True, "diagonally weighted least squares on thresholds and polychoric "
                       "correlations, robust standard errors, mean-and-variance adjusted (scaled-shifted) test",
                       "wls", "diagonal", "scaled.shifted"),
    "WLSM": Estimator("WLSM", True, "diagonally weighted least squares, robust standard errors, mean-adjusted "
                      "(Satorra-Bentler) test", "wls", "diagonal", "satorra.bentler"),
    "ULSMV": Estimator("ULSMV", True, "unweighted least squares on thresholds and polychoric correlations, robust "
                       "standard errors, mean-and-variance adjusted (scaled-shifted) test",
                       "wls", "identity", "scaled.shifted"),
    "DWLS": Estimator("DWLS", False, "diagonally weighted least squares, standard errors from the DWLS information, "
                      "unadjusted test", "wls", "diagonal", "standard"),
    "ULS": Estimator("ULS", False, "unweighted least squares, standard errors from the ULS information, "
                     "unadjusted test (no p-value: its statistic has no chi-square distribution)",
                     "wls", "identity", "standard"),
}
#: the estimators of ordinal data (``ordered=``)
WLS_ESTIMATORS = tuple(k for k, v in ESTIMATORS.items() if v.family == "wls")
#: missing-data treatment -> objective class
DISCREPANCIES: dict[str, type] = {"listwise": MLObjective, "fiml": FIMLObjective}
#: missing-data treatments of the WLS family (lavaan's ``missing=`` for categorical data)
WLS_MISSING = ("listwise", "pairwise")


def get_estimator(name: str) -> Estimator:
    """The registered estimator called ``name``; :class:`OptionError` naming the choices otherwise."""
    if name not in ESTIMATORS:
        ml = [k for k, v in ESTIMATORS.items() if v.family == "ml"]
        wls = [k for k, v in ESTIMATORS.items() if v.family == "wls"]
        raise OptionError(f"The 'estimator' parameter of fit must be one of {ml} (continuous items) or {wls} "
                          f"(ordinal items, with ordered=). Got {name!r}.")
    return ESTIMATORS[name]


def objective_class(missing: str) -> type:
    """The objective (discrepancy) class for a missing-data treatment."""
    if missing not in DISCREPANCIES:
        raise OptionError(f"The 'missing' parameter of fit must be one of {sorted(DISCREPANCIES)}. Got {missing!r}.")
    return DISCREPANCIES[missing]

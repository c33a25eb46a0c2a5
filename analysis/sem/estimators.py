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

Adding an estimator (DWLS / WLSMV for ordinal items) means one entry in
:data:`ESTIMATORS`, its objective class in :data:`DISCREPANCIES` and its sample
statistics - not edits spread through the engine. The values are lavaan
0.6.14's ``lavOptions()`` for each estimator.
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

    def information(self, missing: str) -> str:
        """``information``: observed for robust estimators and FIML (lavaan's defaults), else expected."""
        return "observed" if (self.robust or missing == "fiml") else "expected"

    def se(self, cluster: str | None) -> str:
        """``se``: standard, or the Huber-White / cluster sandwich."""
        if not self.robust:
            return "standard"
        return "robust.cluster" if cluster else "robust.huber.white"

    @property
    def test(self) -> str:
        """``test``: the normal-theory chi-square, or Yuan-Bentler's scaling (Mplus variant)."""
        return "yuan.bentler.mplus" if self.robust else "standard"


ESTIMATORS: dict[str, Estimator] = {
    "ML": Estimator("ML", False, "maximum likelihood, expected-information standard errors"),
    "MLR": Estimator("MLR", True, "maximum likelihood with Huber-White standard errors and the "
                     "Yuan-Bentler scaled test"),
}
#: missing-data treatment -> objective class
DISCREPANCIES: dict[str, type] = {"listwise": MLObjective, "fiml": FIMLObjective}


def get_estimator(name: str) -> Estimator:
    """The registered estimator called ``name``; :class:`OptionError` naming the choices otherwise."""
    if name not in ESTIMATORS:
        raise OptionError(f"The 'estimator' parameter of fit must be one of {sorted(ESTIMATORS)}. Got {name!r}.")
    return ESTIMATORS[name]


def objective_class(missing: str) -> type:
    """The objective (discrepancy) class for a missing-data treatment."""
    if missing not in DISCREPANCIES:
        raise OptionError(f"The 'missing' parameter of fit must be one of {sorted(DISCREPANCIES)}. Got {missing!r}.")
    return DISCREPANCIES[missing]

"""The DWLS / ULS discrepancy of ordinal models (lavaan's ``estimator.DWLS``), as an
:class:`analysis.sem.estimators.Objective`.

``f = sum_g (n_g - 1) / N (s_g - sigma_g)' W_g (s_g - sigma_g)`` with ``s_g`` the sample
``WLS.obs``, ``sigma_g`` the implied ``WLS.est`` and ``W_g`` diagonal: ``1 / diag(NACOV_g)``
(DWLS) or the identity (ULS). This is twice lavaan's ``fmin`` (lavaan weights group ``g`` by
``n_g / N`` and each group's ``0.5 (n_g - 1) / n_g`` discrepancy), so the test statistic is
``chisq = N f = sum_g (n_g - 1) r_g' W_g r_g`` as in ``lav_model_test``.

Steps are Gauss-Newton: ``2 sum_g c_g Delta_g' W_g Delta_g`` (``c_g = (n_g - 1) / N``) stands for
the Hessian (the term with second derivatives of ``sigma`` is multiplied by residuals that
vanish at a fitting model); ``information`` is half of it, the matrix the optimiser falls back
on. :meth:`DWLSObjective.expected_information` is lavaan's ``E = sum_g (n_g / N) Delta_g' W_g
Delta_g`` of the standard errors and tests.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from analysis.sem.ordinal.model import OrdinalImplied, OrdinalModel
from analysis.sem.ordinal.samplestats import OrdinalGroupStats
from smecore.errors import OptionError


class DWLSObjective:
    """DWLS (``uls=False``) or ULS discrepancy of an :class:`OrdinalModel` (see module docstring)."""

    casewise = False

    def __init__(self, model: OrdinalModel, stats: list[OrdinalGroupStats], weights: list[np.ndarray]):
        self.model = model
        self.groups = stats
        self.wls_v = weights  # diagonal weights per group (lavaan's WLS.VD)
        self.ntotal = int(sum(st.n for st in stats))
        self.weights = np.array([st.n / self.ntotal for st in stats])  # f_g = n_g / N
        self.cfactor = np.array([(st.n - 1) / self.ntotal for st in stats])
        self.npar = model.npar
        self.meanstructure = True
        self._memo_theta: np.ndarray | None = None
        self._memo: dict = {}

    def _memoised(self, theta: np.ndarray, key, compute):
        if self._memo_theta is None or not np.array_equal(theta, self._memo_theta):
            self._memo_theta = np.array(theta, dtype=float, copy=True)
            self._memo = {}
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def implied(self, theta: np.ndarray, g: int) -> OrdinalImplied:
        return self._memoised(theta, ("implied", g), lambda: self.model.implied(theta, g))

    def jacobian(self, theta: np.ndarray, g: int) -> sparse.csr_matrix:
        return self._memoised(theta, ("jac", g), lambda: self.model.jacobian(theta, g, self.implied(theta, g)))

    def residuals(self, theta: np.ndarray, g: int) -> np.ndarray:
        """``WLS.obs - WLS.est`` of group ``g``."""
        return self.groups[g].wls_obs - self.implied(theta, g).wls_est

    def group_values(self, theta: np.ndarray) -> np.ndarray:
        """``r_g' W_g r_g`` per group."""
        out = np.empty(len(self.groups))
        for g in range(len(self.groups)):
            try:
                r = self.residuals(theta, g)
            except np.linalg.LinAlgError:
                return np.full(len(self.groups), np.inf)
            out[g] = float(np.sum(self.wls_v[g] * r * r))
        return out

    def value(self, theta: np.ndarray) -> float:
        v = self.group_values(theta)
        total = float(np.sum(self.cfactor * v))
        return total if np.isfinite(total) else np.inf

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        grad = np.zeros(self.npar)
        for g in range(len(self.groups)):
            r = self.residuals(theta, g)
            grad -= 2.0 * self.cfactor[g] * (self.jacobian(theta, g).T @ (self.wls_v[g] * r))
        return grad

    def _weighted_cross(self, theta: np.ndarray, factors: np.ndarray) -> np.ndarray:
        out = np.zeros((self.npar, self.npar))
        for g in range(len(self.groups)):
            d = self.jacobian(theta, g)
            wd = sparse.diags(self.wls_v[g]) @ d
            out += factors[g] * np.asarray((d.T @ wd).todense())
        return (out + out.T) / 2

    def information(self, theta: np.ndarray) -> np.ndarray:
        """``sum_g c_g Delta_g' W_g Delta_g``: half the Gauss-Newton matrix of ``f``."""
        return self._memoised(theta, "info", lambda: self._weighted_cross(theta, self.cfactor))

    def expected_information(self, theta: np.ndarray) -> np.ndarray:
        """lavaan's expected information of DWLS / ULS, ``E = sum_g (n_g / N) Delta_g' W_g Delta_g``."""
        return self._memoised(theta, "expected", lambda: self._weighted_cross(theta, self.weights))

    def step_matrix(self, theta: np.ndarray) -> np.ndarray:
        return 2.0 * self.information(theta)

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """The Gauss-Newton matrix (see the module docstring)."""
        return self.step_matrix(theta)

    def loglik(self, theta: np.ndarray) -> float:
        """DWLS has no likelihood: NaN (lavaan reports no logl, AIC or BIC for it)."""
        return float("nan")

    def scores(self, theta: np.ndarray) -> list[np.ndarray]:
        """Not defined: DWLS / ULS have no likelihood, so no case-wise scores (the Objective protocol
        asks for them for ML's sandwich and first-order information). The robust statistics of these
        estimators come from NACOV (:mod:`analysis.sem.ordinal.robust`); refused with a named error."""
        raise OptionError("case-wise likelihood scores are not defined for DWLS / ULS (WLSMV and relatives) fits: "
                          "their robust standard errors and tests use the asymptotic covariance of the polychoric "
                          "statistics instead; use an ML estimator (MLR) if scores are needed")

    def h1_value(self) -> float:
        return 0.0

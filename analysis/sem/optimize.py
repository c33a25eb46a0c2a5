"""Minimise a discrepancy function: Newton / Fisher scoring with a line search, L-BFGS-B as fallback.

Why not semopy's default: its SLSQP run stops early (estimates off by up to
1e-2 on PoliticalDemocracy). Here each step uses the exact analytic Hessian
when it is positive definite (Newton: quadratic convergence near the
optimum) and twice the expected information otherwise (Fisher scoring, the
classic SEM algorithm, always a descent direction). Iteration stops on the
Newton decrement ``g' H^-1 g``, a scale-free criterion (``H`` is the
objective's ``step_matrix``: the exact Hessian for complete data, a cheaper
information-based matrix for FIML): at convergence the
objective is within ``tol`` of its minimum, so chi-square is exact to far
more digits than are printed. When this stalls (a singular information
matrix, a step that finds no descent) scipy's L-BFGS-B takes over and
Newton then polishes its result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.optimize import minimize as scipy_minimize


@dataclass(frozen=True)
class OptimResult:
    """Where the optimiser stopped and why."""

    theta: np.ndarray
    value: float
    iterations: int
    converged: bool
    message: str


SLOW_RATE = 0.1  # decrement ratio per step above which the step matrix counts as slow


def _newton(objective, theta, max_iter, tol, exact_when_slow=False, final_step=False):
    f = objective.value(theta)
    if not np.isfinite(f):
        return theta, f, 0, False, "the starting values give a non-positive-definite implied covariance matrix"
    previous, slow, exact = None, 0, False
    last_exact = None  # Cholesky factor of the exact Hessian of the previous step (final_step only)
    for it in range(1, max_iter + 1):
        g = objective.gradient(theta)
        if last_exact is not None:
            # near the optimum the previous exact Hessian is as good as a new one for the last step: the
            # step it solves for leaves an error of the order of this step times the previous one
            # (Newton's: this step squared), so when the product of the two decrements is below tol^2
            # the final step is taken with it - one exact Hessian, the costliest piece of a FIML refit,
            # fewer per refit
            step = cho_solve(last_exact, g, check_finite=False)
            decrement = float(g @ step)
            if np.isfinite(decrement) and 0 <= decrement < tol and decrement * previous < tol * tol:
                return theta - step, f, it, True, "converged (Newton decrement below tolerance; final step taken)"
        # the cheap step matrix (FIML: complete-data information) converges linearly, at a rate set
        # by the share of missing information; with exact_when_slow, once the Newton decrement
        # falls slowly (less than tenfold per step twice, e.g. with auxiliary variables) the exact
        # Hessian finishes quadratically (refits: 50-500 iterations became 5-6)
        hess = objective.hessian(theta) if exact else objective.step_matrix(theta)
        step, last_exact = None, None
        if np.all(np.isfinite(hess)):
            try:
                factor = cho_factor(hess, check_finite=False)
                step = cho_solve(factor, g, check_finite=False)
                last_exact = factor if exact and final_step else None
            except LinAlgError:
                step = None
        if step is None:  # Hessian indefinite far from the optimum: Fisher scoring
            hess = 2.0 * objective.information(theta)
            if not (np.all(np.isfinite(g)) and np.all(np.isfinite(hess))):
                return theta, f, it, False, "gradient or information not finite"
            try:
                step = np.linalg.solve(hess, g)
            except np.linalg.LinAlgError:
                step, *_ = np.linalg.lstsq(hess, g, rcond=None)
        decrement = float(g @ step)
        if not np.isfinite(decrement) or decrement < 0:
            return theta, f, it, False, "information matrix not positive definite"
        if decrement < tol:
            if final_step:  # the step is already solved for: taking it squares the remaining error
                return theta - step, f, it, True, "converged (Newton decrement below tolerance; final step taken)"
            return theta, f, it, True, "converged (Newton decrement below tolerance)"
        slow = slow + 1 if previous is not None and decrement > SLOW_RATE * previous else 0
        exact = exact or (exact_when_slow and slow >= 2)
        previous = decrement
        t = 1.0
        while t > 1e-10:
            candidate = theta - t * step
            fc = objective.value(candidate)
            if np.isfinite(fc) and fc <= f - 1e-4 * t * decrement:
                break
            t /= 2.0
        else:
            # no descent along the scoring direction: accept convergence if already flat
            if decrement < 1e3 * tol:
                return theta, f, it, True, "converged (no further descent possible)"
            return theta, f, it, False, "line search failed"
        theta, f = candidate, fc
    return theta, f, max_iter, False, f"no convergence after {max_iter} Newton/scoring iterations"


def minimize(objective, theta0: np.ndarray, *, max_iter: int = 500, tol: float = 1e-14,
             exact_when_slow: bool = False, final_step: bool = False, fallback: bool = True) -> OptimResult:
    """Minimise ``objective`` (``value``, ``gradient``, ``step_matrix``, ``information``) from ``theta0``.

    ``tol`` bounds the Newton decrement ``g' H^-1 g``, i.e. twice the
    predicted remaining decrease of ``f``. ``exact_when_slow`` switches to the
    exact Hessian when the step matrix converges slowly: right for warm-started
    refits (few steps left), too costly for a first fit of a large FIML model. ``final_step``
    returns the point after the last (already solved) Newton step instead of before it - with
    the exact Hessian its error is about the square of the one at the stopping point (refits,
    which stop early); ``value`` is then that of the point before it. With ``final_step`` the
    exact Hessian of one step also serves the next one's convergence test and final step when the
    product of the two decrements is below ``tol^2`` (the error left is of the order of the last two
    steps' product instead of the last one's square): one exact Hessian fewer. ``fallback=False`` gives up
    when Newton / scoring fails instead of handing over to L-BFGS-B (warm-started refits: see
    :func:`analysis.sem.fit.refit`).
    """
    theta, f, it, ok, msg = _newton(objective, np.asarray(theta0, dtype=float), max_iter, tol, exact_when_slow,
                                    final_step)
    if ok or not fallback:
        return OptimResult(theta, f, it, ok, msg)
    # fallback: quasi-Newton from wherever scoring stopped (or the start), then polish
    x0 = theta if np.isfinite(f) else np.asarray(theta0, dtype=float)

    def fun(x):
        v = objective.value(x)
        if not np.isfinite(v):
            return 1e10, np.zeros_like(x)
        return v, objective.gradient(x)

    res = scipy_minimize(fun, x0, jac=True, method="L-BFGS-B",
                         options={"maxiter": 20 * max_iter, "ftol": 1e-15, "gtol": 1e-10})
    theta2, f2, it2, ok2, msg2 = _newton(objective, res.x, min(50, max_iter), tol)
    total = it + res.nit + it2
    if ok2:
        return OptimResult(theta2, f2, total, True, f"converged after L-BFGS-B fallback ({msg})")
    return OptimResult(theta2, f2, total, False, f"{msg}; L-BFGS-B: {res.message}; polish: {msg2}")

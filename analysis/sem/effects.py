"""Tests and intervals for functions of model parameters: Wald tests and Monte Carlo CIs.

* :func:`wald_test` - a (possibly nonlinear) function of labelled parameters,
  e.g. a path (``"a"``), a path difference (``"a1 - a2"``) or an indirect
  effect (``"a*b"``), with its delta-method standard error, a one- or
  two-sided z test and a confidence interval. One-sided tests are what a
  directional proposition ("X raises Y", "network sources feed TK more than
  IK") calls for: the p-value is ``P(Z > z)`` for ``alternative="greater"``.
* :func:`expression_value` - the value of such a function at the estimates alone;
* :func:`monte_carlo_ci` - the Monte Carlo confidence interval of
  semTools' ``monteCarloCI`` (Preacher & Selig 2012): draw the labelled
  parameters from their estimated sampling distribution
  ``N(theta_hat, vcov)``, evaluate the function, take quantiles. For indirect
  effects it respects the skew of a product without resampling the data.

Expressions use the model's labels (and ``:=`` names are not needed); they are
evaluated with :mod:`analysis.sem.defined`'s restricted evaluator, never ``eval``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from analysis.pvalues import pvalue
from analysis.sem.defined import (
    compile_definitions,
    delta_method,
    delta_method_batch,
    evaluate_batch,
    evaluate_definitions,
)
from analysis.sem.standardized import std_batch, std_function, structural_parameters
from analysis.sem.syntax import Definition
from smecore.errors import ModelSyntaxError, OptionError

if TYPE_CHECKING:  # pragma: no cover
    from analysis.sem.fit import FitResult

ALTERNATIVES = ("two-sided", "greater", "less")
WALD_COLUMNS = ("expression", "estimate", "se", "z", "pvalue", "alternative", "ci.lower", "ci.upper")


def _labelled(result: FitResult) -> tuple[dict[str, int], np.ndarray]:
    """Map each user label to its free-parameter index; values of fixed labels."""
    t = result.partable.table
    index = {}
    for lab, free in zip(t["label"], t["free"]):
        if lab and not lab.startswith(".p") and lab not in index:
            index[lab] = int(free) - 1
    return index, result.estimation.theta


def _compiled(result: FitResult, expression: str):
    """``expression`` compiled against the model's labels; each free label's index in theta; the fixed
    labels' values."""
    index, _ = _labelled(result)
    t = result.partable.table
    labels = [lab for lab in t["label"] if lab and not lab.startswith(".p")]
    fixed = {lab: float(v) for lab, v, free in zip(t["label"], result.parameters["est"].iloc[:len(t)], t["free"])
             if lab and free == 0}
    compiled = compile_definitions([Definition("_f", expression)], list(dict.fromkeys(labels)))[0]
    missing = [n for n in compiled.names if n not in index and n not in fixed]
    if missing:  # pragma: no cover - compile_definitions already rejects unknown names
        raise ModelSyntaxError(f"'{expression}': unknown label(s) {missing}")
    return compiled, index, fixed


def _function(result: FitResult, expression: str, standardized: bool = False):
    """``theta -> value of expression``; with ``standardized`` the labels stand for their std.all values."""
    _, theta = _labelled(result)
    t = result.partable.table
    compiled, index, fixed = _compiled(result, expression)
    first_row = {lab: int(np.flatnonzero(t["label"].to_numpy() == lab)[0]) for lab in compiled.names}
    std_values = std_function(result.estimation) if standardized else None

    def f(th: np.ndarray) -> np.ndarray:
        if std_values is not None:
            std = std_values(th)
            values = {n: std[first_row[n]] for n in compiled.names}
        else:
            values = {n: (th[index[n]] if n in index else fixed[n]) for n in compiled.names}
        return np.array([evaluate_definitions([compiled], values)["_f"]])

    return f, theta


def _std_columns(result: FitResult, expression: str) -> list[int] | None:
    """The free parameters a standardized expression can depend on: for an ordinal fit every one but
    the thresholds it does not name (standardization uses the latent-response (co)variances, which
    thresholds do not enter - numerically differentiating them only costs time); ``None`` (all)
    otherwise."""
    if not result.options.ordered:
        return None
    t = result.partable.table
    named = set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", expression))
    skip = {int(f) - 1 for f, op, lab in zip(t["free"], t["op"], t["label"]) if f > 0 and op == "|"
            and lab not in named}
    return [j for j in range(len(result.estimation.theta)) if j not in skip]


def _support(result: FitResult, expression: str, standardized: bool) -> list[int] | None:
    """The free parameters the value of a continuous fit's ``expression`` can depend on (the delta
    method's Jacobian is exactly zero in the others, so they are not differentiated): the labels'
    own parameters; for a standardized expression every parameter of the A and S matrices
    (:func:`analysis.sem.standardized.structural_parameters`), unless it names a mean. ``None``: all."""
    compiled, index, _ = _compiled(result, expression)
    if not standardized:
        return sorted({index[n] for n in compiled.names if n in index})
    t = result.partable.table
    labels, ops = t["label"].to_numpy(), t["op"].to_numpy()
    if any(ops[int(np.flatnonzero(labels == n)[0])] == "~1" for n in compiled.names):
        return None  # a standardized mean reads the means
    return structural_parameters(result.estimation)


def wald_test(result: FitResult, expression: str, *, alternative: str = "two-sided",
              level: float = 0.95, null: float = 0.0, standardized: bool = False) -> pd.DataFrame:
    """Wald (z) test of ``expression == null`` for labelled parameters of a fitted model.

    Parameters
    ----------
    result : FitResult
    expression : str
        Function of parameter labels, e.g. ``"b_vn_tk - b_vn_ik"``.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: H1 says the function exceeds ``null``.
    level : float
        Two-sided confidence level of the interval (for a one-sided test at
        alpha, use ``level = 1 - 2 alpha`` to get the matching one-sided bound).
    standardized : bool
        Labels stand for their standardized (``std.all``) values; the delta
        method then runs through the standardization, so contrasts of
        standardized paths get proper standard errors.

    Returns
    -------
    DataFrame
        One row with :data:`WALD_COLUMNS`.
    """
    if alternative not in ALTERNATIVES:
        raise OptionError(f"The 'alternative' parameter must be one of {list(ALTERNATIVES)}. Got {alternative!r}.")
    if result.options.ordered:  # thresholds the expression does not name skipped in the Jacobian
        f, theta = _function(result, expression, standardized)
        value, se = delta_method(f, theta, result.vcov, columns=_std_columns(result, expression) if standardized
                                 else None)
    else:
        theta = result.estimation.theta
        value, se = delta_method_batch(_function_batch(result, expression, standardized), theta, result.vcov,
                                       columns=_support(result, expression, standardized))
    est, s = float(value[0]), float(se[0])
    z = (est - null) / s if s > 0 else np.nan
    p = pvalue(z, alternative)
    q = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame([{"expression": expression, "estimate": est, "se": s, "z": z, "pvalue": float(p),
                          "alternative": alternative, "ci.lower": est - q * s, "ci.upper": est + q * s}],
                        columns=list(WALD_COLUMNS))


def _function_batch(result: FitResult, expression: str, standardized: bool = False):
    """``thetas (k x npar) -> k x 1`` values of ``expression``: :func:`_function` for many parameter
    vectors at once, with the same numbers (standardized values by
    :func:`analysis.sem.standardized.std_batch`, the expression by
    :func:`analysis.sem.defined.evaluate_batch`; a row with a non-finite intermediate by ``_function``)."""
    f, _ = _function(result, expression, standardized)
    compiled, index, fixed = _compiled(result, expression)
    labels = result.partable.table["label"].to_numpy()
    first_row = {lab: int(np.flatnonzero(labels == lab)[0]) for lab in compiled.names}
    std = std_batch(result.estimation) if standardized else None

    def fb(thetas: np.ndarray) -> np.ndarray:
        if std is not None:
            sv = std(thetas)
            values = {n: sv[:, first_row[n]] for n in compiled.names}
        else:
            values = {n: thetas[:, index[n]] if n in index else fixed[n] for n in compiled.names}
        out, exact = evaluate_batch(compiled, values)
        for i in np.flatnonzero(~exact):
            out[i] = f(thetas[i])[0]
        return out[:, None]

    return fb


def expression_value(result: FitResult, expression: str, *, standardized: bool = False) -> float:
    """The value of ``expression`` at the estimates - :func:`wald_test`'s ``estimate`` without the
    delta method (its Jacobian evaluates the function twice per free parameter)."""
    f, theta = _function(result, expression, standardized)
    return float(f(theta)[0])


@dataclass(frozen=True)
class MonteCarloCI:
    """Monte Carlo interval of a function of parameters (semTools ``monteCarloCI``)."""

    expression: str
    estimate: float
    ci_lower: float
    ci_upper: float
    level: float
    n_draws: int
    draws: np.ndarray

    def one_sided_pvalue(self, alternative: str = "greater") -> float:
        """Share of draws on the wrong side of zero (a Monte Carlo one-sided p-value)."""
        if alternative == "greater":
            return float((np.sum(self.draws <= 0) + 1) / (len(self.draws) + 1))
        return float((np.sum(self.draws >= 0) + 1) / (len(self.draws) + 1))


def monte_carlo_ci(result: FitResult, expression: str, *, n_draws: int = 20_000, level: float = 0.95,
                   seed: int = 0, standardized: bool = False, marginal: bool = False) -> MonteCarloCI:
    """Monte Carlo confidence interval of ``expression`` (default 20,000 draws, as semTools).

    semTools draws every free parameter (and so does this function by default); ``marginal=True``
    draws only the free parameters an unstandardized expression names, from their joint normal -
    the same distribution of the expression, for much less work (a power study's thousands of
    intervals), with other random numbers."""
    if n_draws < 100:
        raise OptionError(f"n_draws must be at least 100 (got {n_draws}); semTools uses 20,000")
    f, theta = _function(result, expression, standardized)
    rng = np.random.default_rng(seed)
    compiled, index, fixed = _compiled(result, expression)
    cols = list(dict.fromkeys(index[n] for n in compiled.names if n in index))
    if marginal and not standardized and cols:  # only the parameters the expression uses
        some = rng.multivariate_normal(theta[cols], result.vcov[np.ix_(cols, cols)], size=n_draws, method="eigh")
        draws, exact = evaluate_batch(compiled, {n: some[:, cols.index(index[n])] if n in index else fixed[n]
                                                 for n in compiled.names})
        for i in np.flatnonzero(~exact):  # a non-finite intermediate: the scalar evaluator's rules
            th = theta.copy()
            th[cols] = some[i]
            draws[i] = f(th)[0]
    else:
        draws_theta = rng.multivariate_normal(theta, result.vcov, size=n_draws, method="eigh")
        draws = _function_batch(result, expression, standardized)(draws_theta)[:, 0]  # all draws at once
    alpha = 1 - level
    lo, hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return MonteCarloCI(expression, float(f(theta)[0]), float(lo), float(hi), level, n_draws, draws)

"""Tests and intervals for functions of model parameters: Wald tests and Monte Carlo CIs.

* :func:`wald_test` (a one-row table; :func:`wald_values` the same numbers as a dict) - a (possibly nonlinear) function of labelled parameters,
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
import weakref
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special

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


_MEMO: dict[int, dict] = {}


def _memo(result: FitResult) -> dict:
    """Values derived from ``result`` (a fitted model, never changed after the fit) for its next tests:
    label indices, compiled expressions, standardization functions. Freed with ``result``; a result
    that cannot be weakly referenced (a test stub) gets a fresh dict each time."""
    key = id(result)
    memo = _MEMO.get(key)
    if memo is None:
        memo = {}
        try:
            weakref.finalize(result, _MEMO.pop, key, None)
        except TypeError:
            return memo
        _MEMO[key] = memo
    return memo


def _labels(result: FitResult) -> dict:
    """The parameter table's label facts the tests read, found once per result: ``index`` (each user
    label's free-parameter index), ``fixed`` (fixed labels' values), ``labels`` (the user labels, once
    each), ``first_row`` (each label's first table row) and ``op``."""
    memo = _memo(result)
    if "labels" not in memo:
        t = result.partable.table
        label, free, op = t["label"].tolist(), t["free"].tolist(), t["op"].to_numpy()
        index, first_row = {}, {}
        for i, (lab, fr) in enumerate(zip(label, free)):
            if lab and lab not in first_row:
                first_row[lab] = i
            if lab and not lab.startswith(".p") and lab not in index:
                index[lab] = int(fr) - 1
        est = result.parameters["est"].iloc[:len(t)].tolist()
        memo["labels"] = {"index": index, "first_row": first_row, "op": op,
                          "fixed": {lab: float(v) for lab, v, fr in zip(label, est, free) if lab and fr == 0},
                          "labels": list(dict.fromkeys(lab for lab in label if lab and not lab.startswith(".p")))}
    return memo["labels"]


def _labelled(result: FitResult) -> tuple[dict[str, int], np.ndarray]:
    """Map each user label to its free-parameter index; the estimates."""
    return _labels(result)["index"], result.estimation.theta


def _compiled(result: FitResult, expression: str):
    """``expression`` compiled against the model's labels; each free label's index in theta; the fixed
    labels' values."""
    facts = _labels(result)
    compiled_of = _memo(result).setdefault("compiled", {})
    if expression not in compiled_of:
        compiled = compile_definitions([Definition("_f", expression)], facts["labels"])[0]
        missing = [n for n in compiled.names if n not in facts["index"] and n not in facts["fixed"]]
        if missing:  # pragma: no cover - compile_definitions already rejects unknown names
            raise ModelSyntaxError(f"'{expression}': unknown label(s) {missing}")
        compiled_of[expression] = compiled
    return compiled_of[expression], facts["index"], facts["fixed"]


def _std_of(result: FitResult, kind: str):
    """The result's :func:`~analysis.sem.standardized.std_function` (``kind="one"``) or
    :func:`~analysis.sem.standardized.std_batch` (``"batch"``), built once (their table indices)."""
    memo = _memo(result)
    if kind not in memo:
        memo[kind] = (std_function if kind == "one" else std_batch)(result.estimation)
    return memo[kind]


def _function(result: FitResult, expression: str, standardized: bool = False):
    """``theta -> value of expression``; with ``standardized`` the labels stand for their std.all values."""
    theta = result.estimation.theta
    compiled, index, fixed = _compiled(result, expression)
    first_row = _labels(result)["first_row"]

    def f(th: np.ndarray) -> np.ndarray:
        if standardized:
            std = _std_of(result, "one")(th)
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
    facts = _labels(result)
    if any(facts["op"][facts["first_row"][n]] == "~1" for n in compiled.names):
        return None  # a standardized mean reads the means
    memo = _memo(result)
    if "structural" not in memo:
        memo["structural"] = structural_parameters(result.estimation)
    return memo["structural"]


@cache
def _quantile(level: float) -> float:
    """The standard normal quantile of a two-sided ``level`` (``stats.norm.ppf``: ``special.ndtri``)."""
    return float(special.ndtri(0.5 + level / 2))


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
    return pd.DataFrame([wald_values(result, expression, alternative=alternative, level=level, null=null,
                                     standardized=standardized)], columns=list(WALD_COLUMNS))


def wald_values(result: FitResult, expression: str, *, alternative: str = "two-sided",
                level: float = 0.95, null: float = 0.0, standardized: bool = False) -> dict:
    """:func:`wald_test`'s row as a dict (keys :data:`WALD_COLUMNS`): the same numbers without building a
    table, for callers that run many tests (a power study)."""
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
    q = _quantile(level)
    return {"expression": expression, "estimate": est, "se": s, "z": z, "pvalue": float(p),
            "alternative": alternative, "ci.lower": est - q * s, "ci.upper": est + q * s}


#: parameter vectors up to which :func:`_function_batch` keeps its last standardized values (a delta
#: method's 2 npar + 1; not Monte Carlo draws, whose values would hold much memory)
_KEEP_ROWS = 4_000


def _function_batch(result: FitResult, expression: str, standardized: bool = False):
    """``thetas (k x npar) -> k x 1`` values of ``expression``: :func:`_function` for many parameter
    vectors at once, with the same numbers (standardized values by
    :func:`analysis.sem.standardized.std_batch`, the expression by
    :func:`analysis.sem.defined.evaluate_batch`; a row with a non-finite intermediate by ``_function``).

    The standardized values of the last ``thetas`` are kept with the result: the tests of one fit
    differentiate at the same shifted vectors (same parameters, same steps), and the next test
    reuses them instead of standardizing again - the same numbers, as they are computed from the
    same input bytes."""
    f, _ = _function(result, expression, standardized)
    compiled, index, fixed = _compiled(result, expression)
    first_row = _labels(result)["first_row"]
    memo = _memo(result)

    def standardized_values(thetas: np.ndarray) -> np.ndarray:
        if thetas.shape[0] > _KEEP_ROWS:
            return _std_of(result, "batch")(thetas)
        key = (thetas.shape, thetas.tobytes())
        last = memo.get("last_std")
        if last is None or last[0] != key:
            last = memo["last_std"] = (key, _std_of(result, "batch")(thetas))
        return last[1]

    def fb(thetas: np.ndarray) -> np.ndarray:
        if standardized:
            sv = standardized_values(thetas)
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

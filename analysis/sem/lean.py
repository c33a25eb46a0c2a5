"""Lean results of refits: what Monte Carlo studies need from a refitted model, and nothing else.

:func:`analysis.sem.fit.refit` gives only the estimates of a model refitted to new data.
The proposition tests (:mod:`analysis.propositions.pipeline`) read a :class:`FitResult`:
labelled estimates, their covariance matrix, the standardized solution (through
``std_values``) and the parameter table's ``est`` / ``std.all`` columns. :func:`refit_result`
builds that result for a refit - standard errors as :func:`analysis.sem.fit.fit` computes them
for the template's options (step 7) and the parameter table (step 11) - and skips the baseline
model, the fit indices and, unless ``statistics=True``, the saturated model (EM) and the test
statistic. With ``statistics=True`` ``fit_measures`` holds the test (``chisq, df, pvalue`` and,
with MLR, the scaled test) - what a chi-square difference test reads; otherwise it is empty.

Improper solutions are reported as :func:`fit` reports them (``warnings``), without issuing
Python warnings (a power study counts them).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.sem.estimation import Estimation, row_values
from analysis.sem.estimators import objective_class
from analysis.sem.fit import (
    FitResult,
    h1_information,
    refit,
    step07_vcov,
    step08_test,
    step11_table,
)
from analysis.sem.samplestats import group_data
from analysis.sem.threads import fit_threads
from smecore.errors import EstimationError, IdentificationError


def improper(est: Estimation) -> list[str]:
    """Negative variance estimates and non-positive-definite latent covariance matrices of a fit
    (the two improper solutions :func:`analysis.sem.fit.fit` warns about)."""
    t = est.partable.table
    values = row_values(est)
    lhs, op, rhs, grp = (t[c].to_numpy() for c in ("lhs", "op", "rhs", "group"))
    idx = np.flatnonzero((op == "~~") & (lhs == rhs) & (t["free"].to_numpy() > 0) & (values < 0))
    out = [f"Heywood case: {lhs[i]} ~~ {rhs[i]} = {values[i]:.4g} (group {grp[i]})" for i in idx]
    nlv = len(est.partable.variables.lv)
    for g in range(est.partable.ngroups):
        sig_all = est.model.implied(est.theta, g).sigma_all
        if nlv and np.linalg.eigvalsh(sig_all[-nlv:, -nlv:])[0] < -1e-10:
            out.append(f"the covariance matrix of the latent variables is not positive definite (group {g + 1})")
    return out


#: a refit's exclusion log: empty (the caller prepared the arrays); copied, which costs a tenth of building it
_NO_EXCLUSIONS = pd.DataFrame(columns=["row", "reason"])

#: the last saturated models (:func:`_saturated`): a chi-square difference test refits the restricted
#: model to the same data right after the free one
_SATURATED: OrderedDict[bytes, tuple] = OrderedDict()


def _saturated(est: Estimation, options, fiml: bool) -> tuple[tuple, list | None] | None:
    """The groups with their saturated moments (FIML: by EM, which :func:`refit` skips) and the saturated
    information the robust test needs - a function of the data, the observed variables and the options
    only, so a model refitted to the same data (the restricted model of a chi-square difference test)
    reuses it: the same numbers, computed once. None when EM fails."""
    key = hashlib.blake2b(repr((options, est.partable.variables, fiml)).encode(), digest_size=16)
    for gd in est.groups:
        key.update(repr(gd.data.shape).encode())
        key.update(np.ascontiguousarray(gd.data).tobytes())
    digest = key.digest()
    if digest not in _SATURATED:
        groups = est.groups
        if fiml:
            try:
                groups = tuple(group_data(gd.data, fiml=True) for gd in groups)
            except (EstimationError, np.linalg.LinAlgError):
                return None
        _SATURATED[digest] = (groups, h1_information(groups, est.partable.variables, options))
        while len(_SATURATED) > 4:
            _SATURATED.popitem(last=False)
    return _SATURATED[digest]


def refit_result(template: FitResult, arrays: Sequence[np.ndarray], *, theta0: np.ndarray | None = None,
                 statistics: bool = False) -> FitResult | None:
    """Refit ``template``'s model to ``arrays`` (one per group, columns = the model's observed
    variables in the template's order, rows as :func:`analysis.sem.data_prep.prepare_data` keeps
    them) and return a lean :class:`FitResult`; ``None`` when the refit fails (no convergence,
    non-positive-definite moments, a singular information matrix) - see :func:`refit`.

    ``theta0``: the start (default the template's estimates). Cluster-robust templates are refused by
    :func:`analysis.sem.fit.refit_statistics`' rule (refits carry no cluster codes).
    """
    options = template.options
    fiml = options.missing == "fiml"
    est = refit(template.estimation, arrays, fiml=fiml, theta0=theta0)
    if est is None:
        return None
    with fit_threads():
        try:
            vcov, e_inv, b0 = step07_vcov(est, options)
        except IdentificationError:
            return None
        if not np.all(np.isfinite(vcov)):
            return None
        measures: dict = {}
        if statistics:
            saturated = _saturated(est, options, fiml)
            if saturated is None:
                return None
            groups, h1 = saturated
            if fiml:
                objective = objective_class("fiml")(est.model, list(groups), est.objective.meanstructure)
                est = Estimation(est.partable, est.model, groups, objective, est.theta, est.optim)
            df = int(template.fit_measures["df"])
            test = step08_test(est, options, df, e_inv, b0, h1)
            measures = {"chisq": test.chisq, "df": df, "pvalue": test.pvalue}
            if test.scaled is not None:
                measures |= {"chisq.scaled": test.scaled.chisq, "df.scaled": df, "pvalue.scaled": test.scaled.pvalue,
                             "chisq.scaling.factor": test.scaled.scaling_factor}
        table = step11_table(est, vcov, options)
    nobs = tuple(len(x) for x in arrays)
    excluded = _NO_EXCLUSIONS.copy()
    return FitResult(template.model, options, table, measures, nobs, template.group_labels, excluded, vcov,
                     tuple(improper(est)), est)

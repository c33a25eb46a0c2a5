"""Fit CFA and SEM models written in lavaan syntax, with lavaan's numbers.

:func:`fit` runs the pipeline in small numbered steps (as lavaan's
``lav_lavaan_step*``), each a function below that says what it takes and gives:

1. options    - check estimator / missing / group options
2. parse      - model syntax -> statements (:mod:`analysis.sem.syntax`)
3. data       - data frame -> numeric arrays per group + exclusion log
4. partable   - statements -> parameter table with lavaan's defaults
5. samplestats- arrays -> moments, rows grouped by missing values, h1 (EM)
6. estimate   - Newton/Fisher scoring on the ML or FIML discrepancy
7. vcov       - standard errors (expected / observed information, sandwich)
8. test       - chi-square, Yuan-Bentler scaled chi-square
9. baseline   - independence model for CFI/TLI
10. measures  - fit indices
11. table     - the parameter table every output reads

The result is an immutable :class:`FitResult` holding the specification, the
options, the estimates and a ``summary()``.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import special

from analysis.sem.auxiliary import (
    add_saturated_correlates,
    auxiliary_baseline_partable,
    check_auxiliary,
)
from analysis.sem.data_prep import PreparedData, prepare_data
from analysis.sem.estimates import estimates_table
from analysis.sem.estimation import Estimation, invert_information, row_values
from analysis.sem.estimators import get_estimator, objective_class
from analysis.sem.fiml import row_terms
from analysis.sem.fit_indices import (
    agfi,
    cfi,
    ecvi,
    gfi,
    hoelter_cn,
    incremental_indices,
    mfi,
    pgfi,
    residual_rms,
    rmsea_measures,
    robust_measures,
    tli,
)
from analysis.sem.modindices import modification_indices
from analysis.sem.optimize import minimize
from analysis.sem.partable import (
    ParTable,
    build_partable,
    classify_variables,
    independence_partable,
)
from analysis.sem.ram import RamModel
from analysis.sem.robust import (
    ScaledTest,
    fiml_corrected,
    first_order,
    h1_trace,
    h1_trace_complete,
    sandwich,
    saturated_information,
    yuan_bentler_mplus,
)
from analysis.sem.samplestats import LOG2PI, GroupData, group_data
from analysis.sem.standardize import Standardizer
from analysis.sem.start import start_values
from analysis.sem.summary import fit_summary
from analysis.sem.syntax import ParsedModel, parse_model
from analysis.sem.threads import fit_threads
from smecore.errors import (
    ConvergenceError,
    EstimationError,
    HeywoodCaseError,
    HeywoodCaseWarning,
    IdentificationError,
    NotPositiveDefiniteError,
    OptionError,
    SmeSurveyWarning,
)

ON_HEYWOOD = ("warn", "error")
MODEL_TYPES = ("sem", "cfa", "growth")


@dataclass(frozen=True)
class FitOptions:
    """Options a fit was run with (lavaan's names in the comments)."""

    estimator: str = "ML"  # estimator
    missing: str = "listwise"  # missing: "listwise" or "fiml" (lavaan "ml")
    group: str | None = None  # group
    group_equal: tuple[str, ...] = ()  # group.equal
    group_partial: tuple[str, ...] = ()  # group.partial
    std_lv: bool = False  # std.lv
    meanstructure: bool = False  # meanstructure (resolved)
    information: str = "expected"  # information: expected (ML) / observed (MLR, FIML)
    se: str = "standard"  # se: standard / robust.huber.white / robust.cluster
    cluster: str | None = None  # cluster (single-level model, cluster-robust statistics)
    test: str = "standard"  # test: standard / yuan.bentler.mplus
    on_heywood: str = "warn"
    auxiliary: tuple[str, ...] = ()  # semTools auxiliary(aux=): saturated correlates (FIML only)
    model_type: str = "sem"  # sem() / cfa() (the same defaults in lavaan 0.6.14) or growth()
    ordered: tuple[str, ...] = ()  # ordered: the ordinal items (WLS family of estimators)
    parameterization: str = "delta"  # parameterization of ordinal items: delta / theta


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise OptionError(f"The '{name}' parameter of fit must be one of {sorted(choices)}. Got {value!r}.")


# -- step 1 ---------------------------------------------------------------------------
def step01_options(estimator: str, missing: str, group: str | None, group_equal: Sequence[str],
                   group_partial: Sequence[str], std_lv: bool, on_heywood: str,
                   ngroups: int, has_intercepts: bool, cluster: str | None = None,
                   model_type: str = "sem") -> FitOptions:
    """Resolve options to lavaan's defaults for this estimator, missing-data treatment and model type."""
    est = get_estimator(estimator)
    fiml = missing == "fiml"
    meanstructure = (fiml or ngroups > 1 or has_intercepts or cluster is not None  # lavaan: cluster= implies means
                     or model_type == "growth")  # growth(): meanstructure = TRUE
    return FitOptions(
        estimator=estimator, missing=missing, group=group, group_equal=tuple(group_equal),
        group_partial=tuple(group_partial), std_lv=std_lv, meanstructure=meanstructure,
        information=est.information(missing), se=est.se(cluster), cluster=cluster,
        test=est.test, on_heywood=on_heywood, model_type=model_type)


# -- step 5 ---------------------------------------------------------------------------
def step05_samplestats(prepared: PreparedData, fiml: bool, source: str) -> tuple[GroupData, ...]:
    """Moments per group; checks that each sample covariance matrix is positive definite."""
    groups = []
    clusters = prepared.clusters or [None] * len(prepared.arrays)
    for label, x, cl in zip(prepared.group_labels, prepared.arrays, clusters):
        em_failed = False
        if fiml:
            try:
                gd = group_data(x, fiml=True, cluster=cl)
            except np.linalg.LinAlgError:  # EM met a singular covariance: judge the pairwise one below
                em_failed = True
                pairwise = pd.DataFrame(x).cov(min_periods=2).fillna(0.0).to_numpy()
                gd = GroupData(x, len(x), np.nanmean(x, axis=0), pairwise, float("nan"), None, cl)
        else:
            complete = ~np.isnan(x).any(axis=1)
            gd = group_data(x[complete], cluster=None if cl is None else cl[complete])
        eig, vec = np.linalg.eigh(gd.cov)
        if eig[0] <= 1e-10 * max(eig[-1], 1e-300):
            weights = np.abs(vec[:, 0])
            culprits = [prepared.variables[i] for i in np.argsort(-weights)[:4] if weights[i] > 0.1]
            where = source + (f", group '{label}'" if label else "")
            raise NotPositiveDefiniteError(
                f"{where}: the sample covariance matrix is not positive definite (smallest eigenvalue "
                f"{eig[0]:.3g}); variables {', '.join(culprits)} are (nearly) linearly dependent. "
                "Drop one of them, or check for duplicated or sum-score columns")
        if em_failed:
            where = source + (f", group '{label}'" if label else "")
            raise NotPositiveDefiniteError(
                f"{where}: the EM estimate of the saturated covariance matrix became singular; some variables "
                "are (nearly) linearly dependent in the rows that answer them together, or too few rows answer "
                "them together. Check for duplicated columns, or drop a variable")
        groups.append(gd)
    return tuple(groups)


def _ndat(partable: ParTable, groups: Sequence[GroupData]) -> int:
    """Number of sample moments the model reproduces (covariate moments excluded, fixed.x)."""
    nx = len(partable.variables.ov_x)
    total = 0
    for gd in groups:
        p = len(gd.mean)
        total += p * (p + 1) // 2 - nx * (nx + 1) // 2
        if partable.meanstructure:
            total += p - nx
    return total


# -- step 6 ---------------------------------------------------------------------------
def step06_estimate(partable: ParTable, groups: Sequence[GroupData], meanstructure: bool,
                    fiml: bool, theta0: np.ndarray | None = None, max_iter: int = 500,
                    tol: float = 1e-14, exact_when_slow: bool = False, model: RamModel | None = None,
                    final_step: bool = False, fallback: bool = True) -> Estimation:
    """Minimise the ML (or FIML) discrepancy; raise on non-convergence (``exact_when_slow``,
    ``final_step``, ``fallback``: see :func:`analysis.sem.optimize.minimize`). ``model``: the RAM matrices when already built
    (refits), else built from ``partable``."""
    if model is None:
        model = RamModel(partable, [(gd.cov, gd.mean) for gd in groups])
    objective = objective_class("fiml" if fiml else "listwise")(model, list(groups), meanstructure)
    start = start_values(partable, list(groups)) if theta0 is None else theta0
    res = minimize(objective, start, max_iter=max_iter, tol=tol, exact_when_slow=exact_when_slow,
                   final_step=final_step, fallback=fallback)
    if not res.converged and "starting values" in res.message:
        raise NotPositiveDefiniteError(
            "the model-implied covariance matrix is not positive definite at the starting values; give start "
            "values (e.g. start(0.5)*x) or check fixed parameters that make it singular")
    if not res.converged:
        raise ConvergenceError(
            f"the model did not converge ({res.message}, {res.iterations} iterations). Try: check the "
            "model for identification, fix a problematic variance, give start values "
            "(start(0.5)*x), or simplify the model")
    return Estimation(partable, model, tuple(groups), objective, res.theta, res)


def negative_variances(table: pd.DataFrame, est: np.ndarray, extra_rows: Sequence[int] = ()) -> list[str]:
    """The free variances (and ``extra_rows``) of ``table`` whose value in ``est`` is negative, one line
    each: ``"x ~~ x = -0.0124 (group 2)"``."""
    lhs, op, rhs, grp = (table[c].to_numpy() for c in ("lhs", "op", "rhs", "group"))
    candidate = (table["free"].to_numpy() > 0)
    candidate[list(extra_rows)] = True
    idx = np.flatnonzero((op == "~~") & (lhs == rhs) & candidate & (est < 0))
    return [f"{lhs[i]} ~~ {rhs[i]} = {est[i]:.4g} (group {grp[i]})" for i in idx]


def heywood_problems(table: pd.DataFrame, values: np.ndarray, on_heywood: str,
                     extra_rows: Sequence[int] = ()) -> list[str]:
    """Negative variance estimates (free rows, and ``extra_rows`` such as the residual variances an
    ordinal model computes): :class:`HeywoodCaseError` or a warning, whose message is returned."""
    heywood = negative_variances(table, values, extra_rows)
    if not heywood:
        return []
    msg = ("Heywood case: negative variance estimate(s) " + "; ".join(heywood)
           + ". The solution is improper: check for an under-identified factor, too few "
           "indicators, or a misspecified model")
    if on_heywood == "error":
        raise HeywoodCaseError(msg)
    warnings.warn(msg, HeywoodCaseWarning, stacklevel=3)
    return [msg]


# -- step 7 ---------------------------------------------------------------------------
def step07_vcov(est: Estimation, options: FitOptions) -> tuple[np.ndarray, np.ndarray, list[np.ndarray] | None]:
    """Covariance matrix of the free parameters, the inverted information and (MLR) B0 per group."""
    obj, theta = est.objective, est.theta
    n = obj.ntotal
    info = obj.information(theta) if options.information == "expected" else obj.hessian(theta) / 2.0
    e_inv = invert_information(info, "too few indicators per factor, a parameter that cannot be separated "
                                     "from another")
    if options.se in ("robust.huber.white", "robust.cluster"):
        b0 = first_order(obj.scores(theta), [gd.cluster for gd in est.groups])
        return sandwich(e_inv, b0, obj.weights, n), e_inv, b0
    return e_inv / n, e_inv, None


# -- step 8 ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TestResult:
    chisq: float
    df: int
    pvalue: float
    scaled: ScaledTest | None


def h1_information(groups: Sequence[GroupData], variables, options: FitOptions) -> list | None:
    """Saturated-model information of each group (what the robust statistics need), computed once.

    ``None`` when no robust statistic needs it (ML with complete data); for
    complete data without covariates the Yuan-Bentler trace has a closed form,
    so the (costly) matrices are only built with missing data or covariates.
    """
    needs = options.test == "yuan.bentler.mplus" or options.missing == "fiml"
    if not needs:
        return None
    return [saturated_information(gd, variables.ov, variables.ov_x, options.meanstructure)
            if (gd.has_missing or variables.ov_x or gd.cluster is not None) else None for gd in groups]


def step08_test(est: Estimation, options: FitOptions, df: int, e_inv: np.ndarray | None,
                b0: list[np.ndarray] | None, h1: list | None = None) -> TestResult:
    """Likelihood-ratio chi-square against the saturated model; Yuan-Bentler scaling for MLR."""
    obj = est.objective
    f = obj.value(est.theta)
    f_h1 = obj.h1_value()
    chisq = max(obj.ntotal * (f - f_h1), 0.0)
    pvalue = float(special.chdtrc(df, chisq)) if df > 0 else float("nan")  # stats.chi2.sf, without its overhead
    scaled = None
    if options.test == "yuan.bentler.mplus":
        traces = []
        for g, gd in enumerate(est.groups):
            if h1 is not None and h1[g] is not None:
                traces.append(h1_trace(h1[g]))
            else:
                traces.append(h1_trace_complete(gd, options.meanstructure))
        n_free_rows = int((est.partable.table["free"] > 0).sum())  # lavaan's nx.free: before equalities
        scaled = yuan_bentler_mplus(chisq, df, traces, b0, obj.weights, e_inv, n_free_rows)
    return TestResult(chisq, df, pvalue, scaled)


# -- step 9 ---------------------------------------------------------------------------
def step09_baseline(est: Estimation, options: FitOptions, h1: list | None = None) -> tuple[TestResult, Estimation]:
    """Fit the independence model with the same estimator (for CFI, TLI); with auxiliary
    variables semTools' baseline, in which they stay saturated."""
    if options.auxiliary:
        pt = auxiliary_baseline_partable(est.partable.variables, options.auxiliary, est.partable.ngroups)
    else:
        pt = independence_partable(est.partable.variables, est.partable.ngroups, options.meanstructure)
    fiml = options.missing == "fiml"
    # starts at (or, with auxiliaries, next to) its solution; with auxiliaries the cheap step matrix
    # converges slowly (~90 steps on the pipeline's models), the exact Hessian in ~8
    try:
        base = step06_estimate(pt, est.groups, options.meanstructure, fiml, _independence_start(pt, est.groups),
                               exact_when_slow=bool(options.auxiliary))
    except NotPositiveDefiniteError:  # the auxiliaries' saturated covariances do not fit the independence
        base = step06_estimate(pt, est.groups, options.meanstructure, fiml, exact_when_slow=True)
    df = _ndat(pt, est.groups) - pt.npar
    e_inv = b0 = None
    if options.test == "yuan.bentler.mplus":  # only the scaled test needs the baseline's information
        _, e_inv, b0 = step07_vcov(base, options)
    return step08_test(base, options, df, e_inv, b0, h1), base


def _independence_start(pt: ParTable, groups: Sequence[GroupData]) -> np.ndarray:
    """Start of the baseline model: each variable's mean and variance over the rows that observe it
    (divisor n_j; with complete data the sample moments). With auxiliary variables (semTools'
    baseline, which has their covariances) the saturated (EM) moments instead.

    Without auxiliaries this is the independence model's ML solution, with missing values too (its
    likelihood factors over the variables), so the optimiser only confirms it."""
    t = pt.table
    ov = {x: i for i, x in enumerate(pt.variables.ov)}
    saturated = bool(((t["op"] == "~~") & (t["lhs"] != t["rhs"])).any())
    moments = []
    for gd in groups:
        if gd.has_missing and not saturated:
            moments.append((np.nanmean(gd.data, axis=0), np.nanvar(gd.data, axis=0)))
        else:
            moments.append((gd.mean, np.diag(gd.cov)))
    theta = np.zeros(pt.npar)
    for lhs, op, rhs, grp, free in zip(t["lhs"], t["op"], t["rhs"], t["group"], t["free"]):
        if free > 0:
            mean, var = moments[grp - 1]
            if op == "~1":
                theta[free - 1] = mean[ov[lhs]]
            elif lhs == rhs:
                theta[free - 1] = var[ov[lhs]]
            else:
                theta[free - 1] = groups[grp - 1].cov[ov[lhs], ov[rhs]]
    return theta


# -- step 11 --------------------------------------------------------------------------
def step11_table(est: Estimation, vcov: np.ndarray, options: FitOptions) -> pd.DataFrame:
    """Assemble lavaan's ``parameterEstimates(standardized=TRUE, ci=TRUE)`` table."""
    pt = est.partable
    values = row_values(est)
    sig_all = [est.model.implied(est.theta, g).sigma_all for g in range(pt.ngroups)]
    to_lv, to_all = _standardizers(pt, est.model.groups[0].names)
    std_lv, std_all = to_lv(values, sig_all), to_all(values, sig_all)  # standardize(), indices found once
    return estimates_table(pt, est.theta, vcov, values, std_lv, std_all)


_STANDARDIZERS: dict[int, dict] = {}


def _standardizers(pt: ParTable, names: tuple[str, ...]) -> tuple[Standardizer, Standardizer]:
    """The ``std.lv`` and ``std.all`` :class:`Standardizer` of parameter table ``pt`` with model variables
    ``names``, built once per table (a ParTable is never changed; the refits of a model - bootstrap,
    power study - share its table) and freed with it."""
    key = id(pt)
    memo = _STANDARDIZERS.get(key)
    if memo is None:
        memo = _STANDARDIZERS[key] = {}
        weakref.finalize(pt, _STANDARDIZERS.pop, key, None)
    if names not in memo:
        latent = set(pt.variables.lv)
        memo[names] = (Standardizer(pt.table, names, latent, observed_too=False),
                       Standardizer(pt.table, names, latent, observed_too=True))
    return memo[names]


# -- step 10 --------------------------------------------------------------------------
def _covariate_loglik(est: Estimation) -> float:
    """Saturated log-likelihood of the exogenous covariates (observed in every used row)."""
    ov = list(est.partable.variables.ov)
    idx = [ov.index(x) for x in est.partable.variables.ov_x]
    if not idx:
        return 0.0
    total = 0.0
    for gd in est.groups:
        x = gd.data[:, idx]
        centred = x - x.mean(axis=0)
        cov = centred.T @ centred / len(x)
        total += -0.5 * len(x) * (len(idx) * LOG2PI + np.linalg.slogdet(cov)[1] + len(idx))
    return float(total)


def step10_measures(est: Estimation, options: FitOptions, test: TestResult, base_test: TestResult,
                    base: Estimation, e_inv: np.ndarray, npar: int, h1: list | None = None,
                    fimlc_base: tuple[Estimation, int] | None = None) -> dict[str, float]:
    """lavaan's ``fitMeasures()`` names and values.

    ``fimlc_base``: the (independence model, df) whose terms the FIML-corrected
    robust CFI/TLI use instead of ``base`` (lavaan's own independence model when
    the baseline is semTools' auxiliary baseline, see :mod:`analysis.sem.auxiliary`).
    """
    obj = est.objective
    n = obj.ntotal
    ngroups = est.partable.ngroups
    # with fixed.x the likelihood is conditional on the covariates (lavaan subtracts loglik.x)
    logl_x = _covariate_loglik(est)
    logl = obj.loglik(est.theta) - logl_x
    h1_logl = float(sum(gd.h1_loglik for gd in est.groups)) - logl_x
    x2, df = test.chisq, test.df
    x2b, dfb = base_test.chisq, base_test.df
    fm: dict[str, float] = {
        "npar": npar, "fmin": obj.value(est.theta) / 2 - obj.h1_value() / 2,
        "chisq": x2, "df": df, "pvalue": test.pvalue,
        "baseline.chisq": x2b, "baseline.df": dfb, "baseline.pvalue": base_test.pvalue,
        "cfi": cfi(x2, df, x2b, dfb), "tli": tli(x2, df, x2b, dfb), **incremental_indices(x2, df, x2b, dfb),
        "logl": logl, "unrestricted.logl": h1_logl,
        "aic": -2 * logl + 2 * npar, "bic": -2 * logl + npar * np.log(n),
        "ntotal": n, "bic2": -2 * logl + npar * np.log((n + 2) / 24),
        **rmsea_measures(x2, df, n, ngroups),
    }
    if test.scaled is not None:
        sc, scb = test.scaled, base_test.scaled
        c, cb = sc.scaling_factor, scb.scaling_factor
        fm.update({
            "chisq.scaled": sc.chisq, "df.scaled": df, "pvalue.scaled": sc.pvalue,
            "chisq.scaling.factor": c,
            "baseline.chisq.scaled": scb.chisq, "baseline.df.scaled": dfb,
            "baseline.pvalue.scaled": scb.pvalue, "baseline.chisq.scaling.factor": cb,
            "cfi.scaled": cfi(sc.chisq, df, scb.chisq, dfb), "tli.scaled": tli(sc.chisq, df, scb.chisq, dfb),
            "scaling.factor.h1": sc.scaling_factor_h1, "scaling.factor.h0": sc.scaling_factor_h0,
        })
        fm.update(incremental_indices(sc.chisq, df, scb.chisq, dfb, ".scaled"))
        # lavaan: the unscaled chi-square on df = tr(UGamma); NA when that is 0 or, with df = 0, not stored
        tr = sc.trace_ugamma
        df2 = tr if df > 0 and np.isfinite(tr) and tr != 0 else float("nan")
        fm.update(rmsea_measures(x2, df2, n, ngroups, ".scaled"))
        if options.missing != "fiml":
            fm.update(robust_measures(x2, df, x2b, dfb, c, cb, sc.chisq, df, n, ngroups))
        if df == 0:  # lavaan's test of a saturated model carries no h1/h0 scaling factors
            del fm["scaling.factor.h1"], fm["scaling.factor.h0"]
    if options.missing == "fiml":
        fc_base, fc_dfb = fimlc_base if fimlc_base is not None else (base, dfb)
        fc = fiml_corrected(est, fc_base, df, fc_dfb, scaled=test.scaled is not None, h1=h1)
        fm.update(robust_measures(fc.xx3, df, fc.xx3_null, dfb, fc.c_hat3, fc.c_hat3_null, fc.xx3_scaled,
                                  fc.df3, n, ngroups))
    fm.update(_residual_measures(est, options))
    fm.update(_other_measures(est, options, x2, df, npar))
    return fm


def _residual_measures(est: Estimation, options: FitOptions) -> dict[str, float]:
    """RMR, SRMR (Bentler, Mplus) and CRMR with and without means: the group values weighted
    by group size (lavaan's ``lav_fit_srmr_lavobject``); ``srmr`` is Bentler's."""
    n = est.objective.ntotal
    out: dict[str, float] = {}
    for g, gd in enumerate(est.groups):
        imp = est.model.implied(est.theta, g)
        for name, value in residual_rms(gd.cov, gd.mean, imp.sigma, imp.mu, options.meanstructure).items():
            out[name] = out.get(name, 0.0) + gd.n / n * value
    return {"srmr": out["srmr_bentler"], **out}


def _other_measures(est: Estimation, options: FitOptions, x2: float, df: int, npar: int) -> dict[str, float]:
    """GFI, AGFI, PGFI (lavaan's ``lav_fit_gfi``: residuals of ``WLS.obs`` weighted by the
    structured h1 information), Hoelter's CN, MFI and ECVI.

    With missing data lavaan's ``WLS.obs`` are the available-case means and the
    pairwise covariances (divisor N), not the EM estimates.
    """
    n = est.objective.ntotal
    ov = list(est.partable.variables.ov)
    x_idx = [ov.index(x) for x in est.partable.variables.ov_x]
    value, nel = 0.0, 0
    for g, gd in enumerate(est.groups):
        imp = est.model.implied(est.theta, g)
        if options.missing == "fiml":
            frame = pd.DataFrame(gd.data)
            obs_cov = frame.cov().to_numpy() * (gd.n - 1) / gd.n
            obs_mean = frame.mean().to_numpy()
            rows = row_terms(gd.rows, imp.mu, imp.sigma)
        else:
            obs_cov, obs_mean, rows = gd.cov, gd.mean, None
        value += gd.n / n * gfi(obs_cov, obs_mean, imp.sigma, imp.mu, options.meanstructure, x_idx, rows)
        p = len(gd.mean)
        nel += p * (p + 1) // 2 + (p if options.meanstructure else 0)
    return {"gfi": value, "agfi": agfi(value, nel, df), "pgfi": pgfi(value, nel, df),
            "cn_05": hoelter_cn(x2, df, n, 0.05), "cn_01": hoelter_cn(x2, df, n, 0.01),
            "mfi": mfi(x2, df, n), "ecvi": ecvi(x2, npar, n)}


@dataclass(frozen=True)
class FitResult:
    """An immutable fitted model: specification, options, estimates, fit and diagnostics.

    Attributes
    ----------
    model : str
        The lavaan syntax as given.
    options : FitOptions
    parameters : DataFrame
        lavaan's ``parameterEstimates(standardized=TRUE, ci=TRUE)`` columns
        (:data:`analysis.sem.constants.PARAMETER_COLUMNS`); ``group`` is 1-based,
        0 for defined (``:=``) parameters.
    fit_measures : dict
        lavaan's ``fitMeasures()`` names (``chisq, df, cfi, rmsea, srmr, ...``).
    nobs : tuple of int
        Cases used per group.
    group_labels : tuple of str
    excluded : DataFrame
        Rows left out (``row``, ``reason``).
    vcov : ndarray
        Covariance matrix of the free parameters (in ``free`` order).
    warnings : tuple of str
        Problems the user is warned about (rows excluded for a missing group, cluster or
        covariate; Heywood cases; ...), each also issued as a :class:`SmeSurveyWarning`.
    """

    model: str
    options: FitOptions
    parameters: pd.DataFrame
    fit_measures: dict
    nobs: tuple[int, ...]
    group_labels: tuple[str, ...]
    excluded: pd.DataFrame
    vcov: np.ndarray
    warnings: tuple[str, ...]
    estimation: Estimation = field(repr=False)
    #: cells set missing because they held one of ``missing_codes`` (``row``, ``variable``, ``original``)
    recoded: pd.DataFrame | None = field(default=None, repr=False)
    #: why the solution is improper, one short line per problem: "negative variance x ~~ x = -0.01
    #: (group 2)" (a Heywood case), "the covariance matrix of the latent variables is not positive
    #: definite (group 2)"; empty for a proper solution. ``warnings`` has them with advice.
    improper: tuple[str, ...] = ()

    @property
    def proper(self) -> bool:
        """True when no variance is negative and the latent covariance matrices are positive definite."""
        return not self.improper

    @property
    def partable(self) -> ParTable:
        return self.estimation.partable

    @property
    def converged(self) -> bool:
        return self.estimation.optim.converged

    def implied(self, group: int = 1) -> tuple[pd.DataFrame, pd.Series]:
        """Model-implied covariance matrix and means of the observed variables of ``group`` (1-based)."""
        imp = self.estimation.model.implied(self.estimation.theta, group - 1)
        ov = list(self.partable.variables.ov)
        return pd.DataFrame(imp.sigma, index=ov, columns=ov), pd.Series(imp.mu, index=ov)

    def sample_moments(self, group: int = 1) -> tuple[pd.DataFrame, pd.Series]:
        """Sample covariance matrix (divisor N) and means of the observed variables of ``group``
        (1-based), as lavaan's ``lavInspect(fit, "sampstat")``: with FIML on incomplete data these are
        the EM estimates of the saturated model (h1), not listwise moments."""
        gd = self.estimation.groups[group - 1]
        ov = list(self.partable.variables.ov)
        return pd.DataFrame(gd.cov, index=ov, columns=ov), pd.Series(gd.mean, index=ov)

    @property
    def nclusters(self) -> tuple[int, ...]:
        """Clusters per group behind cluster-robust statistics (lavaan ``lavInspect(fit,
        "nclusters")``); empty without ``cluster=``."""
        return tuple(int(gd.cluster.max()) + 1 for gd in self.estimation.groups if gd.cluster is not None)

    def implied_latent(self, group: int = 1) -> tuple[pd.DataFrame, pd.Series]:
        """Model-implied covariance matrix and means of the latent variables of ``group``
        (1-based), as lavaan's ``lavInspect(fit, "cov.lv")`` / ``"mean.lv"``: total
        (not residual) variances and covariances, also of endogenous and higher-order factors."""
        imp = self.estimation.model.implied(self.estimation.theta, group - 1)
        if self.options.ordered:  # ordinal fits: the RAM part of the latent responses holds the factors
            imp = imp.ram
        p, lv = len(self.partable.variables.ov), list(self.partable.variables.lv)
        return (pd.DataFrame(imp.sigma_all[p:, p:], index=lv, columns=lv),
                pd.Series(imp.mu_all[p:], index=lv))

    def modindices(self, sort: bool = True, minimum: float = 0.0) -> pd.DataFrame:
        """Modification indices (lavaan's ``modindices()``): lhs, op, rhs, group, mi, epc, sepc.lv, sepc.all, sepc.nox.

        Not for ordinal (WLS-family) fits: :class:`OptionError`."""
        if self.options.ordered:
            raise OptionError(
                "modification indices are not available for ordinal (WLSMV) fits in this package; lavaan's "
                "modindices() for DWLS use the DWLS information, which is not implemented here. Inspect the "
                "residual correlations, or fit the items as continuous (MLR) to screen for misfit")
        return modification_indices(self, sort=sort, minimum=minimum)

    def summary(self) -> str:
        """A lavaan-style text summary: notes on the options, test statistics, fit, parameters."""
        return fit_summary(self)

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        from html import escape

        return "<pre>" + escape(self.summary()) + "</pre>"


def fit(model: str | ParsedModel, data: pd.DataFrame, *, estimator: str | None = None,
        missing: str = "listwise", group: str | None = None, group_equal: Sequence[str] = (),
        group_partial: Sequence[str] = (), std_lv: bool = False, on_heywood: str = "warn",
        max_iter: int = 500, source: str = "data", cluster: str | None = None,
        auxiliary: Sequence[str] = (), model_type: str = "sem",
        missing_codes: Sequence[float] = (), ordered: bool | str | Sequence[str] | None = None,
        parameterization: str = "delta") -> FitResult:
    """Fit a CFA / SEM model by maximum likelihood - or, with ordinal items, by (diagonally)
    weighted least squares - matching lavaan 0.6.14.

    Parameters
    ----------
    model : str
        lavaan syntax (``=~ ~ ~~ ~1 :=``, labels, ``c()`` modifiers).
    data : DataFrame
        One row per case; columns named as in the model. Not modified.
    estimator : {"ML", "MLR", "WLSMV", "WLSM", "ULSMV", "DWLS", "ULS"}, optional
        ML (the default without ``ordered``): expected-information standard errors and the
        normal-theory chi-square (observed information with ``missing="fiml"``). MLR: Huber-White
        standard errors from the observed information, Yuan-Bentler (Mplus)
        scaled chi-square, robust CFI/TLI/RMSEA. For ordinal items (``ordered``; WLSMV is the
        default then, as in lavaan): WLSMV - DWLS on thresholds and polychoric correlations,
        robust (``robust.sem``) standard errors, mean-and-variance adjusted (scaled-shifted)
        test; WLSM - the same with the mean-adjusted test; ULSMV - unweighted least squares,
        robust standard errors, scaled-shifted test; DWLS / ULS - without robust statistics
        (:mod:`analysis.sem.ordinal`).
    missing : {"listwise", "fiml", "pairwise"}
        Listwise deletion (rows logged in ``result.excluded``) or
        full-information ML under MAR (lavaan's ``missing="ml"``); with ordinal items
        listwise or pairwise (thresholds from each item's answers, each correlation from the
        rows answering both items).
    group : str, optional
        Column with the groups of a multi-group model.
    group_equal : sequence of str
        Parameter types held equal across groups (``loadings``, ``intercepts``,
        ``residuals``, ``means``, ``lv.variances``, ``lv.covariances``,
        ``regressions``, ``residual.covariances``).
    group_partial : sequence of str
        Exceptions to ``group_equal`` (``"visual =~ x2"``).
    std_lv : bool
        Scale latent variables by fixing their variances to 1.
    on_heywood : {"warn", "error"}
        Negative variance estimates give a :class:`HeywoodCaseWarning`, or raise.
    max_iter : int
        Iteration limit of the optimiser (lavaan's ``control=list(iter.max=)``).
    source : str
        Name of the data used in error messages (e.g. a file path).
    cluster : str, optional
        Column with the cluster of each case (e.g. firms in cluster
        organisations): cluster-robust standard errors and scaled test
        (lavaan's ``cluster=`` for a single-level model, ``se="robust.cluster"``);
        needs ``estimator="MLR"``.
    auxiliary : sequence of str
        Columns used as auxiliary variables of FIML (semTools' ``auxiliary()``,
        Graham's saturated correlates; :mod:`analysis.sem.auxiliary`): variables
        that predict missingness but are not in the model. Needs
        ``missing="fiml"``; makes exogenous covariates random (``fixed.x=FALSE``).
        df and the baseline df stay those of the model without them.
    model_type : {"sem", "cfa", "growth"}
        Which lavaan function's defaults to use. ``"sem"`` and ``"cfa"`` are
        lavaan's ``sem()``/``cfa()`` (identical defaults: observed intercepts
        free, latent means fixed to 0). ``"growth"`` is lavaan's ``growth()``:
        a mean structure always, intercepts of the observed (non-covariate)
        variables fixed to 0 and latent means / intercepts free
        (``int.ov.free=FALSE, int.lv.free=TRUE``), so that growth syntax such as
        ``i =~ 1*t1 + 1*t2 + 1*t3; s =~ 0*t1 + 1*t2 + 2*t3`` fits unchanged.
    missing_codes : sequence of float
        Values meaning "no answer" (e.g. the codebook's -99): set missing in the
        model's variables and listed in ``result.recoded``. Undeclared codes such
        as -99 or 99 far outside a column's other values raise :class:`DataError`
        (see :func:`analysis.sem.data_prep.prepare_data`).
    ordered : bool, "all" or sequence of str, optional
        Ordinal items (lavaan's ``ordered=``): ``True`` / ``"all"`` for all the model's observed
        variables, or the names of those that are ordinal (the others are continuous: polyserial
        and Pearson correlations). Their categories are the distinct values over all groups, in
        order. Fitted with the WLS family (see ``estimator``); ``group_equal`` then also takes
        ``"thresholds"``.
    parameterization : {"delta", "theta"}
        lavaan's parameterisation of ordinal items: the latent responses scaled to unit
        variance (delta, the default) or their residual variances fixed to 1 (theta).

    Returns
    -------
    FitResult

    Notes
    -----
    BLAS runs on one thread during the fit (:mod:`analysis.sem.threads`).
    """
    with fit_threads():
        return _fit(model, data, estimator=estimator, missing=missing, group=group, group_equal=group_equal,
                    group_partial=group_partial, std_lv=std_lv, on_heywood=on_heywood, max_iter=max_iter,
                    source=source, cluster=cluster, auxiliary=auxiliary, model_type=model_type,
                    missing_codes=missing_codes, ordered=ordered, parameterization=parameterization)


def _fit(model, data, *, estimator, missing, group, group_equal, group_partial, std_lv, on_heywood,
         max_iter, source, cluster, auxiliary, model_type, missing_codes, ordered=None, parameterization="delta",
         shared: dict | None = None) -> FitResult:
    """:func:`fit`'s pipeline. ``shared`` (see :func:`fit_many`): a dict in which the results that do not
    depend on ``group_equal`` / ``group_partial`` - prepared data, sample statistics and EM, h1
    information, baseline model - are kept for the next call with the same model, data and options."""
    shared = {} if shared is None else shared
    if estimator is None:  # lavaan: WLSMV for ordered data, ML otherwise
        estimator = "WLSMV" if ordered else "ML"
    if ordered or get_estimator(estimator).family == "wls":
        from analysis.sem.ordinal.fit import fit_ordinal  # the ordinal pipeline (lavaan ordered=)

        _check_choice("on_heywood", on_heywood, ON_HEYWOOD)
        _check_choice("model_type", model_type, MODEL_TYPES)
        syntax = model if isinstance(model, str) else ""
        parsed = parse_model(model) if isinstance(model, str) else model
        return fit_ordinal(parsed, syntax, data, estimator=estimator, ordered=ordered,
                           parameterization=parameterization, missing=missing, group=group, group_equal=group_equal,
                           group_partial=group_partial, std_lv=std_lv, on_heywood=on_heywood, max_iter=max_iter,
                           source=source, cluster=cluster, auxiliary=auxiliary, model_type=model_type,
                           missing_codes=missing_codes)
    if parameterization != "delta":
        raise OptionError("parameterization is an option of ordinal items (ordered=); continuous items have none")
    get_estimator(estimator)
    objective_class(missing)
    _check_choice("on_heywood", on_heywood, ON_HEYWOOD)
    _check_choice("model_type", model_type, MODEL_TYPES)
    if cluster is not None and estimator != "MLR":
        raise OptionError(f"cluster={cluster!r} needs estimator='MLR' (cluster-robust standard errors and "
                          f"scaled test); got estimator={estimator!r}")
    syntax = model if isinstance(model, str) else ""
    parsed = parse_model(model) if isinstance(model, str) else model          # step 2
    if any(s.op in ("|", "~*~") for s in parsed.statements):
        raise OptionError("the model has thresholds ('|') or scale factors ('~*~'), which only ordinal items have: "
                          "name them with ordered=[...] (fitted by WLSMV), or remove those lines")
    roles = classify_variables(parsed.statements)
    aux = check_auxiliary(auxiliary, missing=missing, model_variables=roles.ov)
    if "prepared" not in shared:
        shared["prepared"] = prepare_data(data, roles.ov + aux, group=group, missing=missing,
                                          covariates=() if aux else roles.ov_x, source=source, cluster=cluster,
                                          missing_codes=missing_codes)  # step 3
    prepared = shared["prepared"]
    ngroups = len(prepared.group_labels)
    options = step01_options(estimator, missing, group, group_equal, group_partial, std_lv,
                             on_heywood, ngroups, any(s.op == "~1" for s in parsed.statements), cluster,
                             model_type)
    growth = model_type == "growth"
    pt = build_partable(parsed, ngroups, meanstructure=options.meanstructure, std_lv=std_lv,
                        group_equal=group_equal, group_partial=group_partial,
                        int_ov_free=not growth, int_lv_free=growth)  # step 4
    if aux:
        options = replace(options, auxiliary=aux)
        pt = add_saturated_correlates(pt, aux)
    if "groups" not in shared:
        shared["groups"] = step05_samplestats(prepared, missing == "fiml", source)  # step 5
    groups = shared["groups"]
    df = _ndat(pt, groups) - pt.npar
    if df < 0:
        raise IdentificationError(
            f"the model has more free parameters ({pt.npar}) than sample moments ({_ndat(pt, groups)}), "
            f"so df = {df} < 0 and it is not identified; fix or constrain parameters, or add indicators")
    est = step06_estimate(pt, groups, options.meanstructure, missing == "fiml", max_iter=max_iter)  # step 6
    values = row_values(est)
    problems = []
    if prepared.notice:  # rows dropped for a missing group / cluster / covariate (lavaan warns too)
        warnings.warn(prepared.notice, SmeSurveyWarning, stacklevel=2)
        problems.append(prepared.notice)
    problems += heywood_problems(pt.table, values, on_heywood)
    improper = [f"negative variance {r}" for r in negative_variances(pt.table, values)]
    for g in range(ngroups):
        sig_all = est.model.implied(est.theta, g).sigma_all
        nlv = len(pt.variables.lv)
        if nlv and np.linalg.eigvalsh(sig_all[-nlv:, -nlv:])[0] < -1e-10:
            msg = f"the covariance matrix of the latent variables is not positive definite (group {g + 1})"
            warnings.warn(msg, SmeSurveyWarning, stacklevel=2)
            problems.append(msg)
            improper.append(msg)
    vcov, e_inv, b0 = step07_vcov(est, options)  # step 7
    if "h1" not in shared:
        shared["h1"] = h1_information(groups, pt.variables, options)
    h1 = shared["h1"]
    test = step08_test(est, options, df, e_inv, b0, h1)  # step 8
    if "baseline" not in shared:
        base_test, base = step09_baseline(est, options, h1)  # step 9
        fimlc_base = None
        if aux:  # lavaan's robust FIML CFI takes its baseline terms from the plain independence model
            indep = independence_partable(pt.variables, ngroups, True)
            fimlc_base = (step06_estimate(indep, groups, True, True, _independence_start(indep, groups)),
                          _ndat(indep, groups) - indep.npar)
        shared["baseline"] = (base_test, base, fimlc_base)
    base_test, base, fimlc_base = shared["baseline"]
    measures = step10_measures(est, options, test, base_test, base, e_inv, pt.npar, h1, fimlc_base)  # step 10
    table = step11_table(est, vcov, options)  # step 11
    return FitResult(syntax, options, table, measures, tuple(gd.n for gd in groups),
                     prepared.group_labels, prepared.excluded, vcov, tuple(problems), est, prepared.recoded,
                     tuple(improper))


def fit_many(model: str | ParsedModel, data: pd.DataFrame, variants: Sequence[dict], **options) -> list[FitResult]:
    """Fit one model to one data set under several equality-constraint settings - e.g. the levels
    of an invariance sequence - as :func:`fit` would, one result per entry of ``variants``.

    Each variant may set ``group_equal`` and ``group_partial`` only (the rest, ``options``, are
    :func:`fit`'s keywords, shared by all). What does not depend on them is computed once: data
    preparation, sample statistics and the saturated model (EM with missing data), the h1
    information of the robust statistics (with its Cholesky factor) and the baseline model.
    The results equal separate :func:`fit` calls.
    """
    return list(fit_each(model, data, variants, **options))


def fit_each(model: str | ParsedModel, data: pd.DataFrame, variants: Sequence[dict],
             **options) -> Iterator[FitResult]:
    """:func:`fit_many` one variant at a time: each result is fitted when the caller asks for it, so
    that a caller can stop early (an invariance sequence whose configural model is improper) without
    paying for the remaining fits. Same options, same shared work, same results."""
    allowed = {"group_equal", "group_partial"}
    for v in variants:
        if set(v) - allowed:
            raise OptionError(f"fit_many variants may set only {sorted(allowed)}; got {sorted(set(v) - allowed)}")
    defaults = dict(estimator=None, missing="listwise", group=None, group_equal=(), group_partial=(),
                    std_lv=False, on_heywood="warn", max_iter=500, source="data", cluster=None, auxiliary=(),
                    model_type="sem", missing_codes=(), ordered=None, parameterization="delta")
    unknown = set(options) - set(defaults)
    if unknown:
        raise OptionError(f"unknown fit option(s) {sorted(unknown)}; see analysis.sem.fit.fit")
    shared: dict = {}
    for v in variants:
        with fit_threads():  # entered per fit: the caller's code between fits keeps its own threads
            result = _fit(model, data, **{**defaults, **options, **v}, shared=shared)
        yield result


def refit(est: Estimation, arrays: Sequence[np.ndarray], *, fiml: bool,
          theta0: np.ndarray | None = None, tol: float = 1e-8) -> Estimation | None:
    """Refit the same model to new data (one array per group, columns = the model's variables).

    The lean path for bootstrap and Monte Carlo studies: the parameter table and the
    model matrices are reused (only the fixed.x covariates' moments are refreshed), the
    optimiser starts from ``theta0`` (default: the original estimates - a warm start), and
    nothing but the estimates is computed - no standard errors, test, baseline model,
    standardized solution or fit indices, and with FIML no EM (available-case moments
    stand in for the saturated ones, which only the chi-square would need); ask
    :func:`refit_statistics` for more. ``tol`` (Newton decrement) defaults to 1e-8 and the
    last, already solved Newton step is taken, which leaves estimates accurate to about 1e-6
    (measured on HolzingerSwineford1939 resamples; tol 1e-10 without that step left 1e-5
    and took 12% more iterations) - ample for bootstrap and Monte Carlo distributions. No L-BFGS-B
    fallback when Newton fails (as lavaan's bootstrap, which counts such draws as failed): of 1,212
    refits of power replications at N = 100 (H9, H10, H13, H16, 300 replications) the 1,186 that
    converged took a median 7 Newton steps (max 427 of the 500 allowed), and the fallback rescued
    none of the other 26 while it cost each about 4 s. Returns ``None`` when the sample cannot be fitted (non-positive-
    definite moments or no convergence: the package's :class:`EstimationError`
    family, or numpy's ``LinAlgError`` from a singular sample) so that callers
    can count failures. Anything else - a programming error - propagates: in
    thousands of bootstrap or power replications it must not pass for
    non-convergence.
    """
    try:
        with fit_threads():
            groups = [group_data(x, h1=False, fiml=True) if fiml else group_data(x[~np.isnan(x).any(axis=1)])
                      for x in arrays]
            model = est.model.with_exo([(gd.cov, gd.mean) for gd in groups])
            return step06_estimate(est.partable, groups, est.objective.meanstructure, fiml,
                                   est.theta if theta0 is None else theta0, tol=tol, exact_when_slow=True,
                                   model=model, final_step=True, fallback=False)
    except (EstimationError, np.linalg.LinAlgError):
        return None


@dataclass(frozen=True)
class RefitStatistics:
    """Standard errors and test statistic of a refit, computed only on request (:func:`refit_statistics`)."""

    se: np.ndarray  # standard errors of the free parameters (in ``free`` order)
    vcov: np.ndarray
    chisq: float
    df: int
    pvalue: float
    scaled: ScaledTest | None  # Yuan-Bentler scaled test with MLR


def refit_statistics(result: FitResult, est: Estimation) -> RefitStatistics:
    """Standard errors and chi-square test of a refit (``est`` from :func:`refit` of ``result``'s model),
    computed as :func:`fit` computes them for ``result``'s options - and nothing else (no baseline
    model, fit indices, standardized solution or parameter table).

    With FIML the saturated model is estimated by EM here (:func:`refit` skips it). Cluster-robust
    statistics need cluster codes, which refits do not carry: :class:`OptionError`.
    """
    options = result.options
    if options.cluster is not None:
        raise OptionError("refit_statistics cannot compute cluster-robust statistics: refits do not carry "
                          "the cluster of each row; use fit() on the resampled data")
    with fit_threads():
        groups = est.groups
        if options.missing == "fiml" and any(np.isnan(gd.h1_loglik) for gd in groups):
            groups = tuple(group_data(gd.data, fiml=True) for gd in groups)
            objective = objective_class("fiml")(est.model, list(groups), est.objective.meanstructure)
            est = Estimation(est.partable, est.model, groups, objective, est.theta, est.optim)
        df = int(result.fit_measures["df"])
        vcov, e_inv, b0 = step07_vcov(est, options)
        test = step08_test(est, options, df, e_inv, b0, h1_information(groups, est.partable.variables, options))
    return RefitStatistics(np.sqrt(np.clip(np.diag(vcov), 0, None)), vcov, test.chisq, df, test.pvalue,
                           test.scaled)

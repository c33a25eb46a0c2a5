"""The fitting pipeline of models with ordinal indicators (lavaan's ``ordered=``), in numbered steps.

:func:`analysis.sem.fit.fit` hands a fit here when an estimator of the WLS family is asked for
(or ``ordered`` is given). The steps mirror those of the ML pipeline:

1. options     - estimator (WLSMV, WLSM, ULSMV, DWLS, ULS), missing (listwise / pairwise),
                 parameterization (delta / theta), the ordinal columns
2. data        - the model's columns per group; categories coded 1..K over all groups, checked
                 (one category, a category nobody chose in a group)
3. samplestats - thresholds, polychoric / polyserial / Pearson correlations, WLS.obs, NACOV
                 (:mod:`analysis.sem.ordinal.samplestats`); pairs with too few cases refused, a
                 non-positive-definite correlation matrix warned about, naming the pairs
4. partable    - lavaan's table with thresholds and scale factors
5. estimate    - Gauss-Newton on the DWLS / ULS discrepancy (:mod:`.objective`)
6. vcov        - robust.sem sandwich or the standard inverse information (:mod:`.robust`)
7. test        - chi-square and its mean(-and-variance) adjusted version
8. baseline    - independence model (thresholds and the continuous variables' means and
                 variances free, correlations 0) with the same estimator
9. measures    - lavaan's ``fitMeasures()`` for these estimators, under its names
10. table      - ``parameterEstimates(standardized=TRUE, ci=TRUE)``

The result is the same :class:`analysis.sem.fit.FitResult` the ML pipeline returns; its
``estimation`` is an :class:`OrdinalEstimation`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from analysis.sem.data_prep import PreparedData, prepare_data
from analysis.sem.estimates import estimates_table
from analysis.sem.estimation import invert_information
from analysis.sem.estimators import WLS_MISSING, get_estimator
from analysis.sem.fit_indices import (
    ROBUST_MEASURES,
    agfi,
    cfi,
    hoelter_cn,
    incremental_indices,
    mfi,
    pgfi,
    rmsea_measures,
    robust_measures,
    tli,
)
from analysis.sem.optimize import OptimResult, minimize
from analysis.sem.ordinal.model import OrdinalModel
from analysis.sem.ordinal.objective import DWLSObjective
from analysis.sem.ordinal.robust import (
    AdjustedTest,
    CorrectedStatistics,
    GammaProducts,
    baseline_traces,
    catml,
    robust_vcov,
    satorra_bentler,
    scaled_shifted,
    ugamma_traces,
)
from analysis.sem.ordinal.samplestats import OrdinalGroupStats, ordinal_group_stats, vech_offdiag
from analysis.sem.partable import PARAMETERIZATIONS, ParTable, build_partable, table_from_rows
from analysis.sem.samplestats import GroupData
from analysis.sem.standardize import standardize
from analysis.sem.start import start_values
from analysis.sem.syntax import ParsedModel, VariableClasses
from smecore.errors import (
    ConvergenceError,
    DataError,
    IdentificationError,
    ModelSyntaxError,
    OptionError,
    SmeSurveyWarning,
)

#: fewer cases than this answering both items of a pair: their correlation is refused (a polychoric
#: correlation from a handful of cases is noise, and its asymptotic variance is meaningless)
MIN_PAIR_CASES = 10
#: more categories than this in an "ordinal" column: probably a continuous variable (warned about)
MANY_CATEGORIES = 15


@dataclass(frozen=True)
class OrdinalEstimation:
    """What an ordinal fit's statistics and refits need (the ``estimation`` of its ``FitResult``)."""

    partable: ParTable
    model: OrdinalModel
    stats: tuple[OrdinalGroupStats, ...]
    objective: DWLSObjective
    theta: np.ndarray
    optim: OptimResult
    levels: Mapping[str, tuple[float, ...]] = field(default_factory=dict)  # category values per ordinal item
    codes: tuple[np.ndarray, ...] = field(default=(), repr=False)  # per group: category codes 1..K (0 missing)

    @property
    def groups(self) -> tuple[OrdinalGroupStats, ...]:
        return self.stats


# -- step 1 -------------------------------------------------------------------------------
def resolve_ordered(ordered, roles: VariableClasses) -> tuple[str, ...]:
    """The model's observed variables that are ordinal: all of them (``True`` / ``"all"``) or the
    named ones (names that are not model variables are ignored, as lavaan does)."""
    if ordered is True or (isinstance(ordered, str) and ordered.lower() == "all"):
        return tuple(x for x in roles.ov if x not in roles.ov_x)
    if isinstance(ordered, str):
        ordered = [o.strip() for o in ordered.split(",") if o.strip()]
    if not ordered:
        return ()
    bad = [o for o in ordered if not isinstance(o, str)]
    if bad:
        raise OptionError(f"ordered must be True, 'all' or a list of column names; got {bad[0]!r}")
    return tuple(x for x in roles.ov if x in set(ordered))


def check_options(estimator: str, missing: str, parameterization: str, roles: VariableClasses,
                  ordinal: tuple[str, ...], cluster, auxiliary, model_type: str, parsed: ParsedModel) -> None:
    """Refuse the combinations the ordinal pipeline does not (or lavaan cannot) fit, naming them."""
    est = get_estimator(estimator)
    if est.family != "wls":
        raise OptionError(f"ordinal items (ordered=) are fitted with WLSMV, WLSM, ULSMV, DWLS or ULS; estimator "
                          f"{estimator!r} treats them as continuous. Use estimator='WLSMV' (lavaan's default for "
                          "ordered data), or leave ordered out to fit the items as continuous")
    if not ordinal:
        raise OptionError(f"estimator {estimator!r} is for ordinal items: name them with ordered=True (all the "
                          "model's items) or ordered=[columns]; for continuous data use ML or MLR")
    if missing not in WLS_MISSING:
        raise OptionError(f"The 'missing' parameter of fit must be one of {list(WLS_MISSING)} for ordinal items "
                          f"(lavaan: listwise or pairwise); got {missing!r}. Full-information ML with ordinal "
                          "items needs numerical integration, which this package does not do")
    if parameterization not in PARAMETERIZATIONS:
        raise OptionError(f"The 'parameterization' parameter of fit must be one of {list(PARAMETERIZATIONS)}; "
                          f"got {parameterization!r}")
    if cluster is not None:
        raise OptionError("cluster-robust statistics (cluster=) are not available for ordinal items")
    if auxiliary:
        raise OptionError("auxiliary variables are a FIML device; ordinal fits use listwise or pairwise deletion")
    if model_type == "growth":
        raise OptionError("growth models of ordinal items are not supported; fit them with model_type='sem'")
    if roles.ov_x:
        raise OptionError(
            f"observed exogenous covariates ({', '.join(roles.ov_x)}) in a model with ordinal items: lavaan then "
            "conditions on them (conditional.x, probit regressions of the items), which this package does not "
            "fit. Measure the covariate by a single-indicator factor (F =~ x), or fit with MLR")
    bad = [s.lhs for s in parsed.statements if s.op in ("|", "~*~") and s.lhs not in ordinal]
    if bad:
        raise ModelSyntaxError(f"thresholds or scale factors of '{bad[0]}', which is not an ordinal item; name it "
                               "in ordered=")


# -- step 2 -------------------------------------------------------------------------------
def code_categories(prepared: PreparedData, ordinal: tuple[str, ...], source: str
                    ) -> tuple[list[np.ndarray], dict[str, tuple[float, ...]]]:
    """Category codes ``1..K`` (0 = missing) of the ordinal columns per group, with the categories of
    each item over all groups (lavaan's ordered factor levels). Refuses an item with one observed
    category, and a category nobody chose in one group (lavaan refuses too)."""
    variables = list(prepared.variables)
    levels: dict[str, tuple[float, ...]] = {}
    allx = np.concatenate(prepared.arrays, axis=0)
    for v in ordinal:
        col = allx[:, variables.index(v)]
        lev = np.unique(col[~np.isnan(col)])
        if len(lev) < 2:
            raise DataError(f"{source}: ordinal item '{v}' has one observed category (every answer is {lev[0]:g}); "
                            "thresholds need at least two categories - remove the item from the model")
        if len(lev) > MANY_CATEGORIES:
            warnings.warn(f"{source}: ordinal item '{v}' has {len(lev)} categories; is it a continuous variable? "
                          "(leave it out of ordered=)", SmeSurveyWarning, stacklevel=4)
        levels[v] = tuple(float(x) for x in lev)
    codes = []
    for lab, x in zip(prepared.group_labels, prepared.arrays):
        c = np.zeros(x.shape, dtype=int)
        for v in ordinal:
            j = variables.index(v)
            lev = np.asarray(levels[v])
            col = x[:, j]
            obs = ~np.isnan(col)
            c[obs, j] = np.searchsorted(lev, col[obs]) + 1
            counts = np.bincount(c[obs, j], minlength=len(lev) + 1)[1:]
            empty = [lev[k] for k in np.flatnonzero(counts == 0)]
            if empty:
                where = f"in group '{lab}'" if lab else "in the data used"
                shown = ", ".join(f"{e:g}" for e in empty)
                raise DataError(
                    f"{source}: category {shown} of ordinal item '{v}' was chosen by nobody {where} (counts "
                    f"{', '.join(f'{lv:g}: {n}' for lv, n in zip(lev, counts))}); its threshold cannot be estimated "
                    "there (lavaan refuses too). Collapse it with a neighbouring category (e.g. recode "
                    f"{empty[0]:g} to {_neighbour(lev, empty[0]):g}) in every group, or drop the item")
        codes.append(c)
    return codes, levels


def _neighbour(lev: np.ndarray, value: float) -> float:
    k = int(np.searchsorted(lev, value))
    return float(lev[k + 1] if k == 0 else lev[k - 1])


# -- step 3 -------------------------------------------------------------------------------
def step03_samplestats(prepared: PreparedData, codes: list[np.ndarray], ordinal: tuple[str, ...],
                       levels: Mapping[str, tuple[float, ...]], source: str) -> tuple[list[OrdinalGroupStats],
                                                                                   list[str]]:
    """Sample statistics per group; refuses pairs with fewer than :data:`MIN_PAIR_CASES` cases, warns
    (naming the pairs) when a correlation matrix is not positive definite."""
    variables = list(prepared.variables)
    ord_mask = np.array([v in ordinal for v in variables])
    nlev = np.array([len(levels[v]) if v in levels else 0 for v in variables])
    out, problems = [], []
    for lab, x, c in zip(prepared.group_labels, prepared.arrays, codes):
        where = source + (f", group '{lab}'" if lab else "")
        obs = np.where(ord_mask[None, :], c > 0, ~np.isnan(x)).astype(float)
        pairs = obs.T @ obs
        low = np.argwhere(np.tril(pairs < MIN_PAIR_CASES, -1))
        if len(low):
            i, j = low[0]
            raise DataError(f"{where}: only {int(pairs[i, j])} case(s) answer both '{variables[j]}' and "
                            f"'{variables[i]}' ({len(low)} pair(s) below {MIN_PAIR_CASES}); their correlation "
                            "cannot be estimated reliably - drop one of them, or use listwise deletion")
        st = ordinal_group_stats(c, x, ord_mask, nlev)
        eig, vec = np.linalg.eigh(st.cor)
        if eig[0] <= 0:
            msg = f"{where}: the polychoric correlation matrix is not positive definite (smallest eigenvalue " \
                  f"{eig[0]:.3g}); pairs involved: {', '.join(_npd_pairs(st.cor, vec[:, eig <= 0], variables))}. " \
                  "DWLS still fits it; check those items (near-duplicates, sparse tables)"
            warnings.warn(msg, SmeSurveyWarning, stacklevel=4)
            problems.append(msg)
        big = np.argwhere(np.tril(np.abs(st.cor) > 0.99, -1))
        for i, j in big:
            msg = f"{where}: the correlation of '{variables[j]}' and '{variables[i]}' is (nearly) 1 ({st.cor[i, j]:.3f})"
            warnings.warn(msg, SmeSurveyWarning, stacklevel=4)
            problems.append(msg)
        out.append(st)
    return out, problems


def _npd_pairs(cor: np.ndarray, vecs: np.ndarray, names: list[str], most: int = 5) -> list[str]:
    """The pairs behind negative eigenvalues: ranked by ``|r_ij| * (|v_i| |v_j|)`` over the eigenvectors."""
    w = np.abs(vecs).max(axis=1)
    score = np.abs(cor) * np.outer(w, w)
    np.fill_diagonal(score, 0)
    idx = np.dstack(np.unravel_index(np.argsort(-score, axis=None), score.shape))[0]
    out = []
    for i, j in idx:
        if i > j:
            out.append(f"{names[j]}-{names[i]} (r = {cor[i, j]:.3f})")
        if len(out) == most:
            break
    return out


# -- step 5 -------------------------------------------------------------------------------
def _start(pt: ParTable, model: OrdinalModel, stats: Sequence[OrdinalGroupStats]) -> np.ndarray:
    """Starting values: lavaan's simple rules on the latent-response correlation matrix for the RAM
    part (:func:`analysis.sem.start.start_values`), the sample thresholds, scale factors 1."""
    pseudo = [GroupData(np.zeros((0, len(st.cov))), st.n, st.mean, st.cov)
              for st in stats]
    theta = np.zeros(pt.npar)
    ram_theta = start_values(model.ram_partable, pseudo)
    theta[model.ram_index] = ram_theta
    t = pt.table
    for st, lay in zip(stats, model.layouts):
        k = np.flatnonzero(lay.th_free >= 0)
        theta[lay.th_free[k]] = st.th[k]
    free, op, lhs, rhs, ustart, start = (t[c].to_numpy() for c in ("free", "op", "lhs", "rhs", "ustart", "start"))
    for i in np.flatnonzero((free > 0) & (op == "~*~")):
        theta[free[i] - 1] = 1.0
    for i in np.flatnonzero((free > 0) & (op == "~~") & (lhs == rhs) & np.isin(lhs, model.ordered)):
        theta[free[i] - 1] = 1.0
    for i in np.flatnonzero((free > 0) & ~np.isnan(start.astype(float))):
        theta[free[i] - 1] = start[i]
    return theta


def step05_estimate(pt: ParTable, model: OrdinalModel, objective: DWLSObjective, stats, max_iter: int,
                    theta0: np.ndarray | None = None) -> tuple[np.ndarray, OptimResult]:
    start = _start(pt, model, stats) if theta0 is None else theta0
    res = minimize(objective, start, max_iter=max_iter, tol=1e-13)
    if not res.converged:
        raise ConvergenceError(
            f"the model did not converge ({res.message}, {res.iterations} iterations). Try: check the model for "
            "identification, give start values (start(0.5)*x), or simplify the model")
    return res.theta, res


# -- step 6 ---------------------------------------------------------------------------------
def step06_vcov(objective: DWLSObjective, theta: np.ndarray, se: str) -> tuple[np.ndarray, np.ndarray]:
    """Covariance matrix of the estimates and ``E^-1``."""
    e = objective.expected_information(theta)
    e_inv = invert_information(e, "too few indicators per factor, thresholds and scale factors that cannot be "
                                  "separated")
    n = objective.ntotal - len(objective.groups)  # lavaan (lav_model_vcov): N - G for estimators other than ML
    if se == "robust.sem":
        deltas = [objective.jacobian(theta, g) for g in range(len(objective.groups))]
        return robust_vcov(e_inv, deltas, objective.wls_v, objective.groups, objective.weights, n), e_inv
    return e_inv / n, e_inv


# -- step 7 ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrdinalTest:
    chisq: float
    df: int
    pvalue: float
    adjusted: AdjustedTest | None


def step07_test(objective: DWLSObjective, theta: np.ndarray, df: int, test: str, e_inv: np.ndarray | None,
                uls: bool, products: GammaProducts | None = None, baseline: bool = False) -> OrdinalTest:
    """The test statistic and, unless ``test`` is ``"standard"``, its adjusted version (``baseline``:
    the traces of the independence model in closed form, :func:`.robust.baseline_traces`)."""
    chisq = max(objective.ntotal * objective.value(theta), 0.0)
    pvalue = float(special.chdtrc(df, chisq)) if (df > 0 and not uls) else float("nan")
    adjusted = None
    if test != "standard":
        second = test == "scaled.shifted"
        if baseline:
            tr1, tr2 = baseline_traces(objective.groups, objective.wls_v, products, second)
        else:
            deltas = [objective.jacobian(theta, g) for g in range(len(objective.groups))]
            tr1, tr2 = ugamma_traces(e_inv, deltas, objective.wls_v, objective.groups, objective.weights,
                                     second=second, products=products)
        adjusted = (scaled_shifted(chisq, df, tr1, tr2) if test == "scaled.shifted"
                    else satorra_bentler(chisq, df, tr1))
    return OrdinalTest(chisq, df, pvalue, adjusted)


# -- step 8 ---------------------------------------------------------------------------------
def independence_partable(variables: VariableClasses, ordinal: tuple[str, ...], nth: Mapping[str, int],
                          ngroups: int) -> ParTable:
    """lavaan's baseline model of categorical data (``lav_partable_indep_or_unrestricted``): free
    thresholds, the continuous variables' variances and intercepts free, the ordinal items'
    residual variances and scale factors 1, no covariances."""
    rows = []
    for x in variables.ov:
        if x in ordinal:
            rows += [(x, "|", f"t{k}", 1, 0, np.nan) for k in range(1, nth[x] + 1)]
    for x in variables.ov:
        rows.append((x, "~~", x, 0 if x in ordinal else 1, 0, 1.0 if x in ordinal else np.nan))
    rows += [(x, "~*~", x, 0, 0, 1.0) for x in variables.ov if x in ordinal]
    rows += [(x, "~1", "", 0 if x in ordinal else 1, 0, 0.0 if x in ordinal else np.nan) for x in variables.ov]
    v = VariableClasses(lv=(), ov=variables.ov, ov_x=(), ov_nox=variables.ov, lv_x=(), ov_y=(), lv_y=())
    return ParTable(table_from_rows(rows, ngroups), v, ngroups, True)


def _ndat(stats: Sequence[OrdinalGroupStats]) -> int:
    return int(sum(st.nstat for st in stats))


# -- step 9 ---------------------------------------------------------------------------------
def step09_measures(objective: DWLSObjective, theta: np.ndarray, test: OrdinalTest, base: OrdinalTest,
                    npar: int, cat: CorrectedStatistics | None, estimator: str, ngroups: int) -> dict[str, float]:
    """lavaan's ``fitMeasures()`` of a categorical fit, under its names (``lav_fit_measures``). The
    sample size of RMSEA, CN and MFI is ``N - G`` (lavaan's ``lav_utils_get_ntotal`` for estimators
    other than ML)."""
    n = objective.ntotal - ngroups
    x2, df = test.chisq, test.df
    x2b, dfb = base.chisq, base.df
    fm: dict[str, float] = {"npar": npar, "fmin": objective.value(theta) / 2, "chisq": x2, "df": df,
                            "pvalue": test.pvalue}
    adj, badj = test.adjusted, base.adjusted
    if adj is not None:
        fm.update({"chisq.scaled": adj.chisq, "df.scaled": df, "pvalue.scaled": adj.pvalue,
                   "chisq.scaling.factor": adj.scaling_factor})
        if adj.test == "scaled.shifted":
            fm["chisq.shift.parameters"] = adj.shift_parameter
    fm.update({"baseline.chisq": x2b, "baseline.df": dfb, "baseline.pvalue": base.pvalue})
    if adj is not None:
        fm.update({"baseline.chisq.scaled": badj.chisq, "baseline.df.scaled": dfb,
                   "baseline.pvalue.scaled": badj.pvalue, "baseline.chisq.scaling.factor": badj.scaling_factor})
    fm["cfi"], fm["tli"] = cfi(x2, df, x2b, dfb), tli(x2, df, x2b, dfb)
    if adj is not None:
        fm["cfi.scaled"] = cfi(adj.chisq, df, badj.chisq, dfb)
        fm["tli.scaled"] = tli(adj.chisq, df, badj.chisq, dfb)
    robust = adj is not None  # lavaan drops them (NA names) without a scaled test (DWLS, ULS)
    if robust:
        r = _robust_values(df, dfb, cat, n, ngroups)
        fm["cfi.robust"], fm["tli.robust"] = r["cfi.robust"], r["tli.robust"]
    fm.update(incremental_indices(x2, df, x2b, dfb))
    if adj is not None:
        fm.update(incremental_indices(adj.chisq, df, badj.chisq, dfb, ".scaled"))
    if robust:
        fm["nnfi.robust"], fm["rni.robust"] = r["nnfi.robust"], r["rni.robust"]
    fm.update(rmsea_measures(x2, df, n, ngroups))
    if adj is not None:
        if adj.test == "scaled.shifted":
            xx2, df2 = adj.chisq, df
        else:
            xx2, df2 = x2, (adj.trace_ugamma if np.isfinite(adj.trace_ugamma) and adj.trace_ugamma != 0
                            else float("nan"))
        fm.update(rmsea_measures(xx2, df2, n, ngroups, ".scaled"))
    if robust:
        fm.update({k: v for k, v in r.items() if k.startswith("rmsea.")})
    fm.update(_residual_measures(objective, theta))
    nel = sum(st.nstat for st in objective.groups)
    g = _gfi(objective, theta)
    fm.update({"cn_05": hoelter_cn(x2, df, n, 0.05), "cn_01": hoelter_cn(x2, df, n, 0.01),
               "gfi": g, "agfi": agfi(g, nel, df), "pgfi": pgfi(g, nel, df), "mfi": mfi(x2, df, n),
               "wrmr": float(np.sqrt(x2 / objective.groups[0].nstat)) if objective.groups[0].nstat > 0 else np.nan})
    return fm


def _robust_values(df: int, dfb: int, cat: CorrectedStatistics | None, n: int, ngroups: int) -> dict[str, float]:
    """lavaan's ``*.robust`` CFI / TLI / RNI / RMSEA of a categorical fit (``lav_fit_rmsea_lavobject``):
    from catML (Savalei 2021) for all-ordinal data without conditional.x, ``XX3`` on ``df3`` with
    ``c_hat3`` (the RMSEA's interval and tests from ``XX3 / c_hat3``); NaN otherwise (lavaan's
    ``lav_fit_catml_dwls`` returns NA with continuous variables)."""
    if cat is None:
        return dict.fromkeys(ROBUST_MEASURES, float("nan"))
    return robust_measures(cat.xx3, df, cat.xx3_null, dfb, cat.c_hat3, cat.c_hat3_null, cat.xx3_scaled, cat.df3,
                           n, ngroups)


def _residual_measures(objective: DWLSObjective, theta: np.ndarray) -> dict[str, float]:
    """RMR, SRMR (Bentler) and CRMR of a categorical fit (``lav_residuals_summary``): residual
    correlations (off-diagonal) and thresholds; ``srmr`` is Bentler's without means. SRMR (Mplus) is
    not defined for categorical data (NaN, as lavaan)."""
    n = objective.ntotal
    sums = {k: 0.0 for k in ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean", "crmr", "crmr_nomean")}
    for g, st in enumerate(objective.groups):
        imp = objective.implied(theta, g)
        p = len(st.cor)
        rows, cols = vech_offdiag(p)
        sd_obs = np.sqrt(np.diag(st.cov))
        sd_est = np.sqrt(np.diag(imp.sigma))
        th = (st.wls_obs[:st.nth] - imp.th)[st.ordinal[st.th_var]]  # thresholds only (not the means)
        for kind in ("rmr", "srmr_bentler", "crmr"):
            if kind == "rmr":
                res = (st.cov - imp.sigma)[rows, cols]
            elif kind == "srmr_bentler":
                res = ((st.cov - imp.sigma) / np.outer(sd_obs, sd_obs))[rows, cols]
            else:
                res = (st.cov / np.outer(sd_obs, sd_obs) - imp.sigma / np.outer(sd_est, sd_est))[rows, cols]
            extra = 0 if kind == "crmr" else p
            nomean = float(np.sqrt(np.sum(res ** 2) / (len(res) + extra)))
            total = float(np.sqrt((np.sum(res ** 2) + np.sum(th ** 2)) / (len(res) + len(th) + extra)))
            sums[f"{kind}_nomean"] += st.n / n * nomean
            sums[kind] += st.n / n * total
    return {"rmr": sums["rmr"], "rmr_nomean": sums["rmr_nomean"], "srmr": sums["srmr_bentler_nomean"],
            "srmr_bentler": sums["srmr_bentler"], "srmr_bentler_nomean": sums["srmr_bentler_nomean"],
            "crmr": sums["crmr"], "crmr_nomean": sums["crmr_nomean"], "srmr_mplus": float("nan"),
            "srmr_mplus_nomean": float("nan")}


def _gfi(objective: DWLSObjective, theta: np.ndarray) -> float:
    """lavaan's ``lav_fit_gfi`` with the DWLS weights: ``1 - r'Wr / s'Ws`` per group, weighted by size."""
    vals, ns = [], []
    for g, st in enumerate(objective.groups):
        r = objective.residuals(theta, g)
        w = objective.wls_v[g]
        vals.append(1.0 - float(np.sum(w * r * r)) / float(np.sum(w * st.wls_obs ** 2)))
        ns.append(st.n)
    return float(np.dot(ns, vals) / np.sum(ns))


# -- step 10 --------------------------------------------------------------------------------
def step10_table(est: OrdinalEstimation, vcov: np.ndarray) -> pd.DataFrame:
    """lavaan's ``parameterEstimates(standardized=TRUE, ci=TRUE)`` of an ordinal fit. Standardized
    values use the implied variances of the latent responses (``std.all`` of a threshold is
    ``tau / sd(y*)``, of a scale factor 1, as ``lav_standardize_all``)."""
    values = est.model.row_values(est.theta)
    std_lv, std_all = standardized_values(est, values)
    return estimates_table(est.partable, est.theta, vcov, values, std_lv, std_all)


def standardized_values(est: OrdinalEstimation, values: np.ndarray, theta: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``std.lv`` and ``std.all`` of every row (thresholds and scale factors included)."""
    theta = est.theta if theta is None else theta
    pt = est.partable
    t = pt.table
    model = est.model
    names = model.ram.groups[0].names
    latent = set(pt.variables.lv)
    sig = [model.sigma_all(theta, g) for g in range(pt.ngroups)]
    std_lv = standardize(t, values, names, latent, sig, observed_too=False)
    std_all = standardize(t, values, names, latent, sig, observed_too=True)
    op, lhs, grp = (t[c].to_numpy() for c in ("op", "lhs", "group"))
    index = {x: i for i, x in enumerate(names)}
    for i in np.flatnonzero(op == "|"):
        sd = np.sqrt(sig[grp[i] - 1][index[lhs[i]], index[lhs[i]]])
        std_lv[i] = values[i]
        std_all[i] = values[i] / sd
    sc = op == "~*~"
    std_lv[sc] = values[sc]
    std_all[sc] = 1.0
    return std_lv, std_all


# -- the pipeline ---------------------------------------------------------------------------------
def wls_weights(stats: Sequence[OrdinalGroupStats], estimator: str) -> list[np.ndarray]:
    """lavaan's ``WLS.VD``: ``1 / diag(NACOV)`` (DWLS family) or ones (ULS family)."""
    if get_estimator(estimator).wls_weights == "identity":
        return [np.ones(st.nstat) for st in stats]
    out = []
    for st in stats:
        d = st.nacov_diag
        if np.any(d <= 0) or not np.all(np.isfinite(d)):
            raise DataError("the asymptotic variance of a sample threshold or correlation is zero or not finite "
                            "(a category or pair without information); collapse sparse categories")
        out.append(1.0 / d)
    return out


def fit_ordinal(parsed: ParsedModel, syntax: str, data: pd.DataFrame, *, estimator: str, ordered,
                parameterization: str, missing: str, group: str | None, group_equal: Sequence[str],
                group_partial: Sequence[str], std_lv: bool, on_heywood: str, max_iter: int, source: str,
                cluster, auxiliary, model_type: str, missing_codes: Sequence[float]):
    """Fit a model with ordinal indicators (see the module docstring); returns a ``FitResult``."""
    from analysis.sem.fit import (  # the ML pipeline imports this module
        FitOptions,
        FitResult,
        heywood_problems,
        negative_variances,
    )

    roles = parsed_roles(parsed)
    ordinal = resolve_ordered(ordered, roles)
    check_options(estimator, missing, parameterization, roles, ordinal, cluster, auxiliary, model_type, parsed)
    est_def = get_estimator(estimator)
    # step 2: data
    prepared = prepare_data(data, roles.ov, group=group, missing=missing, source=source,
                            missing_codes=missing_codes, ordinal=ordinal)
    codes, levels = code_categories(prepared, ordinal, source)
    # step 3: sample statistics
    stats, problems = step03_samplestats(prepared, codes, ordinal, levels, source)
    if prepared.notice:
        warnings.warn(prepared.notice, SmeSurveyWarning, stacklevel=3)
        problems.insert(0, prepared.notice)
    ngroups = len(stats)
    # step 4: parameter table
    nth = {v: len(levels[v]) - 1 for v in ordinal}
    pt = build_partable(parsed, ngroups, meanstructure=True, std_lv=std_lv, group_equal=group_equal,
                        group_partial=group_partial, ordered=nth, parameterization=parameterization)
    df = _ndat(stats) - pt.npar
    if df < 0:
        raise IdentificationError(
            f"the model has more free parameters ({pt.npar}) than sample statistics ({_ndat(stats)}), so df = "
            f"{df} < 0 and it is not identified; fix or constrain parameters, or add indicators")
    options = FitOptions(estimator=estimator, missing=missing, group=group, group_equal=tuple(group_equal),
                         group_partial=tuple(group_partial), std_lv=std_lv, meanstructure=True,
                         information="expected", se=est_def.se(None), test=est_def.test, on_heywood=on_heywood,
                         model_type=model_type, ordered=ordinal, parameterization=parameterization)
    # step 5: estimate
    model = OrdinalModel(pt, stats, parameterization, ordinal)
    weights = wls_weights(stats, estimator)
    objective = DWLSObjective(model, stats, weights)
    theta, optim = step05_estimate(pt, model, objective, stats, max_iter)
    est = OrdinalEstimation(pt, model, tuple(stats), objective, theta, optim, levels, tuple(codes))
    values = model.row_values(theta)
    problems += heywood_problems(pt.table, values, on_heywood, model.ordinal_residual_rows)
    improper = [f"negative variance {r}" for r in negative_variances(pt.table, values, model.ordinal_residual_rows)]
    # steps 6-8: vcov, test, baseline
    vcov, e_inv = step06_vcov(objective, theta, options.se)
    uls = est_def.wls_weights == "identity"
    products = GammaProducts(stats, weights)
    test = step07_test(objective, theta, df, options.test, e_inv, uls, products)
    base_pt = independence_partable(pt.variables, ordinal, nth, ngroups)
    base_model = OrdinalModel(base_pt, stats, parameterization, ordinal)
    base_obj = DWLSObjective(base_model, stats, weights)
    base_theta, _ = step05_estimate(base_pt, base_model, base_obj, stats, max_iter)
    dfb = _ndat(stats) - base_pt.npar
    base_test = step07_test(base_obj, base_theta, dfb, options.test, None, uls, products, baseline=True)
    cat = None
    if test.adjusted is not None and all(st.ordinal.all() for st in stats):
        cat = _catml(objective, theta, pt, e_inv)
    measures = step09_measures(objective, theta, test, base_test, pt.npar, cat, estimator, ngroups)
    table = step10_table(est, vcov)
    return FitResult(syntax, options, table, measures, tuple(st.n for st in stats), prepared.group_labels,
                     prepared.excluded, vcov, tuple(problems), est, prepared.recoded, tuple(improper))


def parsed_roles(parsed: ParsedModel) -> VariableClasses:
    from analysis.sem.syntax import classify_variables

    return classify_variables(parsed.statements)


def _catml(objective: DWLSObjective, theta: np.ndarray, pt: ParTable, e_inv: np.ndarray) -> CorrectedStatistics | None:
    """Savalei's catML statistics, or ``None`` when a polychoric matrix is not positive definite
    (lavaan's ``cat.check.pd``: the robust indices are then NA)."""
    stats = objective.groups
    for st in stats:
        if np.linalg.eigvalsh(st.cor)[0] < np.sqrt(np.finfo(float).eps):
            return None
    t = pt.table
    # lavaan 0.6.14's catML model drops the threshold rows but keeps equality constraints that name them,
    # and fails (the robust indices are NA): with thresholds held equal across groups or labelled equal
    free = t["free"].to_numpy()
    th_free = free[(t["op"] == "|").to_numpy() & (free > 0)]
    if np.isin(th_free, free[(t["op"] != "|").to_numpy()]).any() or len(th_free) != len(np.unique(th_free)):
        return None
    keep = ~t["op"].isin(["|", "~1"]).to_numpy()
    free = t["free"].to_numpy()[keep]
    npar_cat = len(np.unique(free[free > 0]))
    df3 = sum(len(st.cor) * (len(st.cor) - 1) // 2 for st in stats) - npar_cat
    sigmas = [objective.implied(theta, g).sigma for g in range(len(stats))]
    deltas = [objective.jacobian(theta, g) for g in range(len(stats))]
    return catml(stats, sigmas, e_inv, deltas, objective.wls_v, objective.weights, df3)

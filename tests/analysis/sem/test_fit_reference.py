"""Every lavaan reference case (except WLSMV): estimates, SEs, standardized values and fit
measures within the tolerances the fitting-core issue sets, one test per quantity.

``tests/results/lavaan`` is the shared reference set; ``tests/results/lavaan_extra`` adds
cases for features our analyses use beyond it (covariates with fixed.x, MLR with
covariates, second-order factors, std.lv, multi-group MLR, strict invariance, observed
path models with defined effects, == constraints, FIML with covariates), produced by
``make_extra.R`` (and ``make_cluster.R``, ``make_fitmeasures.R``) in that folder with the same
lavaan 0.6.14; ``make_fitcore.R`` there adds partial invariance written with spaces, MLR with
equality constraints (scaling.factor.h0) and lavaan's ``growth()`` on its Demo.growth data.
Every measure of lavaan's full ``fitMeasures()`` output is compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem.fit import fit
from tests.analysis.conftest import (
    HS_MODEL,
    MEDIATION_MODEL,
    ORDINAL_MODEL,
    POLDEM_MODEL,
    REFERENCE,
    read_reference,
)
from tests.analysis.sem.reference_compare import (
    ReferenceSet,
    Tolerances,
    assert_column_close,
    cached_fits,
    fit_measure_tests,
    parameter_tests,
)

EXTRA = REFERENCE.parent / "lavaan_extra"
MIMIC = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ sex + ageyr\ntextual ~ ageyr"
SECOND_ORDER = HS_MODEL + "g =~ visual + textual + speed\n"
PATH = "y2 ~ a*y1\ny3 ~ b*y2 + c*y1\nind := a*b\ntot := c + a*b"
EQUALITY = "visual =~ x1 + v2*x2 + v3*x3\ntextual =~ x4 + x5 + x6\nv2 == v3"
MIMIC_MISSING = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ sex + ageyr"
FOURGROUP = "TK =~ tk_1 + tk_2 + tk_3 + tk_4\nIK =~ ik_1 + ik_2 + ik_3 + ik_4"
TWOLEVEL = "f1 =~ y1 + y2 + y3\nf2 =~ y4 + y5 + y6\nf2 ~ f1 + x1"
MIMIC_SEX = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ sex"
BFI_AC = "agree =~ A1 + A2 + A3 + A4 + A5\nconsc =~ C1 + C2 + C3 + C4 + C5"
GROWTH = "i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4\ns =~ 0*t1 + 1*t2 + 2*t3 + 3*t4"
GROWTH_COV = GROWTH + "\ni ~ x1 + x2\ns ~ x1 + x2"

CASES = {
    "hs1939_cfa_ML": (HS_MODEL, "HolzingerSwineford1939.csv", {}),
    "hs1939_cfa_MLR": (HS_MODEL, "HolzingerSwineford1939.csv", {"estimator": "MLR"}),
    "hs1939_cfa_ML_group_school_configural": (HS_MODEL, "HolzingerSwineford1939.csv", {"group": "school"}),
    "hs1939_cfa_ML_group_school_metric": (HS_MODEL, "HolzingerSwineford1939.csv",
                                          {"group": "school", "group_equal": ["loadings"]}),
    "hs1939_cfa_ML_group_school_scalar": (HS_MODEL, "HolzingerSwineford1939.csv",
                                          {"group": "school", "group_equal": ["loadings", "intercepts"]}),
    "hs1939missing_cfa_FIML": (HS_MODEL, "HolzingerSwineford1939_missing10.csv", {"missing": "fiml"}),
    "hs1939missing_cfa_FIML_MLR": (HS_MODEL, "HolzingerSwineford1939_missing10.csv",
                                   {"missing": "fiml", "estimator": "MLR"}),
    "poldem_sem_ML": (POLDEM_MODEL, "PoliticalDemocracy.csv", {}),
    "poldem_mediation_ML": (MEDIATION_MODEL, "PoliticalDemocracy.csv", {}),
    "ordinal_3f_cfa_MLR_as_continuous": (ORDINAL_MODEL, "ordinal_3f.csv", {"estimator": "MLR"}),
    # extra cases (tests/results/lavaan_extra)
    "hs_mimic_ML": (MIMIC, "HolzingerSwineford1939.csv", {}),
    "hs_mimic_MLR": (MIMIC, "HolzingerSwineford1939.csv", {"estimator": "MLR"}),
    "hs_secondorder_ML": (SECOND_ORDER, "HolzingerSwineford1939.csv", {}),
    "hs_stdlv_ML": (HS_MODEL, "HolzingerSwineford1939.csv", {"std_lv": True}),
    "hs_group_MLR": (HS_MODEL, "HolzingerSwineford1939.csv", {"group": "school", "estimator": "MLR"}),
    "hs_group_strict_ML": (HS_MODEL, "HolzingerSwineford1939.csv",
                           {"group": "school", "group_equal": ["loadings", "intercepts", "residuals"]}),
    "poldem_path_ML": (PATH, "PoliticalDemocracy.csv", {}),
    "poldem_path_MLR": (PATH, "PoliticalDemocracy.csv", {"estimator": "MLR"}),
    "hs_equality_ML": (EQUALITY, "HolzingerSwineford1939.csv", {}),
    "hsmissing_mimic_FIML": (MIMIC_MISSING, "HolzingerSwineford1939_missing10.csv", {"missing": "fiml"}),
    "hs_complete_FIML_MLR": (HS_MODEL, "HolzingerSwineford1939.csv", {"missing": "fiml", "estimator": "MLR"}),
    "fourgroup_scalar_ML": (FOURGROUP, "fourgroup_tk_ik.csv", {"group": "firm_country",
                                                               "group_equal": ["loadings", "intercepts"]}),
    # cluster-robust statistics (lavaan cluster=), make_cluster.R
    "twolevel_cluster_MLR": (TWOLEVEL, "demo_twolevel.csv", {"estimator": "MLR", "cluster": "cluster"}),
    "twolevel_cluster_FIML_MLR": (TWOLEVEL, "demo_twolevel_missing.csv",
                                  {"estimator": "MLR", "cluster": "cluster", "missing": "fiml"}),
    # the full fitMeasures() set in multi-group FIML and MLR on raw-scale data, make_fitmeasures.R
    "hsmissing_group_FIML_MLR": (HS_MODEL, "HolzingerSwineford1939_missing10.csv",
                                 {"group": "school", "missing": "fiml", "estimator": "MLR"}),
    "hsmissing_mimic_group_FIML": (MIMIC_MISSING, "HolzingerSwineford1939_missing10.csv",
                                   {"group": "school", "missing": "fiml"}),
    "poldem_sem_MLR": (POLDEM_MODEL, "PoliticalDemocracy.csv", {"estimator": "MLR"}),
    # auxiliary variables of FIML (semTools 0.5-6 auxiliary(), saturated correlates), make_auxiliary.R
    "hsmar_aux_ML": (HS_MODEL, "HolzingerSwineford1939_mar_age.csv", {"missing": "fiml", "auxiliary": ["ageyr"]}),
    "hsmar_aux_MLR": (HS_MODEL, "HolzingerSwineford1939_mar_age.csv",
                      {"missing": "fiml", "estimator": "MLR", "auxiliary": ["ageyr"]}),
    "hsmar_mimic_aux2_MLR": (MIMIC_SEX, "HolzingerSwineford1939_mar_age.csv",
                             {"missing": "fiml", "estimator": "MLR", "auxiliary": ["ageyr", "grade"]}),
    "hsmar_group_aux_ML": (HS_MODEL, "HolzingerSwineford1939_mar_age.csv",
                           {"missing": "fiml", "auxiliary": ["ageyr"], "group": "school",
                            "group_equal": ["loadings"]}),
    "bfi_aux_MLR": (BFI_AC, "bfi_ac.csv", {"missing": "fiml", "estimator": "MLR", "auxiliary": ["age", "education"]}),
    # make_fitcore.R: partial invariance as people type it (spaces), lavaan group.partial
    "hs_partial_ML": (HS_MODEL, "HolzingerSwineford1939.csv",
                      {"group": "school", "group_equal": ["loadings", "intercepts"],
                       "group_partial": ["x3 ~ 1", "x7 ~ 1"]}),
    "hs_partial_MLR": (HS_MODEL, "HolzingerSwineford1939.csv",
                       {"group": "school", "group_equal": ["loadings", "intercepts"],
                        "group_partial": ["x3 ~ 1", "x7 ~ 1", "visual =~ x2"], "estimator": "MLR"}),
    # MLR with equality constraints: labels shared by loadings, and an explicit ==
    "poldem_labels_MLR": (POLDEM_MODEL, "PoliticalDemocracy.csv", {"estimator": "MLR"}),
    "hs_equality_MLR": (EQUALITY, "HolzingerSwineford1939.csv", {"estimator": "MLR"}),
    # lavaan growth() on Demo.growth, without and with time-invariant covariates
    "growth_linear_ML": (GROWTH, "demo_growth.csv", {"model_type": "growth"}),
    "growth_linear_MLR": (GROWTH, "demo_growth.csv", {"model_type": "growth", "estimator": "MLR"}),
    "growth_cov_ML": (GROWTH_COV, "demo_growth.csv", {"model_type": "growth"}),
    "growth_cov_MLR": (GROWTH_COV, "demo_growth.csv", {"model_type": "growth", "estimator": "MLR"}),
}


SOURCES = ReferenceSet((REFERENCE, EXTRA))
read_case = SOURCES.read  # a reference table of a case, from the shared set or the extra set
merged = SOURCES.merged  # our parameter table beside lavaan's (columns *_ref)

# tolerances from the issue: absolute unless marked relative
RELATIVE = {"chisq": 1e-3, "chisq.scaled": 1e-3, "baseline.chisq": 1e-3,
            # chi-square-like: the scaled baseline statistic, fmin (= chisq / 2N), Hoelter's N
            "baseline.chisq.scaled": 1e-3, "fmin": 1e-3, "cn_05": 1e-3, "cn_01": 1e-3}
ABSOLUTE = {m: 1e-3 for m in (
    "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "srmr",
    "cfi.robust", "tli.robust", "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust",
    "cfi.scaled", "tli.scaled", "chisq.scaling.factor", "pvalue", "pvalue.scaled")}
OTHER_ABSOLUTE = 1e-3  # every other index lavaan's fitMeasures() gives (gfi, rmr, nnfi.scaled, ...)
EXACT = ("npar", "df", "ntotal", "baseline.df", "df.scaled", "baseline.df.scaled", "rmsea.ci.level",
         "rmsea.close.h0", "rmsea.notclose.h0")
LIKELIHOOD = ("logl", "unrestricted.logl", "aic", "bic", "bic2")  # relative 1e-6
TOLERANCES = Tolerances(relative={**RELATIVE, **dict.fromkeys(LIKELIHOOD, 1e-6)}, exact=EXACT,
                        other_absolute=OTHER_ABSOLUTE, absolute=ABSOLUTE)


def fit_case(case: str):
    """Our fit of a reference case (its model, data file and options from CASES)."""
    model, data_file, kw = CASES[case]
    data = pd.read_csv(EXTRA / data_file) if (EXTRA / data_file).exists() else read_reference(data_file)
    return fit(model, data, **kw)


@pytest.fixture(scope="module")
def fitted():
    return cached_fits(fit_case)


# est, std.all, std.lv within 1e-3 absolute, SEs within 1% (every case has free parameters), and
# every fitMeasures() measure within TOLERANCES: one test per quantity and case
test_estimates, test_standard_errors, test_std_all, test_std_lv = parameter_tests(SOURCES, CASES, some_free=True)
test_fit_measure, test_fit_measure_names = fit_measure_tests(SOURCES, CASES, TOLERANCES)


@pytest.mark.parametrize("case", list(CASES))
def test_confidence_intervals(fitted, case):
    m = merged(fitted(case), case)
    assert_column_close(m, "ci.lower", atol=2e-3)
    assert_column_close(m, "ci.upper", atol=2e-3)


def test_scaling_factor_h0_counts_parameters_before_equalities(fitted):
    """lavaan divides the h0 trace by the free parameters before equality constraints (nx.free):
    with the labelled PoliticalDemocracy model that is 31, not the 28 left after a, b, c."""
    ref = SOURCES.fit_measures("poldem_labels_MLR")
    fm = fitted("poldem_labels_MLR").fit_measures
    assert fm["npar"] == ref["npar"] == 28
    assert fm["scaling.factor.h0"] == pytest.approx(ref["scaling.factor.h0"], abs=1e-5)
    assert fm["scaling.factor.h1"] == pytest.approx(ref["scaling.factor.h1"], abs=1e-5)


def test_every_reported_robust_measure_is_checked(fitted):
    """The MLR cases report the robust measures the issue names, and they are compared above."""
    fm = fitted("hs1939_cfa_MLR").fit_measures
    for name in ("chisq.scaled", "chisq.scaling.factor", "pvalue.scaled", "cfi.robust", "tli.robust",
                 "rmsea.robust"):
        assert name in fm and np.isfinite(fm[name])


@pytest.mark.parametrize("case", ["hs1939_cfa_MLR", "hs1939missing_cfa_FIML"])
def test_summary_lists_further_measures(fitted, case):
    """summary() shows lavaan's further measures with lavaan's values (3 decimals), scaled and robust beside."""
    ref = SOURCES.fit_measures(case)
    lines = fitted(case).summary().splitlines()

    def row(label: str) -> list[str]:
        found = [ln for ln in lines if ln.strip().startswith(label)]
        assert found, label
        return found[-1][len("  ") + 44:].split()

    assert row("Goodness of Fit Index (GFI)") == [f"{ref['gfi']:.3f}"]
    assert row("SRMR (Mplus)") == [f"{ref['srmr_mplus']:.3f}"]
    assert row("Hoelter Critical N (CN) alpha = 0.05") == [f"{ref['cn_05']:.3f}"]
    variants = [v for v in ("scaled", "robust") if f"rni.{v}" in ref.index]
    assert row("Relative Noncentrality Index (RNI)") == [f"{ref[k]:.3f}" for k in ("rni", *(f"rni.{v}" for v in variants))]

"""Every lavaan reference case (except WLSMV): estimates, SEs, standardized values and fit
measures within the tolerances the fitting-core issue sets, one test per quantity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.fit import fit
from tests.analysis.conftest import (
    HS_MODEL,
    MEDIATION_MODEL,
    ORDINAL_MODEL,
    POLDEM_MODEL,
    read_reference,
)

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
}

# tolerances from the issue: absolute unless marked relative
RELATIVE = {"chisq": 1e-3, "chisq.scaled": 1e-3, "baseline.chisq": 1e-3}
ABSOLUTE = {m: 1e-3 for m in (
    "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "srmr",
    "cfi.robust", "tli.robust", "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust",
    "cfi.scaled", "tli.scaled", "chisq.scaling.factor", "pvalue", "pvalue.scaled")}
EXACT = ("npar", "df", "ntotal", "baseline.df")
LIKELIHOOD = ("logl", "unrestricted.logl", "aic", "bic")  # relative 1e-6


@pytest.fixture(scope="module")
def fitted() -> dict:
    cache: dict = {}

    def get(case: str):
        if case not in cache:
            model, data_file, kw = CASES[case]
            cache[case] = fit(model, read_reference(data_file), **kw)
        return cache[case]

    return get


def merged(result, case: str) -> pd.DataFrame:
    ref = read_reference(f"{case}_parameters.csv")
    if "group" not in ref:
        ref["group"] = 1
    ref.loc[ref["op"] == ":=", "group"] = 0
    ref["rhs"] = ref["rhs"].fillna("")
    m = result.parameters.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_ref"),
                                how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", ["lhs", "op", "rhs", "group"]]
    return m


@pytest.mark.parametrize("case", list(CASES))
def test_estimates(fitted, case):
    m = merged(fitted(case), case)
    np.testing.assert_allclose(m["est"], m["est_ref"], atol=1e-3, rtol=0)


@pytest.mark.parametrize("case", list(CASES))
def test_standard_errors(fitted, case):
    m = merged(fitted(case), case)
    free = m["se_ref"] > 0
    assert free.sum() > 0
    np.testing.assert_allclose(m.loc[free, "se"], m.loc[free, "se_ref"], rtol=0.01)
    assert (m.loc[~free, "se"] == 0).all()


@pytest.mark.parametrize("case", list(CASES))
def test_std_all(fitted, case):
    m = merged(fitted(case), case)
    np.testing.assert_allclose(m["std.all"], m["std.all_ref"], atol=1e-3, rtol=0)


@pytest.mark.parametrize("case", list(CASES))
def test_std_lv(fitted, case):
    m = merged(fitted(case), case)
    np.testing.assert_allclose(m["std.lv"], m["std.lv_ref"], atol=1e-3, rtol=0)


@pytest.mark.parametrize("case", list(CASES))
def test_confidence_intervals(fitted, case):
    m = merged(fitted(case), case)
    np.testing.assert_allclose(m["ci.lower"], m["ci.lower_ref"], atol=2e-3, rtol=0)
    np.testing.assert_allclose(m["ci.upper"], m["ci.upper_ref"], atol=2e-3, rtol=0)


def _fit_cases():
    for case in CASES:
        ref = read_reference(f"{case}_fit.csv").set_index("measure")["value"]
        for measure in (*RELATIVE, *ABSOLUTE, *EXACT, *LIKELIHOOD):
            if measure in ref.index:
                yield case, measure


@pytest.mark.parametrize(("case", "measure"), list(_fit_cases()))
def test_fit_measure(fitted, case, measure):
    ref = read_reference(f"{case}_fit.csv").set_index("measure")["value"][measure]
    ours = fitted(case).fit_measures[measure]
    if measure in RELATIVE:
        assert ours == pytest.approx(ref, rel=RELATIVE[measure])
    elif measure in EXACT:
        assert ours == ref
    elif measure in LIKELIHOOD:
        assert ours == pytest.approx(ref, rel=1e-6)
    else:
        assert ours == pytest.approx(ref, abs=ABSOLUTE[measure])


def test_every_reported_robust_measure_is_checked(fitted):
    """The MLR cases report the robust measures the issue names, and they are compared above."""
    fm = fitted("hs1939_cfa_MLR").fit_measures
    for name in ("chisq.scaled", "chisq.scaling.factor", "pvalue.scaled", "cfi.robust", "tli.robust",
                 "rmsea.robust"):
        assert name in fm and np.isfinite(fm[name])

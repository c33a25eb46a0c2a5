"""Reliability against semTools / psych (1e-3) and closed forms."""

import numpy as np
import pandas as pd
import pytest

from analysis.psychometrics.reliability import (
    cronbach_alpha,
    item_total,
    reliability,
    scale_alphas,
    second_order_reliability,
)
from analysis.sem.fit import fit
from smecore.errors import DataError, OptionError
from tests.analysis.conftest import HS_MODEL, POLDEM_MODEL, REFERENCE, read_reference

EXTRA = REFERENCE.parent / "lavaan_extra"

HS_SECOND_ORDER = HS_MODEL + "g =~ visual + textual + speed\n"
HS24_SECOND_ORDER = """
spatial =~ t01 + t02 + t03 + t04
verbal  =~ t05 + t06 + t07 + t08 + t09
speed   =~ t10 + t11 + t12 + t13
memory  =~ t14 + t15 + t16 + t17 + t18 + t19
g       =~ spatial + verbal + speed + memory
"""
COEFS = ("alpha", "omega", "omega2", "omega3", "avevar")


def _semtools(name: str) -> pd.DataFrame:
    """A ``semTools::reliability()`` table from make_psychometrics.R: coefficients x factors."""
    return pd.read_csv(EXTRA / name, index_col=0)


@pytest.fixture(scope="module")
def hs24_data():
    return pd.read_csv(EXTRA / "hs24.csv")


@pytest.fixture(scope="module")
def hs_second_fit(hs_data):
    return fit(HS_SECOND_ORDER, hs_data)


@pytest.fixture(scope="module")
def hs24_second_fit(hs24_data):
    return fit(HS24_SECOND_ORDER, hs24_data)


@pytest.fixture(scope="module")
def hs_fit(hs_data):
    return fit(HS_MODEL, hs_data)


@pytest.mark.parametrize("coef", ["alpha", "omega", "omega2", "omega3", "avevar"])
def test_matches_semtools_reliability(hs_fit, hs_data, coef):
    ours = reliability(hs_fit.parameters, hs_data).set_index("factor")
    ref = read_reference("hs1939_reliability_semTools.csv").set_index("Unnamed: 0")
    for factor in ("visual", "textual", "speed"):
        assert ours.loc[factor, coef] == pytest.approx(ref.loc[coef, factor], abs=1e-3)


def test_reliability_from_lavaans_own_table(hs_data):
    """Fed lavaan's parameterEstimates, the numbers are semTools' to 1e-6 (no fitting involved)."""
    params = read_reference("hs1939_cfa_ML_parameters.csv")
    ours = reliability(params, hs_data).set_index("factor")
    ref = read_reference("hs1939_reliability_semTools.csv").set_index("Unnamed: 0")
    assert ours.loc["textual", "omega"] == pytest.approx(ref.loc["omega", "textual"], abs=1e-6)


def test_alpha_matches_psych(hs_data):
    a = cronbach_alpha(hs_data, ["x1", "x2", "x3"]).iloc[0]
    ref = read_reference("hs1939_visual_alpha_psych.csv").iloc[0]
    assert a["alpha"] == pytest.approx(ref["raw_alpha"], abs=1e-6)
    assert a["std.alpha"] == pytest.approx(ref["std_alpha"], abs=1e-6)
    assert a["ci.lower"] < a["alpha"] < a["ci.upper"] and a["n"] == 301


def test_alpha_of_parallel_items_closed_form():
    """k parallel items with correlation r: standardized alpha = k r / (1 + (k - 1) r)."""
    rng = np.random.default_rng(0)
    f = rng.normal(size=100_000)
    x = pd.DataFrame({f"i{j}": 0.6 * f + 0.8 * rng.normal(size=len(f)) for j in range(5)})
    r = 0.36
    assert cronbach_alpha(x, list(x.columns))["std.alpha"].iloc[0] == pytest.approx(5 * r / (1 + 4 * r), abs=0.005)


def test_item_total_matches_psych(hs_data):
    ours = item_total(hs_data, ["x4", "x5", "x6"]).set_index("item")
    ref = pd.read_csv(EXTRA / "hs_textual_itemstats_psych.csv").set_index("item")
    np.testing.assert_allclose(ours["r.drop"], ref["r.drop"], atol=1e-6)
    np.testing.assert_allclose(ours["alpha.if.deleted"], ref["alpha.if.deleted"], atol=1e-6)


@pytest.mark.parametrize("coef", COEFS)
def test_second_order_first_order_factors_match_semtools(hs_second_fit, hs_data, coef):
    """First-order factors of a second-order model: their variance is the model-implied one (cov.lv),
    not the disturbance variance. HS39 with g over 3 factors (just identified, so the same numbers as
    the first-order model)."""
    ours = reliability(hs_second_fit.parameters, hs_data).set_index("factor")
    ref = _semtools("hs_secondorder_reliability_semTools.csv")
    assert list(ours.index) == list(ref.columns)
    np.testing.assert_allclose(ours.loc[list(ref.columns), coef], ref.loc[coef], atol=1e-4)


@pytest.mark.parametrize("coef", COEFS)
def test_second_order_24_tests_match_semtools(hs24_second_fit, hs24_data, coef):
    """Holzinger & Swineford's 24 tests (psychTools), 4 first-order factors under g (over-identified)."""
    ours = reliability(hs24_second_fit.parameters, hs24_data).set_index("factor")
    ref = _semtools("hs24_secondorder_reliability_semTools.csv")
    np.testing.assert_allclose(ours.loc[list(ref.columns), coef], ref.loc[coef], atol=1e-4)


@pytest.mark.parametrize("table, data, ref", [
    ("hs_secondorder_ML_parameters.csv", "hs", "hs_secondorder_reliability_semTools.csv"),
    ("hs24_secondorder_ML_parameters.csv", "hs24", "hs24_secondorder_reliability_semTools.csv"),
])
def test_second_order_from_lavaans_own_table(hs_data, hs24_data, table, data, ref):
    """Fed lavaan's parameterEstimates of the second-order models, semTools' numbers to 1e-6."""
    ours = reliability(pd.read_csv(EXTRA / table), {"hs": hs_data, "hs24": hs24_data}[data]).set_index("factor")
    r = _semtools(ref)
    np.testing.assert_allclose(ours.loc[list(r.columns), list(COEFS)].T, r.loc[list(COEFS)], atol=1e-6)


@pytest.mark.parametrize("coef", COEFS)
def test_structural_model_with_residual_covariances_matches_semtools(poldem_data, coef):
    """Factors regressed on other factors (dem60, dem65) and residual covariances within a factor."""
    ours = reliability(fit(POLDEM_MODEL, poldem_data).parameters, poldem_data).set_index("factor")
    ref = _semtools("poldem_sem_reliability_semTools.csv")
    np.testing.assert_allclose(ours.loc[list(ref.columns), coef], ref.loc[coef], atol=1e-4)


@pytest.mark.parametrize("fixture, ref", [("hs_second_fit", "hs_secondorder_reliabilityL2_semTools.csv"),
                                          ("hs24_second_fit", "hs24_secondorder_reliabilityL2_semTools.csv")])
def test_second_order_factor_matches_semtools_reliabilityL2(request, fixture, ref):
    ours = second_order_reliability(request.getfixturevalue(fixture).parameters, "g").iloc[0]
    r = pd.read_csv(EXTRA / ref).set_index("measure")["value"]
    for measure in ("omegaL1", "omegaL2", "partialOmegaL1"):
        assert ours[measure] == pytest.approx(r[measure], abs=1e-4), measure


def test_second_order_reliability_needs_a_second_order_factor(hs_second_fit):
    with pytest.raises(OptionError, match="first-order factors only"):
        second_order_reliability(hs_second_fit.parameters, "visual")


@pytest.mark.parametrize("fixture, ref", [("hs_fit", "hs_cr_ave_lavaan.csv"),
                                          ("hs24_second_fit", "hs24_secondorder_cr_ave_lavaan.csv")])
def test_composite_reliability_and_ave_match_lavaans_standardized_solution(request, fixture, ref):
    """CR and AVE computed in R from lavaan's standardizedSolution() (make_psychometrics.R)."""
    rel = reliability(request.getfixturevalue(fixture).parameters).set_index("factor")
    r = pd.read_csv(EXTRA / ref).set_index("factor")
    np.testing.assert_allclose(rel.loc[r.index, "cr"], r["cr"], atol=1e-4)
    np.testing.assert_allclose(rel.loc[r.index, "ave"], r["ave"], atol=1e-4)
    assert rel[["alpha", "omega3"]].isna().all().all()  # no data given


def test_input_errors(hs_data):
    with pytest.raises(DataError, match=r"\['x99'\]"):
        cronbach_alpha(hs_data, ["x1", "x99"])
    with pytest.raises(DataError, match="at least 2 items"):
        cronbach_alpha(hs_data, ["x1"])
    with pytest.raises(DataError, match="constant"):
        cronbach_alpha(hs_data.assign(x2=1.0), ["x1", "x2"])
    assert list(scale_alphas(hs_data, {"v": ["x1", "x2", "x3"]})["construct"]) == ["v"]


BFI_MODEL = """
agree =~ A1 + A2 + A3 + A4 + A5
consc =~ C1 + C2 + C3 + C4 + C5
extra =~ E1 + E2 + E3 + E4 + E5
neuro =~ N1 + N2 + N3 + N4 + N5
open  =~ O1 + O2 + O3 + O4 + O5
"""


@pytest.fixture(scope="module")
def bfi_fiml_fit():
    return fit(BFI_MODEL, pd.read_csv(EXTRA / "bfi.csv"), estimator="MLR", missing="fiml")


@pytest.mark.parametrize("coef", COEFS)
def test_fiml_fit_matches_semtools_through_the_h1_covariance(bfi_fiml_fit, coef):
    """semTools reads alpha and omega3 from lavInspect(fit, "sampstat"): with FIML the EM covariance of
    all 2,800 rows of psych::bfi, not the 2,436 complete ones (make_reliability_fiml.R)."""
    ref = _semtools("bfi_fiml_reliability_semTools.csv")
    ours = reliability(bfi_fiml_fit.parameters, sample_cov=bfi_fiml_fit.sample_moments()[0]).set_index("factor")
    for factor in ref.columns:
        assert ours.loc[factor, coef] == pytest.approx(ref.loc[coef, factor], abs=1e-4), factor


def test_listwise_alpha_differs_from_the_fiml_one(bfi_fiml_fit):
    """The listwise-complete alpha (the ``data=`` route) is a different number on incomplete data."""
    ref = _semtools("bfi_fiml_reliability_semTools.csv")
    listwise = reliability(bfi_fiml_fit.parameters, pd.read_csv(EXTRA / "bfi.csv")).set_index("factor")
    assert max(abs(listwise.loc[f, "alpha"] - ref.loc["alpha", f]) for f in ref.columns) > 1e-3


def test_sample_moments_are_the_em_estimates_on_incomplete_data(bfi_fiml_fit):
    data = pd.read_csv(EXTRA / "bfi.csv")
    cov, mean = bfi_fiml_fit.sample_moments()
    assert list(cov.index) == list(bfi_fiml_fit.partable.variables.ov)
    # EM means differ from the available-case means, but only slightly
    avail = data[cov.index].mean()
    assert 0 < (mean - avail).abs().max() < 0.05

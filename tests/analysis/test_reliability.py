"""Reliability against semTools / psych (1e-3) and closed forms."""

import numpy as np
import pandas as pd
import pytest

from analysis.fit import fit
from analysis.reliability import cronbach_alpha, item_total, reliability, scale_alphas
from smesurvey.errors import DataError
from tests.analysis.conftest import HS_MODEL, REFERENCE, read_reference

EXTRA = REFERENCE.parent / "lavaan_extra"


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


def test_composite_reliability_and_ave_from_standardized_loadings(hs_fit):
    rel = reliability(hs_fit.parameters).set_index("factor")
    s = hs_fit.parameters.query("op == '=~' and lhs == 'speed'")["std.all"].to_numpy()
    assert rel.loc["speed", "cr"] == pytest.approx(s.sum() ** 2 / (s.sum() ** 2 + (1 - s ** 2).sum()))
    assert rel.loc["speed", "ave"] == pytest.approx(np.mean(s ** 2))
    assert np.isnan(rel.loc["speed", "alpha"])  # no data given


def test_input_errors(hs_data):
    with pytest.raises(DataError, match=r"\['x99'\]"):
        cronbach_alpha(hs_data, ["x1", "x99"])
    with pytest.raises(DataError, match="at least 2 items"):
        cronbach_alpha(hs_data, ["x1"])
    with pytest.raises(DataError, match="constant"):
        cronbach_alpha(hs_data.assign(x2=1.0), ["x1", "x2"])
    assert list(scale_alphas(hs_data, {"v": ["x1", "x2", "x3"]})["construct"]) == ["v"]

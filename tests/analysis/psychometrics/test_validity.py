from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.psychometrics.validity import fornell_larcker, htmt, htmt_matrix
from analysis.sem.fit import fit
from smecore.errors import DataError
from tests.analysis.conftest import HS_MODEL, POLDEM_MODEL, REFERENCE, read_reference

HS = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}


def test_htmt_matches_semtools(hs_data):
    ours = htmt_matrix(htmt(hs_data, HS))
    ref = read_reference("hs1939_htmt_semTools.csv").set_index("Unnamed: 0")
    np.testing.assert_allclose(ours.loc[list(HS), list(HS)], ref.loc[list(HS), list(HS)], atol=1e-6)


def test_htmt_closed_form():
    """Two 2-item constructs, all within-construct r = .64, between r = .32: HTMT = .32/.64 = .5."""
    r = np.array([[1, .64, .32, .32], [.64, 1, .32, .32], [.32, .32, 1, .64], [.32, .32, .64, 1]])
    x = np.random.default_rng(1).multivariate_normal(np.zeros(4), r, size=200_000)
    data = pd.DataFrame(x, columns=["a1", "a2", "b1", "b2"])
    for geometric in (True, False):
        out = htmt(data, {"A": ["a1", "a2"], "B": ["b1", "b2"]}, geometric=geometric).iloc[0]
        assert out["htmt"] == pytest.approx(0.5, abs=0.01)
        assert not out["above.85"]


EXTRA = Path(__file__).resolve().parents[2] / "results" / "lavaan_extra"
SECOND_ORDER = HS_MODEL + "g =~ visual + textual + speed\n"


def _cor_lv(name: str) -> pd.DataFrame:
    return pd.read_csv(EXTRA / name, index_col=0)


def test_fornell_larcker(hs_data):
    res = fit(HS_MODEL, hs_data)
    t = fornell_larcker(res)
    assert t.loc["visual", "textual"] == pytest.approx(0.4585, abs=1e-3)
    assert t["pass"].all()


@pytest.mark.parametrize(("model", "csv", "data"), [
    (SECOND_ORDER, "hs_secondorder_cor_lv.csv", "HolzingerSwineford1939.csv"),
    (POLDEM_MODEL, "poldem_sem_cor_lv.csv", "PoliticalDemocracy.csv"),
])
def test_fornell_larcker_correlations_are_model_implied(model, csv, data):
    """Defect: factors under a second-order factor (or regressed on each other) have no
    free ~~ row, so their correlation was missing and counted as a pass."""
    res = fit(model, read_reference(data))
    t = fornell_larcker(res)
    ref = _cor_lv(csv)
    first = [f for f in ref.index if f != "g"]
    assert list(t.index) == first  # only factors measured by items
    np.testing.assert_allclose(t.loc[first, first].where(~np.eye(len(first), dtype=bool)).fillna(0),
                               ref.loc[first, first].where(~np.eye(len(first), dtype=bool)).fillna(0), atol=1e-4)
    off = ref.loc[first, first].abs().where(~np.eye(len(first), dtype=bool))
    np.testing.assert_allclose(t["max.correlation"], off.max(axis=1), atol=1e-4)
    assert t["max.correlation"].notna().all()
    expected = [bool(t.loc[f, f] > off.loc[f].max()) for f in first]
    assert t["pass"].tolist() == expected
    if csv.startswith("poldem"):
        assert not t.loc["dem60", "pass"]  # r(dem60, dem65) = .97: a fail the old table called a pass


def test_fornell_larcker_is_na_without_a_correlation(hs_data):
    res = fit("visual =~ x1 + x2 + x3", hs_data)
    t = fornell_larcker(res)
    assert np.isnan(t.loc["visual", "max.correlation"])
    assert t.loc["visual", "pass"] is pd.NA


def test_fornell_larcker_refuses_a_parameter_table(hs_data):
    with pytest.raises(TypeError, match="FitResult"):
        fornell_larcker(fit(HS_MODEL, hs_data).parameters)


def test_htmt_unknown_ratio_is_na_not_below_threshold():
    data = pd.DataFrame({"a1": [1, 2, 3, 4, np.nan, np.nan, np.nan], "a2": [2, 1, 4, 3, np.nan, np.nan, np.nan],
                         "b1": [np.nan, np.nan, np.nan, np.nan, 1, 2, 3],
                         "b2": [np.nan, np.nan, np.nan, np.nan, 3, 1, 2]})
    out = htmt(data, {"A": ["a1", "a2"], "B": ["b1", "b2"]}).iloc[0]
    assert np.isnan(out["htmt"])
    assert out["above.85"] is pd.NA and out["above.90"] is pd.NA


def test_htmt_input_errors(hs_data):
    with pytest.raises(DataError, match="fewer than 2 items"):
        htmt(hs_data, {"A": ["x1"], "B": ["x2", "x3"]})


def test_fornell_larcker_diagonal_is_sqrt_ave_from_lavaan(hs_data):
    """Diagonal sqrt(AVE), computed in R from lavaan's standardizedSolution() (make_psychometrics.R)."""
    t = fornell_larcker(fit(HS_MODEL, hs_data))
    ref = pd.read_csv(REFERENCE.parent / "lavaan_extra" / "hs_cr_ave_lavaan.csv").set_index("factor")
    for f in HS:
        assert t.loc[f, f] == pytest.approx(ref.loc[f, "sqrt.ave"], abs=1e-4), f

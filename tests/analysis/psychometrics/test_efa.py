import numpy as np
import pandas as pd
import pytest

from analysis.psychometrics.efa import efa, parallel_analysis
from smecore.errors import DataError, OptionError
from tests.analysis.conftest import REFERENCE

ITEMS = [f"x{i}" for i in range(1, 10)]


def test_ml_varimax_matches_factanal(hs_data):
    ours = efa(hs_data, 3, items=ITEMS, rotation="varimax")
    ref = pd.read_csv(REFERENCE.parent / "lavaan_extra" / "hs_factanal_varimax.csv").set_index("item")
    np.testing.assert_allclose(ours.uniquenesses, ref["uniqueness"], atol=2e-3)
    # same factors up to order and sign
    ref_l = ref[["Factor1", "Factor2", "Factor3"]].to_numpy()
    for k in range(3):
        col = ours.loadings.iloc[:, k].to_numpy()
        best = max(range(3), key=lambda j: abs(np.corrcoef(col, ref_l[:, j])[0, 1]))
        np.testing.assert_allclose(np.abs(col), np.abs(ref_l[:, best]), atol=2e-3)


def test_oblique_rotation_reports_factor_correlations(hs_data):
    res = efa(hs_data, 3, items=ITEMS, rotation="oblimin")
    phi = res.factor_correlations.to_numpy()
    assert np.allclose(np.diag(phi), 1) and (phi[np.triu_indices(3, 1)] > 0.1).all()
    assert res.communalities.between(0, 1).all()


def test_parallel_analysis_finds_three_factors_and_is_seeded(hs_data):
    t1, s1 = parallel_analysis(hs_data, items=ITEMS, n_iter=60, seed=4)
    t2, s2 = parallel_analysis(hs_data, items=ITEMS, n_iter=60, seed=4)
    assert s1 == {"components": 3, "factors": 3}
    pd.testing.assert_frame_equal(t1, t2)


def test_efa_errors(hs_data):
    with pytest.raises(OptionError, match="rotation"):
        efa(hs_data, 2, items=ITEMS, rotation="geomin")
    with pytest.raises(OptionError, match="n_factors"):
        efa(hs_data, 9, items=ITEMS)
    with pytest.raises(DataError, match="constant"):
        efa(hs_data.assign(x1=1.0), 2, items=ITEMS)


def test_em_equals_listwise_on_complete_data(hs_data):
    a = efa(hs_data, 3, items=ITEMS, rotation="oblimin")
    b = efa(hs_data, 3, items=ITEMS, rotation="oblimin", missing="em")
    np.testing.assert_allclose(a.loadings, b.loadings, atol=1e-6)
    assert a.n == b.n == len(hs_data)


def test_em_correlations_recover_the_full_data_loadings_under_mcar(hs_data):
    """Incomplete data: the EM correlations keep every row; the loadings stay close to those of the
    complete data (independent: factanal's, the stored reference), listwise deletion loses rows."""
    rng = np.random.default_rng(11)
    holed = hs_data.copy()
    holed[ITEMS] = holed[ITEMS].mask(rng.random((len(holed), len(ITEMS))) < 0.08)
    res = efa(holed, 3, items=ITEMS, rotation="varimax", missing="em")
    assert res.n == len(hs_data)
    ref = pd.read_csv(REFERENCE.parent / "lavaan_extra" / "hs_factanal_varimax.csv").set_index("item")
    ref_l = ref[["Factor1", "Factor2", "Factor3"]].to_numpy()
    for k in range(3):
        col = res.loadings.iloc[:, k].to_numpy()
        best = max(range(3), key=lambda j: abs(np.corrcoef(col, ref_l[:, j])[0, 1]))
        assert np.max(np.abs(np.abs(col) - np.abs(ref_l[:, best]))) < 0.12
    assert efa(holed, 3, items=ITEMS, missing="listwise").n < len(hs_data) * 0.6
    _, suggestion = parallel_analysis(holed, items=ITEMS, n_iter=40, seed=1, missing="em")
    assert suggestion["factors"] == 3


def test_missing_option_checked(hs_data):
    with pytest.raises(OptionError, match="'missing' parameter"):
        efa(hs_data, 2, items=ITEMS, missing="mean")


def test_pairwise_correlations_are_pandas_and_smoothed_when_not_positive_definite(hs_data):
    from analysis.psychometrics.efa import correlations

    rng = np.random.default_rng(3)
    holed = hs_data[ITEMS].mask(rng.random((len(hs_data), len(ITEMS))) < 0.1)
    r, n = correlations(holed, ITEMS, missing="pairwise")
    pd.testing.assert_frame_equal(r, holed.corr(), check_exact=False, atol=1e-12)
    assert n == len(holed.dropna(how="all"))
    # a pairwise matrix that is not positive definite (x and y agree, y and z agree, x and z disagree)
    bad = pd.DataFrame({"x": [1, 2, 3, 4, np.nan, np.nan, np.nan, np.nan, 1, 2, 3, 4],
                        "y": [1, 2, 3, 4, 1, 2, 3, 4, np.nan, np.nan, np.nan, np.nan],
                        "z": [np.nan, np.nan, np.nan, np.nan, 1, 2, 3, 4, 4, 3, 2, 1]})
    raw = bad.corr().to_numpy()
    assert np.linalg.eigvalsh(raw).min() < 0
    smooth, _ = correlations(bad, missing="pairwise")
    assert np.linalg.eigvalsh(smooth.to_numpy()).min() > 0 and np.allclose(np.diag(smooth), 1)


def test_ml_efa_is_deterministic(hs_data):
    """statsmodels draws ML start values at random unless seeded: the same data give the same loadings."""
    a = efa(hs_data, 3, items=ITEMS, rotation="oblimin")
    b = efa(hs_data, 3, items=ITEMS, rotation="oblimin")
    pd.testing.assert_frame_equal(a.loadings, b.loadings, check_exact=True)

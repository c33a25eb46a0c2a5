import numpy as np
import pandas as pd
import pytest

from analysis.fit import fit
from analysis.validity import fornell_larcker, htmt, htmt_matrix
from smesurvey.errors import DataError
from tests.analysis.conftest import HS_MODEL, REFERENCE, read_reference

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


def test_fornell_larcker(hs_data):
    res = fit(HS_MODEL, hs_data)
    t = fornell_larcker(res.parameters)
    assert t.loc["visual", "textual"] == pytest.approx(0.4585, abs=1e-3)
    assert t["pass"].all()


def test_htmt_input_errors(hs_data):
    with pytest.raises(DataError, match="fewer than 2 items"):
        htmt(hs_data, {"A": ["x1"], "B": ["x2", "x3"]})


def test_fornell_larcker_diagonal_is_sqrt_ave_from_lavaan(hs_data):
    """Diagonal sqrt(AVE), computed in R from lavaan's standardizedSolution() (make_psychometrics.R)."""
    t = fornell_larcker(fit(HS_MODEL, hs_data).parameters)
    ref = pd.read_csv(REFERENCE.parent / "lavaan_extra" / "hs_cr_ave_lavaan.csv").set_index("factor")
    for f in HS:
        assert t.loc[f, f] == pytest.approx(ref.loc[f, "sqrt.ave"], abs=1e-4), f

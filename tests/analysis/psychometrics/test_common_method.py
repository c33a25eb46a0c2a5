"""Common-method checks against references computed in R (make_psychometrics.R on psych::bfi) and closed forms."""

import numpy as np
import pandas as pd
import pytest

from analysis.psychometrics.common_method import (
    MARKER_COLUMNS,
    harman_single_factor,
    marker_adjustment,
)
from tests.analysis.conftest import REFERENCE

EXTRA = REFERENCE.parent / "lavaan_extra"
BFI_ITEMS = [f"{t}{k}" for t in "ACENO" for k in range(1, 6)]
KEYS = {"A": ["-A1", "A2", "A3", "A4", "A5"], "C": ["C1", "C2", "C3", "-C4", "-C5"],
        "E": ["-E1", "-E2", "E3", "E4", "E5"], "N": ["N1", "N2", "N3", "N4", "N5"],
        "O": ["O1", "-O2", "O3", "O4", "-O5"]}


@pytest.fixture(scope="module")
def bfi():
    return pd.read_csv(EXTRA / "bfi.csv")


def test_harman_matches_r_on_bfi(bfi):
    """First eigenvalue of the pairwise-complete correlation matrix / 25 (R eigen() and psych::principal)."""
    ref = pd.read_csv(EXTRA / "bfi_harman.csv").iloc[0]
    out = harman_single_factor(bfi, BFI_ITEMS).iloc[0]
    assert out["first.share"] == pytest.approx(ref["first.share"], abs=1e-10)
    assert out["first.share"] == pytest.approx(ref["first.share.principal"], abs=1e-10)
    assert out["items"] == ref["items"] and out["n"] == ref["n"]
    assert not out["flag"]


def test_harman_closed_form():
    """p items, all correlations r: first eigenvalue 1 + (p - 1) r, share (1 + (p - 1) r) / p."""
    p, r = 10, 0.3
    x = np.random.default_rng(2).multivariate_normal(np.zeros(p), r + (1 - r) * np.eye(p), size=100_000)
    out = harman_single_factor(pd.DataFrame(x), list(range(p))).iloc[0]
    assert out["first.share"] == pytest.approx((1 + (p - 1) * r) / p, abs=0.01)
    assert not out["flag"]


def test_marker_adjustment_matches_r_on_bfi(bfi):
    """Lindell & Whitney on the five bfi scale scores with education as marker, computed in R."""
    scores = pd.DataFrame({
        s: pd.concat([7 - bfi[k[1:]] if k.startswith("-") else bfi[k] for k in keys], axis=1).mean(axis=1, skipna=False)
        for s, keys in KEYS.items()})
    data = scores.assign(education=bfi["education"])
    ours = marker_adjustment(data, list(KEYS), "education")
    ref = pd.read_csv(EXTRA / "bfi_marker_education.csv")
    assert list(ours.columns) == list(MARKER_COLUMNS)
    assert list(zip(ours["var1"], ours["var2"])) == list(zip(ref["var1"], ref["var2"]))
    for col in ("r", "r.marker", "r.adjusted", "t"):
        np.testing.assert_allclose(ours[col], ref[col], rtol=1e-10, err_msg=col)
    np.testing.assert_allclose(ours["pvalue"], ref["pvalue"], rtol=1e-6)
    assert (ours["df"] == ref["df"]).all() and (ours["n"] == ref["n"]).all()


def test_marker_adjustment_given_marker_correlation_closed_form():
    """Two variables and a marker on 12 rows: r_A = (r - r_M) / (1 - r_M), t = r_A sqrt((n - 3) / (1 - r_A^2))."""
    x = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], dtype=float)
    y = np.array([2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11], dtype=float)
    m = np.array([1, 1, 2, 1, 2, 2, 1, 2, 1, 2, 2, 1], dtype=float)
    # sum of squared rank differences 12 -> r = 1 - 6 * 12 / (12 (144 - 1)) for untied ranks 1..12
    r = 1 - 6 * 12 / (12 * 143)
    out = marker_adjustment(pd.DataFrame({"x": x, "y": y, "m": m}), ["x", "y"], "m", r_marker=0.2).iloc[0]
    ra = (r - 0.2) / 0.8
    assert out["r"] == pytest.approx(r, abs=1e-12)
    assert out["r.adjusted"] == pytest.approx(ra, abs=1e-12)
    assert out["t"] == pytest.approx(ra * np.sqrt(9 / (1 - ra ** 2)), abs=1e-10)
    assert out["df"] == 9 and out["n"] == 12

import numpy as np
import pandas as pd
import pytest

from analysis.common_method import harman_single_factor, marker_adjustment


def test_harman_closed_form():
    """p items, all correlations r: first eigenvalue 1 + (p - 1) r, share (1 + (p - 1) r) / p."""
    p, r = 10, 0.3
    x = np.random.default_rng(2).multivariate_normal(np.zeros(p), r + (1 - r) * np.eye(p), size=100_000)
    out = harman_single_factor(pd.DataFrame(x), list(range(p))).iloc[0]
    assert out["first.share"] == pytest.approx((1 + (p - 1) * r) / p, abs=0.01)
    assert not out["flag"]


def test_marker_adjustment_formula():
    rng = np.random.default_rng(3)
    n = 50_000
    method = rng.normal(size=n)  # common-method factor shared by everything
    a = rng.normal(size=n)
    data = pd.DataFrame({"x": a + 0.5 * method + rng.normal(size=n), "y": a + 0.5 * method + rng.normal(size=n),
                         "m1": 0.5 * method + rng.normal(size=n)})
    out = marker_adjustment(data, ["x", "y"], "m1").iloc[0]
    assert out["r.adjusted"] == pytest.approx((out["r"] - out["r.marker"]) / (1 - out["r.marker"]))
    assert out["r.marker"] > 0.05 and out["r.adjusted"] < out["r"]
    assert out["df"] == n - 3 and out["pvalue"] < 1e-10

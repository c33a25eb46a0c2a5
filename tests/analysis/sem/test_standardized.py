"""Standardized values at many parameter vectors (analysis.sem.standardized.std_batch)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.sem.defined import delta_method_batch
from analysis.sem.fit import fit
from analysis.sem.standardized import std_batch, std_function, structural_parameters
from tests.analysis.conftest import HS_MODEL, MEDIATION_MODEL, POLDEM_MODEL


def _shifted(theta: np.ndarray, cols) -> np.ndarray:
    """The delta method's parameter vectors (as analysis.sem.defined.delta_method_batch lays them out)."""
    cols = np.asarray(cols)
    m = len(cols)
    steps = (1e-7 * np.maximum(1.0, np.abs(theta)))[cols]
    out = np.tile(theta, (2 * m + 1, 1))
    out[np.arange(m), cols] += steps
    out[m + np.arange(m), cols] -= steps
    return out


def _one_by_one(est, thetas: np.ndarray) -> np.ndarray:
    one = std_function(est)
    return np.array([one(th) for th in thetas])


@pytest.fixture(scope="module")
def fits(poldem_data, hs_data):
    return {
        # equality constraints (a, b, c: parameters that occur twice - the general path)
        "poldem": fit(POLDEM_MODEL, poldem_data),
        "mediation": fit(MEDIATION_MODEL, poldem_data),
        # two groups, mean structure: a group's parameters do not move the other group
        "two-group": fit(HS_MODEL, hs_data, group="school"),
        "fiml": fit(HS_MODEL, hs_data, missing="fiml"),
    }


@pytest.mark.parametrize("name", ["poldem", "mediation", "two-group", "fiml"])
def test_one_change_rows_equal_the_full_standardization(fits, name):
    """Rows that change one parameter (a delta method's shifted vectors, every free parameter here) are
    standardized from the estimate's implied covariance updated for that change: the values of the full
    standardization row by row to rounding, and the same delta-method standard errors to 1e-7 (rows whose
    standardized value cannot move - an exogenous factor's variance, 1 in std.all - get 0 or noise below 1e-9
    either way)."""
    res = fits[name]
    est = res.estimation
    thetas = _shifted(est.theta, np.arange(len(est.theta)))
    fast = std_batch(est)(thetas)
    slow = _one_by_one(est, thetas)
    assert np.array_equal(np.isnan(fast), np.isnan(slow))
    np.testing.assert_allclose(fast, slow, rtol=1e-13, atol=1e-14)
    value, se = delta_method_batch(std_batch(est), est.theta, res.vcov)
    value1, se1 = delta_method_batch(lambda th: _one_by_one(est, th), est.theta, res.vcov)
    np.testing.assert_array_equal(value, value1)
    np.testing.assert_allclose(se, se1, rtol=1e-7, atol=1e-8)


def test_rows_that_change_several_parameters_take_the_full_path(fits):
    """Monte Carlo draws change every parameter: the full standardization, bit for bit."""
    est = fits["mediation"].estimation
    rng = np.random.default_rng(1)
    draws = rng.multivariate_normal(est.theta, fits["mediation"].vcov, size=40)
    np.testing.assert_array_equal(std_batch(est)(draws), _one_by_one(est, draws))


def test_a_large_change_of_a_path_is_exact(fits):
    """The Sherman-Morrison update holds for any change, not only a small step: a regression path
    doubled, a loading set to zero, a residual variance halved - each alone, against the full path."""
    est = fits["mediation"].estimation
    t = est.partable.table
    free = t["free"].to_numpy()
    theta = est.theta
    rows = [t.index[(t["op"] == "~") & (t["label"] == "b")][0],
            t.index[(t["op"] == "=~") & (t["rhs"] == "y2")][0],
            t.index[(t["op"] == "~~") & (t["lhs"] == "y3") & (t["rhs"] == "y3")][0]]
    thetas = np.tile(theta, (len(rows) + 1, 1))
    for i, (row, factor) in enumerate(zip(rows, (2.0, 0.0, 0.5))):
        thetas[i, free[row] - 1] *= factor
    np.testing.assert_allclose(std_batch(est)(thetas), _one_by_one(est, thetas), rtol=1e-12, atol=1e-14)


def test_standardized_paths_depend_on_the_structural_parameters_only(fits):
    """The columns the standardized delta method differentiates: every A or S parameter, no mean."""
    est = fits["two-group"].estimation
    cols = structural_parameters(est)
    t = est.partable.table
    means = {int(f) - 1 for f, op in zip(t["free"], t["op"]) if f > 0 and op == "~1"}
    assert cols and not means & set(cols)
    thetas = _shifted(est.theta, sorted(means))
    values = std_batch(est)(thetas)
    std_rows = (t["op"] != "~1").to_numpy()
    np.testing.assert_array_equal(values[:, std_rows], np.tile(values[-1, std_rows], (len(thetas), 1)))

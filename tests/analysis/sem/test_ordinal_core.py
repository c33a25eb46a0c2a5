"""The pieces of the ordinal pipeline against closed forms, scipy and lavaan's sample statistics.

* the vectorised bivariate normal CDF against ``scipy.stats.multivariate_normal`` (and its closed
  form at the origin), including thresholds at 0 and infinite ones;
* polychoric correlations: the ML root (gradient zero), against a scalar optimiser;
* ``WLS.obs`` and ``NACOV`` of mixed ordinal / continuous data with pairwise missing values against
  lavaan 0.6.14's ``lavInspect(fit, "wls.obs")`` / ``"gamma"`` (``make_ordinal.R``);
* the model Jacobian against finite differences (delta and theta, free scale factors);
* the two ways of computing ``tr((U Gamma)^2)`` (statistics space, case space) agree.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats

from analysis.sem.fit import fit
from analysis.sem.ordinal.bivariate import bvn_cdf, bvn_pdf, bvn_pdf_drho
from analysis.sem.ordinal.robust import GammaProducts, baseline_traces, ugamma_traces
from analysis.sem.ordinal.samplestats import (
    _cell_probabilities,
    _padded_thresholds,
    ordinal_group_stats,
    polychoric,
)
from tests.analysis.sem.test_ordinal_reference import MIXED, ORDINAL, TWO

ORDERED_MIXED = ["o1", "o2", "o3", "o4", "o5"]


def test_bvn_cdf_matches_scipy():
    rng = np.random.default_rng(14)
    h, k = rng.normal(0, 1.5, (2, 400))
    rho = rng.uniform(-0.99, 0.99, 400)
    h[::10], k[::7] = 0.0, 0.0  # thresholds at the median: Owen's T at h = 0 is a limit
    ours = bvn_cdf(h, k, rho)
    ref = [stats.multivariate_normal([0, 0], [[1, r], [r, 1]]).cdf([a, b]) for a, b, r in zip(h, k, rho)]
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_bvn_cdf_closed_forms():
    rho = np.array([-0.9, -0.3, 0.0, 0.5, 0.95])
    np.testing.assert_allclose(bvn_cdf(0.0, 0.0, rho), 0.25 + np.arcsin(rho) / (2 * np.pi), atol=1e-14)
    np.testing.assert_allclose(bvn_cdf(np.inf, 0.7, rho), special.ndtr(0.7))
    np.testing.assert_allclose(bvn_cdf(-0.4, np.inf, rho), special.ndtr(-0.4))
    assert np.all(bvn_cdf(-np.inf, 0.3, rho) == 0)
    np.testing.assert_allclose(bvn_cdf(0.3, -0.8, 0.0), special.ndtr(0.3) * special.ndtr(-0.8), atol=1e-15)


def test_bvn_density_and_its_rho_derivative():
    h, k, r, eps = 0.4, -1.1, 0.35, 1e-6
    ref = stats.multivariate_normal([0, 0], [[1, r], [r, 1]]).pdf([h, k])
    assert bvn_pdf(h, k, r) == pytest.approx(ref, rel=1e-12)
    num = (bvn_pdf(h, k, r + eps) - bvn_pdf(h, k, r - eps)) / (2 * eps)
    assert bvn_pdf_drho(h, k, r) == pytest.approx(num, rel=1e-6)
    # d Phi2 / d rho is the density
    num = (bvn_cdf(h, k, r + eps) - bvn_cdf(h, k, r - eps)) / (2 * eps)
    assert bvn_pdf(h, k, r) == pytest.approx(num, rel=1e-6)


def test_polychoric_is_the_ml_estimate():
    rng = np.random.default_rng(3)
    z = rng.multivariate_normal([0, 0], [[1, 0.45], [0.45, 1]], size=600)
    a = np.searchsorted([-1.0, 0.0, 0.8], z[:, 0])
    b = np.searchsorted([-0.5, 0.6], z[:, 1])
    table = np.zeros((1, 4, 4))
    np.add.at(table[0], (a, b), 1)
    th1 = special.ndtri(np.cumsum(np.bincount(a, minlength=4) / 600)[:-1])
    th2 = special.ndtri(np.cumsum(np.bincount(b, minlength=3) / 600)[:-1])
    t1, t2 = _padded_thresholds([th1], 4), _padded_thresholds([th2], 4)
    rho = polychoric(table, t1, t2, np.array([0.0]))[0]

    def negll(r):
        pi, _, _ = _cell_probabilities(t1, t2, np.array([r]))
        return -np.sum(table * np.log(pi))

    ref = optimize.minimize_scalar(negll, bounds=(-0.99, 0.99), method="bounded", options={"xatol": 1e-10}).x
    assert rho == pytest.approx(ref, abs=1e-7)
    assert rho == pytest.approx(0.45, abs=0.08)


def test_mixed_pairwise_sample_statistics_match_lavaan():
    """Polychoric, polyserial and Pearson correlations with pairwise missing values, and their
    NACOV (Muthen 1984, lavaan's muthen1984()), as lavaan 0.6.14 computes them."""
    d = pd.read_csv(ORDINAL / "ord_mixed_missing10.csv")
    x = d.to_numpy(float)
    ordm = np.array([c in ORDERED_MIXED for c in d.columns])
    codes = np.zeros(x.shape, int)
    nlev = np.zeros(x.shape[1], int)
    for j in np.flatnonzero(ordm):
        lev = np.unique(x[~np.isnan(x[:, j]), j])
        nlev[j] = len(lev)
        codes[:, j] = np.where(np.isnan(x[:, j]), 0, np.searchsorted(lev, np.nan_to_num(x[:, j])) + 1)
    st = ordinal_group_stats(codes, x, ordm, nlev)
    wls = pd.read_csv(ORDINAL / "ord_mixed_pairwise_wls_obs.csv")["wls.obs"].to_numpy()
    gamma = pd.read_csv(ORDINAL / "ord_mixed_pairwise_gamma.csv").to_numpy()
    np.testing.assert_allclose(st.wls_obs, wls, atol=1e-6)
    np.testing.assert_allclose(st.nacov(), gamma, atol=1e-5 * np.abs(gamma).max())


def _numeric_jacobian(model, theta, g, h=1e-6):
    cols = []
    for j in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        cols.append((model.implied(up, g).wls_est - model.implied(down, g).wls_est) / (2 * h))
    return np.column_stack(cols)


@pytest.mark.parametrize("parameterization", ["delta", "theta"])
def test_jacobian_matches_finite_differences(parameterization):
    data = pd.read_csv(ORDINAL / "ord_twogroup.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(TWO, data, ordered=True, group="country", group_equal=["thresholds", "loadings"],
                  parameterization=parameterization)
    est = res.estimation
    for g in range(2):
        ours = est.model.jacobian(est.theta, g).toarray()
        np.testing.assert_allclose(ours, _numeric_jacobian(est.model, est.theta, g), atol=1e-6)


def test_trace_paths_agree():
    """tr((U Gamma)^2) in the statistics space and in the case space (used when statistics outnumber
    cases, as for the instrument) are the same number; so are the baseline's closed-form traces."""
    data = pd.read_csv(ORDINAL / "ord_mixed.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(MIXED, data, ordered=ORDERED_MIXED)
    est = res.estimation
    obj = est.objective
    deltas = [obj.jacobian(est.theta, 0)]
    e_inv = np.linalg.inv(obj.expected_information(est.theta))
    stat_space = GammaProducts(obj.groups, obj.wls_v)
    case_space = GammaProducts(obj.groups, obj.wls_v)
    assert not stat_space.case_space
    case_space.case_space = True
    a = ugamma_traces(e_inv, deltas, obj.wls_v, obj.groups, obj.weights, products=stat_space)
    b = ugamma_traces(e_inv, deltas, obj.wls_v, obj.groups, obj.weights, products=case_space)
    np.testing.assert_allclose(a, b, rtol=1e-10)
    np.testing.assert_allclose(baseline_traces(obj.groups, obj.wls_v, stat_space),
                               baseline_traces(obj.groups, obj.wls_v, case_space), rtol=1e-10)
    assert res.fit_measures["chisq.scaled"] > 0

"""The vectorised FIML machinery (issue 13) against plain per-pattern reference implementations.

Random incomplete data with rows missing one value up to nearly all of them (the per-row
batches by number of missing values, the sparse terms and the row-by-row path for rows missing
many values are all exercised); every quantity is compared with the obvious loop over
missing-data patterns in :mod:`tests.analysis.sem.fiml_reference`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import block_diag

from analysis.sem import fiml
from analysis.sem.fit import fit
from analysis.sem.objective import FIMLObjective, information_terms, numeric_hessian
from analysis.sem.robust import fiml_corrected, saturated_information
from analysis.sem.samplestats import em_saturated, group_data
from analysis.sem.vech import kron_vech, vech_indices
from tests.analysis.sem import fiml_reference as ref


def _data(seed: int, n: int = 120, p: int = 7, rate: float = 0.25, heavy: int = 6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(p, p))
    x = rng.multivariate_normal(rng.normal(size=p), a @ a.T / p + np.eye(p), size=n)
    x[rng.random(x.shape) < rate] = np.nan
    for i in range(heavy):  # rows missing all but one or two values
        x[i, rng.permutation(p)[: p - 1 - i % 2]] = np.nan
    return x[~np.isnan(x).all(axis=1)]


def _moments(x: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = x.shape[1]
    a = rng.normal(size=(p, p))
    return np.nanmean(x, axis=0) + 0.1 * rng.normal(size=p), np.cov(np.where(np.isnan(x), 0, x).T) + a @ a.T / p


def _duplication(p: int) -> np.ndarray:
    a, c = vech_indices(p)
    d = np.zeros((p * p, len(a)))
    for k, (i, j) in enumerate(zip(a, c)):
        d[i * p + j, k] = d[j * p + i, k] = 1.0
    return d


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loglik_and_em_match_the_pattern_reference(seed):
    x = _data(seed)
    mean, cov = _moments(x, seed)
    rt = fiml.row_terms(fiml.row_groups(x), mean, cov)
    assert -0.5 * rt.minus2ll.sum() == pytest.approx(ref.loglik(x, mean, cov), rel=1e-12)
    m1, c1, ll1 = em_saturated(x)
    m2, c2, ll2 = ref.em(x)
    np.testing.assert_allclose(m1, m2, atol=1e-7)
    np.testing.assert_allclose(c1, c2, atol=1e-7)
    assert ll1 == pytest.approx(ll2, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("expected", [False, True])
def test_saturated_hessian_matches_the_pattern_reference(seed, expected):
    x = _data(seed)
    mean, cov = _moments(x, seed)
    rt = fiml.row_terms(fiml.row_groups(x), mean, cov)
    ours = fiml.to_original(fiml.saturated_hessian(rt, expected=expected), rt.precision)
    theirs = ref.saturated_hessian(x, mean, cov, expected=expected)
    np.testing.assert_allclose(ours, theirs, atol=1e-10 * np.abs(theirs).max())


def test_saturated_scores_in_both_bases():
    x = _data(3)
    mean, cov = _moments(x, 3)
    rt = fiml.row_terms(fiml.row_groups(x), mean, cov)
    s = fiml.saturated_scores(rt)
    np.testing.assert_allclose(s, ref.saturated_scores(x, mean, cov), atol=1e-12)
    # scores are functionals: in the transformed basis they are T's, T = (mu -> Sigma mu, S -> Sigma S Sigma)
    np.testing.assert_allclose(fiml.saturated_scores(rt, transformed=True),
                               fiml.sandwich_columns(s.T, cov, dual=True).T, atol=1e-11)


def test_kron_vech_is_the_symmetrised_kronecker_product():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 6, 6))
    a, b = a + a.T, b + b.T
    d = _duplication(6)
    np.testing.assert_allclose(kron_vech(a, b), d.T @ np.kron(a, b) @ d, atol=1e-12)


def test_change_of_basis_round_trip():
    """``to_original`` undoes the congruence that ``sandwich_columns`` applies (dual on both sides)."""
    rng = np.random.default_rng(5)
    p = 5
    q = p + p * (p + 1) // 2
    x = rng.normal(size=(q, q))
    x = x + x.T
    a = rng.normal(size=(p, p))
    sigma = a @ a.T + np.eye(p)
    once = fiml.sandwich_columns(x, sigma, dual=True)
    transformed = fiml.sandwich_columns(np.ascontiguousarray(once.T), sigma, dual=True)  # T' X T
    np.testing.assert_allclose(fiml.to_original(transformed, np.linalg.inv(sigma)), x, atol=1e-9)


def _cfa(seed: int, n: int = 250, rate: float = 0.2):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 3)) @ np.linalg.cholesky(np.array([[1, .3, .2], [.3, 1, .4], [.2, .4, 1]])).T
    cols, lines = {}, []
    for k in range(3):
        names = [f"y{k}{j}" for j in range(5)]
        for nm in names:
            cols[nm] = 0.7 * f[:, k] + 0.6 * rng.normal(size=n)
        lines.append(f"F{k} =~ " + " + ".join(names))
    d = pd.DataFrame(cols)
    m = rng.random(d.shape) < rate
    m[:25, :13] = True  # rows missing many values: the row-by-row path of the quartic terms
    d = d.mask(m)
    return "\n".join(lines) + "\nF0 ~ F1\n", d[~d.isna().all(axis=1)]


@pytest.fixture(scope="module")
def cfa_fit():
    model, d = _cfa(7)
    return fit(model, d, missing="fiml", estimator="MLR")


def test_fiml_value_gradient_hessian_information_scores(cfa_fit):
    est = cfa_fit.estimation
    obj: FIMLObjective = est.objective
    theta = est.theta + 0.02 * np.random.default_rng(1).normal(size=len(est.theta))
    imp = obj.model.implied(theta, 0)
    x = obj.groups[0].data
    assert obj.loglik(theta) == pytest.approx(ref.loglik(x, imp.mu, imp.sigma), rel=1e-12)
    h = 1e-6
    num_grad = np.array([(obj.value(theta + h * e) - obj.value(theta - h * e)) / (2 * h) for e in np.eye(len(theta))])
    np.testing.assert_allclose(obj.gradient(theta), num_grad, atol=1e-6)
    np.testing.assert_allclose(obj.hessian(theta), numeric_hessian(obj.gradient, theta), atol=1e-6)
    # expected information and scores: the per-row formulas with an explicit inverse of the observed block
    U, V, M = obj.model.rank2_factors(0, imp)
    info = np.zeros((U.shape[1], U.shape[1]))
    scores = np.zeros((len(x), U.shape[1]))
    for i, row in enumerate(x):
        o = np.flatnonzero(~np.isnan(row))
        w = np.linalg.inv(imp.sigma[np.ix_(o, o)])
        info += information_terms(U[o], V[o], M[o], w, True)
        b = w @ (row[o] - imp.mu[o])
        scores[i] = (b @ U[o]) * (b @ V[o]) - np.einsum("pq,pq->q", U[o], w @ V[o]) + b @ M[o]
    np.testing.assert_allclose(obj.information(theta), obj.model.collapse(0, info) / len(x), atol=1e-12)
    np.testing.assert_allclose(obj.scores(theta)[0], obj.model.collapse_rows(0, scores), atol=1e-10)


def test_h1_trace_and_fiml_corrected_match_the_q_by_q_formulas(cfa_fit):
    """h1 information from case-wise scores and one Cholesky factor (transformed basis) against
    the direct formulas: A1 per pattern, B1 = S'S/n, and lavaan's q x q products."""
    est = cfa_fit.estimation
    gd = est.groups[0]
    v = est.partable.variables
    info = saturated_information(gd, v.ov, v.ov_x, True)
    assert info.transformed
    a1 = ref.saturated_hessian(gd.data, gd.mean, gd.cov) / (2 * gd.n)
    sc = ref.saturated_scores(gd.data, gd.mean, gd.cov)
    b1 = sc.T @ sc / gd.n
    np.testing.assert_allclose(info.observed, a1, atol=1e-10)
    np.testing.assert_allclose(info.first_order, b1, atol=1e-10)
    assert info.trace() == pytest.approx(np.trace(np.linalg.solve(a1, b1)), rel=1e-10)
    # lavaan's lav_fit_fiml_corrected, one group (weights 1), written out with q x q matrices
    w = np.linalg.inv(gd.cov)
    wc = block_diag(w, kron_vech(w, w) / 2)
    wmi = np.linalg.inv(a1)
    gamma = wmi @ b1 @ wmi

    def k_hat(e_, scaled):
        delta = e_.model.jacobian(0, e_.model.implied(e_.theta, 0), True)
        u = a1 - a1 @ delta @ np.linalg.solve(delta.T @ a1 @ delta, delta.T @ a1)
        if scaled:
            return np.trace(u @ wmi @ wc @ wmi @ u @ gamma)
        return np.trace(wc @ wmi @ u @ wmi)

    from analysis.sem.fit import step09_baseline

    _, base = step09_baseline(est, cfa_fit.options)
    df, dfb = cfa_fit.fit_measures["df"], cfa_fit.fit_measures["baseline.df"]
    for scaled in (True, False):
        fc = fiml_corrected(est, base, df, dfb, scaled=scaled, h1=[info])
        assert fc.c_hat3 == pytest.approx(k_hat(est, scaled) / df, rel=1e-9)
        assert fc.c_hat3_null == pytest.approx(k_hat(base, scaled) / dfb, rel=1e-9)


def test_gfi_weights_match_the_row_formula(cfa_fit):
    est = cfa_fit.estimation
    gd = est.groups[0]
    imp = est.model.implied(est.theta, 0)
    rng = np.random.default_rng(2)
    c = rng.normal(size=imp.sigma.shape)
    c = c + c.T
    m = rng.normal(size=len(imp.mu))
    rt = fiml.row_terms(gd.rows, imp.mu, imp.sigma)
    total = 0.0
    for row in gd.data:
        o = np.flatnonzero(~np.isnan(row))
        w = np.zeros_like(imp.sigma)
        w[np.ix_(o, o)] = np.linalg.inv(imp.sigma[np.ix_(o, o)])
        wc = w @ c
        total += 0.5 * np.sum(wc * wc.T) + m @ w @ m
    assert fiml.expected_quadratic(rt, c, m) == pytest.approx(total, rel=1e-11)


def test_complete_data_fiml_equals_ml_moments():
    """FIML on complete data (no row misses anything): the saturated EM is the sample moments."""
    x = _data(8, rate=0.0, heavy=0)
    gd = group_data(x, fiml=True)
    assert gd.rows.complete
    np.testing.assert_allclose(gd.cov, np.cov(x.T, bias=True), atol=1e-12)


def test_quartic_term_row_by_row_equals_batched(monkeypatch):
    """Rows missing many values take the row-by-row path of the quartic Hessian term; both paths
    give the same matrix."""
    x = _data(9, n=60, p=9, rate=0.4, heavy=4)
    mean, cov = _moments(x, 9)
    rt = fiml.row_terms(fiml.row_groups(x), mean, cov)
    rng = np.random.default_rng(9)
    U, V, M = rng.normal(size=(3, 9, 14))
    batched = fiml.casewise_hessian(rt, U, V, M)
    monkeypatch.setattr(fiml, "QUARTIC_BATCH_K", 0)  # rows missing more than they observe: observed blocks
    np.testing.assert_allclose(fiml.casewise_hessian(rt, U, V, M), batched, atol=1e-10 * np.abs(batched).max())
    monkeypatch.setattr(fiml, "_quartic_observed", None)  # (not reached when no row misses more than it observes)
    small = x[np.isnan(x).sum(axis=1) <= 4]
    rt2 = fiml.row_terms(fiml.row_groups(small), mean, cov)
    monkeypatch.setattr(fiml, "QUARTIC_BATCH_K", 16)
    reference = fiml.casewise_hessian(rt2, U, V, M)
    monkeypatch.setattr(fiml, "QUARTIC_BATCH_K", 0)  # row by row in the Schur form
    np.testing.assert_allclose(fiml.casewise_hessian(rt2, U, V, M), reference, atol=1e-10 * np.abs(reference).max())


def test_em_raises_when_the_loglikelihood_falls():
    """EM is monotone; on 138 items and 250 rows the covariance matrix turns singular, the
    log-likelihood falls and em_saturated says so (ConvergenceError) instead of iterating on."""
    from instrument import load_instrument
    from smecore.errors import ConvergenceError
    from synthetic_data.generate import generate

    inst = load_instrument()
    data = generate(world="theory", n=250, seed=2).data
    items = [it.id for c in inst.constructs.values() for it in c.items if it.id in data.columns]
    x = data[items].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    x = x[~np.isnan(x).all(axis=1)]
    with pytest.raises(ConvergenceError, match=rf"log-likelihood fell at iteration \d+ .* {len(items)} variables"):
        em_saturated(x)
    # a well-posed subset (one module's 16 items) converges
    mean, cov, ll = em_saturated(x[:, :16])
    assert np.isfinite(ll) and np.linalg.eigvalsh(cov)[0] > 0


@pytest.mark.parametrize("k", [1, 2, 3])
def test_small_factors_are_lapacks_numbers(k):
    """The 1 x 1 shortcut (square root, reciprocal) gives LAPACK's numbers bit for bit; larger blocks go
    to LAPACK; a block that is not positive definite is None, as the LinAlgError it replaces."""
    from analysis.sem.fiml import small_cholesky, small_inverse

    rng = np.random.default_rng(k)
    a = rng.normal(size=(500, k, k))
    m = a @ a.transpose(0, 2, 1) + 0.1 * np.eye(k)
    np.testing.assert_array_equal(small_cholesky(m), np.linalg.cholesky(m))
    np.testing.assert_array_equal(small_inverse(m), np.linalg.inv(m))
    bad = m.copy()
    bad[7] = -np.eye(k)
    assert small_cholesky(bad) is None
    bad[7] = np.nan
    assert small_cholesky(bad) is None

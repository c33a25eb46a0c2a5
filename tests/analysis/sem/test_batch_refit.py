"""Batched refits of reweighted rows (the bootstrap's fast path): the same estimates as refitting
each resample on its own, for every kind of fit the bootstrap meets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis.sem.batch_refit as br
import analysis.sem.bootstrap as boot
from analysis.sem.fit import fit, refit
from tests.analysis.conftest import HS_MODEL, MEDIATION_MODEL, read_reference
from tests.analysis.sem.test_fit_reference import EXTRA


def _resamples(res, k, seed=3):
    """``k`` ordinary resamples per group: (weights per group, resampled arrays per group)."""
    rng = np.random.default_rng(seed)
    weights, samples = [[] for _ in res.estimation.groups], []
    for _ in range(k):
        sample = []
        for g, gd in enumerate(res.estimation.groups):
            idx = rng.integers(0, gd.n, gd.n)
            weights[g].append(np.bincount(idx, minlength=gd.n))
            sample.append(gd.data[idx])
        samples.append(sample)
    return [np.array(w, dtype=float) for w in weights], samples


def _check_against_refit(res, k=12, atol=1e-7):
    fiml = res.options.missing == "fiml"
    weights, samples = _resamples(res, k)
    theta, ok = br.refit_weighted(res.estimation, weights)
    assert ok.all()
    for j, sample in enumerate(samples):
        one = refit(res.estimation, sample, fiml=fiml, tol=1e-16)
        assert one is not None
        np.testing.assert_allclose(theta[j], one.theta, atol=atol, rtol=0)


@pytest.fixture(scope="module")
def hs_mar() -> pd.DataFrame:
    return pd.read_csv(EXTRA / "HolzingerSwineford1939_mar_age.csv")


def test_fiml_with_auxiliary_equals_single_refits(hs_mar):
    _check_against_refit(fit(HS_MODEL, hs_mar, missing="fiml", estimator="MLR", auxiliary=["ageyr"]))


def test_complete_data_without_mean_structure_equals_single_refits(poldem_data):
    res = fit(MEDIATION_MODEL, poldem_data)
    assert not res.options.meanstructure
    _check_against_refit(res)


def test_multigroup_fiml_equals_single_refits(hs_mar):
    res = fit(HS_MODEL, hs_mar, missing="fiml", group="school", group_equal=["loadings"])
    _check_against_refit(res, k=6)


def test_fixed_x_covariates_take_the_standard_path():
    data = read_reference("HolzingerSwineford1939.csv")
    res = fit("visual =~ x1 + x2 + x3\nvisual ~ ageyr", data)
    assert not br.supported(res.estimation)
    b = boot.bootstrap(res, 20, seed=2, n_jobs=1)
    assert b.n_failed == 0 and len(b.draws) == 20


def test_draws_handed_back_are_refitted_the_standard_way(poldem_data, monkeypatch):
    """A replicate the batched refit does not finish (here: no step allowed) goes through refit():
    the bootstrap's draws equal those of the standard path."""
    res = fit(MEDIATION_MODEL, poldem_data)
    fast = boot.bootstrap(res, 10, seed=4, n_jobs=1)
    monkeypatch.setattr(br, "MAX_ITER", 0)
    handed_back = boot.bootstrap(res, 10, seed=4, n_jobs=1)
    monkeypatch.setattr(br, "supported", lambda est: False)
    standard = boot.bootstrap(res, 10, seed=4, n_jobs=1)
    np.testing.assert_array_equal(handed_back.draws.to_numpy(), standard.draws.to_numpy())
    np.testing.assert_allclose(fast.draws.to_numpy(), standard.draws.to_numpy(), atol=1e-6)


def test_cluster_weights_are_the_drawn_clusters_rows():
    """The weights of a cluster draw count each row as often as its cluster was drawn: the same
    multiset of rows as the resample the standard path builds from the same generator."""
    members = [np.array([0, 3]), np.array([1]), np.array([2, 4, 5])]
    cluster_of = np.array([0, 1, 2, 0, 2, 2])
    x = np.arange(6.0)[:, None]
    ss = np.random.SeedSequence(9)
    counts = boot._counts(np.random.default_rng(ss), 6, members, cluster_of)
    drawn = boot._draw(np.random.default_rng(ss), x, members)[:, 0]
    np.testing.assert_array_equal(counts, np.bincount(drawn.astype(int), minlength=6))


def test_threads_give_the_same_draws(poldem_data):
    res = fit(MEDIATION_MODEL, poldem_data)
    one = boot.bootstrap(res, 3 * boot.CHUNK + 5, seed=11, n_jobs=1)
    two = boot.bootstrap(res, 3 * boot.CHUNK + 5, seed=11, n_jobs=2)
    np.testing.assert_array_equal(one.draws.to_numpy(), two.draws.to_numpy())


def test_many_holes_per_row_equal_single_refits(monkeypatch):
    """Rows missing 1 to 6 of 9 values: the closed forms (1, 2), the written-out Cholesky (3-5) and
    LAPACK (6 and more, or every k >= 3 with UNROLLED_K = 2) give the single refits' estimates."""
    data = read_reference("HolzingerSwineford1939.csv")
    rng = np.random.default_rng(5)
    items = [f"x{i}" for i in range(1, 10)]
    x = data[items].to_numpy(copy=True)
    holes = rng.random(x.shape) < rng.uniform(0.0, 0.6, size=(len(x), 1))
    holes[np.arange(len(x)), rng.integers(0, 9, len(x))] = False  # every row answers something
    x[holes] = np.nan
    res = fit(HS_MODEL, pd.DataFrame(x, columns=items), missing="fiml")
    assert set(np.isnan(x).sum(axis=1)) >= {1, 2, 3, 4, 5, 6}
    _check_against_refit(res, k=6)
    monkeypatch.setattr(br, "UNROLLED_K", 2)
    _check_against_refit(res, k=6)


def test_small_spd_inverse_matches_lapack():
    rng = np.random.default_rng(2)
    for k in (3, 4, 5):
        z = rng.normal(size=(40, k, k + 2))
        mats = z @ z.transpose(0, 2, 1)
        mats[0] = -np.eye(k)  # not positive definite
        inv, logdet, ok = br._spd_inverse(mats)
        assert not ok[0] and ok[1:].all()
        np.testing.assert_allclose(inv[1:], np.linalg.inv(mats[1:]), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(logdet[1:], np.linalg.slogdet(mats[1:])[1], rtol=0, atol=1e-10)


def test_all_cores_means_the_idle_ones(monkeypatch):
    """n_jobs=-1: the usable cores minus the one-minute load average (at least 1); a positive n_jobs as given."""
    monkeypatch.setattr(boot.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(boot.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert boot.worker_threads(-1) == 2 and boot.worker_threads(-2) == 1
    monkeypatch.setattr(boot.os, "getloadavg", lambda: (3.5, 3.0, 3.0))
    assert boot.worker_threads(-1) == 1 and boot.worker_threads(2) == 2

import numpy as np
import pandas as pd
import pytest

from analysis.sem.bootstrap import bootstrap
from analysis.sem.fit import fit
from smecore.errors import OptionError
from tests.analysis.conftest import MEDIATION_MODEL


@pytest.fixture(scope="module")
def mediation(poldem_data):
    return fit(MEDIATION_MODEL, poldem_data)


@pytest.mark.parametrize("in_process_seconds", [10.0, 0.0])  # 0: worker processes for all but the first batch
def test_same_seed_same_draws_whatever_the_workers(mediation, monkeypatch, in_process_seconds):
    import analysis.sem.bootstrap as boot

    monkeypatch.setattr(boot, "IN_PROCESS_SECONDS", in_process_seconds)
    a = bootstrap(mediation, 40, seed=7, n_jobs=1)
    b = bootstrap(mediation, 40, seed=7, n_jobs=2)
    c = bootstrap(mediation, 40, seed=8, n_jobs=1)
    np.testing.assert_array_equal(a.draws.to_numpy(), b.draws.to_numpy())
    assert not np.array_equal(a.draws.to_numpy(), c.draws.to_numpy())


def test_defined_parameters_get_percentile_and_bc_intervals(mediation):
    b = bootstrap(mediation, 200, seed=1, n_jobs=1)
    ind = b.table.set_index("lhs").loc["indirect"]
    assert b.n_failed == 0 and len(b.draws) == 200
    assert ind["ci.lower"] < ind["est"] < ind["ci.upper"]
    assert ind["ci.lower.bc"] < ind["est"] < ind["ci.upper.bc"]
    # the draws of `indirect` are the products of the draws of a and b
    np.testing.assert_allclose(b.draws["indirect := a*b"],
                               b.draws["dem60 ~ ind60"] * b.draws["dem65 ~ dem60"], rtol=1e-10)


def test_bootstrap_se_close_to_analytic_se():
    """Normal data, N = 500: bootstrap SEs of the loadings within 20% of the ML standard errors."""
    rng = np.random.default_rng(11)
    f = rng.normal(size=500)
    data = pd.DataFrame({f"y{i}": lam * f + rng.normal(scale=0.6, size=500)
                         for i, lam in enumerate((1.0, 0.8, 0.7, 0.9), start=1)})
    res = fit("F =~ y1 + y2 + y3 + y4", data)
    b = bootstrap(res, 300, seed=3, n_jobs=1)
    t = b.table[b.table["op"] == "=~"].merge(res.parameters, on=["lhs", "op", "rhs", "group"])
    ratio = t["boot.se"] / t["se"]
    assert ratio.between(0.8, 1.25).all(), ratio


def test_too_few_resamples_is_an_option_error(mediation):
    with pytest.raises(OptionError, match="n_boot"):
        bootstrap(mediation, 1)


def test_cluster_bootstrap_resamples_clusters_and_matches_cluster_robust_se():
    """Clustered data (lavaan's Demo.twolevel, 200 clusters): with ``cluster=`` whole clusters
    are drawn, and the bootstrap SEs agree with the cluster-robust SEs (within 25%),
    which are clearly larger than the naive ones for the between-cluster-heavy loadings."""
    from tests.analysis.sem.test_fit_reference import EXTRA, TWOLEVEL

    data = pd.read_csv(EXTRA / "demo_twolevel.csv")
    res = fit(TWOLEVEL, data, estimator="MLR", cluster="cluster")
    naive = fit(TWOLEVEL, data, estimator="MLR")
    b = bootstrap(res, 300, seed=5, n_jobs=1)
    t = b.table[b.table["op"].isin(["=~", "~"]) & (b.table["boot.se"] > 0)].merge(
        res.parameters, on=["lhs", "op", "rhs", "group"]).merge(
        naive.parameters[["lhs", "op", "rhs", "se"]], on=["lhs", "op", "rhs"], suffixes=("", ".naive"))
    ratio = t["boot.se"] / t["se"]
    assert ratio.between(0.75, 1.25).all(), ratio
    assert (t["se"] > 1.2 * t["se.naive"]).any()
    # clusters, not rows, are drawn: the draws differ from the row bootstrap with the same seed
    rows = bootstrap(naive, 300, seed=5, n_jobs=1)
    assert not np.allclose(b.draws["f2 ~ f1"], rows.draws["f2 ~ f1"])

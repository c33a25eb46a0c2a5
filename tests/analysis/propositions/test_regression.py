"""Regression checks against statsmodels called directly and closed forms."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.propositions.regression import adjust_pvalues, cell_contrasts, count_regression, ols
from smecore.errors import DataError


@pytest.fixture(scope="module")
def firms():
    rng = np.random.default_rng(7)
    n, k = 600, 20
    cluster = rng.integers(0, k, n)
    u = rng.normal(scale=0.5, size=k)[cluster]
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = 0.4 * x1 - 0.2 * x2 + u + rng.normal(size=n)
    mu = np.exp(0.3 + 0.5 * x1)
    counts = rng.negative_binomial(2, 2 / (2 + mu))  # NB2 with alpha = 0.5
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "cluster": cluster, "markets": counts})


def test_ols_hc3_matches_closed_form(firms):
    t = ols(firms, "y", ["x1", "x2"], cluster="cluster").set_index("term")
    X = sm.add_constant(firms[["x1", "x2"]].to_numpy())
    y = firms["y"].to_numpy()
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    e = y - X @ beta
    h = np.einsum("ij,jk,ik->i", X, np.linalg.inv(X.T @ X), X)
    meat = X.T @ (X * (e ** 2 / (1 - h) ** 2)[:, None])
    bread = np.linalg.inv(X.T @ X)
    se_hc3 = np.sqrt(np.diag(bread @ meat @ bread))
    assert t.loc["x1", "estimate"] == pytest.approx(beta[1], rel=1e-10)
    assert t.loc["x2", "se.hc3"] == pytest.approx(se_hc3[2], rel=1e-10)
    assert t.loc["x1", "std.estimate"] == pytest.approx(beta[1] * firms.x1.std() / firms.y.std())
    assert t.loc["x1", "n.clusters"] == 20


def test_cluster_robust_se_matches_statsmodels(firms):
    t = ols(firms, "y", ["x1", "x2"], cluster="cluster").set_index("term")
    direct = sm.OLS(firms["y"], sm.add_constant(firms[["x1", "x2"]])).fit(
        cov_type="cluster", cov_kwds={"groups": firms["cluster"]})
    assert t.loc["x1", "se.cluster"] == pytest.approx(direct.bse["x1"], rel=1e-10)


def test_count_model_detects_overdispersion_and_recovers_the_slope(firms):
    t = count_regression(firms, "markets", ["x1"]).iloc[0]
    assert t["family"] == "negative binomial" and t["dispersion.pvalue"] < 0.05
    assert t["estimate"] == pytest.approx(0.5, abs=0.1)
    assert t["rate.ratio"] == pytest.approx(np.exp(t["estimate"]))
    pois = count_regression(firms, "markets", ["x1"], family="poisson").iloc[0]
    direct = sm.Poisson(firms["markets"], sm.add_constant(firms[["x1"]])).fit(disp=False)
    assert pois["estimate"] == pytest.approx(direct.params["x1"], rel=1e-6)


def test_count_model_rejects_non_counts(firms):
    with pytest.raises(DataError, match="whole numbers"):
        count_regression(firms.assign(markets=firms.markets + 0.5), "markets", ["x1"])


def test_cell_contrasts_recover_within_firm_differences():
    rng = np.random.default_rng(1)
    cells = {"vn_tk": 5.0, "vn_ik": 4.0, "vg_ik": 4.6}
    rows = []
    for firm in range(300):
        base = rng.normal(scale=0.8)
        for cell, mean in cells.items():
            rows.append({"firm": firm, "cell": cell, "rating": mean + base + rng.normal(scale=0.7)})
    long = pd.DataFrame(rows)
    t = cell_contrasts(long, value="rating", cell="cell", subject="firm",
                       contrasts={"tk>ik": {"vn_tk": 1, "vn_ik": -1}, "vg>vn": {"vg_ik": 1, "vn_ik": -1}}
                       ).set_index("contrast")
    assert t.loc["tk>ik", "estimate"] == pytest.approx(1.0, abs=0.15)
    assert t.loc["vg>vn", "estimate"] == pytest.approx(0.6, abs=0.15)
    assert (t["pvalue"] < 1e-6).all() and (t["n.firms"] == 300).all()
    # a paired difference has the same point estimate in a balanced design
    wide = long.pivot(index="firm", columns="cell", values="rating")
    assert t.loc["tk>ik", "estimate"] == pytest.approx((wide.vn_tk - wide.vn_ik).mean(), abs=1e-6)


def test_adjusted_pvalues_closed_form():
    out = adjust_pvalues([0.01, 0.04, 0.03, np.nan])
    # Holm: sorted .01,.03,.04 -> .03, .06, .06 ; BH: .03, .04, .04
    np.testing.assert_allclose(out["pvalue.holm"][:3], [0.03, 0.06, 0.06])
    np.testing.assert_allclose(out["pvalue.bh"][:3], [0.03, 0.04, 0.04])
    assert np.isnan(out["pvalue.holm"][3])


def test_cluster_robust_inference_uses_t_with_g_minus_1_df(firms):
    """With 20 clusters the reference distribution is t(19), not the normal (closed-form CR1)."""
    t = ols(firms, "y", ["x1", "x2"], cluster="cluster").set_index("term")
    X = sm.add_constant(firms[["x1", "x2"]].to_numpy())
    y = firms["y"].to_numpy()
    n, k = X.shape
    bread = np.linalg.inv(X.T @ X)
    beta = bread @ X.T @ y
    e = y - X @ beta
    groups = firms["cluster"].to_numpy()
    g = len(np.unique(groups))
    meat = sum(np.outer(X[groups == c].T @ e[groups == c], X[groups == c].T @ e[groups == c])
               for c in np.unique(groups))
    cr1 = bread @ meat @ bread * g / (g - 1) * (n - 1) / (n - k)
    se = np.sqrt(np.diag(cr1))
    from scipy import stats
    assert t.loc["x2", "se.cluster"] == pytest.approx(se[2], rel=1e-10)
    assert t.loc["x2", "df.cluster"] == g - 1 == 19
    assert t.loc["x2", "pvalue.cluster"] == pytest.approx(2 * stats.t.sf(abs(beta[2] / se[2]), g - 1), rel=1e-10)
    assert t.loc["x2", "pvalue.cluster"] > 2 * stats.norm.sf(abs(beta[2] / se[2]))


def test_cluster_robust_count_model_uses_t(firms):
    t = count_regression(firms, "markets", ["x1"], cluster="cluster", family="poisson").iloc[0]
    from scipy import stats
    assert t["df"] == 19 and t["n.clusters"] == 20
    assert t["pvalue"] == pytest.approx(2 * stats.t.sf(abs(t["estimate"] / t["se"]), 19), rel=1e-8)
    plain = count_regression(firms, "markets", ["x1"], family="poisson").iloc[0]
    assert np.isnan(plain["df"])


def test_dispersion_test_is_cameron_trivedi_by_hand(firms):
    """The auxiliary regression ((y - mu)^2 - y) / mu = alpha mu + e (no intercept), one-sided z."""
    from scipy import stats
    t = count_regression(firms, "markets", ["x1"], family="poisson").iloc[0]
    y = firms["markets"].to_numpy(dtype=float)
    mu = sm.Poisson(y, sm.add_constant(firms[["x1"]])).fit(disp=False).predict()
    aux = ((y - mu) ** 2 - y) / mu
    alpha = np.sum(aux * mu) / np.sum(mu ** 2)
    se = np.sqrt(np.sum((aux - alpha * mu) ** 2) / (len(y) - 1) / np.sum(mu ** 2))
    assert t["dispersion.pvalue"] == pytest.approx(stats.norm.sf(alpha / se), rel=1e-6)

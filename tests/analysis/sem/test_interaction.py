import numpy as np
import pandas as pd
import pytest

from analysis.sem.fit import fit
from analysis.sem.interaction import interaction_syntax, product_indicators
from smecore.errors import DataError
from tests.analysis.conftest import REFERENCE


def test_matches_semtools_indprod(hs_data):
    ours = product_indicators(hs_data, ["x1", "x2", "x3"], ["x4", "x5", "x6"], sep=".")
    ref = pd.read_csv(REFERENCE.parent / "lavaan_extra" / "hs_indprod_dmc.csv")
    assert list(ours.columns) == list(ref.columns)
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), atol=1e-10)


def test_recovers_a_known_latent_interaction():
    """Y = .3 X + .2 Z + .25 XZ + e with three indicators per factor, N = 3000."""
    rng = np.random.default_rng(42)
    n = 3000
    xz = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], size=n)
    x, z = xz[:, 0], xz[:, 1]
    y = 0.3 * x + 0.2 * z + 0.25 * x * z + rng.normal(scale=0.8, size=n)
    data = {}
    for name, f in (("x", x), ("z", z), ("y", y)):
        for j, lam in enumerate((1.0, 0.8, 0.9), start=1):
            data[f"{name}{j}"] = lam * f + rng.normal(scale=0.5, size=n)
    df = pd.DataFrame(data)
    prods = product_indicators(df, ["x1", "x2", "x3"], ["z1", "z2", "z3"])
    model = "\n".join(["X =~ x1 + x2 + x3", "Z =~ z1 + z2 + z3", "Y =~ y1 + y2 + y3",
                       interaction_syntax("XZ", prods.columns), "Y ~ X + Z + XZ"])
    res = fit(model, pd.concat([df, prods], axis=1), estimator="MLR")
    est = res.parameters.set_index(["lhs", "op", "rhs"])
    b = est.loc[("Y", "~", "XZ")]
    assert b["est"] == pytest.approx(0.25, abs=0.05)
    assert b["ci.lower"] < 0.25 < b["ci.upper"]
    assert est.loc[("Y", "~", "X"), "est"] == pytest.approx(0.3, abs=0.05)


def test_missing_columns_are_named():
    with pytest.raises(DataError, match="z9"):
        product_indicators(pd.DataFrame({"x1": [1.0, 2.0]}), ["x1"], ["z9"])


def test_recovers_a_known_quadratic_effect():
    """Y = .3 X - .15 X^2 + e (H16's form), three indicators, N = 3000: the latent square by
    double-mean-centred product indicators recovers the curvature."""
    rng = np.random.default_rng(7)
    n = 3000
    x = rng.normal(size=n)
    y = 0.3 * x - 0.15 * (x ** 2 - 1) + rng.normal(scale=0.8, size=n)
    data = {}
    for name, f in (("x", x), ("y", y)):
        for j, lam in enumerate((1.0, 0.8, 0.9), start=1):
            data[f"{name}{j}"] = lam * f + rng.normal(scale=0.5, size=n)
    df = pd.DataFrame(data)
    prods = product_indicators(df, ["x1", "x2", "x3"], ["x1", "x2", "x3"])
    model = "\n".join(["X =~ x1 + x2 + x3", "Y =~ y1 + y2 + y3", interaction_syntax("XX", prods.columns),
                       "Y ~ X + XX"])
    res = fit(model, pd.concat([df, prods], axis=1), estimator="MLR")
    b = res.parameters.set_index(["lhs", "op", "rhs"]).loc[("Y", "~", "XX")]
    assert b["ci.lower"] < -0.15 < b["ci.upper"]
    assert b["est"] == pytest.approx(-0.15, abs=0.04)


def test_products_with_missing_values_are_pandas_arithmetic_to_the_last_bit():
    """The numpy path gives what the Series formula gives (NaN-skipping means, NaN products), integer
    columns included, and keeps the index."""
    rng = np.random.default_rng(3)
    n = 500
    df = pd.DataFrame({"a": rng.normal(2, 1.5, n), "b": rng.integers(1, 8, n), "c": rng.normal(-1, 3, n)},
                      index=np.arange(n) * 3 + 7)
    df.loc[rng.random(n) < 0.15, "a"] = np.nan
    df.loc[rng.random(n) < 0.1, "c"] = np.nan
    ours = product_indicators(df, ["a", "b"], ["c", "a"])
    for (x, z), col in zip((("a", "c"), ("b", "a")), ours.columns, strict=True):
        prod = (df[x] - df[x].mean()) * (df[z] - df[z].mean())
        expected = (prod - prod.mean()).to_numpy(dtype=float)
        np.testing.assert_array_equal(ours[col].to_numpy(), expected)
    assert ours.index.equals(df.index)
    assert ours.isna().sum().tolist() == [int((df["a"].isna() | df["c"].isna()).sum()), int(df["a"].isna().sum())]

import numpy as np
import pandas as pd
import pytest

from analysis.psychometrics.missingness import (
    little_mcar,
    missing_by_item,
    missing_by_module,
    missing_by_respondent,
    missing_patterns_table,
)
from smecore.errors import DataError


def _mvn(n, seed):
    rng = np.random.default_rng(seed)
    cov = np.array([[1, .5, .4], [.5, 1, .3], [.4, .3, 1]])
    return pd.DataFrame(rng.multivariate_normal(np.zeros(3), cov, size=n), columns=["a", "b", "c"])


def test_complete_data_has_one_pattern_and_no_degrees_of_freedom():
    res = little_mcar(_mvn(50, 0), ["a", "b", "c"]).iloc[0]
    assert res["n_patterns"] == 1 and res["df"] == 0 and res["statistic"] == pytest.approx(0.0, abs=1e-10)


def test_one_variable_closed_form():
    # p = 1: the ML mean is the mean of the observed values and the only pattern's mean, so d2 = 0, df = 0
    one = pd.DataFrame({"a": [1.0, 2.0, np.nan, 5.0]})
    res = little_mcar(one, ["a"]).iloc[0]
    assert res["df"] == 0 and res["statistic"] == pytest.approx(0.0, abs=1e-12)


def test_mcar_is_not_rejected_and_mar_is():
    ps_mcar, ps_mar = [], []
    for seed in range(20):
        d = _mvn(300, seed)
        rng = np.random.default_rng(100 + seed)
        mcar = d.copy()
        mcar.loc[rng.random(300) < 0.3, "b"] = np.nan
        ps_mcar.append(little_mcar(mcar, ["a", "b", "c"]).iloc[0]["p"])
        mar = d.copy()
        mar.loc[d["a"] > 0.3, "b"] = np.nan  # missingness depends on the observed a
        ps_mar.append(little_mcar(mar, ["a", "b", "c"]).iloc[0]["p"])
    assert max(ps_mar) < 1e-6
    assert np.mean(np.array(ps_mcar) < 0.05) <= 0.15 and np.mean(ps_mcar) > 0.3


def test_summaries_and_pattern_matrix():
    df = pd.DataFrame({"x": [1, np.nan, 3, np.nan], "y": [1, 2, np.nan, 4], "z": [1, 2, 3, 4]}, dtype=float)
    by_item = missing_by_item(df, ["x", "y", "z"])
    assert by_item["n_missing"].tolist() == [2, 1, 0]
    assert missing_by_respondent(df, ["x", "y", "z"])["n_missing"].tolist() == [0, 1, 1, 1]
    mod = missing_by_module(df, {"m1": ["x", "y"], "m2": ["z"]})
    assert mod["share_missing"].tolist() == [3 / 8, 0.0]
    pat = missing_patterns_table(df, ["x", "y", "z"])
    assert pat.iloc[0][["x", "y", "z", "n"]].tolist() == [0, 1, 1, 2]
    assert pat["n"].sum() == 4
    with pytest.raises(DataError, match="nope"):
        missing_by_item(df, ["nope"])


def test_airquality_matches_naniar_mcar_test():
    from pathlib import Path
    data = pd.read_csv(Path(__file__).parents[2] / "results" / "mcar" / "airquality.csv")
    res = little_mcar(data, list(data.columns)).iloc[0]
    assert res["statistic"] == pytest.approx(35.1, abs=0.05)
    assert res["df"] == 14 and res["n_patterns"] == 4
    assert res["p"] == pytest.approx(0.00142, abs=5e-6)

import numpy as np
import pandas as pd
import pytest

from analysis.sem.fit import fit
from tests.analysis.conftest import HS_MODEL, read_reference
from tests.analysis.sem.test_fit_reference import EXTRA, GROWTH, GROWTH_COV, MIMIC

# lavaan modindices(fit) with its defaults, written by tests/results/lavaan_extra/make_fitcore.R
MI_CASES = {
    "hs1939_cfa_ML": (HS_MODEL, "HolzingerSwineford1939.csv", {}),
    "hs_metric_ML": (HS_MODEL, "HolzingerSwineford1939.csv", {"group": "school", "group_equal": ["loadings"]}),
    "growth_linear_ML": (GROWTH, "demo_growth.csv", {"model_type": "growth"}),
    "growth_cov_ML": (GROWTH_COV, "demo_growth.csv", {"model_type": "growth"}),
    "hs_mimic_ML": (MIMIC, "HolzingerSwineford1939.csv", {}),
}
KEY = ["lhs", "op", "rhs", "group"]


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(EXTRA / name) if (EXTRA / name).exists() else read_reference(name)


@pytest.fixture(scope="module")
def mi_pairs() -> dict:
    cache: dict = {}

    def get(case: str):
        if case not in cache:
            model, data, kw = MI_CASES[case]
            res = fit(model, _data(data), **kw)
            ref = pd.read_csv(EXTRA / f"{case}_modindices.csv")
            if "group" not in ref:
                ref["group"] = 1
            ref["rhs"] = ref["rhs"].fillna("")
            cache[case] = (res, res.modindices(sort=False), ref[KEY + ["mi", "epc", "sepc.lv", "sepc.all",
                                                                         "sepc.nox"]])
        return cache[case]

    return get


def _covariate_moments(ref: pd.DataFrame, res) -> pd.Series:
    """lavaan rows for the (co)variances / means of fixed.x covariates: sample moments, whose
    score is exactly zero; lavaan lists some of them with mi ~ 1e-31 (rounding noise)."""
    x = set(res.partable.variables.ov_x)
    return ref["op"].isin(["~~", "~1"]) & ref["lhs"].isin(x) & (ref["rhs"].isin(x) | (ref["op"] == "~1"))


@pytest.mark.parametrize("case", list(MI_CASES))
def test_same_rows_as_lavaan_in_lavaans_order(mi_pairs, case):
    res, ours, ref = mi_pairs(case)
    noise = _covariate_moments(ref, res)
    assert (ref.loc[noise, "mi"] < 1e-20).all()
    ref = ref[~noise]
    assert list(map(tuple, ours[KEY].to_numpy())) == list(map(tuple, ref[KEY].to_numpy()))


@pytest.mark.parametrize("case", list(MI_CASES))
@pytest.mark.parametrize(("column", "tol"), [("mi", 1e-3), ("epc", 1e-4), ("sepc.lv", 1e-4),
                                             ("sepc.all", 1e-4), ("sepc.nox", 1e-4)])
def test_values_match_lavaan(mi_pairs, case, column, tol):
    _, ours, ref = mi_pairs(case)
    m = ours.merge(ref, on=KEY, suffixes=("", "_ref"))
    assert len(m) == len(ours)
    both = m[column + "_ref"].notna()
    np.testing.assert_allclose(m.loc[both, column], m.loc[both, column + "_ref"], atol=tol, rtol=0)


def test_fixed_nonzero_parameters_are_tested(mi_pairs):
    """Marker loadings of a multi-group model, every fixed loading and intercept of a growth model."""
    _, ours, _ = mi_pairs("hs_metric_ML")
    markers = ours[(ours["op"] == "=~") & ours["rhs"].isin(["x1", "x4", "x7"])
                   & (ours["lhs"] == ours["rhs"].map({"x1": "visual", "x4": "textual", "x7": "speed"}))]
    assert len(markers) == 6
    _, ours, _ = mi_pairs("growth_cov_ML")
    assert len(ours[ours["op"] == "=~"]) == 8 and len(ours[ours["op"] == "~1"]) == 4
    assert not ours["lhs"].isin(["x1", "x2"]).any()


def test_top_ten_match_lavaan(hs_data):
    ours = fit(HS_MODEL, hs_data).modindices()
    ref = read_reference("hs1939_cfa_ML_modindices_top10.csv")
    top = ours.head(10)
    assert list(zip(top["lhs"], top["op"], top["rhs"])) == list(zip(ref["lhs"], ref["op"], ref["rhs"]))
    for col, tol in (("mi", 1e-3), ("epc", 1e-4), ("sepc.lv", 1e-4), ("sepc.all", 1e-4)):
        assert top[col].to_numpy() == pytest.approx(ref[col].to_numpy(), abs=tol), col


def test_free_parameters_are_not_listed_and_minimum_filters(hs_data):
    mi = fit(HS_MODEL, hs_data).modindices(minimum=10)
    assert (mi["mi"] > 10).all() and len(mi) == 4
    assert not ((mi["lhs"] == "visual") & (mi["op"] == "=~") & (mi["rhs"] == "x2")).any()

import pytest

from analysis.sem.fit import fit
from tests.analysis.conftest import HS_MODEL, read_reference


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

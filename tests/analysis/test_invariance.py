import pytest

from analysis.invariance import INVARIANCE_COLUMNS, measurement_invariance
from smesurvey.errors import OptionError
from tests.analysis.conftest import HS_MODEL, read_reference


def _ref(level):
    return read_reference(f"hs1939_cfa_ML_group_school_{level}_fit.csv").set_index("measure")["value"]


def test_sequence_matches_lavaan(hs_data):
    res = measurement_invariance(HS_MODEL, hs_data, "school", levels=("configural", "metric", "scalar"))
    t = res.table.set_index("level")
    assert list(res.table.columns) == list(INVARIANCE_COLUMNS)
    for level in ("configural", "metric", "scalar"):
        assert t.loc[level, "chisq"] == pytest.approx(_ref(level)["chisq"], rel=1e-4)
        assert t.loc[level, "df"] == _ref(level)["df"]
    assert t.loc["metric", "delta.chisq"] == pytest.approx(_ref("metric")["chisq"] - _ref("configural")["chisq"], rel=1e-4)
    assert t.loc["metric", "delta.df"] == 6
    assert t.loc["metric", "delta.cfi"] == pytest.approx(_ref("metric")["cfi"] - _ref("configural")["cfi"], abs=1e-5)
    # textbook result for these data: metric invariance holds, scalar does not
    assert t.loc["metric", "invariant"] and not t.loc["scalar", "invariant"]


def test_strict_level_and_robust_difference_run(hs_data):
    res = measurement_invariance(HS_MODEL, hs_data, "school", estimator="MLR")
    t = res.table.set_index("level")
    assert list(t.index) == ["configural", "metric", "scalar", "strict"]
    assert t.loc["strict", "df"] == t.loc["scalar", "df"] + 9
    assert t["delta.chisq"].iloc[1:].gt(0).all()


def test_unknown_level(hs_data):
    with pytest.raises(OptionError, match="weak"):
        measurement_invariance(HS_MODEL, hs_data, "school", levels=("configural", "weak"))

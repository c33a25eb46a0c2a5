import numpy as np
import pandas as pd
import pytest

from analysis.sem.invariance import INVARIANCE_COLUMNS, measurement_invariance
from smecore.errors import HeywoodCaseWarning, OptionError
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


def _intercept_shift_data(n: int = 400, seed: int = 11) -> pd.DataFrame:
    """Two groups, one factor, equal loadings and residual variances; item y1's intercept is 0.6 higher
    in group b: scalar invariance fails clearly, strict's own comparison (residuals) has nothing to find."""
    rng = np.random.default_rng(seed)
    frames = []
    for g, shift in (("a", 0.0), ("b", 0.6)):
        f = rng.normal(size=n)
        y = {f"y{k}": 0.8 * f + 0.6 * rng.normal(size=n) for k in range(1, 5)}
        y["y1"] = y["y1"] + shift
        frames.append(pd.DataFrame(y).assign(grp=g))
    return pd.concat(frames, ignore_index=True)


def test_a_level_holds_only_if_every_level_below_holds():
    res = measurement_invariance("F =~ y1 + y2 + y3 + y4", _intercept_shift_data(), "grp")
    t = res.table.set_index("level")
    # the construction: scalar fails its comparison, strict passes its own (residuals equal in the population)
    assert not t.loc["scalar", "comparison.ok"] and t.loc["scalar", "delta.pvalue"] < 1e-6
    assert t.loc["strict", "comparison.ok"] and t.loc["strict", "delta.pvalue"] > 0.05
    assert t.loc["metric", "invariant"]
    assert not t.loc["scalar", "invariant"]
    assert not t.loc["strict", "invariant"]  # cannot hold above a failed scalar level


def test_strict_on_hs39_does_not_hold_above_failed_scalar(hs_data):
    """HS39 by school: strict's own comparison passes the fit-index rule (CFI -0.009), scalar fails."""
    t = measurement_invariance(HS_MODEL, hs_data, "school").table.set_index("level")
    assert not t.loc["scalar", "comparison.ok"] and t.loc["strict", "comparison.ok"]
    assert list(t["invariant"].iloc[1:]) == [True, False, False]


@pytest.mark.parametrize("kw", [{}, {"estimator": "MLR", "missing": "fiml"}])
def test_fit_many_equals_separate_fits(kw):
    """fit_many (one data preparation, EM, h1 information and baseline for all levels) gives
    exactly what separate fit() calls give."""
    from analysis.sem.fit import fit, fit_many

    data = read_reference("HolzingerSwineford1939_missing10.csv" if kw else "HolzingerSwineford1939.csv")
    levels = [(), ("loadings",), ("loadings", "intercepts")]
    many = fit_many(HS_MODEL, data, [{"group_equal": lv} for lv in levels], group="school", **kw)
    for lv, res in zip(levels, many):
        alone = fit(HS_MODEL, data, group="school", group_equal=lv, **kw)
        pd.testing.assert_frame_equal(res.parameters, alone.parameters)
        assert res.fit_measures == pytest.approx(alone.fit_measures, nan_ok=True)


def _heywood_groups(n: int = 400, seed: int = 5) -> pd.DataFrame:
    """Two groups from a population whose one-factor model needs a negative residual variance:
    r12 = r13 = .8, r23 = .5 give lambda1^2 = .8 * .8 / .5 = 1.28 > var(x1) = 1 (Heywood by design)."""
    cov = np.array([[1, .8, .8], [.8, 1, .5], [.8, .5, 1]])
    rng = np.random.default_rng(seed)
    x = rng.multivariate_normal(np.zeros(3), cov, size=2 * n)
    return pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "g": np.repeat([1, 2], n)})


def test_stop_when_improper_ends_the_sequence_at_an_improper_level():
    data = _heywood_groups()
    model = "F =~ x1 + x2 + x3"
    with pytest.warns(HeywoodCaseWarning, match="x1 ~~ x1"):
        full = measurement_invariance(model, data, "g", levels=("configural", "metric", "scalar"))
    assert list(full.table["level"]) == ["configural", "metric", "scalar"] and full.stopped == ""
    conf = full.fits["configural"]
    assert not conf.proper
    assert conf.improper[0].startswith("negative variance x1 ~~ x1 = -")
    assert all(v < 0 for v in conf.parameters.query("lhs == 'x1' and op == '~~' and rhs == 'x1'")["est"])
    with pytest.warns(HeywoodCaseWarning, match="x1 ~~ x1"):
        early = measurement_invariance(model, data, "g", levels=("configural", "metric", "scalar"),
                                       stop_when_improper=True)
    assert list(early.table["level"]) == ["configural"] and list(early.fits) == ["configural"]
    assert early.stopped.startswith("the configural model's solution is improper (negative variance x1 ~~ x1")
    assert early.stopped.endswith("so metric, scalar were not tested")
    pd.testing.assert_frame_equal(early.table, full.table.iloc[:1])


def test_a_proper_sequence_is_not_stopped(hs_data):
    res = measurement_invariance(HS_MODEL, hs_data, "school", levels=("configural", "metric"),
                                 stop_when_improper=True)
    assert list(res.table["level"]) == ["configural", "metric"] and res.stopped == ""
    assert all(f.proper and f.improper == () for f in res.fits.values())

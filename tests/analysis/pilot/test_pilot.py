"""The pilot workflow, each statistic checked against an independent computation (numpy/scipy closed
forms, statsmodels' factor analysis), the cut rules on data with a known weak item and a known method
factor, completion times, reproducibility and escaping of the report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.multivariate.factor import Factor

from analysis.pilot.pilot import module_efa, omega_one_factor, pilot, step6_times
from analysis.pilot.report import write_pilot
from analysis.pilot.thresholds import PilotThresholds
from instrument import load_instrument
from synthetic_data.generate import generate
from tests.analysis.conftest import read_reference


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


@pytest.fixture(scope="module")
def gen():
    return generate(world="theory", n=90, seed=5, modules=["M2", "M4"])


@pytest.fixture(scope="module")
def result(gen, inst):
    return pilot(gen.data, instrument=inst, source="pilot.csv")


def test_item_descriptives_match_pandas_and_scipy(result, inst):
    kept = result.screening.kept
    for item in ("lv_1", "lock_2", "inn_3"):
        row = result.items.set_index("item").loc[item]
        x = pd.to_numeric(kept[item], errors="coerce").dropna()
        assert row["answered"] == len(x)
        assert row["missing.share"] == pytest.approx(1 - len(x) / len(kept))
        assert row["mean"] == pytest.approx(x.mean())
        assert row["sd"] == pytest.approx(x.std(ddof=1))
        assert row["skew"] == pytest.approx(x.skew())  # pandas: bias-corrected, as SPSS
        assert row["kurtosis"] == pytest.approx(x.kurt())
        assert row["floor"] == pytest.approx((x == 1).mean())
        assert row["ceiling"] == pytest.approx((x == 7).mean())
    dist = result.distributions[result.distributions["item"] == "lv_1"]
    assert dist["n"].sum() == result.items.set_index("item").loc["lv_1", "answered"]


def test_item_rest_and_alpha_if_deleted_from_closed_forms(result):
    """Reverse-scored items, listwise: r with the sum of the other items; alpha of the others."""
    data = result.scored.data
    items = result.scored.constructs["INN"]
    x = data[items].apply(pd.to_numeric).dropna().to_numpy(float)

    def alpha(m):
        k = m.shape[1]
        return k / (k - 1) * (1 - m.var(axis=0, ddof=1).sum() / m.sum(axis=1).var(ddof=1))

    table = result.items.set_index("item")
    for j, item in enumerate(items):
        rest = np.delete(x, j, axis=1)
        assert table.loc[item, "r.drop"] == pytest.approx(np.corrcoef(x[:, j], rest.sum(axis=1))[0, 1])
        assert table.loc[item, "alpha.if.deleted"] == pytest.approx(alpha(rest))
    assert result.constructs.set_index("construct").loc["INN", "alpha"] == pytest.approx(alpha(x))


def test_reverse_keyed_items_enter_reverse_scored(result, inst):
    reverse = [it.id for c in inst.constructs.values() for it in c.items if it.reverse and it.id in result.items["item"].values]
    assert reverse, "the fixture needs a reverse-keyed item"
    for item in reverse:  # as answered, a reverse-keyed item correlates negatively with its scale
        assert result.items.set_index("item").loc[item, "r.drop"] > 0


def test_omega_one_factor_equals_statsmodels_ml_factor(hs_data):
    """Complete data: omega of our one-factor CFA equals the closed form from statsmodels' ML factor
    analysis (standardized loadings l, SDs s): (sum l s)^2 / ((sum l s)^2 + sum (1 - l^2) s^2)."""
    items = ["x4", "x5", "x6", "x7"]
    x = hs_data[items].to_numpy(float)
    fa = Factor(x, n_factor=1, method="ml").fit()
    lam = np.abs(np.asarray(fa.loadings)[:, 0])
    s = x.std(axis=0)
    expected = (lam @ s) ** 2 / ((lam @ s) ** 2 + np.sum((1 - lam ** 2) * s ** 2))
    assert omega_one_factor(hs_data, items) == pytest.approx(expected, abs=2e-3)


def _factor_data(n: int, seed: int, weak: float | None = None, method: float = 0.0) -> pd.DataFrame:
    """Three correlated factors A, B, C with four items each on a 1-7 scale; ``weak``: loading of c_4;
    ``method``: loading of a_4 and b_4 (reverse-keyed, already reverse-scored) on a shared method factor."""
    rng = np.random.default_rng(seed)
    phi = np.array([[1, .3, .3], [.3, 1, .3], [.3, .3, 1]])
    eta = rng.multivariate_normal(np.zeros(3), phi, size=n)
    m = rng.standard_normal(n)
    cols = {}
    for f, name in enumerate("abc"):
        for k in range(1, 5):
            lam = weak if (name, k) == ("c", 4) and weak is not None else 0.75
            extra = method if k == 4 and name in "ab" else 0.0
            e = np.sqrt(max(1 - lam ** 2 - extra ** 2, 0.05))
            y = lam * eta[:, f] + extra * m + e * rng.standard_normal(n)
            cols[f"{name}_{k}"] = np.clip(np.round(4 + 1.3 * y), 1, 7)
    return pd.DataFrame(cols)


CONSTRUCTS = {"A": ["a_1", "a_2", "a_3", "a_4"], "B": ["b_1", "b_2", "b_3", "b_4"], "C": ["c_1", "c_2", "c_3", "c_4"]}


def test_reverse_keyed_method_factor_is_flagged():
    data = _factor_data(600, 1, method=0.65)
    res = module_efa(data, CONSTRUCTS, {"a_4", "b_4"}, PilotThresholds(parallel_iterations=30))
    for item in ("a_4", "b_4"):
        rules = dict(res.flags[item])
        assert "unexpected_factor" in rules and "method factor" in rules["unexpected_factor"]
    assert "method factor" in res.note
    assert not any(rule == "unexpected_factor" for i in ("a_1", "b_2", "c_3") for rule, _ in res.flags[i])


def test_clean_three_factor_data_raise_no_efa_flag():
    res = module_efa(_factor_data(600, 2), CONSTRUCTS, set(), PilotThresholds(parallel_iterations=30))
    assert res.loadings.shape[1] == 3 and res.suggested == 3
    assert all(not f for f in res.flags.values())


def test_weak_item_flagged_and_loading_reason():
    res = module_efa(_factor_data(600, 3, weak=0.2), CONSTRUCTS, set(), PilotThresholds(parallel_iterations=30))
    assert [rule for rule, _ in res.flags["c_4"]] == ["loading"]
    assert "< 0.40" in res.flags["c_4"][0][1]


def test_cuts_stop_at_min_items(result):
    th = PilotThresholds(item_total=0.99, cut_rules=("item_total",))  # every item fails the rule
    r = pilot(result.screening.kept.reset_index(drop=True), thresholds=th, modules=["M2"])
    per = r.items[r.items["construct"].isin(r.constructs["construct"])].groupby("construct")["action"]
    for c, actions in per:
        n = len(actions)
        assert (actions == "cut").sum() == n - 3, c
        assert (actions == "flagged, kept").sum() == 3
    row = r.constructs[r.constructs["items"] > 3].iloc[0]
    assert row["items.after"] == 3 and len(row["cut"].split(", ")) == row["items"] - 3
    kept = [i for i in r.scored.constructs[row["construct"]] if i not in row["cut"].split(", ")]
    x = r.scored.data[kept].apply(pd.to_numeric).dropna()
    k = len(kept)
    expected = k / (k - 1) * (1 - x.var().sum() / x.sum(axis=1).var())
    assert row["alpha.after"] == pytest.approx(expected)


def test_a_rule_outside_cut_rules_only_flags(result):
    th = PilotThresholds(floor_ceiling=0.0, cut_rules=("missing",), missing=1.0)
    r = pilot(result.screening.kept.reset_index(drop=True), thresholds=th, modules=["M2"])
    assert (r.cuts["action"] != "cut").all() and len(r.cuts) == len(r.items)
    assert r.cuts["reasons"].str.contains("flag only").all()


def test_completion_times(inst):
    kept = pd.DataFrame({"duration_sec": [600.0, 900.0, 1200.0], "lv_1": [1, 2, 3]})
    est = inst.select(["M2"]).completion_time()["seconds"].iloc[-1]
    t, _ = step6_times(kept, inst.select(["M2"]), ["lv_1", "lv_2"], None)
    t = t.set_index("measure")
    assert t.iloc[0]["before"] == pytest.approx(est / 60)
    assert t.iloc[0]["after"] == pytest.approx((est - 12) / 60)  # 6 s per Likert item
    obs = t.loc["observed median (duration_sec)"]
    assert obs["before"] == pytest.approx(15.0) and obs["after"] == pytest.approx(15.0 * (est - 12) / est)
    # the page as fielded: M2's 16 items and the attention check placed there
    k = sum(len(b.variables) for s in inst.select(["M2"]).sections() if s.module == "M2" and not s.closing
            for b in s.blocks)
    pages = pd.DataFrame({"M2": [160.0, 320.0, 480.0]})  # median 320 s on the page
    t, p = step6_times(kept, inst.select(["M2"]), ["lv_1", "lv_2"], pages)
    assert p.set_index("page").loc["M2", "seconds.per.item"] == pytest.approx(320 / k)
    assert t.set_index("measure").loc["observed median (duration_sec)", "after"] == \
        pytest.approx((900 - 2 * 320 / k) / 60)


def test_outputs_are_reproducible_and_escaped(gen, inst, tmp_path):
    data = gen.data.copy()
    r = pilot(data, instrument=inst, modules=["M2"], source="<script>alert(1)</script>.csv")
    a = write_pilot(r, tmp_path / "a")
    b = write_pilot(pilot(data, instrument=inst, modules=["M2"], source="<script>alert(1)</script>.csv"),
                    tmp_path / "b")
    assert [p.name for p in a] == [p.name for p in b]
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    html = (tmp_path / "a" / "pilot.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<svg" in html and not any(f'{a}="http' in html for a in ("src", "href"))  # nothing fetched
    cuts = pd.read_csv(tmp_path / "a" / "pilot_cuts.csv")
    assert list(cuts.columns) == ["module", "construct", "item", "action", "reasons"]


def test_refuses_data_without_items(inst):
    from smecore.errors import DataError
    with pytest.raises(DataError, match="no questionnaire items"):
        pilot(pd.DataFrame({"firm_employees": [1, 2]}), instrument=inst, source="x.csv")


def test_hs_reference_fixture_available():
    assert len(read_reference("HolzingerSwineford1939.csv")) == 301

import numpy as np
import pandas as pd
import pytest

from analysis.psychometrics.screening import ScreeningRules, longstring, screen

ITEMS = [f"q{i}" for i in range(12)]


@pytest.fixture()
def responses():
    rng = np.random.default_rng(0)
    base = rng.integers(1, 8, size=(8, 12)).astype(float)
    df = pd.DataFrame(base, columns=ITEMS)
    df["id"] = [f"r{i}" for i in range(8)]
    df["attn"] = 2.0
    df["seconds"] = 300.0
    df.loc[1, ITEMS] = 4.0                      # straight-liner
    df.loc[2, "attn"] = 6.0                     # failed attention check
    df.loc[3, "seconds"] = 10.0                 # speeder (12 items x 2 s = 24 s)
    df.loc[4, ITEMS[:9]] = np.nan               # partial: 3 of 12 answered
    df.loc[5, "id"] = "r0"                      # duplicate of row 0
    return df


def test_each_rule_excludes_its_row_with_a_reason(responses):
    before = responses.copy()
    res = screen(responses, likert=ITEMS, id_column="id", attention={"attn": 2}, duration_column="seconds",
                 rules=ScreeningRules(mahalanobis_alpha=None))
    got = res.log.set_index("row")["rule"].to_dict()
    assert got == {1: "straightline", 2: "attention", 3: "speeder", 4: "partial", 5: "duplicate"}
    assert list(res.kept.index) == [0, 6, 7]
    assert len(res.kept) + res.log["row"].nunique() == len(responses)  # no row lost
    pd.testing.assert_frame_equal(responses, before)
    assert set(res.summary()["rule"]) == {"straightline", "attention", "speeder", "partial", "duplicate"}


def test_rules_can_be_switched_off(responses):
    res = screen(responses, likert=ITEMS, rules=ScreeningRules(min_answered=None, seconds_per_item=None,
                                                               max_longstring_share=None, mahalanobis_alpha=None))
    assert res.log.empty and len(res.kept) == len(responses)


def test_longstring_counts_runs_and_breaks_on_missing():
    vals = np.array([[1, 1, 2, 2, 2, np.nan, 2, 2], [3, 3, 3, 3, 3, 3, 3, 3]], dtype=float)
    assert list(longstring(vals)) == [3, 8]


def test_mahalanobis_outlier_is_flagged_not_excluded():
    rng = np.random.default_rng(1)
    cov = 0.6 * np.ones((12, 12)) + 0.4 * np.eye(12)
    x = rng.multivariate_normal(np.zeros(12), cov, size=300)
    x[0] = np.tile([3.0, -3.0], 6)  # violates the strong positive correlations
    df = pd.DataFrame(x, columns=ITEMS)
    res = screen(df, likert=ITEMS, rules=ScreeningRules(min_answered=None, max_longstring_share=None))
    flagged = res.log[res.log["rule"] == "outlier"]
    assert 0 in set(flagged["row"]) and not flagged["excluded"].any()
    assert 0 in res.kept.index

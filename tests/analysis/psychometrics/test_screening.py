from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis.psychometrics.screening import ScreeningRules, longstring, screen, screen_instrument
from smecore.errors import DataError

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


# --- indices against closed-form hand computations (R's careless is not in Debian: no R reference) ---

from analysis.psychometrics.screening import (  # noqa: E402
    evenodd,
    irv,
    mahalanobis_d2,
    mahalanobis_pvalues,
    page_speeders,
    psychsyn,
    speeders,
    synonym_pairs,
)


def test_irv_is_the_within_person_sd_with_n_minus_1():
    vals = np.array([[1, 2, 3], [4, 4, 4], [1, np.nan, 3], [5, np.nan, np.nan]], dtype=float)
    got = irv(vals)
    np.testing.assert_allclose(got[:3], [1.0, 0.0, np.sqrt(2.0)], atol=1e-12)
    assert np.isnan(got[3])


def test_mahalanobis_d2_one_item_is_squared_z_and_sums_to_n_minus_1_times_p():
    x = np.array([[1.0], [2.0], [3.0], [4.0]])  # mean 2.5, var 5/3
    np.testing.assert_allclose(mahalanobis_d2(x), np.array([2.25, 0.25, 0.25, 2.25]) / (5 / 3), atol=1e-12)
    rng = np.random.default_rng(3)
    y = rng.normal(size=(40, 3))
    y[5, 1] = np.nan
    d2 = mahalanobis_d2(y)
    assert np.isnan(d2[5])
    np.testing.assert_allclose(np.nansum(d2), (39 - 1) * 3, rtol=1e-10)  # sum D2 = (n - 1) p
    np.testing.assert_allclose(mahalanobis_pvalues(y)[0], 1 - __import__("scipy").stats.chi2.cdf(d2[0], 3))


def test_evenodd_hand_computed_with_and_without_spearman_brown():
    # three scales of two items: odd halves (1, 2, 3), even halves (1, 3, 2): r = 0.5, SB = 2(.5)/1.5
    row = np.array([[1, 1, 2, 3, 3, 2]], dtype=float)
    scales = [[0, 1], [2, 3], [4, 5]]
    np.testing.assert_allclose(evenodd(row, scales, spearman_brown=False), [0.5])
    np.testing.assert_allclose(evenodd(row, scales), [2 / 3])
    assert not np.isnan(evenodd(row, [[0, 1], [2, 3]], spearman_brown=False)[0])  # two scales: r = +-1
    assert np.isnan(evenodd(row, [[0, 1]])[0])  # one scale: undefined


def _paired_sample(n=200, seed=4):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 3))
    x = np.empty((n, 6))
    for j in range(3):
        x[:, 2 * j] = f[:, j] + 0.3 * rng.normal(size=n)
        x[:, 2 * j + 1] = f[:, j] + 0.3 * rng.normal(size=n)
    return x


def test_psychsyn_pairs_and_within_person_correlation():
    x = _paired_sample()
    assert synonym_pairs(x, 0.6) == [(0, 1), (2, 3), (4, 5)]
    x[0] = [1, 2, 5, 4, 3, 3]   # firsts (1, 5, 3) vs seconds (2, 4, 3): r = 1
    x[1] = [1, 5, 5, 1, 3, 3]   # firsts (1, 5, 3) vs seconds (5, 1, 3): r = -1
    got = psychsyn(x, 0.6)
    np.testing.assert_allclose(got[:2], [1.0, -1.0], atol=1e-12)


def test_psychant_uses_negatively_correlated_pairs_from_reverse_keyed_items():
    x = _paired_sample()
    x[:, [1, 3, 5]] = -x[:, [1, 3, 5]]  # reverse-keyed partners
    assert synonym_pairs(x, 0.6) == []
    assert synonym_pairs(x, 0.6, antonyms=True) == [(0, 1), (2, 3), (4, 5)]
    x[0] = [1, -2, 5, -4, 3, -3]
    assert psychsyn(x, 0.6, antonyms=True)[0] == pytest.approx(-1.0)
    assert np.isnan(psychsyn(x, 0.6)).all()  # no synonym pairs at all


def test_speeders_total_and_per_page():
    assert list(speeders(np.array([10.0, 30.0, np.nan]), np.array([12, 12, 12]))) == [True, False, False]
    pages = pd.DataFrame({"p1": [5.0, 20.0], "p2": [30.0, 3.0]})
    got = page_speeders(pages, {"p1": 4, "p2": 2})
    assert got["p1"].tolist() == [True, False] and got["p2"].tolist() == [False, True]
    assert got["pages_sped"].tolist() == [1, 1]


def test_new_indices_flag_by_default_and_exclude_when_configured():
    x = _paired_sample(n=120)
    cols = [f"i{j}" for j in range(6)]
    df = pd.DataFrame(np.round(x * 1.2 + 4), columns=cols)
    df.loc[0, cols] = [1, 7, 7, 1, 1, 7]  # contradicts every synonym pair
    scales = {"a": cols[:2], "b": cols[2:4], "c": cols[4:]}
    res = screen(df, likert=cols, scales=scales, rules=ScreeningRules(min_answered=None, mahalanobis_alpha=None))
    row0 = res.log[res.log["row"] == 0]
    assert {"psychsyn", "evenodd"} <= set(row0["rule"]) and not row0["excluded"].any()
    assert 0 in res.kept.index
    assert res.indices.loc[0, "psychsyn"] == pytest.approx(-1.0)
    strict = ScreeningRules(min_answered=None, mahalanobis_alpha=None,
                            exclude=ScreeningRules().exclude | {"psychsyn"})
    res2 = screen(df, likert=cols, scales=scales, rules=strict)
    assert 0 not in res2.kept.index
    assert set(ScreeningRules().table()["action"]) == {"exclude", "flag"}


def test_evenodd_bounded_at_minus_one_as_careless():
    # odd halves (1, 2, 3), even halves (3, 2.1, 1): r = -0.996..., 2r / (1 + r) would be about -500
    row = np.array([[1, 3, 2, 2.1, 3, 1]], dtype=float)
    scales = [[0, 1], [2, 3], [4, 5]]
    r = evenodd(row, scales, spearman_brown=False)[0]
    assert r < -0.99 and 2 * r / (1 + r) < -100
    assert evenodd(row, scales)[0] == -1.0


def test_screen_reverse_scores_reverse_keyed_items_for_evenodd_only():
    # a consistent respondent: levels 2, 4, 6 on three scales, the second item of each reverse-keyed (1-7)
    cols = [f"i{j}" for j in range(6)]
    df = pd.DataFrame([[2, 6, 4, 4, 6, 2]], columns=cols, dtype=float)
    scales = {"a": cols[:2], "b": cols[2:4], "c": cols[4:]}
    rules = ScreeningRules(min_answered=None, mahalanobis_alpha=None)
    as_given = screen(df, likert=cols, scales=scales, rules=rules)
    keyed = screen(df, likert=cols, scales=scales, rules=rules, reverse={c: 8 for c in cols[1::2]})
    assert as_given.indices.loc[0, "evenodd"] == -1.0  # halves disagree by design when not reversed
    assert keyed.indices.loc[0, "evenodd"] == pytest.approx(1.0)
    assert keyed.indices.loc[0, "irv"] == as_given.indices.loc[0, "irv"]  # other indices read answers as given
    assert "evenodd" in set(as_given.log["rule"]) and "evenodd" not in set(keyed.log["rule"])


def test_screen_instrument_reads_roles_and_reverse_keys_from_the_instrument():
    from instrument import load_instrument

    inst = load_instrument().select(["M1", "M2"])
    rows = []
    for level in (2, 3, 5, 6):
        row = {}
        for k, c in enumerate(inst.constructs.values()):
            points = [p.value for p in inst.scales[c.scale].points]
            lv = min(max(level + (k % 3) - 1, min(points)), max(points))  # construct levels differ
            for it in c.items:
                row[it.id] = min(points) + max(points) - lv if it.reverse else lv
        rows.append(row)
    df = pd.DataFrame(rows, dtype=float)
    assert any(it.reverse for c in inst.constructs.values() for it in c.items if it.id in df.columns)
    res = screen_instrument(df, inst, ScreeningRules(min_answered=None, mahalanobis_alpha=None))
    np.testing.assert_allclose(res.indices["evenodd"].to_numpy(), 1.0)


# -- page_speeder ------------------------------------------------------------------------------
PAGES = {f"P{k}": [f"p{k}a", f"p{k}b"] for k in range(1, 6)}  # 5 pages of 2 items: threshold 4 s a page


@pytest.fixture()
def paged():
    items = [c for cs in PAGES.values() for c in cs]
    data = pd.DataFrame(np.tile([1.0, 3.0], (4, 5)), columns=items)
    data["id"] = ["a", "b", "c", "d"]
    secs = pd.DataFrame({"P1": [1.0, 1.0, 1.0, 10.0], "P2": [1.0, 1.0, 1.0, 10.0], "P3": [1.0, 10.0, np.nan, 10.0],
                         "P4": [10.0, 10.0, np.nan, 10.0], "P5": [10.0, 10.0, 10.0, 3.9]})
    return data, items, secs


def test_page_speeder_closed_form(paged):
    data, items, secs = paged
    res = screen(data, likert=items, id_column="id", page_seconds=secs, page_items=PAGES,
                 rules=ScreeningRules(mahalanobis_alpha=None, max_longstring_share=None))
    # a: 3 of 5 pages below 4 s (60% > 50%) flagged; b: 2 of 5 (40%) not; c: 2 of 3 timed (67%) flagged;
    # d: 1 of 5 (3.9 s < 4 s) not
    assert res.indices["pages_sped"].tolist() == [3, 2, 2, 1]
    assert res.indices["pages_timed"].tolist() == [5, 5, 3, 5]
    log = res.log[res.log["rule"] == "page_speeder"]
    assert log["id"].tolist() == ["a", "c"]
    assert not log["excluded"].any() and len(res.kept) == 4  # flag only by default
    assert log["reason"].iloc[0].startswith("3 of 5 pages below 2 s per item")


def test_page_speeder_exclusion_and_thresholds_are_configurable(paged):
    data, items, secs = paged
    base = ScreeningRules(mahalanobis_alpha=None, max_longstring_share=None)
    res = screen(data, likert=items, id_column="id", page_seconds=secs, page_items=PAGES,
                 rules=replace(base, exclude=base.exclude | {"page_speeder"}))
    assert res.kept["id"].tolist() == ["b", "d"]
    # share .3: b (40%) is a page speeder too; 0.4 s per item (threshold 0.8 s): no page is below it
    loose = screen(data, likert=items, id_column="id", page_seconds=secs, page_items=PAGES,
                   rules=replace(base, page_speeder_share=0.3))
    assert loose.log.loc[loose.log["rule"] == "page_speeder", "id"].tolist() == ["a", "b", "c"]
    slow = screen(data, likert=items, id_column="id", page_seconds=secs, page_items=PAGES,
                  rules=replace(base, page_seconds_per_item=0.4))
    assert slow.indices["pages_sped"].tolist() == [0, 0, 0, 0] and "page_speeder" not in set(slow.log["rule"])
    off = screen(data, likert=items, page_seconds=secs, page_items=PAGES,
                 rules=replace(base, page_seconds_per_item=None))
    assert "page_speeder" not in set(off.log["rule"]) and off.indices["pages_sped"].isna().all()


def test_no_page_times_no_page_rule(paged):
    data, items, _ = paged
    res = screen(data, likert=items, id_column="id")
    assert res.indices["pages_sped"].isna().all() and "page_speeder" not in set(res.log["rule"])


def test_page_times_of_other_rows_are_an_error(paged):
    data, items, secs = paged
    with pytest.raises(DataError, match="page_seconds has 3 rows"):
        screen(data, likert=items, page_seconds=secs.iloc[:3], page_items=PAGES)


def _pairs_of_pandas_corr(values, critval):
    """The definition: threshold pandas' pairwise-complete correlation matrix, pairs i < j in row-major order."""
    corr = pd.DataFrame(values).corr().to_numpy()
    k = corr.shape[0]
    return ([(i, j) for i in range(k) for j in range(i + 1, k) if corr[i, j] > critval],
            [(i, j) for i in range(k) for j in range(i + 1, k) if corr[i, j] < -critval])


@pytest.mark.parametrize("seed", range(6))
def test_threshold_pairs_are_those_of_pandas_corr(seed):
    """Synonym and antonym pairs from the fast pairwise sums equal thresholding pandas' matrix - with
    missing answers, a constant item, an unanswered item, items with little overlap, and a threshold
    equal to one pair's correlation (decided by pandas' own number)."""
    from analysis.psychometrics.screening import threshold_pairs

    rng = np.random.default_rng(seed)
    n, k = (800, 40) if seed % 2 else (60, 25)
    z = rng.normal(size=(n, 3))
    values = np.column_stack([np.clip(np.round(4 + (1.6 if j % 4 else -1.6) * z[:, j % 3] + rng.normal(0, 1, n)), 1, 7)
                              for j in range(k)])
    values[rng.random(values.shape) < 0.1] = np.nan
    values[:, 3] = 5.0  # no variance
    values[:, 4] = np.nan  # never answered
    values[: n - 3, 5] = np.nan  # three rows only
    values[:, 6] = 1e6 + rng.integers(0, 2, n) * 1e-3  # little spread, large values
    corr = pd.DataFrame(values).corr().to_numpy()
    exact = float(corr[0, 1])  # a threshold one pair sits on exactly
    for critval in (0.6, 0.3, abs(exact)):
        syn, ant = threshold_pairs(values, critval)
        assert (syn, ant) == _pairs_of_pandas_corr(values, critval)
        assert synonym_pairs(values, critval) == syn and synonym_pairs(values, critval, antonyms=True) == ant
        assert np.array_equal(psychsyn(values, critval, pairs=syn), psychsyn(values, critval), equal_nan=True)
    assert len(_pairs_of_pandas_corr(values, 0.3)[0]) > 5


def _rowwise_corr_loop(a, b):
    """The row-by-row definition of screening._rowwise_corr (its former code)."""
    out = np.full(len(a), np.nan)
    for i in range(len(a)):
        ok = ~(np.isnan(a[i]) | np.isnan(b[i]))
        if ok.sum() < 2:
            continue
        x, y = a[i, ok] - a[i, ok].mean(), b[i, ok] - b[i, ok].mean()
        den = np.sqrt((x @ x) * (y @ y))
        if den > 0:
            out[i] = (x @ y) / den
    return out


@pytest.mark.parametrize("k", [2, 3, 7, 8, 9, 17, 40, 130])
def test_rowwise_corr_by_missing_pattern_equals_the_row_loop_bit_for_bit(k):
    from analysis.psychometrics.screening import _rowwise_corr

    rng = np.random.default_rng(k)
    a = rng.integers(1, 8, (400, k)).astype(float)
    b = np.where(rng.random((400, k)) < 0.5, a, rng.integers(1, 8, (400, k))).astype(float) + rng.normal(0, 0.1, (400, k))
    a[rng.random(a.shape) < 0.08] = np.nan
    b[rng.random(b.shape) < 0.08] = np.nan
    a[:5] = 4.0  # no variance
    b[5:8, 1:] = np.nan  # fewer than two pairs
    got, want = _rowwise_corr(a, b), _rowwise_corr_loop(a, b)
    assert np.isnan(got[:8]).all() and np.isfinite(got[8:]).mean() > 0.5
    assert np.array_equal(got, want, equal_nan=True)
    assert len(_rowwise_corr(a[:0], b[:0])) == 0

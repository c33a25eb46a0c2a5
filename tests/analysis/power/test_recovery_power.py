"""Known truth through the power study (slow): a zero path is declared supported about alpha of the time,
and the 95% intervals of simple models cover the population values about 95% of the time."""

from __future__ import annotations

import pytest

from analysis.power import power

pytestmark = pytest.mark.slow


def test_null_world_false_positive_rate_near_alpha(tmp_path):
    res = power(out=tmp_path, hypotheses="H5", ns="150", reps=120, world="null", seed=11, workers=2)
    row = res.power[res.power["hypothesis"] == "H5"].iloc[0]
    # one hypothesis: Holm changes nothing; Binomial(120, 0.05) exceeds 14 with probability < 0.1%
    assert row["power"] == row["power.unadjusted"] <= 14 / 120
    assert row["nonconverged"] == 0 and row["skipped"] == 0
    rec = res.recovery[res.recovery["hypothesis"] == "H5"].iloc[0]
    assert abs(rec["true"]) < 0.01 and abs(rec["bias"]) < 0.03
    # the summary gives the null world's error rates, not an "N for 80% power" that means nothing there
    text = res.summary()
    assert "N for 80% power" not in text
    assert f"H5     false-positive rate: at most {row['power']:.3f} (N = 150)" in text
    assert "FAMILY family-wise error rate: at most" in text


def test_theory_world_coverage_near_95(tmp_path):
    res = power(out=tmp_path, hypotheses="H5,H14", ns="300", reps=120, world="theory", seed=12, workers=2)
    rec = res.recovery.set_index("hypothesis")
    for hid in ("H5", "H14"):
        r = rec.loc[hid]
        assert 0.87 <= r["coverage.95"] <= 1.0, r
        assert r["coverage.simultaneous"] >= r["coverage.95"]
        assert 0.75 <= r["se.ratio"] <= 1.3, r
        assert abs(r["bias"]) < 0.05, r
    assert (res.power.loc[res.power["hypothesis"] != "FAMILY", "power"] > 0.9).all()

"""``smesurvey reproduce``: the comparison catches every kind of mismatch, and the reference run passes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import smesurvey.reproduce as rp
from smesurvey.cli import main


@pytest.fixture()
def verdicts():
    return pd.read_csv(rp.expected_dir() / "theory" / "verdicts.csv")


def test_expected_results_are_committed_for_both_worlds():
    for world in ("theory", "null"):
        for name in rp.COMPARED:
            assert (rp.expected_dir() / world / name).stat().st_size > 100
    settings = json.loads((rp.expected_dir() / "settings.json").read_text())
    assert settings["bootstrap"] == 2000 and settings["seed"] == 1 and settings["tolerance"] == 1e-6


def test_identical_tables_pass(verdicts):
    rows = rp.compare_tables(verdicts, verdicts.copy(), rp.COMPARED["verdicts.csv"], "v")
    assert {r["status"] for r in rows} == {"PASS"}


def test_empty_exact_cells_match_and_a_filled_one_does_not():
    """measurement.csv leaves fornell.larcker / htmt.ok empty where they cannot be computed (second-order
    rows): empty equals empty (NaN in an object column once read), empty vs True is a mismatch."""
    m = pd.read_csv(rp.expected_dir() / "theory" / "measurement.csv")
    assert m["fornell.larcker"].isna().sum() >= 3
    spec = rp.COMPARED["measurement.csv"]
    assert {r["status"] for r in rp.compare_tables(m, m.copy(), spec, "m")} == {"PASS"}
    changed = m.assign(**{"htmt.ok": m["htmt.ok"].where(m["htmt.ok"].notna(), True)})
    assert [r["item"] for r in rp.compare_tables(changed, m, spec, "m") if r["status"] == "FAIL"] == ["htmt.ok"]


@pytest.mark.parametrize(("change", "item"), [
    (lambda d: d.assign(estimate=d["estimate"] + 2e-6), "estimate"),
    (lambda d: d.assign(verdict=d["verdict"].where(d.index != 3, "contrary")), "verdict"),
    (lambda d: d.drop(index=5), "rows"),
    (lambda d: d.assign(pvalue=d["pvalue"].where(d.index != 0, float("nan"))), "pvalue"),
])
def test_each_kind_of_mismatch_fails(verdicts, change, item):
    rows = rp.compare_tables(change(verdicts.copy()), verdicts, rp.COMPARED["verdicts.csv"], "v")
    failed = [r["item"] for r in rows if r["status"] == "FAIL"]
    assert failed == [item]


def test_cli_exits_1_and_names_the_failure(monkeypatch, tmp_path, capsys):
    table = pd.DataFrame([{"check": "theory/verdicts.csv", "item": "estimate", "compared": 16,
                           "max.deviation": 0.5, "tolerance": 1e-6, "status": "FAIL", "detail": "worst at H3"}])
    monkeypatch.setattr(rp, "reproduce", lambda out, worlds, progress=None: table)
    rc = main(["reproduce", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 1 and "FAIL theory/verdicts.csv estimate: worst at H3" in out


def test_unknown_world_is_an_option_error(tmp_path, capsys):
    assert main(["reproduce", "--world", "mars", "--out", str(tmp_path)]) == 2
    assert "unknown reference world" in capsys.readouterr().err


@pytest.mark.slow
def test_reference_run_passes(tmp_path, capsys):
    rc = main(["reproduce", "--world", "theory", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "PASS in" in out and "FAIL" not in out
    assert (tmp_path / "theory" / "report.html").exists()

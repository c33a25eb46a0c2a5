"""``smesurvey analyze`` and ``smesurvey demo`` from the command line."""

from __future__ import annotations

import pandas as pd

from smesurvey.cli import main
from synthetic_data.generate import generate
from synthetic_data.writers import write_data


def test_analyze_writes_every_promised_file(analyzed):
    for name in ("verdicts.csv", "parameters.csv", "measurement.csv", "fit.json", "report.md", "report.html",
                 "tests.csv", "robustness.csv", "excluded.csv", "skipped.csv", "provenance.json"):
        assert (analyzed / name).stat().st_size > 0, name


def test_analyze_a_subset_says_what_it_skipped(tmp_path, capsys):
    data = tmp_path / "m4.csv"
    write_data(generate(world="theory", n=300, seed=2, modules=["M4"]), data)
    before = data.read_bytes()
    rc = main(["analyze", str(data), "--out", str(tmp_path / "out"), "--bootstrap", "50", "--jobs", "1"])
    out = capsys.readouterr().out
    assert rc == 0
    assert data.read_bytes() == before
    assert "3 hypotheses tested" in out and "skipped H1: module(s) M1 not in the data" in out
    assert list(pd.read_csv(tmp_path / "out" / "verdicts.csv")["hypothesis"]) == ["H11", "H12", "H13"]


def test_bad_data_file_prints_one_line_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "nothing.csv"
    bad.write_text("a,b\n1,2\n")
    rc = main(["analyze", str(bad), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    # no codebook column: not the codebook layout, so ingest tries it and says why it cannot
    assert "nothing.csv" in err and "not recognised" in err and "Traceback" not in err
    rc = main(["analyze", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "out")])
    assert rc == 2 and "no such data file" in capsys.readouterr().err


def test_help_lists_the_outputs(capsys):
    rc = main(["analyze", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert rc == 0 and "verdicts.csv" in out and "--bootstrap" in out and "--modules" in out
    for name in ("rows.csv", "ingest_cells.csv", "ingest_provenance.json", "quality.html", "--key-file"):
        assert name in out, name


def test_analyze_ordinal_writes_the_ml_vs_wlsmv_table(tmp_path, capsys):
    data = tmp_path / "m3.csv"
    write_data(generate(world="theory", n=300, seed=2, modules=["M3"]), data)
    out = tmp_path / "out"
    rc = main(["analyze", str(data), "--ordinal", "--out", str(out), "--bootstrap", "20", "--jobs", "1"])
    text = capsys.readouterr().out
    assert rc == 0
    comp = pd.read_csv(out / "ml_vs_wlsmv.csv")
    assert list(comp["hypothesis"]) == list(pd.read_csv(out / "verdicts.csv")["hypothesis"])
    assert "ML and WLSMV verdicts: " in text and "ml_vs_wlsmv.csv" in text
    assert "## ML and WLSMV verdicts" in (out / "report.md").read_text()


def test_analyze_ordinal_with_cluster_robust_is_refused_in_one_line(tmp_path, capsys):
    data = tmp_path / "m3.csv"
    write_data(generate(world="theory", n=100, seed=2, modules=["M3"]), data)
    rc = main(["analyze", str(data), "--ordinal", "--cluster-robust", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--ordinal and --cluster-robust cannot be combined" in err
    assert not (tmp_path / "out").exists()  # refused before any work

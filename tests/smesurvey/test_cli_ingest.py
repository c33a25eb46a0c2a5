"""``smesurvey ingest`` end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from smesurvey.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"


def test_ingest_writes_the_six_outputs(tmp_path, capsys):
    rc = main(["ingest", str(DATA / "pipeline_mixed.csv"), "--out", str(tmp_path / "o")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "4 rows read (csv: header row 1 holds" in out
    assert f"quality report: {tmp_path / 'o' / 'quality.html'}" in out and "wrote 6 files into" in out
    rows = pd.read_csv(tmp_path / "o" / "rows.csv")
    assert len(rows) == 4 and rows["status"].tolist().count("kept") == 2
    assert {p.name for p in (tmp_path / "o").iterdir()} == {"responses.csv", "rows.csv", "cells.csv",
                                                           "provenance.json", "quality.html", "quality.md"}
    html = (tmp_path / "o" / "quality.html").read_text(encoding="utf-8")
    assert '<td class="num" id="rows-excluded">2</td>' in html  # the report reads the same rows.csv


def test_help_names_every_output(capsys):
    rc = main(["ingest", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for name in ("responses.csv", "rows.csv", "cells.csv", "provenance.json", "quality.html", "quality.md"):
        assert name in out, name
    assert rc == 0


def test_errors_are_one_line_exit_2(tmp_path, capsys):
    rc = main(["ingest", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "absent.csv: no such file" in err and "Traceback" not in err
    rc = main(["ingest", str(DATA / "plain_basic.csv"), "--out", str(tmp_path / "o"), "--format", "spss"])
    assert rc == 2 and "--format must be one of" in capsys.readouterr().err

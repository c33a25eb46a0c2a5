"""``smesurvey pilot``: the files its --help names, thresholds from a file and --set, errors as one line."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from smesurvey.cli import main
from synthetic_data.generate import generate
from synthetic_data.writers import write_data


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("pilot") / "pilot.csv"
    write_data(generate(world="theory", n=60, seed=9, modules=["M2"]), path)
    return path


def test_pilot_writes_what_help_says(data_file, tmp_path, capsys):
    out = tmp_path / "p"
    assert main(["pilot", str(data_file), "--out", str(out), "--set", "loading=0.35"]) == 0
    shown = capsys.readouterr().out
    assert "suggested cuts:" in shown and "report:" in shown
    assert main(["pilot", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    named = set(re.findall(r"[a-z_]+\.(?:csv|html|md|yaml|json)", help_text))
    from analysis.pilot.thresholds import PilotThresholds
    defaults = PilotThresholds()
    for name in ("item_total", "alpha_gain", "loading", "cross_loading", "missing", "floor_ceiling", "min_items"):
        value = getattr(defaults, name)
        assert f"{name} {value:.2f}" in help_text or f"{name} {value}" in help_text, name  # --help is truthful
    written = {p.name for p in out.iterdir()}
    assert {"pilot.html", "pilot.md", "pilot_cuts.csv", "thresholds.yaml", "provenance.json"} <= written
    # every file named in --help is written, except those that need page timers or ingest
    assert named - written <= {"pilot_pages.csv", "rows.csv", "ingest_cells.csv", "quality.html"}
    assert "loading: 0.35" in (out / "thresholds.yaml").read_text(encoding="utf-8")
    # the thresholds file read back gives the same cuts
    again = tmp_path / "q"
    assert main(["pilot", str(data_file), "--out", str(again), "--thresholds", str(out / "thresholds.yaml")]) == 0
    assert (again / "pilot_cuts.csv").read_bytes() == (out / "pilot_cuts.csv").read_bytes()
    cuts = pd.read_csv(out / "pilot_cuts.csv")
    assert set(cuts["action"]) <= {"cut", "flagged, kept", "flagged"}


@pytest.mark.parametrize(("args", "message"), [
    (["--set", "loading=lots"], "--set: pilot threshold 'loading' must be a number"),
    (["--set", "nonsense=1"], "unknown pilot threshold(s) ['nonsense']"),
    (["--thresholds", "absent.yaml"], "absent.yaml: cannot read the thresholds file"),
])
def test_bad_thresholds_one_line_before_any_work(data_file, tmp_path, capsys, args, message):
    out = tmp_path / "p"
    assert main(["pilot", str(data_file), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split()) and "Traceback" not in err
    assert not out.exists()

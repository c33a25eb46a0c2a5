"""``smesurvey generate``: every platform layout the readers take, and its options checked before any work."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.ingest.pipeline import ingest
from smesurvey.cli import main


@pytest.mark.parametrize(("args", "suffix", "fmt", "first_line"), [
    (["--format", "kobo", "--kobo-layout", "odk_central"], ".csv", "kobo", "SubmissionDate,start,end"),
    (["--format", "kobo", "--kobo-separator", ",", "--kobo-groups", "none"], ".csv", "kobo", "start,end,"),
    (["--format", "kobo", "--kobo-groups", "-"], ".csv", "kobo", "start;end;respondent_id;g_m0-"),
    (["--format", "kobo", "--labels"], ".xlsx", "kobo", None),
    (["--format", "redcap", "--labels"], ".csv", "redcap", "respondent_id,redcap_survey_identifier,"),
    (["--format", "limesurvey", "--labels"], ".csv", "limesurvey", '"id","submitdate"'),
])
def test_generated_layouts_ingest_back(tmp_path, capsys, args, suffix, fmt, first_line):
    out = tmp_path / f"data{suffix}"
    assert main(["generate", "--n", "30", "--seed", "4", "--modules", "M1", "--out", str(out), *args]) == 0
    if first_line is not None:
        assert out.read_text(encoding="utf-8").startswith(first_line)
    side = json.loads(out.with_name(out.name + ".sidecar.json").read_text(encoding="utf-8"))
    assert side["format"] == fmt and side.get("labels", False) == ("--labels" in args)
    res = ingest(out, keep_identifiers=True)
    assert res.provenance["format"] == fmt and (res.rows["status"] == "kept").all() and len(res.rows) == 30
    canonical = tmp_path / "plain.csv"
    assert main(["generate", "--n", "30", "--seed", "4", "--modules", "M1", "--out", str(canonical)]) == 0
    expected = pd.read_csv(canonical)
    got = res.responses[[c for c in expected.columns if c in res.responses.columns]]
    items = [c for c in expected.columns if c.startswith(("tk_", "aa_", "ik_"))] or list(expected.columns[2:6])
    pd.testing.assert_frame_equal(got[items].astype(float), expected[items].astype(float))


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "csv", "--labels"], "--labels applies to qualtrics, limesurvey, kobo, redcap, not csv"),
    (["--format", "qualtrics", "--kobo-layout", "odk_central"], "apply to --format kobo, not qualtrics"),
    (["--kobo-groups", "none"], "apply to --format kobo, not csv"),
])
def test_option_errors_before_any_work(tmp_path, capsys, args, message):
    out = tmp_path / "d.csv"
    rc = main(["generate", "--n", "10", "--out", str(out), *args])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.iterdir())  # refused before writing anything


def test_n_below_one_is_refused(tmp_path, capsys):
    rc = main(["generate", "--n", "0", "--out", str(tmp_path / "d.csv")])
    assert rc == 2 and not list(tmp_path.iterdir())

"""Every reader keeps wholly empty data lines as rows (so ingest can log them "empty row"); ``source_row`` stays
the 1-based data-row number; the final newline and empty lines after the last line with content are not rows.

Files are written inline in each platform's documented layout (Qualtrics three header rows, LimeSurvey all cells
quoted, KoboToolbox ``;`` with group paths, ODK Central, REDCap records export, codebook-layout CSV / XLSX), each
with an empty line between two data lines and a line of only delimiters.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from openpyxl import Workbook

from instrument.platforms import kobo, limesurvey, plain, qualtrics, redcap
from instrument.platforms.tables import read_table


@pytest.fixture()
def inst(tiny):
    """The tiny inline instrument (M0: firm_size; M1: aa_1..3, bb_1..3)."""
    from instrument import load_instrument

    return load_instrument(tiny.write())


def _qualtrics() -> str:
    meta = ["StartDate", "EndDate", "Status", "Progress", "Duration (in seconds)", "Finished", "ResponseId",
            "ExternalReference"]
    cols = meta + ["firm_size", "aa_1", "aa_2"]
    rows = [",".join(cols), ",".join(cols),
            ",".join('"' + json.dumps({"ImportId": c}).replace('"', '""') + '"' for c in cols),
            "2026-03-02 09:00:00,2026-03-02 09:10:00,0,100,600,1,R_aaaaaaaaaaaaaaa,r1,4,3,2",
            "",
            ",,,,,,,,,,",
            "2026-03-03 09:00:00,2026-03-03 09:05:00,0,100,300,1,R_bbbbbbbbbbbbbbb,r2,7,1,1"]
    return "\n".join(rows) + "\n"


def _limesurvey() -> str:
    cols = ["id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp", "firmsize",
            "AA[aa1]", "AA[aa2]", "interviewtime"]
    q = lambda cells: ",".join(f'"{c}"' for c in cells)  # noqa: E731 - LimeSurvey quotes every cell
    return "\n".join([q(cols), q(["1", "2026-03-02 09:10:00", "2", "en", "11", "2026-03-02 09:00:00",
                                  "2026-03-02 09:10:00", "4", "3", "2", "600"]),
                      "", q([""] * len(cols)),
                      q(["2", "2026-03-03 09:05:00", "2", "en", "12", "2026-03-03 09:00:00", "2026-03-03 09:05:00",
                         "7", "1", "1", "300"])]) + "\n"


def _kobo() -> str:
    head = "start;end;respondent_id;g_m0/firm_size;g_m1/aa_1;g_m1/aa_2;_id;_uuid;_submission_time;_index"
    return "\n".join([head,
                      "2026-03-02T09:00:00.000+00:00;2026-03-02T09:10:00.000+00:00;r1;4;3;2;1;u-1;2026-03-02T09:10:01;1",
                      "", ";;;;;;;;;",
                      "2026-03-03T09:00:00.000+00:00;2026-03-03T09:05:00.000+00:00;r2;7;1;1;2;u-2;2026-03-03T09:05:01;2",
                      ]) + "\n"


def _odk_central() -> str:
    head = ("SubmissionDate,start,end,respondent_id,g_m0-firm_size,g_m1-aa_1,g_m1-aa_2,meta-instanceID,KEY,"
            "SubmitterID,SubmitterName,AttachmentsPresent,AttachmentsExpected,Status,ReviewState,DeviceID,Edits,"
            "FormVersion")
    return "\n".join([head,
                      "2026-03-02T09:10:01.000Z,2026-03-02T09:00:00.000+00:00,2026-03-02T09:10:00.000+00:00,r1,4,3,2,"
                      "uuid:1,uuid:1,5,app,0,0,,,,0,1",
                      "", "," * 17,
                      "2026-03-03T09:05:01.000Z,2026-03-03T09:00:00.000+00:00,2026-03-03T09:05:00.000+00:00,r2,7,1,1,"
                      "uuid:2,uuid:2,5,app,0,0,,,,0,1"]) + "\n"


def _redcap() -> str:
    return "\n".join(["respondent_id,redcap_survey_identifier,m0_firm_timestamp,firm_size,m0_firm_complete,"
                      "m1_one_timestamp,aa_1,aa_2,m1_one_complete",
                      "r1,,2026-03-02 09:05:00,4,2,2026-03-02 09:10:00,3,2,2",
                      "", ",,,,,,,,",
                      "r2,,2026-03-03 09:02:00,7,2,2026-03-03 09:05:00,1,1,2"]) + "\n"


def _plain() -> str:
    return "respondent_id,firm_size,aa_1,aa_2\nr1,4,3,2\n\n,,,\nr2,7,1,1\n"


CASES = {"qualtrics": (qualtrics, _qualtrics), "limesurvey": (limesurvey, _limesurvey), "kobo": (kobo, _kobo),
         "odk_central": (kobo, _odk_central), "redcap": (redcap, _redcap), "plain": (plain, _plain)}


@pytest.mark.parametrize("case", list(CASES))
def test_empty_line_and_delimiter_line_stay_rows(inst, tmp_path, case):
    module, text = CASES[case]
    path = tmp_path / f"{case}.csv"
    path.write_text(text() + "\n\n", encoding="utf-8")  # two trailing blank lines after the final newline
    raw = module.read_responses(read_table(path), inst)
    assert raw.source_row.tolist() == [1, 2, 3, 4]
    assert len(raw.data) == len(raw.meta) == 4
    assert raw.data["aa_1"].astype(str).str.strip().tolist() == ["3", "", "", "1"]
    assert raw.meta["respondent"].tolist()[1:3] == ["", ""]  # nothing identifies the empty rows
    expected = ["1", "", "", "2"] if case == "limesurvey" else ["r1", "", "", "r2"]
    assert raw.meta["respondent"].tolist() == expected


def test_qualtrics_empty_rows_do_not_switch_the_respondent_id_source(inst, tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(_qualtrics(), encoding="utf-8")
    raw = qualtrics.read_responses(read_table(path), inst)
    assert raw.details["respondent_from"] == "ExternalReference"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_empty_lines_with_either_line_ending(inst, tmp_path, newline):
    p = tmp_path / "crlf.csv"
    p.write_bytes(_plain().replace("\n", newline).encode("utf-8"))
    raw = plain.read_responses(read_table(p), inst)
    assert raw.source_row.tolist() == [1, 2, 3, 4] and raw.data["aa_1"].tolist() == ["3", "", "", "1"]


def test_final_newline_is_not_a_row(inst, tmp_path):
    with_nl, without = tmp_path / "a.csv", tmp_path / "b.csv"
    with_nl.write_text("respondent_id,aa_1,aa_2\nr1,1,2\n", encoding="utf-8")
    without.write_text("respondent_id,aa_1,aa_2\nr1,1,2", encoding="utf-8")
    for p in (with_nl, without):
        assert plain.read_responses(read_table(p), inst).source_row.tolist() == [1]


def test_a_delimiter_line_at_the_end_is_a_row(inst, tmp_path):
    p = tmp_path / "k.csv"
    p.write_text(_kobo().rstrip("\n").rsplit("\n", 1)[0] + "\n;;;;;;;;;\n", encoding="utf-8")
    raw = kobo.read_responses(read_table(p), inst)
    assert raw.source_row.tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize("layout", ["plain", "kobo"])
def test_empty_worksheet_row_between_data_rows_stays_a_row(inst, tmp_path, layout):
    wb = Workbook()
    ws = wb.active
    if layout == "plain":
        ws.append(["respondent_id", "firm_size", "aa_1", "aa_2"])
        rows = [["r1", 4, 3, 2], None, ["r2", 7, 1, 1]]
    else:
        ws.append(["start", "end", "respondent_id", "g_m0/firm_size", "g_m1/aa_1", "g_m1/aa_2", "_uuid",
                   "_submission_time"])
        rows = [["2026-03-02T09:00:00", "2026-03-02T09:10:00", "r1", 4, 3, 2, "u-1", "2026-03-02T09:10:01"], None,
                ["2026-03-03T09:00:00", "2026-03-03T09:05:00", "r2", 7, 1, 1, "u-2", "2026-03-03T09:05:01"]]
    for k, r in enumerate(rows, start=2):
        if r is not None:
            for j, x in enumerate(r, start=1):
                ws.cell(row=k, column=j, value=x)
    path = tmp_path / f"{layout}.xlsx"
    wb.save(path)
    module = plain if layout == "plain" else kobo
    raw = module.read_responses(read_table(path), inst)
    assert raw.source_row.tolist() == [1, 2, 3]
    assert raw.data["aa_1"].tolist() == ["3", "", "1"]
    assert pd.Series(raw.meta["respondent"]).tolist() == ["r1", "", "r2"]


def test_qualtrics_sav_with_an_all_missing_record(inst, tmp_path):
    import numpy as np
    import pyreadstat

    frame = pd.DataFrame({"StartDate": ["2026-03-02 09:00:00", "", "2026-03-03 09:00:00"],
                          "ResponseId": ["R_a", "", "R_b"], "ExternalReference": ["r1", "", "r2"],
                          "firm_size": [4.0, np.nan, 7.0], "aa_1": [3.0, np.nan, 1.0]})
    path = tmp_path / "q.sav"
    pyreadstat.write_sav(frame, str(path))
    raw = qualtrics.read_responses(read_table(path), inst)
    assert raw.source_row.tolist() == [1, 2, 3]
    assert raw.details["respondent_from"] == "ExternalReference"
    assert raw.meta["respondent"].tolist() == ["r1", "", "r2"]

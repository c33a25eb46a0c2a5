"""REDCap records exports: hand-written fixtures laid out as REDCap's "Export Data" CSV (raw and labels:
record id first, redcap_survey_identifier, <form>_timestamp, fields, <form>_complete), and our writer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from instrument.platforms import kobo, redcap
from instrument.platforms.base import ResponseMeta
from instrument.platforms.tables import read_table

DATA = Path(__file__).resolve().parents[2] / "data" / "platforms" / "redcap"


@pytest.fixture()
def inst(tiny):
    """The tiny inline instrument (forms m0_firm with firm_size, m1_one with aa_1..3, bb_1..3)."""
    from instrument import load_instrument

    return load_instrument(tiny.write())


def test_raw_records_export(inst):
    table = read_table(DATA / "records_raw.csv")
    assert redcap.detect(table).startswith("records export columns")
    assert kobo.detect(table) is None
    raw = redcap.read_responses(table, inst)
    assert list(raw.data.columns) == ["firm_size", "aa_1", "aa_2", "bb_1"]
    assert raw.data["aa_2"].tolist() == ["2", ""]
    assert raw.meta["respondent"].tolist() == ["1", "2"]
    assert raw.meta["finished"].tolist() == [True, False]
    assert raw.meta["ended"][0] == pd.Timestamp("2026-03-02 09:10:30") and pd.isna(raw.meta["ended"][1])
    assert raw.identifiers == ("redcap_survey_identifier",)
    assert raw.identifying.iloc[0, 0] == "anna@example.org"
    assert raw.source_row.tolist() == [1, 2] and raw.details["values"] == "codes"


def test_labels_records_export(inst):
    raw = redcap.read_responses(read_table(DATA / "records_labels.csv"), inst)
    assert raw.data["aa_1"].tolist() == ["Yes"]
    assert raw.details["values"] == "labels" and raw.meta["finished"].tolist() == [True]


def test_kobo_export_and_plain_csv_are_not_redcap(tmp_path):
    kobo_file = Path(__file__).resolve().parents[2] / "data" / "platforms" / "kobo" / "kobo_semicolon.csv"
    assert redcap.detect(read_table(kobo_file)) is None
    p = tmp_path / "plain.csv"
    p.write_text("respondent_id,aa_1\nr1,3\n", encoding="utf-8")
    assert redcap.detect(read_table(p)) is None


@pytest.mark.parametrize("labels", [False, True])
def test_writer_round_trip(inst, tmp_path, labels):
    names = [v.name for v in inst.variables(paradata=False)]
    data = pd.DataFrame({"respondent_id": ["r1", "r2"], **{n: [1.0, np.nan] for n in names}})
    t0 = datetime(2026, 3, 1, 8, 0, 0)
    meta = ResponseMeta(respondent=["r1", "r2"], started=[t0, t0], ended=[t0.replace(minute=5)] * 2,
                        duration_sec=np.array([300.0, 300.0]), finished=np.array([True, False]),
                        stopped_at=np.array([0, 0]), seed=1)
    path = redcap.write_responses(data, meta, inst, tmp_path / "r.csv", labels=labels)
    assert path.read_text().splitlines()[0].startswith("respondent_id,redcap_survey_identifier,m0_firm_timestamp")
    raw = redcap.read_responses(read_table(path), inst)
    assert raw.meta["respondent"].tolist() == ["r1", "r2"]
    assert raw.meta["finished"].tolist() == [True, False]
    assert raw.data["aa_1"].tolist() == (["No", ""] if labels else ["1", ""])
    assert raw.details["values"] == ("labels" if labels else "codes")
    assert raw.meta["duration_sec"].tolist()[0] == 300.0 and pd.isna(raw.meta["duration_sec"][1])
    assert raw.unknown == ()  # the start field is bookkeeping, not an unknown column


def test_dictionary_records_the_start_time(inst, tmp_path):
    """The first form holds a hidden date-time field tagged @NOW (REDCap fills it when the page opens)."""
    import csv

    path = redcap.write_questionnaire(inst, tmp_path / "dict.csv")[0]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    start = rows[1]
    assert start["Variable / Field Name"] == redcap.START_FIELD and start["Form Name"] == rows[0]["Form Name"]
    assert start["Text Validation Type OR Show Slider Number"] == "datetime_seconds_ymd"
    assert set(start["Field Annotation"].split()) == {"@NOW", "@HIDDEN", "@READONLY"}


def test_start_field_gives_the_duration(inst, tmp_path):
    """A records export as REDCap writes it with the start field: duration = last form timestamp - start;
    a respondent who did not complete has a start but no duration; an export without the field has none."""
    p = tmp_path / "r.csv"
    p.write_text("record_id,redcap_survey_identifier,m0_firm_timestamp,survey_start,firm_size,m0_firm_complete,"
                 "m1_one_timestamp,aa_1,aa_2,bb_1,m1_one_complete\n"
                 "1,,2026-03-02 09:05:11,2026-03-02 09:01:00,4,2,2026-03-02 09:10:30,3,2,1,2\n"
                 "2,,[not completed],2026-03-02 10:00:00,7,0,[not completed],1,,,0\n", encoding="utf-8")
    raw = redcap.read_responses(read_table(p), inst)
    assert raw.meta["duration_sec"][0] == 9 * 60 + 30 and pd.isna(raw.meta["duration_sec"][1])
    assert raw.meta["started"][1] == pd.Timestamp("2026-03-02 10:00:00")
    assert raw.details["start_field"] == "survey_start"
    old = redcap.read_responses(read_table(DATA / "records_raw.csv"), inst)
    assert old.meta["duration_sec"].isna().all() and old.details["start_field"] is None

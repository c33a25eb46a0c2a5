"""KoboToolbox / ODK Central response exports: hand-written fixtures laid out as the platforms document them
(KoboToolbox "Downloading data" CSV export; ODK Central "Submissions CSV"), and our writer round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from instrument.platforms import kobo
from instrument.platforms.tables import read_table
from smecore.errors import DataError

DATA = Path(__file__).resolve().parents[2] / "data" / "platforms" / "kobo"


def test_kobotoolbox_semicolon_export_maps_groups_meta_and_identifiers(inst):
    table = read_table(DATA / "kobo_semicolon.csv")
    assert kobo.detect(table).startswith("KoboToolbox")
    raw = kobo.read_responses(table, inst)
    assert list(raw.data.columns) == ["firm_size", "aa_1", "aa_2"]
    assert raw.data["aa_1"].tolist() == ["3", "Yes"]
    assert raw.source_row.tolist() == [1, 2]
    assert raw.meta["respondent"].tolist()[0] == "0b1c2d3e-aaaa-4bbb-8ccc-111111111111"
    assert raw.meta["started"][0] == pd.Timestamp("2026-03-02 08:00:00")
    assert raw.meta["duration_sec"].tolist() == [630.0, 300.0]
    assert set(raw.identifiers) == {"deviceid", "_gps_latitude", "_submitted_by"}  # _submitted_by: user name
    assert "deviceid" not in raw.data.columns and raw.unknown == ()


def test_odk_central_export_dash_groups(inst):
    table = read_table(DATA / "odk_central.csv")
    assert kobo.detect(table).startswith("ODK Central")
    raw = kobo.read_responses(table, inst)
    assert raw.data["firm_size"].tolist() == ["4"]
    assert raw.meta["respondent"][0].startswith("uuid:0b1c2d3e")
    assert {"SubmitterName", "SubmitterID", "DeviceID"} <= set(raw.identifiers)
    assert raw.details["variant"] == "odk_central"


def test_duplicate_variable_columns_are_refused(inst, tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("start;end;g_m1/aa_1;aa_1;_uuid;_submission_time\n;;1;2;u;t\n", encoding="utf-8")
    with pytest.raises(DataError, match="aa_1"):
        kobo.read_responses(read_table(p), inst)


def test_not_detected_on_a_codebook_csv(tmp_path):
    p = tmp_path / "plain.csv"
    p.write_text("respondent_id,aa_1\nr1,3\n", encoding="utf-8")
    assert kobo.detect(read_table(p)) is None


@pytest.mark.parametrize("labels", [False, True])
def test_writer_round_trip(inst, tmp_path, labels):
    from datetime import datetime

    from instrument.platforms.base import ResponseMeta

    names = [v.name for v in inst.variables(paradata=False)]
    data = pd.DataFrame({"respondent_id": ["r1", "r2"], **{n: [1.0, np.nan] for n in names}})
    t0 = datetime(2026, 3, 1, 8, 0, 0)
    meta = ResponseMeta(respondent=["r1", "r2"], started=[t0, t0], ended=[t0.replace(minute=5)] * 2,
                        duration_sec=np.array([300.0, 300.0]), finished=np.array([True, False]),
                        stopped_at=np.array([0, 0]), seed=1)
    path = kobo.write_responses(data, meta, inst, tmp_path / "k.csv", labels=labels)
    raw = kobo.read_responses(read_table(path), inst)
    assert raw.meta["respondent"].tolist() == ["r1", "r2"]
    assert raw.meta["duration_sec"].tolist() == [300.0, 300.0]
    assert raw.details["values"] == ("labels" if labels else "codes")
    assert raw.data["aa_1"].tolist() == (["No", ""] if labels else ["1", ""])


@pytest.fixture()
def inst(tiny):
    """The tiny inline instrument (modules M0 with firm_size, M1 with aa_1..3 and bb_1..3)."""
    from instrument import load_instrument

    return load_instrument(tiny.write())


def _tiny_export(inst, path, **options):
    from datetime import datetime

    from instrument.platforms.base import ResponseMeta

    names = [v.name for v in inst.variables(paradata=False)]
    data = pd.DataFrame({"respondent_id": ["r1"], **{n: [2.0] for n in names}})
    t0 = datetime(2026, 3, 1, 8, 0, 0)
    meta = ResponseMeta(respondent=["r1"], started=[t0], ended=[t0.replace(minute=5)],
                        duration_sec=np.array([300.0]), finished=np.array([True]), stopped_at=np.array([0]), seed=1)
    return kobo.write_responses(data, meta, inst, path, **options)


@pytest.mark.parametrize(("options", "suffix", "first", "question", "last"), [
    ({}, ".csv", "start;end;respondent_id;g_m0/firm_size", "g_m1/aa_1", "_index"),
    ({"sep": ","}, ".csv", "start,end,respondent_id,g_m0/firm_size", "g_m1/aa_1", "_index"),
    ({"group_separator": ""}, ".csv", "start;end;respondent_id;firm_size", "aa_1", "_index"),
    ({"group_separator": "-"}, ".csv", "start;end;respondent_id;g_m0-firm_size", "g_m1-aa_1", "_index"),
    ({"layout": "odk_central"}, ".csv", "SubmissionDate,start,end,respondent_id,g_m0-firm_size", "g_m1-aa_1",
     "FormVersion"),
])
def test_export_variants_are_laid_out_as_the_platforms_write_them(inst, tmp_path, options, suffix, first, question,
                                                                  last):
    path = _tiny_export(inst, tmp_path / f"k{suffix}", **options)
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith(first)
    sep = ";" if header.startswith("start;") else ","
    heads = header.split(sep)
    assert question in heads and heads[-1] == last
    if options.get("layout") == "odk_central":
        assert heads[heads.index("meta-instanceID"):] == [kobo.ODK_CENTRAL_META[1], *kobo.ODK_CENTRAL_META[3:]]  # no instanceName in our form
        assert kobo.detect(read_table(path)).startswith("ODK Central")
    else:
        assert heads[-len(kobo.KOBO_META):] == list(kobo.KOBO_META)
    raw = kobo.read_responses(read_table(path), inst)
    assert raw.data["aa_1"].tolist() == ["2"] and raw.meta["respondent"].tolist() == ["r1"]


def test_xlsx_export_has_numbers_and_one_sheet(inst, tmp_path):
    from openpyxl import load_workbook

    path = _tiny_export(inst, tmp_path / "k.xlsx", labels=True)
    wb = load_workbook(path)
    assert wb.sheetnames == ["data"]
    rows = list(wb["data"].iter_rows(values_only=True))
    heads = list(rows[0])
    assert rows[1][heads.index("g_m0/firm_size")] == 2 and rows[1][heads.index("g_m1/aa_1")] == "Maybe"
    assert _tiny_export(inst, tmp_path / "k2.xlsx", labels=True).read_bytes() == path.read_bytes()  # reproducible


@pytest.mark.parametrize(("options", "message"), [
    ({"layout": "central"}, "layout must be one of kobotoolbox, odk_central; got 'central'"),
    ({"group_separator": "."}, "group_separator must be one of"),
    ({"layout": "odk_central", "labels": True}, "choice names only"),
])
def test_bad_export_options_are_refused(inst, tmp_path, options, message):
    from smecore.errors import OptionError

    with pytest.raises(OptionError, match=message):
        _tiny_export(inst, tmp_path / "k.csv", **options)


def test_geopoint_question_column_is_an_identifier(inst, tmp_path):
    p = tmp_path / "geo.csv"
    p.write_text("start;end;g_m1/aa_1;g_m0/where;g_m0/_where_latitude;g_m0/_where_longitude;g_m0/_where_altitude;"
                 "g_m0/_where_precision;_uuid;_submission_time\n"
                 ";;2;51.5 -0.1 10 5;51.5;-0.1;10;5;u1;t\n", encoding="utf-8")
    raw = kobo.read_responses(read_table(p), inst)
    assert set(raw.identifiers) == {"g_m0/where", "g_m0/_where_latitude", "g_m0/_where_longitude",
                                    "g_m0/_where_altitude", "g_m0/_where_precision"}
    assert raw.unknown == ()


@pytest.mark.parametrize("sep", ["/", "-"])
def test_metadata_identifiers_inside_groups(inst, tmp_path, sep):
    p = tmp_path / "meta.csv"
    p.write_text(f"start,end,g_m1{sep}aa_1,g_meta{sep}phonenumber,g_meta{sep}deviceid,SubmissionDate,KEY\n"
                 ",,2,+44 7700 900123,collect:x,2026-03-02T08:11:02.000Z,uuid:1\n", encoding="utf-8")
    raw = kobo.read_responses(read_table(p), inst)
    assert set(raw.identifiers) == {f"g_meta{sep}phonenumber", f"g_meta{sep}deviceid"} and raw.unknown == ()

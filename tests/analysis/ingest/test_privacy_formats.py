"""Direct identifiers planted in every platform's export never reach an output byte (default options).

A generated export of each format gets the identifier columns that platform lays out - filled with unique
planted values - and the respondent ids become planted ids too:

* Qualtrics: IPAddress, RecipientEmail, RecipientFirstName, RecipientLastName, LocationLatitude /
  LocationLongitude, ExternalReference (the respondent id; pseudonymised);
* LimeSurvey: ipaddr, token, the participant attributes firstname, lastname, email, attribute_1;
* KoboToolbox: _submitted_by, deviceid, phonenumber, username, a geopoint question (its column and
  _<name>_latitude / _longitude / _altitude / _precision);
* ODK Central: SubmitterName, SubmitterID, DeviceID, a geopoint (<name>-Latitude / -Longitude / ...);
* REDCap: the record id (our dictionary's only identifier field) and redcap_survey_identifier;
* codebook-layout CSV: email, ip, phone columns.

``ingest(path, out)`` with default options must leave none of them (nor the raw respondent / platform ids) in any
file under ``out`` (read as bytes, so a later quality.html is covered too), and provenance.json must list the
dropped identifier columns by name. With ``keep_identifiers=True`` they are kept.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from analysis.ingest.pipeline import ingest
from instrument import load_instrument
from instrument.platforms import kobo
from synthetic_data.generate import generate
from synthetic_data.writers import response_meta, write_data

N = 20
EMAIL = "planted.person@example.org"
IP = "PLANTED-IP 203.0.113.77"
PHONE = "+44 7700 900123"
LAT, LON = "51.123456789", "-0.987654321"
FIRST, LAST = "Plantedfirstname", "Plantedlastname"
DEVICE = "collect:PLANTEDDEVICE42"
USER = "planted_enumerator_7"
TOKEN = "PLANTEDTOKEN9x"
GEOPOINT = f"{LAT} {LON} 12.5 4.0"


def planted_id(i: int) -> str:
    return f"PLANTED-RESP-{i:04d}"


def _read(path: Path, sep: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""), delimiter=sep))


def _write(path: Path, rows: list[list[str]], sep: str, quote_all: bool = False) -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n",
               quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _set(rows: list[list[str]], header: int, column: str, values, data_from: int) -> None:
    k = rows[header].index(column)
    for i, row in enumerate(rows[data_from:]):
        row[k] = values(i) if callable(values) else values


def _add(rows: list[list[str]], column: str, values, data_from: int, at: int | None = None,
         header_rows: int = 1) -> None:
    at = len(rows[0]) if at is None else at
    for h in range(header_rows):
        rows[h].insert(at, column)
    for i, row in enumerate(rows[data_from:]):
        row.insert(at, values(i) if callable(values) else values)


def plant_qualtrics(path: Path) -> tuple[set[str], set[str]]:
    rows = _read(path, ",")
    platform_ids = {r[rows[0].index("ResponseId")] for r in rows[3:]}
    for col, val in (("IPAddress", IP), ("RecipientEmail", EMAIL), ("RecipientFirstName", FIRST),
                     ("RecipientLastName", LAST), ("LocationLatitude", LAT), ("LocationLongitude", LON),
                     ("ExternalReference", planted_id)):
        _set(rows, 0, col, val, 3)
    _write(path, rows, ",")
    return {"IPAddress", "RecipientEmail", "RecipientFirstName", "RecipientLastName", "LocationLatitude",
            "LocationLongitude"}, platform_ids


def plant_limesurvey(path: Path) -> tuple[set[str], set[str]]:
    rows = _read(path, ",")
    _set(rows, 0, "respondentid", planted_id, 1)  # the hidden respondent-id question, prefilled from the link
    # LimeSurvey puts token and the participant attributes after id, ipaddr after datestamp
    at = rows[0].index("datestamp") + 1
    _add(rows, "ipaddr", IP, 1, at)
    for k, (col, val) in enumerate((("token", TOKEN), ("firstname", FIRST), ("lastname", LAST), ("email", EMAIL),
                                    ("attribute_1", PHONE))):
        _add(rows, col, val, 1, 1 + k)
    _write(path, rows, ",", quote_all=True)
    return {"ipaddr", "token", "firstname", "lastname", "email", "attribute_1"}, set()


def plant_kobo(path: Path) -> tuple[set[str], set[str]]:
    rows = _read(path, ";")
    platform_ids = {r[rows[0].index("_uuid")] for r in rows[1:]}
    _set(rows, 0, "respondent_id", planted_id, 1)
    _set(rows, 0, "_submitted_by", USER, 1)
    at = rows[0].index("respondent_id") + 1
    geo = [("g_m0/location", GEOPOINT), ("g_m0/_location_latitude", LAT), ("g_m0/_location_longitude", LON),
           ("g_m0/_location_altitude", "12.5"), ("g_m0/_location_precision", "4.0")]
    for k, (col, val) in enumerate([("deviceid", DEVICE), ("phonenumber", PHONE), ("username", USER), *geo]):
        _add(rows, col, val, 1, at + k)
    _write(path, rows, ";")
    return {"deviceid", "phonenumber", "username", "_submitted_by", *(c for c, _ in geo)}, platform_ids


def plant_odk_central(path: Path) -> tuple[set[str], set[str]]:
    rows = _read(path, ",")
    platform_ids = {r[rows[0].index("KEY")] for r in rows[1:]}
    _set(rows, 0, "respondent_id", planted_id, 1)
    _set(rows, 0, "SubmitterName", USER, 1)
    _set(rows, 0, "SubmitterID", "PLANTED-SUBMITTER-55", 1)
    _set(rows, 0, "DeviceID", DEVICE, 1)
    at = rows[0].index("respondent_id") + 1
    geo = [("g_m0-location", GEOPOINT), ("g_m0-location-Latitude", LAT), ("g_m0-location-Longitude", LON),
           ("g_m0-location-Altitude", "12.5"), ("g_m0-location-Accuracy", "4.0")]
    for k, (col, val) in enumerate(geo):
        _add(rows, col, val, 1, at + k)
    _write(path, rows, ",")
    return {"SubmitterName", "SubmitterID", "DeviceID", *(c for c, _ in geo)}, platform_ids


def plant_redcap(path: Path) -> tuple[set[str], set[str]]:
    rows = _read(path, ",")
    _set(rows, 0, "respondent_id", planted_id, 1)
    _set(rows, 0, "redcap_survey_identifier", EMAIL, 1)
    _write(path, rows, ",")
    return {"redcap_survey_identifier"}, set()


def plant_csv(path: Path) -> tuple[set[str], set[str]]:
    rows = _read(path, ",")
    _set(rows, 0, "respondent_id", planted_id, 1)
    for col, val in (("email", EMAIL), ("ip", IP), ("phone", PHONE)):
        _add(rows, col, val, 1, 1)
    _write(path, rows, ",")
    return {"email", "ip", "phone"}, set()


#: case -> (generator format, kobo layout or None, planting function)
CASES = {"qualtrics": ("qualtrics", None, plant_qualtrics), "limesurvey": ("limesurvey", None, plant_limesurvey),
         "kobo": ("kobo", None, plant_kobo), "odk_central": ("kobo", "odk_central", plant_odk_central),
         "redcap": ("redcap", None, plant_redcap), "csv": ("csv", None, plant_csv)}
PLANTED = (EMAIL, IP, PHONE, LAT, LON, FIRST, LAST, DEVICE, USER, TOKEN, "PLANTED-SUBMITTER-55", "PLANTED-RESP-",
           "203.0.113.77", "7700 900123", "51.1234567")


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


@pytest.fixture(scope="module")
def gen(inst):
    return generate(n=N, seed=11, instrument=inst)


def export(case: str, gen, inst, folder: Path) -> tuple[Path, set[str], set[str]]:
    fmt, layout, plant = CASES[case]
    path = folder / f"{case}.csv"
    if layout:
        kobo.write_responses(gen.data, response_meta(gen), inst, path, layout=layout)
    else:
        write_data(gen, path, fmt, instrument=inst)
    columns, platform_ids = plant(path)
    return path, columns, platform_ids


def _all_bytes(out: Path) -> dict[str, bytes]:
    files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert {"responses.csv", "rows.csv", "cells.csv", "provenance.json"} <= set(files)
    return files


def _assert_nothing_leaked(files: dict[str, bytes], values) -> None:
    for name, data in files.items():
        for value in values:
            assert value.encode("utf-8") not in data, f"{value!r} leaked into {name}"


@pytest.mark.parametrize("case", list(CASES))
def test_no_planted_identifier_in_any_output_byte(case, gen, inst, tmp_path):
    path, columns, platform_ids = export(case, gen, inst, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert EMAIL in text or IP in text or USER in text  # the planting worked
    res = ingest(path, tmp_path / "out", instrument=inst)
    assert res.provenance["rows_kept"] == N
    files = _all_bytes(tmp_path / "out")
    raw_ids = {planted_id(i) for i in range(N)} | set(gen.data["respondent_id"]) | platform_ids
    _assert_nothing_leaked(files, (*PLANTED, *sorted(raw_ids)))
    prov = json.loads(files["provenance.json"])
    assert set(prov["dropped_identifier_columns"]) == columns
    assert not columns & set(res.responses.columns)
    assert res.responses["respondent_id"].str.fullmatch(r"[0-9a-f]{16}").all()  # keyed-hash pseudonyms


@pytest.mark.parametrize("case", list(CASES))
def test_cli_ingest_leaks_nothing_either(case, gen, inst, tmp_path, capsys):
    """``smesurvey ingest RAW --out DIR``: every file it writes (quality report included, once it writes one)
    and what it prints are free of the planted values."""
    from smesurvey.cli import main

    path, _, platform_ids = export(case, gen, inst, tmp_path)
    assert main(["ingest", str(path), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr()
    files = _all_bytes(tmp_path / "out")
    files["(stdout)"], files["(stderr)"] = printed.out.encode(), printed.err.encode()
    _assert_nothing_leaked(files, (*PLANTED, *sorted(platform_ids), *sorted(gen.data["respondent_id"])))


@pytest.mark.parametrize("case", ["qualtrics", "kobo", "limesurvey"])
def test_keep_identifiers_keeps_them(case, gen, inst, tmp_path):
    path, columns, _ = export(case, gen, inst, tmp_path)
    res = ingest(path, tmp_path / "out", instrument=inst, keep_identifiers=True)
    assert columns <= set(res.responses.columns)
    assert res.provenance["dropped_identifier_columns"] == []
    written = (tmp_path / "out" / "responses.csv").read_text(encoding="utf-8")
    assert USER in written or EMAIL in written
    assert res.responses["respondent_id"].tolist() == [planted_id(i) for i in range(N)]

"""Qualtrics platform module: hand-written exports laid out as Qualtrics documents them
("Data & Analysis" CSV: export tags, question texts, ImportId JSON rows; legacy two-row exports),
and the generator's write_responses -> read_table -> detect -> read_responses round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from instrument import load_instrument
from instrument.platforms import qualtrics
from instrument.platforms.tables import read_table
from synthetic_data.generate import generate
from synthetic_data.writers import write_data

DATA = Path(__file__).resolve().parents[2] / "data" / "platforms" / "qualtrics"


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


def test_numeric_export_maps_columns_and_meta(inst):
    path = DATA / "numeric_values.csv"
    before = path.read_bytes()
    table = read_table(path)
    assert qualtrics.detect(table)
    raw = qualtrics.read_responses(table, inst)
    assert path.read_bytes() == before
    assert raw.details["header_rows"] == 3 and raw.details["values"] == "codes"
    assert list(raw.data.columns) == ["firm_employees", "firm_sector", "tk_1", "tk_2", "tk_3"]
    assert raw.data["tk_2"].tolist() == ["6", "", "7"]
    assert raw.source_row.tolist() == [1, 2, 3]
    assert raw.unknown == ("Q7_1",)  # a default tag cannot be mapped without the QSF
    # no ExternalReference -> ResponseId is the respondent
    assert raw.details["respondent_from"] == "ResponseId"
    assert raw.meta["respondent"].tolist() == ["R_1a2B3c4D5e6F7g8", "R_9z8Y7x6W5v4U3t2", "R_Spam0000000001"]
    assert raw.meta["finished"].tolist() == [True, False, True]
    assert raw.meta["duration_sec"].tolist() == [819.0, 190.0, 660.0]
    assert raw.meta["started"][0] == pd.Timestamp("2024-03-04 09:12:01")
    assert raw.meta["status"].tolist() == ["0", "1", "8"]  # preview and spam stay visible for ingest


def test_identifiers_kept_out_of_data(inst):
    raw = qualtrics.read_responses(read_table(DATA / "numeric_values.csv"), inst)
    assert set(raw.identifiers) == {"IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
                                    "LocationLatitude", "LocationLongitude"}
    assert raw.identifying["RecipientEmail"][0] == "aino@example.com"
    assert not set(raw.identifiers) & set(raw.data.columns)
    flat = raw.data.astype(str).to_numpy().ravel().tolist()
    assert "aino@example.com" not in flat and "192.0.2.10" not in flat


def test_choice_text_export_is_labels_and_uses_external_reference(inst):
    raw = qualtrics.read_responses(read_table(DATA / "choice_text.csv"), inst)
    assert raw.details["values"] == "labels"
    assert raw.data["firm_sector"].tolist() == ["ICT and software", "Other"]
    assert raw.data["tk_1"].tolist() == ["To a considerable extent", "Not at all"]
    assert raw.details["respondent_from"] == "ExternalReference"
    assert raw.meta["respondent"].tolist() == ["F-001", "F-002"]
    assert raw.meta["finished"].tolist() == [True, True]


def test_legacy_two_header_rows(inst):
    table = read_table(DATA / "legacy_two_rows.csv")
    assert qualtrics.detect(table)
    raw = qualtrics.read_responses(table, inst)
    assert raw.details["header_rows"] == 2 and not raw.details["import_id_row"]
    assert raw.data["tk_1"].tolist() == ["3", "2"]
    assert raw.meta["respondent"].tolist() == ["R_legacy00000001", "R_legacy00000002"]
    assert raw.meta["finished"].tolist() == [True, False]
    assert raw.source_row.tolist() == [1, 2]


def test_import_id_maps_untagged_columns(inst):
    # the generator writes ImportId "QID_<name>"; Qualtrics' own "QID9" stays unmapped
    assert qualtrics.column_map(["Q5_1", "Q9"], ["QID_tk_1", "QID9"], inst) == {0: "tk_1"}


def test_detect_rejects_codebook_layout(tmp_path):
    p = tmp_path / "plain.csv"
    p.write_text("respondent_id,tk_1\nF1,3\n", encoding="utf-8")
    assert qualtrics.detect(read_table(p)) is None


@pytest.mark.parametrize("labels", [False, True])
def test_round_trip(tmp_path, inst, labels):
    gen = generate(n=40, seed=5)
    path = write_data(gen, tmp_path / "q.csv", fmt="qualtrics", instrument=inst, labels=labels)[0]
    table = read_table(path)
    assert qualtrics.detect(table)
    raw = qualtrics.read_responses(table, inst)
    assert raw.details["values"] == ("labels" if labels else "codes")
    questions = [c for c in gen.data.columns if c not in ("respondent_id", "duration_sec")]
    assert list(raw.data.columns) == questions
    assert raw.meta["respondent"].tolist() == [str(x) for x in gen.data["respondent_id"]]
    assert raw.source_row.tolist() == list(range(1, 41))
    assert raw.meta["finished"].tolist() == gen.respondents["finished"].astype(bool).tolist()
    sel = inst.select(gen.sidecar["modules"])
    v = sel.variable("tk_1")
    expect = [("" if pd.isna(x) else (sel.value_labels(v)[int(x)] if labels else str(int(x))))
              for x in gen.data["tk_1"]]
    got = [s[:-2] if s.endswith(".0") else s for s in raw.data["tk_1"]]
    assert got == expect
    assert not raw.unknown
    np.testing.assert_allclose(raw.meta["duration_sec"], gen.data["duration_sec"].astype(float))


def test_same_seed_byte_identical(tmp_path, inst):
    a = write_data(generate(n=10, seed=2), tmp_path / "a.csv", fmt="qualtrics", instrument=inst)[0]
    b = write_data(generate(n=10, seed=2), tmp_path / "b.csv", fmt="qualtrics", instrument=inst)[0]
    assert a.read_bytes() == b.read_bytes()


def test_sav_export(tmp_path, inst):
    import pyreadstat

    frame = pd.DataFrame({"StartDate": pd.to_datetime(["2024-03-04 09:12:01", "2024-03-05 10:00:00"]),
                          "EndDate": pd.to_datetime(["2024-03-04 09:25:40", "2024-03-05 10:09:00"]),
                          "Status": [0.0, 8.0], "IPAddress": ["192.0.2.10", "192.0.2.12"],
                          "Duration__in_seconds_": [819.0, 540.0], "Finished": [1.0, 0.0],
                          "ResponseId": ["R_a", "R_b"], "ExternalReference": ["", ""],
                          "tk_1": [5.0, 1.0], "Q7_1": [3.0, 2.0]})
    path = tmp_path / "qualtrics.sav"
    pyreadstat.write_sav(frame, str(path), variable_value_labels={"tk_1": {1.0: "Not at all"}})
    table = read_table(path)
    assert qualtrics.detect(table)
    raw = qualtrics.read_responses(table, inst)
    assert raw.data["tk_1"].tolist() == [5.0, 1.0]
    assert raw.meta["respondent"].tolist() == ["R_a", "R_b"]
    assert raw.meta["finished"].tolist() == [True, False]
    assert raw.meta["status"].tolist() == ["0", "8"]
    assert raw.meta["duration_sec"].tolist() == [819.0, 540.0]
    assert raw.identifiers == ("IPAddress",) and "IPAddress" not in raw.data.columns


def test_two_columns_for_one_variable_is_an_error(tmp_path, inst):
    from smecore.errors import DataError

    p = tmp_path / "dup.csv"
    p.write_text("StartDate,ResponseId,tk_1,TK_1\n2024-01-01 10:00:00,R_a,3,4\n", encoding="utf-8")
    with pytest.raises(DataError, match="dup.csv: columns 3 'tk_1' and 4 'TK_1' both hold variable 'tk_1'"):
        qualtrics.read_responses(read_table(p), inst)

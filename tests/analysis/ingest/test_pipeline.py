"""The ingest pipeline on a hand-written codebook-layout file."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis.ingest import pipeline
from analysis.ingest.detect import declared_missing, read_raw
from analysis.ingest.pipeline import csv_text, ingest
from instrument import load_instrument
from smecore.errors import DataError

DATA = Path(__file__).resolve().parents[2] / "data" / "ingest"
MIXED = DATA / "pipeline_mixed.csv"


@pytest.fixture()
def key(tmp_path):
    k = tmp_path / "key"
    k.write_text("0123456789abcdef0123456789abcdef")
    return k


def test_rows_cells_and_outputs(tmp_path, key):
    before = hashlib.sha256(MIXED.read_bytes()).hexdigest()
    res = ingest(MIXED, tmp_path / "a", key=key)
    assert hashlib.sha256(MIXED.read_bytes()).hexdigest() == before
    assert res.rows["status"].tolist() == ["kept", "kept", "excluded", "excluded"]  # kept + excluded == read
    assert res.rows["reasons"].iloc[2] == "empty row"
    assert res.rows["reasons"].iloc[3] == "duplicate respondent id (first in source row 1)"
    reasons = {(r.source_row, r.variable): r.reason for r in res.cells.itertuples()}
    assert reasons[(1, "tk_1")] == "label recoded"
    assert reasons[(1, "tk_2")] == "text in numeric item"
    assert reasons[(2, "tk_2")] == "missing marker"
    assert reasons[(1, "firm_export_ratio")].startswith("out of range set missing")
    assert reasons[(1, "firm_first_foreign_sale")].startswith("impossible")
    assert reasons[(1, "firm_cluster_org")] == "formula escaped"
    assert reasons[(2, "tk_1")].startswith("out of range")
    assert res.responses["tk_1"].tolist()[0] == 7.0 and pd.isna(res.responses["tk_1"].iloc[1])
    assert res.responses["firm_cluster_org"].iloc[0] == "'=HYPERLINK(\"http://x\")"
    assert "ip" not in res.responses.columns and res.provenance["dropped_identifier_columns"] == ["ip"]
    assert "r1" not in set(res.responses["respondent_id"])
    res2 = ingest(MIXED, tmp_path / "b", key=key)  # same key -> byte-identical outputs (bar versions)
    for name in ("responses.csv", "rows.csv", "cells.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert res2.provenance["input_sha256"] == before


def test_strict_names_file_row_column_value(tmp_path):
    with pytest.raises(DataError, match=r"pipeline_mixed.csv: row 3: column '\(all\)': value '': empty row"):
        ingest(MIXED, strict=True)  # row problems are the first class checked
    one = tmp_path / "one.csv"
    one.write_text("respondent_id,tk_1,tk_2,tk_3,tk_4\nr1,1,seven,1,1\n")
    with pytest.raises(DataError, match=r"one.csv: row 1: column 'tk_2': value 'seven': text in numeric item"):
        ingest(one, strict=True)


def test_keep_identifiers(key):
    res = ingest(MIXED, key=key, keep_identifiers=True)
    assert res.responses["respondent_id"].tolist() == ["r1", "r2"] and "ip" in res.responses.columns


TK = ["tk_1", "tk_2", "tk_3", "tk_4"]
#: twelve items (three whole constructs), so a row can reach the duplicate-submission threshold
ITEMS12 = TK + ["mk_1", "mk_2", "mk_3", "mk_4", "ik_1", "ik_2", "ik_3", "ik_4"]


def _csv(tmp_path, header: list[str], rows: list[list[str]], name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    return path


def test_missing_markers_are_missing_not_text(tmp_path):
    markers = ["N/A", "n/a", "NA", "na", "#N/A", "-", ".", " N/A "]
    path = _csv(tmp_path, ["respondent_id", "firm_employees", "firm_cluster_org"],
                [[f"r{i}", m, "N/A"] for i, m in enumerate(markers)] + [["rx", "lots", "x"]])
    res = ingest(path)
    cells = res.cells[res.cells["variable"] == "firm_employees"]
    assert cells["reason"].tolist() == ["missing marker"] * len(markers) + ["text in numeric item"]
    assert cells["original"].tolist()[:len(markers)] == [m.strip() for m in markers]
    assert res.responses["firm_employees"].isna().all()
    assert res.responses["firm_cluster_org"].tolist()[0] == "N/A"  # a text item keeps what was written


def test_missing_marker_in_strict_mode(tmp_path):
    path = _csv(tmp_path, ["respondent_id", "firm_employees"], [["r1", "5"], ["r2", "#N/A"]])
    with pytest.raises(DataError, match=r"f.csv: row 2: column 'firm_employees': value '#N/A': missing marker"):
        ingest(path, strict=True)


def _sav(path: Path) -> Path:
    frame = pd.DataFrame({"respondent_id": ["r1", "r2", "r3"], "tk_1": [99.0, 3.0, -99.0], "tk_2": [1.0, 99.0, 2.0],
                          "tk_3": [1.0, 2.0, 3.0], "tk_4": [1.0, 2.0, 3.0], "firm_employees": [99.0, 5.0, 99.0]})
    pyreadstat.write_sav(frame, str(path), missing_ranges={"tk_1": [99], "tk_2": [{"lo": 98, "hi": 99}]})
    return path


def test_declared_missing_codes_are_per_variable(tmp_path):
    path = _sav(tmp_path / "d.sav")
    raw = read_raw(path, load_instrument())
    assert raw.missing_by_variable == {"tk_1": ("99",), "tk_2": ("98", "99")}
    res = ingest(path)
    assert res.provenance["declared_missing_codes"] == {"tk_1": ["99"], "tk_2": ["98", "99"]}
    reasons = {(r.source_row, r.variable): r.reason for r in res.cells.itertuples()}
    assert reasons == {(1, "tk_1"): "declared missing code", (2, "tk_2"): "declared missing code",
                       (3, "tk_1"): "platform missing code"}  # the global -99 stays missing everywhere
    assert res.responses["firm_employees"].tolist() == [99.0, 5.0, 99.0]  # 99 is an answer there
    assert np.isnan(res.responses["tk_1"].iloc[0]) and res.responses["tk_1"].iloc[1] == 3.0


def test_limesurvey_sav_user_missing_reach_the_codebook_names(tmp_path):
    """A LimeSurvey SPSS export names items by their LimeSurvey codes (tk1): the user-missing 99 declared for
    tk1 applies to tk_1, and stays an answer in tk2 / tk_2."""
    path = tmp_path / "lime.sav"
    frame = pd.DataFrame({"id": [1.0, 2.0, 3.0], "submitdate": ["2026-03-01 10:00:00"] * 3,
                          "tk1": [99.0, 3.0, 4.0], "tk2": [1.0, 2.0, 3.0], "tk3": [1.0, 2.0, 3.0],
                          "tk4": [1.0, 2.0, 3.0]})
    pyreadstat.write_sav(frame, str(path), missing_ranges={"tk1": [99]})
    raw = read_raw(path, load_instrument())
    assert raw.format == "limesurvey" and raw.missing_by_variable == {"tk_1": ("99",)}
    res = ingest(path)
    reasons = {(r.source_row, r.variable): r.reason for r in res.cells.itertuples()}
    assert reasons == {(1, "tk_1"): "declared missing code"}
    assert np.isnan(res.responses["tk_1"].iloc[0]) and res.responses["tk_1"].iloc[1] == 3.0


def test_declared_missing_ranges():
    ranges = {"a": [{"lo": 99.0, "hi": 99.0}, {"lo": -9.0, "hi": -7.0}], "b": [{"lo": 0.5, "hi": 1.5}],
              "c": [{"lo": 1.0, "hi": 1.0}]}
    assert declared_missing(ranges, ["a", "b"]) == {"a": ("99", "-9", "-8", "-7")}


def _raw_with_exclusions(path, instrument, format="auto"):
    raw = read_raw(path, instrument, format)
    meta = raw.meta.copy()
    meta["exclude"] = ["", "platform says: test response", ""]
    return dataclasses.replace(raw, meta=meta)


def test_any_reader_can_exclude_rows(tmp_path, monkeypatch):
    path = _csv(tmp_path, ["respondent_id", "firm_employees"], [["r1", "1"], ["r2", "2"], ["r2", "3"]])
    monkeypatch.setattr(pipeline, "read_raw", _raw_with_exclusions)
    res = ingest(path)
    assert res.rows["status"].tolist() == ["kept", "excluded", "kept"]  # an excluded row's id is not "taken"
    assert res.rows["reasons"].tolist() == ["", "platform says: test response", ""]
    with pytest.raises(DataError, match=r"row 2: column '\(row\)': value 'r2': platform says: test response"):
        ingest(path, strict=True)


def test_qualtrics_choice_text_status(tmp_path):
    head = ["StartDate", "EndDate", "Status", "ResponseId", "ExternalReference", *TK]
    rows = [["2026-03-01 10:00:00", "2026-03-01 10:10:00", s, f"R_{k}", f"e{k}", "1", "2", "3", "4"]
            for k, s in enumerate(["IP Address", "Survey Preview", "spam", "Imported", "17"])]
    res = ingest(_csv(tmp_path, head, [head, *rows]))  # legacy two header rows (names, then texts)
    assert res.rows["reasons"].tolist() == ["", "Qualtrics response type Survey Preview (Status 1)",
                                            "Qualtrics response type Spam (Status 8)", "",
                                            "Qualtrics response type Offline Survey Preview (Status 17)"]


def test_duplicate_submissions(tmp_path):
    a = ["1", "2", "3", "4", "5", "6", "7", "1", "2", "3", "4", "5"]
    nine = a[:9] + ["", "", ""]
    path = _csv(tmp_path, ["respondent_id", *ITEMS12, "firm_cluster_org"],
                [["r1", *a, "Acme"], ["r2", *a, "Acme"], ["r3", *a, "Other"], ["r4", *nine, ""], ["r5", *nine, ""],
                 ["r6", *a, "Acme"], ["r2", *a, "Acme"]])
    res = ingest(path)
    assert res.rows["reasons"].tolist() == [
        "", "duplicate submission (same answers as source row 1)", "",  # r3: a text answer differs
        "", "",  # nine answers: below the threshold of ten
        "duplicate submission (same answers as source row 1)",
        "duplicate respondent id (first in source row 2)"]
    two = _csv(tmp_path, ["respondent_id", *ITEMS12], [["r1", *a], ["r2", *a]], name="two.csv")
    with pytest.raises(DataError, match=r"two.csv: row 2: column '\(all\)': value 'same answers as source row 1': "
                                        "duplicate submission"):
        ingest(two, strict=True)


def test_labels_and_codes_are_the_same_answers(tmp_path):
    a = ["1", "2", "3", "4", "5", "6", "7", "1", "2", "3", "4", "5"]
    b = ["Not at all"] + a[1:]
    res = ingest(_csv(tmp_path, ["respondent_id", *ITEMS12], [["r1", *a], ["r2", *b]]))
    assert res.rows["reasons"].tolist()[1] == "duplicate submission (same answers as source row 1)"


def test_partly_missing_construct_is_an_error(tmp_path):
    path = _csv(tmp_path, ["respondent_id", "tk_1", "tk_3", "mk_1", "mk_2", "mk_3", "mk_4"], [["r1"] + ["1"] * 6])
    with pytest.raises(DataError) as exc:
        ingest(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}: construct TK is only partly in the file: columns tk_2, tk_4 missing")
    assert "add the missing columns" in msg and "\n" not in msg
    whole = _csv(tmp_path, ["respondent_id", *TK], [["r1", "1", "2", "3", "4"]], name="whole.csv")
    assert "M2" in ingest(whole).provenance["modules_not_fielded"]  # a construct with no item: not fielded


def test_csv_text_matches_pandas():
    frame = pd.DataFrame({"a": [1.0, np.nan, 0.1 + 0.2, 1e16, -0.0, 1e-7, 12345678.9],
                          "b": ["x,y", 'q"uote', "line\nbreak", "", None, " sp ", "'=1"],
                          "c": [1, 2, 3, 4, 5, 6, 7], "d": [True, False, True, False, True, False, True]})
    assert csv_text(frame) == frame.to_csv(index=False, lineterminator="\n")
    one = pd.DataFrame({"only": ["", "x", np.nan]}, dtype=object)
    assert csv_text(one) == one.to_csv(index=False, lineterminator="\n")
    assert csv_text(pd.DataFrame(columns=["x", "y"])) == "x,y\n"


def test_modules_not_fielded_counts_scale_items_only(tmp_path):
    """An M2-only file (with the attention checks, which sit in module pages) has not fielded M1."""
    from synthetic_data.generate import generate
    from synthetic_data.writers import write_data

    path = tmp_path / "m2.csv"
    write_data(generate(world="theory", n=30, seed=4, modules=["M2"]), path, "csv")
    prov = ingest(path, key=None).provenance
    inst = load_instrument()
    assert set(prov["modules_not_fielded"]) == set(inst.module_ids) - {"M0", "M2"}

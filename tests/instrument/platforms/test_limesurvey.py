"""LimeSurvey platform module: hand-written response exports (answer codes and full answers,
question-code headings as LimeSurvey's "Export results" writes them), the generator round trip,
and the TSV survey structure checked against the importer's id logic."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from instrument import load_instrument
from instrument.platforms import limesurvey
from instrument.platforms.tables import read_table
from synthetic_data.generate import generate
from synthetic_data.writers import write_data

DATA = Path(__file__).resolve().parents[2] / "data" / "platforms" / "limesurvey"


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


def test_answer_codes_export(inst):
    path = DATA / "answer_codes.csv"
    before = path.read_bytes()
    table = read_table(path)
    assert limesurvey.detect(table)
    raw = limesurvey.read_responses(table, inst)
    assert path.read_bytes() == before
    # TK[SQ001] (LimeSurvey's default subquestion codes), TK[tk3] (ours), firmemployees -> firm_employees
    assert list(raw.data.columns) == ["firm_employees", "firm_sector", "tk_1", "tk_2", "tk_3"]
    assert raw.data["tk_1"].tolist() == ["5", "2", "7"]
    assert raw.details["values"] == "codes"
    assert raw.meta["respondent"].tolist() == ["1", "2", "3"]
    assert raw.meta["finished"].tolist() == [True, False, True]  # empty submitdate: incomplete
    assert pd.isna(raw.meta["ended"][1]) and raw.meta["ended"][0] == pd.Timestamp("2024-03-04 09:25:40")
    assert raw.meta["duration_sec"].tolist() == [819.5, 190.0, 660.0]
    assert raw.details["timing_columns"] == ("groupTime1", "firmemployeesTime")
    assert raw.identifiers == ("ipaddr",) and "192.0.2.10" not in raw.data.to_numpy().ravel().tolist()
    assert raw.identifying["ipaddr"].tolist()[0] == "192.0.2.10"
    assert raw.unknown == ()
    assert raw.source_row.tolist() == [1, 2, 3]


def test_full_answers_export(inst):
    raw = limesurvey.read_responses(read_table(DATA / "full_answers.csv"), inst)
    assert raw.details["values"] == "labels"
    assert raw.data["tk_1"].tolist() == ["To a considerable extent", "Not at all"]
    assert raw.meta["finished"].tolist() == [True, False]


def test_headings_agree_with_questionnaire_export(inst):
    headings = limesurvey.column_names(inst)
    for v in inst.variables(paradata=False):
        assert headings[limesurvey.limesurvey_column(inst, v.name)] == v.name
    assert headings["TK_SQ002"] == "tk_2" and headings["TKSQ002"] == "tk_2"  # SPSS / old code styles


def test_detect_rejects_qualtrics(inst):
    assert limesurvey.detect(read_table(DATA.parent / "qualtrics" / "numeric_values.csv")) is None


@pytest.mark.parametrize("labels", [False, True])
def test_round_trip(tmp_path, inst, labels):
    gen = generate(n=40, seed=6)
    path = write_data(gen, tmp_path / "l.csv", fmt="limesurvey", instrument=inst, labels=labels)[0]
    raw = limesurvey.read_responses(read_table(path), inst)
    assert raw.details["values"] == ("labels" if labels else "codes")
    questions = [c for c in gen.data.columns if c not in ("respondent_id", "duration_sec")]
    assert list(raw.data.columns) == questions and not raw.unknown
    assert raw.source_row.tolist() == list(range(1, 41))
    assert raw.meta["finished"].tolist() == gen.respondents["finished"].astype(bool).tolist()
    np.testing.assert_allclose(raw.meta["duration_sec"], gen.data["duration_sec"].astype(float))
    sel = inst.select(gen.sidecar["modules"])
    vl = sel.value_labels(sel.variable("tk_1"))
    expect = ["" if pd.isna(x) else (vl[int(x)] if labels else str(int(x))) for x in gen.data["tk_1"]]
    assert [s[:-2] if s.endswith(".0") else s for s in raw.data["tk_1"]] == expect


def test_sav_export(tmp_path, inst):
    import pyreadstat

    frame = pd.DataFrame({"id": [1.0, 2.0], "submitdate": pd.to_datetime(["2024-03-04 09:25:40", None]),
                          "startdate": pd.to_datetime(["2024-03-04 09:12:01", "2024-03-05 14:00:00"]),
                          "TK_SQ001": [5.0, 2.0], "firmsector": [7.0, 3.0]})
    path = tmp_path / "lime.sav"
    pyreadstat.write_sav(frame, str(path))
    table = read_table(path)
    assert limesurvey.detect(table)
    raw = limesurvey.read_responses(table, inst)
    assert raw.data["tk_1"].tolist() == [5.0, 2.0]
    assert raw.meta["respondent"].tolist() == ["1", "2"]
    assert raw.meta["finished"].tolist() == [True, False]


def _import_ids(rows: list[dict]) -> dict[str, list[tuple[int, int]]]:
    """Re-implementation of the qid assignment in LimeSurvey's ``TSVImportSurvey``
    (application/helpers/admin/import_helper.php, LimeSurvey/LimeSurvey at commit
    50870a0767a3b132344a195bcaa354be82eecddf, function TSVImportSurvey): a ``Q`` row takes its ``id``
    as qid (or the next free number) and becomes the current parent; an ``SQ`` row takes its own
    ``id`` as its qid with parent_qid = the current question; rows of further languages with the same
    id are translations of the same question. Returns base-language ``{code: [(qid, parent_qid)]}``."""
    seen_ids: dict[int, str] = {}
    out: dict[str, list[tuple[int, int]]] = {}
    parent = 0
    base = rows[0]["text"]
    for r in rows:
        if r["class"] not in ("Q", "SQ") or r["language"] != base:
            continue
        qid = int(r["id"])
        assert qid not in seen_ids, f"{r['class']} {r['name']} reuses id {qid} of {seen_ids[qid]}"
        seen_ids[qid] = r["name"]
        if r["class"] == "Q":
            parent = qid
            out.setdefault(r["name"], []).append((qid, 0))
        else:
            out.setdefault(r["name"], []).append((qid, parent))
    return out


def test_tsv_subquestions_get_own_ids(tmp_path, inst):
    path = limesurvey.write_questionnaire(inst, tmp_path / "survey.txt")[0]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    ids = _import_ids(rows)
    tk = [ids[limesurvey.limesurvey_code(n)][0] for n in ("tk_1", "tk_2", "tk_3")]
    parent = ids["TK"][0][0]
    assert all(p == parent for _, p in tk) and len({q for q, _ in tk}) == 3
    likert = [v for v in inst.variables(paradata=False) if v.kind == "likert"]
    assert all(limesurvey.limesurvey_code(v.name) in ids for v in likert)
    # same ids in every language (translations map onto the same question)
    for lang in inst.languages[1:]:
        other = [(r["class"], r["id"], r["name"]) for r in rows if r["class"] in ("Q", "SQ") and r["language"] == lang]
        base = [(r["class"], r["id"], r["name"]) for r in rows if r["class"] in ("Q", "SQ")
                and r["language"] == inst.languages[0]]
        assert other == base


def test_tsv_numeric_ranges(tmp_path, inst):
    path = limesurvey.write_questionnaire(inst, tmp_path / "survey.txt")[0]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["name"] == "firmemployees"]
    assert rows[0]["type/scale"] == "N"
    assert (rows[0]["min_num_value_n"], rows[0]["max_num_value_n"]) == ("1", "249")

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


def _tsv_import(rows: list[dict]) -> dict[str, tuple[int, int]]:
    """Re-implementation of the id logic of LimeSurvey's importer, as read in
    application/helpers/admin/import_helper.php (LimeSurvey/LimeSurvey, commit
    00109dd9e571f1e58043082261794556e3d275ba):

    * ``TSVImportSurvey``, case ``'Q'``: key ``'G'.$gid.'_'.$qname``; the first row with that key
      takes ``$row['id']`` as qid (or ``++$qidNew`` when empty), later rows (other languages) reuse it;
    * case ``'SQ'``: ``parent_qid = $qid`` (the current question); key
      ``'G'.$gid.'Q'.$qid.'_'.$scale_id.'_'.$sqname``; qid = ``$row['id']`` (or ``++$qidNew``);
    * the XML import then saves a (sub)question only ``if (!isset($aQIDReplacements[$iOldQID]))`` -
      questions first, then subquestions, in one qid map (seen in ``XMLImportGroup`` of the same file;
      ``XMLImportSurvey`` follows the same pattern) - so a subquestion whose id equals an already
      imported question's id is silently dropped.

    Returns the saved base-language rows: ``{code: (qid, parent_qid)}`` (parent 0 for questions)."""
    qinfo: dict[str, int] = {}
    sqinfo: dict[str, int] = {}
    questions, subquestions = [], []
    gid = qid = qid_new = 0
    for r in rows:
        if r["class"] == "G":
            gid = int(r["id"])
        elif r["class"] == "Q":
            key = f"G{gid}_{r['name']}"
            if key not in qinfo:
                qid_new += 1
                qinfo[key] = int(r["id"]) if r["id"] else qid_new
            qid = qinfo[key]
            questions.append((qid, r["name"], 0))
        elif r["class"] == "SQ":
            key = f"G{gid}Q{qid}_{r['type/scale'] or 0}_{r['name']}"
            if key not in sqinfo:
                qid_new += 1
                sqinfo[key] = int(r["id"]) if r["id"] else qid_new
            subquestions.append((sqinfo[key], r["name"], qid))
    saved: dict[int, tuple[str, int]] = {}
    for old, name, parent in questions + subquestions:
        if old not in saved:
            saved[old] = (name, parent)
    return {name: (old, parent) for old, (name, parent) in saved.items()}


def test_importer_emulation_drops_subquestions_sharing_parent_id():
    """The emulation can fail: the old layout (every SQ row with its parent's id) loses the items."""
    rows = [{"class": "G", "id": "1", "name": "g", "type/scale": ""},
            {"class": "Q", "id": "1", "name": "TK", "type/scale": "F"},
            {"class": "SQ", "id": "1", "name": "tk1", "type/scale": "0"},
            {"class": "SQ", "id": "1", "name": "tk2", "type/scale": "0"}]
    assert set(_tsv_import(rows)) == {"TK"}


def test_tsv_subquestions_get_own_ids(tmp_path, inst):
    path = limesurvey.write_questionnaire(inst, tmp_path / "survey.txt", inst.languages)[0]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    saved = _tsv_import(rows)
    parent = saved["TK"][0]
    assert [saved[c][1] for c in ("tk1", "tk2", "tk3")] == [parent] * 3
    # every item of every grid survives the import
    for v in inst.variables(paradata=False):
        assert limesurvey.limesurvey_code(v.name) in saved, v.name
    # same ids in every language (translations land on the same question)
    def ids(lang):
        return [(r["class"], r["id"], r["name"]) for r in rows if r["class"] in ("Q", "SQ") and r["language"] == lang]
    assert len(inst.languages) == 4
    for lang in inst.languages[1:]:
        assert ids(lang) == ids(inst.languages[0])


def test_tsv_numeric_ranges(tmp_path, inst):
    path = limesurvey.write_questionnaire(inst, tmp_path / "survey.txt")[0]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["name"] == "firmemployees"]
    assert rows[0]["type/scale"] == "N"
    assert (rows[0]["min_num_value_n"], rows[0]["max_num_value_n"]) == ("1", "249")


def test_two_columns_for_one_variable_is_an_error(tmp_path, inst):
    from smecore.errors import DataError

    p = tmp_path / "dup.csv"
    p.write_text('"id","submitdate","TK[SQ001]","TK[tk1]"\n"1","","3","4"\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"dup.csv: columns 3 'TK\[SQ001\]' and 4 'TK\[tk1\]' both hold variable 'tk_1'"):
        limesurvey.read_responses(read_table(p), inst)


def test_tsv_records_dates_and_timings(tmp_path, inst):
    """Survey settings ``datestamp`` / ``savetimings`` = Y make LimeSurvey store startdate, submitdate,
    datestamp and the interviewtime / groupTime columns the reader maps to meta."""
    path = limesurvey.write_questionnaire(inst, tmp_path / "survey.txt")[0]
    with path.open(encoding="utf-8", newline="") as fh:
        settings = {r["name"]: r["text"] for r in csv.DictReader(fh, delimiter="\t") if r["class"] == "S"}
    assert settings["datestamp"] == "Y" and settings["savetimings"] == "Y"


def test_participant_attributes_are_identifiers(tmp_path, inst):
    """An export with "participant information" chosen: token, firstname, lastname, email and attribute_N."""
    p = tmp_path / "tokens.csv"
    p.write_text('"id","token","firstname","lastname","email","attribute_1","submitdate","lastpage","startlanguage",'
                 '"seed","startdate","datestamp","firmemployees"\n'
                 '"1","tok1","Anna","Virtanen","anna@example.org","+358 40 1234567","2024-03-04 09:25:40","4","en",'
                 '"1","2024-03-04 09:12:01","2024-03-04 09:25:40","12"\n', encoding="utf-8")
    raw = limesurvey.read_responses(read_table(p), inst)
    assert raw.identifiers == ("token", "firstname", "lastname", "email", "attribute_1")
    assert raw.identifying["attribute_1"].tolist() == ["+358 40 1234567"]
    assert raw.unknown == () and list(raw.data.columns) == ["firm_employees"]


def test_tsv_has_hidden_respondent_id_question(tmp_path, inst):
    """The respondent id travels as a hidden short-text question (type S, attribute hidden=1), first in group 1,
    with its own id in every language - the importer keeps it as a question of its own."""
    path = limesurvey.write_questionnaire(inst, tmp_path / "survey.txt", inst.languages)[0]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    base = [r for r in rows if r["language"] == inst.languages[0] and r["class"] in ("G", "Q", "SQ")]
    assert base[0]["class"] == "G" and base[1]["name"] == limesurvey.RESPONDENT_CODE
    assert (base[1]["class"], base[1]["type/scale"], base[1]["hidden"]) == ("Q", "S", "1")
    assert sum(r["name"] == limesurvey.RESPONDENT_CODE for r in rows) == len(inst.languages)
    saved = _tsv_import(rows)
    assert saved[limesurvey.RESPONDENT_CODE][1] == 0  # a question, not a subquestion
    assert len({qid for qid, _ in saved.values()}) == len(saved)  # no id shared


def test_respondent_id_question_gives_the_respondent(tmp_path, inst):
    """A "question code" export whose respondentid column is filled: the respondent is that id; one empty
    id (not prefilled) and the response id is used for every row, so ids are never mixed."""
    head = '"id","submitdate","lastpage","startlanguage","seed","startdate","datestamp","respondentid","firmemployees"\n'
    p = tmp_path / "ids.csv"
    p.write_text(head + '"1","2024-03-04 09:25:40","6","en","11","2024-03-04 09:12:01","2024-03-04 09:25:40",'
                 '"F-017","12"\n"2","","2","en","12","2024-03-05 14:00:00","2024-03-05 14:03:10","F-018","40"\n',
                 encoding="utf-8")
    raw = limesurvey.read_responses(read_table(p), inst)
    assert raw.meta["respondent"].tolist() == ["F-017", "F-018"]
    assert raw.details["respondent_from"] == "respondentid" and raw.unknown == ()
    assert list(raw.data.columns) == ["firm_employees"]
    p.write_text(head + '"1","2024-03-04 09:25:40","6","en","11","2024-03-04 09:12:01","2024-03-04 09:25:40",'
                 '"F-017","12"\n"2","","2","en","12","2024-03-05 14:00:00","2024-03-05 14:03:10","","40"\n',
                 encoding="utf-8")
    raw = limesurvey.read_responses(read_table(p), inst)
    assert raw.meta["respondent"].tolist() == ["1", "2"] and raw.details["respondent_from"] == "id"


def test_round_trip_keeps_the_respondent_id(tmp_path, inst):
    gen = generate(n=12, seed=8)
    path = write_data(gen, tmp_path / "l.csv", fmt="limesurvey", instrument=inst)[0]
    raw = limesurvey.read_responses(read_table(path), inst)
    assert raw.meta["respondent"].tolist() == [str(x) for x in gen.data["respondent_id"]]

"""Pages (one per fielded section) and the per-page timers the platform modules read and write: a
LimeSurvey export with ``groupTime<gid>`` columns laid out as LimeSurvey's ``createTimingsFieldMap``
orders them (``interviewtime``, then per group ``groupTime<gid>`` and its questions' ``<code>Time``),
and Qualtrics Timing questions ``<page>_timer``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from instrument import load_instrument
from instrument.platforms import limesurvey, qualtrics
from instrument.platforms.base import MARKER_PAGE, fielded, page_ids, page_variables
from instrument.platforms.tables import read_table
from synthetic_data.generate import generate
from synthetic_data.knobs import Knobs
from synthetic_data.writers import write_data

DATA = Path(__file__).resolve().parents[2] / "data" / "platforms" / "limesurvey"


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


def test_pages_are_the_sections_in_fielded_order(inst):
    assert page_ids(inst) == ["M0", "M1", "M2", "M3", "M4", "M5", MARKER_PAGE]
    assert page_ids(inst.select(["M3"])) == ["M0", "M3", MARKER_PAGE]
    pv = page_variables(inst)
    assert pv[MARKER_PAGE] == inst.items_of("MKR")
    assert pv["M0"][0] == "firm_employees" and "tk_1" in pv["M1"]
    # every questionnaire variable is on exactly one page
    on_pages = [v for vs in pv.values() for v in vs]
    assert sorted(on_pages) == sorted(v.name for v in inst.variables(paradata=False))
    assert len(on_pages) == len(set(on_pages))


def test_fielded_follows_the_scale_items(inst):
    assert page_ids(fielded(inst, ["firm_employees", "le_1", "mkr_1"])) == ["M0", "M2", MARKER_PAGE]
    assert page_ids(fielded(inst, ["firm_employees"])) == page_ids(inst)  # no scale item: every module
    # whatever the instrument was restricted to: the attention check sits on the first module fielded
    cols = ["le_1", "cbc_1"]
    assert page_variables(fielded(inst.select(["M4"]), cols)) == page_variables(fielded(inst, cols))
    assert "attn_1" in page_variables(fielded(inst, cols))["M2"]
    assert "attn_1" not in page_variables(inst)["M2"]


def test_limesurvey_groups_are_the_pages(inst):
    groups = [r["name"] for r in limesurvey.questionnaire_rows(inst) if r["class"] == "G" and r["language"] == "en"]
    assert len(groups) == len(page_ids(inst))
    rows = limesurvey.questionnaire_rows(inst)
    group_of, gid = {}, 0
    for r in rows:
        if r.get("language") != "en":
            continue
        if r["class"] == "G":
            gid = r["id"]
        elif r["class"] in ("Q", "SQ") and r["name"] != limesurvey.RESPONDENT_CODE:
            group_of[r["name"]] = gid
    for k, (pid, names) in enumerate(page_variables(inst).items(), start=1):
        for name in names:
            code = limesurvey.limesurvey_code(name)
            assert group_of[code] == k, (pid, name)


def test_qualtrics_blocks_are_the_pages(inst):
    blocks = [line for line in qualtrics.questionnaire_lines(inst) if line.startswith("[[Block:")]
    assert [b.split(":", 1)[1].split()[0] for b in blocks[1:]] == ["M0", "M1", "M2", "M3", "M4", "M5", "M0"]


def test_limesurvey_group_times_as_documented(inst):
    raw = limesurvey.read_responses(read_table(DATA / "group_times.csv"), inst)
    assert raw.details["page_timers"] == {"M0": "groupTime21", "M2": "groupTime22", MARKER_PAGE: "groupTime23"}
    assert "page_timers_note" not in raw.details
    assert list(raw.pages.columns) == ["M0", "M2", MARKER_PAGE]
    assert raw.pages["M0"].tolist() == [120.25, 30.0, 60.0]
    assert raw.pages["M2"].tolist()[:2] == [600.5, 140.01] and np.isnan(raw.pages["M2"][2])
    assert raw.pages[MARKER_PAGE].tolist()[:2] == [68.75, 20.0]
    assert raw.meta["duration_sec"].tolist() == [819.5, 190.0, 60.0]
    assert raw.meta["respondent"].tolist() == ["F001", "F002", "F003"]
    # timing columns are neither answers nor unknown columns
    assert raw.unknown == () and not any(c.endswith("Time") for c in raw.data.columns)


def _drop_column(path: Path, column: str, out: Path) -> Path:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    k = rows[0].index(column)
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([r[:k] + r[k + 1:] for r in rows])
    out.write_text(buf.getvalue(), encoding="utf-8")
    return out


def test_limesurvey_group_count_not_the_page_count_is_a_note(tmp_path, inst):
    path = _drop_column(DATA / "group_times.csv", "groupTime23", tmp_path / "two_groups.csv")
    raw = limesurvey.read_responses(read_table(path), inst)
    assert raw.pages is None and "page_timers" not in raw.details
    assert raw.details["page_timers_note"].startswith("2 groupTime columns but 3 pages fielded")


def test_limesurvey_without_timings_is_a_note(inst):
    raw = limesurvey.read_responses(read_table(DATA / "full_answers.csv"), inst)
    assert raw.pages is None and "no groupTime columns" in raw.details["page_timers_note"]


@pytest.fixture(scope="module")
def gen_pages():
    return generate(n=30, seed=11, modules=["M2"], knobs=Knobs().with_changes(page_durations=True))


def test_limesurvey_writer_round_trip(tmp_path, inst, gen_pages):
    path = write_data(gen_pages, tmp_path / "l.csv", fmt="limesurvey", instrument=inst)[0]
    header = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert header[-4:] == ["interviewtime", "groupTime1", "groupTime2", "groupTime3"]
    raw = limesurvey.read_responses(read_table(path), inst)
    pd.testing.assert_frame_equal(raw.pages, gen_pages.pages.reset_index(drop=True), check_dtype=False)


def test_limesurvey_writer_without_page_times_writes_interviewtime_only(tmp_path, inst):
    gen = generate(n=5, seed=11, modules=["M2"])
    assert gen.pages is None
    path = write_data(gen, tmp_path / "l.csv", fmt="limesurvey", instrument=inst)[0]
    header = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert header[-1] == "interviewtime" and not any(h.startswith("groupTime") for h in header)


def test_qualtrics_timer_round_trip(tmp_path, inst, gen_pages):
    path = write_data(gen_pages, tmp_path / "q.csv", fmt="qualtrics", instrument=inst)[0]
    header = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [f"M2_timer_{f}" for f in qualtrics.TIMER_FIELDS] == [h for h in header if h.startswith("M2_timer")]
    raw = qualtrics.read_responses(read_table(path), inst)
    assert raw.details["page_timers"]["M2"] == "M2_timer_Page Submit"
    assert raw.unknown == ()  # the four timing columns per page are known columns
    pd.testing.assert_frame_equal(raw.pages, gen_pages.pages.reset_index(drop=True), check_dtype=False)


def test_qualtrics_default_timer_names_are_a_note(tmp_path, inst):
    gen = generate(n=3, seed=2, modules=["M2"])
    path = write_data(gen, tmp_path / "q.csv", fmt="qualtrics", instrument=inst)[0]
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows[0] += ["Q12_First Click", "Q12_Last Click", "Q12_Page Submit", "Q12_Click Count"]
    rows[1] += ["Timing - First Click", "Timing - Last Click", "Timing - Page Submit", "Timing - Click Count"]
    rows[2] += ['{"ImportId": "QID12_FIRST_CLICK"}', '{"ImportId": "QID12_LAST_CLICK"}',
                '{"ImportId": "QID12_PAGE_SUBMIT"}', '{"ImportId": "QID12_CLICK_COUNT"}']
    for r in rows[3:]:
        r += ["1.5", "20.2", "21.0", "4"]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (tmp_path / "q2.csv").write_text(buf.getvalue(), encoding="utf-8")
    raw = qualtrics.read_responses(read_table(tmp_path / "q2.csv"), inst)
    assert raw.pages is None
    assert raw.details["page_timers_note"].startswith("1 Timing questions not named <page>_timer (Q12_Page Submit")

"""Page times through ingest: generate (page durations on) -> LimeSurvey / Qualtrics export -> ingest ->
pages.csv holds the generated page times of the kept rows, respondents pseudonymised as in responses.csv;
an export without page timers writes no pages.csv and says why in provenance.json."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.ingest.pipeline import ingest
from instrument import load_instrument
from synthetic_data.generate import generate
from synthetic_data.knobs import Knobs
from synthetic_data.writers import write_data


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


@pytest.fixture(scope="module")
def gen():
    return generate(n=80, seed=17, modules=["M2", "M4"],
                    knobs=Knobs().with_changes(page_durations=True, partial=0.2, careless=0.1))


@pytest.mark.parametrize("fmt", ["limesurvey", "qualtrics"])
def test_round_trip_page_times(tmp_path, inst, gen, fmt):
    src = write_data(gen, tmp_path / f"{fmt}.csv", fmt=fmt, instrument=inst)[0]
    # a duplicate of the first data line (the same respondent) is excluded: pages.csv keeps the kept rows only
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    header = 3 if fmt == "qualtrics" else 1
    src.write_text("".join(lines[:header + 1] + lines[header:header + 1] + lines[header + 1:]), encoding="utf-8")
    out = tmp_path / "out"
    res = ingest(src, out, instrument=inst, keep_identifiers=False)
    assert res.rows["status"].tolist().count("excluded") == 1
    assert list(res.pages.columns) == ["respondent_id", "M0", "M2", "M4", "M0_MKR"]
    assert res.pages["respondent_id"].tolist() == res.responses["respondent_id"].tolist()
    assert not set(res.pages["respondent_id"]) & set(gen.data["respondent_id"])  # pseudonymised
    expected = gen.pages.reset_index(drop=True)
    pd.testing.assert_frame_equal(res.pages.drop(columns="respondent_id"), expected, check_dtype=False)
    assert np.isnan(res.pages["M0_MKR"]).any()  # partial completes never reached the last page
    written = pd.read_csv(out / "pages.csv")
    pd.testing.assert_frame_equal(written, res.pages, check_dtype=False)
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert set(prov["page_timers"]["columns"]) == {"M0", "M2", "M4", "M0_MKR"}


def test_no_page_timers_no_pages_csv(tmp_path, inst):
    plain = generate(n=20, seed=3, modules=["M2"])
    src = write_data(plain, tmp_path / "l.csv", fmt="limesurvey", instrument=inst)[0]
    res = ingest(src, tmp_path / "out", instrument=inst)
    assert res.pages is None and not (tmp_path / "out" / "pages.csv").exists()
    assert "no groupTime columns" in res.provenance["page_timers"]["note"]
    csv_src = write_data(plain, tmp_path / "plain.csv", instrument=inst)[0]
    assert "reads no page timers" in ingest(csv_src, instrument=inst).provenance["page_timers"]["note"]

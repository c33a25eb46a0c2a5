"""The page_durations knob: a random stream of its own, so the answers (and every file written with the
knob off) stay as they are; page times add up to the time on pages and follow the respondent's pace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instrument import load_instrument
from instrument.platforms.base import MARKER_PAGE, page_variables
from smecore.errors import OptionError
from synthetic_data.generate import generate
from synthetic_data.knobs import OFF_PAGE_SECONDS, Knobs
from synthetic_data.writers import write_data

KNOBS = Knobs().with_changes(careless=0.15, partial=0.2)


@pytest.fixture(scope="module")
def off():
    return generate(n=400, seed=5, knobs=KNOBS)


@pytest.fixture(scope="module")
def on():
    return generate(n=400, seed=5, knobs=KNOBS.with_changes(page_durations=True))


def test_off_by_default_and_absent_from_the_sidecar(off):
    assert Knobs().page_durations is False and Knobs.clean().page_durations is False
    assert off.pages is None
    assert "page_durations" not in off.sidecar["knobs"]


def test_item_data_unchanged_with_the_knob_on(off, on):
    pd.testing.assert_frame_equal(on.data, off.data)
    pd.testing.assert_frame_equal(on.respondents, off.respondents)
    assert on.sidecar["knobs"]["page_durations"] is True


def test_files_written_with_the_knob_off_do_not_change(tmp_path, off, on):
    a = write_data(off, tmp_path / "a.csv", fmt="limesurvey")[0].read_bytes()
    b = write_data(generate(n=400, seed=5, knobs=KNOBS), tmp_path / "b.csv", fmt="limesurvey")[0].read_bytes()
    c = write_data(on, tmp_path / "c.csv", fmt="limesurvey")[0].read_bytes()
    assert a == b and b"groupTime" not in a and b"groupTime1" in c


def test_page_times_add_up_to_the_time_on_pages(on):
    inst = load_instrument()
    assert list(on.pages.columns) == list(page_variables(inst))
    total = on.pages.sum(axis=1, min_count=1).to_numpy()
    expected = on.data["duration_sec"].to_numpy(dtype=float) - OFF_PAGE_SECONDS
    ok = ~np.isnan(expected)
    assert np.allclose(total[ok], expected[ok], atol=0.01 * on.pages.shape[1])


def test_pages_after_a_partial_stop_are_missing(on):
    stopped = ~on.respondents["finished"].to_numpy()
    assert stopped.any()
    assert on.pages[MARKER_PAGE][stopped].isna().any()
    assert on.pages[MARKER_PAGE][~stopped].notna().all()
    assert on.pages["M0"].notna().all()


def test_careless_respondents_are_fast_on_pages(on):
    inst = load_instrument()
    items = {p: len(v) for p, v in page_variables(inst).items()}
    per_item = pd.DataFrame({p: on.pages[p] / k for p, k in items.items()}).median(axis=1)
    kind = on.respondents["type"]
    assert per_item[kind == "careless"].median() < 2.0 < per_item[kind == "attentive"].median()


def test_page_durations_need_durations():
    with pytest.raises(OptionError, match="page_durations"):
        Knobs().with_changes(durations=False, page_durations=True)

"""The per-value shortcuts the readers take give what the per-cell pandas calls they replaced gave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instrument.platforms.cells import blank_cells, empty_rows, per_value
from instrument.platforms.qualtrics import _exclusion

_CELLS = ["", " ", "nan", " nan ", "NaN", "x", "0", "\t", "Vienna"]


def _frames():
    rng = np.random.default_rng(11)
    cells = rng.choice(_CELLS, size=(400, 4), p=[0.5, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05])
    text = pd.DataFrame(cells, columns=["ExternalReference", "a", "b", "c"], dtype=str)
    yield text
    yield text.astype(object).where(rng.random((400, 4)) > 0.1, np.nan)  # missing cells too
    numbers = text.copy()
    numbers["a"] = rng.choice([np.nan, 1.0, 2.0], size=400)  # a sav file's typed column
    yield numbers
    yield text.drop(columns="ExternalReference")  # no id column: every row checked
    yield text.set_axis(["ExternalReference", "ExternalReference", "b", "c"], axis=1)  # not a single column
    yield text.iloc[:0]


@pytest.mark.parametrize("frame", list(_frames()))
def test_empty_rows_equals_the_check_of_every_cell(frame):
    full = frame.apply(lambda c: c.isna() | c.astype(str).str.strip().isin(["", "nan"])).all(axis=1).to_numpy()
    got = empty_rows(frame, "ExternalReference")
    assert got.dtype == bool and got.tolist() == full.tolist()
    if len(frame):
        assert blank_cells(frame.iloc[:, 1]).tolist() == (frame.iloc[:, 1].isna()
                                                         | frame.iloc[:, 1].astype(str).str.strip().isin(["", "nan"])).tolist()


@pytest.mark.parametrize("values", [
    ["1", "0", "1.0", "true", "", "yes", "1"],
    pd.Series(["2", "1", "Survey Preview", "", "8", "spam"], dtype=str),
    pd.Series(["1", np.nan, "0"], dtype=object),
    pd.Series([], dtype=str),
])
def test_per_value_equals_map(values):
    col = pd.Series(values)
    finished = {"1": True, "1.0": True, "true": True, "0": False, "0.0": False, "false": False}
    old = col.map(finished)
    old = old.astype(object).where(old.notna(), np.nan).to_numpy()
    new = per_value(col, lambda x: finished.get(x, np.nan))
    assert new.dtype == object and len(new) == len(old)
    assert all((a is b) or (a == b and type(a) is type(b)) or (pd.isna(a) and pd.isna(b)) for a, b in zip(old, new))
    if not col.isna().any():
        assert per_value(col, _exclusion).tolist() == col.map(_exclusion).tolist()

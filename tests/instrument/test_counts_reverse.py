"""The instrument's counts (what `instrument info` and the README state) and its reverse scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instrument import load_instrument
from smecore.errors import OptionError


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


def test_counts_add_up_to_the_codebook(inst):
    n = inst.counts()
    assert n == {"constructs": 39, "marker": 1, "items": 135, "marker_items": 3, "matrices": 1, "matrix_cells": 18,
                 "profile_questions": 14, "attention_checks": 2, "questionnaire_variables": 172, "paradata": 2,
                 "codebook_variables": 174}
    assert n["questionnaire_variables"] == (n["items"] + n["marker_items"] + n["matrix_cells"]
                                            + n["profile_questions"] + n["attention_checks"])
    assert n["codebook_variables"] == len(inst.codebook()) == len(inst.variables())
    assert n["constructs"] + n["marker"] == len(inst.constructs)


def test_counts_follow_the_module_selection(inst):
    n = inst.select(["M4"]).counts()
    # one substantive module: only the first attention check is fielded; the marker always is
    assert (n["constructs"], n["items"], n["matrix_cells"], n["attention_checks"]) == (5, 17, 0, 1)
    assert n["questionnaire_variables"] == len(inst.select(["M4"]).variables(paradata=False))


def test_reverse_scored_reverses_within_the_scale_only(inst):
    data = pd.DataFrame({"le_4": [1, 7, 4, np.nan, -99, 99], "le_1": [1, 7, 4, np.nan, -99, 99],
                         "lc_4": ["1", "7", "x", "", "-99", "2"]})
    out = inst.reverse_scored(data)
    assert out["le_4"].tolist()[:3] == [7, 1, 4] and np.isnan(out["le_4"][3])
    assert out["le_4"].tolist()[4:] == [-99, 99]  # codes and impossible values left for the checks
    assert out["le_1"].equals(data["le_1"])  # not reverse-keyed
    assert out["lc_4"].tolist() == [7, 1, "x", "", "-99", 6]  # text left as it is
    assert data["le_4"].tolist()[:2] == [1, 7]  # the input is not modified
    assert inst.reverse_keyed(["le_1", "le_4", "peg_4", "SIZE", "le_4"]) == ["le_4", "peg_4"]


def test_reverse_scored_names_what_it_cannot_do(inst):
    data = pd.DataFrame({"le_1": [1], "le_4": [2]})
    with pytest.raises(OptionError, match="not reverse-keyed items of the instrument: le_1"):
        inst.reverse_scored(data, ["le_1"])
    with pytest.raises(OptionError, match="reverse-keyed items not in the data: lc_4"):
        inst.reverse_scored(data, ["lc_4"])


def test_lavaan_export_header_names_the_reverse_keyed_items(inst, tmp_path):
    from instrument.export import export

    text = export(inst, "lavaan", tmp_path / "m.lav", ["M2"])[0].read_text(encoding="utf-8")
    header = " ".join(line[2:] for line in text.splitlines() if line.startswith("# ") and "=~" not in line)
    assert "Reverse-keyed items (3): le_4, lc_4, peg_4." in header
    assert "x -> 8 - x on the 1-7 scale" in header and "--reverse-score" in header
    assert "LE =~ le_1 + le_2 + le_3 + le_4" in text


def test_reverse_scored_float_columns_as_any_other(inst):
    """Float columns (scored data) are reversed on their arrays: the same cells as the per-column pandas
    path that other columns take (in-range numbers reversed; NaN, -99, 9, 0.5 left as they are)."""
    rev = inst.reverse_items()[:3]
    cells = [1.0, 7.0, 4.0, np.nan, -99.0, 9.0, 0.5, 2.5]
    floats = pd.DataFrame({c: np.roll(cells, k) for k, c in enumerate(rev)} | {"other": cells})
    as_objects = floats.astype(object)  # the pandas path
    out, ref = inst.reverse_scored(floats), inst.reverse_scored(as_objects)
    assert list(out.columns) == list(floats.columns) and all(d == np.float64 for d in out.dtypes)
    np.testing.assert_array_equal(out.to_numpy(dtype=float), ref.to_numpy(dtype=float))
    assert out[rev[0]].tolist()[:3] == [7.0, 1.0, 4.0] and floats[rev[0]].tolist()[0] == 1.0  # input untouched

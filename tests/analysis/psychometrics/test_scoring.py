"""score() and validate_codes(): codebook checks, reverse keying, derived indices, scale scores.

The expected values are computed by hand from the codebook's definitions (scale
points, reverse keying as min + max - x, the derived-index formulas of the
module docstring), not by calling the code under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.psychometrics.scoring import CELL_COLUMNS, find_survey_year, score, validate_codes
from instrument import load_instrument
from smecore.errors import OptionError


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


def _frame(inst, n: int = 4) -> pd.DataFrame:
    """A small valid data set: every Likert item 4, ada_3 (reverse-keyed) 1..n, profile answers."""
    cols = {v.name: [4] * n for v in inst.variables(paradata=False) if v.kind in ("likert", "matrix", "attention")}
    cols["ada_3"] = list(range(1, n + 1))
    cols |= {"respondent_id": [f"R{i}" for i in range(n)], "firm_employees": [9, 49, 50, 249],
             "firm_founded": [2000, 2020, 1990, 2016], "firm_first_foreign_sale": [2010, 2024, 1995, 2020],
             "firm_export_ratio": [10, 50, 90, 0], "firm_markets": [1, 3, 20, 0],
             "firm_new_markets_3y": [0, 1, 5, 0], "firm_intl_growth": [1, 3, 5, 2]}
    return pd.DataFrame(cols)


def test_reverse_keying_is_min_plus_max_minus_x(inst):
    s = score(_frame(inst), inst, survey_year=2026)
    # ada_3 is reverse-keyed on a 1-7 scale: 1 -> 7, 2 -> 6, 3 -> 5, 4 -> 4
    assert s.data["ada_3"].tolist() == [7.0, 6.0, 5.0, 4.0]
    # a forward item is unchanged
    assert s.data["ada_1"].tolist() == [4.0] * 4


def test_scale_score_is_item_mean_with_half_answered(inst):
    d = _frame(inst)
    ada = [i.id for i in inst.constructs["ADA"].items]
    d.loc[1, ada[: len(ada) // 2 + 1]] = np.nan  # fewer than half answered in row 1
    s = score(d, inst, survey_year=2026)
    reversed_ = {1: 7.0, 2: 6.0, 3: 5.0, 4: 4.0}
    expected0 = np.mean([reversed_[1] if i == "ada_3" else 4.0 for i in ada])
    assert s.data.loc[0, "ADA_score"] == pytest.approx(expected0)
    assert np.isnan(s.data.loc[1, "ADA_score"])


def test_derived_indices_by_hand(inst):
    d = _frame(inst)
    s = score(d, inst, survey_year=2026).data
    assert s["AGE"].tolist() == [26, 6, 36, 10]
    assert s["young"].tolist() == [0.0, 1.0, 0.0, 0.0]  # under 10 years
    assert s["EXPER"].tolist() == [16, 2, 31, 6]
    assert s["small"].tolist() == [1.0, 1.0, 0.0, 0.0]  # fewer than 50 employees
    np.testing.assert_allclose(s["SIZE"], np.log([9, 49, 50, 249]))
    np.testing.assert_allclose(s["lnew"], np.log1p([0, 1, 5, 0]))
    er = np.array([10, 50, 90, 0.0])
    mk = np.log1p([1, 3, 20, 0.0])
    z = lambda x: (x - x.mean()) / x.std(ddof=1)  # noqa: E731
    np.testing.assert_allclose(s["DOI"], (z(er) + z(mk)) / 2)


@pytest.mark.parametrize("bad", [9, 0, 99, 3.5, -1])
def test_values_outside_the_scale_become_missing_and_are_logged(inst, bad):
    """Defect: a 9 on the reverse-keyed 1-7 item ada_3 used to become 7 + 1 - 9 = -1."""
    d = _frame(inst)
    d["ada_3"] = d["ada_3"].astype(float)
    d.loc[2, "ada_3"] = bad
    s = score(d, inst, survey_year=2026)
    assert np.isnan(s.data.loc[2, "ada_3"])
    assert s.data["ada_3"].dropna().between(1, 7).all()
    assert s.data["ADA_score"].dropna().between(1, 7).all()
    log = s.cells
    assert list(log.columns) == list(CELL_COLUMNS)
    assert len(log) == 1
    row = log.iloc[0]
    assert (row["row"], row["respondent"], row["variable"]) == (2, "R2", "ada_3")
    assert float(row["original"]) == bad
    assert "extent7" in row["reason"] or "agree7" in row["reason"]


def test_text_and_missing_code_are_logged(inst):
    d = _frame(inst).astype({"tk_1": object})
    d.loc[0, "tk_1"] = "seven"
    d.loc[1, "tk_1"] = -99
    d.loc[2, "tk_1"] = " "
    clean, log = validate_codes(d, inst)
    assert clean["tk_1"].isna().tolist() == [True, True, True, False]
    reasons = dict(zip(log["row"], log["reason"], strict=True))
    # a cell of only spaces becomes missing too, and is logged as such (issue 12: every changed cell logged)
    assert reasons == {0: "not a number", 1: "missing code -99", 2: "blank text (only spaces)"}
    assert d.loc[0, "tk_1"] == "seven"  # the input is not modified


def test_profile_answers_outside_their_range(inst):
    d = _frame(inst)
    d.loc[0, "firm_employees"] = 0       # min 1
    d.loc[1, "firm_export_ratio"] = 140  # a percentage
    d.loc[2, "firm_intl_growth"] = 6     # growth5 has 5 choices
    clean, log = validate_codes(d, inst)
    assert sorted(log["variable"]) == ["firm_employees", "firm_export_ratio", "firm_intl_growth"]
    assert clean.loc[0, "firm_employees"] != clean.loc[0, "firm_employees"]  # NaN
    assert clean.loc[3, "firm_employees"] == 249


def test_valid_data_are_unchanged(inst):
    d = _frame(inst)
    clean, log = validate_codes(d, inst)
    assert log.empty
    pd.testing.assert_frame_equal(clean, d, check_dtype=False)


def test_survey_year_sources(inst):
    d = _frame(inst)
    assert find_survey_year(d, inst, 2025) == (2025, "given")
    # a given year before a firm's founding (2020) or first foreign sale (2024) is refused, naming the row
    with pytest.raises(OptionError, match=r"--survey-year 2019 is before firm_founded = 2020 \(row 1\)"):
        find_survey_year(d, inst, 2019)
    with pytest.raises(OptionError, match=r"--survey-year 2023 is before firm_first_foreign_sale = 2024"):
        find_survey_year(d, inst, 2023)
    dated = d.assign(submitted=["2025-11-30 10:00", "2026-01-02 09:00", "", "2025-12-01"])
    year, source = find_survey_year(dated, inst)
    assert year == 2026 and "submitted" in source
    year, source = find_survey_year(d, inst)
    bound = max(v.max for v in inst.variables(paradata=False) if v.type == "year")
    assert year == bound and "instrument" in source
    s = score(dated, inst)
    assert s.survey_year == 2026
    assert s.data.loc[0, "AGE"] == 2026 - 2000
    assert score(d, inst, survey_year=2030).data.loc[0, "AGE"] == 30


def test_check_items_usable_block_check_and_its_messages():
    """Every item answered and varying passes (checked on one block); an unanswered or constant item
    (text counts as no answer) is refused by name, the first in construct order."""
    from dataclasses import replace

    from analysis.psychometrics.scoring import Scored, check_items_usable
    from smecore.errors import DataError

    data = pd.DataFrame({"a1": [1.0, 2.0, np.nan], "a2": [3, 3, 4], "b1": ["5", "6", "x"], "b2": [1.0, 1.0, 2.0]})
    ok = Scored(data, {"A": ["a1", "a2"], "B": ["b1", "b2"]}, {}, ("M1",), 2025, "given", pd.DataFrame())
    check_items_usable(ok)
    for column, values, message in [("a2", [4, 4, 4], r"'a2' \(construct A\) has the same answer \(4\) in all 3"),
                                    ("a1", [np.nan] * 3, r"'a1' \(construct A\) has no answer in the 3 rows"),
                                    ("b1", ["x", "7", None], r"'b1' \(construct B\) has the same answer \(7\) in all 1"),
                                    ("b2", [np.inf, np.inf, np.nan], r"'b2' \(construct B\) has the same answer")]:
        bad = replace(ok, data=data.assign(**{column: values}))
        with pytest.raises(DataError, match=message):
            check_items_usable(bad)
    with pytest.raises(DataError, match="no row is left"):
        check_items_usable(replace(ok, data=data.iloc[:0]))


def test_validated_data_score_the_same_without_a_second_validation(inst):
    """validate_codes finds nothing more in its own output, so score(codes_checked=True) - which
    step12_prepare uses on the validated, screened rows - gives the same scored data."""
    from analysis.psychometrics.scoring import validate_codes
    from synthetic_data.generate import generate

    raw = generate(n=150, seed=9, instrument=inst).data
    items = [it.id for c in inst.constructs.values() for it in c.items if it.id in raw.columns]
    raw = raw.astype({items[0]: object})
    raw.loc[3, items[0]] = "seven"  # text
    raw.loc[4, items[1]] = -99  # the missing code
    raw.loc[5, items[2]] = 9  # not a code of the 1-7 scale
    checked, cells = validate_codes(raw, inst)
    assert len(cells) > 0
    again, more = validate_codes(checked, inst)
    assert more.empty and again.equals(checked)
    a, b = score(checked, inst), score(checked, inst, codes_checked=True)
    assert a.data.equals(b.data) and a.constructs == b.constructs and a.modules == b.modules
    assert b.cells.empty and list(b.cells.columns) == list(CELL_COLUMNS)


@pytest.mark.parametrize("codes_checked", [False, True])
def test_the_input_frame_is_never_modified(inst, codes_checked):
    """validate_codes and score work on a shallow copy under pandas 3's copy-on-write: replacing its
    columns (codes set missing, reverse-keyed items) must leave the caller's frame as it was."""
    d = _frame(inst)
    d.loc[0, "ada_1"] = 9  # a code the scale does not have (numeric column: the array path)
    d.loc[1, "firm_employees"] = 0
    before = d.copy(deep=True)
    clean, _ = validate_codes(d, inst)
    pd.testing.assert_frame_equal(d, before)
    s = score(clean if codes_checked else d, inst, survey_year=2026, codes_checked=codes_checked)
    pd.testing.assert_frame_equal(d, before)
    assert s.data["ada_3"].tolist() == [7.0, 6.0, 5.0, 4.0]
    if codes_checked:
        assert clean["ada_3"].tolist() == [1, 2, 3, 4]  # the cleaned frame keeps its answers too

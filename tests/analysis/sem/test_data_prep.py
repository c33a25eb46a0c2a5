"""prepare_data's checks of the values a model will use: missing codes, non-finite and huge values,
blank columns, text in numeric columns, duplicate names - each refused with the column and rows named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem.data_prep import prepare_data
from analysis.sem.fit import fit
from smecore.errors import DataError

MODEL = "f =~ a + b + c"


@pytest.fixture()
def data():
    rng = np.random.default_rng(3)
    f = rng.normal(size=200)
    cols = {v: np.clip(np.round(4 + 1.2 * f + rng.normal(size=200)), 1, 7) for v in "abc"}
    return pd.DataFrame(cols, index=pd.RangeIndex(1, 201))


@pytest.mark.parametrize("code", [-99, -9, -999, 99, 999])
def test_undeclared_missing_code_is_refused_naming_column_and_rows(data, code):
    bad = data.copy()
    bad.loc[[3, 17], "b"] = code
    with pytest.raises(DataError, match=rf"column 'b' holds {code} in 2 row\(s\) \(3, 17\), far outside its other "
                                        r"values \(1 to 7\).*--missing-codes"):
        fit(MODEL, bad, source="d.csv")


def test_declared_code_becomes_missing_and_is_listed(data):
    bad = data.copy()
    bad.loc[[3, 17], "b"] = -99
    res = fit(MODEL, bad, missing_codes=[-99])
    assert res.recoded[["row", "variable", "original"]].values.tolist() == [[3, "b", "-99"], [17, "b", "-99"]]
    assert res.nobs == (198,) and set(res.excluded["row"]) == {3, 17}
    clean = fit(MODEL, data.drop(index=[3, 17]))
    np.testing.assert_allclose(res.parameters["est"], clean.parameters["est"], atol=1e-8)


def test_code_inside_the_range_is_an_answer(data):
    """99 among values 0..150 (e.g. employees) is not isolated: kept as a value."""
    wide = data.assign(c=np.linspace(0, 150, 200))
    wide.loc[5, "c"] = 99
    prepare_data(wide, ["a", "b", "c"])  # no error


@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e300])
def test_non_finite_and_huge_values(data, value):
    bad = data.copy()
    bad.loc[8, "c"] = value
    with pytest.raises(DataError, match=r"column 'c' has 1 infinite or huge value\(s\) \(e.g. .* in row 8\)"):
        prepare_data(bad, ["a", "b", "c"], source="d.csv")


def test_blank_column_is_named_before_row_counts(data):
    with pytest.raises(DataError, match=r"column\(s\) 'b' have no observed values"):
        prepare_data(data.assign(b=np.nan), ["a", "b", "c"])
    with pytest.raises(DataError, match=r"'b' have no observed values \(empty or one of the missing codes -99\)"):
        prepare_data(data.assign(b=-99.0), ["a", "b", "c"], missing_codes=[-99])


def test_text_in_a_numeric_column_names_count_row_and_value(data):
    bad = data.astype(object)
    bad.loc[4, "a"] = "seven"
    bad.loc[9, "a"] = " "
    with pytest.raises(DataError, match=r"d.csv: column 'a' has 2 non-numeric value\(s\) \(e.g. 'seven' in row 4\)"):
        prepare_data(bad, ["a", "b", "c"], source="d.csv")


def test_duplicate_column_names_are_refused(data):
    dup = pd.concat([data, data[["b"]]], axis=1)
    with pytest.raises(DataError, match="column 'b' appears twice"):
        prepare_data(dup, ["a", "b", "c"])


def test_fiml_pairs_never_observed_together_are_named():
    """Two variables that no row answers together: FIML has no data for their covariance (lavaan: "some
    pairs have zero coverage"); refused naming the pair instead of a NaN objective in the optimiser."""
    rng = np.random.default_rng(1)
    d = pd.DataFrame(rng.normal(size=(40, 4)), columns=["a", "b", "c", "d"])
    d.iloc[:20, 0] = np.nan
    d.iloc[20:, 1] = np.nan
    with pytest.raises(DataError, match=r"no row answers both 'a' and 'b' \(1 pair\(s\) never observed together\)"):
        prepare_data(d, ["a", "b", "c", "d"], missing="fiml")


def test_fiml_with_collinear_columns_names_the_problem():
    """Perfectly collinear columns with holes: the EM saturated covariance is singular; the fit says so
    (a package error, not numpy's LinAlgError)."""
    from smecore.errors import NotPositiveDefiniteError

    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 4))
    x[:, 1] = x[:, 0]
    x[rng.random((200, 4)) < 0.1] = np.nan
    with pytest.raises(NotPositiveDefiniteError, match="saturated covariance matrix became singular"):
        fit("f =~ a + b + c + d", pd.DataFrame(x, columns=["a", "b", "c", "d"]), missing="fiml")


def test_fiml_needs_more_rows_than_variables(data):
    with pytest.raises(DataError, match=r"only 3 usable row\(s\) .* for 3 variables; FIML needs more rows"):
        prepare_data(data.iloc[:3], ["a", "b", "c"], missing="fiml")


def test_numeric_group_codes_are_labelled_as_written(data):
    """A country code read as a float (3.0, because the file's column has gaps) is group "3", as lavaan
    labels it, not "3.0"."""
    d = data.assign(g=np.where(np.arange(len(data)) % 2, 3.0, 1.0))
    d.loc[d.index[0], "g"] = np.nan
    prepared = prepare_data(d, ["a", "b", "c"], group="g")
    assert prepared.group_labels == ("3", "1")


def test_constant_and_empty_columns_are_named_in_order():
    """Emptiness and constancy are found for all columns at once; the first failing column is named as
    before, an ordinal column may be constant, and a constant column in one group only is refused."""
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"a": rng.normal(size=20), "b": 3.0, "c": 4.0, "g": ["x"] * 10 + ["y"] * 10})
    data.loc[0, "b"] = np.nan
    with pytest.raises(DataError, match=r"column 'b' is constant \(every value is 3\)"):
        prepare_data(data, ["a", "b", "c"], missing="fiml")
    assert len(prepare_data(data, ["a", "b"], missing="fiml", ordinal=["b"]).arrays[0]) == 20
    data["d"] = np.where(data["g"] == "x", 1.0, rng.normal(size=20))
    with pytest.raises(DataError, match=r"group 'x': column 'd' is constant"):
        prepare_data(data, ["a", "d"], missing="fiml", group="g")
    data["e"] = np.where(data["g"] == "y", np.nan, rng.normal(size=20))
    with pytest.raises(DataError, match=r"group 'y': column 'e' has no observed values"):
        prepare_data(data, ["a", "e"], missing="fiml", group="g")

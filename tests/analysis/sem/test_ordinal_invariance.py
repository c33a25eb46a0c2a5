"""Thresholds-first measurement invariance of ordinal items against semTools' measEq.syntax (Wu &
Estabrook 2016) fitted by lavaan 0.6.14 and compared by lavTestLRT (``make_ordinal.R`` part 9)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.sem.fit import fit
from analysis.sem.ordinal.invariance import (
    ORDINAL_INVARIANCE_COLUMNS,
    ordinal_invariance,
    satorra2000_difference,
    wu_estabrook_syntax,
)
from smecore.errors import ModelSyntaxError, OptionError
from tests.analysis.sem.test_ordinal_reference import ORDINAL, TWO

ITEMS = [f"u{i}" for i in range(1, 9)]
LEVELS = ("configural", "thresholds", "metric", "scalar")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(ORDINAL / "ord_twogroup.csv")


@pytest.fixture(scope="module")
def result(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ordinal_invariance(TWO, data, "country")


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(ORDINAL / "ord_twogroup_invariance.csv").set_index("level")


def test_table_layout(result):
    assert tuple(result.table.columns) == ORDINAL_INVARIANCE_COLUMNS
    assert tuple(result.table["level"]) == LEVELS


@pytest.mark.parametrize("column", ["npar", "df"])
def test_counts(result, reference, column):
    assert list(result.table[column]) == list(reference.loc[list(LEVELS), column])


@pytest.mark.parametrize("column", ["chisq", "chisq.scaled", "delta.chisq"])
def test_statistics(result, reference, column):
    np.testing.assert_allclose(result.table[column], reference.loc[list(LEVELS), column], rtol=5e-3)


@pytest.mark.parametrize("column", ["pvalue.scaled", "cfi.scaled", "tli.scaled", "rmsea.scaled", "cfi.robust",
                                    "rmsea.robust", "srmr", "delta.pvalue"])
def test_indices(result, reference, column):
    """Robust CFI / RMSEA are NA with equal thresholds in lavaan 0.6.14 (its catML model loses them)."""
    np.testing.assert_allclose(result.table[column], reference.loc[list(LEVELS), column], atol=1e-3)


def test_verdicts(result):
    t = result.table
    assert t["comparison.ok"].iloc[0] is None
    assert list(t["invariant"].iloc[1:]) == [True, True, True]


def test_measeq_syntax_fits_as_written(data, reference):
    """semTools' own syntax (c() modifiers on thresholds, intercepts and scale factors) fits unchanged."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit((ORDINAL / "ord_twogroup_invariance_thresholds.lav").read_text(), data, ordered=ITEMS,
                  group="country")
    assert res.fit_measures["npar"] == reference.loc["thresholds", "npar"]
    assert res.fit_measures["chisq.scaled"] == pytest.approx(reference.loc["thresholds", "chisq.scaled"], rel=1e-4)


def test_scalar_level_is_lavaans_group_equal_thresholds_loadings(result, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = fit(TWO, data, ordered=True, group="country", group_equal=["thresholds", "loadings"])
    assert result.fits["scalar"].fit_measures["chisq"] == pytest.approx(plain.fit_measures["chisq"], rel=1e-7)


def test_difference_test_needs_nested_order(result):
    with pytest.raises(OptionError, match="more constrained"):
        satorra2000_difference(result.fits["metric"], result.fits["thresholds"])


def test_syntax_refuses_structural_models():
    with pytest.raises(ModelSyntaxError, match="takes a CFA"):
        wu_estabrook_syntax(TWO + "\nF2 ~ F1", {x: 4 for x in ITEMS}, 2, "configural")
    with pytest.raises(OptionError, match="unknown invariance level"):
        wu_estabrook_syntax(TWO, {x: 4 for x in ITEMS}, 2, "strict")

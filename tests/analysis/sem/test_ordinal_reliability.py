"""Ordinal alpha and categorical omega against semTools 0.5-6 ``reliability()`` of WLSMV fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem.fit import fit
from analysis.sem.ordinal.reliability import (
    ORDINAL_RELIABILITY_COLUMNS,
    omega_categorical,
    ordinal_reliability,
)
from tests.analysis.conftest import ORDINAL_MODEL, REFERENCE
from tests.analysis.sem.test_ordinal_reference import ORDINAL, SEVEN

CASES = {"ord7": (SEVEN, ORDINAL / "ord7.csv"), "ordinal_3f": (ORDINAL_MODEL, REFERENCE / "ordinal_3f.csv")}
MEASURES = ("alpha", "alpha.ord", "omega", "omega2", "omega3", "avevar")


@pytest.fixture(scope="module")
def reliabilities() -> dict:
    return {name: ordinal_reliability(fit(model, pd.read_csv(path), ordered=True)).set_index("factor")
            for name, (model, path) in CASES.items()}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("measure", MEASURES)
def test_matches_semtools(reliabilities, case, measure):
    ref = pd.read_csv(ORDINAL / f"{case}_reliability_semTools.csv", index_col=0).T
    ours = reliabilities[case]
    np.testing.assert_allclose(ours.loc[ref.index, measure], ref[measure], atol=1e-6)


def test_columns_and_order(reliabilities):
    out = reliabilities["ord7"].reset_index()
    assert tuple(out.columns) == ORDINAL_RELIABILITY_COLUMNS
    assert list(out["factor"]) == ["A", "B", "C", "D"]
    # ordinal alpha exceeds alpha of the codes (Pearson correlations of categories are attenuated)
    assert (out["alpha.ord"] > out["alpha"]).all()


def test_categorical_omega_of_binary_items_closed_form():
    """Two binary items split at the median with factor part r and total correlation c: omega is
    ``arcsin(r) / arcsin(c)`` summed over the off-diagonal over the full matrix (the orthant
    probability 1/4 + arcsin(rho) / 2 pi)."""
    r, c = 0.3, 0.5
    truevar = np.array([[r, r], [r, r]])
    denom = np.array([[1.0, c], [c, 1.0]])
    th = [np.array([0.0]), np.array([0.0])]
    got = omega_categorical(truevar, th, np.ones(2), denom)

    def cov(rho):
        return np.arcsin(rho) / (2 * np.pi)

    expected = (2 * cov(r) + 2 * cov(r)) / (2 * cov(1.0) + 2 * cov(c))
    assert got == pytest.approx(expected, rel=1e-12)


def test_refuses_continuous_fits(hs_data):
    from tests.analysis.conftest import HS_MODEL

    with pytest.raises(TypeError, match="needs a fit with ordinal items"):
        ordinal_reliability(fit(HS_MODEL, hs_data))

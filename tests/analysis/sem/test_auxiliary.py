"""Auxiliary variables of FIML (saturated correlates, semTools' auxiliary()).

The numbers are checked against semTools 0.5-6 / lavaan 0.6.14 in
test_fit_reference.py (cases ``hsmar_*_aux*`` and ``bfi_aux_MLR``, from
tests/results/lavaan_extra/make_auxiliary.R); here: what the option refuses,
what it must leave unchanged (df), that it removes the bias FIML has when
missingness depends on a variable outside the model, and how it is reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sem.auxiliary import AUX_COLUMN, auxiliary_rows
from analysis.sem.bootstrap import bootstrap
from analysis.sem.fit import fit
from smecore.errors import DataError, OptionError
from tests.analysis.conftest import HS_MODEL
from tests.analysis.sem.test_fit_reference import EXTRA

MIMIC = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ sex"


@pytest.fixture(scope="module")
def hs_mar() -> pd.DataFrame:
    return pd.read_csv(EXTRA / "HolzingerSwineford1939_mar_age.csv")


def test_auxiliary_needs_fiml(hs_mar):
    with pytest.raises(OptionError, match="missing='fiml'"):
        fit(HS_MODEL, hs_mar, auxiliary=["ageyr"])


def test_auxiliary_must_not_be_a_model_variable(hs_mar):
    with pytest.raises(OptionError, match=r"\['x1'\] are variables of the model"):
        fit(HS_MODEL, hs_mar, missing="fiml", auxiliary=["x1"])
    with pytest.raises(OptionError, match="more than once"):
        fit(HS_MODEL, hs_mar, missing="fiml", auxiliary=["ageyr", "ageyr"])


def test_auxiliary_column_must_exist(hs_mar):
    with pytest.raises(DataError, match="did you mean 'ageyr'"):
        fit(HS_MODEL, hs_mar, missing="fiml", auxiliary=["age_yr"])


@pytest.mark.parametrize(("model", "aux"), [(HS_MODEL, ["ageyr"]), (MIMIC, ["ageyr", "grade"])])
def test_degrees_of_freedom_are_those_of_the_model_without_auxiliaries(hs_mar, model, aux):
    plain = fit(model, hs_mar, missing="fiml")
    with_aux = fit(model, hs_mar, missing="fiml", auxiliary=aux)
    assert with_aux.fit_measures["df"] == plain.fit_measures["df"]
    assert with_aux.fit_measures["baseline.df"] == plain.fit_measures["baseline.df"]
    # each auxiliary: a mean, its (co)variances with the other auxiliaries, a covariance with every
    # observed model variable; covariates become random (fixed.x = FALSE) - their means and (co)variances
    a, p = len(aux), len(plain.partable.variables.ov)
    nx = len(plain.partable.variables.ov_x)
    extra = a + a * (a + 1) // 2 + a * p + nx + nx * (nx + 1) // 2
    assert with_aux.fit_measures["npar"] == plain.fit_measures["npar"] + extra


def _mar_on_auxiliary(n: int = 4000, seed: int = 11) -> pd.DataFrame:
    """One factor, three indicators with mean 0; all three missing together, mostly when z > 0,
    where z (not in the model) correlates 0.8 with the factor: MAR given z, not given the model."""
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(n)
    z = 0.8 * f + 0.6 * rng.standard_normal(n)
    y = 0.7 * f[:, None] + np.sqrt(0.51) * rng.standard_normal((n, 3))
    gone = (z > 0) & (rng.random(n) < 0.9)
    y[gone] = np.nan
    return pd.DataFrame({"y1": y[:, 0], "y2": y[:, 1], "y3": y[:, 2], "z": z})


def test_auxiliary_removes_the_bias_of_missingness_outside_the_model():
    data = _mar_on_auxiliary()
    model = "F =~ y1 + y2 + y3"
    plain = fit(model, data, missing="fiml").parameters.set_index(["lhs", "op"])
    aux = fit(model, data, missing="fiml", auxiliary=["z"]).parameters.set_index(["lhs", "op"])
    # the true means are 0: without z, FIML sees only the cases that stayed (mostly z < 0)
    for y in ("y1", "y2", "y3"):
        est, se = plain.loc[(y, "~1"), ["est", "se"]]
        assert est < -10 * se
        est, se = aux.loc[(y, "~1"), ["est", "se"]]
        assert abs(est) < 3 * se


def test_rows_observed_only_on_auxiliaries_are_used():
    data = _mar_on_auxiliary()
    n_lost = int(data[["y1", "y2", "y3"]].isna().all(axis=1).sum())
    assert n_lost > 0
    assert fit("F =~ y1 + y2 + y3", data, missing="fiml").nobs == (len(data) - n_lost,)
    assert fit("F =~ y1 + y2 + y3", data, missing="fiml", auxiliary=["z"]).nobs == (len(data),)


def test_saturated_correlates_are_marked_and_summarised_apart(hs_mar):
    res = fit(MIMIC, hs_mar, missing="fiml", auxiliary=["ageyr", "grade"])
    marked = res.partable.table[AUX_COLUMN].to_numpy() == 1
    mask = auxiliary_rows(res.parameters, res.options.auxiliary)
    assert (mask == marked).all() and mask.sum() == 3 + 2 + 2 * 7
    assert res.options.auxiliary == ("ageyr", "grade")
    text = res.summary()
    head, aux_part = text.split("Auxiliary variables (saturated correlates; not part of the model):")
    assert "ageyr ~~ x1" in aux_part and "grade ~1" in aux_part
    assert "ageyr" not in head.split("Latent Variables:")[1]


def test_bootstrap_resamples_the_auxiliaries_too(hs_mar):
    res = fit(HS_MODEL, hs_mar, missing="fiml", auxiliary=["ageyr"])
    boot = bootstrap(res, 4, seed=3, n_jobs=1)
    assert boot.n_failed == 0
    assert "ageyr ~~ x5" in boot.draws.columns

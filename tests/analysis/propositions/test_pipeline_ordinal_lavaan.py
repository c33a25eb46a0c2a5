"""The WLSMV side of ``analyze --ordinal`` against lavaan 0.6.14 on the reference theory-world data
(``tests/results/lavaan_pipeline_ordinal``, ``make_extra.R`` there): the chi-square difference tests
of the hypotheses' equality constraints (Satorra 2000, as ``lavTestLRT``), the Wald tests of
standardized paths (their standard errors are those of ``standardizedSolution``) and the latent
covariance matrix (``lavInspect(fit, "cov.lv")``). Every model's estimates and fit measures are
compared in ``tests/smesurvey/test_export_r.py``."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.ingest import read_responses
from analysis.propositions.hypotheses import load_registry
from analysis.propositions.models import hypothesis_specs
from analysis.propositions.pipeline import step12_prepare
from analysis.sem.effects import wald_test
from analysis.sem.nested import lr_test
from instrument import load_instrument
from synthetic_data.reference import REFERENCE_DIR, REFERENCE_SETS

LAVAAN = Path(__file__).resolve().parents[2] / "results" / "lavaan_pipeline_ordinal"


@pytest.fixture(scope="module")
def specs():
    inst = load_instrument()
    _, scored = step12_prepare(read_responses(REFERENCE_DIR / REFERENCE_SETS[0].filename), inst)
    return {s.key: s for s in hypothesis_specs(scored, inst, load_registry(inst), ordinal=True).specs}


@pytest.fixture(scope="module")
def fitted(specs):
    cache: dict = {}

    def get(key: str, extra: str = ""):
        if (key, extra) not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cache[key, extra] = specs[key].fit(extra)
        return cache[key, extra]

    return get


LRT = pd.read_csv(LAVAAN / "lrt.csv")


@pytest.mark.parametrize("row", LRT.to_dict("records"), ids=list(LRT["constraint"]))
def test_chi_square_difference_tests_of_the_registry_constraints(fitted, row):
    key = row["model"].replace("_", " ")
    t = lr_test(fitted(key, row["constraint"] + "\n"), fitted(key)).iloc[0]
    assert t["method"] == row["method"] == "satorra.2000"
    assert t["df.diff"] == row["df.diff"]
    assert t["chisq.diff"] == pytest.approx(row["chisq.diff"], rel=5e-3)
    assert t["pvalue"] == pytest.approx(row["pvalue"], rel=5e-3, abs=1e-6)


@pytest.mark.parametrize("key", ["model H1", "model H2", "model H6", "model H8"])
def test_wald_tests_of_standardized_parameters_have_lavaans_standard_errors(fitted, key):
    """Every labelled parameter as a standardized Wald test: its estimate is lavaan's est.std and
    its delta-method SE lavaan's standardizedSolution() se (1e-3 absolute, 1% relative)."""
    res = fitted(key)
    ref = pd.read_csv(LAVAAN / f"{key.replace(' ', '_')}_std.csv", keep_default_na=False, na_values=["NA"])
    t = res.partable.table
    labels = [(lab, lhs, op, rhs) for lab, lhs, op, rhs in zip(t["label"], t["lhs"], t["op"], t["rhs"])
              if lab and not lab.startswith(".p") and op in ("~", "~~")]
    assert labels
    checked = set()
    for lab, lhs, op, rhs in labels:
        if lab in checked:
            continue
        checked.add(lab)
        w = wald_test(res, lab, standardized=True).iloc[0]
        r = ref[(ref["lhs"] == lhs) & (ref["op"] == op) & (ref["rhs"] == rhs)].iloc[0]
        assert w["estimate"] == pytest.approx(r["est.std"], abs=1e-3), lab
        assert w["se"] == pytest.approx(r["se"], rel=0.01), lab


def test_wald_test_of_a_difference_of_standardized_paths_uses_every_parameter_but_thresholds(fitted):
    """The standardized Jacobian skips the thresholds of an ordinal fit (they do not enter the
    standardization): same SE as differentiating every parameter."""
    from analysis.sem.defined import delta_method
    from analysis.sem.effects import _function

    res = fitted("model H2")
    f, theta = _function(res, "b_vn_tk - b_vn_ik", standardized=True)
    _, full = delta_method(f, theta, res.vcov)
    w = wald_test(res, "b_vn_tk - b_vn_ik", standardized=True).iloc[0]
    assert w["se"] == pytest.approx(float(full[0]), rel=1e-10)


def test_latent_covariance_matrix_of_an_ordinal_fit(fitted):
    ref = pd.read_csv(LAVAAN / "model_H1_cov_lv.csv", index_col=0)
    ours = fitted("model H1").implied_latent()[0].loc[ref.index, ref.columns]
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), atol=1e-4)

"""The pipeline's SEMs use the observed predictor of the generator's MAR missingness (firm size)
as an auxiliary variable of FIML whenever the model leaves it out (review defect 8)."""

from __future__ import annotations

import re

import pytest

from analysis.propositions.models import MISSINGNESS_PREDICTORS, with_auxiliary
from analysis.propositions.pipeline import analyze
from synthetic_data.generate import generate


@pytest.fixture(scope="module")
def m3_result():
    data = generate(world="theory", n=400, seed=5, modules=["M3"]).data
    return analyze(data, n_boot=20, n_jobs=1)


def _uses(syntax: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])", syntax) is not None


def test_missingness_predictor_is_firm_size():
    # synthetic_data.knobs: MAR missingness depends on firm size, observed as log employees (SIZE)
    assert MISSINGNESS_PREDICTORS == ("SIZE",)


def test_hypothesis_models_without_size_get_it_as_auxiliary(m3_result):
    seen = set()
    for key, (syntax, res, _) in m3_result.models.items():
        in_model = _uses(syntax, "SIZE")
        seen.add(in_model)
        assert res.options.auxiliary == (() if in_model else ("SIZE",)), key
    assert seen == {True, False}  # H7 has SIZE in its model, H6 / H8 / H9 do not


def test_measurement_models_get_size_as_auxiliary(m3_result):
    p = m3_result.parameters
    meas = p[p["model"] == "measurement M3"]
    assert len(meas) and ((meas["lhs"] == "SIZE") & (meas["op"] == "~~") & (meas["rhs"] != "SIZE")).sum() > 0


def test_with_auxiliary_matches_rows_by_index_and_skips_models_with_size(m3_result):
    scored = m3_result.scored
    items = scored.constructs["CIP"]
    frame = scored.data[items].iloc[::-1]  # rows reordered, as the multi-group models sort by group
    data, aux = with_auxiliary("CIP =~ " + " + ".join(items), frame, scored)
    assert aux == ["SIZE"]
    assert data["SIZE"].equals(scored.data["SIZE"].iloc[::-1].astype(float))
    same, none = with_auxiliary("G7 ~ SIZE", frame, scored)
    assert none == [] and same is frame
    # the multi-group check of H7 (groups: small / larger firms) is fitted with SIZE as auxiliary
    rb = m3_result.robustness
    row = rb[rb["check"].str.contains("multi-group")].iloc[0]
    assert row["hypothesis"] == "H7" and row[["estimate", "se"]].notna().all()

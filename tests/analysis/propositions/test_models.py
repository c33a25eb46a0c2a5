"""One list of models for every consumer: the measurement and hypothesis specs that ``analyze`` fits
are the ones ``export-r`` writes for lavaan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.propositions.hypotheses import load_registry
from analysis.propositions.models import (
    MISSINGNESS_PREDICTORS,
    ModelSpec,
    hypothesis_specs,
    model_specs,
)
from analysis.propositions.pipeline import analyze, htmt_ok, step12_prepare
from analysis.sem.syntax import classify_variables, parse_model
from instrument import load_instrument
from smesurvey.export_r import export_r
from synthetic_data.generate import generate


@pytest.fixture(scope="module")
def m3():
    inst = load_instrument()
    data = generate(world="theory", n=400, seed=5, modules=["M3"]).data
    _, scored = step12_prepare(data, inst)
    return data, scored, inst, load_registry(inst)


def test_specs_cover_the_measurement_models_then_the_hypotheses(m3):
    _, scored, inst, reg = m3
    specs = model_specs(scored, inst, reg)
    assert [s.key for s in specs] == ["measurement M3", "model H6", "model H7", "model H8", "model H9"]
    built = hypothesis_specs(scored, inst, reg)
    assert set(built.of) == {"H6", "H7", "H8", "H9"}
    assert set(built.skipped["hypothesis"]) == {h.id for h in reg.hypotheses} - set(built.of)
    for s in specs:
        ov = set(classify_variables(parse_model(s.syntax).statements).ov)
        assert ov <= set(s.data.columns), s.key
        # the missingness predictor is an auxiliary exactly when the model leaves it out
        assert s.auxiliary == (() if "SIZE" in ov else MISSINGNESS_PREDICTORS), s.key
        assert set(s.auxiliary) <= set(s.data.columns)
        assert len(s.data) == len(scored.data)


def test_hypotheses_with_the_same_model_share_one_spec(m3):
    """H2, H3 and H4 (one source each: VN, VG, GR) are tested on one SEM of module M1."""
    inst = load_instrument()
    data = generate(world="theory", n=300, seed=2, modules=["M1"]).data
    _, scored = step12_prepare(data, inst)
    built = hypothesis_specs(scored, inst, load_registry(inst))
    shared = [s for s in built.specs if len(s.hypotheses) > 1]
    assert [s.hypotheses for s in shared] == [("H2", "H3", "H4")]
    for s in shared:
        assert all(built.of[h] == s.key for h in s.hypotheses)
    assert len(built.specs) == len(set(built.of.values()))


def test_lavaan_options_name_every_option_fit_uses():
    spec = ModelSpec("model H1", "f =~ a + b + c\n", pd.DataFrame({"a": [1.0]}), ("H1",), group="g",
                     group_equal=("loadings", "intercepts"), std_lv=True, cluster="c", auxiliary=("SIZE",))
    assert spec.lavaan_options() == {"estimator": "MLR", "missing": "ml", "std_lv": True, "group": "g",
                                     "group_equal": "loadings,intercepts", "cluster": "c", "auxiliary": "SIZE"}
    assert spec.source == "model of H1"
    assert ModelSpec("measurement M2", "", pd.DataFrame(), module="M2").source == "measurement model M2"


def test_analyze_and_export_r_fit_the_same_specs(m3, tmp_path):
    data, scored, inst, reg = m3
    specs = model_specs(scored, inst, reg)
    res = analyze(data, n_boot=10, n_jobs=1)
    assert list(res.models) == [s.key for s in specs if s.key.startswith("model")]
    assert set(res.fits) == {s.key for s in specs}
    for s in specs[1:]:
        syntax, fitted, hyps = res.models[s.key]
        assert syntax == s.syntax and tuple(hyps) == s.hypotheses
        assert fitted.options.auxiliary == s.auxiliary
    export_r(data, tmp_path)
    models = pd.read_csv(tmp_path / "models.csv", keep_default_na=False)
    assert list(models["key"]) == [s.key.replace(" ", "_") for s in specs]
    assert list(models["auxiliary"]) == [",".join(s.auxiliary) for s in specs]
    # the exported data are the spec's data (auxiliary column included), and our estimates the analysis'
    h6 = pd.read_csv(tmp_path / "data" / "model_H6.csv")
    assert list(h6.columns) == list(specs[1].data.columns)
    np.testing.assert_allclose(h6.to_numpy(float), specs[1].data.to_numpy(float), rtol=1e-12)
    ours = pd.read_csv(tmp_path / "ours" / "model_H6_parameters.csv")
    np.testing.assert_allclose(ours["est"], res.models["model H6"][1].parameters["est"], rtol=1e-9)


def test_htmt_decision_is_unknown_when_the_ratio_is():
    assert htmt_ok(0.84) is True and htmt_ok(0.86) is False and htmt_ok(0.85) is False
    assert htmt_ok(np.nan) is pd.NA

"""``analyze(..., ordinal=True)`` (``smesurvey analyze --ordinal``, issue 14): WLSMV measurement and
hypothesis models, latent products on MLR, the ML-vs-WLSMV verdict table, outputs and report.

Small generated data (module M3, N = 400): H6 (an indirect effect), H7 (a latent product: MLR),
H8 (a required chi-square difference test and HTMT), H9 (a second-order factor and an observed
outcome). The numbers of the WLSMV models themselves are compared with lavaan in
``test_pipeline_ordinal_lavaan.py``.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.propositions.models import (
    PRODUCTS_STAY_MLR,
    ModelSpec,
    measurement_spec,
    ordinal_variant,
)
from analysis.propositions.pipeline import (
    COMPARISON_COLUMNS,
    ORDINAL_RELIABILITY_NOTE,
    analyze,
    compare_verdicts,
    step12_prepare,
    write_outputs,
)
from analysis.report.render import render_markdown
from analysis.sem.effects import monte_carlo_ci
from analysis.sem.ordinal.invariance import satorra2000_difference
from analysis.sem.ordinal.reliability import ordinal_reliability
from instrument import load_instrument
from smecore.errors import OptionError
from synthetic_data.generate import generate


@pytest.fixture(scope="module")
def m3_data() -> pd.DataFrame:
    return generate(world="theory", n=400, seed=3, modules=["M3"]).data


@pytest.fixture(scope="module")
def runs(m3_data):
    """(default analysis, ordinal analysis) of the same data with the same seed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = analyze(m3_data, n_boot=50, n_jobs=1)
        ordinal = analyze(m3_data, n_boot=50, n_jobs=1, ordinal=True)
    return plain, ordinal


def _items(scored) -> set[str]:
    return {i for its in scored.constructs.values() for i in its}


def test_hypothesis_models_are_wlsmv_except_latent_products(runs):
    _, res = runs
    items = _items(res.scored)
    assert set(res.models) == {"model H6", "model H7", "model H8", "model H9"}
    for key, (_, fitted, _) in res.models.items():
        o = fitted.options
        if key == "model H7":  # G7 ~ CIP + SIZE + b*CIPxSIZE: product indicators
            assert (o.estimator, o.missing, o.ordered) == ("MLR", "fiml", ())
            continue
        assert (o.estimator, o.missing) == ("WLSMV", "pairwise"), key
        assert set(o.ordered) == items & set(fitted.partable.variables.ov), key
        assert not o.auxiliary
        assert {"DOI", "lnew"} & set(fitted.partable.variables.ov) <= set(fitted.partable.variables.ov) - set(o.ordered)
    # H6 regresses lnew on the observed DOI: an ordinal model gets DOI's variance free (no conditional.x)
    assert "DOI ~~ DOI" in res.models["model H6"][0]
    assert "DOI ~~ DOI" not in runs[0].models["model H6"][0]


def test_ml_side_of_the_comparison_is_the_default_analysis(runs):
    plain, res = runs
    comp = res.estimator_comparison.set_index("hypothesis")
    assert list(res.estimator_comparison.columns) == list(COMPARISON_COLUMNS)
    v_ml, v_ord = plain.verdicts.set_index("hypothesis"), res.verdicts.set_index("hypothesis")
    assert list(comp.index) == list(v_ml.index) == list(v_ord.index)
    assert (comp["verdict.ml"] == v_ml["verdict"]).all()
    assert (comp["verdict.wlsmv"] == v_ord["verdict"]).all()
    np.testing.assert_allclose(comp["p.ml"], v_ml["pvalue.holm"], rtol=1e-12)  # the registry adjusts by Holm
    np.testing.assert_allclose(comp["p.wlsmv"], v_ord["pvalue.holm"], rtol=1e-12)
    np.testing.assert_allclose(comp["std.estimate.ml"], v_ml["std.estimate"], rtol=1e-12)
    assert (comp["differs"] == (comp["verdict.ml"] != comp["verdict.wlsmv"])).all()
    assert (comp["estimator.wlsmv"] == ["WLSMV", "MLR (latent products)", "WLSMV", "WLSMV"]).all()
    assert comp.loc["H7", "note"] == PRODUCTS_STAY_MLR


def test_latent_product_model_is_the_same_fit_on_both_sides(runs):
    plain, res = runs
    a, b = plain.models["model H7"][1].parameters, res.models["model H7"][1].parameters
    pd.testing.assert_frame_equal(a, b)
    row = res.estimator_comparison.set_index("hypothesis").loc["H7"]
    assert row["std.estimate.ml"] == row["std.estimate.wlsmv"]


def test_indirect_effect_of_a_wlsmv_fit_is_decided_by_its_monte_carlo_interval(runs):
    _, res = runs
    t = res.tests[res.tests["hypothesis"] == "H6"].iloc[0]
    assert t["kind"].startswith("indirect, Monte Carlo CI (20000 draws")
    mc = monte_carlo_ci(res.models["model H6"][1], "a*b", n_draws=res.registry.monte_carlo, seed=1)
    assert t["p.predicted"] == mc.one_sided_pvalue("greater") and t["p.opposite"] == mc.one_sided_pvalue("less")
    assert (t["estimate"], t["ci.lower"], t["ci.upper"]) == (mc.estimate, mc.ci_lower, mc.ci_upper)
    # the Monte Carlo line is the decision here, not a robustness line beside a bootstrap
    rb = res.robustness[res.robustness["hypothesis"] == "H6"]
    assert not rb["check"].str.startswith("Monte Carlo").any()


def test_chi_square_difference_of_a_wlsmv_fit_is_satorra_2000(runs, m3_data):
    _, res = runs
    row = res.tests[(res.tests["hypothesis"] == "H8") & (res.tests["kind"] == "lr")].iloc[0]
    free = res.models["model H8"][1]
    restricted = _ordinal_spec(m3_data, "model H8").fit("r_endo == r_exo\n")
    t = satorra2000_difference(free, restricted)
    assert row["estimate"] == pytest.approx(t.chisq, rel=1e-8) and row["df"] == t.df == 1
    assert row["p.predicted"] == pytest.approx(t.pvalue, rel=1e-8)


def _ordinal_spec(data: pd.DataFrame, key: str) -> ModelSpec:
    from analysis.propositions.hypotheses import load_registry
    from analysis.propositions.models import hypothesis_specs

    inst = load_instrument()
    _, scored = step12_prepare(data, inst)
    return next(s for s in hypothesis_specs(scored, inst, load_registry(inst), ordinal=True).specs if s.key == key)


def test_measurement_table_has_ordinal_alpha_and_categorical_omega(runs, m3_data):
    _, res = runs
    inst = load_instrument()
    _, scored = step12_prepare(m3_data, inst)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = measurement_spec("M3", scored, inst, ordinal=True).fit()
    assert fitted.options.estimator == "WLSMV"
    rel = ordinal_reliability(fitted).set_index("factor")
    m = res.measurement[res.measurement["module"] == "M3"].set_index("construct")
    first = [c for c in m.index if c in rel.index]
    assert len(first) >= 8
    np.testing.assert_allclose(m.loc[first, "alpha"], rel.loc[first, "alpha.ord"], rtol=1e-12)
    np.testing.assert_allclose(m.loc[first, "omega"], rel.loc[first, "omega"], rtol=1e-12)
    assert (m.loc[first, "note"] == ORDINAL_RELIABILITY_NOTE).all()
    assert res.fits["measurement M3"]["chisq.scaled"] == pytest.approx(fitted.fit_measures["chisq.scaled"])


def test_outputs_and_report_of_an_ordinal_analysis(runs, tmp_path):
    plain, res = runs
    written = {p.name for p in write_outputs(res, tmp_path / "ord")}
    assert "ml_vs_wlsmv.csv" in written
    comp = pd.read_csv(tmp_path / "ord" / "ml_vs_wlsmv.csv", keep_default_na=False)
    assert list(comp.columns) == list(COMPARISON_COLUMNS) and list(comp["hypothesis"]) == ["H6", "H7", "H8", "H9"]
    prov = json.loads((tmp_path / "ord" / "provenance.json").read_text())
    assert (prov["estimator"], prov["missing"]) == ("WLSMV", "pairwise")
    assert list(prov["ordinal"]["mlr.models"]) == ["model H7"]
    md = render_markdown(res, load_instrument().select(None))
    assert "## ML and WLSMV verdicts" in md
    assert "MLR with FIML for the models with latent interactions or quadratic terms (H7)" in md
    for r in res.estimator_comparison.to_dict("records"):
        assert f"| {r['hypothesis']} | {r['verdict.ml']} | {r['verdict.wlsmv']} | " \
               f"{'yes' if r['differs'] else 'no'} |" in md
    # the default analysis is unchanged: no comparison file, no ordinal provenance, MLR in the report
    written = {p.name for p in write_outputs(plain, tmp_path / "plain")}
    assert "ml_vs_wlsmv.csv" not in written
    prov = json.loads((tmp_path / "plain" / "provenance.json").read_text())
    assert prov["estimator"] == "MLR" and prov["missing"] == "fiml" and "ordinal" not in prov
    md = render_markdown(plain, load_instrument().select(None))
    assert "; MLR with FIML; one-sided" in md and "WLSMV" not in md


def test_ordinal_and_cluster_robust_are_refused_before_any_work(m3_data):
    with pytest.raises(OptionError, match="--ordinal and --cluster-robust cannot be combined"):
        analyze(m3_data, ordinal=True, cluster_robust=True)


def test_compare_verdicts_marks_differences_and_models_tested_one_way_only():
    from analysis.propositions.hypotheses import load_registry

    reg = load_registry(load_instrument())
    ml = pd.DataFrame({"hypothesis": ["H1", "H2", "H3"], "verdict": ["supported", "supported", "not supported"],
                       "std.estimate": [0.3, 0.2, 0.1], "pvalue.holm": [0.01, 0.04, 0.3], "model": "m"})
    wl = pd.DataFrame({"hypothesis": ["H1", "H2"], "verdict": ["supported", "not supported"],
                       "std.estimate": [0.28, 0.18], "pvalue.holm": [0.02, 0.07], "model": ["model H1", "model H1"]})

    class _Options:
        estimator, ordered = "WLSMV", ("a",)

    class _Fit:
        options = _Options()

    tested = {"models": {"model H1": ("", _Fit(), ["H1", "H2"])}, "notes": {},
              "skipped": pd.DataFrame({"hypothesis": ["H3"], "reason": ["the model could not be estimated: x"]})}
    out = compare_verdicts(ml, wl, tested, pd.DataFrame(columns=["hypothesis", "reason"]), reg).set_index("hypothesis")
    assert list(out.index) == ["H1", "H2", "H3"]
    assert list(out["differs"]) == [False, True, True]
    assert out.loc["H3", "verdict.wlsmv"] == "not tested" and "could not be estimated" in out.loc["H3", "note"]
    assert out.loc["H2", "p.wlsmv"] == 0.07 and out.loc["H1", "estimator.wlsmv"] == "WLSMV"


def test_ordinal_variant_of_a_spec():
    inst = load_instrument()
    data = generate(world="theory", n=200, seed=5, modules=["M2"]).data
    _, scored = step12_prepare(data, inst)
    syntax = "LE =~ le_1 + le_2 + le_3 + le_4\nPEG =~ peg_1 + peg_2 + peg_3 + peg_4\nPEG ~ LE + SIZE\n"
    frame = pd.DataFrame({c: pd.to_numeric(scored.data[c]) for c in
                          ["le_1", "le_2", "le_3", "le_4", "peg_1", "peg_2", "peg_3", "peg_4"]})
    frame["SIZE"], frame["AUX"] = 1.0, 2.0
    spec = ModelSpec("model X", syntax, frame, ("H10",), auxiliary=("AUX",))
    v = ordinal_variant(spec, scored)
    assert v.ordered == ("le_1", "le_2", "le_3", "le_4", "peg_1", "peg_2", "peg_3", "peg_4")
    assert v.syntax == syntax + "SIZE ~~ SIZE\n" and v.auxiliary == () and "AUX" not in v.data
    assert (v.estimator, v.missing) == ("WLSMV", "pairwise")
    assert v.lavaan_options()["ordered"] == ",".join(v.ordered) and v.lavaan_options()["missing"] == "pairwise"
    assert "ordered" not in spec.lavaan_options()  # the default export is unchanged
    with pytest.raises(OptionError, match="cluster-robust"):
        ordinal_variant(ModelSpec("model X", syntax, frame, cluster="firm_cluster_org"), scored)
    observed_only = ModelSpec("model Y", "y ~ x\n", pd.DataFrame({"y": [1.0], "x": [2.0]}))
    assert ordinal_variant(observed_only, scored) is observed_only  # no items: nothing ordinal

"""The generator: determinism, value ranges, knobs, population moments, sidecar, worlds."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from instrument import load_instrument
from smecore.errors import DefinitionError, OptionError
from synthetic_data.generate import generate
from synthetic_data.items import expected_correlation
from synthetic_data.knobs import Knobs
from synthetic_data.population import MODELS_DIR, load_population
from synthetic_data.truth import implied_item_covariance, item_specs
from synthetic_data.writers import DATA_FORMATS, SUFFIX, write_data


@pytest.fixture(scope="module")
def inst():
    return load_instrument()


@pytest.fixture(scope="module")
def big_clean():
    return generate(n=20_000, seed=11, clean=True, keep_continuous=True)


@pytest.fixture(scope="module")
def big_default():
    return generate(n=20_000, seed=12)


@pytest.mark.parametrize("fmt", DATA_FORMATS)
def test_same_seed_same_bytes_different_seed_different(tmp_path, fmt):
    a = generate(n=150, seed=3, modules=["M2", "M4"])
    b = generate(n=150, seed=3, modules=["M2", "M4"])
    c = generate(n=150, seed=4, modules=["M2", "M4"])
    pa = write_data(a, tmp_path / f"a{SUFFIX[fmt]}", fmt)
    pb = write_data(b, tmp_path / f"b{SUFFIX[fmt]}", fmt)
    pc = write_data(c, tmp_path / f"c{SUFFIX[fmt]}", fmt)
    assert pa[0].read_bytes() == pb[0].read_bytes()
    assert pa[0].read_bytes() != pc[0].read_bytes()


def test_columns_are_the_codebook_and_values_in_range(inst):
    g = generate(n=2000, seed=1)
    cb = inst.codebook()
    assert list(g.data.columns) == list(cb["variable"])
    for v in inst.variables():
        col = g.data[v.name].dropna()
        if v.scale:
            assert set(col.unique()) <= {p.value for p in inst.scales[v.scale].points}, v.name
        elif v.type in ("integer", "year", "percent"):
            assert col.min() >= (v.min if v.min is not None else 0) and (v.max is None or col.max() <= v.max), v.name
    assert (g.data["firm_first_foreign_sale"] >= g.data["firm_founded"]).all()
    assert (g.data["firm_new_markets_3y"] <= g.data["firm_markets"]).all()


def test_module_selection_writes_only_those_items():
    g = generate(n=100, seed=2, modules=["M5"])
    assert "iperf_1" in g.data and "firm_employees" in g.data and "tk_1" not in g.data and "mkr_1" in g.data


def test_knobs_as_configured(big_default):
    k = Knobs()  # the defaults in common.yaml
    r = big_default.respondents
    n = len(r)
    se = lambda p: 4 * np.sqrt(p * (1 - p) / n)  # noqa: E731 - four standard errors
    assert abs((r["type"] == "careless").mean() - k.careless) < se(k.careless)
    assert abs((r["type"] == "straightliner").mean() - k.straightliners) < se(k.straightliners)
    assert abs((~r["finished"]).mean() - k.partial) < se(k.partial)
    d = big_default.data
    attentive_finished = (r["type"] == "attentive") & r["finished"]
    lik = [c for c in d.columns if c.startswith(("tk_", "g1_", "iperf_", "ksm_"))]
    miss = d.loc[attentive_finished, lik].isna().to_numpy().mean()
    expected = 1 - (1 - k.mcar) * (1 - k.mar)  # MAR averages to `mar` over firm sizes
    assert abs(miss - expected) < 0.004
    # MAR: small firms skip more
    size = big_default.latent["SIZE"]
    small = d.loc[attentive_finished & (size < 0), lik].isna().to_numpy().mean()
    large = d.loc[attentive_finished & (size > 0), lik].isna().to_numpy().mean()
    assert small > large + 0.01
    # straight-liners answer every answered Likert item the same way
    sl = d.loc[(r["type"] == "straightliner") & r["finished"], lik]
    assert (sl.nunique(axis=1) <= 1).all()
    # attention checks: attentive respondents pass at about 1 - attention_fail
    att = d.loc[attentive_finished, "attn_1"].dropna()
    assert abs((att != 2).mean() - k.attention_fail) < se(k.attention_fail) + 0.004
    # careless responders are fast
    assert r.loc[r["type"] == "careless", "duration_sec"].median() < 0.5 * r.loc[r["type"] == "attentive",
                                                                                 "duration_sec"].median()


def test_clean_data_have_no_knob_effects(big_clean):
    assert (big_clean.respondents["type"] == "attentive").all()
    assert big_clean.data.drop(columns=["firm_cluster_org", "duration_sec"]).notna().all().all()
    assert big_clean.data["duration_sec"].isna().all()  # durations are a knob too


def test_continuous_responses_match_the_implied_covariance(big_clean, inst):
    pop = load_population("theory")
    items = ["tk_1", "tk_4", "ik_2", "vn_1", "vg_3", "peg_1", "le_4", "g1_1", "g7_2", "eoi_3", "cbc_2", "inn_1",
             "lock_3", "cint_1", "ant_2", "iperf_3", "mkr_1"]
    sample = big_clean.continuous[items].cov().to_numpy()
    implied = implied_item_covariance(pop, inst, items).to_numpy()
    # sampling SE of a covariance near 0.3 with N = 20,000 is about 0.008
    assert np.abs(sample - implied).max() < 0.035


def test_categorised_correlations_are_attenuated_as_expected(big_clean, inst):
    pop = load_population("theory")
    specs = item_specs(pop, inst)
    pairs = [("tk_1", "tk_2"), ("vn_1", "tk_1"), ("eoi_1", "eoi_3"), ("g1_1", "g2_1"), ("cint_1", "cint_2")]
    for a, b in pairs:
        rho = implied_item_covariance(pop, inst, [a, b]).iloc[0, 1]
        expected = expected_correlation(rho, specs.loc[a, "thresholds"], specs.loc[b, "thresholds"])
        observed = big_clean.data[a].astype(float).corr(big_clean.data[b].astype(float))
        assert abs(expected) < abs(rho)  # categorising attenuates
        assert abs(observed - expected) < 0.03, (a, b, observed, expected)


def test_distributions_are_skewed_not_symmetric(big_clean):
    x = big_clean.data["rq_1"].astype(float)
    assert x.mean() > 4.3 and x.skew() < -0.2
    rev = big_clean.data["rq_4"].astype(float)  # reverse-keyed: answered on the disagree side
    assert rev.mean() < 3.7 and rev.skew() > 0.2


def test_sidecar_matches_what_generated_the_data(tmp_path):
    g = generate(world="null", n=120, seed=9, modules=["M3"])
    path, side = write_data(g, tmp_path / "d.csv")
    meta = json.loads(side.read_text())
    assert (meta["world"], meta["seed"], meta["n"], meta["modules"]) == ("null", 9, 120, ["M0", "M3"])
    assert meta["knobs"] == Knobs().as_dict()
    import hashlib
    assert meta["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert meta["true_parameters"] == load_population("null").true_parameters()
    assert "numpy" in meta["versions"]
    g7 = [p for p in meta["true_parameters"] if p["outcome"] == "G7" and p["predictor"] == "CIP"]
    assert g7 == [{"module": "M3", "outcome": "G7", "predictor": "CIP", "value": 0.0, "hypothesis": "H6,H7",
                   "file": "m3_cluster.yaml"}]


def test_null_and_theory_differ_exactly_in_the_tested_effects():
    theory = load_population("theory").true_parameters()
    null = load_population("null").true_parameters()
    assert len(theory) == len(null)
    differ = [t for t, u in zip(theory, null) if t["value"] != u["value"]]
    tagged = [t for t in theory if t["hypothesis"]]
    assert differ == tagged
    assert {h for t in tagged for h in t["hypothesis"].split(",")} == {f"H{i}" for i in range(1, 17)}


def test_contrasts_are_equal_in_the_null_world():
    null = {(p["outcome"], p["predictor"]): p["value"] for p in load_population("null").true_parameters()}
    assert null[("TK", "VN")] == null[("MK", "VN")] == null[("IK", "VN")]
    assert null[("IK", "VG")] == null[("IK", "VN")]
    assert null[("TK", "GR")] == null[("MK", "GR")] == null[("IK", "GR")]


@pytest.fixture()
def models_copy(tmp_path):
    dst = tmp_path / "models"
    shutil.copytree(MODELS_DIR, dst)
    return dst


def test_bad_model_files_name_the_file_and_parameter(models_copy):
    f = models_copy / "m2_learning.yaml"
    f.write_text(f.read_text().replace("LE:  {loadings: [0.80,", "LE:  {loadings: [1.30,"))
    with pytest.raises(DefinitionError, match=r"m2_learning.yaml: constructs.LE.loadings"):
        load_population("theory", models_copy)


def test_equation_explaining_too_much_is_rejected(models_copy):
    f = models_copy / "m2_learning.yaml"
    f.write_text(f.read_text().replace("{predictor: LE, theory: 0.25", "{predictor: LE, theory: 0.95"))
    with pytest.raises(DefinitionError, match=r"m2_learning.yaml: equations.PEG.*explain"):
        load_population("theory", models_copy)


def test_non_positive_definite_correlations_are_rejected(models_copy):
    f = models_copy / "m4_innovation.yaml"
    f.write_text(f.read_text().replace("[CBC, LOCK, -0.30]", "[CBC, LOCK, -0.99]").replace(
        "[DUAL, LOCK, -0.20]", "[DUAL, LOCK, 0.99]"))
    with pytest.raises(DefinitionError, match="not positive definite"):
        load_population("theory", models_copy)


def test_loadings_must_match_the_items(models_copy, inst):
    f = models_copy / "m4_innovation.yaml"
    f.write_text(f.read_text().replace("GM:   {loadings: [0.82, 0.78, 0.74]", "GM:   {loadings: [0.82, 0.78]").replace(
        "shifts: [0.00, 0.05, 0.10]}\n  INN", "shifts: [0.00, 0.05]}\n  INN"))
    pop = load_population("theory", models_copy)
    with pytest.raises(DefinitionError, match=r"m4_innovation.yaml: constructs.GM.loadings: 2 values but the "
                                              r"instrument has 3 items"):
        generate(n=10, population=pop)


def test_bad_options(tmp_path):
    with pytest.raises(OptionError, match="world"):
        generate(world="alt", n=10)
    with pytest.raises(OptionError, match="n must be"):
        generate(n=0)
    with pytest.raises(OptionError, match="knob"):
        Knobs.from_mapping({"carless": 0.1})
    with pytest.raises(OptionError, match="format"):
        write_data(generate(n=10), tmp_path / "x.csv", "spss")


def test_float_columns_hold_the_numbers_of_the_nullable_integers():
    """nullable_integers=False (what a power study analyses in memory) gives the same numbers as floats,
    NaN where the nullable integers are missing - what pandas.read_csv makes of a written file."""
    typed = generate(world="theory", n=300, seed=5).data
    floats = generate(world="theory", n=300, seed=5, nullable_integers=False).data
    assert list(floats.columns) == list(typed.columns)
    whole = [c for c in typed.columns if str(typed[c].dtype) == "Int64"]
    assert len(whole) > 150 and any(typed[c].isna().any() for c in whole)
    for c in typed.columns:
        if c in whole:
            assert floats[c].dtype == np.float64
            np.testing.assert_array_equal(floats[c].to_numpy(), typed[c].to_numpy(dtype=float, na_value=np.nan))
        else:
            pd.testing.assert_series_equal(floats[c], typed[c])

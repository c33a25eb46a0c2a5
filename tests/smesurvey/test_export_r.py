"""``smesurvey export-r``: models, data and our results for lavaan; and the numbers agree with lavaan's."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smesurvey.cli import main
from smesurvey.export_r import compare_with_lavaan

LAVAAN = Path(__file__).resolve().parents[1] / "results" / "lavaan_pipeline"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export_r")
    assert main(["export-r", "--out", str(out)]) == 0
    return out


def test_every_model_is_exported_with_data_and_our_results(exported):
    models = pd.read_csv(exported / "models.csv", keep_default_na=False)
    assert {"measurement_M1", "measurement_M5", "model_H1", "model_H8", "model_H16"} <= set(models["key"])
    for key in models["key"]:
        syntax = (exported / "models" / f"{key}.lav").read_text()
        data = pd.read_csv(exported / "data" / f"{key}.csv")
        assert "=~" in syntax and len(data) > 400
        ours = pd.read_csv(exported / "ours" / f"{key}_parameters.csv")
        assert list(ours.columns) == ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue",
                                      "ci.lower", "ci.upper", "std.lv", "std.all"]
    script = (exported / "fit_lavaan.R").read_text()
    assert "parameterEstimates(fit, standardized = TRUE, ci = TRUE)" in script and 'missing = m$missing' in script
    # the analysis adds the missingness predictor SIZE as an auxiliary of FIML wherever the model leaves it
    # out; the export says so, carries the column, and R fits those models with semTools::auxiliary
    aux = models.set_index("key")["auxiliary"]
    assert aux["model_H7"] == "" and (aux.drop("model_H7") == "SIZE").all()
    assert "SIZE" in pd.read_csv(exported / "data" / "measurement_M1.csv").columns
    assert "semTools::auxiliary" in script


def test_our_numbers_agree_with_lavaan_on_every_model_of_the_analysis(exported):
    """lavaan 0.6.14 with semTools 0.5-6 ran the exported script once (tests/results/lavaan_pipeline);
    MLR + FIML with the auxiliary SIZE on incomplete, skewed Likert data with product indicators,
    second-order factors, equality constraints: estimates and std.all within 1e-4, SEs within 0.1%,
    fit measures within 1e-5 (the auxiliary's saturated-correlate rows are compared too)."""
    shutil.copytree(LAVAAN, exported / "lavaan", dirs_exist_ok=True)
    c = compare_with_lavaan(exported).set_index("model")
    assert len(c) == 19
    assert (c["parameters"].str.split("/").map(lambda x: x[0] == x[1])).all()
    assert c["est"].max() < 1e-4 and c["std.all"].max() < 1e-4 and c["se"].max() < 1e-3
    assert c[["chisq", "chisq.scaled"]].max().max() < 1e-5
    assert c[["cfi", "tli", "rmsea", "srmr", "cfi.robust", "tli.robust", "rmsea.robust"]].max().max() < 1e-5


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed (optional cross-check)")
@pytest.mark.slow
def test_the_r_script_runs_where_r_and_lavaan_are_installed(exported, tmp_path):
    """Only where R with lavaan is available (not needed by the project); the small H5 model."""
    ok = subprocess.run(["Rscript", "-e", "library(lavaan)"], capture_output=True)
    if ok.returncode != 0:
        pytest.skip("R is installed without lavaan")
    small = tmp_path / "one"
    shutil.copytree(exported, small, ignore=shutil.ignore_patterns("lavaan"))
    models = pd.read_csv(small / "models.csv", keep_default_na=False)
    models[models["key"] == "model_H5"].to_csv(small / "models.csv", index=False)
    subprocess.run(["Rscript", "fit_lavaan.R"], cwd=small, check=True, capture_output=True)
    c = compare_with_lavaan(small)
    assert c.loc[0, "est"] < 1e-4


LAVAAN_ORDINAL = Path(__file__).resolve().parents[1] / "results" / "lavaan_pipeline_ordinal"


@pytest.fixture(scope="module")
def exported_ordinal(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export_r_ordinal")
    assert main(["export-r", "--ordinal", "--out", str(out)]) == 0
    return out


def test_ordinal_export_names_the_ordered_items(exported_ordinal):
    models = pd.read_csv(exported_ordinal / "models.csv", keep_default_na=False).set_index("key")
    products = ["model_H7", "model_H10", "model_H13", "model_H16"]
    assert (models.loc[products, "estimator"] == "MLR").all() and (models.loc[products, "ordered"] == "").all()
    wlsmv = models.drop(products)
    assert (wlsmv["estimator"] == "WLSMV").all() and (wlsmv["missing"] == "pairwise").all()
    assert (wlsmv["auxiliary"] == "").all() and (wlsmv["ordered"] != "").all()
    assert models.loc["model_H1", "ordered"] == "ik_1,ik_2,ik_3,ik_4"
    assert "DOI ~~ DOI" in (exported_ordinal / "models" / "model_H1.lav").read_text()
    assert "args$ordered" in (exported_ordinal / "fit_lavaan.R").read_text()


def test_every_model_of_the_ordinal_analysis_agrees_with_lavaan(exported_ordinal):
    """lavaan 0.6.14 ran the exported script once (tests/results/lavaan_pipeline_ordinal): WLSMV with
    pairwise deletion on incomplete 7-point items (second-order factors, std.lv with equality-
    constrained correlations, continuous observed variables beside the items) and the MLR product
    models: estimates and std.all within 1e-4, SEs within 0.1%, chi-squares within 1e-5 relative, CFI /
    TLI / RMSEA (plain, scaled, robust) and SRMR within 1e-5; robust indices NA exactly where lavaan's
    are (continuous variables among the ordinal items)."""
    shutil.copytree(LAVAAN_ORDINAL, exported_ordinal / "lavaan", dirs_exist_ok=True)
    c = compare_with_lavaan(exported_ordinal).set_index("model")
    assert len(c) == 19
    assert (c["parameters"].str.split("/").map(lambda x: x[0] == x[1])).all()
    assert c["est"].max() < 1e-4 and c["std.all"].max() < 1e-4 and c["se"].max() < 1e-3
    assert c[["chisq", "chisq.scaled"]].max().max() < 1e-5
    indices = ["cfi", "tli", "rmsea", "srmr", "cfi.scaled", "tli.scaled", "rmsea.scaled", "cfi.robust",
               "tli.robust", "rmsea.robust"]
    assert not np.isinf(c[indices].to_numpy()).any()  # NA in one but not the other
    assert c[indices].max().max() < 1e-5
    assert c.loc[["model_H1", "model_H5", "model_H6", "model_H9", "model_H11"], "cfi.robust"].isna().all()

import json

import pandas as pd
import pytest

from smesurvey.cli import main
from tests.analysis.conftest import HS_MODEL, REFERENCE


@pytest.fixture()
def model_file(tmp_path):
    p = tmp_path / "hs.lav"
    p.write_text(HS_MODEL)
    return p


def test_fit_writes_lavaan_tables(tmp_path, model_file):
    out = tmp_path / "out"
    rc = main(["fit", str(model_file), str(REFERENCE / "HolzingerSwineford1939.csv"), "--out", str(out),
               "--estimator", "MLR", "--quiet", "--modindices"])
    assert rc == 0
    params = pd.read_csv(out / "parameters.csv", keep_default_na=False, na_values=[""])
    assert list(params.columns) == ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue",
                                    "ci.lower", "ci.upper", "std.lv", "std.all"]
    fm = json.loads((out / "fit.json").read_text())
    ref = pd.read_csv(REFERENCE / "hs1939_cfa_MLR_fit.csv").set_index("measure")["value"]
    assert fm["chisq.scaled"] == pytest.approx(ref["chisq.scaled"], rel=1e-4)
    assert set(fm) == set(ref.index)  # every name of lavaan's fitMeasures(), no other
    for name in ("gfi", "srmr_mplus", "crmr", "ecvi", "nnfi.scaled", "rmsea.ci.upper.scaled"):
        assert fm[name] == pytest.approx(ref[name], abs=1e-3)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["options"]["estimator"] == "MLR" and "numpy" in prov["versions"]
    assert (out / "modindices.csv").exists() and len(pd.read_csv(out / "modindices.csv")) > 10


def test_multigroup_options(tmp_path, model_file):
    out = tmp_path / "mg"
    rc = main(["fit", str(model_file), str(REFERENCE / "HolzingerSwineford1939.csv"), "--out", str(out),
               "--group", "school", "--group-equal", "loadings", "--quiet"])
    assert rc == 0
    fm = json.loads((out / "fit.json").read_text())
    assert fm["df"] == 54


def test_bad_input_prints_one_line_and_exits_2(tmp_path, model_file, capsys):
    rc = main(["fit", str(model_file), str(REFERENCE / "PoliticalDemocracy.csv"), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "x4" in err and "Traceback" not in err


def test_unknown_estimator_exits_2(tmp_path, model_file, capsys):
    rc = main(["fit", str(model_file), str(REFERENCE / "HolzingerSwineford1939.csv"), "--out",
               str(tmp_path), "--estimator", "WLSMV"])
    assert rc == 2 and "WLSMV" in capsys.readouterr().err


def test_bootstrap_option_writes_intervals(tmp_path):
    model = tmp_path / "med.lav"
    model.write_text("y2 ~ a*y1\ny3 ~ b*y2 + c*y1\nind := a*b")
    out = tmp_path / "boot"
    rc = main(["fit", str(model), str(REFERENCE / "PoliticalDemocracy.csv"), "--out", str(out),
               "--bootstrap", "30", "--seed", "4", "--jobs", "1", "--quiet"])
    assert rc == 0
    boot = pd.read_csv(out / "bootstrap.csv")
    ind = boot[boot["lhs"] == "ind"].iloc[0]
    assert ind["ci.lower"] < ind["est"] < ind["ci.upper"]
    assert {"ci.lower.bc", "ci.upper.bc", "boot.se"} <= set(boot.columns)


def test_cluster_option_gives_lavaan_cluster_robust_results(tmp_path, capsys):
    from tests.analysis.sem.test_fit_reference import EXTRA, TWOLEVEL

    model = tmp_path / "twolevel.lav"
    model.write_text(TWOLEVEL)
    out = tmp_path / "cl"
    rc = main(["fit", str(model), str(EXTRA / "demo_twolevel.csv"), "--out", str(out), "--estimator", "MLR",
               "--cluster", "cluster", "--quiet"])
    assert rc == 0
    ref = pd.read_csv(EXTRA / "twolevel_cluster_MLR_fit.csv").set_index("measure")["value"]
    assert json.loads((out / "fit.json").read_text())["chisq.scaled"] == pytest.approx(ref["chisq.scaled"], rel=1e-4)
    rc = main(["fit", str(model), str(EXTRA / "demo_twolevel.csv"), "--out", str(out), "--cluster", "cluster"])
    assert rc == 2 and "needs estimator='MLR'" in capsys.readouterr().err


def _fit_json(out):
    return json.loads((out / "fit.json").read_text())


@pytest.mark.parametrize("partial", [["--group-partial", "x3 ~ 1", "--group-partial", "x7 ~ 1"],
                                     ["--group-partial", "x3 ~ 1, x7 ~ 1"]])
def test_group_partial_option_matches_lavaan(tmp_path, model_file, partial):
    from tests.analysis.sem.test_fit_reference import EXTRA

    out = tmp_path / "partial"
    rc = main(["fit", str(model_file), str(REFERENCE / "HolzingerSwineford1939.csv"), "--out", str(out),
               "--group", "school", "--group-equal", "loadings,intercepts", *partial, "--quiet"])
    assert rc == 0
    ref = pd.read_csv(EXTRA / "hs_partial_ML_fit.csv").set_index("measure")["value"]
    fm = _fit_json(out)
    assert fm["df"] == ref["df"] and fm["chisq"] == pytest.approx(ref["chisq"], rel=1e-6)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["options"]["group_partial"] == ["x3 ~ 1", "x7 ~ 1"]


def test_group_partial_naming_no_parameter_exits_2(tmp_path, model_file, capsys):
    rc = main(["fit", str(model_file), str(REFERENCE / "HolzingerSwineford1939.csv"), "--out", str(tmp_path),
               "--group", "school", "--group-equal", "loadings", "--group-partial", "visual =~ x9"])
    err = capsys.readouterr().err
    assert rc == 2 and "visual =~ x9" in err and err.count("\n") == 1


def test_growth_option_uses_lavaan_growth_defaults(tmp_path):
    from tests.analysis.sem.test_fit_reference import EXTRA, GROWTH

    model = tmp_path / "growth.lav"
    model.write_text(GROWTH)
    out = tmp_path / "growth"
    rc = main(["fit", str(model), str(EXTRA / "demo_growth.csv"), "--out", str(out), "--growth", "--quiet"])
    assert rc == 0
    ref = pd.read_csv(EXTRA / "growth_linear_ML_fit.csv").set_index("measure")["value"]
    fm = _fit_json(out)
    assert fm["df"] == ref["df"] == 5 and fm["chisq"] == pytest.approx(ref["chisq"], rel=1e-6)
    params = pd.read_csv(out / "parameters.csv", keep_default_na=False, na_values=[""])
    means = params[(params["op"] == "~1") & params["lhs"].isin(["i", "s"])]
    assert (means["se"] > 0).all()


def test_excluded_rows_are_one_warning_line(tmp_path, capsys):
    from tests.analysis.sem.test_fit_reference import EXTRA

    model = tmp_path / "mimic.lav"
    model.write_text("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ sex + ageyr")
    out = tmp_path / "exo"
    rc = main(["fit", str(model), str(EXTRA / "hsmissing_exo_na.csv"), "--out", str(out), "--missing", "fiml",
               "--quiet"])
    assert rc == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == [line for line in lines if line.startswith("warning: ")]  # no Python warning format
    assert len(lines) == 1 and "5 rows excluded: missing on covariate(s) ageyr" in lines[0]
    assert len(pd.read_csv(out / "excluded.csv")) == 5

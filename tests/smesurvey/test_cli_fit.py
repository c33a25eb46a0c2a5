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

"""``smesurvey fit --ordered``: ordinal items fitted by WLSMV from the command line (issue 14)."""

import json

import pandas as pd
import pytest

from smesurvey.cli import main
from tests.analysis.conftest import ORDINAL_MODEL, REFERENCE
from tests.analysis.sem.test_ordinal_reference import ORDINAL, TWO


@pytest.fixture()
def model_file(tmp_path):
    p = tmp_path / "three.lav"
    p.write_text(ORDINAL_MODEL)
    return p


def test_ordered_all_fits_wlsmv_with_lavaans_numbers(tmp_path, model_file):
    out = tmp_path / "out"
    rc = main(["fit", str(model_file), str(REFERENCE / "ordinal_3f.csv"), "--ordered", "all", "--out", str(out),
               "--quiet"])
    assert rc == 0
    params = pd.read_csv(out / "parameters.csv", keep_default_na=False, na_values=[""])
    ref = pd.read_csv(REFERENCE / "ordinal_3f_cfa_WLSMV_parameters.csv")
    th = params[params["op"] == "|"].merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
    assert len(th) == 48
    assert (th["est"] - th["est_ref"]).abs().max() < 1e-4
    fm = json.loads((out / "fit.json").read_text())
    fref = pd.read_csv(REFERENCE / "ordinal_3f_cfa_WLSMV_fit.csv").set_index("measure")["value"]
    assert fm["chisq.scaled"] == pytest.approx(fref["chisq.scaled"], rel=1e-4)
    assert fm["cfi.robust"] == pytest.approx(fref["cfi.robust"], abs=1e-4)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["options"]["estimator"] == "WLSMV" and prov["options"]["parameterization"] == "delta"
    assert prov["options"]["ordered"] == [f"o{i}" for i in range(1, 13)]


def test_named_columns_theta_pairwise_groups(tmp_path):
    model = tmp_path / "two.lav"
    model.write_text(TWO)
    out = tmp_path / "two"
    rc = main(["fit", str(model), str(ORDINAL / "ord_twogroup.csv"), "--ordered", ",".join(f"u{i}" for i in range(1, 9)),
               "--group", "country", "--group-equal", "thresholds,loadings", "--parameterization", "theta",
               "--missing", "pairwise", "--out", str(out), "--quiet"])
    assert rc == 0
    fm = json.loads((out / "fit.json").read_text())
    ref = pd.read_csv(ORDINAL / "ord_twogroup_equal_theta_WLSMV_fit.csv").set_index("measure")["value"]
    assert fm["chisq.scaled"] == pytest.approx(ref["chisq.scaled"], rel=1e-4)  # complete data: pairwise = listwise


@pytest.mark.parametrize(("args", "message"), [
    (["--estimator", "WLSMV"], "--estimator WLSMV is for ordinal items"),
    (["--missing", "pairwise"], "--missing pairwise is for ordinal items"),
    (["--ordered", "all", "--estimator", "MLR"], "not MLR; leave --estimator out"),
    (["--ordered", "all", "--missing", "fiml"], "--missing fiml is not available with --ordered"),
    (["--ordered", "all", "--modindices"], "--modindices is not available with --ordered"),
    (["--ordered", "all", "--bootstrap", "100"], "--bootstrap is not available with --ordered"),
    (["--ordered", "all", "--parameterization", "beta"], "--parameterization: 'beta' is not one of delta, theta"),
])
def test_refused_combinations_exit_2_before_any_work(tmp_path, model_file, capsys, args, message):
    out = tmp_path / "refused"
    rc = main(["fit", str(model_file), str(REFERENCE / "ordinal_3f.csv"), "--out", str(out), *args])
    assert rc == 2 and message in capsys.readouterr().err
    assert not out.exists()

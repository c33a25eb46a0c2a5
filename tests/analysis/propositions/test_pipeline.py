"""The analysis pipeline end to end: outputs, subsets, determinism, no lost rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.propositions.hypotheses import VERDICTS
from analysis.propositions.pipeline import analyze, write_outputs
from analysis.report.render import write_reports
from analysis.sem.constants import PARAMETER_COLUMNS
from instrument import load_instrument
from smecore.errors import DataError
from synthetic_data.generate import generate

ISSUE_COLUMNS = ["hypothesis", "verdict", "estimate", "ci.lower", "ci.upper", "pvalue", "pvalue.holm",
                 "pvalue.bh", "std.estimate", "n"]


@pytest.fixture(scope="module")
def m4_data():
    return generate(world="theory", n=400, seed=3, modules=["M4"]).data


def test_verdicts_file_has_the_issue_columns(analyzed):
    v = pd.read_csv(analyzed / "verdicts.csv")
    assert set(ISSUE_COLUMNS) <= set(v.columns)
    assert list(v["hypothesis"]) == [f"H{k}" for k in range(1, 17)]
    assert set(v["verdict"]) <= set(VERDICTS)
    assert (v["pvalue.holm"] >= v["pvalue"] - 1e-15).all()
    assert (v["pvalue.bh"] <= v["pvalue.holm"] + 1e-15).all() and (v["pvalue.bh"] >= v["pvalue"] - 1e-15).all()
    assert (v["ci.lower"] <= v["estimate"]).all() and (v["estimate"] <= v["ci.upper"]).all()
    assert v["n"].between(400, 600).all()
    # theory world: the strong effects are found even at N = 600
    assert (v.set_index("hypothesis").loc[["H1", "H5", "H9", "H11", "H14"], "verdict"] == "supported").all()


def test_parameter_measurement_fit_and_provenance_files(analyzed):
    params = pd.read_csv(analyzed / "parameters.csv")
    assert list(params.columns) == ["model", *PARAMETER_COLUMNS, "auxiliary"]
    assert {"model H1", "measurement M1", "measurement M5"} <= set(params["model"])
    # the rows of the auxiliary SIZE (saturated correlates) are flagged, and only those
    involves_size = (params["lhs"] == "SIZE") | (params["rhs"] == "SIZE")
    in_model_h7 = params["model"] == "model H7"  # H7 has SIZE in its model: no auxiliary there
    assert params["auxiliary"].equals(involves_size & ~in_model_h7)
    assert params.loc[params["auxiliary"], "op"].isin(["~~", "~1"]).all() and params["auxiliary"].sum() > 100
    meas = pd.read_csv(analyzed / "measurement.csv")
    inst = load_instrument()
    assert set(meas["construct"]) >= set(inst.constructs) - {"MKR"}
    first = meas[meas["construct"].isin(inst.constructs)]
    assert first["alpha"].between(0.5, 1).all() and first["ave"].between(0.2, 1).all()
    # HTMT against its stated threshold; unknown stays unknown
    assert (first["htmt.threshold"] == 0.85).all()
    known = first["max.htmt"].notna()
    assert first.loc[known, "htmt.ok"].astype(bool).equals(first.loc[known, "max.htmt"] < 0.85)
    assert first.loc[~known, "htmt.ok"].isna().all()
    # every second-order factor has a row with its omegaL2, and its members name it
    second = meas[~meas["construct"].isin(inst.constructs)].set_index("construct")
    assert set(second.index) == set(inst.second_order())
    assert second["omega.l2"].between(0.3, 1).all() and first["omega.l2"].isna().all()
    for so, members in inst.second_order().items():
        assert (first.set_index("construct").loc[members, "second.order"] == so).all()
    fits = json.loads((analyzed / "fit.json").read_text())
    for key in ("model H1", "measurement M3"):
        assert {"chisq", "df", "cfi", "rmsea", "srmr", "chisq.scaled", "cfi.robust"} <= set(fits[key])
    prov = json.loads((analyzed / "provenance.json").read_text())
    assert prov["seed"] == 3 and prov["bootstrap"] == 200 and "statsmodels" in prov["versions"]
    assert len(prov["input_sha256"]) == 64
    tests = pd.read_csv(analyzed / "tests.csv")
    assert set(tests["hypothesis"]) == {f"H{k}" for k in range(1, 17)}
    robust = pd.read_csv(analyzed / "robustness.csv")
    assert set(robust["hypothesis"]) >= {f"H{k}" for k in range(1, 17)} - {"H8"}


def test_every_row_read_is_kept_or_excluded_with_a_reason(analyzed):
    prov = json.loads((analyzed / "provenance.json").read_text())
    excluded = pd.read_csv(analyzed / "excluded.csv")
    assert prov["rows.read"] == 600
    dropped = excluded.loc[excluded["excluded"], "row"].unique()
    assert prov["rows.kept"] + len(dropped) == prov["rows.read"]
    assert excluded["reason"].notna().all() and len(dropped) > 0


def test_subset_of_modules_and_skipped_hypotheses(m4_data):
    res = analyze(m4_data, n_boot=50, n_jobs=1)
    assert list(res.verdicts["hypothesis"]) == ["H11", "H12", "H13"]
    skipped = res.skipped.set_index("hypothesis")["reason"]
    assert len(skipped) == 13 and "module(s) M1 not in the data" in skipped["H1"]
    assert res.options["modules"] == ["M0", "M4"]
    # Holm over the three tested hypotheses only
    assert res.verdicts["pvalue.holm"].max() <= min(1.0, 3 * res.verdicts["pvalue"].max()) + 1e-12


def test_modules_option_restricts_the_analysis():
    g = generate(world="theory", n=300, seed=4, modules=["M2", "M4"])
    res = analyze(g.data, modules=["M2"], n_boot=50, n_jobs=1)
    assert list(res.verdicts["hypothesis"]) == ["H10"]


def test_same_inputs_give_byte_identical_outputs(tmp_path, m4_data):
    inst = load_instrument()
    digests = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        res = analyze(m4_data, n_boot=50, seed=9, n_jobs=1 + k)  # workers do not change the draws
        paths = write_outputs(res, out) + write_reports(res, inst, out)
        digests.append({p.name: p.read_bytes() for p in paths})
    assert digests[0].keys() == digests[1].keys()
    assert [k for k in digests[0] if digests[0][k] != digests[1][k]] == []


def test_bootstrap_beside_the_fits_gives_the_rows_of_the_sequential_run():
    """With n_jobs != 1 the indirect effects' bootstraps run in a background thread while the other
    models are fitted; the tables are those of the sequential run, row order included."""
    data = generate(world="theory", n=300, seed=5, modules=["M3"]).data
    one = analyze(data, n_boot=64, seed=2, n_jobs=1)
    two = analyze(data, n_boot=64, seed=2, n_jobs=2)
    assert one.tests["kind"].str.startswith("indirect").any()
    pd.testing.assert_frame_equal(one.tests, two.tests)
    pd.testing.assert_frame_equal(one.robustness, two.robustness)
    pd.testing.assert_frame_equal(one.verdicts, two.verdicts)


def test_data_without_items_is_refused():
    with pytest.raises(DataError, match="no questionnaire items found"):
        analyze(pd.DataFrame({"x": [1, 2, 3]}), source="odd.csv")


def test_cluster_robust_sems_on_request(m4_data):
    plain = analyze(m4_data, n_boot=50, n_jobs=1)
    from smecore.errors import SmeSurveyWarning
    with pytest.warns(SmeSurveyWarning, match="only 20 clusters"):  # the synthetic firms sit in 20 clusters
        robust = analyze(m4_data, n_boot=50, n_jobs=1, cluster_robust=True)
    assert plain.options["cluster.robust.sem"] is None
    assert robust.options["cluster.robust.sem"] == "firm_cluster_org"
    key = "model H11"
    assert robust.models[key][1].options.se == "robust.cluster"
    # same estimates, different standard errors
    a, b = plain.models[key][1].parameters, robust.models[key][1].parameters
    m = a.merge(b, on=["lhs", "op", "rhs", "group"], suffixes=("", ".cl"))
    assert len(m) == len(a) == len(b)
    np.testing.assert_allclose(m["est"], m["est.cl"], atol=1e-6)
    assert not np.allclose(plain.tests["se"], robust.tests["se"])


def test_multigroup_check_after_a_regression_check_keeps_the_callers_cluster(monkeypatch):
    """Defect: the regression checks set `cluster` inside the loop, so a multi-group SEM after
    them was fitted cluster-robust although the caller asked for no cluster."""
    import analysis.propositions.pipeline as pl
    from analysis.propositions.hypotheses import load_registry
    from analysis.psychometrics.scoring import score

    inst = load_instrument().select(["M3"])
    h7 = next(h for h in load_registry(inst).hypotheses if h.id == "H7")
    ols_first = tuple(sorted(h7.spec.robustness, key=lambda r: r.kind != "ols"))
    assert [r.kind for r in ols_first] == ["ols", "multigroup"]
    h = h7.__class__(h7.id, h7.statement, h7.seed, h7.passage, h7.module,
                     h7.spec.model_copy(update={"robustness": ols_first}))
    data = generate(world="theory", n=300, seed=5, modules=["M3"]).data
    scored = score(data, inst)
    assert pl.CLUSTER_COLUMN in scored.data.columns
    seen = []

    def record(h_, r, scored_, instrument, cluster=None):
        seen.append(cluster)
        return {"hypothesis": h_.id, "check": r.label, "p.predicted": 0.5}

    monkeypatch.setattr(pl, "_multigroup_row", record)
    rows = pl._robust_rows(h, scored, None, 0.05, inst, cluster=None)
    assert seen == [None]
    ols_row = next(r for r in rows if r["check"].startswith("OLS"))
    assert ols_row["clusters"] == scored.data[pl.CLUSTER_COLUMN].nunique()
    assert np.isfinite(ols_row["p.cluster"])

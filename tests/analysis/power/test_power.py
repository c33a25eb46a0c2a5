"""A power study runs analyze's decision code, gives the same numbers on any workers (local processes or
a real Dask LocalCluster), streams its blocks to disk and resumes."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.power import power
from analysis.power.replicate import Block, context, data_seed, draws_seed, replication
from analysis.propositions.hypotheses import hypothesis_decision
from analysis.propositions.models import hypothesis_specs
from analysis.propositions.pipeline import hypothesis_tests, step12_prepare
from smecore.errors import OptionError
from synthetic_data.generate import generate

GRID = {"hypotheses": "H5,H14", "ns": "100,150", "reps": 3, "seed": 4}
KEY = ["world", "n", "rep", "hypothesis", "test"]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    cols = [c for c in a.columns if c not in ("seconds", "cpu.seconds")]
    pd.testing.assert_frame_equal(a.sort_values(KEY)[cols].reset_index(drop=True),
                                  b.sort_values(KEY)[cols].reset_index(drop=True))


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    return power(out=tmp_path_factory.mktemp("one"), workers=1, recovery=False, **GRID)


def test_outputs_written(in_process):
    names = {p.name for p in in_process.paths}
    assert {"power.csv", "sample_size.csv", "recovery.csv", "replications.parquet", "power.html",
            "power_curves.png", "power_curves.svg", "provenance.json"} <= names
    p = in_process.power
    assert set(p["hypothesis"]) == {"H5", "H14", "FAMILY"}
    assert {"power", "mc.se", "nonconverged", "improper", "skipped"} <= set(p.columns)
    assert (p["reps"] == 3).all()
    html = (in_process.paths[0].parent / "power.html").read_text(encoding="utf-8")
    assert "Recommendation" in html and "<svg" in html and "http" not in html.split("<svg")[0].lower()
    rows = pd.read_parquet(in_process.paths[0].parent / "replications.parquet")
    assert len(rows) == 2 * 3 * 2 and {"verdict", "p.predicted", "h.pvalue"} <= set(rows.columns)


def test_identical_with_two_local_workers(in_process, tmp_path):
    two = power(out=tmp_path / "two", workers=2, recovery=False, **GRID)
    _same(in_process.replications, two.replications)
    pd.testing.assert_frame_equal(in_process.power, two.power)


def test_identical_on_a_dask_local_cluster(in_process, tmp_path):
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                      worker_dashboard_address=None) as cluster:
            remote = power(out=tmp_path / "dask", scheduler=cluster.scheduler_address, recovery=False, **GRID)
    _same(in_process.replications, remote.replications)
    pd.testing.assert_frame_equal(in_process.power, remote.power)


def test_resume_runs_only_what_is_missing(in_process, tmp_path):
    out = tmp_path / "resume"
    power(out=out, workers=1, recovery=False, **GRID)
    chunks = sorted((out / "chunks").glob("*.parquet"))
    assert len(chunks) == 2  # one block per N, written as it finished
    chunks[0].unlink()
    again = power(out=out, workers=1, recovery=False, **GRID)
    assert again.timings["blocks run"] == 1
    _same(in_process.replications, again.replications)
    bigger = power(out=out, workers=1, recovery=False, **{**GRID, "reps": 4})
    assert bigger.timings["blocks run"] == 2 and (bigger.power["reps"] == 4).all()
    _same(in_process.replications, bigger.replications[bigger.replications["rep"] < 3])


def test_other_settings_in_the_same_folder_refused(in_process):
    out = in_process.paths[0].parent
    assert json.loads((out / "run.json").read_text())["seed"] == 4
    with pytest.raises(OptionError, match=r"other settings \(seed\)"):
        power(out=out, workers=1, recovery=False, **{**GRID, "seed": 5})


def test_workers_and_scheduler_exclusive(tmp_path):
    with pytest.raises(OptionError, match="not both"):
        power(out=tmp_path / "x", workers=2, scheduler="tcp://127.0.0.1:1", **GRID)


def test_replication_runs_analyze_decision_code():
    """The lean refit path gives analyze's tests (full fit) to optimiser accuracy, with the same verdict inputs."""
    block = Block("theory", 300, (0,), ("H5", "H8", "H14"), 7)
    rows = pd.DataFrame(replication(block, 0))
    inst, reg = context()
    g = generate(world="theory", n=300, seed=data_seed(7, "theory", 300, 0), instrument=inst)
    _, scored = step12_prepare(g.data, inst)
    sub = type(reg)(reg.alpha, reg.bootstrap, reg.monte_carlo,
                    tuple(h for h in reg.hypotheses if h.id in block.hypotheses), reg.source, reg.adjust)
    built = hypothesis_specs(scored, inst, sub)
    for h in sub.hypotheses:
        spec = next(s for s in built.specs if h.id in s.hypotheses)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = spec.fit()
            full = pd.DataFrame(hypothesis_tests(h, spec, res, sub, scored, seed=draws_seed(7, "theory", 300, 0, h.id),
                                                 n_boot=0, indirect="monte_carlo", decisions_only=True))
        lean = rows[rows["hypothesis"] == h.id].reset_index(drop=True)
        assert list(lean["test"]) == list(full["test"])
        for col in ("estimate", "se", "p.predicted"):
            np.testing.assert_allclose(lean[col].to_numpy(float), full[col].to_numpy(float), rtol=1e-4, atol=1e-8)
        weakest, _, extra_ok = hypothesis_decision(full)
        assert lean["h.pvalue"].iloc[0] == pytest.approx(weakest["p.predicted"], rel=1e-4)
        assert bool(lean["h.extra_ok"].iloc[0]) == extra_ok


def test_set_changes_power(tmp_path):
    weak = power(out=tmp_path / "weak", hypotheses="H14", ns="100", reps=3, seed=4, workers=1, recovery=False,
                 overrides=["H14=0.05"])
    assert weak.settings.overrides == (("H14", 0.05),)
    assert weak.power.loc[weak.power["hypothesis"] == "H14", "power"].iloc[0] <= 1 / 3


def test_a_heywood_case_without_standardized_estimate_counts_as_improper_and_not_supported():
    """The default grid's replication 479 at N = 100 (seed 1): H16's latent square gets a negative
    variance, so its standardized slope - the decision test - has no estimate. The replication must
    record it (status improper, no p-value: not supported) and go on, not stop the grid."""
    rows = pd.DataFrame(replication(Block("theory", 100, (479,), ("H16",), 1), 479))
    assert rows["status"].tolist() == ["improper"]
    assert "Heywood case" in rows["reason"][0] and "CINTSQ" in rows["reason"][0]
    assert np.isnan(rows["p.predicted"][0]) and np.isnan(rows["h.pvalue"][0]) and bool(rows["decision"][0])

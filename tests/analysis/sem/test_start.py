"""Start values: closed-form one-factor case, lavaan's simple rules, user start() wins."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.sem.partable import build_partable
from analysis.sem.samplestats import group_data
from analysis.sem.start import start_values
from analysis.sem.syntax import parse_model
from tests.analysis.sem.test_fit_errors import exact_sample

LAMBDA = np.array([1.0, 0.8, 1.2, 0.6])
PSI = 0.7
THETA = np.array([0.5, 0.4, 0.6, 0.3])
COV = PSI * np.outer(LAMBDA, LAMBDA) + np.diag(THETA)


def _start(model: str, data, meanstructure: bool = False):
    pt = build_partable(parse_model(model), meanstructure=meanstructure)
    gd = group_data(data[list(pt.variables.ov)].to_numpy())
    theta = start_values(pt, [gd])
    free = pt.table[pt.table["free"] > 0]
    return {(r.lhs, r.op, r.rhs): theta[r.free - 1] for r in free.itertuples()}, gd


def test_one_factor_population_covariance_gives_the_true_loadings_and_factor_variance():
    """s_ij / s_jm = lambda_i when the one-factor model holds exactly (the marker's loading is 1)."""
    data = exact_sample(COV, 500)
    start, gd = _start("f =~ x1 + x2 + x3 + x4", data)
    for i in (2, 3, 4):
        assert start[("f", "=~", f"x{i}")] == pytest.approx(LAMBDA[i - 1], rel=1e-10)
    assert start[("f", "~~", "f")] == pytest.approx(PSI, rel=1e-10)
    # residual variances: half the observed variance (lavaan's simple rule)
    for i in range(1, 5):
        assert start[(f"x{i}", "~~", f"x{i}")] == pytest.approx(COV[i - 1, i - 1] / 2, rel=1e-10)


def test_intercepts_start_at_the_sample_means_and_user_starts_win():
    data = exact_sample(COV, 500) + np.array([1.0, 2.0, 3.0, 4.0])
    start, gd = _start("f =~ x1 + start(0.3)*x2 + x3 + x4\nx1 ~ 1\nx2 ~ 1", data, meanstructure=True)
    assert start[("x1", "~1", "")] == pytest.approx(1.0, abs=1e-10)
    assert start[("x2", "~1", "")] == pytest.approx(2.0, abs=1e-10)
    assert start[("f", "=~", "x2")] == 0.3

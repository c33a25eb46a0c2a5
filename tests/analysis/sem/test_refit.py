"""The fast refit path: same numbers as a full fit, and only numerical failures count as failures."""

from __future__ import annotations

import numpy as np
import pytest

import analysis.sem.fit as fitmod
from analysis.sem.fit import fit, refit
from smecore.errors import ConvergenceError
from tests.analysis.conftest import HS_MODEL, read_reference


@pytest.fixture(scope="module")
def hs_fit():
    return fit(HS_MODEL, read_reference("HolzingerSwineford1939.csv"))


def _arrays(res, data):
    return [data[list(res.partable.variables.ov)].to_numpy(dtype=float)]


def test_refit_from_a_cold_start_reaches_lavaans_estimates(hs_fit):
    data = read_reference("HolzingerSwineford1939.csv")
    ref = read_reference("hs1939_cfa_ML_parameters.csv")
    start = hs_fit.estimation.theta * 0.8 + 0.05
    est = refit(hs_fit.estimation, _arrays(hs_fit, data), fiml=False, theta0=start)
    assert est is not None and est.optim.converged
    free = hs_fit.partable.table[hs_fit.partable.table["free"] > 0]
    lav = ref.set_index(["lhs", "op", "rhs"])["est"]
    ours = est.theta[free["free"].to_numpy() - 1]
    expected = [lav.loc[(r.lhs, r.op, r.rhs)] for r in free.itertuples()]
    np.testing.assert_allclose(ours, expected, atol=1e-4)


def test_numerical_failure_is_none(hs_fit, monkeypatch):
    data = read_reference("HolzingerSwineford1939.csv")

    def fail(*args, **kwargs):
        raise ConvergenceError("did not converge")

    monkeypatch.setattr(fitmod, "step06_estimate", fail)
    assert refit(hs_fit.estimation, _arrays(hs_fit, data), fiml=False) is None


@pytest.mark.parametrize("error", [ValueError("bad shape"), TypeError("wrong argument"), KeyError("x")])
def test_programming_errors_propagate(hs_fit, monkeypatch, error):
    """Defect: refit caught ValueError and counted it as non-convergence."""
    data = read_reference("HolzingerSwineford1939.csv")

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(fitmod, "step06_estimate", broken)
    with pytest.raises(type(error)):
        refit(hs_fit.estimation, _arrays(hs_fit, data), fiml=False)


def test_singular_sample_is_a_failure_not_an_exception(hs_fit):
    data = read_reference("HolzingerSwineford1939.csv")
    x = _arrays(hs_fit, data)[0].copy()
    x[:, 1] = x[:, 0]  # two identical columns: singular sample covariance
    assert refit(hs_fit.estimation, [x], fiml=False) is None
    x = _arrays(hs_fit, data)[0][:5]  # fewer rows than variables
    assert refit(hs_fit.estimation, [x], fiml=False) is None


def test_refits_with_auxiliary_variables_converge_in_a_few_steps():
    """With auxiliary variables the cheap FIML step matrix converged linearly: bootstrap refits of
    the H15 model took 20-500 iterations (some never converged, counted as failed resamples). Once
    the decrement falls slowly the refit switches to the exact Hessian."""
    from analysis.propositions.hypotheses import load_registry
    from analysis.propositions.models import build_model, with_auxiliary
    from analysis.propositions.pipeline import step12_prepare
    from instrument import load_instrument
    from synthetic_data.generate import generate

    inst = load_instrument()
    _, scored = step12_prepare(generate(world="theory", n=600, seed=20261123, modules=["M5"]).data, inst)
    h = next(h for h in load_registry(inst).hypotheses if h.id == "H15")
    syntax, data = build_model(h, scored, inst)
    data, aux = with_auxiliary(syntax, data, scored)
    assert aux == ["SIZE"]
    res = fit(syntax, data, estimator="MLR", missing="fiml", auxiliary=aux)
    x = data[list(res.partable.variables.ov)].to_numpy(dtype=float)
    rng = np.random.default_rng(1)
    iterations = []
    for _ in range(8):
        est = refit(res.estimation, [x[rng.integers(0, len(x), len(x))]], fiml=True)
        assert est is not None and est.optim.converged
        iterations.append(est.optim.iterations)
    assert max(iterations) <= 15, iterations


def test_the_last_step_of_a_refit_may_reuse_the_previous_exact_hessian(monkeypatch):
    """A refit that ends with exact Newton steps takes its last step with the previous step's Hessian when
    the last two decrements are small enough (no new Hessian where it stops: the last gradient is not
    followed by a Hessian). Those refits stay within 1e-6 standard errors of a refit to tol 1e-20 (fresh
    Hessians to the end); every refit within 1e-5 (refits stop at tol 1e-8)."""
    from analysis.sem import objective

    data = read_reference("HolzingerSwineford1939_missing10.csv")
    res = fit(HS_MODEL + "x1 ~~ x4\n", data, estimator="MLR", missing="fiml")
    x = data[list(res.partable.variables.ov)].to_numpy(dtype=float)
    calls: list[str] = []
    for name in ("gradient", "hessian"):
        real = getattr(objective.FIMLObjective, name)
        monkeypatch.setattr(objective.FIMLObjective, name,
                            lambda self, th, _r=real, _n=name: calls.append(_n) or _r(self, th))
    rng = np.random.default_rng(7)
    se = np.sqrt(np.diag(res.vcov))
    reused = 0
    for _ in range(8):
        sample = [x[rng.integers(0, len(x), len(x))]]
        calls.clear()
        est = refit(res.estimation, sample, fiml=True)
        assert est is not None and est.optim.converged
        reuse = "hessian" in calls and calls[-1] == "gradient"
        reused += reuse
        tight = refit(res.estimation, sample, fiml=True, tol=1e-20)
        error = np.max(np.abs(est.theta - tight.theta) / se)
        assert error < (1e-6 if reuse else 1e-5)
    assert reused >= 2  # 5 of these 8 refits (before the reuse every refit ended with a new Hessian)


# -- the lean refit path (issue 13): same numbers as a full fit --------------------------------
LEAN_CASES = {
    "ML": dict(model=HS_MODEL, file="HolzingerSwineford1939.csv", kw={}),
    "MLR FIML": dict(model=HS_MODEL, file="HolzingerSwineford1939_missing10.csv",
                     kw=dict(estimator="MLR", missing="fiml")),
    "two groups": dict(model=HS_MODEL, file="HolzingerSwineford1939.csv",
                       kw=dict(group="school", group_equal=("loadings",))),
    "fixed.x covariate": dict(model="visual =~ x1 + x2 + x3\nvisual ~ ageyr", file="HolzingerSwineford1939.csv",
                              kw={}),
}


def _group_arrays(res, data):
    ov = list(res.partable.variables.ov)
    if res.options.group is None:
        return [data[ov].to_numpy(dtype=float)]
    return [data.loc[data[res.options.group].astype(str) == lab, ov].to_numpy(dtype=float)
            for lab in res.group_labels]


@pytest.mark.parametrize("case", list(LEAN_CASES))
def test_lean_refit_equals_the_full_fit(case):
    """A refit of the same data from a perturbed start reaches fit()'s estimates to 1e-10, and
    refit_statistics gives fit()'s standard errors and chi-square.

    With FIML fit() stops when the Newton decrement of its scoring steps (complete-data
    information) is below 1e-14, i.e. estimates good to about 1e-7; the refit finishes with exact
    Newton steps, so there it is checked against a refit from another start to 1e-10."""
    spec = LEAN_CASES[case]
    data = read_reference(spec["file"])
    res = fit(spec["model"], data, **spec["kw"])
    fiml = res.options.missing == "fiml"
    arrays = _group_arrays(res, data)
    est = refit(res.estimation, arrays, fiml=fiml, theta0=res.estimation.theta * 0.9 + 0.02, tol=1e-20)
    assert est is not None and est.optim.converged
    np.testing.assert_allclose(est.theta, res.estimation.theta, atol=1e-6 if fiml else 1e-10)
    if fiml:
        other = refit(res.estimation, arrays, fiml=True, theta0=res.estimation.theta * 1.1 - 0.02, tol=1e-20)
        np.testing.assert_allclose(est.theta, other.theta, atol=1e-10)
    stats = fitmod.refit_statistics(res, est)
    free = res.partable.table["free"].to_numpy()
    se_rows = res.parameters["se"].to_numpy()[: len(free)]
    first = [np.flatnonzero(free == k + 1)[0] for k in range(res.partable.npar)]
    np.testing.assert_allclose(stats.se, se_rows[first], rtol=1e-5 if fiml else 1e-7)
    assert stats.chisq == pytest.approx(res.fit_measures["chisq"], rel=1e-8, abs=1e-8)
    if res.options.estimator == "MLR":
        assert stats.scaled.chisq == pytest.approx(res.fit_measures["chisq.scaled"], rel=1e-6)


def test_lean_refit_of_new_data_equals_a_fit_of_that_data():
    """Refits of resampled data (warm start, fixed.x moments refreshed) agree with fit() on that sample."""
    data = read_reference("HolzingerSwineford1939.csv")
    model = LEAN_CASES["fixed.x covariate"]["model"]
    res = fit(model, data)
    rng = np.random.default_rng(3)
    sample = data.iloc[rng.integers(0, len(data), len(data))].reset_index(drop=True)
    est = refit(res.estimation, _group_arrays(res, sample), fiml=False, tol=1e-20)
    np.testing.assert_allclose(est.theta, fit(model, sample).estimation.theta, atol=1e-9)


def test_lean_statistics_of_two_models_of_the_same_data_share_the_saturated_model():
    """The restricted model of a chi-square difference test is refitted to the free model's data: the
    saturated model (EM) and its information are computed once for both, with the numbers of a
    computation for each."""
    from analysis.sem import lean

    data = read_reference("HolzingerSwineford1939.csv")
    rng = np.random.default_rng(5)
    for col in ("x1", "x4", "x8"):
        data.loc[rng.random(len(data)) < 0.15, col] = np.nan
    free = fit(HS_MODEL, data, missing="fiml", estimator="MLR")
    restricted = fit(HS_MODEL + "textual ~~ 0.5*speed\n", data, missing="fiml", estimator="MLR")
    arrays = _group_arrays(free, data)
    lean._SATURATED.clear()
    a = lean.refit_result(free, arrays, statistics=True)
    b = lean.refit_result(restricted, arrays, statistics=True)
    assert len(lean._SATURATED) == 1 and a.fit_measures["df"] == b.fit_measures["df"] - 1
    lean._SATURATED.clear()
    alone = lean.refit_result(restricted, arrays, statistics=True)
    assert alone.fit_measures == b.fit_measures and b.fit_measures["chisq.scaled"] > a.fit_measures["chisq.scaled"]
    np.testing.assert_array_equal(alone.vcov, b.vcov)


def test_refit_gives_up_when_newton_fails_without_the_lbfgs_fallback(hs_fit, monkeypatch):
    """A refit whose Newton / scoring run fails counts as failed at once: the L-BFGS-B fallback
    (never a rescue for refits, measured; about 4 s each) is not run, while a full fit still uses it."""
    import analysis.sem.optimize as optmod

    data = read_reference("HolzingerSwineford1939.csv")
    calls = []

    def newton_fails(objective, theta, max_iter, tol, *args):
        return theta, objective.value(theta), max_iter, False, f"no convergence after {max_iter} iterations"

    def lbfgs(*args, **kwargs):
        calls.append(kwargs.get("method"))
        raise AssertionError("L-BFGS-B fallback called")

    monkeypatch.setattr(optmod, "_newton", newton_fails)
    monkeypatch.setattr(optmod, "scipy_minimize", lbfgs)
    assert refit(hs_fit.estimation, _arrays(hs_fit, data), fiml=False) is None
    assert calls == []
    with pytest.raises(AssertionError, match="fallback called"):
        fit(HS_MODEL, data)
    assert calls == ["L-BFGS-B"]

"""Wald tests, likelihood-ratio tests of constraints and Monte Carlo CIs against lavaan / semTools."""

import numpy as np
import pandas as pd
import pytest

from analysis.sem.effects import monte_carlo_ci, wald_test
from analysis.sem.fit import fit
from analysis.sem.nested import lr_test
from smecore.errors import ModelSyntaxError, OptionError
from tests.analysis.conftest import MEDIATION_MODEL, REFERENCE

EFFECTS = pd.read_csv(REFERENCE.parent / "lavaan_extra" / "poldem_effects.csv").set_index("quantity")["value"]


@pytest.fixture(scope="module")
def mediation(poldem_data):
    return fit(MEDIATION_MODEL, poldem_data)


def test_wald_test_matches_lavTestWald(mediation):
    w = wald_test(mediation, "a - c").iloc[0]
    assert w["z"] ** 2 == pytest.approx(EFFECTS["wald.stat"], rel=1e-4)
    assert w["pvalue"] == pytest.approx(EFFECTS["wald.p"], abs=1e-4)


def test_one_sided_pvalues_split_the_two_sided_one(mediation):
    two = wald_test(mediation, "a - c").iloc[0]
    greater = wald_test(mediation, "a - c", alternative="greater").iloc[0]
    less = wald_test(mediation, "a - c", alternative="less").iloc[0]
    assert greater["pvalue"] == pytest.approx(two["pvalue"] / 2)
    assert greater["pvalue"] + less["pvalue"] == pytest.approx(1.0)


def test_wald_of_a_single_label_is_the_parameter_z(mediation):
    w = wald_test(mediation, "b").iloc[0]
    row = mediation.parameters.query("lhs == 'dem65' and rhs == 'dem60'").iloc[0]
    assert w["estimate"] == pytest.approx(row["est"]) and w["se"] == pytest.approx(row["se"], rel=1e-6)


def test_lr_test_of_an_equality_constraint_matches_lavTestLRT(poldem_data, mediation):
    restricted = fit(MEDIATION_MODEL + "\na == c", poldem_data)
    lr = lr_test(restricted, mediation).iloc[0]
    assert lr["chisq.diff"] == pytest.approx(EFFECTS["lrt.chisq.diff"], rel=1e-4)
    assert lr["df.diff"] == EFFECTS["lrt.df.diff"]
    assert lr["pvalue"] == pytest.approx(EFFECTS["lrt.p"], abs=1e-4)


def test_monte_carlo_ci_matches_semtools(mediation):
    mc = monte_carlo_ci(mediation, "a*b", n_draws=50_000, seed=2)
    assert mc.estimate == pytest.approx(EFFECTS["mc.indirect.est"], rel=1e-5)
    # both are Monte Carlo: agree within simulation error (~0.01 here)
    assert mc.ci_lower == pytest.approx(EFFECTS["mc.indirect.lower"], abs=0.02)
    assert mc.ci_upper == pytest.approx(EFFECTS["mc.indirect.upper"], abs=0.02)
    assert mc.one_sided_pvalue("greater") < 0.01


def test_monte_carlo_is_seeded(mediation):
    a = monte_carlo_ci(mediation, "a*b", n_draws=1000, seed=5)
    b = monte_carlo_ci(mediation, "a*b", n_draws=1000, seed=5)
    np.testing.assert_array_equal(a.draws, b.draws)


def test_unknown_label_and_bad_options(mediation):
    with pytest.raises(ModelSyntaxError, match="'zz' is not a parameter label"):
        wald_test(mediation, "a - zz")
    with pytest.raises(OptionError, match="alternative"):
        wald_test(mediation, "a", alternative="bigger")
    with pytest.raises(OptionError, match="n_draws"):
        monte_carlo_ci(mediation, "a*b", n_draws=10)


def test_standardized_solution_matches_lavaan(mediation):
    from analysis.sem.standardized import standardized_solution

    ours = standardized_solution(mediation)
    ref = pd.read_csv(REFERENCE.parent / "lavaan_extra" / "poldem_mediation_standardizedSolution.csv")
    ref = ref[ref["op"] != ":="]
    m = ours.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
    assert len(m) == len(ref)
    np.testing.assert_allclose(m["est.std"], m["est.std_ref"], atol=1e-4)
    free = m["se_ref"] > 0
    np.testing.assert_allclose(m.loc[free, "se"], m.loc[free, "se_ref"], rtol=0.01)


def test_standardized_wald_of_indirect_matches_lavaan(mediation):
    ref = pd.read_csv(REFERENCE.parent / "lavaan_extra" / "poldem_mediation_standardizedSolution.csv")
    ind = ref[ref["op"] == ":="].iloc[0]
    w = wald_test(mediation, "a*b", standardized=True).iloc[0]
    assert w["estimate"] == pytest.approx(ind["est.std"], abs=1e-4)
    assert w["se"] == pytest.approx(ind["se"], rel=0.01)


def test_indirect_effect_equals_the_closed_form_product_of_ols_slopes():
    """Observed-variable mediation: ML path estimates are the OLS slopes, so the indirect
    effect is a * b from two least-squares fits (closed form), and its delta-method SE is
    Sobel's sqrt(b^2 se_a^2 + a^2 se_b^2) with ML (divisor N) residual variances."""
    rng = np.random.default_rng(3)
    n = 400
    x = rng.normal(size=n)
    m = 0.5 * x + rng.normal(size=n)
    y = 0.4 * m + 0.1 * x + rng.normal(size=n)
    data = pd.DataFrame({"x": x, "m": m, "y": y})
    res = fit("m ~ a*x\ny ~ b*m + c*x\nind := a*b", data)
    X1 = np.column_stack([np.ones(n), x])
    a_hat = np.linalg.lstsq(X1, m, rcond=None)[0][1]
    X2 = np.column_stack([np.ones(n), m, x])
    coef2 = np.linalg.lstsq(X2, y, rcond=None)[0]
    b_hat = coef2[1]
    # ML standard errors of the slopes (residual variance with divisor N, centred design)
    s2a = np.mean((m - X1 @ np.linalg.lstsq(X1, m, rcond=None)[0]) ** 2)
    se_a = np.sqrt(s2a / np.sum((x - x.mean()) ** 2))
    s2b = np.mean((y - X2 @ coef2) ** 2)
    xc = np.column_stack([m - m.mean(), x - x.mean()])
    se_b = np.sqrt(s2b * np.linalg.inv(xc.T @ xc)[0, 0])
    ind = res.parameters.set_index("lhs").loc["ind"]
    assert ind["est"] == pytest.approx(a_hat * b_hat, abs=1e-6)
    assert ind["se"] == pytest.approx(np.sqrt(b_hat ** 2 * se_a ** 2 + a_hat ** 2 * se_b ** 2), rel=1e-4)
    w = wald_test(res, "a*b", alternative="greater").iloc[0]
    assert w["estimate"] == pytest.approx(a_hat * b_hat, abs=1e-6)


def test_multigroup_path_difference_equals_separate_fits(hs_data):
    """Without constraints a two-group model is two separate models: the Wald test of the
    between-group difference of a path has estimate b1 - b2 and SE sqrt(se1^2 + se2^2)."""
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ c(b1, b2)*visual"
    both = fit(model, hs_data, group="school")
    single = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual"
    parts = []
    for school in both.group_labels:
        p = fit(single, hs_data[hs_data["school"] == school], missing="listwise").parameters
        parts.append(p[(p["op"] == "~")].iloc[0])
    w = wald_test(both, "b1 - b2").iloc[0]
    # lavaan's multi-group ML uses the pooled N in the information, hence a tiny SE difference
    assert w["estimate"] == pytest.approx(parts[0]["est"] - parts[1]["est"], abs=1e-4)
    assert w["se"] == pytest.approx(np.hypot(parts[0]["se"], parts[1]["se"]), rel=1e-3)


@pytest.mark.parametrize("expression", ["a*b", "a*b + c", "a/b - 2*c", "(a*b)^2", "exp(a) - log(abs(b)) + sqrt(abs(c))",
                                        "a/(b - b)", "1/(1/(c - c))", "(-abs(a))^0.5", "-a + +b"])
def test_monte_carlo_draws_evaluated_together_equal_one_by_one(mediation, expression):
    """All draws at once (analysis.sem.defined.evaluate_batch) give the numbers of the draw-by-draw
    evaluation bit for bit - edge cases (division by zero, domain errors) included."""
    import warnings

    from analysis.sem.effects import _function

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mc = monte_carlo_ci(mediation, expression, n_draws=500, seed=4)
        f, theta = _function(mediation, expression)
        rng = np.random.default_rng(4)
        one_by_one = [f(th)[0] for th in rng.multivariate_normal(theta, mediation.vcov, size=500, method="eigh")]
    np.testing.assert_array_equal(mc.draws, np.array(one_by_one, dtype=float))


def test_tests_of_one_fit_share_its_standardized_values_with_the_same_numbers(mediation):
    """A fit's tests reuse its label indices and the standardized values at the delta method's shifted
    parameter vectors (the same for every standardized test of the fit): each test's numbers equal
    those of the test run alone on a fresh copy of the fit, and standardized values are computed once."""
    from dataclasses import replace

    from analysis.sem import effects

    expressions = ["a", "b", "a*b", "a - c", "a*b - c"]
    first = [effects.wald_values(mediation, e, standardized=True, alternative="greater") for e in expressions]
    for e, row in zip(expressions, first, strict=True):
        alone = effects.wald_values(replace(mediation), e, standardized=True, alternative="greater")
        assert row == alone  # bit for bit
    assert wald_test(mediation, "a*b", standardized=True, alternative="greater").iloc[0].to_dict() == first[2]
    calls = []
    fresh = replace(mediation)
    real = effects.std_batch

    def counted(est, observed_too=True):
        inner = real(est, observed_too)
        return lambda thetas: calls.append(len(thetas)) or inner(thetas)

    effects_std_batch, effects.std_batch = effects.std_batch, counted
    try:
        for e in expressions:
            effects.wald_values(fresh, e, standardized=True)
    finally:
        effects.std_batch = effects_std_batch
    assert len(calls) == 1  # one standardization of the shifted vectors for the five tests


def test_defined_rows_differentiate_only_the_parameters_they_read(mediation):
    """The := rows' delta method shifts only the parameters of the labels the definitions name
    (definition_columns); the values and standard errors equal those of differentiating every
    parameter, bit for bit."""
    from analysis.sem.defined import (
        compile_definitions,
        definition_columns,
        delta_method,
        evaluate_definitions,
    )
    from analysis.sem.estimation import label_values

    est = mediation.estimation
    t = mediation.partable.table
    defs = compile_definitions(mediation.partable.definitions,
                               list(dict.fromkeys([x for x in t["label"] if x] + list(t["plabel"]))))
    cols = definition_columns(t, defs)
    free = t["free"].to_numpy()
    assert cols == sorted(int(free[t["label"].to_numpy() == lab][0]) - 1 for lab in ("a", "b", "c"))
    values = mediation.parameters["est"].to_numpy()[:len(t)]

    def at(theta):
        ev = evaluate_definitions(defs, label_values(t, np.where(free > 0, theta[np.maximum(free - 1, 0)], values)))
        return np.array([ev[d.name] for d in defs])

    val, se = delta_method(at, est.theta, mediation.vcov)  # every column
    rows = mediation.parameters[mediation.parameters["op"] == ":="]
    assert list(rows["lhs"]) == ["indirect", "total"]
    assert rows["est"].tolist() == val.tolist() and rows["se"].tolist() == se.tolist()

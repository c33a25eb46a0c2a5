"""Wald tests, likelihood-ratio tests of constraints and Monte Carlo CIs against lavaan / semTools."""

import numpy as np
import pandas as pd
import pytest

from analysis.effects import monte_carlo_ci, wald_test
from analysis.fit import fit
from analysis.nested import lr_test
from smesurvey.errors import ModelSyntaxError, OptionError
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
    from analysis.standardized import standardized_solution

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

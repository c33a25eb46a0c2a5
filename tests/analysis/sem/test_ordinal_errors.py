"""Ordinal fits refuse what they cannot do with named errors that say which item, group or pair, and why."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.sem.bootstrap import bootstrap
from analysis.sem.fit import fit
from smecore.errors import (
    DataError,
    EstimationError,
    HeywoodCaseWarning,
    OptionError,
    SmeSurveyWarning,
)
from tests.analysis.conftest import ORDINAL_MODEL, read_reference
from tests.analysis.sem.test_ordinal_reference import ORDINAL, TWO


@pytest.fixture(scope="module")
def ordinal_data() -> pd.DataFrame:
    return read_reference("ordinal_3f.csv")


@pytest.fixture(scope="module")
def ordinal_fit(ordinal_data):
    return fit(ORDINAL_MODEL, ordinal_data, ordered=True)


def test_item_with_one_category(ordinal_data):
    d = ordinal_data.copy()
    d["o5"] = 3
    with pytest.raises(DataError, match=r"ordinal item 'o5' has one observed category \(every answer is 3\)"):
        fit(ORDINAL_MODEL, d, ordered=True)


def test_category_nobody_chose_in_one_group():
    d = pd.read_csv(ORDINAL / "ord_twogroup.csv")
    d.loc[(d["country"] == "B") & (d["u3"] == 5), "u3"] = 4  # nobody in B chose 5 on u3
    with pytest.raises(DataError, match=r"category 5 of ordinal item 'u3' was chosen by nobody in group 'B'.*"
                                        r"Collapse it with a neighbouring category \(e.g. recode 5 to 4\)"):
        fit(TWO, d, ordered=True, group="country")


def test_too_few_complete_pairs(ordinal_data):
    d = ordinal_data.astype(float)
    d.loc[5:, "o1"] = np.nan  # o1 answered by 5 rows only
    with pytest.raises(DataError, match=r"only 5 case\(s\) answer both 'o1' and 'o2'"):
        fit(ORDINAL_MODEL, d, ordered=True, missing="pairwise")


def test_no_pair_observed_together(ordinal_data):
    d = ordinal_data.astype(float)
    d.loc[:199, "o1"] = np.nan
    d.loc[200:, "o2"] = np.nan
    with pytest.raises(DataError, match=r"no row answers both 'o1' and 'o2'.*polychoric"):
        fit(ORDINAL_MODEL, d, ordered=True, missing="pairwise")


def test_non_positive_definite_polychoric_matrix_is_warned_about_naming_pairs():
    """Pairwise deletion can give a polychoric matrix that is not positive definite (each pair from
    other cases): a warning names the pairs most involved."""
    rng = np.random.default_rng(5)
    n = 300
    blocks = []
    for r_ab, r_bc, r_ac in ((0.9, None, None), (None, 0.9, None), (None, None, -0.9)):
        z = rng.normal(size=(n, 2))
        z[:, 1] = 0.9 * z[:, 0] + np.sqrt(1 - 0.81) * z[:, 1]
        if r_ac is not None:
            z[:, 1] = -z[:, 1]
        cut = np.searchsorted([-0.8, 0.0, 0.8], z) + 1.0
        block = np.full((n, 3), np.nan)
        cols = (0, 1) if r_ab else (1, 2) if r_bc else (0, 2)
        block[:, cols[0]], block[:, cols[1]] = cut[:, 0], cut[:, 1]
        blocks.append(block)
    d = pd.DataFrame(np.vstack(blocks), columns=["a", "b", "c"])
    with pytest.warns(SmeSurveyWarning, match=r"polychoric correlation matrix is not positive definite .*"
                                              r"pairs involved: .*a-c \(r = -0\.\d+\)"):
        try:
            warnings.simplefilter("ignore", HeywoodCaseWarning)  # what such a matrix gives
            res = fit("F =~ a + b + c", d, ordered=True, missing="pairwise")
        except EstimationError:  # a fit may fail on such a matrix; the warning came first
            return
    assert any("not positive definite" in w for w in res.warnings)


def test_modindices_and_bootstrap_say_they_are_not_available(ordinal_fit):
    with pytest.raises(OptionError, match="modification indices are not available for ordinal"):
        ordinal_fit.modindices()
    with pytest.raises(OptionError, match="bootstrap is not available for ordinal"):
        bootstrap(ordinal_fit, 10)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"estimator": "WLSMV"}, r"estimator 'WLSMV' is for ordinal items: name them with ordered=True"),
    ({"estimator": "MLR", "ordered": True}, r"ordinal items \(ordered=\) are fitted with WLSMV"),
    ({"ordered": True, "missing": "fiml"}, r"must be one of \['listwise', 'pairwise'\] for ordinal items"),
    ({"ordered": True, "parameterization": "gamma"}, r"'parameterization' parameter of fit must be one of"),
    ({"parameterization": "theta"}, r"parameterization is an option of ordinal items"),
    ({"ordered": True, "cluster": "o1"}, r"cluster-robust statistics \(cluster=\) are not available"),
])
def test_option_errors(ordinal_data, kwargs, message):
    with pytest.raises(OptionError, match=message):
        fit(ORDINAL_MODEL, ordinal_data, **kwargs)


def test_thresholds_in_syntax_need_ordered(ordinal_data):
    with pytest.raises(OptionError, match=r"thresholds \('\|'\) or scale factors \('~\*~'\), which only ordinal"):
        fit(ORDINAL_MODEL + "o1 | t1 + t2 + t3 + t4\n", ordinal_data.astype(float))


def test_exogenous_covariate_is_refused(ordinal_data):
    d = ordinal_data.assign(x=np.arange(len(ordinal_data)) % 7)
    with pytest.raises(OptionError, match=r"observed exogenous covariates \(x\).*conditional.x"):
        fit(ORDINAL_MODEL + "F1 ~ x\n", d, ordered=[f"o{i}" for i in range(1, 13)])


def test_thresholds_written_in_the_syntax_with_labels_and_fixed_values(ordinal_data):
    """``o1 | a*t1 + ...`` (lavaan syntax) labels thresholds; a fixed threshold stays fixed."""
    res = fit(ORDINAL_MODEL + "o1 | th1*t1 + t2 + t3 + t4\no2 | -1.2*t1\n", ordinal_data, ordered=True)
    p = res.parameters.set_index(["lhs", "op", "rhs"])
    assert p.loc[("o1", "|", "t1"), "label"] == "th1"
    assert p.loc[("o2", "|", "t1"), "est"] == -1.2 and p.loc[("o2", "|", "t1"), "se"] == 0
    assert res.fit_measures["df"] == 52


def test_group_partial_frees_a_threshold():
    d = pd.read_csv(ORDINAL / "ord_twogroup.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = fit(TWO, d, ordered=True, group="country", group_equal=["thresholds", "loadings"])
        part = fit(TWO, d, ordered=True, group="country", group_equal=["thresholds", "loadings"],
                   group_partial=["u1 | t2"])
    assert part.fit_measures["npar"] == full.fit_measures["npar"] + 1
    p = part.parameters.set_index(["lhs", "op", "rhs", "group"])["est"]
    assert p[("u1", "|", "t2", 1)] != pytest.approx(p[("u1", "|", "t2", 2)], abs=1e-6)
    assert p[("u1", "|", "t1", 1)] == pytest.approx(p[("u1", "|", "t1", 2)], abs=1e-12)


def test_summary_names_the_test_and_the_ordinal_items(ordinal_fit):
    text = ordinal_fit.summary()
    assert "Scaling correction factor (scaled-shifted)" in text and "Shift parameter" in text
    assert "Ordinal items" in text and "12 (delta parameterization)" in text
    assert "Thresholds:" in text and "o1|t1" in text


def test_standardized_solution_of_an_ordinal_fit(ordinal_fit):
    from analysis.sem.standardized import standardized_solution

    sol = standardized_solution(ordinal_fit)
    table = ordinal_fit.parameters
    np.testing.assert_allclose(sol["est.std"], table["std.all"], atol=1e-10)
    loading = sol[(sol["op"] == "=~") & (sol["rhs"] == "o2")].iloc[0]
    assert 0 < loading["se"] < 0.1


def test_casewise_scores_refused_with_named_error(ordinal_fit):
    # DWLS / ULS have no likelihood: asking the objective for ML's case-wise scores is a named refusal
    objective = ordinal_fit.estimation.objective
    with pytest.raises(OptionError, match=r"case-wise likelihood scores are not defined for DWLS / ULS"):
        objective.scores(ordinal_fit.estimation.theta)

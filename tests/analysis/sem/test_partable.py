import numpy as np
import pytest

from analysis.sem.partable import build_partable
from analysis.sem.syntax import classify_variables, parse_model
from smecore.errors import IdentificationError, ModelSyntaxError
from tests.analysis.conftest import HS_MODEL, POLDEM_MODEL, read_reference


def _rows(pt):
    return list(zip(pt.table["lhs"], pt.table["op"], pt.table["rhs"]))


@pytest.mark.parametrize(("model", "case"), [(HS_MODEL, "hs1939_cfa_ML"), (POLDEM_MODEL, "poldem_sem_ML")])
def test_rows_and_order_match_lavaan(model, case):
    pt = build_partable(parse_model(model))
    ref = read_reference(f"{case}_parameters.csv")
    assert _rows(pt) == list(zip(ref["lhs"], ref["op"], ref["rhs"]))


def test_lavaan_defaults():
    pt = build_partable(parse_model(HS_MODEL))
    t = pt.table.set_index(["lhs", "op", "rhs"])
    assert t.loc[("visual", "=~", "x1"), "free"] == 0 and t.loc[("visual", "=~", "x1"), "ustart"] == 1
    assert t.loc[("visual", "~~", "textual"), "free"] > 0  # exogenous latent covariances free
    assert pt.npar == 21


def test_labels_make_one_parameter_and_npar_counts_it_once():
    pt = build_partable(parse_model(POLDEM_MODEL))
    t = pt.table.set_index(["lhs", "op", "rhs"])
    assert t.loc[("dem60", "=~", "y2"), "free"] == t.loc[("dem65", "=~", "y6"), "free"]
    assert pt.npar == 28  # lavaan's npar for this model


def test_group_equal_loadings_share_parameters_across_groups():
    pt = build_partable(parse_model(HS_MODEL), 2, meanstructure=True, group_equal=["loadings"])
    t = pt.table
    g1 = t[(t["group"] == 1) & (t["op"] == "=~")]["free"].to_numpy()
    g2 = t[(t["group"] == 2) & (t["op"] == "=~")]["free"].to_numpy()
    assert np.array_equal(g1, g2)
    assert pt.npar == 54  # lavaan's metric model


def test_scalar_frees_latent_means_in_later_groups():
    pt = build_partable(parse_model(HS_MODEL), 2, meanstructure=True, group_equal=["loadings", "intercepts"])
    t = pt.table
    means = t[(t["op"] == "~1") & t["lhs"].isin(["visual", "textual", "speed"])]
    assert (means.loc[means["group"] == 1, "free"] == 0).all()
    assert (means.loc[means["group"] == 2, "free"] > 0).all()
    assert pt.npar == 48


def test_group_partial_releases_one_constraint():
    pt = build_partable(parse_model(HS_MODEL), 2, meanstructure=True, group_equal=["loadings"],
                        group_partial=["visual =~ x2"])
    assert pt.npar == 55


def _intercept_free(pt, var):
    t = pt.table
    return list(t.loc[(t["lhs"] == var) & (t["op"] == "~1"), "free"])


@pytest.mark.parametrize("terms", [["x3 ~ 1", "x7 ~ 1"], ["x3~1", "x7~1"], ["  x3  ~1 ", "x7 ~ 1"]])
def test_group_partial_intercepts_however_spaced(terms):
    """'x3 ~ 1' (lavaan's documentation style) frees the intercept just like 'x3~1' (lavaan:
    scalar model 48 free parameters, two intercepts released -> 50)."""
    pt = build_partable(parse_model(HS_MODEL), 2, meanstructure=True, group_equal=["loadings", "intercepts"],
                        group_partial=terms)
    assert pt.npar == 50
    g1, g2 = _intercept_free(pt, "x3")
    assert g1 != g2 and g1 > 0 and g2 > 0
    g1, g2 = _intercept_free(pt, "x1")
    assert g1 == g2


def test_group_partial_covariance_in_either_order():
    model = HS_MODEL + "x1 ~~ x4\n"
    eq = ["loadings", "residual.covariances"]
    base = build_partable(parse_model(model), 2, meanstructure=True, group_equal=eq)
    for term in ("x1 ~~ x4", "x4 ~~ x1"):
        pt = build_partable(parse_model(model), 2, meanstructure=True, group_equal=eq, group_partial=[term])
        assert pt.npar == base.npar + 1


@pytest.mark.parametrize(("term", "named"), [("x3 ~ x7", "x3 ~ x7"), ("visual =~ x10", "visual =~ x10"),
                                             ("x10 ~ 1", "x10 ~ 1"), ("visual", "visual")])
def test_group_partial_that_names_no_parameter_is_refused(term, named):
    with pytest.raises(ModelSyntaxError, match="group_partial") as err:
        build_partable(parse_model(HS_MODEL), 2, meanstructure=True, group_equal=["loadings"],
                       group_partial=[term])
    assert named in str(err.value)


def test_growth_intercepts_fixed_and_latent_means_free():
    """lavaan growth(): int.ov.free = FALSE, int.lv.free = TRUE (covariate means stay exogenous)."""
    model = "i =~ 1*t1 + 1*t2 + 1*t3\ns =~ 0*t1 + 1*t2 + 2*t3\ni ~ x1"
    pt = build_partable(parse_model(model), meanstructure=True, int_ov_free=False, int_lv_free=True)
    t = pt.table.set_index(["lhs", "op"])
    for var in ("t1", "t2", "t3"):
        assert t.loc[(var, "~1"), "free"] == 0 and t.loc[(var, "~1"), "ustart"] == 0
    for lv in ("i", "s"):
        assert t.loc[(lv, "~1"), "free"] > 0
    assert t.loc[("x1", "~1"), "exo"] == 1


def test_fixed_x_covariates_are_exogenous_and_fixed():
    pt = build_partable(parse_model("F =~ y1 + y2 + y3\nF ~ z1 + z2"))
    t = pt.table
    exo = t[t["exo"] == 1]
    assert set(zip(exo["lhs"], exo["rhs"])) == {("z1", "z1"), ("z1", "z2"), ("z2", "z2")}
    assert (exo["free"] == 0).all()
    v = classify_variables(parse_model("F =~ y1 + y2 + y3\nF ~ z1 + z2").statements)
    assert v.ov_x == ("z1", "z2") and v.lv == ("F",)


def test_equality_constraint_between_labels():
    pt = build_partable(parse_model("F =~ x1 + a*x2 + b*x3\na == b"))
    t = pt.table[pt.table["op"] == "=~"].set_index("rhs")
    assert t.loc["x2", "free"] == t.loc["x3", "free"] > 0


def test_latent_without_scale_is_rejected():
    with pytest.raises(IdentificationError, match="no scale"):
        build_partable(parse_model("F =~ NA*x1 + x2 + x3"))


def test_unknown_group_equal_is_rejected():
    with pytest.raises(ModelSyntaxError, match="group_equal"):
        build_partable(parse_model(HS_MODEL), 2, group_equal=["slopes"])


def test_group_modifier_needs_one_value_per_group():
    with pytest.raises(ModelSyntaxError, match="one per group"):
        build_partable(parse_model("F =~ x1 + c(a, b, c)*x2 + x3"), 2)

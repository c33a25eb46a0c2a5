import pytest

from analysis.sem.syntax import Modifier, parse_model
from smecore.errors import ModelSyntaxError


def test_operators_modifiers_and_order():
    m = parse_model("""
        F =~ x1 + 0.8*x2 + NA*x3 + a*x4   # comment
        G =~ start(0.5)*y1 + label("b")*y2 + 0.3?y3
        G ~ c(g1, g2)*F ; y1 ~ 1
        x1 ~~ x2
        ind := a*b
        a == b
    """)
    got = [(s.lhs, s.op, s.rhs) for s in m.statements]
    assert got == [("F", "=~", "x1"), ("F", "=~", "x2"), ("F", "=~", "x3"), ("F", "=~", "x4"),
                   ("G", "=~", "y1"), ("G", "=~", "y2"), ("G", "=~", "y3"), ("G", "~", "F"),
                   ("y1", "~1", ""), ("x1", "~~", "x2")]
    mods = {(s.lhs, s.rhs): s.modifier for s in m.statements}
    assert mods[("F", "x2")].fixed == 0.8
    assert mods[("F", "x3")].free is True
    assert mods[("F", "x4")].label == "a"
    assert mods[("G", "y1")].start == 0.5
    assert mods[("G", "y2")].label == "b"
    assert mods[("G", "y3")].start == 0.3
    assert mods[("G", "F")].label == ("g1", "g2")
    assert [(d.name, d.expression) for d in m.definitions] == [("ind", "a*b")]
    assert [(c.lhs, c.rhs) for c in m.constraints] == [("a", "b")]


def test_continuation_lines_and_repeated_terms_merge():
    m = parse_model("F =~ x1 + x2 +\n   x3\nF =~ c(1, NA)*x2\nF =~ c(a, b)*x2")
    assert [s.rhs for s in m.statements] == ["x1", "x2", "x3"]
    x2 = m.statements[1].modifier
    assert x2.fixed == (1.0, None) and x2.label == ("a", "b")


def test_covariance_written_both_ways_is_one_parameter():
    m = parse_model("F =~ x1 + x2 + x3\nx1 ~~ x2\nx2 ~~ 0.5*x1")
    cov = [s for s in m.statements if s.op == "~~"]
    assert len(cov) == 1 and cov[0].modifier == Modifier(fixed=0.5)


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "empty"),
    ("F =~ x1 + + x2", "empty term"),
    ("F <~ x1 + x2", "formative"),
    ("x1 | t1", "thresholds"),
    ("F =~ x1 + x2\na > 0", "inequality"),
    ("F =~ 1x1", "not a valid variable name"),
    ("F x1 x2", "no operator"),
    ("F =~ F", "measured by itself"),
    ("F =~ c(a, 1)*x1", "mixes numbers and labels"),
])
def test_errors_name_the_line(text, fragment):
    with pytest.raises(ModelSyntaxError, match=fragment):
        parse_model(text)


def test_covariances_are_written_in_lavaan_order():
    """lavaan's lav_partable_covariance_reorder: the earlier variable (latent first) goes left."""
    m = parse_model("a =~ x1 + x2 + x3\nb =~ x4 + x5 + x6\nb ~~ r*a\nx6 ~~ x1\nx1 ~~ b")
    cov = [(s.lhs, s.rhs, s.modifier.label) for s in m.statements if s.op == "~~"]
    assert cov == [("a", "b", "r"), ("x1", "x6", None), ("b", "x1", None)]

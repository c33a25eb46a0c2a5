"""Options of a power study: every bad value is refused with the package's OptionError, naming the option."""

from __future__ import annotations

import pytest

from analysis.power.replicate import data_seed, draws_seed
from analysis.power.settings import parse_hypotheses, parse_ns, parse_overrides, parse_worlds
from smecore.errors import OptionError, SmeSurveyError
from synthetic_data.population import load_population, resolve_override, with_overrides

KNOWN = [f"H{k}" for k in range(1, 17)]


def test_n_range_forms():
    assert parse_ns("100:500:200") == (100, 300, 500)
    assert parse_ns("400,200, 800") == (200, 400, 800)
    assert parse_ns("300") == (300,)
    assert parse_ns([500, 100]) == (100, 500)


@pytest.mark.parametrize("text, message", [
    ("1500:100:100", "STOP >= START"), ("100:1500:0", "STEP > 0"), ("a:b", "START:STOP:STEP"),
    ("10", "between 20 and"), ("100;200", "START:STOP:STEP")])
def test_bad_n_range(text, message):
    with pytest.raises(OptionError, match=message):
        parse_ns(text)


def test_hypotheses_in_registry_order_and_unknown_refused():
    assert parse_hypotheses("h6,H1", KNOWN) == ("H1", "H6")
    assert parse_hypotheses(None, KNOWN) == tuple(KNOWN)
    with pytest.raises(OptionError, match="unknown hypothesis H17.*registry has H1"):
        parse_hypotheses("H1,H17", KNOWN)


@pytest.mark.parametrize("items, message", [
    (["H14"], "TAG=VALUE"), (["H14=abc"], "not a number"), (["H14=1.5"], "strictly between -1 and 1"),
    (["X4=0.2"], "hypothesis id"), (["H14=0.2", "H14=0.3"], "given twice")])
def test_bad_set(items, message):
    with pytest.raises(OptionError, match=message):
        parse_overrides(items)


def test_world_choice():
    assert parse_worlds("both") == ("theory", "null")
    with pytest.raises(OptionError, match="theory, null, both"):
        parse_worlds("alternative")


def test_set_resolves_paths_by_tag():
    pop = load_population("theory")
    assert [p.name for p in resolve_override("H14", pop)] == ["SIR~BMI"]
    assert [p.name for p in resolve_override("H10:LC", pop)] == ["PEG~LC"]
    assert [p.name for p in resolve_override("H10:PEG~LE*LV", pop)] == ["PEG~LE*LV"]
    with pytest.raises(OptionError, match=r"H10: names 4 paths.*H10:PEG~LE \(0.25\)"):
        resolve_override("H10", pop)
    with pytest.raises(OptionError, match="no theory-world path is tagged 'H99'"):
        resolve_override("H99", pop)
    with pytest.raises(OptionError, match="H6 has no path 'lnew~G7'"):
        resolve_override("H6:lnew~G7", pop)


def test_set_changes_the_theory_world_only():
    pop = with_overrides("theory", {"H14": 0.30})
    sir = next(e for e in pop.system.equations if e.outcome == "SIR")
    assert [t.coefficient for t in sir.terms] == [0.30]
    null = with_overrides("null", {"H14": 0.30})
    assert [t.coefficient for t in next(e for e in null.system.equations if e.outcome == "SIR").terms] == [0.0]
    with pytest.raises(SmeSurveyError, match="--set H16=0.9.*no longer valid"):
        with_overrides("theory", {"H16": 0.9})  # a quadratic term that large leaves IPERF no residual variance


def test_seeds_depend_on_the_cell_not_the_worker():
    assert data_seed(1, "theory", 200, 3) == data_seed(1, "theory", 200, 3)
    assert len({data_seed(1, "theory", 200, r) for r in range(50)}) == 50
    assert data_seed(1, "theory", 200, 3) != data_seed(1, "null", 200, 3) != data_seed(2, "theory", 200, 3)
    assert draws_seed(1, "theory", 200, 3, "H6") != draws_seed(1, "theory", 200, 3, "H15")

"""The hypothesis registry and the verdict rule (known answers, no model fitting)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.propositions.hypotheses import (
    REGISTRY_PATH,
    VERDICTS,
    load_registry,
    one_sided,
    verdict,
)
from analysis.propositions.pipeline import VERDICT_COLUMNS, step5_decide
from instrument import load_instrument
from smecore.errors import DefinitionError


@pytest.fixture(scope="module")
def instrument():
    return load_instrument()


def test_registry_covers_every_hypothesis_of_the_instrument(instrument):
    reg = load_registry(instrument)
    assert [h.id for h in reg.hypotheses] == [f"H{k}" for k in range(1, 17)]
    assert reg.alpha == 0.05 and reg.bootstrap == 2000 and reg.adjust == "holm"
    for h in reg.hypotheses:
        assert h.spec.tests, h.id
        assert h.passage and h.seed.endswith(".txt")
        assert h.spec.robustness or h.id == "H8", f"{h.id} has no robustness check"


def _write(tmp_path, mutate):
    raw = yaml.safe_load(REGISTRY_PATH.read_text())
    mutate(raw)
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda r: r["hypotheses"]["H5"].update(constructs=["II", "NOPE"]), "H5: construct 'NOPE'"),
    (lambda r: r["hypotheses"].pop("H9"), "no test specification for H9"),
    (lambda r: r["hypotheses"].update(H99=r["hypotheses"]["H5"]), "['H99'] are not in the instrument"),
    (lambda r: r["hypotheses"]["H5"]["tests"][0].update(direction="sideways"), "hypotheses.H5.tests.0.direction"),
    (lambda r: r.update(adjust="bonferroni"), "adjust"),
])
def test_bad_registry_is_named(tmp_path, instrument, mutate, message):
    with pytest.raises(DefinitionError, match="registry.yaml") as exc:
        load_registry(instrument, _write(tmp_path, mutate))
    assert message in str(exc.value)


def test_one_sided_pvalues():
    p, q = one_sided(1.6448536269514722, 1.0, "greater")
    assert p == pytest.approx(0.05) and q == pytest.approx(0.95)
    assert one_sided(-2.0, 1.0, "less")[0] == pytest.approx(0.02275, abs=1e-5)
    assert np.isnan(one_sided(1.0, 0.0, "greater")[0])


def test_one_sided_pvalues_keep_far_tails():
    """A strong effect in the predicted negative direction has a tiny p-value, not 0 (Phi(-10) = 7.6e-24)."""
    p, q = one_sided(-10.0, 1.0, "less")
    assert p == pytest.approx(7.619853024160527e-24, rel=1e-9) and q == 1.0
    assert one_sided(10.0, 1.0, "greater")[0] == pytest.approx(7.619853024160527e-24, rel=1e-9)


def test_verdict_rule():
    assert verdict(0.01, 0.99, 0.05) == "supported"
    assert verdict(0.01, 0.99, 0.05, extra_ok=False) == "not supported"
    assert verdict(0.99, 0.01, 0.05) == "contrary"
    assert verdict(0.2, 0.8, 0.05) == "not supported"
    assert set(VERDICTS) == {"supported", "not supported", "contrary"}


def _tests_table(p_values):
    rows = []
    for k, p in enumerate(p_values, start=1):
        rows.append({"hypothesis": f"H{k}", "test": "t", "kind": "wald", "estimate": 0.1, "se": 0.05,
                     "ci.lower": 0.0, "ci.upper": 0.2, "p.predicted": p, "p.opposite": 1 - p,
                     "std.estimate": 0.1, "decision": True, "model": "m", "n": 100})
    return pd.DataFrame(rows)


class _Options:
    ordered: tuple[str, ...] = ()  # a continuous (ML) fit


class _Fit:
    fit_measures = {"cfi": 1.0, "tli": 1.0, "rmsea": 0.0, "srmr": 0.01}
    warnings: tuple[str, ...] = ()
    options = _Options()


def test_an_improper_solution_is_flagged_with_its_verdict(instrument):
    """A Heywood case in the model that decides a hypothesis is reported in its verdict's flag, not
    silently accepted; hypotheses decided by a proper model are not flagged."""
    reg = load_registry(instrument)
    improper = _Fit()
    improper.warnings = ("Heywood case: negative variance estimate(s) x2 ~~ x2 = -0.1458 (group 1). The "
                         "solution is improper: check for an under-identified factor",)
    t = _tests_table([0.001] * 16)
    t.loc[t["hypothesis"] == "H3", "model"] = "bad"
    out = step5_decide(t, pd.DataFrame(), {"m": ("", _Fit(), []), "bad": ("", improper, [])}, reg)
    flags = dict(zip(out["hypothesis"], out["flag"], strict=True))
    assert flags["H3"] == "improper solution (Heywood case: negative variance estimate(s) x2 ~~ x2 = -0.1458 (group 1))"
    assert all(f == "" for h, f in flags.items() if h != "H3")


def test_decisions_use_holm_adjusted_pvalues(instrument):
    """Raw p = 0.03 and 0.001 for H1, H2 (others 0.5): Holm multiplies the smallest by 16,
    the next by 15 - H2 (0.016) is supported, H1 (0.45) is not although its raw p < 0.05."""
    reg = load_registry(instrument)
    p = [0.03, 0.001] + [0.5] * 14
    out = step5_decide(_tests_table(p), pd.DataFrame(), {"m": ("", _Fit(), [])}, reg)
    assert list(out.columns) == list(VERDICT_COLUMNS)
    assert out.loc[1, "pvalue.holm"] == pytest.approx(0.016)
    assert out.loc[0, "pvalue.holm"] == pytest.approx(0.45)
    assert out.loc[0, "pvalue.bh"] == pytest.approx(0.03 * 16 / 2)
    assert list(out["verdict"][:2]) == ["not supported", "supported"]
    assert (out["verdict"][2:] == "not supported").all()


def test_the_weakest_test_decides(instrument):
    """Two decision tests of one hypothesis: the larger one-sided p is the hypothesis' p
    (intersection-union test)."""
    reg = load_registry(instrument)
    t = _tests_table([0.001] * 16)
    extra = t.iloc[[0]].assign(test="second", **{"p.predicted": 0.2, "p.opposite": 0.8, "estimate": 0.03})
    out = step5_decide(pd.concat([t, extra], ignore_index=True), pd.DataFrame(), {"m": ("", _Fit(), [])}, reg)
    h1 = out.iloc[0]
    assert h1["pvalue"] == 0.2 and h1["estimate"] == 0.03 and h1["test"] == "second"
    assert h1["verdict"] == "not supported"


def test_contrary_needs_adjusted_significance_in_the_opposite_direction(instrument):
    reg = load_registry(instrument)
    p = [0.99999] + [0.5] * 15
    out = step5_decide(_tests_table(p), pd.DataFrame(), {"m": ("", _Fit(), [])}, reg)
    assert out.loc[0, "verdict"] == "contrary"
    p = [0.97] + [0.5] * 15  # opposite p = 0.03, Holm 0.48
    out = step5_decide(_tests_table(p), pd.DataFrame(), {"m": ("", _Fit(), [])}, reg)
    assert out.loc[0, "verdict"] == "not supported"


def _decision_by_frames(tests):
    """hypothesis_decision as first written, on pandas selections (the definition)."""
    from analysis.propositions.hypotheses import combine_tests

    decision = tests[tests["decision"].astype(bool) & tests["p.predicted"].notna()]
    extra_ok = bool(tests.loc[tests["kind"] == "htmt", "ok"].all()) if (tests["kind"] == "htmt").any() else True
    if decision.empty and tests["decision"].astype(bool).any():  # no p-value at all: the first decision test
        first = tests[tests["decision"].astype(bool)].iloc[0]
        return first, first, extra_ok
    weakest = combine_tests(decision)
    effects = decision[decision["kind"] != "lr"]
    shown = combine_tests(effects) if len(effects) else weakest
    return weakest, shown, extra_ok


@pytest.mark.parametrize("seed", range(40))
def test_hypothesis_decision_equals_the_frame_selections(seed):
    from analysis.propositions.hypotheses import hypothesis_decision

    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 6))
    kinds = rng.choice(["wald", "lr", "indirect, Monte Carlo CI", "htmt"], size=k)
    p = rng.choice([0.001, 0.02, 0.02, 0.3, np.nan], size=k)
    tests = pd.DataFrame({"test": [f"t{i}" for i in range(k)], "kind": kinds, "p.predicted": p,
                          "decision": rng.random(k) < 0.8, "estimate": rng.normal(size=k),
                          "ok": [bool(rng.random() < 0.7) if x == "htmt" else np.nan for x in kinds]},
                         index=rng.permutation(np.arange(10, 10 + k)))
    try:
        want = _decision_by_frames(tests)
    except ValueError:  # no decision test
        with pytest.raises(ValueError, match="no decision test"):
            hypothesis_decision(tests)
        return
    got = hypothesis_decision(tests)
    assert got[0].equals(want[0]) and got[0].name == want[0].name
    assert got[1].equals(want[1]) and got[1].name == want[1].name and got[2] == want[2]


def test_a_hypothesis_whose_decision_tests_have_no_p_value_is_not_supported(instrument):
    """A standardized test of a Heywood solution has no estimate (the latent variance is negative):
    the hypothesis is "not supported", and the Holm step leaves it out of the family (as lavaan's
    std.all is NA there). Found by the default power grid (N = 100, replication 479, H16)."""
    from analysis.propositions.hypotheses import hypothesis_decision
    from analysis.propositions.pipeline import family_verdicts

    nan = np.nan
    tests = pd.DataFrame({"test": ["lr", "b", "c"], "kind": ["lr", "wald (standardized)", "htmt"],
                          "p.predicted": [nan, nan, nan], "p.opposite": [nan, nan, nan],
                          "decision": [False, True, False], "ok": [nan, nan, True]})
    weakest, shown, extra_ok = hypothesis_decision(tests)
    assert weakest["test"] == "b" and shown["test"] == "b" and extra_ok
    reg = load_registry(instrument)
    assert reg.adjust == "holm" and reg.alpha == 0.05
    got = family_verdicts([weakest["p.predicted"], 0.001, 0.04], [weakest["p.opposite"], 0.9, 0.9], [True] * 3, reg)
    assert got["verdict"].tolist() == ["not supported", "supported", "supported"]
    assert np.isnan(got["pvalue.holm"][0]) and got["pvalue.holm"][2] == pytest.approx(0.04)  # a family of 2

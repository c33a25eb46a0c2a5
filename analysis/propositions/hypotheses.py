"""The hypothesis registry and the tests behind each verdict.

The registry is data: the instrument's ``hypotheses.yaml`` says what each
hypothesis claims and where it comes from (seed, passage, constructs);
``analysis/propositions/registry.yaml`` says how it is tested (model, parameters, test,
direction, alpha, decision rule, robustness checks). Verdicts are computed,
never written:

* **supported** - every decision test is significant in the predicted
  direction (one-sided, ``alpha``). Several tests combine as an
  intersection-union test: the hypothesis p-value is the largest one-sided
  p-value, which keeps the error rate at ``alpha`` without adjustment
  (Berger 1982). Across the family H1-H16 the decision uses the
  multiplicity-adjusted p-value named by the registry's ``adjust`` (default
  Holm, which controls the family-wise error rate: in a world where nothing
  holds, the chance of any false ``supported`` is at most ``alpha``); raw,
  Holm and Benjamini-Hochberg p-values are all reported;
* **contrary** - the weakest decision test is significant in the opposite
  direction (one-sided p-values in the opposite direction, adjusted the same
  way);
* **not supported** - otherwise.

Why these tests (what a reviewer would accept):

* paths: Wald z tests on **standardized** coefficients (delta method through
  the standardization), so that "larger than" compares effects on one scale;
* path differences (H2-H4): Wald tests of differences of standardized paths,
  with chi-square difference tests of the equality constraints reported
  beside them, and within-firm contrasts of the source x content matrix from a
  mixed model as the independent second test;
* indirect effects (H6, H15): percentile bootstrap (2,000 resamples, warm
  starts, parallel) decides; the Monte Carlo interval of semTools'
  ``monteCarloCI`` is reported beside it;
* moderation (H7, H10, H13) and the quadratic effect (H16): latent products
  by double-mean-centred product indicators (Marsh et al. 2004; Lin et al.
  2010) - for H7 the moderator is firm size (log employees), and the
  multi-group comparison of small (< 50 employees) and larger firms, with
  metric invariance imposed so paths are comparable, is reported beside it
  (it has less power: the size split is uneven);
* discriminant structure (H8): the gap correlations are constrained to two
  values (among the endogenous gaps; between the exogenous gap and them):
  the Wald test of their difference, its chi-square difference test and HTMT
  of the exogenous gap below 0.85 must all agree;
* every model: MLR (robust to non-normal Likert data) with FIML (MAR).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from analysis.pvalues import one_sided  # noqa: F401 - re-exported: verdicts use it
from instrument import Instrument
from smecore.errors import DefinitionError
from smecore.yamlio import safe_load

REGISTRY_PATH = Path(__file__).resolve().parent / "registry.yaml"
VERDICTS = ("supported", "not supported", "contrary")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TestSpec(_Spec):
    kind: Literal["wald", "indirect"] = "wald"
    name: str
    expression: str
    direction: Literal["greater", "less"]
    standardized: bool = False


class RobustSpec(_Spec):
    kind: Literal["ols", "count", "matrix", "multigroup"]
    name: str | None = None
    outcome: str | None = None
    predictors: list[str] = []
    term: str | None = None
    contrast: dict[str, float] | None = None
    group: str | None = None  # multigroup: grouping variable, its groups (first = group 1) and the model
    groups: dict[str, int] = {}
    group_equal: list[str] = []
    model: str | None = None
    expression: str | None = None
    direction: Literal["greater", "less"]

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return f"{self.kind}: {self.outcome} ~ {' + '.join(self.predictors)} [{self.term}]"


class ProductSpec(_Spec):
    name: str
    of: list[str]


class HypothesisSpec(_Spec):
    constructs: list[str]
    second_order: list[str] = []
    observed: list[str] = []
    products: list[ProductSpec] = []
    model: str
    group: str | None = None
    groups: dict[str, int] = {}
    group_equal: list[str] = []
    std_lv: bool = False
    tests: list[TestSpec]
    rule: Literal["all"] = "all"
    lr_tests: list[str] = []
    lr_required: bool = False
    htmt_below: dict | None = None
    robustness: list[RobustSpec] = []


class RegistryFile(_Spec):
    alpha: float
    adjust: Literal["holm", "bh", "none"] = "holm"
    bootstrap: int
    monte_carlo: int
    hypotheses: dict[str, HypothesisSpec]


@dataclass(frozen=True)
class Hypothesis:
    """A hypothesis: what it claims (instrument) and how it is tested (registry)."""

    id: str
    statement: str
    seed: str
    passage: str
    module: str
    spec: HypothesisSpec

    @property
    def modules_needed(self) -> set[str]:
        return {self.module}


@dataclass(frozen=True)
class Registry:
    alpha: float
    bootstrap: int
    monte_carlo: int
    hypotheses: tuple[Hypothesis, ...]
    source: str = field(default=str(REGISTRY_PATH))
    adjust: str = "holm"


def load_registry(instrument: Instrument, path: str | Path | None = None) -> Registry:
    """Join the instrument's hypotheses with their test specifications and check both agree.

    Raises :class:`DefinitionError` naming the hypothesis and field when the
    registry misses a hypothesis, names a construct the instrument does not
    have, or is malformed.
    """
    path = Path(path) if path else REGISTRY_PATH
    try:
        raw = safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(f"{path.name}: cannot be read ({exc})") from exc
    try:
        reg = RegistryFile.model_validate(raw)
    except ValidationError as exc:
        raise DefinitionError([f"{path.name}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]) \
            from None
    problems = []
    known = set(instrument.constructs) | {so.id for so in instrument.questionnaire.second_order}
    out = []
    for h in instrument.hypotheses:
        spec = reg.hypotheses.get(h.id)
        if spec is None:
            problems.append(f"{path.name}: hypotheses: no test specification for {h.id}")
            continue
        for c in spec.constructs + spec.second_order:
            if c not in known:
                problems.append(f"{path.name}: hypotheses.{h.id}: construct '{c}' is not in the instrument")
        for prod in spec.products:
            for c in prod.of:
                if c not in known and c not in spec.observed:
                    problems.append(f"{path.name}: hypotheses.{h.id}.products.{prod.name}: '{c}' is neither a "
                                    "construct of the model nor one of its observed variables")
        out.append(Hypothesis(h.id, h.statement["en"], h.seed, h.passage, h.module, spec))
    extra = set(reg.hypotheses) - {h.id for h in instrument.hypotheses}
    if extra:
        problems.append(f"{path.name}: hypotheses {sorted(extra)} are not in the instrument's hypotheses.yaml")
    if problems:
        raise DefinitionError(problems)
    return Registry(reg.alpha, reg.bootstrap, reg.monte_carlo, tuple(out), str(path), reg.adjust)


# -- verdict logic ---------------------------------------------------------------------------

def verdict(p_predicted: float, p_opposite: float, alpha: float, extra_ok: bool = True) -> str:
    """``supported`` / ``contrary`` / ``not supported`` from the weakest test's one-sided p-values."""
    if np.isfinite(p_predicted) and p_predicted < alpha and extra_ok:
        return "supported"
    if np.isfinite(p_opposite) and p_opposite < alpha:
        return "contrary"
    return "not supported"


def combine_tests(tests: pd.DataFrame) -> pd.Series:
    """The weakest decision test (largest predicted-direction p-value) of a hypothesis."""
    return tests.loc[tests["p.predicted"].fillna(np.inf).idxmax()]


def hypothesis_decision(tests: pd.DataFrame) -> tuple[pd.Series, pd.Series, bool]:
    """The decision of one hypothesis from its test rows (``tests.csv`` layout): ``(weakest, shown,
    extra_ok)`` - the weakest decision test (its one-sided p-values decide), the test whose estimate
    is shown (the weakest with an effect size: a chi-square difference test has none) and whether
    the extra conditions hold (HTMT below its threshold). Used by ``analyze`` and the power study."""
    p = tests["p.predicted"].to_numpy(dtype=float, na_value=np.nan)
    kind = tests["kind"].to_numpy(dtype=object)
    decision = tests["decision"].astype(bool).to_numpy()
    if not decision.any():
        names = ", ".join(map(str, tests["test"])) if "test" in tests else ""
        raise ValueError(f"no decision test among the tests of this hypothesis ({names}); "
                         "mark at least one test 'decision: true' in the registry")
    htmt = kind == "htmt"
    extra_ok = bool(tests.loc[htmt, "ok"].all()) if htmt.any() else True
    decides = decision & ~np.isnan(p)
    if not decides.any():
        # No decision test has a p-value: a standardized test of an improper solution (a negative
        # latent variance, whose standardized estimate is undefined) or a test that could not be
        # computed. The first decision test, p-values NaN, is the weakest: "not supported".
        first = tests.iloc[int(np.flatnonzero(decision)[0])]
        return first, first, extra_ok

    def weakest_of(rows: np.ndarray) -> pd.Series:  # combine_tests on positions: the first largest p-value
        at = np.flatnonzero(rows)
        return tests.iloc[at[np.argmax(p[at])]]

    weakest = weakest_of(decides)
    effects = decides & (kind != "lr")
    shown = weakest_of(effects) if effects.any() else weakest
    return weakest, shown, extra_ok


def module_of(instrument: Instrument) -> Mapping[str, str]:
    return {c: inst_c.module for c, inst_c in instrument.constructs.items()}

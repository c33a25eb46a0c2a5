"""Comparison of our fits with a set of lavaan reference cases, shared by ``test_fit_reference.py``
(ML family) and ``test_ordinal_reference.py`` (WLS family).

A case's lavaan output is two tables, ``<case>_parameters.csv`` (``parameterEstimates()``) and
``<case>_fit.csv`` (``fitMeasures()``), looked up in the folders of its :class:`ReferenceSet` in
order. The ``assert_*`` functions hold the comparisons; :func:`parameter_tests` and
:func:`fit_measure_tests` make the tests both modules run over their own cases (one per quantity and
case, or per case and measure), which each module binds to ``test_*`` names for pytest to collect;
they use the module's ``fitted`` fixture (``fitted(case)``: our fit of the case).
``tests/analysis/conftest.py`` registers this module for pytest's assertion rewriting, so its failures
read as in a test module.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@dataclass(frozen=True)
class ReferenceSet:
    """Where a set of reference cases' tables live: ``folders`` searched in order (the last one is
    used when a name is in none of them)."""

    folders: Sequence[Path]

    def path(self, name: str) -> Path:
        for folder in self.folders[:-1]:
            if (folder / name).exists():
                return folder / name
        return self.folders[-1] / name

    def read(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.path(name))

    def fit_measures(self, case: str) -> pd.Series:
        """lavaan's ``fitMeasures()`` of a case, indexed by measure."""
        return self.read(f"{case}_fit.csv").set_index("measure")["value"]

    def fit_cases(self, cases: Iterable[str]) -> Iterator[tuple[str, str]]:
        """Every (case, measure) of lavaan's ``fitMeasures()`` output for the cases (the *_fit.csv files)."""
        for case in cases:
            for measure in self.read(f"{case}_fit.csv")["measure"]:
                yield case, measure

    def merged(self, result, case: str) -> pd.DataFrame:
        """Our parameter table outer-joined with lavaan's on (lhs, op, rhs, group), lavaan's columns
        suffixed ``_ref``; every row must be in both."""
        ref = self.read(f"{case}_parameters.csv")
        if "group" not in ref:
            ref["group"] = 1
        ref.loc[ref["op"] == ":=", "group"] = 0
        ref["rhs"] = ref["rhs"].fillna("")
        m = result.parameters.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_ref"),
                                    how="outer", indicator=True)
        assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", ["lhs", "op", "rhs", "group"]]
        return m


def cached_fits(fit_case: Callable[[str], object]) -> Callable[[str], object]:
    """``fit_case`` fitting each case once (the body of a module-scoped ``fitted`` fixture)."""
    cache: dict = {}

    def get(case: str):
        if case not in cache:
            cache[case] = fit_case(case)
        return cache[case]

    return get


def assert_column_close(m: pd.DataFrame, column: str, atol: float = 1e-3) -> None:
    """Our ``column`` within ``atol`` (absolute) of lavaan's, every row."""
    np.testing.assert_allclose(m[column], m[f"{column}_ref"], atol=atol, rtol=0)


def assert_standard_errors(m: pd.DataFrame, *, some_free: bool) -> None:
    """SEs within 1% of lavaan's where lavaan's is positive (``some_free``: there is such a row), 0 elsewhere."""
    free = m["se_ref"] > 0
    if some_free:
        assert free.sum() > 0
    np.testing.assert_allclose(m.loc[free, "se"], m.loc[free, "se_ref"], rtol=0.01)
    assert (m.loc[~free, "se"] == 0).all()


@dataclass(frozen=True)
class Tolerances:
    """How a fit measure is compared: NaN where lavaan's is NA; else relative (``relative``), equal
    (``exact``), or absolute (``absolute``, ``other_absolute`` for the measures it does not name)."""

    relative: Mapping[str, float]
    exact: Collection[str]
    other_absolute: float
    absolute: Mapping[str, float] = field(default_factory=dict)


def assert_fit_measure(ours: float, ref: float, measure: str, tol: Tolerances) -> None:
    if np.isnan(ref):  # lavaan reports NA (saturated p-values, robust indices it cannot give): so must we
        assert np.isnan(ours)
    elif measure in tol.relative:
        assert ours == pytest.approx(ref, rel=tol.relative[measure])
    elif measure in tol.exact:
        assert ours == ref
    else:
        assert ours == pytest.approx(ref, abs=tol.absolute.get(measure, tol.other_absolute))


def assert_fit_measure_names(ours: Collection[str], ref: Collection[str], extra: Collection[str] = ()) -> None:
    """Our measure names are lavaan's (no more, no fewer), apart from the ``extra`` ones we add."""
    ours, ref = set(ours), set(ref)
    assert ours - set(extra) == ref, {"missing": sorted(ref - ours), "extra": sorted(ours - ref)}


def parameter_tests(reference: ReferenceSet, cases: Iterable[str], *, some_free: bool) -> tuple[Callable, ...]:
    """``test_estimates``, ``test_standard_errors``, ``test_std_all`` and ``test_std_lv`` over the cases:
    ``est``, ``std.all`` and ``std.lv`` within 1e-3 absolute, SEs as :func:`assert_standard_errors`."""
    cases = list(cases)

    @pytest.mark.parametrize("case", cases)
    def test_estimates(fitted, case):
        assert_column_close(reference.merged(fitted(case), case), "est")

    @pytest.mark.parametrize("case", cases)
    def test_standard_errors(fitted, case):
        assert_standard_errors(reference.merged(fitted(case), case), some_free=some_free)

    @pytest.mark.parametrize("case", cases)
    def test_std_all(fitted, case):
        assert_column_close(reference.merged(fitted(case), case), "std.all")

    @pytest.mark.parametrize("case", cases)
    def test_std_lv(fitted, case):
        assert_column_close(reference.merged(fitted(case), case), "std.lv")

    return test_estimates, test_standard_errors, test_std_all, test_std_lv


def fit_measure_tests(reference: ReferenceSet, cases: Iterable[str], tol: Tolerances,
                      extra: Collection[str] = ()) -> tuple[Callable, Callable]:
    """``test_fit_measure`` (every measure of lavaan's ``fitMeasures()`` for each case, within ``tol``)
    and ``test_fit_measure_names`` (our names are lavaan's, plus the ``extra`` ones we add)."""
    cases = list(cases)

    @pytest.mark.parametrize(("case", "measure"), list(reference.fit_cases(cases)))
    def test_fit_measure(fitted, case, measure):
        ref = reference.fit_measures(case)[measure]
        assert_fit_measure(fitted(case).fit_measures[measure], ref, measure, tol)

    @pytest.mark.parametrize("case", cases)
    def test_fit_measure_names(fitted, case):
        assert_fit_measure_names(fitted(case).fit_measures, reference.read(f"{case}_fit.csv")["measure"], extra)

    return test_fit_measure, test_fit_measure_names

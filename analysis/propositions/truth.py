"""Known truth: the population values of what the hypothesis models estimate and test.

Reviewers reproducing results from synthetic data compare estimates with
these values (notebook 04, the recovery tests, power studies).

The generator's coefficients are paths between *latent* variables. The
analysis models use latent constructs (measured by items, so measurement error
is modelled) but also *observed* firm-profile variables (DOI index, log
employees, years abroad, growth category, log(1 + new markets)), which are
noisy, transformed proxies of the generator's latent firm characteristics.
The estimand of a path that touches such a proxy is therefore the population
standardized regression coefficient with the proxy, not the generator's
coefficient; it has no closed form (the proxies are non-linear, truncated,
categorised), so it is computed here from a very large clean sample: the
generator's latent scores for the constructs, the observed proxies as the
analysis derives them, and ordinary least squares of each structural equation
on standardized variables (latent products standardized, as lavaan's std.all).
At n = 400,000 the Monte Carlo error of these values is about 0.002, small
against the standard errors at N = 3,000 (about 0.02-0.03).

This uses only the generator and the scoring step, never the SEM code under
test. :func:`true_test_values` evaluates each decision test's expression
(a path, a difference of paths, an indirect effect, a difference of
correlations) on these values, so that every hypothesis is compared with the
true value of the quantity it actually tests.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from analysis.propositions.hypotheses import load_registry
from analysis.psychometrics.scoring import score
from analysis.sem.defined import compile_definitions, evaluate_definitions
from analysis.sem.syntax import Definition, parse_model
from instrument import load_instrument
from synthetic_data.generate import generate
from synthetic_data.population import with_overrides

N_POPULATION = 400_000


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


@cache
def population_frame(world: str, n: int = N_POPULATION, seed: int = 424242,
                     overrides: tuple[tuple[str, float], ...] = ()) -> pd.DataFrame:
    """Latent construct scores (generator truth) beside the observed proxies the analysis derives;
    ``overrides``: theory-world paths set by hypothesis tag (:func:`synthetic_data.population.with_overrides`)."""
    inst = load_instrument()
    pop = with_overrides(world, dict(overrides)) if overrides else None
    g = generate(world=world, n=n, seed=seed, clean=True, population=pop)
    scored = score(g.data, inst)
    frame = g.latent.copy()
    for proxy in ("DOI", "SIZE", "EXPER", "lnew", "growth"):
        frame[proxy] = pd.to_numeric(scored.data[proxy], errors="coerce").to_numpy(dtype=float)
    return frame.dropna()


@cache
def true_standardized_paths(world: str, n: int = N_POPULATION,
                            overrides: tuple[tuple[str, float], ...] = ()) -> pd.DataFrame:
    """Per hypothesis model and labelled regression path: the population std.all value.

    Returns columns ``hypothesis, label, lhs, rhs, true``; ``n`` is the size of
    the clean population sample (Monte Carlo error about 0.002 at the default).
    """
    frame = population_frame(world, n, overrides=overrides)
    registry = load_registry(load_instrument())
    rows = []
    for h in registry.hypotheses:
        cols = {}
        for name in set(frame.columns):
            cols[name] = frame[name].to_numpy(dtype=float)
        for prod in h.spec.products:
            a, b = prod.of
            cols[prod.name] = _z(cols[a]) * _z(cols[b])
        parsed = parse_model(h.spec.model)
        equations: dict[str, list] = {}
        for s in parsed.statements:
            if s.op == "~":
                equations.setdefault(s.lhs, []).append(s)
        for lhs, stmts in equations.items():
            x = np.column_stack([_z(cols[s.rhs]) for s in stmts])
            y = _z(cols[lhs])
            beta = np.linalg.lstsq(x, y, rcond=None)[0]
            for s, b in zip(stmts, beta, strict=True):
                label = s.modifier.label
                rows.append({"hypothesis": h.id, "label": label if isinstance(label, str) else None,
                             "lhs": lhs, "rhs": s.rhs, "true": float(b)})
    return pd.DataFrame(rows)


def true_correlations(world: str, block: list[str], other: str, n: int = N_POPULATION) -> tuple[float, float]:
    """Mean population correlation among ``block`` and mean correlation of ``other`` with them."""
    frame = population_frame(world, n)
    r = frame[[*block, other]].corr().to_numpy()
    k = len(block)
    within = r[:k, :k][np.triu_indices(k, 1)]
    return float(within.mean()), float(r[k, :k].mean())


@cache
def true_test_values(world: str, n: int = N_POPULATION,
                     overrides: tuple[tuple[str, float], ...] = ()) -> pd.DataFrame:
    """The true (standardized) value of every decision test of every hypothesis.

    Each test expression is evaluated on the population values of the labels it
    uses: labelled regression paths (:func:`true_standardized_paths`) and
    labelled covariances between constructs (the population correlation; a
    label shared by several pairs - an equality constraint - takes their mean).
    Compare with the ``std.estimate`` of the analysis' ``tests`` table.
    Returns ``hypothesis, test, expression, true``.
    """
    paths = true_standardized_paths(world, n, overrides)
    frame = population_frame(world, n, overrides=overrides)
    rows = []
    for h in load_registry(load_instrument()).hypotheses:
        values = {r.label: r.true for r in paths[(paths["hypothesis"] == h.id) & paths["label"].notna()].itertuples()}
        shared: dict[str, list[float]] = {}
        for s in parse_model(h.spec.model).statements:
            label = s.modifier.label
            if s.op == "~~" and isinstance(label, str) and {s.lhs, s.rhs} <= set(frame.columns):
                shared.setdefault(label, []).append(float(np.corrcoef(frame[s.lhs], frame[s.rhs])[0, 1]))
        values |= {label: float(np.mean(r)) for label, r in shared.items()}
        for t in h.spec.tests:
            compiled = compile_definitions([Definition("_true", t.expression)], list(values))
            rows.append({"hypothesis": h.id, "test": t.name, "expression": t.expression,
                         "true": evaluate_definitions(compiled, values)["_true"]})
    return pd.DataFrame(rows, columns=["hypothesis", "test", "expression", "true"])

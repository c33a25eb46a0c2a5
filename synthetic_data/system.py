"""The latent system behind the synthetic data: exact population moments and simulation.

Every latent variable is standardized (mean 0, variance 1). Exogenous ones
are multivariate normal with given correlations; each endogenous one is a
recursive equation::

    eta = sum_k beta_k x_k + sum gamma (a b - E[a b]) + sqrt(icc) u_cluster + sigma zeta

with linear terms, products (interactions) and squares (quadratic effects)
of variables that are themselves linear in normal variables, a cluster random
intercept ``u`` (firms in the same cluster organisation share it) and a
residual whose variance ``sigma^2`` is solved so that ``Var(eta) = 1``.

Exact moments: write every variable over a basis ``e`` of independent
standard normals (exogenous factors via Cholesky, cluster effects,
residuals) as a linear part ``l'e`` plus a centred quadratic form
``e'Qe - tr(Q)``. Then ``Cov(v, w) = l_v'l_w + 2 tr(Q_v Q_w)`` (odd moments of
normals vanish). That gives the population covariance the tests compare
against, the residual variances, and positive-definiteness checks - all in
closed form, without simulation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smecore.errors import DefinitionError


@dataclass(frozen=True)
class Term:
    """One term of an equation: a variable (linear) or a product of two (interaction / square)."""

    variables: tuple[str, ...]  # one name (linear) or two (product; equal names = square)
    coefficient: float
    hypothesis: str | None = None
    source: str = ""  # where it was defined (file and key), for messages

    @property
    def is_product(self) -> bool:
        return len(self.variables) == 2


@dataclass(frozen=True)
class Equation:
    outcome: str
    terms: tuple[Term, ...]
    icc: float = 0.0
    source: str = ""


@dataclass(frozen=True)
class LatentSystem:
    """Exogenous correlations + recursive equations; see the module docstring."""

    exogenous: tuple[str, ...]
    correlation: np.ndarray  # of the exogenous variables' within-cluster parts
    exogenous_icc: Mapping[str, float]
    equations: tuple[Equation, ...]  # in an order where predictors come first
    covariance: pd.DataFrame = field(repr=False)  # exact population covariance of all variables
    residual_sd: Mapping[str, float] = field(repr=False)  # sigma of each equation's residual

    @property
    def variables(self) -> tuple[str, ...]:
        return self.exogenous + tuple(e.outcome for e in self.equations)


def build_system(exogenous: Sequence[str], correlations: Mapping[tuple[str, str], float],
                 equations: Sequence[Equation], exogenous_icc: Mapping[str, float] | None = None,
                 where: str = "population model") -> LatentSystem:
    """Order the equations, check the system and compute its exact moments.

    Raises :class:`DefinitionError` naming the variable or parameter when the
    exogenous correlation matrix is not positive definite, a predictor is
    undefined, the equations are circular, a product involves a variable that
    is not linear in normals, or an equation explains more than all of its
    outcome's variance.
    """
    exo = list(dict.fromkeys(exogenous))
    problems = []
    r = np.eye(len(exo))
    idx = {v: i for i, v in enumerate(exo)}
    for (a, b), value in correlations.items():
        if a not in idx or b not in idx:
            problems.append(f"{where}: correlation {a} ~~ {b}: both must be exogenous variables")
            continue
        if not -1 < value < 1:
            problems.append(f"{where}: correlation {a} ~~ {b} = {value}: must lie strictly between -1 and 1")
            continue
        r[idx[a], idx[b]] = r[idx[b], idx[a]] = value
    if problems:
        raise DefinitionError(problems)
    eig = np.linalg.eigvalsh(r) if len(exo) else np.array([1.0])
    if eig[0] <= 1e-8:
        raise DefinitionError(f"{where}: the correlation matrix of the exogenous variables is not positive "
                              f"definite (smallest eigenvalue {eig[0]:.3g}); lower some correlations")
    # order equations so that every predictor is defined first
    pending = {e.outcome: e for e in equations}
    dup = [e.outcome for e in equations if e.outcome in exo]
    if dup:
        raise DefinitionError(f"{where}: {dup} are both exogenous and the outcome of an equation")
    ordered: list[Equation] = []
    known = set(exo)
    while pending:
        ready = [e for e in pending.values() if all(v in known for t in e.terms for v in t.variables)]
        if not ready:
            missing = sorted({v for e in pending.values() for t in e.terms for v in t.variables
                              if v not in known and v not in pending})
            if missing:
                raise DefinitionError(f"{where}: predictor(s) {missing} are neither exogenous nor the outcome "
                                      "of an equation; declare them")
            raise DefinitionError(f"{where}: the equations of {sorted(pending)} are circular; "
                                  "the synthetic model must be recursive")
        for e in ready:
            ordered.append(e)
            known.add(e.outcome)
            del pending[e.outcome]
    icc = dict(exogenous_icc or {})
    cov, residual_sd = _moments(tuple(exo), r, icc, tuple(ordered), where)
    return LatentSystem(tuple(exo), r, icc, tuple(ordered), cov, residual_sd)


def _moments(exo: tuple[str, ...], correlation: np.ndarray, exogenous_icc: Mapping[str, float],
             equations: tuple[Equation, ...], where: str) -> tuple[pd.DataFrame, dict[str, float]]:
    n_exo = len(exo)
    endo = [e.outcome for e in equations]
    clustered = [v for v in exo if exogenous_icc.get(v, 0) > 0] + [e.outcome for e in equations if e.icc > 0]
    basis = n_exo + len(clustered) + len(endo)
    u_index = {v: n_exo + i for i, v in enumerate(clustered)}
    z_index = {v: n_exo + len(clustered) + i for i, v in enumerate(endo)}
    chol = np.linalg.cholesky(correlation) if n_exo else np.zeros((0, 0))
    lin: dict[str, np.ndarray] = {}
    quad: dict[str, np.ndarray] = {}
    for i, v in enumerate(exo):
        icc = exogenous_icc.get(v, 0.0)
        vec = np.zeros(basis)
        vec[:n_exo] = np.sqrt(1 - icc) * chol[i]
        if icc > 0:
            vec[u_index[v]] = np.sqrt(icc)
        lin[v], quad[v] = vec, np.zeros((basis, basis))
    residual_sd = {}
    for eq in equations:
        vec = np.zeros(basis)
        q = np.zeros((basis, basis))
        for t in eq.terms:
            if t.is_product:
                a, b = t.variables
                if np.any(quad[a]) or np.any(quad[b]):
                    raise DefinitionError(f"{t.source or where}: the product {a}*{b} in the equation of "
                                          f"{eq.outcome} involves a variable that has a nonlinear part; "
                                          "products are allowed only of variables linear in normals")
                q += t.coefficient * (np.outer(lin[a], lin[b]) + np.outer(lin[b], lin[a])) / 2
            else:
                (a,) = t.variables
                vec += t.coefficient * lin[a]
                q += t.coefficient * quad[a]
        if eq.icc > 0:
            vec[u_index[eq.outcome]] = np.sqrt(eq.icc)
        explained = vec @ vec + 2 * np.sum(q * q)
        rest = 1.0 - explained
        if rest <= 1e-6:
            raise DefinitionError(f"{eq.source or where}: the terms of the equation of {eq.outcome} (and its "
                                  f"cluster share) explain {explained:.3f} of its variance, which must stay "
                                  "below 1; lower the coefficients")
        vec[z_index[eq.outcome]] = np.sqrt(rest)
        residual_sd[eq.outcome] = float(np.sqrt(rest))
        lin[eq.outcome], quad[eq.outcome] = vec, q
    names = list(exo) + endo
    L = np.array([lin[v] for v in names])
    cov = L @ L.T
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if np.any(quad[a]) and np.any(quad[b]):
                cov[i, j] += 2 * np.sum(quad[a] * quad[b])
    cov = (cov + cov.T) / 2
    eig = np.linalg.eigvalsh(cov)
    if eig[0] <= -1e-10:
        raise DefinitionError(f"{where}: the implied covariance of the latent variables is not positive "
                              f"semi-definite (smallest eigenvalue {eig[0]:.3g})")
    return pd.DataFrame(cov, index=names, columns=names), residual_sd


def simulate(system: LatentSystem, n: int, cluster: np.ndarray, n_clusters: int,
             rng: np.random.Generator) -> pd.DataFrame:
    """Draw ``n`` firms' latent scores; ``cluster[i]`` in ``0..n_clusters-1`` picks the shared intercepts."""
    exo = system.exogenous
    out: dict[str, np.ndarray] = {}
    z = rng.standard_normal((n, len(exo))) @ np.linalg.cholesky(system.correlation).T if exo else np.empty((n, 0))
    cov = system.covariance
    for i, v in enumerate(exo):
        icc = system.exogenous_icc.get(v, 0.0)
        val = np.sqrt(1 - icc) * z[:, i]
        if icc > 0:
            val = val + np.sqrt(icc) * rng.standard_normal(n_clusters)[cluster]
        out[v] = val
    for eq in system.equations:
        val = np.zeros(n)
        for t in eq.terms:
            if t.is_product:
                a, b = t.variables
                val += t.coefficient * (out[a] * out[b] - cov.loc[a, b])
            else:
                val += t.coefficient * out[t.variables[0]]
        if eq.icc > 0:
            val += np.sqrt(eq.icc) * rng.standard_normal(n_clusters)[cluster]
        val += system.residual_sd[eq.outcome] * rng.standard_normal(n)
        out[eq.outcome] = val
    return pd.DataFrame(out)

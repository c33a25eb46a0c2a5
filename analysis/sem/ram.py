"""Model matrices (RAM form) built from the parameter table, implied moments and derivatives.

Representation: all variables of a group, observed first then latent, in one
vector ``v = A v + e`` with ``cov(e) = S`` and ``E(v) = (I - A)^{-1} m``
(McArdle's RAM; lavaan's ``representation="RAM"``). With ``B = (I - A)^{-1}``
and ``G`` the observed rows of ``B``::

    Sigma = G S G'          mu = G m

One representation covers loadings (``A[x, F]``), regressions among latent
*and* observed variables (``A[y, x]``), residual (co)variances (``S``) and
intercepts (``m``) without special cases, and its derivatives are cheap.

Derivatives: every free entry changes ``Sigma`` by a symmetric rank-2 term
``u v' + v u'`` (for ``A[k, l]``: ``u = G[:, k]``, ``v = H[:, l]`` with
``H = G S B'``; for ``S[k, l]``: ``u = G[:, k]``, ``v = G[:, l]``, halved on the
diagonal). So the ML gradient is ``2 u' Omega v`` per entry and the expected
information ``1/2 tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l)`` is
``(U'WV)o(U'WV)' + (U'WU)o(V'WV)`` with ``W = Sigma^-1`` - O(p^2 q + p q^2)
instead of the O(p^4) of the textbook Kronecker formulas. This is the fast
path that Monte Carlo refits use.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from analysis.sem.partable import ParTable
from analysis.sem.vech import vech_indices
from smecore.errors import EstimationError

#: size (q_occ x npar) above which the incidence matrix is kept sparse
DENSE_INCIDENCE = 40_000


@dataclass(frozen=True)
class GroupMatrices:
    """Where each parameter-table row of one group lives in the RAM matrices."""

    names: tuple[str, ...]  # observed (data order used for moments) then latent
    n_obs: int
    a_fixed: np.ndarray
    s_fixed: np.ndarray
    m_fixed: np.ndarray
    # free occurrences: matrix code (0=A, 1=S, 2=m), row, col, 0-based free index
    occ_kind: np.ndarray
    occ_row: np.ndarray
    occ_col: np.ndarray
    occ_par: np.ndarray


@dataclass(frozen=True)
class Implied:
    """Model-implied moments of one group and the pieces derivatives need."""

    sigma: np.ndarray  # p x p
    mu: np.ndarray  # p
    B: np.ndarray  # (I - A)^-1, n x n
    G: np.ndarray  # observed rows of B, p x n
    H: np.ndarray  # G S B', p x n
    mu_all: np.ndarray  # B m, n
    sigma_all: np.ndarray  # B S B', n x n


class RamModel:
    """RAM matrices of every group of a parameter table.

    ``exo_values`` gives, per group, the sample covariance matrix and mean
    vector of the observed variables (in ``partable.variables.ov`` order) used to
    fill the rows flagged ``exo`` (fixed.x covariates).
    """

    def __init__(self, partable: ParTable, exo_values: list[tuple[np.ndarray, np.ndarray]] | None = None):
        self.partable = partable
        self.npar = partable.npar
        v = partable.variables
        self.ov = tuple(v.ov)
        self.lv = tuple(v.lv)
        names = self.ov + self.lv
        index = {name: i for i, name in enumerate(names)}
        n, p = len(names), len(self.ov)
        t = partable.table
        self.groups: list[GroupMatrices] = []
        # for reading estimates back: (group, kind, row, col) per parameter-table row
        loc = np.zeros((len(t), 3), dtype=int)
        lhs, op, rhs, grp, free, ustart, exo = (t[col].to_numpy() for col in
                                                ("lhs", "op", "rhs", "group", "free", "ustart", "exo"))
        self._exo: list[tuple[int, int, int, int]] = []  # (group, kind, row, col) of each fixed.x entry
        for g in range(partable.ngroups):
            a = np.zeros((n, n))
            s = np.zeros((n, n))
            m = np.zeros(n)
            kinds, rows, cols, pars = [], [], [], []
            cov, mean = exo_values[g] if exo_values is not None else (None, None)
            for r in np.flatnonzero(grp == g + 1):
                o = op[r]
                if o == "=~":
                    kind, i, j = 0, index[rhs[r]], index[lhs[r]]
                elif o == "~":
                    kind, i, j = 0, index[lhs[r]], index[rhs[r]]
                elif o == "~~":
                    i, j = index[lhs[r]], index[rhs[r]]
                    kind = 1
                    if i < j:  # store the lower triangle
                        i, j = j, i
                elif o == "~1":
                    kind, i, j = 2, index[lhs[r]], 0
                else:  # pragma: no cover - the parser admits no other operator
                    raise EstimationError(f"operator '{o}' cannot be represented")
                loc[r] = (kind, i, j)
                if free[r] > 0:
                    kinds.append(kind)
                    rows.append(i)
                    cols.append(j)
                    pars.append(free[r] - 1)
                    continue
                value = ustart[r]
                if exo[r] == 1:
                    self._exo.append((g, kind, i, j))
                    if cov is None:
                        value = 0.0
                    elif kind == 1:
                        value = cov[i, j]
                    else:
                        value = mean[i]
                if np.isnan(value):
                    value = 0.0
                if kind == 0:
                    a[i, j] = value
                elif kind == 1:
                    s[i, j] = s[j, i] = value
                else:
                    m[i] = value
            self.groups.append(GroupMatrices(
                names, p, a, s, m, np.array(kinds, dtype=int), np.array(rows, dtype=int),
                np.array(cols, dtype=int), np.array(pars, dtype=int)))
        self.row_location = loc
        # incidence of occurrences on free parameters, per group (q_occ x npar); sparse in large models,
        # where dense products with it cost q^2 npar (most parameters occur once)
        self._incidence = []
        for gm in self.groups:
            inc = np.zeros((len(gm.occ_par), self.npar))
            inc[np.arange(len(gm.occ_par)), gm.occ_par] = 1.0
            self._incidence.append(sparse.csr_matrix(inc) if inc.size > DENSE_INCIDENCE else inc)

    def with_exo(self, exo_values: list[tuple[np.ndarray, np.ndarray]]) -> RamModel:
        """The same model with its fixed.x entries (covariates' variances, covariances and means)
        taken from ``exo_values`` (per group: covariance matrix, mean vector) - for refits to new
        data without rebuilding the matrices; ``self`` when the model has none."""
        if not self._exo:
            return self
        out = copy.copy(self)
        groups = []
        for g, gm in enumerate(self.groups):
            s, m = gm.s_fixed.copy(), gm.m_fixed.copy()
            cov, mean = exo_values[g]
            for gg, kind, i, j in self._exo:
                if gg != g:
                    continue
                if kind == 1:
                    s[i, j] = s[j, i] = cov[i, j]
                else:
                    m[i] = mean[i]
            groups.append(replace(gm, s_fixed=s, m_fixed=m))
        out.groups = groups
        return out

    # -- matrices and implied moments --------------------------------------------
    def matrices(self, theta: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(A, S, m)`` of group ``g`` (0-based) at parameter vector ``theta``."""
        gm = self.groups[g]
        a, s, m = gm.a_fixed.copy(), gm.s_fixed.copy(), gm.m_fixed.copy()
        vals = theta[gm.occ_par]
        k = gm.occ_kind
        a[gm.occ_row[k == 0], gm.occ_col[k == 0]] = vals[k == 0]
        s[gm.occ_row[k == 1], gm.occ_col[k == 1]] = vals[k == 1]
        s[gm.occ_col[k == 1], gm.occ_row[k == 1]] = vals[k == 1]
        m[gm.occ_row[k == 2]] = vals[k == 2]
        return a, s, m

    def implied(self, theta: np.ndarray, g: int) -> Implied:
        """Implied covariance and mean of the observed variables of group ``g``."""
        a, s, m = self.matrices(theta, g)
        n = a.shape[0]
        try:
            b = np.linalg.inv(np.eye(n) - a)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "I - B is singular at the current estimates (a non-recursive model whose "
                "regressions form an explosive cycle); check the model's feedback loops") from exc
        p = self.groups[g].n_obs
        gmat = b[:p]
        h = gmat @ s @ b.T
        sigma = h[:, :p]  # G S G' = (G S B')[:, observed]
        sigma = (sigma + sigma.T) / 2
        mu_all = b @ m
        sigma_all = b @ s @ b.T
        return Implied(sigma, mu_all[:p], b, gmat, h, mu_all, (sigma_all + sigma_all.T) / 2)

    # -- derivatives -------------------------------------------------------------
    def rank2_factors(self, g: int, imp: Implied) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(U, V, M)``: dSigma = u v' + v u' and dmu = M[:, k] per occurrence."""
        gm = self.groups[g]
        k, r, c = gm.occ_kind, gm.occ_row, gm.occ_col
        p, q = gm.n_obs, len(k)
        U = np.zeros((p, q))
        V = np.zeros((p, q))
        M = np.zeros((p, q))
        ia = np.flatnonzero(k == 0)
        U[:, ia] = imp.G[:, r[ia]]
        V[:, ia] = imp.H[:, c[ia]]
        M[:, ia] = imp.G[:, r[ia]] * imp.mu_all[c[ia]]
        iS = np.flatnonzero(k == 1)
        U[:, iS] = imp.G[:, r[iS]]
        V[:, iS] = imp.G[:, c[iS]] * np.where(r[iS] == c[iS], 0.5, 1.0)
        im = np.flatnonzero(k == 2)
        M[:, im] = imp.G[:, r[im]]
        return U, V, M

    def incidence(self, g: int) -> np.ndarray:
        """Matrix mapping occurrences of group ``g`` to free parameters (q_occ x npar)."""
        inc = self._incidence[g]
        return inc.toarray() if sparse.issparse(inc) else inc

    def collapse(self, g: int, h: np.ndarray) -> np.ndarray:
        """``inc' h inc``: a matrix over the occurrences of group ``g`` summed onto the free parameters."""
        inc = self._incidence[g]
        if not sparse.issparse(inc):
            return inc.T @ h @ inc
        return np.asarray(inc.T @ np.asarray(inc.T @ h).T)

    def collapse_rows(self, g: int, x: np.ndarray) -> np.ndarray:
        """``x inc``: vectors (or rows of case-wise values) over occurrences summed onto the free parameters."""
        inc = self._incidence[g]
        if not sparse.issparse(inc):
            return x @ inc
        return np.asarray(inc.T @ np.asarray(x).T).T

    def occurrence_jacobian(self, g: int, imp: Implied) -> np.ndarray:
        """Derivative of ``[mu, vech(Sigma)]`` with respect to each free occurrence (``q_sat x q_occ``)."""
        U, V, M = self.rank2_factors(g, imp)
        rr, cc = vech_indices(U.shape[0])
        return np.vstack([M, U[rr] * V[cc] + V[rr] * U[cc]])

    def jacobian(self, g: int, imp: Implied, meanstructure: bool) -> np.ndarray:
        """Delta: derivative of ``[mu, vech(Sigma)]`` (or ``vech(Sigma)``) w.r.t. the free parameters.

        ``vech`` stacks the lower triangle column by column (lavaan's order).
        """
        jac = self.collapse_rows(g, self.occurrence_jacobian(g, imp))
        return jac if meanstructure else jac[self.groups[g].n_obs:]

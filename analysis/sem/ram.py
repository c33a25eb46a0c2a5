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
from functools import cached_property

import numpy as np
from scipy import sparse

from analysis.sem.partable import ParTable
from analysis.sem.vech import vech_indices
from smecore.errors import EstimationError

#: size (q_occ x npar) above which the incidence matrix is kept sparse
DENSE_INCIDENCE = 40_000


@dataclass(frozen=True)
class SecondOrderIndex:
    """Index arrays of the second-derivative term (pairs involving an ``A`` entry), built once per model."""

    q: int
    ia: np.ndarray
    iS: np.ndarray
    im: np.ndarray
    i1: np.ndarray
    j1: np.ndarray
    i1_col: np.ndarray
    i1_row: np.ndarray
    j1_col: np.ndarray
    j1_row: np.ndarray
    ks_row: np.ndarray
    ls_row: np.ndarray
    im_row: np.ndarray
    half: np.ndarray
    aa: tuple
    as_: tuple
    sa: tuple
    am: tuple
    ma: tuple


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

    @cached_property
    def by_kind(self) -> tuple[np.ndarray, ...]:
        """Positions of the free occurrences in A, S and m (built once; used at every evaluation):
        ``(ia, a_rows, a_cols, iS, s_rows, s_cols, s_half, im, m_rows)``."""
        k, r, c = self.occ_kind, self.occ_row, self.occ_col
        ia, i_s, im = (np.flatnonzero(k == kind) for kind in (0, 1, 2))
        return (ia, r[ia], c[ia], i_s, r[i_s], c[i_s], np.where(r[i_s] == c[i_s], 0.5, 1.0), im, r[im])

    @cached_property
    def second_order(self) -> SecondOrderIndex:
        """Gather/scatter indices of :func:`analysis.sem.objective._second_derivative_term` (``np.ix_``
        grids built once instead of at every Hessian)."""
        kind, row, col = self.occ_kind, self.occ_row, self.occ_col
        ia, i_s, im = (np.flatnonzero(kind == k) for k in (0, 1, 2))
        i1, j1 = row[ia], col[ia]
        ks, ls = row[i_s], col[i_s]
        return SecondOrderIndex(
            len(kind), ia, i_s, im, i1, j1, i1[:, None], i1[None, :], j1[:, None], j1[None, :],
            ks[None, :], ls[None, :], row[im][None, :], np.where(ks == ls, 0.5, 1.0),
            np.ix_(ia, ia), np.ix_(ia, i_s), np.ix_(i_s, ia), np.ix_(ia, im), np.ix_(im, ia))


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
        ia, ar, ac, i_s, sr, sc, _, im, mr = gm.by_kind
        a[ar, ac] = vals[ia]
        s[sr, sc] = vals[i_s]
        s[sc, sr] = vals[i_s]
        m[mr] = vals[im]
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
        p, q = gm.n_obs, len(gm.occ_kind)
        ia, ar, ac, i_s, sr, sc, half, im, mr = gm.by_kind
        U = np.zeros((p, q))
        V = np.zeros((p, q))
        M = np.zeros((p, q))
        U[:, ia] = imp.G[:, ar]
        V[:, ia] = imp.H[:, ac]
        M[:, ia] = imp.G[:, ar] * imp.mu_all[ac]
        U[:, i_s] = imp.G[:, sr]
        V[:, i_s] = imp.G[:, sc] * half
        M[:, im] = imp.G[:, mr]
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

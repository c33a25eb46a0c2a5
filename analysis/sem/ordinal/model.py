"""The model side of ordinal indicators: implied thresholds and correlations, and their Jacobian.

The latent responses ``y*`` of the observed variables follow the RAM model of the
parameter table (:mod:`analysis.sem.ram`): ``Sigma* = G S G'``, ``mu* = G m``. On top of
it, as lavaan 0.6.14 (``computeSigmaHat.LISREL``, ``computeTH.LISREL``,
``setResidualElements.LISREL`` / ``setDeltaElements.LISREL``):

* ``delta`` parameterisation: the residual variances of the ordinal items are not
  parameters but set so that ``diag(Sigma*)`` is ``1 / delta^2`` (``delta``: the scale
  factors ``x ~*~ x``, 1 unless freed), computed with those residual variances at 0;
* ``theta`` parameterisation: the residual variances are parameters (fixed to 1 unless
  freed) and ``delta = 1 / sqrt(diag(Sigma*))``;

then ``Sigma = D Sigma* D`` (``D = diag(delta)``, 1 for continuous variables) - the
implied correlations of the ordinal items - and the implied thresholds
``(tau - mu*) delta`` (``-mu`` for a continuous variable). ``wls_est`` stacks them in
the order of ``WLS.obs`` (:mod:`analysis.sem.ordinal.samplestats`).

The Jacobian ``Delta`` of ``wls_est`` (lavaan's ``computeDelta``) is built from the RAM
rank-2 factors (``dSigma* = u v' + v u'`` per free occurrence) and kept sparse: a
loading moves only the correlations of its item, a factor covariance only the pairs
of items of the two factors, so ``Delta`` of the instrument's 138-item model is
~0.1% dense. As lavaan's ``derivative.sigma.LISREL``, the residual variances computed
in the delta parameterisation are held fixed in ``Delta`` (they move only the diagonal
of ``Sigma*``, which is not modelled).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

from analysis.sem.ordinal.samplestats import OrdinalGroupStats, vech_offdiag
from analysis.sem.partable import ParTable
from analysis.sem.ram import Implied, RamModel

RAM_OPS = ("=~", "~", "~~", "~1")


@dataclass(frozen=True)
class OrdinalImplied:
    """Implied moments of one group: the RAM part (with the computed residual variances), the scale
    factors and the implied ``WLS.est``."""

    ram: Implied  # of the latent responses y* (observed then latent)
    s_matrix: np.ndarray  # S with the computed residual variances
    delta: np.ndarray  # scale factor of each observed variable (1 for continuous)
    tau: np.ndarray  # threshold parameters (TH order; 0 for a continuous variable's entry)
    sigma: np.ndarray  # D Sigma* D: correlations of the ordinal items, covariances otherwise
    th: np.ndarray  # implied TH entries as in WLS.obs (-mu for continuous variables)
    wls_est: np.ndarray


@dataclass(frozen=True)
class _GroupLayout:
    """Where the thresholds and scale factors of one group sit in theta / the table."""

    th_var: np.ndarray  # variable of each TH entry
    th_free: np.ndarray  # theta index of each TH entry's parameter (-1: fixed)
    th_fixed: np.ndarray  # fixed value (NaN for continuous entries)
    delta_free: np.ndarray  # theta index of each variable's scale factor (-1: fixed or none)
    delta_fixed: np.ndarray  # fixed scale factor (1 when none)
    ordinal: np.ndarray
    num: np.ndarray
    rows: np.ndarray
    cols: np.ndarray


def ram_partable(pt: ParTable) -> tuple[ParTable, np.ndarray]:
    """The rows a RAM model holds (no thresholds or scale factors), their free parameters numbered
    densely, and the index in the full parameter vector of each of them."""
    t = pt.table
    keep = t["op"].isin(RAM_OPS).to_numpy()
    sub = t[keep].reset_index(drop=True).copy()
    free = sub["free"].to_numpy()
    uniq = np.unique(free[free > 0])
    new = np.zeros(len(sub), dtype=int)
    pos = {v: k + 1 for k, v in enumerate(uniq)}
    new[free > 0] = [pos[v] for v in free[free > 0]]
    sub["free"] = new
    return replace(pt, table=sub), uniq - 1


class OrdinalModel:
    """Implied ``WLS.est`` and its Jacobian for a parameter table with ordinal indicators.

    ``stats`` (one :class:`OrdinalGroupStats` per group) give the layout of ``WLS.obs``;
    ``parameterization`` is ``"delta"`` or ``"theta"``.
    """

    def __init__(self, partable: ParTable, stats: list[OrdinalGroupStats], parameterization: str,
                 ordered: tuple[str, ...]):
        self.partable = partable
        self.npar = partable.npar
        self.parameterization = parameterization
        self.ov = tuple(partable.variables.ov)
        self.ordered = tuple(x for x in self.ov if x in ordered)
        self.ord_mask = np.array([x in self.ordered for x in self.ov])
        sub, self.ram_index = ram_partable(partable)
        self.ram_partable = sub
        self.ram = RamModel(sub)
        self.p = len(self.ov)
        t = partable.table
        index = {x: i for i, x in enumerate(self.ov)}
        self.layouts: list[_GroupLayout] = []
        for g, st in enumerate(stats):
            gt = t[t["group"] == g + 1]
            th_free = np.full(st.nth, -1)
            th_fixed = np.full(st.nth, np.nan)
            starts = {}
            for k, j in enumerate(st.th_var):
                starts.setdefault(j, k)
            for r in gt[gt["op"] == "|"].itertuples():
                j = index[r.lhs]
                k = starts[j] + int(r.rhs[1:]) - 1
                if r.free > 0:
                    th_free[k] = r.free - 1
                else:
                    th_fixed[k] = r.ustart
            delta_free = np.full(self.p, -1)
            delta_fixed = np.ones(self.p)
            for r in gt[gt["op"] == "~*~"].itertuples():
                j = index[r.lhs]
                if r.free > 0:
                    delta_free[j] = r.free - 1
                else:
                    delta_fixed[j] = r.ustart
            rows, cols = vech_offdiag(self.p)
            self.layouts.append(_GroupLayout(st.th_var, th_free, th_fixed, delta_free, delta_fixed, self.ord_mask,
                                             np.flatnonzero(~self.ord_mask), rows, cols))

    @cached_property
    def _pair_index(self) -> np.ndarray:
        """Position of pair (r, c) (either order) in the off-diagonal vech; -1 on the diagonal."""
        rows, cols = vech_offdiag(self.p)
        out = np.full((self.p, self.p), -1)
        out[rows, cols] = np.arange(len(rows))
        out[cols, rows] = np.arange(len(rows))
        return out

    def _pair_triplets(self, r_idx, q_idx, vals, offset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """COO triplets of contributions ``vals[c, k]`` to pair ``(r_idx[k], c)`` of occurrence ``q_idx[k]``."""
        pos = self._pair_index[r_idx[None, :], np.arange(self.p)[:, None]]
        keep = (pos >= 0) & (vals != 0)
        return pos[keep] + offset, np.broadcast_to(q_idx[None, :], vals.shape)[keep], vals[keep]

    # -- implied --------------------------------------------------------------------------
    def implied(self, theta: np.ndarray, g: int) -> OrdinalImplied:
        lay = self.layouts[g]
        a, s, m = self.ram.matrices(theta[self.ram_index], g)
        n = a.shape[0]
        p = self.p
        b = np.linalg.inv(np.eye(n) - a)
        gmat = b[:p]
        ordi = np.flatnonzero(self.ord_mask)
        if self.parameterization == "delta":
            delta = np.where(lay.delta_free >= 0, theta[np.maximum(lay.delta_free, 0)], lay.delta_fixed)
            s = s.copy()
            s[ordi, ordi] = 0.0
            diag0 = np.einsum("ij,jk,ik->i", gmat[ordi], s, gmat[ordi])
            s[ordi, ordi] = 1.0 / delta[ordi] ** 2 - diag0
        h = gmat @ s @ b.T
        sigma_star = (h[:, :p] + h[:, :p].T) / 2
        mu_all = b @ m
        sigma_all = b @ s @ b.T
        imp = Implied(sigma_star, mu_all[:p], b, gmat, h, mu_all, (sigma_all + sigma_all.T) / 2)
        if self.parameterization == "theta":
            delta = np.ones(p)
            delta[ordi] = 1.0 / np.sqrt(np.diag(sigma_star)[ordi])
        tau = np.where(lay.th_free >= 0, theta[np.maximum(lay.th_free, 0)], np.nan_to_num(lay.th_fixed))
        ord_entry = self.ord_mask[lay.th_var]
        mu = imp.mu[lay.th_var]
        th = np.where(ord_entry, (tau - mu) * delta[lay.th_var], -mu)
        sigma = sigma_star * np.outer(delta, delta)
        wls = np.concatenate([th, np.diag(sigma)[lay.num], sigma[lay.rows, lay.cols]])
        return OrdinalImplied(imp, s, delta, np.where(ord_entry, tau, 0.0), sigma, th, wls)

    # -- Jacobian -------------------------------------------------------------------------
    def jacobian(self, theta: np.ndarray, g: int, imp: OrdinalImplied | None = None) -> sparse.csr_matrix:
        """``d WLS.est / d theta`` of group ``g`` (nstat x npar, sparse)."""
        imp = self.implied(theta, g) if imp is None else imp
        lay = self.layouts[g]
        ram_imp = imp.ram
        U, V, M = self.ram.rank2_factors(g, imp=ram_imp)
        inc = self.ram._incidence[g]
        p = self.p
        q = U.shape[1]
        delta = imp.delta
        ord_entry = self.ord_mask[lay.th_var]
        nth, nnum = len(lay.th_var), len(lay.num)
        off = nth + nnum
        # occurrence-level derivatives (occurrences as columns), summed onto parameters below
        d_mu = M[lay.th_var]
        d_th = -np.where(ord_entry, delta[lay.th_var], 1.0)[:, None] * d_mu
        d_var = 2.0 * U[lay.num] * V[lay.num]
        # correlations: d Sigma_rc = delta_r delta_c (U_r V_c + V_r U_c), gathered from the nonzeros of U
        # (the term V_r U_c of pair (r, c) is U_c V_r, met at the nonzero U_c): no dense (pairs x q) array
        r_idx, q_idx = np.nonzero(U)
        vals = (U[r_idx, q_idx] * delta[r_idx])[None, :] * (V[:, q_idx] * delta[:, None])
        trip = [self._pair_triplets(r_idx, q_idx, vals, off)]
        if self.parameterization == "theta":
            ordi = np.flatnonzero(self.ord_mask)
            s_diag = np.diag(ram_imp.sigma)
            d_delta = np.zeros((p, q))
            d_delta[ordi] = -0.5 * s_diag[ordi, None] ** -1.5 * (2.0 * U[ordi] * V[ordi])
            # (d delta_r delta_c + delta_r d delta_c) Sigma*_rc, from the nonzeros of d delta
            r2, q2 = np.nonzero(d_delta)
            vals2 = d_delta[r2, q2][None, :] * (delta[:, None] * ram_imp.sigma[:, r2])
            trip.append(self._pair_triplets(r2, q2, vals2, off))
            d_th = d_th + np.where(ord_entry, imp.tau - ram_imp.mu[lay.th_var], 0.0)[:, None] * d_delta[lay.th_var]
        top = sparse.csr_matrix(np.vstack([d_th, d_var]))
        tr_r = np.concatenate([t[0] for t in trip])
        tr_c = np.concatenate([t[1] for t in trip])
        tr_v = np.concatenate([t[2] for t in trip])
        nstat = off + len(lay.rows)
        occ = sparse.coo_matrix((tr_v, (tr_r, tr_c)), shape=(nstat, q)).tocsr()
        occ = occ + sparse.vstack([top, sparse.csr_matrix((len(lay.rows), q))]).tocsr()
        ram_jac = sparse.csr_matrix(occ @ (inc if sparse.issparse(inc) else sparse.csr_matrix(inc)))
        # to the full parameter vector
        ram_jac = sparse.csr_matrix((ram_jac.data, self.ram_index[ram_jac.indices], ram_jac.indptr),
                                    shape=(nstat, self.npar))
        rows, cols = lay.rows, lay.cols
        extra_r, extra_c, extra_v = [], [], []
        k_free = np.flatnonzero(lay.th_free >= 0)  # d th / d tau = delta
        extra_r += list(k_free)
        extra_c += list(lay.th_free[k_free])
        extra_v += list(delta[lay.th_var[k_free]])
        if self.parameterization == "delta":
            for j in np.flatnonzero(lay.delta_free >= 0):
                c = lay.delta_free[j]
                kk = np.flatnonzero(lay.th_var == j)
                extra_r += list(kk)
                extra_c += [c] * len(kk)
                extra_v += list(imp.tau[kk] - ram_imp.mu[j])
                pr = np.flatnonzero((rows == j) | (cols == j))
                other = np.where(rows[pr] == j, cols[pr], rows[pr])
                extra_r += list(nth + nnum + pr)
                extra_c += [c] * len(pr)
                extra_v += list(delta[other] * ram_imp.sigma[j, other])
        extra = sparse.csr_matrix((extra_v, (extra_r, extra_c)), shape=(nstat, self.npar))
        out = (ram_jac + extra).tocsr()
        out.eliminate_zeros()
        return out

    @cached_property
    def ordinal_residual_rows(self) -> np.ndarray:
        """Rows of the table holding residual variances of ordinal items (computed in the delta
        parameterisation)."""
        t = self.partable.table
        return np.flatnonzero(((t["op"] == "~~") & (t["lhs"] == t["rhs"]) & t["lhs"].isin(self.ordered)).to_numpy())

    def row_values(self, theta: np.ndarray) -> np.ndarray:
        """Value of every parameter-table row at ``theta``: free, fixed, or computed (the residual
        variances of ordinal items in the delta parameterisation, the scale factors in the theta one)."""
        t = self.partable.table
        out = np.full(len(t), np.nan)
        free = t["free"].to_numpy()
        out[free > 0] = theta[free[free > 0] - 1]
        fixed = free == 0
        out[fixed] = t["ustart"].to_numpy()[fixed]
        lhs, op, rhs, grp = (t[c].to_numpy() for c in ("lhs", "op", "rhs", "group"))
        index = {x: i for i, x in enumerate(self.ov)}
        lv_index = {x: len(self.ov) + i for i, x in enumerate(self.partable.variables.lv)}
        all_index = {**index, **lv_index}
        for g in range(self.partable.ngroups):
            imp = self.implied(theta, g)
            a, s, m = self.ram.matrices(theta[self.ram_index], g)
            in_g = grp == g + 1
            for i in np.flatnonzero(in_g & fixed):
                if op[i] == "~~" and lhs[i] == rhs[i] and lhs[i] in self.ordered:
                    j = index[lhs[i]]
                    out[i] = imp.s_matrix[j, j]
                elif op[i] == "~*~":
                    out[i] = imp.delta[index[lhs[i]]]
                elif op[i] in ("~~", "=~", "~", "~1") and np.isnan(out[i]):
                    if op[i] == "~~":
                        out[i] = s[all_index[lhs[i]], all_index[rhs[i]]]
                    elif op[i] == "~1":
                        out[i] = m[all_index[lhs[i]]]
        return out

    def sigma_all(self, theta: np.ndarray, g: int) -> np.ndarray:
        """Implied covariance matrix of the latent responses and the latent variables (RAM order)."""
        return self.implied(theta, g).ram.sigma_all


def table_index(partable: ParTable) -> pd.DataFrame:  # pragma: no cover - convenience for debugging
    return partable.table[["lhs", "op", "rhs", "group", "free"]]

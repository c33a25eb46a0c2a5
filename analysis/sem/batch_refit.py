"""Many refits of one model to reweighted copies of its rows, at once (the bootstrap's fast path).

A bootstrap resample of a fitted model's data is the same rows with integer
weights (how often each row was drawn); its FIML discrepancy is
``f_b = sum_i w_bi (-2 log L_i) / N_b``. :func:`refit_weighted` minimises it for a
batch of weightings together: every evaluation is one set of numpy calls for the
whole batch, so a resample costs its arithmetic, not the interpreter overhead of
~100 small numpy calls per evaluation that a refit of a 30-item model pays
(issue 13: 2,000 refits of the pipeline's 29-variable mediation model took 26 ms
each; batched, about 2-3 ms).

The rows enter an evaluation only through their missing cells. With ``f_i`` a
row with 0 in its holes, ``o_i`` its observed mask and ``r_i = f_i - o_i * mu``,
``sum_i w_i r_i r_i'`` follows from ``sum w f f'``, ``sum w f o'`` and ``sum w o o'``,
computed once per batch (one matrix product); a row missing the cells ``m`` adds
``d_i = E(x_m | x_o) - mu_m = -P_mm^-1 (P r_i)_m`` (``P = Sigma^-1``) through sparse
products over the missing cells, and the patterns' ``P_mm`` are inverted in closed
form (1 or 2 missing values) or by a Cholesky factorisation written out over all
the batch's patterns at once (3-5). An evaluation costs ``draws x missing cells
x p`` plus ``draws x p^3``, not ``draws x rows x p^2`` (measured on the 29-variable
model, 518 rows, 365 of them incomplete: 3.7 ms for 32 draws against 7.7 ms
row by row).

The optimiser is BFGS on the inverse Hessian, started at the full-sample
estimates with the inverse of the full sample's exact Hessian there, with unit
steps. No Hessian is computed per resample: for these models the observed Hessian
of a resample differs from the full sample's by factors 0.5-2 in some
directions (and at the start point by more), so Newton steps from the start
overshoot and Fisher scoring converges slowly, while the secant updates learn
the difference from the gradients (12-15 gradients to 1e-7 in the parameters).

Safeguards: a draw whose objective rises by more than rounding, becomes
infinite (implied covariance matrix not positive definite) or has not converged
after :data:`MAX_ITER` steps is returned as not converged; the caller refits it
the standard way (:func:`analysis.sem.fit.refit`). Convergence: the largest
BFGS step below ``tol`` (:data:`TOL`); the step is then taken. The steps shrink
by a factor of about 3.5 per iteration on the pipeline's models, so the error
left is below half the last step: measured against refits to 1e-13, at most
5e-8 (29 variables) and 9e-8 (10 variables) with ``tol`` 1e-7, where the standard
refit path (:func:`analysis.sem.fit.refit`, Newton decrement 1e-8) left 1e-8
and 2e-5. Each further decade of ``tol`` costs about two iterations of ~15.

Scope: FIML (and complete data with a mean structure) without fixed.x covariates
(their moments would change with every resample); :func:`supported` says whether
a fit qualifies. Each draw's result depends on its own weights only, except for
floating-point summation order within a batch; callers that need results
independent of scheduling keep the batches fixed (the bootstrap batches draws by
index).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from analysis.sem.estimation import Estimation
from analysis.sem.fiml import LOG2PI, row_groups

#: BFGS steps before a draw is handed back as not converged
MAX_ITER = 60
#: convergence: the largest BFGS step (in the parameters' units) below this
TOL = 1e-7
#: largest table of the rows' cross-products (entries, rows x 3 p^2) kept for a batch's weighted sums
PRODUCTS_SIZE = 2**22
#: missing values per row up to which the patterns' conditional covariances are inverted by
#: :func:`_spd_inverse` (above: LAPACK)
UNROLLED_K = 5


def supported(est: Estimation) -> bool:
    """Whether :func:`refit_weighted` handles this fit: no fixed.x covariates (their moments would
    change with every resample)."""
    return not est.partable.table["exo"].to_numpy().any()


class _Group:
    """What the evaluations need of one group, built once: every row with its holes filled with 0 and
    its observed-values mask; the incomplete rows grouped by their number of missing values and,
    within that, by missing-data pattern; the sparse maps of their missing cells; the model's indices."""

    def __init__(self, est: Estimation, g: int):
        x = est.groups[g].data
        self.n, self.p = x.shape
        p = self.p
        miss = np.isnan(x)
        self.filled = np.where(miss, 0.0, x)
        self.observed = (~miss).astype(float)
        self.nobs_log2pi = self.observed.sum(axis=1) * LOG2PI
        # each row's f f', f o', o o' side by side (n x 3 p^2): a batch's weighted sums are then one
        # matrix product (when that table is not too large)
        self.products = None
        if 3 * self.n * p * p <= PRODUCTS_SIZE:
            self.products = np.concatenate([(self.filled[:, :, None] * x[:, None, :]).reshape(self.n, -1)
                                            for x in (self.filled, self.observed)]
                                           + [(self.observed[:, :, None] * self.observed[:, None, :])
                                              .reshape(self.n, -1)], axis=1)
        incomplete = np.flatnonzero(miss.any(axis=1))
        rg = row_groups(x[incomplete])
        self.blocks = []
        cell_rows, cell_vars, pair_cols = [], [], []
        offset = 0
        for k, rows, cols in rg.by_k:
            patterns, which = np.unique(cols, axis=0, return_inverse=True)
            rows = incomplete[rows]
            self.blocks.append(_Block(k, rows, cols, which.ravel(), len(patterns),
                                      (patterns[:, :, None] * p + patterns[:, None, :]).ravel(), offset))
            offset += len(rows) * k
            cell_rows.append(np.repeat(rows, k))
            cell_vars.append(cols.ravel())
        self.ncells = offset
        # the missing cells c = (row i, variable m), block by block: (P r_i)_m = sum_j P_mj f_ij - P_mj o_ij mu_j
        # is a sparse product with vec(P) and vec(P * mu'), and sum_c w d_c r_i (the r d' terms, by m) one
        # with the cells' weighted d
        rows_c = np.concatenate(cell_rows) if cell_rows else np.zeros(0, dtype=int)
        vars_c = np.concatenate(cell_vars) if cell_vars else np.zeros(0, dtype=int)
        c_idx, j_idx = np.nonzero(self.observed[rows_c])
        at = vars_c[c_idx] * p + j_idx  # P_mj in vec(P)
        f_c = self.filled[rows_c][c_idx, j_idx]
        self.av_map = sparse.csr_matrix((np.concatenate([f_c, -np.ones(len(c_idx))]),
                                         (np.concatenate([c_idx, c_idx]), np.concatenate([at, at + p * p]))),
                                        shape=(self.ncells, 2 * p * p))
        self.rd_map = sparse.csr_matrix((np.concatenate([f_c, np.ones(len(c_idx))]),
                                         (np.concatenate([at, at + p * p]), np.concatenate([c_idx, c_idx]))),
                                        shape=(2 * p * p, self.ncells))
        self.cell_scatter = sparse.csr_matrix((np.ones(self.ncells), (vars_c, np.arange(self.ncells))),
                                              shape=(p, self.ncells))
        # where the patterns' conditional covariances (K) and the rows' d d' terms go in vec(p x p): one
        # sparse product scatters both
        pair_cols = [blk.gather for blk in self.blocks] + [
            (blk.cols[:, :, None] * p + blk.cols[:, None, :]).ravel() for blk in self.blocks]
        pairs = np.concatenate(pair_cols) if pair_cols else np.zeros(0, dtype=int)
        self.pair_scatter = sparse.csr_matrix((np.ones(len(pairs)), (pairs, np.arange(len(pairs)))),
                                              shape=(p * p, len(pairs)))
        gm = est.model.groups[g]
        self.gm = gm
        self.nv = len(gm.names)
        self.incidence = est.model.incidence(g)
        # the variables with an arrow out (a column of A that can be non-zero): only that block of I - A
        # needs inverting (the others' columns of A are 0, so B = (I - A)^-1 = [[M, 0], [A_NS M, I]] with
        # M = (I - A_SS)^-1, S the predictors and N the rest)
        ac = gm.by_kind[2]
        used = np.zeros(self.nv, dtype=bool)
        used[ac] = True
        used |= (gm.a_fixed != 0).any(axis=0)
        self.pred = np.flatnonzero(used)
        self.rest = np.flatnonzero(~used)


class _Block:
    """The rows missing ``k`` values: ``rows`` (into the group's rows), their missing columns ``cols``
    (``n_k x k``), the pattern of each (``which``, ``n_u`` patterns), where the patterns' ``P_mm`` are
    in ``vec(P)`` (``gather``) and where the block's cells start among the group's missing cells."""

    def __init__(self, k, rows, cols, which, n_u, gather, offset):
        self.k, self.rows, self.cols, self.which, self.n_u = k, rows, cols, which, n_u
        self.gather, self.offset = gather, offset


class _Weights:
    """One group's row weights of a batch of refits and what follows from them alone (computed once
    per batch, not per evaluation): with ``f`` the rows filled with 0 in their holes and ``o`` their
    observed masks, ``T_ff = sum w f f'``, ``T_fo = sum w f o'``, ``T_oo = sum w o o'``, ``T_f = sum w f``,
    ``T_o = sum w o``; the log(2 pi) terms, the total weight, each block's row weights and the weight of
    each missing-data pattern."""

    def __init__(self, grp: _Group | None, w: np.ndarray | None, *, parts: tuple | None = None):
        if parts is not None:
            (self.t_ff, self.t_fo, self.t_oo, self.t_f, self.t_o, self.log2pi, self.total, self.wrow,
             self.wpat) = parts
            return
        b, p = len(w), grp.p
        if grp.products is not None:
            t = (w @ grp.products).reshape(b, 3, p, p)
            self.t_ff, self.t_fo, self.t_oo = t[:, 0], t[:, 1], t[:, 2]
        else:
            wf = w[:, :, None] * grp.filled[None]
            self.t_ff = wf.transpose(0, 2, 1) @ grp.filled
            self.t_fo = wf.transpose(0, 2, 1) @ grp.observed
            self.t_oo = (w[:, :, None] * grp.observed[None]).transpose(0, 2, 1) @ grp.observed
        self.t_f = w @ grp.filled
        self.t_o = w @ grp.observed
        self.log2pi = w @ grp.nobs_log2pi
        self.total = w.sum(axis=1)
        self.wrow = [w[:, blk.rows] for blk in grp.blocks]
        self.wpat = []
        for blk, wr in zip(grp.blocks, self.wrow):
            onehot = np.zeros((len(blk.rows), blk.n_u))
            onehot[np.arange(len(blk.rows)), blk.which] = 1.0
            self.wpat.append(wr @ onehot)

    def take(self, keep: np.ndarray) -> _Weights:
        """The weights of the refits ``keep`` (boolean or index array)."""
        return _Weights(None, None, parts=(self.t_ff[keep], self.t_fo[keep], self.t_oo[keep], self.t_f[keep],
                                            self.t_o[keep], self.log2pi[keep], self.total[keep],
                                            [x[keep] for x in self.wrow], [x[keep] for x in self.wpat]))


class _Evaluator:
    """``f_b`` and its gradient for a batch of parameter vectors and row weights."""

    def __init__(self, est: Estimation):
        self.npar = est.model.npar
        self.meanstructure = bool(est.objective.meanstructure)
        self.groups = [_Group(est, g) for g in range(len(est.groups))]

    def weights(self, weights: list[np.ndarray]) -> list[_Weights]:
        """Prepare ``weights[g]`` (``b x n_g``, one row per refit) for :meth:`evaluate`."""
        return [_Weights(grp, np.asarray(w, dtype=float)) for grp, w in zip(self.groups, weights)]

    def evaluate(self, theta: np.ndarray, weights: list[_Weights]) -> tuple[np.ndarray, np.ndarray]:
        """``(f, gradient)`` per row of ``theta`` (``b x npar``). ``f`` is ``inf`` (and the gradient
        NaN) where an implied or conditional covariance matrix is not positive definite."""
        b = theta.shape[0]
        total_n = sum(w.total for w in weights)
        f = np.zeros(b)
        grad = np.zeros((b, self.npar))
        for grp, w in zip(self.groups, weights):
            fg, gg = self._group(grp, theta, w)
            f += fg
            grad += gg
        bad = ~np.isfinite(f)
        f = np.where(bad, np.inf, f / total_n)
        grad /= total_n[:, None]
        grad[bad] = np.nan
        return f, grad

    def _group(self, grp: _Group, theta: np.ndarray, w: _Weights) -> tuple[np.ndarray, np.ndarray]:
        """One group's ``sum_i w_i (-2 log L_i)`` and its gradient. Every row's residual is
        ``r_i = f_i - o_i * mu`` (0 in the holes); a row missing cells ``m`` adds
        ``d_i = E(x_m | x_o) - mu_m = -P_mm^-1 (P r_i)_m`` there (``P = Sigma^-1``), so its
        ``e_i = r_i + d_i`` and ``r_i' Sigma_oo^-1 r_i = r_i' P r_i - (P r_i)_m' P_mm^-1 (P r_i)_m``.
        ``sum w r r'`` comes from the batch's weighted sums, so the rows enter only through their
        missing cells: each evaluation costs ``draws x cells x p``, not ``draws x rows x p^2``."""
        gm = grp.gm
        b, p, nv = theta.shape[0], grp.p, grp.nv
        ia, ar, ac, i_s, sr, sc, half, im, mr = gm.by_kind
        vals = theta[:, gm.occ_par]
        # implied moments (RamModel.implied for every draw): B = (I - A)^-1, G = F B, Sigma = G S G'
        a = np.broadcast_to(gm.a_fixed, (b, nv, nv)).copy()
        a[:, ar, ac] = vals[:, ia]
        s = np.broadcast_to(gm.s_fixed, (b, nv, nv)).copy()
        s[:, sr, sc] = vals[:, i_s]
        s[:, sc, sr] = vals[:, i_s]
        m = np.broadcast_to(gm.m_fixed, (b, nv)).copy()
        m[:, mr] = vals[:, im]
        pred, rest = grp.pred, grp.rest
        inv_ss, ok = _inverse(np.eye(len(pred)) - a[:, pred[:, None], pred])  # M = (I - A_SS)^-1
        bad = ~ok
        binv = np.zeros((b, nv, nv))
        binv[:, pred[:, None], pred] = inv_ss
        binv[:, rest[:, None], pred] = a[:, rest[:, None], pred] @ inv_ss
        binv[:, rest, rest] = 1.0
        gmat = np.ascontiguousarray(binv[:, :p, :])
        h = (gmat @ s) @ binv.transpose(0, 2, 1)  # G S B'
        sigma = h[:, :, :p]
        sigma = (sigma + sigma.transpose(0, 2, 1)) / 2
        mu_all = np.einsum("bij,bj->bi", binv, m)
        # means saturated without a mean structure (complete data): the weighted sample means
        mu = mu_all[:, :p] if self.meanstructure else w.t_f / w.total[:, None]
        low, ok = _cholesky(sigma)
        bad |= ~ok
        linv = np.linalg.inv(low)
        prec = linv.transpose(0, 2, 1) @ linv
        logdet = 2.0 * np.log(np.diagonal(low, axis1=1, axis2=2)).sum(axis=1)
        # sum w r r' = T_ff - A - A' + T_oo * mu mu' with A = T_fo * mu' (by column); sum w r = T_f - T_o * mu
        a = w.t_fo * mu[:, None, :]
        big_e = w.t_ff - a - a.transpose(0, 2, 1) + w.t_oo * (mu[:, :, None] * mu[:, None, :])
        esum = w.t_f - w.t_o * mu
        f = w.total * logdet + w.log2pi + np.einsum("bij,bij->b", prec, big_e)
        inner = w.total[:, None, None] * sigma
        if grp.blocks:  # the rows with holes, through their missing cells
            pm = np.concatenate([prec.reshape(b, p * p), (prec * mu[:, None, :]).reshape(b, p * p)], axis=1)
            av_all = np.asarray(grp.av_map @ pm.T).T  # b x cells: (P r_i)_m of each missing cell
            cells_wd, conds, pairs = [], [], []
            precf = prec.reshape(b, -1)
            for blk, wrow, wpat in zip(grp.blocks, w.wrow, w.wpat):
                n_k, k = blk.cols.shape
                av = av_all[:, blk.offset:blk.offset + n_k * k]
                cond, logdet_m, okk, sol = _conditional(blk, np.take(precf, blk.gather, axis=1), av, b)
                bad |= ~okk
                f += np.einsum("bu,bu->b", wpat, logdet_m)
                f -= np.einsum("bn,bn->b", wrow, (av * sol).reshape(b, n_k, k).sum(axis=2))
                d = -sol.reshape(b, n_k, k)
                wd = wrow[:, :, None] * d
                cells_wd.append(wd.reshape(b, -1))
                conds.append(np.repeat(wpat, k * k, axis=1) * cond)
                pairs.append((wd[:, :, :, None] * d[:, :, None, :]).reshape(b, -1))  # d d' by pair
            wd_all = np.concatenate(cells_wd, axis=1)  # b x cells
            # sum w r d' = RD with RD[b, j, m] = sum over the cells of m of w d (f_j - o_j mu_j)
            rd = np.asarray(grp.rd_map @ wd_all.T).T
            rd = (rd[:, :p * p] - rd[:, p * p:] * np.tile(mu, p)).reshape(b, p, p).transpose(0, 2, 1)
            big_e += rd + rd.transpose(0, 2, 1)
            esum += np.asarray(grp.cell_scatter @ wd_all.T).T
            # K (the patterns' weighted conditional covariances) and sum w d d', scattered together
            inner -= np.asarray(grp.pair_scatter @ np.concatenate(conds + pairs, axis=1).T).T.reshape(b, p, p)
        inner -= big_e
        omega = prec @ inner @ prec
        # d f / d occurrence: 2 u' Omega v (+ omega_mu' M) with u, v, M as in RamModel.rank2_factors
        og = omega @ gmat  # Omega G
        grad_occ = np.empty((b, len(gm.occ_kind)))
        grad_occ[:, ia] = np.einsum("bpk,bpk->bk", og[:, :, ar], h[:, :, ac]) * 2.0
        grad_occ[:, i_s] = np.einsum("bpk,bpk->bk", og[:, :, sr], gmat[:, :, sc]) * (2.0 * half)
        grad_occ[:, im] = 0.0
        if self.meanstructure:
            z = -2.0 * np.einsum("bpj,bp->bj", gmat, np.einsum("bij,bj->bi", prec, esum))  # G' omega_mu
            grad_occ[:, ia] += z[:, ar] * mu_all[:, ac]
            grad_occ[:, im] += z[:, mr]
        grad = grad_occ @ grp.incidence
        f[bad] = np.inf
        return f, grad


def _conditional(blk: _Block, pmm: np.ndarray, av: np.ndarray, b: int):
    """The conditional covariance ``C = P_mm^-1`` of each pattern (flattened, ``b x n_u k^2``), the
    patterns' ``log|P_mm|``, whether every ``P_mm`` is positive definite (per draw) and each row's
    ``C (P r)_m`` (``b x n_k k``); closed forms for ``k`` = 1 and 2."""
    k, which = blk.k, blk.which
    if k == 1:
        ok = (pmm > 0).all(axis=1)
        safe = np.where(pmm > 0, pmm, 1.0)
        cond = 1.0 / safe
        return cond, np.log(safe), ok, av * cond[:, which]
    if k == 2:
        p00, p01, p11 = pmm[:, 0::4], pmm[:, 1::4], pmm[:, 3::4]
        det = p00 * p11 - p01 * p01
        good = (p00 > 0) & (det > 0)
        det = np.where(good, det, 1.0)
        cond = np.empty_like(pmm)
        cond[:, 0::4], cond[:, 3::4] = p11 / det, p00 / det
        cond[:, 1::4] = cond[:, 2::4] = -p01 / det
        a0, a1 = av[:, 0::2], av[:, 1::2]
        c00, c01, c11 = cond[:, 0::4][:, which], cond[:, 1::4][:, which], cond[:, 3::4][:, which]
        sol = np.empty_like(av)
        sol[:, 0::2] = c00 * a0 + c01 * a1
        sol[:, 1::2] = c01 * a0 + c11 * a1
        return cond, np.log(det), good.all(axis=1), sol
    mats = pmm.reshape(b * blk.n_u, k, k)
    if k <= UNROLLED_K:
        cond, logdet_m, ok = _spd_inverse(mats)
        logdet_m = logdet_m.reshape(b, blk.n_u)
        ok = ok.reshape(b, blk.n_u).all(axis=1)
    else:
        low, ok = _cholesky(mats)
        logdet_m = 2.0 * np.log(np.diagonal(low, axis1=1, axis2=2)).sum(axis=1).reshape(b, blk.n_u)
        ok = ok.reshape(b, blk.n_u).all(axis=1)
        eye = np.eye(k)
        cond = np.linalg.inv(mats if ok.all() else np.where(np.repeat(ok, blk.n_u)[:, None, None], mats, eye))
    cond = cond.reshape(b, blk.n_u, k, k)
    sol = np.einsum("bnkl,bnl->bnk", cond[:, which], av.reshape(b, len(blk.rows), k)).reshape(b, -1)
    return cond.reshape(b, -1), logdet_m, ok, sol


def _spd_inverse(mats: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverses, log-determinants and positive definiteness of many small symmetric ``k x k`` matrices
    (``N x k x k``) by a Cholesky factorisation written out over the ``k^2`` entries, each step one
    numpy operation on all ``N`` matrices: LAPACK, called once per matrix, costs a few microseconds
    each (a 3 x 3 block of 32 draws x 51 patterns took 4.5 ms, this 0.1 ms). A matrix that is not
    positive definite gets ``ok`` False and finite nonsense."""
    k = mats.shape[-1]
    a = np.ascontiguousarray(mats.transpose(1, 2, 0))  # k x k x N: every entry a contiguous vector
    low = np.zeros_like(a)
    ok = np.ones(a.shape[2], dtype=bool)
    for j in range(k):
        d = a[j, j] - np.einsum("ln,ln->n", low[j, :j], low[j, :j])
        ok &= d > 0
        low[j, j] = np.sqrt(np.where(d > 0, d, 1.0))
        if j + 1 < k:
            low[j + 1:, j] = (a[j + 1:, j] - np.einsum("iln,ln->in", low[j + 1:, :j], low[j, :j])) / low[j, j]
    logdet = 2.0 * np.log(np.einsum("iin->in", low)).sum(axis=0)
    inv_low = np.zeros_like(a)  # L^-1, by forward substitution
    for i in range(k):
        inv_low[i, i] = 1.0 / low[i, i]
        for c in range(i):
            inv_low[i, c] = -np.einsum("ln,ln->n", low[i, c:i], inv_low[c:i, c]) / low[i, i]
    inv = np.einsum("lin,ljn->nij", inv_low, inv_low)  # L^-T L^-1
    return inv, logdet, ok


def _batched(op, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``op`` (``np.linalg.inv`` or ``np.linalg.cholesky``) of a stack of matrices in one call, and which
    matrices it succeeded on; when one fails, matrix by matrix with the identity where it fails."""
    try:
        return op(x), np.ones(x.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        out = np.empty_like(x)
        ok = np.ones(x.shape[0], dtype=bool)
        eye = np.eye(x.shape[-1])
        for j in range(x.shape[0]):
            try:
                out[j] = op(x[j])
            except np.linalg.LinAlgError:
                out[j], ok[j] = eye, False
        return out, ok


def _inverse(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched inverses and which matrices are invertible (identity where not)."""
    return _batched(np.linalg.inv, x)


def _cholesky(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched Cholesky factors and which matrices are positive definite (identity where not)."""
    return _batched(np.linalg.cholesky, x)


def start_hessian_inverse(est: Estimation) -> np.ndarray:
    """Inverse of the full sample's exact Hessian at its estimates (twice the information when
    that is not positive definite): the BFGS start of every resample."""
    obj, theta = est.objective, est.theta
    for mat in (lambda: obj.hessian(theta), lambda: 2.0 * obj.information(theta)):
        h = mat()
        try:
            low = np.linalg.cholesky((h + h.T) / 2)
        except np.linalg.LinAlgError:
            continue
        linv = np.linalg.inv(low)
        return linv.T @ linv
    return np.eye(len(theta))


def refit_weighted(est: Estimation, weights: list[np.ndarray], *, tol: float = TOL,
                   hessian_inverse: np.ndarray | None = None,
                   evaluator: _Evaluator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Minimise the discrepancy of ``est``'s model for each row of weights.

    ``weights[g]`` is ``b x n_g``: how often each row of group ``g`` (``est.groups[g].data``)
    counts in each of ``b`` refits. Returns ``(theta, converged)``: ``b x npar`` estimates and
    a boolean per refit (False: not converged, or no descent found - refit those with
    :func:`analysis.sem.fit.refit`). ``hessian_inverse`` / ``evaluator``: from
    :func:`start_hessian_inverse` / :func:`evaluator`, to build them once for many batches.

    BFGS in its two-loop form with every pair kept (the same iterates as the dense inverse
    update, at ``O(iterations x npar)`` per step instead of ``O(npar^2)``); a step that raises
    the objective (or leaves the positive definite region) is shortened fourfold and tried again.
    """
    ev = evaluator if evaluator is not None else _Evaluator(est)
    wts = ev.weights(weights)
    b, npar = len(wts[0].total), len(est.theta)
    hinv0 = start_hessian_inverse(est) if hessian_inverse is None else hessian_inverse
    theta_out = np.tile(est.theta, (b, 1))
    done = np.zeros(b, dtype=bool)
    theta = theta_out.copy()
    f, g = ev.evaluate(theta, wts)
    keep = np.isfinite(f)
    active = np.flatnonzero(keep)
    theta, f, g, wts = theta[keep], f[keep], g[keep], [w.take(keep) for w in wts]
    s_hist = np.zeros((len(active), MAX_ITER, npar))
    y_hist = np.zeros((len(active), MAX_ITER, npar))
    rho = np.zeros((len(active), MAX_ITER))
    scale = np.ones(len(active))
    for it in range(MAX_ITER):
        if not len(active):
            break
        direction = -_two_loop(g, s_hist[:, :it], y_hist[:, :it], rho[:, :it], hinv0)
        small = np.max(np.abs(direction), axis=1) < tol
        if small.any():  # converged: take the last step (its error is far below its length)
            theta_out[active[small]] = theta[small] + direction[small]
            done[active[small]] = True
            keep = ~small
            active, theta, f, g, direction, scale = (active[keep], theta[keep], f[keep], g[keep], direction[keep],
                                                      scale[keep])
            s_hist, y_hist, rho = s_hist[keep], y_hist[keep], rho[keep]
            wts = [w.take(keep) for w in wts]
            if not len(active):
                break
        step = scale[:, None] * direction
        new_theta = theta + step
        new_f, new_g = ev.evaluate(new_theta, wts)
        # accepted unless the objective rises beyond rounding (or becomes infinite)
        ok = np.isfinite(new_f) & (new_f <= f + 1e-12 * (1.0 + np.abs(f)))
        y = new_g - g
        sy = np.einsum("bi,bi->b", step, y)
        upd = ok & (sy > 1e-12 * np.linalg.norm(step, axis=1) * np.linalg.norm(np.where(ok[:, None], y, 0.0),
                                                                              axis=1))
        s_hist[upd, it] = step[upd]
        y_hist[upd, it] = y[upd]
        rho[upd, it] = 1.0 / sy[upd]
        theta[ok], f[ok], g[ok] = new_theta[ok], new_f[ok], new_g[ok]
        scale = np.where(ok, 1.0, scale / 4.0)
        lost = scale < 1e-6  # no descent along the quasi-Newton direction: handed back
        if lost.any():
            keep = ~lost
            active, theta, f, g, scale = active[keep], theta[keep], f[keep], g[keep], scale[keep]
            s_hist, y_hist, rho = s_hist[keep], y_hist[keep], rho[keep]
            wts = [w.take(keep) for w in wts]
    return theta_out, done


def _two_loop(g: np.ndarray, s: np.ndarray, y: np.ndarray, rho: np.ndarray, hinv0: np.ndarray) -> np.ndarray:
    """``H g`` for the BFGS inverse ``H`` built from ``hinv0`` and the pairs ``(s_j, y_j)`` (``rho_j =
    1 / s_j'y_j``; 0 skips a pair), for a batch: ``g`` is ``b x npar``, ``s`` and ``y`` ``b x k x npar``."""
    q = g.copy()
    k = s.shape[1]
    alpha = np.zeros((g.shape[0], k))
    for j in range(k - 1, -1, -1):
        alpha[:, j] = rho[:, j] * np.einsum("bi,bi->b", s[:, j], q)
        q -= alpha[:, j, None] * y[:, j]
    r = q @ hinv0
    for j in range(k):
        beta = rho[:, j] * np.einsum("bi,bi->b", y[:, j], r)
        r += (alpha[:, j] - beta)[:, None] * s[:, j]
    return r


def evaluator(est: Estimation) -> _Evaluator:
    """The evaluations' prepared data for :func:`refit_weighted` (build once, use for many batches)."""
    return _Evaluator(est)

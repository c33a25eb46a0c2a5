"""Many refits of one model to reweighted copies of its rows, at once (the bootstrap's fast path).

A bootstrap resample of a fitted model's data is the same rows with integer
weights (how often each row was drawn); its FIML discrepancy is
``f_b = sum_i w_bi (-2 log L_i) / N_b``. :func:`refit_weighted` minimises it for a
batch of weightings together: every evaluation is one set of numpy calls over
``draws x rows`` (the rows grouped by their number of missing values once, as in
:mod:`analysis.sem.fiml`), so a resample costs its arithmetic, not the
interpreter overhead of ~100 small numpy calls per evaluation that a refit of a
30-item model pays (issue 13: 2,000 refits of the pipeline's 29-variable
mediation model took 26 ms each).

The optimiser is BFGS on the inverse Hessian, started at the full-sample
estimates with the inverse of the full sample's exact Hessian there, with unit
steps. No Hessian is computed per resample: for these models the observed Hessian
of a resample differs from the full sample's by factors 0.5-2 in some
directions (and at the start point by more), so Newton steps from the start
overshoot and Fisher scoring converges slowly, while the secant updates learn
the difference from the gradients (10-15 gradients to 1e-9 in the parameters).

Safeguards: a draw whose objective rises by more than rounding, becomes
infinite (implied covariance matrix not positive definite) or has not converged
after :data:`MAX_ITER` steps is returned as not converged; the caller refits it
the standard way (:func:`analysis.sem.fit.refit`). Convergence: the largest
BFGS step below ``tol``; the step is then taken (its error is far below its
length at superlinear convergence).

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
TOL = 1e-8


def supported(est: Estimation) -> bool:
    """Whether :func:`refit_weighted` handles this fit: no fixed.x covariates (their moments would
    change with every resample)."""
    return not est.partable.table["exo"].to_numpy().any()


class _Group:
    """What the evaluations need of one group, built once: complete rows, incomplete rows grouped by
    their number of missing values and, within that, by missing-data pattern; the model's indices."""

    def __init__(self, est: Estimation, g: int):
        x = est.groups[g].data
        nmiss = np.isnan(x).sum(axis=1)
        self.n, self.p = x.shape
        p = self.p
        self.complete = np.flatnonzero(nmiss == 0)
        self.incomplete = np.flatnonzero(nmiss > 0)
        self.xc = x[self.complete]
        rg = row_groups(x[self.incomplete])
        self.filled = rg.filled
        self.observed = rg.observed.astype(float)
        self.nobs_log2pi = rg.observed.sum(axis=1) * LOG2PI
        self.blocks = []
        scatter_cols = []
        offset = 0
        for k, rows, cols in rg.by_k:
            patterns, which = np.unique(cols, axis=0, return_inverse=True)
            which = which.ravel()
            gather = (patterns[:, :, None] * p + patterns[:, None, :]).ravel()  # P_mm of each pattern
            flat = (rows[:, None] * p + cols).ravel()  # the rows' missing cells in the n_i x p data
            self.blocks.append(_Block(k, rows, which, len(patterns), gather, flat, offset))
            scatter_cols.append(gather)
            offset += len(gather)
        # K = sum over patterns of weight x C~: the conditional covariances of every block scattered
        # into vec(p x p) by one sparse product
        cols_all = np.concatenate(scatter_cols) if scatter_cols else np.zeros(0, dtype=int)
        self.scatter = sparse.csr_matrix((np.ones(len(cols_all)), (cols_all, np.arange(len(cols_all)))),
                                         shape=(p * p, len(cols_all)))
        gm = est.model.groups[g]
        self.gm = gm
        self.nv = len(gm.names)
        self.incidence = est.model.incidence(g)
        self._buffers: tuple[np.ndarray, ...] = ()

    def buffers(self, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Three ``b x n_i x p`` work arrays (incomplete rows), allocated once for the largest ``b``."""
        if not self._buffers or self._buffers[0].shape[0] < b:
            self._buffers = tuple(np.empty((b, len(self.filled), self.p)) for _ in range(3))
        return tuple(x[:b] for x in self._buffers)


class _Block:
    """Incomplete rows missing ``k`` values: ``rows`` (into the incomplete rows), the pattern of each
    (``which``, ``n_u`` patterns), where the patterns' ``P_mm`` are in ``vec(P)`` (``gather``), where
    the rows' missing cells are in the flattened data (``flat``), and where the patterns' conditional
    covariances start in the scatter of ``K`` (``offset``)."""

    def __init__(self, k, rows, which, n_u, gather, flat, offset):
        self.k, self.rows, self.which, self.n_u = k, rows, which, n_u
        self.gather, self.flat, self.offset = gather, flat, offset


class _Weights:
    """One group's row weights of a batch of refits and what follows from them alone: the complete
    rows' weighted sums (count, sum, cross-products), the incomplete rows' weights and the
    weight of each missing-data pattern."""

    def __init__(self, grp: _Group | None, w: np.ndarray | None, *, parts: tuple | None = None):
        if parts is not None:
            self.t0, self.t1, self.t2, self.wi, self.wpat, self.total = parts
            return
        wc = w[:, grp.complete]
        self.t0 = wc.sum(axis=1)
        self.t1 = wc @ grp.xc
        self.t2 = np.einsum("bn,ni,nj->bij", wc, grp.xc, grp.xc, optimize=True)
        self.wi = w[:, grp.incomplete]
        self.wpat = []
        for blk in grp.blocks:
            onehot = np.zeros((len(blk.rows), blk.n_u))
            onehot[np.arange(len(blk.rows)), blk.which] = 1.0
            self.wpat.append(self.wi[:, blk.rows] @ onehot)
        self.total = w.sum(axis=1)

    def take(self, keep: np.ndarray) -> _Weights:
        """The weights of the refits ``keep`` (boolean or index array)."""
        return _Weights(None, None, parts=(self.t0[keep], self.t1[keep], self.t2[keep], self.wi[keep],
                                            [wp[keep] for wp in self.wpat], self.total[keep]))


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
        gm = grp.gm
        b, p, nv = theta.shape[0], grp.p, grp.nv
        ia, ar, ac, i_s, sr, sc, half, im, mr = gm.by_kind
        vals = theta[:, gm.occ_par]
        # implied moments (RamModel.implied for every draw): B = (I - A)^-1, G = F B, Sigma = G S G'
        ima = np.broadcast_to(np.eye(nv) - gm.a_fixed, (b, nv, nv)).copy()
        ima[:, ar, ac] = -vals[:, ia]
        s = np.broadcast_to(gm.s_fixed, (b, nv, nv)).copy()
        s[:, sr, sc] = vals[:, i_s]
        s[:, sc, sr] = vals[:, i_s]
        m = np.broadcast_to(gm.m_fixed, (b, nv)).copy()
        m[:, mr] = vals[:, im]
        binv, bad = _inverse(ima)
        bad = ~bad
        gmat = np.ascontiguousarray(binv[:, :p, :])
        h = (gmat @ s) @ binv.transpose(0, 2, 1)  # G S B'
        sigma = h[:, :, :p]
        sigma = (sigma + sigma.transpose(0, 2, 1)) / 2
        mu_all = np.einsum("bij,bj->bi", binv, m)
        # means saturated without a mean structure (complete data): the weighted sample means
        mu = mu_all[:, :p] if self.meanstructure else w.t1 / w.t0[:, None]
        low, ok = _cholesky(sigma)
        bad |= ~ok
        linv = np.linalg.inv(low)
        prec = linv.transpose(0, 2, 1) @ linv
        logdet = 2.0 * np.log(np.diagonal(low, axis1=1, axis2=2)).sum(axis=1)
        # complete rows, from their weighted sums: E_c = sum w (x - mu)(x - mu)'
        tm = w.t1[:, :, None] * mu[:, None, :]
        big_e = w.t2 - tm - tm.transpose(0, 2, 1) + w.t0[:, None, None] * (mu[:, :, None] * mu[:, None, :])
        esum = w.t1 - w.t0[:, None] * mu
        f = w.total * logdet + w.t0 * (p * LOG2PI) + np.einsum("bij,bij->b", prec, big_e)
        inner = w.total[:, None, None] * sigma
        if len(grp.filled):  # incomplete rows, row by row (see analysis.sem.fiml.row_terms)
            # the three b x n_i x p arrays live in buffers kept between evaluations: allocating and
            # freeing megabytes at every evaluation cost more (page faults) than the arithmetic
            r, rp, ew = grp.buffers(b)
            np.multiply(grp.observed, mu[:, None, :], out=r)
            np.subtract(grp.filled, r, out=r)  # residuals, 0 in the holes
            np.matmul(r, prec, out=rp)
            quad = np.einsum("bij,bij->bi", rp, r)
            e = r.reshape(b, -1)
            rpf = rp.reshape(b, -1)
            precf = prec.reshape(b, -1)
            conds = []
            for blk, wpat in zip(grp.blocks, w.wpat):
                pmm = np.take(precf, blk.gather, axis=1)  # b x (n_u k k)
                av = np.take(rpf, blk.flat, axis=1)  # b x (n_k k): (P r)_m of each row
                cond, logdet_m, okk, sol = _conditional(blk, pmm, av, b)
                bad |= ~okk
                f += np.einsum("bu,bu->b", wpat, logdet_m)
                quad[:, blk.rows] -= (av * sol).reshape(b, len(blk.rows), blk.k).sum(axis=2)
                e[:, blk.flat] = -sol
                conds.append(np.repeat(wpat, blk.k * blk.k, axis=1) * cond)
            inner -= np.asarray(grp.scatter @ np.concatenate(conds, axis=1).T).T.reshape(b, p, p)
            f += np.einsum("bn,bn->b", w.wi, quad + grp.nobs_log2pi)
            e = e.reshape(b, -1, p)
            np.multiply(e, w.wi[:, :, None], out=ew)
            esum = esum + ew.sum(axis=1)
            big_e = big_e + ew.transpose(0, 2, 1) @ e
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
    low, ok = _cholesky(mats)
    logdet_m = 2.0 * np.log(np.diagonal(low, axis1=1, axis2=2)).sum(axis=1).reshape(b, blk.n_u)
    ok = ok.reshape(b, blk.n_u).all(axis=1)
    eye = np.eye(k)
    cond = np.linalg.inv(mats if ok.all() else np.where(np.repeat(ok, blk.n_u)[:, None, None], mats, eye))
    cond = cond.reshape(b, blk.n_u, k, k)
    sol = np.einsum("bnkl,bnl->bnk", cond[:, which], av.reshape(b, len(blk.rows), k)).reshape(b, -1)
    return cond.reshape(b, -1), logdet_m, ok, sol


def _inverse(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched inverses and which matrices are invertible (identity where not)."""
    try:
        return np.linalg.inv(x), np.ones(x.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        out = np.empty_like(x)
        ok = np.ones(x.shape[0], dtype=bool)
        eye = np.eye(x.shape[-1])
        for j in range(x.shape[0]):
            try:
                out[j] = np.linalg.inv(x[j])
            except np.linalg.LinAlgError:
                out[j], ok[j] = eye, False
        return out, ok


def _cholesky(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched Cholesky factors and which matrices are positive definite (identity where not)."""
    try:
        return np.linalg.cholesky(x), np.ones(x.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        out = np.empty_like(x)
        ok = np.ones(x.shape[0], dtype=bool)
        eye = np.eye(x.shape[-1])
        for j in range(x.shape[0]):
            try:
                out[j] = np.linalg.cholesky(x[j])
            except np.linalg.LinAlgError:
                out[j], ok[j] = eye, False
        return out, ok


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

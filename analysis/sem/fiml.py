"""Case-wise (full-information) computations on incomplete data, vectorised over rows.

What goes in: one group's data grouped by how many values each row misses
(:class:`RowGroups`, built once) and a mean vector and covariance matrix.
What comes out (:func:`row_terms`): every per-row quantity that FIML, the EM
algorithm of the saturated model and the robust statistics need.

How. For a row missing the columns ``m`` (``k = len(m)``), with
``P = Sigma^-1`` and ``r`` the row's residuals from ``mu`` with the missing
cells set to 0, the conditional distribution of the missing values given the
observed ones is read off the full-pattern inverse (Schur complements):

* conditional covariance ``C = (P_mm)^-1`` (k x k);
* conditional mean residual ``-C (P r)_m``; ``e`` below is the *filled*
  residual: observed residuals, conditional mean residuals in the holes;
* ``log|Sigma_oo| = log|Sigma| + log|P_mm|`` and
  ``r_o' Sigma_oo^-1 r_o = r' P r - (P r)_m' C (P r)_m``;
* the zero-padded inverse of the observed block is ``W = P - P C~ P``
  (``C~``: ``C`` zero-padded to p x p) and ``W r = P e``.

So a row costs one k x k inverse, done for all rows with the same ``k`` in one
batched numpy call, instead of an inverse of the observed block per
missing-data pattern in a Python loop. With many items nearly every
respondent has a pattern of their own, and that loop made FIML cost grow with
items x patterns (issue 13: 587 s for a 64-item CFA at N = 500).

The saturated model's Hessian (:func:`saturated_hessian`, the h1 information of
the robust statistics and, by the chain rule, the exact FIML Hessian of any
model) is a q x q matrix, q = p + p(p+1)/2. Summed over rows it is formed in
the basis ``dSigma = Sigma dS~ Sigma, dmu = Sigma dm~`` (:func:`to_original`
maps it back), where the per-row terms become ``Sigma - C~`` and ``e e'``: dense
Kronecker-type terms of p x p sums plus sparse terms supported on each row's
missing cells - instead of a q x q update per pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from analysis.sem.vech import vech_indices

LOG2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class RowGroups:
    """One group's data grouped by the number of values each row misses.

    ``filled`` is the data with missing cells set to 0; ``by_k`` holds, for
    each ``k >= 1`` present, ``(k, rows, missing)``: the indices of the rows
    missing exactly ``k`` values and their missing columns (``len(rows) x k``).
    """

    filled: np.ndarray
    observed: np.ndarray  # True where a value is observed
    by_k: tuple[tuple[int, np.ndarray, np.ndarray], ...]

    @property
    def n(self) -> int:
        return self.filled.shape[0]

    @property
    def p(self) -> int:
        return self.filled.shape[1]

    @property
    def complete(self) -> bool:
        """No row misses anything."""
        return not self.by_k


def row_groups(x: np.ndarray) -> RowGroups:
    """Group the rows of ``x`` (NaN = missing) by their number of missing values."""
    miss = np.isnan(x)
    k = miss.sum(axis=1)
    by_k = []
    for kk in np.unique(k[k > 0]):
        rows = np.flatnonzero(k == kk)
        cols = np.nonzero(miss[rows])[1].reshape(len(rows), int(kk))
        by_k.append((int(kk), rows, cols))
    return RowGroups(np.where(miss, 0.0, x), ~miss, tuple(by_k))


def chol_inverse(sigma: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Inverse and log-determinant of a covariance matrix, or None when not positive definite.

    Written with numpy rather than scipy's ``cho_factor`` / ``cho_solve``: those
    return Fortran-ordered inverses, and the C-ordered products downstream then
    ran 2x slower.
    """
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None
    logdet = 2.0 * np.log(np.diag(chol)).sum()
    inv_chol = np.linalg.inv(chol)
    return inv_chol.T @ inv_chol, float(logdet)


def small_cholesky(m: np.ndarray) -> np.ndarray | None:
    """Lower Cholesky factors of a stack of positive-definite ``k x k`` matrices (``n x k x k``); None
    when one is not positive definite. Why by hand for ``k = 1``: the rows missing one value are
    usually the largest group, and numpy's batched LAPACK call costs far more than the square root,
    which is the number LAPACK's factor of a 1 x 1 matrix is."""
    if m.shape[-1] == 1:
        return np.sqrt(m) if np.all(m > 0) else None
    try:
        chol = np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        return None
    return chol if np.all(np.isfinite(chol)) else None  # LAPACK passes NaN through


def small_inverse(m: np.ndarray) -> np.ndarray:
    """Inverses of a stack of ``k x k`` matrices; for ``k = 1`` the reciprocal (what LAPACK's solve gives,
    without the batched call's overhead - see :func:`small_cholesky`)."""
    return 1.0 / m if m.shape[-1] == 1 else np.linalg.inv(m)


@dataclass(frozen=True)
class Block:
    """The rows missing ``k`` values: their indices, missing columns and conditional covariances."""

    rows: np.ndarray
    cols: np.ndarray  # n_k x k
    cond_cov: np.ndarray  # n_k x k x k: C = (P_mm)^-1


@dataclass(frozen=True)
class RowTerms:
    """Per-row FIML quantities of one group at one ``(mu, Sigma)`` (see the module docstring)."""

    precision: np.ndarray  # P = Sigma^-1
    sigma: np.ndarray
    resid: np.ndarray  # e: n x p, filled residuals
    minus2ll: np.ndarray  # -2 log-likelihood of each row (with the 2 pi constant)
    blocks: tuple[Block, ...]

    @property
    def n(self) -> int:
        return self.resid.shape[0]

    def cond_sum(self) -> np.ndarray:
        """``sum_i C~_i``: the zero-padded conditional covariances summed over rows (p x p)."""
        p = self.sigma.shape[0]
        flat = np.zeros(p * p)
        for b in self.blocks:
            idx = (b.cols[:, :, None] * p + b.cols[:, None, :]).ravel()
            flat += np.bincount(idx, weights=b.cond_cov.ravel(), minlength=p * p)
        return flat.reshape(p, p)

    def omega(self) -> tuple[np.ndarray, np.ndarray]:
        """Derivatives of ``sum_i -2 log L_i`` with respect to ``Sigma`` (as ``tr(Omega dSigma)``) and ``mu``.

        ``Omega = sum_i (W_i - W_i r_i r_i' W_i) = P (n Sigma - sum C~_i - e'e) P`` and
        ``d/dmu = -2 sum_i W_i r_i = -2 P sum_i e_i``: the complete-data
        derivatives at the E-step moments (Fisher's identity).
        """
        e = self.resid
        inner = self.n * self.sigma - self.cond_sum() - e.T @ e
        omega = self.precision @ inner @ self.precision
        return (omega + omega.T) / 2, -2.0 * (self.precision @ e.sum(axis=0))

    def sparse_cond(self) -> sparse.csr_matrix:
        """``n x p^2`` sparse matrix whose row ``i`` is ``vec(C~_i)`` (for sums over rows of products)."""
        p = self.sigma.shape[0]
        rows, cols, vals = [], [], []
        for b in self.blocks:
            k = b.cols.shape[1]
            rows.append(np.repeat(b.rows, k * k))
            cols.append((b.cols[:, :, None] * p + b.cols[:, None, :]).ravel())
            vals.append(b.cond_cov.ravel())
        if not rows:
            return sparse.csr_matrix((self.n, p * p))
        return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                 shape=(self.n, p * p))


def row_terms(rg: RowGroups, mean: np.ndarray, sigma: np.ndarray) -> RowTerms | None:
    """Per-row terms of the data ``rg`` at ``(mean, sigma)``; None when ``sigma`` or an observed
    block is not positive definite (the FIML objective is then infinite)."""
    ci = chol_inverse(sigma)
    if ci is None:
        return None
    P, logdet = ci
    R = np.where(rg.observed, rg.filled - mean, 0.0)
    RP = R @ P
    quad = np.einsum("ij,ij->i", RP, R)
    logdets = np.full(rg.n, logdet)
    e = R
    blocks = []
    for _, rows, cols in rg.by_k:
        pmm = P[cols[:, :, None], cols[:, None, :]]
        chol = small_cholesky(pmm)
        if chol is None:
            return None
        cond = small_inverse(pmm)
        a = RP[rows[:, None], cols]
        sol = np.einsum("nkl,nl->nk", cond, a)
        quad[rows] -= np.einsum("nk,nk->n", a, sol)
        logdets[rows] += 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        e[rows[:, None], cols] = -sol
        blocks.append(Block(rows, cols, cond))
    minus2ll = rg.observed.sum(axis=1) * LOG2PI + logdets + quad
    return RowTerms(P, sigma, e, minus2ll, tuple(blocks))


def em_step(rt: RowTerms, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """M-step of the saturated model: the mean and covariance of the E-step's completed data."""
    e = rt.resid
    shift = e.mean(axis=0)
    cov = (e.T @ e + rt.cond_sum()) / rt.n - np.outer(shift, shift)
    return mean + shift, (cov + cov.T) / 2


def cond_quadratic(rt: RowTerms, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``diag(left' P C~_i P right)`` for every row ``i`` (n x q; zero for complete rows).

    With ``u' W_i v = u' P v - u' P C~_i P v`` this is the per-row correction of a
    bilinear form in ``W_i`` (for case-wise scores).
    """
    lp, rpm = rt.precision @ left, rt.precision @ right
    out = np.zeros((rt.n, left.shape[1]))
    for b in rt.blocks:
        lm = lp[b.cols]  # n_k x k x q
        rm = rpm[b.cols]
        out[b.rows] = np.einsum("nkq,nkq->nq", lm, np.einsum("nkl,nlq->nkq", b.cond_cov, rm))
    return out


def trace_products(U: np.ndarray, V: np.ndarray, P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """``T[k, l] = tr(P dSigma_k Q dSigma_l)`` for rank-2 ``dSigma_k = u_k v_k' + v_k u_k'``."""
    pu, pv, qu, qv = P @ U, P @ V, Q @ U, Q @ V
    return ((V.T @ qu) * (V.T @ pu).T + (V.T @ qv) * (U.T @ pu).T
            + (U.T @ qu) * (V.T @ pv).T + (U.T @ qv) * (U.T @ pv).T)


#: rows missing more values than this go through the row-by-row path of the quartic Hessian term
QUARTIC_BATCH_K = 16


def casewise_hessian(rt: RowTerms, U: np.ndarray, V: np.ndarray, M: np.ndarray,
                     expected: bool = False) -> np.ndarray:
    """Hessian of ``sum_i -2 log L_i`` over a model's free occurrences, without the term of second
    derivatives of ``Sigma(theta)`` (``dSigma_k = u_k v_k' + v_k u_k'``, ``dmu_k = M[:, k]``).

    Per row (``W_i``, ``b_i = W_i r_i``) it is ``2 T(W_i, b_i b_i') - T(W_i, W_i) + 2 (c_i + c_i') +
    2 M' W_i M`` with ``T(P, Q)[k, l] = tr(P dSigma_k Q dSigma_l)`` and ``c_i = diag(U'b_i) V'W_i M
    + diag(V'b_i) U'W_i M``; ``expected=True`` gives its expectation ``T(W_i, W_i) + 2 M'W_i M``.
    Written with ``W_i = P (Sigma - C~_i) P`` and ``b_i = P e_i`` (``Ut = P U`` etc.), and with
    ``C_i = R_i R_i'`` (Cholesky) and ``Zu_i = R_i' Ut_m``, ``Zv_i = R_i' Vt_m`` (k x q), the sum is

    * ``T~(Sigma, 2 E + 2 K - n Sigma)`` with ``E = sum e_i e_i'``, ``K = sum C~_i`` (``T~``: T with ``Ut``,
      ``Vt``) - one dense term;
    * ``- 2 sum_i X_i' X_i`` with ``X_i = Zu_i diag(Vt'e_i) + Zv_i diag(Ut'e_i)``: one product of the
      rows of all ``X_i`` stacked;
    * ``-/+ sum_i T~(C~_i, C~_i) = 2 sum_i [(Zv'Zu) o (Zv'Zu)' + (Zv'Zv) o (Zu'Zu)]``: as the
      products ``w_st = zv_s o zu_t + zv_t o zu_s`` (``s <= t``, rows of ``Zv``, ``Zu``) it is
      ``2 sum w_st w_st'`` - again one product of stacked rows, ``k(k+1)/2`` per data row, instead of
      q x q Hadamard products per row (rows missing more than :data:`QUARTIC_BATCH_K` values, where
      those rows would outnumber ``3k``, are done row by row);
    * mean terms ``2 Mt'(n Sigma - K) Mt`` and ``2 (c + c')`` from the same pieces.
    """
    P, sigma, e = rt.precision, rt.sigma, rt.resid
    n, p = e.shape
    q = U.shape[1]
    mcols = np.flatnonzero(np.any(M != 0, axis=0))  # occurrences that move a mean (intercepts, ...)
    ut, vt, mt = P @ U, P @ V, P @ M[:, mcols]
    csum = rt.cond_sum()
    if expected:
        h = trace_products(ut, vt, sigma, n * sigma - 2.0 * csum)
    else:
        h = trace_products(ut, vt, sigma, 2.0 * (e.T @ e) + 2.0 * csum - n * sigma)
    h[np.ix_(mcols, mcols)] += 2.0 * (mt.T @ (n * sigma - csum) @ mt)
    quartic = np.zeros((q, q))
    if not expected:
        alpha, beta = e @ ut, e @ vt
        c = alpha.sum(axis=0)[:, None] * (vt.T @ sigma @ mt) + beta.sum(axis=0)[:, None] * (ut.T @ sigma @ mt)
        xx = np.zeros((q, q))
    n_obs_rows, cond_obs_rows = 0, np.zeros((p, p))  # rows whose quartic term uses their observed block
    for b in rt.blocks:
        k = b.cols.shape[1]
        observed_path = k > QUARTIC_BATCH_K and p - k < k
        step = max(1, 4_000_000 // (k * (k + 1) // 2 * q))
        for s in range(0, len(b.rows), step):
            rows, cols = b.rows[s:s + step], b.cols[s:s + step]
            rt_ = small_cholesky(b.cond_cov[s:s + step]).transpose(0, 2, 1)  # R' (C_i is positive definite)
            zu, zv = np.matmul(rt_, ut[cols]), np.matmul(rt_, vt[cols])  # n_k x k x q
            if observed_path:
                quartic += _quartic_observed(sigma, U, V, cols)
                n_obs_rows += len(rows)
                for i, c_ in enumerate(cols):
                    cond_obs_rows[np.ix_(c_, c_)] += b.cond_cov[s + i]
            else:
                quartic += _quartic_rows(zu, zv)
            if not expected:
                x = (zu * beta[rows][:, None, :] + zv * alpha[rows][:, None, :]).reshape(-1, q)
                xx += x.T @ x
                c -= x.T @ np.matmul(rt_, mt[cols]).reshape(-1, len(mcols))
    if n_obs_rows:  # T~(C~, C~) = T~(S - Wt, S - Wt) = T~(S, 2 C~ - S) + T(W, W) row by row (see _quartic_observed)
        quartic += trace_products(ut, vt, sigma, 2.0 * cond_obs_rows - n_obs_rows * sigma)
    if expected:
        h += quartic
    else:
        h -= quartic + 2.0 * xx
        h[:, mcols] += 2.0 * c
        h[mcols, :] += 2.0 * c.T
    return (h + h.T) / 2


def _quartic_observed(sigma: np.ndarray, U: np.ndarray, V: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """``sum_i T(W_i, W_i)`` over rows that miss more values than they observe (``missing``: n x k).

    For such a row the quartic term ``T~(C~, C~)`` is cheaper through its observed block: with
    ``Wt = Sigma - C~ = Sigma W Sigma`` (``W`` the padded inverse of the observed block),
    ``T~(C~, C~) = T~(Sigma, Sigma) - 2 T~(Sigma, Wt) + T~(Wt, Wt)``, the first two summed over rows in
    one dense term by the caller and ``T~(Wt, Wt) = T(W, W) = 2 [(Zv'Zu) o (Zv'Zu)' + (Zv'Zv) o (Zu'Zu)]``
    with ``Zu = L^-1 U_o``, ``Sigma_oo = L L'``: rank ``p - k`` instead of ``k``.
    """
    p, q = U.shape
    out = np.zeros((q, q))
    allcols = np.arange(p)
    for miss in missing:
        o = np.setdiff1d(allcols, miss, assume_unique=True)
        low = np.linalg.cholesky(sigma[np.ix_(o, o)])
        zu, zv = np.linalg.solve(low, U[o]), np.linalg.solve(low, V[o])
        f_vu = zv.T @ zu
        out += 2.0 * (f_vu * f_vu.T + (zv.T @ zv) * (zu.T @ zu))
    return out


def _quartic_rows(zu: np.ndarray, zv: np.ndarray) -> np.ndarray:
    """``sum_i 2 [(Zv_i'Zu_i) o (Zv_i'Zu_i)' + (Zv_i'Zv_i) o (Zu_i'Zu_i)]`` for stacks ``n x k x q``.

    ``(Zv'Zu) o (Zu'Zv) + (Zv'Zv) o (Zu'Zu) = sum_{s<t} w_st w_st' + 2 sum_s x_ss x_ss'`` with
    ``x_st = zv_s o zu_t`` and ``w_st = x_st + x_ts`` (Khatri-Rao rows), so the sum over rows is one
    product of the stacked ``w`` (and ``sqrt(2) x_ss``).
    """
    n, k, q = zu.shape
    if k > QUARTIC_BATCH_K:
        out = np.zeros((q, q))
        for u, v in zip(zu, zv):
            f_vu = v.T @ u
            out += 2.0 * (f_vu * f_vu.T + (v.T @ v) * (u.T @ u))
        return out
    s, t = np.triu_indices(k)
    w = zv[:, s] * zu[:, t] + zv[:, t] * zu[:, s]
    w[:, s == t] *= np.sqrt(0.5)  # w_ss = 2 x_ss; the diagonal needs sqrt(2) x_ss
    w = w.reshape(-1, q)
    return 2.0 * (w.T @ w)


def expected_quadratic(rt: RowTerms, cov: np.ndarray, mean: np.ndarray) -> float:
    """``sum_i [tr(W_i C W_i C) / 2 + m' W_i m]`` for symmetric ``C = cov`` and ``m = mean``: the
    expected saturated information of each row as a quadratic form (GFI with missing data).

    With ``W_i = P - P C~_i P`` and ``G = P C P``: ``tr(W C W C) = tr(G C) - 2 tr(C_i (G C P)_mm)
    + tr(C_i G_mm C_i G_mm)`` and ``m' W m = m' P m - (P m)_m' C_i (P m)_m``.
    """
    P = rt.precision
    g = P @ cov @ P
    gcp = g @ cov @ P
    pm = P @ mean
    total = rt.n * (0.5 * float(np.sum(g * cov)) + float(mean @ pm))
    for b in rt.blocks:
        cols, cond = b.cols, b.cond_cov
        gmm = g[cols[:, :, None], cols[:, None, :]]
        qmm = gcp[cols[:, :, None], cols[:, None, :]]
        cg = cond @ gmm
        total += 0.5 * float(-2.0 * np.einsum("nab,nba->", cond, qmm) + np.einsum("nab,nba->", cg, cg))
        v = pm[cols]
        total -= float(np.einsum("na,nab,nb->", v, cond, v))
    return total


def saturated_scores(rt: RowTerms, transformed: bool = False) -> np.ndarray:
    """Case-wise derivatives of the log-likelihood with respect to the saturated parameters.

    Columns: means, then ``vech(Sigma)`` (lavaan's order); an off-diagonal
    element is one parameter for both of its cells. ``d l_i / dmu = W_i r_i`` and
    ``d l_i / dSigma = (W_i r_i r_i' W_i - W_i) / 2``, ``W_i = P - P C~_i P``. ``transformed``: in the
    basis of :func:`saturated_hessian`, where they are ``e_i`` and ``(e_i e_i' - Sigma + C~_i) / 2``.
    """
    P = rt.precision
    n, p = rt.resid.shape
    a, c = vech_indices(p)
    out = np.empty((n, p + len(a)))
    b = rt.resid if transformed else rt.resid @ P
    out[:, :p] = b
    base = rt.sigma if transformed else P
    start = p
    for col in range(p):  # vech column `col` is the contiguous block of rows col..p-1
        stop = start + p - col
        np.multiply(b[:, col:], b[:, col:col + 1], out=out[:, start:stop])
        out[:, start:stop] -= base[col:, col]
        start = stop
    cov = out[:, p:]
    ac = a * p + c
    for blk in rt.blocks:
        k = blk.cols.shape[1]
        if transformed:  # + C~_i: scatter its k(k+1)/2 distinct cells
            la, lc = vech_indices(k)  # columns are sorted, so (cols[la], cols[lc]) is in the lower triangle
            r, cc = blk.cols[:, la], blk.cols[:, lc]
            pos = cc * p - cc * (cc - 1) // 2 + (r - cc)  # vech position of (r, cc), r >= cc
            cov[blk.rows[:, None], pos] += blk.cond_cov[:, la, lc]
            continue
        step = max(1, 2_000_000 // (p * p))
        for s in range(0, len(blk.rows), step):  # + P C~_i P = L L', L = P_m R
            rows = blk.rows[s:s + step]
            low = np.matmul(P[blk.cols[s:s + step]].transpose(0, 2, 1), small_cholesky(blk.cond_cov[s:s + step]))
            pcp = np.matmul(low, low.transpose(0, 2, 1)).reshape(len(rows), p * p)
            cov[rows] += np.take(pcp, ac, axis=1)
    cov[:, np.flatnonzero(a == c)] *= 0.5  # a diagonal element has one cell; off-diagonal ones two
    return out


def saturated_hessian(rt: RowTerms, expected: bool = False) -> np.ndarray:
    """Hessian of ``sum_i -2 log L_i`` in the saturated parameters, in the transformed basis.

    Basis: ``dSigma = Sigma dS Sigma``, ``dmu = Sigma dm`` (``dS = unvech(d)`` with an
    off-diagonal element in both cells); :func:`to_original` maps the result to
    the parameters (means, ``vech(Sigma)``). Per row, with ``Wt = Sigma W Sigma =
    Sigma - C~`` and ``e`` the filled residual, the second derivative in directions
    ``(m, S)``, ``(m', S')`` is
    ``-tr(Wt S Wt S') + 2 e' S' Wt S e + 2 m' Wt m' + 2 m' Wt S' e + 2 m'' Wt S e``;
    ``expected=True`` gives its expectation, ``tr(Wt S Wt S') + 2 m' Wt m'``
    (lavaan's expected information under MAR). Summed over rows (``K = sum C~_i``,
    ``E = sum e_i e_i'``, ``b = sum e_i``):

    * means: ``2 (n Sigma - K)``;
    * covariances: ``kron_vech(Sigma, 2K + 2E - n Sigma) - sum_i kron_vech(C~_i, C~_i + 2 e_i e_i')``
      (expected: ``kron_vech(Sigma, n Sigma - 2K) + sum_i kron_vech(C~_i, C~_i)``);
    * means x covariances: from ``Sigma (x) b - sum_i C~_i (x) e_i``.

    ``kron_vech(A, B)`` at ``k = (a,b), l = (c,d)`` is ``h_k h_l (G[a,c,b,d] + G[a,d,b,c] + G[b,c,a,d] +
    G[b,d,a,c])`` for ``G[x,z,y,w] = A[x,z] B[y,w]``; here ``G = Sigma (x) Y -/+ sum_i C~_i (x) B_i``.
    Row k reads only the slices ``G[a,:,b,:]`` and ``G[b,:,a,:]``, so G is built one ``x`` at a
    time (``p^3`` memory; the sum over rows is a sparse product, ``C~_i[x, .]`` being non-zero
    only for rows missing ``x``) and each slice is added to the rows of ``vech`` that need it.
    """
    sigma = rt.sigma
    p = sigma.shape[0]
    n = rt.n
    a, c = vech_indices(p)
    h = np.where(a == c, 0.5, 1.0)
    q = p + len(a)
    out = np.zeros((q, q))
    csum = rt.cond_sum()
    out[:p, :p] = 2.0 * (n * sigma - csum)
    e = rt.resid
    if expected:
        y, sign = n * sigma - 2.0 * csum, 1.0
    else:
        y, sign = 2.0 * csum + 2.0 * (e.T @ e) - n * sigma, -1.0
    by_x = bmat = None
    if rt.blocks:
        cmat = rt.sparse_cond()
        inc = np.flatnonzero(np.diff(cmat.indptr) > 0)  # rows with a missing value
        cmat = cmat[inc]
        ei = e[inc]
        if expected:
            bmat = cmat.toarray()  # vec(B_i) = vec(C~_i)
        else:  # vec(B_i) = vec(C~_i + 2 e_i e_i')
            bmat = (2.0 * ei[:, :, None] * ei[:, None, :]).reshape(len(inc), p * p)
            rr = np.repeat(np.arange(len(inc)), np.diff(cmat.indptr))
            bmat[rr, cmat.indices] += cmat.data
        by_x = cmat.T.tocsr()  # rows (x, z): CSR rows are 6x faster than CSC columns here
    cov = out[p:, p:]
    _covariance_block(cov, sigma, y, by_x, bmat, sign, a, c)
    cov *= h[:, None]
    cov *= h[None, :]
    if not expected:
        ebar = e.sum(axis=0)
        # means x covariances: 2 h [ (Sigma_ja b_c + Sigma_jc b_a) - (G_jac + G_jca) ], G_jac = sum_i C~_i[j,a] e_ic
        cross = sigma[:, a] * ebar[c] + sigma[:, c] * ebar[a]
        if by_x is not None:
            g3 = np.asarray(by_x @ ei).reshape(p, p, p)
            cross -= g3[:, a, c] + g3[:, c, a]
        cross = 2.0 * cross * h
        out[:p, p:] = cross
        out[p:, :p] = cross.T
    return out


def _covariance_block(out: np.ndarray, sigma: np.ndarray, y: np.ndarray, by_x, bmat, sign: float,
                      a: np.ndarray, c: np.ndarray) -> None:
    """Add ``kron_vech(Sigma, Y) + sign * sum_i kron_vech(C~_i, B_i)`` (before the ``h h`` scaling) to ``out``,
    one slice ``G[x, :, :, :]`` at a time (see :func:`saturated_hessian`)."""
    p = sigma.shape[0]
    ac = a * p + c
    for x in range(p):
        g = sigma[x][:, None, None] * y[None, :, :]  # [z, y, w]
        if by_x is not None:
            g += sign * np.asarray(by_x[x * p:(x + 1) * p] @ bmat).reshape(p, p, p)
        gt = np.ascontiguousarray(g.transpose(1, 0, 2))  # [y, z, w]: the slices G[x, :, y, :] contiguous
        first, second = np.flatnonzero(a == x), np.flatnonzero(c == x)  # rows k = (x, .) and k = (., x)
        for rows, other in ((first, c[first]), (second, a[second])):
            sl = gt[other]  # len(rows) x p x p: G[x, :, b, :]
            sl = (sl + sl.transpose(0, 2, 1)).reshape(len(rows), p * p)
            out[rows] += np.take(sl, ac, axis=1)


def sandwich_columns(mat: np.ndarray, m: np.ndarray, dual: bool = False) -> np.ndarray:
    """Map the columns of ``mat`` (vectors over ``(mu, vech Sigma)``) through ``dmu -> m dmu``,
    ``dSigma -> m dSigma m`` (``m`` symmetric).

    ``dual=False``: the columns are directions (an off-diagonal element fills both cells);
    ``dual=True``: they are functionals - derivatives, scores, rows of an information
    matrix - which transform with the adjoint (an off-diagonal element is the sum over its two
    cells), i.e. ``T' g`` for ``T: (dmu, dSigma) -> (m dmu, m dSigma m)``.
    """
    p = m.shape[0]
    a, c = vech_indices(p)
    h = np.where(a == c, 0.5, 1.0) if dual else np.ones(len(a))
    r = mat.shape[1]
    out = np.empty_like(mat, dtype=float)
    out[:p] = m @ mat[:p]
    step = max(1, 2_000_000 // (p * p))
    for s in range(0, r, step):
        cols = slice(s, s + step)
        vals = (mat[p:, cols] / h[:, None]).T
        g = np.zeros((vals.shape[0], p, p))
        g[:, a, c] = vals
        g[:, c, a] = vals
        # m G m for a stack of symmetric G: two large products (G m, then (G m)' m) instead of many small ones
        gm = (g.reshape(-1, p) @ m).reshape(g.shape)
        mgm = (np.ascontiguousarray(gm.transpose(0, 2, 1)).reshape(-1, p) @ m).reshape(g.shape)
        out[p:, cols] = (mgm[:, a, c] * h).T
    return out


def to_original(mat: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """A symmetric matrix in the basis of :func:`saturated_hessian` expressed in the saturated
    parameters (means, ``vech(Sigma)``): ``T^-T mat T^-1`` with ``T^-1: dmu -> P dmu,
    dSigma -> P dSigma P``. Cost ``4 p^3 q`` instead of a q x q update per pattern."""
    once = sandwich_columns(mat, precision, dual=True)
    twice = sandwich_columns(np.ascontiguousarray(once.T), precision, dual=True)
    return (twice + twice.T) / 2

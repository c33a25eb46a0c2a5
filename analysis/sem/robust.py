"""Robust (MLR) standard errors and test statistics, as lavaan 0.6.14 computes them.

* Standard errors: the Huber-White sandwich ``A^-1 B A^-1 / N`` with ``A``
  the observed information per case (lavaan's default for MLR) and ``B`` the
  first-order information, the mean outer product of case-wise scores
  (``se="robust.huber.white"``). semopy's ``se_robust`` is the MLM sandwich
  (expected information, fourth-moment Gamma), which is not MLR.
* Test: Yuan-Bentler scaled chi-square, Mplus variant
  (``test="yuan.bentler.mplus"``): ``c = [sum_g tr(A1_g^-1 B1_g) - sum_g f_g tr(B0_g E^-1)] / df``
  with ``A1``/``B1`` the unstructured saturated-model (h1) information and
  first-order information, ``B0_g`` the first-order information of the
  model in group ``g`` and ``E`` the model's (observed) information;
  ``chisq.scaled = chisq / c``.
* FIML-corrected statistics (Zhang & Savalei 2023, lavaan's
  ``lav_fit_fiml_corrected``) behind ``cfi.robust``/``rmsea.robust`` with
  missing data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import linalg, sparse, special
from scipy.linalg import block_diag, lapack

from analysis.sem.fiml import (
    RowTerms,
    casewise_hessian,
    row_groups,
    row_terms,
    sandwich_columns,
    saturated_hessian,
    saturated_scores,
    to_original,
)
from analysis.sem.objective import MLObjective, information_terms
from analysis.sem.samplestats import GroupData
from analysis.sem.threads import large_threads
from analysis.sem.vech import kron_vech, vech_indices
from smecore.errors import NotPositiveDefiniteError


def outer_scores(sc: np.ndarray, cluster: np.ndarray | None = None) -> np.ndarray:
    """Mean outer product of case-wise scores ``S'S / n``; with clusters, of cluster sums.

    Cluster-robust (lavaan ``cluster=``, ``se="robust.cluster"``): the scores
    are summed within clusters and scaled by ``sqrt(G / (G - 1))`` (G clusters)
    before the cross product, still divided by the number of cases.
    """
    n = len(sc)
    sc = _cluster_scores(sc, cluster)
    return sc.T @ sc / n


def first_order(scores: list[np.ndarray], clusters: list[np.ndarray | None] | None = None) -> list[np.ndarray]:
    """Per group: mean outer product of case-wise scores, ``B0_g = S_g' S_g / n_g`` (cluster sums if given)."""
    clusters = clusters or [None] * len(scores)
    return [outer_scores(s, c) for s, c in zip(scores, clusters)]


def sandwich(a_inv: np.ndarray, b0: list[np.ndarray], weights: np.ndarray, ntotal: int) -> np.ndarray:
    """Huber-White covariance matrix of the estimates: ``A^-1 (sum_g w_g B0_g) A^-1 / N``."""
    b = sum(w * bg for w, bg in zip(weights, b0))
    return a_inv @ b @ a_inv / ntotal


def _cluster_scores(sc: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Scores whose cross product over ``n`` is :func:`outer_scores`: the cases, or the scaled cluster sums."""
    if cluster is None:
        return sc
    sums = np.zeros((int(cluster.max()) + 1, sc.shape[1]))
    np.add.at(sums, cluster, sc)
    return sums * np.sqrt(len(sums) / (len(sums) - 1))


@dataclass(frozen=True)
class SaturatedInformation:
    """h1 information of one group: A1, the observed information per case of the unrestricted
    model at its estimates, and the case-wise scores behind B1.

    ``matrix`` (A1), ``scores`` (rows ``s_i``, or scaled cluster sums, with B1 =
    ``scores' scores / n``) and :meth:`complete` (the complete-data information at the
    same moments) are expressed in one basis of the moments: the saturated parameters
    (means, ``vech(Sigma)``) themselves, or - ``transformed`` - the directions
    ``dmu = Sigma dm``, ``dSigma = Sigma dS Sigma`` (``Sigma = cov``), in which A1 of
    incomplete data is cheap to form (:func:`analysis.sem.fiml.saturated_hessian`).
    Every statistic computed from it is a trace that does not depend on the basis;
    :attr:`observed` and :attr:`first_order` give A1 and B1 in the saturated parameters.
    B1 itself (q x q, q = number of moments) is never needed: every trace with it is a
    sum over cases of ``s_i' X s_i``, computed from one Cholesky factor of A1.
    """

    matrix: np.ndarray  # A1 in the basis
    scores: np.ndarray  # rows s_i (in the basis) with B1 = scores' scores / n
    n: int
    keep: np.ndarray  # indices not belonging to fixed.x covariates
    cov: np.ndarray  # the moments the information is evaluated at
    meanstructure: bool = True
    transformed: bool = False
    rows: RowTerms | None = None  # FIML row terms at these moments (model-space products, transformed basis)
    cluster: np.ndarray | None = None

    @cached_property
    def observed(self) -> np.ndarray:
        """A1 in the saturated parameters (means, ``vech(Sigma)``)."""
        return to_original(self.matrix, np.linalg.inv(self.cov)) if self.transformed else self.matrix

    @property
    def first_order(self) -> np.ndarray:
        """B1 (mean outer product of case-wise scores) in the saturated parameters."""
        s = self.scores
        b1 = s.T @ s / self.n
        return to_original(b1, np.linalg.inv(self.cov)) if self.transformed else b1

    @cached_property
    def original_scores(self) -> np.ndarray:
        """The scores in the saturated parameters (cluster sums when clustered)."""
        if not self.transformed:
            return self.scores
        return _cluster_scores(saturated_scores(self.rows), self.cluster)

    def model_products(self, model, g: int, theta: np.ndarray) -> tuple[np.ndarray, ...]:
        """``Delta'A1 Delta``, ``Delta'Ac Delta``, ``Delta'S'`` and ``Delta'Ac Z`` (``Z = A1^-1 S'``) for the
        Jacobian ``Delta`` of a model's moments at ``theta`` (group ``g``), over the kept moments.

        In the transformed basis (no covariates) without forming ``Delta`` in it (q x npar, dense):
        ``Delta'A1 Delta`` is the case-wise Hessian of the model's occurrences at these moments
        (:func:`analysis.sem.fiml.casewise_hessian` / 2n), ``Delta'Ac Delta`` the complete-data
        expected information, and ``Ac Delta`` in the transformed basis is ``Delta`` itself with
        the diagonal covariances halved, so the last two are products with the sparse Jacobian.
        """
        imp = model.implied(theta, g)
        if not (self.transformed and self.rows is not None):
            delta = self.to_basis(model.jacobian(g, imp, self.meanstructure))
            acd = self.complete_times(delta)
            a1 = self.matrix[np.ix_(self.keep, self.keep)]
            return (delta.T @ a1 @ delta, delta.T @ acd, delta.T @ self.scores[:, self.keep].T,
                    acd.T @ self.solved)
        U, V, M = model.rank2_factors(g, imp)
        e = model.collapse(g, casewise_hessian(self.rows, U, V, M)) / (2.0 * self.n)
        dcd = model.collapse(g, information_terms(U, V, M, self.rows.precision, True))
        jac = sparse.csr_matrix(model.occurrence_jacobian(g, imp))
        p = len(self.cov)
        a, c = vech_indices(p)
        half = sparse.diags(np.concatenate([np.ones(p), np.where(a == c, 0.5, 1.0)]))
        ds = model.collapse_rows(g, np.asarray(jac.T @ self.original_scores.T).T).T
        dz = model.collapse_rows(g, np.asarray((half @ jac).T @ self.solved).T).T
        return e, dcd, ds, dz

    def complete_quadratic(self, y: np.ndarray) -> float:
        """``sum_j y_j' Ac y_j`` over the columns of ``y`` (Kronecker form without covariates: ``p^3`` per column)."""
        p = self.cov.shape[0]
        nmean = p if self.meanstructure else 0
        if len(self.keep) != nmean + p * (p + 1) // 2:
            return float(np.sum(y * (self.complete() @ y)))
        w = self.cov if self.transformed else np.linalg.inv(self.cov)
        total = float(np.sum(y[:nmean] * (w @ y[:nmean])))
        a, c = vech_indices(p)
        step = max(1, 2_000_000 // (p * p))
        for s in range(0, y.shape[1], step):
            cols = slice(s, s + step)
            mats = np.zeros((y[:, cols].shape[1], p, p))
            mats[:, a, c] = y[nmean:, cols].T
            mats[:, c, a] = y[nmean:, cols].T
            yw = (mats.reshape(-1, p) @ w).reshape(mats.shape)  # Y W: tr(W Y W Y) = sum((Y W) o (Y W)')
            total += 0.5 * float(np.einsum("nij,nji->", yw, yw))
        return total

    def to_basis(self, delta: np.ndarray) -> np.ndarray:
        """Directions over (means, ``vech(Sigma)``) - e.g. a model's Jacobian - in the basis, kept rows."""
        if self.transformed:
            delta = sandwich_columns(delta, np.linalg.inv(self.cov))
        return delta[self.keep]

    @cached_property
    def _factor(self) -> tuple[np.ndarray, bool]:
        """Cholesky factor of A1 over the kept moments (LU fallback flagged False when not positive definite)."""
        a1 = self.matrix[np.ix_(self.keep, self.keep)]
        try:
            with large_threads(len(a1)):
                return linalg.cholesky(a1, lower=True, check_finite=False), True
        except linalg.LinAlgError:
            return a1, False

    @cached_property
    def half_solved(self) -> np.ndarray:
        """``L^-1 S'`` (kept moments x cases), ``A1 = L L'``: ``tr(A1^-1 B1) = ||L^-1 S'||^2 / n``."""
        fac, chol = self._factor
        st = np.ascontiguousarray(self.scores[:, self.keep].T)
        if chol:
            with large_threads(len(fac)):
                return linalg.solve_triangular(fac, st, lower=True, check_finite=False)
        return st  # not used without a Cholesky factor (see solved)

    @cached_property
    def solved(self) -> np.ndarray:
        """``A1^-1 S'`` over the kept moments (kept moments x cases)."""
        fac, chol = self._factor
        with large_threads(len(fac)):
            if chol:
                return linalg.solve_triangular(fac, self.half_solved, lower=True, trans="T", check_finite=False)
            return np.linalg.solve(fac, self.scores[:, self.keep].T)

    def trace(self) -> float:
        """``tr(A1^-1 B1)`` over the kept moments."""
        if self._factor[1]:
            return float(np.sum(self.half_solved ** 2) / self.n)
        return float(np.sum(self.scores[:, self.keep].T * self.solved) / self.n)

    def inverse(self) -> np.ndarray:
        """``A1^-1`` over the kept moments."""
        fac, chol = self._factor
        with large_threads(len(fac)):
            if chol:
                inv, _ = lapack.dpotri(fac, lower=1)
                return np.tril(inv) + np.tril(inv, -1).T
            return np.linalg.inv(fac)

    def complete_trace(self) -> float:
        """``tr(Ac A1^-1)`` (Ac: :meth:`complete`, over the kept moments).

        From LAPACK's ``dpotri`` (the lower triangle of ``A1^-1`` from the Cholesky factor, the
        factor's zero upper triangle left as is) and the rows of Ac built a block at a time:
        ``sum_jk Ac_jk X_jk = 2 sum(Ac o tril(X)) - sum(diag(Ac) diag(X))``, without the full
        inverse or Ac (q x q each) in memory.
        """
        fac, chol = self._factor
        if not chol:
            return float(np.sum(self.complete() * self.inverse()))
        with large_threads(len(fac)):
            low, _ = lapack.dpotri(fac, lower=1)  # strict upper triangle: the factor's zeros
        low = low.T  # dpotri's result is Fortran-ordered: its transpose is C-ordered (rows contiguous)
        p = self.cov.shape[0]
        nmean = p if self.meanstructure else 0
        w = self.cov if self.transformed else np.linalg.inv(self.cov)
        if len(self.keep) != nmean + p * (p + 1) // 2:
            ac = self.complete()
            return float(2.0 * np.sum(ac * low) - np.sum(np.diag(ac) * np.diag(low)))
        total = 2.0 * float(np.sum(w * low[:nmean, :nmean])) - float(np.sum(np.diag(w) * np.diag(low)[:nmean]))
        cov_low = low[nmean:, nmean:]
        a, c = vech_indices(p)
        h = np.where(a == c, 0.5, 1.0)
        rc, cr = a * p + c, c * p + a
        step = max(1, 2_000_000 // (p * p))
        for s in range(0, len(a), step):  # rows of D'(W (x) W)D / 2 = kron_vech(W, W) / 2
            k = slice(s, s + step)
            m = (w[a[k]][:, :, None] * w[c[k]][:, None, :] + w[c[k]][:, :, None] * w[a[k]][:, None, :])
            m = m.reshape(-1, p * p)
            rows = (np.take(m, rc, axis=1) + np.take(m, cr, axis=1)) * (0.5 * h[k, None] * h[None, :])
            block = cov_low[k]
            total += 2.0 * float(np.sum(rows * block)) - float(np.sum(np.diagonal(rows[:, s:s + rows.shape[0]])
                                                                      * np.diagonal(block[:, s:s + block.shape[0]])))
        return total

    def complete(self) -> np.ndarray:
        """Complete-data information at the same moments, over the kept moments: ``Sigma^-1`` for the
        means and ``D'(Sigma^-1 (x) Sigma^-1)D / 2`` for the covariances (lavaan's
        ``h1.information`` of a complete-data fit at these moments); in the transformed basis
        ``Sigma`` and ``D'(Sigma (x) Sigma)D / 2``."""
        w = self.cov if self.transformed else np.linalg.inv(self.cov)
        cov_block = kron_vech(w, w) / 2.0
        full = block_diag(w, cov_block) if self.meanstructure else cov_block
        return full[np.ix_(self.keep, self.keep)]

    def complete_times(self, y: np.ndarray) -> np.ndarray:
        """``Ac y`` for the columns of ``y`` (kept moments x m), Ac = :meth:`complete`.

        Without covariates Ac is Kronecker-structured: ``W y_mu`` for the means and
        ``h_k (W Y W)[a_k, b_k]`` for the covariances (``Y`` the symmetric matrix of ``y``'s
        covariance part, ``h`` 1/2 on the diagonal), ``4 p^3`` per column instead of ``q^2``.
        """
        p = self.cov.shape[0]
        nmean = p if self.meanstructure else 0
        if len(self.keep) != nmean + p * (p + 1) // 2:
            return self.complete() @ y
        w = self.cov if self.transformed else np.linalg.inv(self.cov)
        out = np.empty_like(y)
        out[:nmean] = w @ y[:nmean]
        a, c = vech_indices(p)
        h = np.where(a == c, 0.5, 1.0)
        step = max(1, 2_000_000 // (p * p))
        for s in range(0, y.shape[1], step):
            cols = slice(s, s + step)
            mats = np.zeros((y[:, cols].shape[1], p, p))
            mats[:, a, c] = y[nmean:, cols].T
            mats[:, c, a] = y[nmean:, cols].T
            yw = (mats.reshape(-1, p) @ w).reshape(mats.shape)  # Y W (W Y W = (Y W)' W)
            wyw = (np.ascontiguousarray(yw.transpose(0, 2, 1)).reshape(-1, p) @ w).reshape(mats.shape)
            out[nmean:, cols] = (wyw[:, a, c] * h).T
        return out


def saturated_information(gd: GroupData, ov: tuple[str, ...], ov_x: tuple[str, ...],
                          meanstructure: bool) -> SaturatedInformation:
    """A1 and the scores behind B1 of the unrestricted model of one group, at its ML estimates
    (EM with missing data).

    With FIML data (``gd.rows``) A1 is the observed information of the
    incomplete data, :func:`analysis.sem.fiml.saturated_hessian` (lavaan's
    ``lav_mvnorm_missing_information_observed_samplestats``); with complete
    data it is the expected information (equal to the observed one at the
    saturated estimates). Scores: :func:`analysis.sem.fiml.saturated_scores`.
    """
    p = len(gd.mean)
    rows = gd.rows if gd.rows is not None else row_groups(gd.data)
    rt = row_terms(rows, gd.mean, gd.cov)
    if rt is None:
        raise NotPositiveDefiniteError("the saturated (h1) covariance matrix is not positive definite")
    a, c = vech_indices(p)
    xs = np.isin(np.arange(p), [ov.index(x) for x in ov_x])
    is_x = xs[a] & xs[c]
    if meanstructure:
        is_x = np.concatenate([xs, is_x])
    keep = np.flatnonzero(~is_x)
    # the transformed basis needs all moments (fixed.x covariates would be dropped in the original one)
    transformed = gd.has_missing and meanstructure and not xs.any()
    sc = saturated_scores(rt, transformed=transformed)
    if gd.has_missing:
        a1 = saturated_hessian(rt) / (2.0 * gd.n)
        if not transformed:
            a1 = to_original(a1, rt.precision)
    else:
        w = rt.precision
        a1 = block_diag(w, kron_vech(w, w) / 2.0)
    if not meanstructure:
        a1, sc = a1[p:, p:], sc[:, p:]
    return SaturatedInformation(a1, _cluster_scores(sc, gd.cluster), gd.n, keep, gd.cov, meanstructure,
                                transformed, rt if transformed else None, gd.cluster)


def h1_trace_complete(gd: GroupData, meanstructure: bool) -> tuple[float, int]:
    """``tr(A1^-1 B1)`` and the number of moments for complete data without covariates.

    Closed form: with ``d_i = (y_i - ybar)' S^-1 (y_i - ybar)`` the covariance
    part is ``mean((d_i^2 - 2 d_i + p) / 2)`` (Mardia's kurtosis in disguise;
    ``p(p+1)/2`` under normality) and the mean part is exactly ``p``.
    """
    p = len(gd.mean)
    r = gd.data - gd.mean
    d = np.einsum("ij,jk,ik->i", r, np.linalg.inv(gd.cov), r)
    trace = float(np.mean((d ** 2 - 2 * d + p) / 2))
    ndat = p * (p + 1) // 2
    if meanstructure:
        trace += p
        ndat += p
    return trace, ndat


def h1_trace(info: SaturatedInformation) -> tuple[float, int]:
    """``tr(A1^-1 B1)`` over the moments that are not fixed covariates, and their number."""
    return info.trace(), len(info.keep)


@dataclass(frozen=True)
class ScaledTest:
    """A Yuan-Bentler (Mplus variant) scaled test statistic."""

    chisq: float
    df: int
    pvalue: float
    scaling_factor: float
    scaling_factor_h1: float
    scaling_factor_h0: float
    trace_ugamma: float


def yuan_bentler_mplus(chisq: float, df: int, h1_traces: list[tuple[float, int]],
                       b0: list[np.ndarray], weights: np.ndarray, e_inv: np.ndarray,
                       npar_unconstrained: int | None = None) -> ScaledTest:
    """Scale ``chisq`` as lavaan's ``test="yuan.bentler.mplus"``.

    ``npar_unconstrained`` is the number of free parameters *before* equality
    constraints (every free row of the parameter table, as lavaan's
    ``lavmodel@nx.free``): lavaan divides the h0 trace by it for
    ``scaling.factor.h0`` (``lav_test_yuan_bentler``). The trace itself does not
    depend on the parametrisation. Default: the number of free parameters
    after equalities (``e_inv``'s size), which is the same without constraints.
    """
    trace_h1 = np.array([t for t, _ in h1_traces])
    ndat = sum(n for _, n in h1_traces)
    trace_h0 = np.array([w * np.sum(bg * e_inv.T) for w, bg in zip(weights, b0)])
    trace_ug = float(trace_h1.sum() - trace_h0.sum())
    npar = e_inv.shape[0] if npar_unconstrained is None else npar_unconstrained
    if df <= 0:
        return ScaledTest(chisq, df, float("nan"), float("nan"), float("nan"), float("nan"), trace_ug)
    c = trace_ug / df
    if c < 0:
        c = float("nan")
    scaled = chisq / c
    return ScaledTest(scaled, df, float(special.chdtrc(df, scaled)), c,
                      float(trace_h1.sum() / ndat), float(trace_h0.sum() / npar), trace_ug)


@dataclass(frozen=True)
class CorrectedStatistics:
    """The corrected statistics lavaan's robust CFI / TLI / RMSEA are computed from: ``XX3`` on ``df3``
    with its scaling ``c_hat3``, and the same for the baseline model. Returned by
    :func:`fiml_corrected` (lavaan ``lav_fit_fiml_corrected``, ML with missing data) and by
    :func:`analysis.sem.ordinal.robust.catml` (``lav_fit_catml_dwls``, ordinal data)."""

    xx3: float
    df3: int
    c_hat3: float
    xx3_scaled: float
    xx3_null: float
    df3_null: int
    c_hat3_null: float


def _chol_or_solve(e: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    try:
        return linalg.cho_solve(linalg.cho_factor(e), rhs)
    except linalg.LinAlgError:
        return np.linalg.solve(e, rhs)


def fiml_corrected(model_est, base_est, df: int, df_null: int, scaled: bool, h1=None) -> CorrectedStatistics:
    """Zhang & Savalei's FIML-corrected chi-square and scaling (versions V3 with MLR, V6 with ML).

    ``model_est`` and ``base_est`` are :class:`analysis.sem.fit.Estimation` objects of the
    fitted model and of the independence model, both fitted by FIML; ``h1`` the groups'
    :class:`SaturatedInformation` (computed when not given).

    lavaan's ``lav_fit_fiml_corrected`` computes, with block-diagonal ``Wm = (+) f_g A1_g``,
    ``Wmi = Wm^-1``, ``Wc = (+) f_g Ac_g`` (complete-data information), ``Gamma = Wmi J Wmi``
    (``J = (+) f_g B1_g``), ``E = Delta' Wm Delta`` and ``U = Wm - Wm Delta E^-1 Delta' Wm``,
    ``k = tr(U Wmi Wc Wmi U Gamma)`` (V3) or ``tr(Wc Wmi U Wmi)`` (V6) - products of
    q x q matrices, q = number of moments (2,144 for 64 items; each product O(q^3)).
    With ``Y = Wmi - Delta E^-1 Delta'`` (``U Wmi = I - Wm Delta E^-1 Delta'``) these are
    ``k = tr(Wc Y J Y) = sum_i (Y s_i)' Wc (Y s_i) / N`` (``s_i`` case i's h1 scores) and
    ``k = sum_g tr(Ac_g A1_g^-1) - tr(E^-1 Delta' Wc Delta)``: the same numbers from one
    factorisation of each A1_g and products with ``Delta`` (moments x parameters).
    """
    groups = list(model_est.groups)
    weights = model_est.objective.weights
    n = model_est.objective.ntotal
    variables = model_est.partable.variables
    infos = [h1[g] if h1 is not None and h1[g] is not None else
             saturated_information(gd, variables.ov, variables.ov_x, True) for g, gd in enumerate(groups)]
    if scaled:  # sum_i z_i' Ac_g z_i with Z_g = A1_g^-1 S_g' / f_g: shared by the model and the baseline
        zz = [info.complete_quadratic(info.solved) / f ** 2 for info, f in zip(infos, weights)]
    else:
        tr_ac_a1 = sum(info.complete_trace() for info in infos)

    def parts(est, dfx):
        complete = MLObjective(est.model, groups, True)
        xx = n * complete.value(est.theta)
        prods = [info.model_products(est.model, g, est.theta) for g, info in enumerate(infos)]
        e = sum(f * pr[0] for f, pr in zip(weights, prods))  # Delta' Wm Delta
        dcd = [pr[1] for pr in prods]  # Delta_g' Ac_g Delta_g
        if scaled:
            total = 0.0
            for g, (f, pr) in enumerate(zip(weights, prods)):
                t = _chol_or_solve(e, pr[2])  # E^-1 Delta_g' S_g'
                # block g: y = Z_g - Delta_g T; other blocks h: y = -Delta_h T
                acz_d = pr[3] / f  # Delta_g' Ac_g Z_g
                total += f * (zz[g] - 2.0 * np.sum(t * acz_d) + np.sum(t * (dcd[g] @ t)))
                for h in range(len(infos)):
                    if h != g:
                        total += weights[h] * np.sum(t * (dcd[h] @ t))
            k = total / n
        else:
            wcd = sum(f * m for f, m in zip(weights, dcd))
            k = tr_ac_a1 - float(np.trace(_chol_or_solve(e, wcd)))
        return xx, (k / dfx if dfx > 0 else float("nan"))

    xx3, c3 = parts(model_est, df)
    xx3_null, c3_null = parts(base_est, df_null)
    return CorrectedStatistics(xx3, df, c3, xx3 / c3 if np.isfinite(c3) else float("nan"), xx3_null, df_null, c3_null)

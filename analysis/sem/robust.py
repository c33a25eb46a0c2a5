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

import numpy as np
from scipy import stats

from analysis.sem.objective import FIMLObjective, MLObjective
from analysis.sem.partable import saturated_partable
from analysis.sem.ram import RamModel
from analysis.sem.samplestats import GroupData
from analysis.sem.vech import vech_indices


def outer_scores(sc: np.ndarray, cluster: np.ndarray | None = None) -> np.ndarray:
    """Mean outer product of case-wise scores ``S'S / n``; with clusters, of cluster sums.

    Cluster-robust (lavaan ``cluster=``, ``se="robust.cluster"``): the scores
    are summed within clusters and scaled by ``sqrt(G / (G - 1))`` (G clusters)
    before the cross product, still divided by the number of cases.
    """
    n = len(sc)
    if cluster is not None:
        sums = np.zeros((int(cluster.max()) + 1, sc.shape[1]))
        np.add.at(sums, cluster, sc)
        g = len(sums)
        sc = sums * np.sqrt(g / (g - 1))
    return sc.T @ sc / n


def first_order(scores: list[np.ndarray], clusters: list[np.ndarray | None] | None = None) -> list[np.ndarray]:
    """Per group: mean outer product of case-wise scores, ``B0_g = S_g' S_g / n_g`` (cluster sums if given)."""
    clusters = clusters or [None] * len(scores)
    return [outer_scores(s, c) for s, c in zip(scores, clusters)]


def sandwich(a_inv: np.ndarray, b0: list[np.ndarray], weights: np.ndarray, ntotal: int) -> np.ndarray:
    """Huber-White covariance matrix of the estimates: ``A^-1 (sum_g w_g B0_g) A^-1 / N``."""
    b = sum(w * bg for w, bg in zip(weights, b0))
    return a_inv @ b @ a_inv / ntotal


@dataclass(frozen=True)
class SaturatedInformation:
    """h1 information of one group in the (means, vech(Sigma)) parametrisation."""

    observed: np.ndarray  # A1: observed information per case (unstructured)
    first_order: np.ndarray  # B1: mean outer product of case-wise scores
    keep: np.ndarray  # indices not belonging to fixed.x covariates


def saturated_information(gd: GroupData, ov: tuple[str, ...], ov_x: tuple[str, ...],
                          meanstructure: bool) -> SaturatedInformation:
    """A1 and B1 of the unrestricted model of one group, at its ML estimates (EM with missing data)."""
    pt = saturated_partable(ov, meanstructure)
    model = RamModel(pt, [(gd.cov, gd.mean)])
    theta = np.zeros(pt.npar)
    t = pt.table
    index = {x: i for i, x in enumerate(ov)}
    for r in t.itertuples():
        if r.op == "~1":
            theta[r.free - 1] = gd.mean[index[r.lhs]]
        else:
            theta[r.free - 1] = gd.cov[index[r.lhs], index[r.rhs]]
    if gd.has_missing:
        obj = FIMLObjective(model, [gd], True)
        a1 = saturated_fiml_hessian(gd) / 2.0
    else:
        obj = MLObjective(model, [gd], meanstructure)
        a1 = obj.information(theta)
    sc = obj.scores(theta)[0]
    b1 = outer_scores(sc, gd.cluster)
    is_x = np.array([(r.lhs in ov_x) and (r.op == "~1" or r.rhs in ov_x) for r in t.itertuples()])
    return SaturatedInformation(a1, b1, np.flatnonzero(~is_x))


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
    k = info.keep
    a1 = info.observed[np.ix_(k, k)]
    b1 = info.first_order[np.ix_(k, k)]
    return float(np.sum(b1 * np.linalg.inv(a1).T)), len(k)


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
    return ScaledTest(scaled, df, float(stats.chi2.sf(scaled, df)), c,
                      float(trace_h1.sum() / ndat), float(trace_h0.sum() / npar), trace_ug)


@dataclass(frozen=True)
class FimlCorrected:
    """FIML-corrected statistics (lavaan ``lav_fit_fiml_corrected``) for robust CFI/TLI/RMSEA."""

    xx3: float
    df3: int
    c_hat3: float
    xx3_scaled: float
    xx3_null: float
    df3_null: int
    c_hat3_null: float


def _kept(mat: np.ndarray, keep: np.ndarray, invert: bool = False) -> np.ndarray:
    """``mat`` with the rows/columns of covariate moments set to zero (inverting the rest),
    as lavaan's h1 information with ``x.idx`` and ``lav_matrix_symmetric_inverse``."""
    out = np.zeros_like(mat)
    block = mat[np.ix_(keep, keep)]
    out[np.ix_(keep, keep)] = np.linalg.inv(block) if invert else block
    return out


def _h1_blocks(groups, variables, weights, h1=None):
    wm, wmi, wc, gamma = [], [], [], []
    for g, (w, gd) in enumerate(zip(weights, groups)):
        info = h1[g] if h1 is not None and h1[g] is not None else \
            saturated_information(gd, variables.ov, variables.ov_x, True)
        complete = saturated_information(
            GroupData(gd.data, gd.n, gd.mean, gd.cov), variables.ov, variables.ov_x, True)
        k = info.keep
        inv = _kept(info.observed, k, invert=True)
        wm.append(w * _kept(info.observed, k))
        wmi.append(inv / w)
        wc.append(w * _kept(complete.observed, k))
        gamma.append(inv @ _kept(info.first_order, k) @ inv / w)
    return wm, wmi, wc, gamma


def _block_diag(blocks: list[np.ndarray]) -> np.ndarray:
    from scipy.linalg import block_diag

    return block_diag(*blocks)


def fiml_corrected(model_est, base_est, df: int, df_null: int, scaled: bool, h1=None) -> FimlCorrected:
    """Zhang & Savalei's FIML-corrected chi-square and scaling (versions V3 with MLR, V6 with ML).

    ``model_est`` and ``base_est`` are :class:`analysis.sem.fit.Estimation` objects of the
    fitted model and of the independence model, both fitted by FIML.
    """
    groups = list(model_est.groups)
    weights = model_est.objective.weights
    n = model_est.objective.ntotal
    wm, wmi, wc, gamma = _h1_blocks(groups, model_est.partable.variables, weights, h1)
    wm_all, wmi_all, wc_all, gamma_all = (_block_diag(b) for b in (wm, wmi, wc, gamma))

    def parts(est, dfx):
        complete = MLObjective(est.model, groups, True)
        xx = n * complete.value(est.theta)
        deltas = [est.model.jacobian(g, est.model.implied(est.theta, g), True) for g in range(len(groups))]
        delta = np.vstack(deltas)
        e = delta.T @ wm_all @ delta
        u = wm_all - wm_all @ delta @ np.linalg.solve(e, delta.T @ wm_all)
        if scaled:
            k = np.trace(u @ wmi_all @ wc_all @ wmi_all @ u @ gamma_all)
        else:
            k = np.trace(wc_all @ wmi_all @ u @ wmi_all)
        return xx, (k / dfx if dfx > 0 else float("nan"))

    xx3, c3 = parts(model_est, df)
    xx3_null, c3_null = parts(base_est, df_null)
    return FimlCorrected(xx3, df, c3, xx3 / c3 if np.isfinite(c3) else float("nan"), xx3_null, df_null, c3_null)


def saturated_fiml_hessian(gd: GroupData) -> np.ndarray:
    """Hessian of ``-2 logL / N`` of the saturated model under missing data, at ``(gd.mean, gd.cov)``.

    Parameters in saturated order (means, then vech(Sigma) column by column).
    The general rank-2 formulas of :mod:`analysis.sem.objective` reduce, for unit
    vectors, to gathers from ``W = Sigma_oo^-1`` (zero-padded) and
    ``Z = W S~ W``: ``T(P,Q)[k,l] = h_k h_l (Q[b_k,a_l] P[b_l,a_k] + Q[b_k,b_l]
    P[a_l,a_k] + Q[a_k,a_l] P[b_l,b_k] + Q[a_k,b_l] P[a_l,b_k])`` - written out
    because the generic path costs O(p^6) per pattern here (q = p(p+3)/2).
    """
    p = len(gd.mean)
    a, b = vech_indices(p)
    h = np.where(a == b, 0.5, 1.0)
    hh = np.outer(h, h)
    q = p + len(a)
    hess = np.zeros((q, q))
    mu, sigma = gd.mean, gd.cov
    ia, ib = np.ix_(a, a), np.ix_(b, b)
    iba, iab = np.ix_(b, a), np.ix_(a, b)

    def trace_products(P, Q):
        return hh * (Q[iba] * P[iba].T + Q[ib] * P[ia].T + Q[ia] * P[ib].T + Q[iab] * P[iab].T)

    for pat in gd.patterns:
        o = pat.observed
        w = np.zeros((p, p))
        w[np.ix_(o, o)] = np.linalg.inv(sigma[np.ix_(o, o)])
        d = np.zeros(p)
        d[o] = pat.mean - mu[o]
        s = np.zeros((p, p))
        s[np.ix_(o, o)] = pat.cov + np.outer(d[o], d[o])
        z = w @ s @ w
        cov_block = trace_products(w, 2.0 * z - w)  # = 2 T(W, Z) - T(W, W): T is linear in its second argument
        wd = w @ d
        # mean-mean: 2 W; cov-mean: 2 (C + C'), C[k, j] = (W d)[a_k] h_k W[b_k, j] + (W d)[b_k] h_k W[a_k, j]
        c = (wd[a] * h)[:, None] * w[b] + (wd[b] * h)[:, None] * w[a]
        hess[:p, :p] += pat.n * 2.0 * w
        hess[p:, :p] += pat.n * 2.0 * c
        hess[:p, p:] += pat.n * 2.0 * c.T
        hess[p:, p:] += pat.n * cov_block
    return hess / gd.n

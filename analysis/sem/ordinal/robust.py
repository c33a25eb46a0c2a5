"""Robust standard errors and adjusted test statistics of DWLS / ULS fits, as lavaan 0.6.14.

With ``E = sum_g f_g Delta_g' W_g Delta_g`` (``f_g = n_g / N``, ``W_g`` the diagonal weights)
and ``Gamma_g`` the ``NACOV`` of group ``g``:

* standard errors ``se = "robust.sem"`` (``lav_model_nvcov_robust_sem``):
  ``vcov = E^-1 [sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g] E^-1 / N``; ``se = "standard"``:
  ``E^-1 / N``;
* ``U = V - V Delta E^-1 Delta' V`` over all groups, ``V = (+)_g f_g W_g`` and
  ``Gamma = (+)_g Gamma_g / f_g`` (``lav_test_satorra_bentler_trace_original``):
  the mean-adjusted (Satorra-Bentler) statistic ``T / c`` with ``c = tr(U Gamma) / df``, and the
  mean-and-variance adjusted (scaled-shifted) ``a T + b`` with ``a = sqrt(df / tr((U Gamma)^2))``,
  ``b = df - a tr(U Gamma)`` (lavaan reports ``1 / a`` as the scaling factor and ``b`` as the
  shift parameter);
* the robust CFI / TLI / RMSEA of ordinal data (``lav_fit_catml_dwls``, Savalei 2021): the
  normal-theory ML discrepancy of the polychoric matrix at the DWLS estimates (``catML``),
  ``XX3 = sum_g n_g F_ML(R_g, Sigma_g)``, with ``c = tr(WiU' Vc WiU Gamma_c) / df3``, where
  ``WiU = I - Delta_c E^-1 Delta_c' W_c`` over the correlations only, ``Vc`` the expected
  information of a correlation matrix at ``Sigma``; for the baseline ``tr(Gamma_c) / df3_null``.

Every ``Gamma`` product goes through the influence factor of
:class:`analysis.sem.ordinal.samplestats.OrdinalGroupStats` (``Gamma_g = Z_g' Z_g``, ``Z_g``
cases x statistics), choosing for each trace the cheaper of the statistics-space form (``Gamma``
formed, ``nstat^2 n``) and the case-space one (``Z U Z'``, ``n^2 nstat``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse, special

from analysis.sem.ordinal.samplestats import OrdinalGroupStats
from analysis.sem.robust import CorrectedStatistics
from analysis.sem.threads import large_threads


@dataclass(frozen=True)
class AdjustedTest:
    """A mean-adjusted (``satorra.bentler``) or mean-and-variance adjusted (``scaled.shifted``) test."""

    test: str
    chisq: float
    df: int
    pvalue: float
    scaling_factor: float
    shift_parameter: float  # 0 for the mean-adjusted test
    trace_ugamma: float
    trace_ugamma2: float


def _wd(d: sparse.csr_matrix, w: np.ndarray) -> sparse.csr_matrix:
    return sparse.csr_matrix(sparse.diags(w) @ d)


def robust_vcov(e_inv: np.ndarray, deltas: Sequence[sparse.csr_matrix], wls_v: Sequence[np.ndarray],
                stats: Sequence[OrdinalGroupStats], fg: np.ndarray, ntotal: int) -> np.ndarray:
    """lavaan's ``robust.sem`` covariance matrix of the estimates."""
    meat = np.zeros_like(e_inv)
    for d, w, st, f in zip(deltas, wls_v, stats, fg):
        a = _zwd(st, w, d)
        meat += f * (a.T @ a)
    return e_inv @ meat @ e_inv / ntotal


class GammaProducts:
    """Products with ``Gamma_g = Z_g' Z_g`` shared by the model's and the baseline model's tests.

    In the case space (more statistics than cases) the Gram matrices ``Z_g W_g Z_g'`` (cases x
    cases) of the univariate entries (thresholds, means, variances) and of the correlations are
    formed once (BLAS ``syrk``; for 135 items and N = 3,000 each is ~45 GFLOP) and serve both
    ``tr((U Gamma)^2)`` of the model and that of the baseline.
    """

    def __init__(self, stats: Sequence[OrdinalGroupStats], wls_v: Sequence[np.ndarray]):
        self.stats = list(stats)
        self.wls_v = list(wls_v)
        self.case_space = sum(st.nstat for st in stats) > sum(st.n for st in stats)
        self._grams: dict = {}

    def uni(self, g: int) -> slice:
        st = self.stats[g]
        return slice(0, st.nstat - len(st.cor) * (len(st.cor) - 1) // 2)

    def cor(self, g: int) -> slice:
        return slice(self.uni(g).stop, self.stats[g].nstat)

    def gram(self, g: int, part: str) -> np.ndarray:
        """``Z W Z'`` over the ``part`` ("uni" or "cor") columns of group ``g``."""
        key = (g, part)
        if key not in self._grams:
            cols = self.uni(g) if part == "uni" else self.cor(g)
            zw = self.stats[g].influence[:, cols] * np.sqrt(self.wls_v[g][cols])
            with large_threads(zw.shape[0]):
                upper = linalg.blas.dsyrk(1.0, zw)
            self._grams[key] = np.triu(upper) + np.triu(upper, 1).T
        return self._grams[key]


def _zwd(st: OrdinalGroupStats, w: np.ndarray, d: sparse.csr_matrix) -> np.ndarray:
    """``Z W Delta`` (cases x parameters) without copying ``Z``."""
    return np.asarray(_wd(d, w).T @ st.influence.T).T


def ugamma_traces(e_inv: np.ndarray, deltas: Sequence[sparse.csr_matrix], wls_v: Sequence[np.ndarray],
                  stats: Sequence[OrdinalGroupStats], fg: np.ndarray, second: bool = True,
                  products: GammaProducts | None = None) -> tuple[float, float]:
    """``tr(U Gamma)`` and ``tr((U Gamma)^2)`` (see the module docstring).

    With ``Zt_g = Z_g / sqrt(f_g)`` (``Gamma_g / f_g = Zt_g' Zt_g``) and ``V_g = f_g W_g``:
    ``A_g = Zt_g V_g Delta_g = sqrt(f_g) Z_g W_g Delta_g``; ``tr(U Gamma) = sum_g tr(W_g Gamma_g) -
    sum_g tr(E^-1 A_g' A_g)`` and ``Z U Z'`` has blocks ``delta_gh Z_g W_g Z_g' - A_g E^-1 A_h'``.
    """
    a_list = [np.sqrt(f) * _zwd(st, w, d) for st, w, d, f in zip(stats, wls_v, deltas, fg)]
    tr1 = 0.0
    for st, w, a in zip(stats, wls_v, a_list):
        tr1 += float(st.nacov_diag @ w) - float(np.sum((a @ e_inv) * a))
    if not second:
        return tr1, float("nan")
    products = GammaProducts(stats, wls_v) if products is None else products
    if not products.case_space:  # statistics space: U Gamma with Gamma formed per group
        vs = [f * w for w, f in zip(wls_v, fg)]
        zs = [st.influence / np.sqrt(f) for st, f in zip(stats, fg)]
        return tr1, _trace2_stat_space(e_inv, deltas, vs, zs)
    tr2 = 0.0
    b_list = [a @ e_inv for a in a_list]
    for g in range(len(stats)):
        block = products.gram(g, "uni") + products.gram(g, "cor") - b_list[g] @ a_list[g].T
        tr2 += float(np.sum(block * block))
        for h in range(len(stats)):
            if h != g:
                cross = b_list[g] @ a_list[h].T
                tr2 += float(np.sum(cross * cross))
    return tr1, tr2


def baseline_traces(stats: Sequence[OrdinalGroupStats], wls_v: Sequence[np.ndarray],
                    products: GammaProducts | None = None, second: bool = True) -> tuple[float, float]:
    """``tr(U Gamma)`` and ``tr((U Gamma)^2)`` of the independence model, in closed form.

    Its ``Delta`` selects the thresholds, means and variances (each its own parameter, one group at
    a time), so ``Delta (Delta' V Delta)^-1 Delta' V`` projects onto them and ``U`` is ``f_g W_g``
    on the correlations and 0 elsewhere: ``tr(U Gamma) = sum_g tr(W_c Gamma_cc)``,
    ``tr((U Gamma)^2) = sum_g ||W_c^1/2 Gamma_cc W_c^1/2||^2`` (``f_g`` cancels).
    """
    products = GammaProducts(stats, wls_v) if products is None else products
    tr1 = tr2 = 0.0
    for g, (st, w) in enumerate(zip(stats, wls_v)):
        cols = products.cor(g)
        tr1 += float(st.nacov_diag[cols] @ w[cols])
        if not second:
            continue
        if products.case_space:
            gram = products.gram(g, "cor")
        else:
            zw = st.influence[:, cols] * np.sqrt(w[cols])
            gram = zw.T @ zw
        tr2 += float(np.sum(gram * gram))
    return tr1, (tr2 if second else float("nan"))


def _trace2_stat_space(e_inv, deltas, vs, zs) -> float:
    """``tr((U Gamma)^2)`` with ``U`` and ``Gamma`` formed over the statistics of all groups."""
    d_all = sparse.vstack(list(deltas)).tocsr()
    v_all = np.concatenate(vs)
    gamma = linalg.block_diag(*[z.T @ z for z in zs])
    vd = np.asarray((sparse.diags(v_all) @ d_all).todense())
    u = np.diag(v_all) - vd @ e_inv @ vd.T
    ug = u @ gamma
    return float(np.sum(ug * ug.T))


def scaled_shifted(chisq: float, df: int, tr1: float, tr2: float) -> AdjustedTest:
    """lavaan's ``scaled.shifted`` test (WLSMV, ULSMV)."""
    if df <= 0:
        return AdjustedTest("scaled.shifted", chisq, df, float("nan"), float("nan"), float("nan"), tr1, tr2)
    a = np.sqrt(df / tr2)
    shift = df - a * tr1
    stat = chisq * a + shift
    c = 1.0 / a
    return AdjustedTest("scaled.shifted", float(stat), df, float(special.chdtrc(df, stat)),
                        float(c) if c >= 0 else float("nan"), float(shift), tr1, tr2)


def satorra_bentler(chisq: float, df: int, tr1: float) -> AdjustedTest:
    """lavaan's mean-adjusted ``satorra.bentler`` test (WLSM)."""
    if df <= 0:
        return AdjustedTest("satorra.bentler", chisq, df, float("nan"), float("nan"), 0.0, tr1, float("nan"))
    c = tr1 / df
    if c < 0:
        c = float("nan")
    stat = chisq / c
    return AdjustedTest("satorra.bentler", float(stat), df, float(special.chdtrc(df, stat)), float(c), 0.0, tr1,
                        float("nan"))


# -- catML (robust CFI / TLI / RMSEA of ordinal data) -------------------------------------------------
def ml_correlation_discrepancy(sample: np.ndarray, implied: np.ndarray) -> float:
    """``log|Sigma| + tr(R Sigma^-1) - log|R| - p`` (``inf`` when ``Sigma`` is not positive definite)."""
    try:
        cf = linalg.cho_factor(implied)
    except linalg.LinAlgError:
        return float("inf")
    logdet = 2.0 * np.sum(np.log(np.diag(cf[0])))
    inv_r = linalg.cho_solve(cf, sample)
    return float(logdet + np.trace(inv_r) - np.linalg.slogdet(sample)[1] - len(sample))


def catml(stats: Sequence[OrdinalGroupStats], sigmas: Sequence[np.ndarray], e_inv: np.ndarray,
          deltas: Sequence[sparse.csr_matrix], wls_v: Sequence[np.ndarray], fg: np.ndarray,
          df3: int) -> CorrectedStatistics:
    """Savalei's (2021) robust statistics of an all-ordinal DWLS fit (see the module docstring).

    ``sigmas``: the implied correlation matrices at the DWLS estimates; ``df3``: the catML model's
    degrees of freedom (correlations minus the parameters other than thresholds and means).
    """
    n = [st.n for st in stats]
    xx3 = xx3_null = ks = kbs = 0.0
    df_null = 0
    blocks = []  # per group: correlation columns, Delta_c, W_c, Sigma^-1, p
    for st, sig, d, w in zip(stats, sigmas, deltas, wls_v):
        p = len(st.cor)
        ncor = p * (p - 1) // 2
        rows = slice(st.nstat - ncor, st.nstat)
        blocks.append((rows, sparse.csr_matrix(d[rows]), w[rows], np.linalg.inv(sig), p))
        df_null += ncor
    for g, (st, sig) in enumerate(zip(stats, sigmas)):
        xx3 += n[g] * ml_correlation_discrepancy(st.cor, sig)
        xx3_null += n[g] * (-np.linalg.slogdet(st.cor)[1])
        rows, dc, wc, _, _ = blocks[g]
        kbs += float(np.sum(st.nacov_diag[rows])) / fg[g]
        # the cases of group g, with zt = z / sqrt(f_g) and Wc scaled by f_g: y = WiU zt =
        # zt - Delta_c E^-1 Delta_c' f_g W_c zt, nonzero in every group's block through E^-1
        z = st.influence[:, rows]
        proj = (np.sqrt(fg[g]) * np.asarray(_wd(dc, wc).T @ z.T).T) @ e_inv  # n_g x npar
        for h, (_, dh, _, winv, p) in enumerate(blocks):
            ks += fg[h] * _correlation_quadratic(z if h == g else None, 1.0 / np.sqrt(fg[g]), dh, proj, winv, p)
    c_hat3 = ks / df3 if df3 > 0 else float("nan")
    c_null = kbs / df_null
    return CorrectedStatistics(xx3, df3, c_hat3, xx3 / c_hat3 if np.isfinite(c_hat3) else float("nan"), xx3_null, df_null, c_null)


def _correlation_quadratic(z: np.ndarray | None, scale: float, d: sparse.csr_matrix, proj: np.ndarray,
                           winv: np.ndarray, p: int) -> float:
    """``sum_i y_i' Vc y_i`` over the cases, ``y_i = scale z_i - d proj_i`` (``z`` None: 0), the
    off-diagonal correlations in vech order; ``Vc`` the expected information of a correlation
    matrix (lavaan's ``lav_mvnorm_information_expected(..., correlation = TRUE)``): ``y' Vc y =
    tr(W Y W Y) / 2`` with ``Y`` the symmetric matrix of ``y`` and ``W = Sigma^-1``. A block of cases
    at a time (no cases x correlations array)."""
    rows, cols = np.tril_indices(p, -1)
    order = np.lexsort((rows, cols))  # column by column (vech order)
    rows, cols = rows[order], cols[order]
    total = 0.0
    step = max(1, 2_000_000 // (p * p))
    for s in range(0, proj.shape[0], step):
        blk = -np.asarray(d @ proj[s:s + step].T).T
        if z is not None:
            blk += scale * z[s:s + step]
        mats = np.zeros((blk.shape[0], p, p))
        mats[:, rows, cols] = blk
        mats[:, cols, rows] = blk
        yw = mats @ winv
        total += 0.5 * float(np.einsum("nij,nji->", yw, yw))
    return total

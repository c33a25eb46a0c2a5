"""Sample statistics of ordinal (and mixed) data, as lavaan 0.6.14's ``muthen1984()`` computes them.

What goes in: one group's data - ordinal items as category codes ``1..K`` (0 =
missing), continuous variables as numbers (NaN = missing). What comes out:
:class:`OrdinalGroupStats` with

* thresholds (probit of the cumulative proportions, lavaan's ``lav_uvord_th``)
  and, for continuous variables, means and ML variances;
* the correlation matrix: polychoric between ordinal items, polyserial between
  an ordinal item and a continuous variable, Pearson between continuous ones
  (two-step: thresholds, means and variances fixed at their univariate estimates,
  each correlation the ML estimate of its bivariate table or sample; lavaan's
  ``lav_bvord_cor_twostep_fit``, ``lav_bvmix_*``, ``lav_bvreg_*``);
* ``wls_obs``, lavaan's ``WLS.obs``: thresholds (``-mean`` for a continuous
  variable), the variances of the continuous variables, then the off-diagonal
  lower triangle of the covariance matrix column by column;
* the asymptotic covariance matrix of ``wls_obs`` (lavaan's ``NACOV`` = Gamma),
  kept as a factor: ``influence`` (n x nstat) with ``NACOV = influence' influence``.
  Muthen (1984): with ``s_i`` the case-wise scores of the univariate and bivariate
  estimating equations and ``B`` their (block-triangular) outer-product information,
  ``NACOV = N B^-1 (sum_i s_i s_i') B^-T``; the rows of ``influence`` are
  ``sqrt(N) B^-1 s_i`` (then rescaled from correlations to covariances for
  continuous variables, and sign-flipped for their means, as lavaan does).

Why a factor: for 138 seven-point items ``NACOV`` has 10,281 rows (845 MB); the
influence matrix of N = 3,000 cases is a third of that, and every quantity WLSMV
needs (the DWLS weights, the robust standard errors, the traces of the scaled
test) is a product with it (:mod:`analysis.sem.ordinal.robust`).

Vectorisation: every case-wise quantity of an ordinal item or pair of items is a
function of the case's category (cell), so it is computed once per category or
cell and gathered; the polychoric correlations of all pairs are estimated together
by Newton steps on their (independent) likelihoods, with the bivariate normal CDF
from :mod:`analysis.sem.ordinal.bivariate`.

Missing values (``missing="pairwise"``): univariate statistics use every case that
answered the item, each correlation every case that answered both; a case's score
for a statistic it has no data for is 0 (lavaan's ``na.rm`` cross-products).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import optimize, special

from analysis.sem.ordinal.bivariate import bvn_cdf, bvn_pdf, bvn_pdf_drho

SQRT_EPS = float(np.sqrt(np.finfo(float).eps))
EPS = float(np.finfo(float).eps)
RHO_BOUND = 0.999  # lavaan's bounds of the polychoric optimiser (nlminb lower/upper)
RHO_BOUND_MIX = 0.995  # lavaan's bounds for polyserial correlations


def vech_offdiag(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the strict lower triangle, column by column (``i > j``; lavaan's
    ``lav_matrix_vech(x, diagonal = FALSE)`` order)."""
    rows, cols = [], []
    for j in range(p):
        for i in range(j + 1, p):
            rows.append(i)
            cols.append(j)
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


@dataclass(frozen=True)
class OrdinalGroupStats:
    """One group's thresholds, correlations, ``WLS.obs`` and the factor of its ``NACOV``.

    ``th`` holds lavaan's ``TH``: per variable its thresholds (ordinal) or its mean
    (continuous), ``th_var`` the 0-based variable of each entry. ``cov`` is the
    correlation matrix rescaled by the continuous variables' SDs (``cor2cov``).
    """

    n: int
    ordinal: np.ndarray  # bool per variable
    nlevels: np.ndarray  # categories per variable (0 for continuous)
    th: np.ndarray
    th_var: np.ndarray
    var: np.ndarray  # variances (1 for ordinal items)
    cor: np.ndarray
    cov: np.ndarray
    wls_obs: np.ndarray
    influence: np.ndarray = field(repr=False)  # n x nstat, NACOV = influence' influence
    pair_n: np.ndarray = field(repr=False)  # cases answering both variables of each pair (p x p)
    zero_cells: tuple[tuple[int, int], ...] = ()  # pairs of ordinal items with an empty cell in their table

    @property
    def mean(self) -> np.ndarray:
        """Means of the latent responses as the sample gives them: 0 for ordinal items, the sample
        mean of a continuous variable."""
        out = np.zeros(len(self.ordinal))
        num = ~self.ordinal[self.th_var]
        out[self.th_var[num]] = self.th[num]
        return out

    @property
    def num_idx(self) -> np.ndarray:
        return np.flatnonzero(~self.ordinal)

    @property
    def nstat(self) -> int:
        return len(self.wls_obs)

    @property
    def nth(self) -> int:
        return len(self.th)

    @cached_property
    def nacov_diag(self) -> np.ndarray:
        """Diagonal of ``NACOV`` (what the DWLS weights invert)."""
        return np.einsum("ij,ij->j", self.influence, self.influence)

    def nacov(self) -> np.ndarray:
        """``NACOV`` itself (nstat x nstat; only for small models and tests)."""
        return self.influence.T @ self.influence


# -- univariate -------------------------------------------------------------------------
def _ordinal_univariate(codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thresholds of one item (``codes`` 1..k, 0 missing), the score of each threshold per category
    (rows: category 0 (missing) .. k) and the threshold influence per category ``A11^-1 s``."""
    counts = np.bincount(codes, minlength=k + 1)[1:k + 1].astype(float)
    prop = counts / counts.sum()
    th = special.ndtri(np.cumsum(prop)[:-1])
    tau = np.concatenate([[-np.inf], th, [np.inf]])
    pi = np.diff(special.ndtr(tau))
    dens = np.exp(-0.5 * th * th) / np.sqrt(2 * np.pi)
    scores = np.zeros((k + 1, k - 1))
    for c in range(1, k + 1):  # category c: upper threshold c (index c-1), lower threshold c-1 (index c-2)
        if c <= k - 1:
            scores[c, c - 1] += dens[c - 1] / pi[c - 1]
        if c >= 2:
            scores[c, c - 2] -= dens[c - 2] / pi[c - 1]
    a11 = (scores[1:].T * counts) @ scores[1:]
    influence = scores @ np.linalg.inv(a11).T
    return th, scores, influence


def _numeric_univariate(y: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Mean, ML variance, the case-wise scores ``[d mu, d var]`` (0 where missing) and their influence."""
    obs = ~np.isnan(y)
    mu = float(y[obs].mean())
    var = float(((y[obs] - mu) ** 2).mean())
    r = np.where(obs, y - mu, 0.0)
    sc = np.column_stack([r / var, np.where(obs, -1.0 / (2 * var) + r * r / (2 * var * var), 0.0)])
    a11 = sc.T @ sc
    return mu, var, sc, sc @ np.linalg.inv(a11).T


# -- polychoric -------------------------------------------------------------------------
def _cell_probabilities(t1: np.ndarray, t2: np.ndarray, rho: np.ndarray) -> tuple[np.ndarray, ...]:
    """For pairs of items with padded thresholds ``t1`` (m x (K1+1): -inf, thresholds, +inf...) and
    ``t2``, at correlations ``rho`` (m): cell probabilities ``PI`` (m x K1 x K2, floored at sqrt(eps)
    as lavaan), their derivative ``phi`` and second derivative ``gnorm`` in ``rho``."""
    a, b = t1[:, :, None], t2[:, None, :]
    r = rho[:, None, None]
    bi = bvn_cdf(a, b, r)
    pdf = bvn_pdf(a, b, r)
    dpdf = bvn_pdf_drho(a, b, r, pdf)

    def cells(x):
        return x[:, 1:, 1:] - x[:, :-1, 1:] - x[:, 1:, :-1] + x[:, :-1, :-1]

    pi = np.maximum(cells(bi), SQRT_EPS)
    return pi, cells(pdf), cells(dpdf)


def _padded_thresholds(th_list: list[np.ndarray], kmax: int) -> np.ndarray:
    out = np.full((len(th_list), kmax + 1), np.inf)
    for v, th in enumerate(th_list):
        out[v, 0] = -np.inf
        out[v, 1:len(th) + 1] = th
    return out


def polychoric(tables: np.ndarray, t1: np.ndarray, t2: np.ndarray, start: np.ndarray,
               tol: float = 1e-11, max_iter: int = 100) -> np.ndarray:
    """ML polychoric correlations of many pairs at once, thresholds fixed (lavaan's two-step estimator).

    ``tables`` (m x K1 x K2): cell counts; ``t1``/``t2``: padded thresholds of each pair's items;
    ``start``: starting values (lavaan starts at the Pearson correlation of the codes). Newton steps
    on each pair's log-likelihood ``sum n_ab log PI_ab(rho)``, safeguarded by bisection on the sign of
    the gradient inside ``[-0.999, 0.999]`` (lavaan's bounds); pairs stop when the step falls below
    ``tol``.
    """
    rho = np.clip(np.asarray(start, dtype=float).copy(), -0.9, 0.9)
    lo = np.full(len(rho), -RHO_BOUND)
    hi = np.full(len(rho), RHO_BOUND)
    active = np.arange(len(rho))
    for _ in range(max_iter):
        if len(active) == 0:
            break
        r = rho[active]
        pi, phi, gn = _cell_probabilities(t1[active], t2[active], r)
        n = tables[active]
        ok = pi > SQRT_EPS
        grad = np.sum(np.where(ok, n * phi / pi, 0.0), axis=(1, 2))
        hess = np.sum(np.where(ok, n * (gn / pi - phi * phi / (pi * pi)), 0.0), axis=(1, 2))
        # keep a bracket of the root of the gradient (the log-likelihood is unimodal in rho)
        lo[active] = np.where(grad > 0, np.maximum(lo[active], r), lo[active])
        hi[active] = np.where(grad < 0, np.minimum(hi[active], r), hi[active])
        flat = np.abs(grad) < 1e-13 * np.maximum(n.sum(axis=(1, 2)), 1)  # at the root already
        with np.errstate(divide="ignore", invalid="ignore"):
            new = r - grad / hess
        bad = ~np.isfinite(new) | (hess >= 0) | (new < lo[active]) | (new > hi[active])
        new = np.where(flat, r, np.where(bad, 0.5 * (lo[active] + hi[active]), new))
        step = np.abs(new - r)
        rho[active] = new
        done = flat | (step < tol)
        active = active[~done]
    return rho


# -- polyserial and Pearson with missing values ---------------------------------------------
def _polyserial(y: np.ndarray, mu: float, var: float, codes: np.ndarray, th: np.ndarray) -> float:
    """ML polyserial correlation of continuous ``y`` and ordinal ``codes`` (univariate parts fixed)."""
    obs = ~np.isnan(y) & (codes > 0)
    z = (y[obs] - mu) / np.sqrt(var)
    c = codes[obs]
    tau = np.concatenate([[-100.0], th, [100.0]])  # lavaan's +/-100 for the open ends
    up, low = tau[c], tau[c - 1]

    def negll(rho):
        r = np.sqrt(1 - rho * rho)
        p = special.ndtr((up - rho * z) / r) - special.ndtr((low - rho * z) / r)
        return -np.sum(np.log(np.maximum(p, EPS)))

    res = optimize.minimize_scalar(negll, bounds=(-RHO_BOUND_MIX, RHO_BOUND_MIX), method="bounded",
                                   options={"xatol": 1e-12})
    return float(res.x)


def _pearson_ml(y1: np.ndarray, y2: np.ndarray, mu1: float, v1: float, mu2: float, v2: float) -> float:
    """Pearson correlation: the sample correlation with complete data, else the ML estimate of the
    pairwise-complete cases with means and variances fixed (lavaan's ``lav_bvreg_cor_twostep_fit``)."""
    both = ~np.isnan(y1) & ~np.isnan(y2)
    if both.all():
        return float(np.corrcoef(y1, y2)[0, 1])
    a, b = (y1[both] - mu1) / np.sqrt(v1), (y2[both] - mu2) / np.sqrt(v2)

    def negll(rho):
        r = 1 - rho * rho
        return 0.5 * np.sum(np.log(r) + (a * a - 2 * rho * a * b + b * b) / r)

    res = optimize.minimize_scalar(negll, bounds=(-RHO_BOUND, RHO_BOUND), method="bounded",
                                   options={"xatol": 1e-12})
    return float(res.x)


# -- the statistics of one group ------------------------------------------------------------------
def ordinal_group_stats(codes: np.ndarray, values: np.ndarray, ordinal: np.ndarray,
                        nlevels: np.ndarray) -> OrdinalGroupStats:
    """Thresholds, correlations, ``WLS.obs`` and the ``NACOV`` factor of one group.

    Parameters
    ----------
    codes : ndarray of int (n x p)
        Category codes ``1..K_j`` of the ordinal columns (0 = missing; other columns ignored).
    values : ndarray of float (n x p)
        Values of the continuous columns (NaN = missing; other columns ignored).
    ordinal : ndarray of bool (p)
    nlevels : ndarray of int (p)
        Number of categories ``K_j`` of each ordinal column (its levels over all groups).
    """
    n, p = codes.shape
    ordinal = np.asarray(ordinal, dtype=bool)
    # univariate: per variable the entries of TH (thresholds or mean), their influence per case
    th_parts, th_var, uni_infl, uni_var_infl = [], [], [], {}
    ord_tables: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    mean = np.zeros(p)
    var = np.ones(p)
    num_scores: dict[int, np.ndarray] = {}
    for j in range(p):
        if ordinal[j]:
            th, sc, infl = _ordinal_univariate(codes[:, j], int(nlevels[j]))
            ord_tables[j] = (sc, infl)
            th_parts.append(th)
            th_var += [j] * len(th)
            uni_infl.append(infl[codes[:, j]])
        else:
            mu, v, sc, infl = _numeric_univariate(values[:, j])
            mean[j], var[j] = mu, v
            num_scores[j] = sc
            th_parts.append(np.array([mu]))
            th_var.append(j)
            uni_infl.append(infl[:, :1])
            uni_var_infl[j] = infl[:, 1]
    th_all = np.concatenate(th_parts)
    th_var = np.array(th_var, dtype=int)
    num = np.flatnonzero(~ordinal)
    # observed indicators, pair counts
    obs = np.where(ordinal[None, :], codes > 0, ~np.isnan(values))
    of = obs.astype(float)
    pair_n = of.T @ of
    rows, cols = vech_offdiag(p)
    npairs = len(rows)
    cor = np.eye(p)
    nth, nnum = len(th_all), len(num)
    # the influence matrix, filled in place block by block (for 135 items and N = 3,000: 230 MB)
    influence = np.empty((n, nth + nnum + npairs))
    infl_cor = influence[:, nth + nnum:]
    zero_cells: list[tuple[int, int]] = []
    # -- ordinal x ordinal: all pairs at once ---------------------------------------------------
    both_ord = ordinal[rows] & ordinal[cols]
    if both_ord.any():
        idx = np.flatnonzero(both_ord)
        kmax = int(nlevels[ordinal].max())
        th_list = [th_parts[j] if ordinal[j] else np.array([]) for j in range(p)]
        tpad = _padded_thresholds(th_list, kmax)
        i_, j_ = rows[idx], cols[idx]
        # bivariate tables (pair x K x K) from one-hot codes: cases missing either item drop out
        onehot = np.zeros((n, p, kmax + 1))
        onehot[np.arange(n)[:, None], np.arange(p)[None, :], np.where(ordinal[None, :], codes, 0)] = 1.0
        oh = onehot[:, :, 1:].reshape(n, -1)
        full = (oh.T @ oh).reshape(p, kmax, p, kmax)
        tables = full[i_, :, j_, :]  # (m, K, K): rows = categories of item i, cols of item j
        cats = np.arange(kmax)
        inside = (cats[None, :, None] < nlevels[i_][:, None, None]) & (cats[None, None, :] < nlevels[j_][:, None, None])
        empty = np.any((tables == 0) & inside, axis=(1, 2))
        zero_cells = [(int(a), int(b)) for a, b in zip(i_[empty], j_[empty])]
        # lavaan's start: Pearson correlation of the codes (pairwise complete)
        start = _code_correlations(codes, i_, j_)
        rho = _twostep_special_cases(tables, tpad[i_], tpad[j_], nlevels[i_], nlevels[j_], start)
        cor[i_, j_] = cor[j_, i_] = rho
        if len(idx) == npairs:  # all ordinal: written straight into the influence matrix
            _polychoric_influence(codes, i_, j_, tables, tpad, rho, ord_tables, kmax, out=infl_cor)
        else:
            infl_cor[:, idx] = _polychoric_influence(codes, i_, j_, tables, tpad, rho, ord_tables, kmax)
    # -- pairs with a continuous variable: one at a time (few) -------------------------------------
    for m in np.flatnonzero(~both_ord):
        i, j = int(rows[m]), int(cols[m])
        if not ordinal[i] and not ordinal[j]:
            rho = _pearson_ml(values[:, i], values[:, j], mean[i], var[i], mean[j], var[j])
            cor[i, j] = cor[j, i] = rho
            infl_cor[:, m] = _pearson_influence(values, i, j, mean, var, rho, num_scores, uni_infl,
                                                uni_var_infl)
        else:
            yn, yo = (i, j) if not ordinal[i] else (j, i)
            rho = _polyserial(values[:, yn], mean[yn], var[yn], codes[:, yo], th_parts[yo])
            cor[i, j] = cor[j, i] = rho
            infl_cor[:, m] = _polyserial_influence(values[:, yn], codes[:, yo], mean[yn], var[yn],
                                                   th_parts[yo], rho, num_scores[yn], uni_infl[yn],
                                                   uni_var_infl[yn], ord_tables[yo][1])
    sd = np.sqrt(var)
    cov = cor * np.outer(sd, sd)
    # influence of TH and the variances; sign of the means flipped (WLS.obs holds -mean)
    numeric_entry = ~ordinal[th_var]
    influence[:, :nth] = np.concatenate(uni_infl, axis=1)
    influence[:, :nth][:, numeric_entry] *= -1.0
    for k, j in enumerate(num):
        influence[:, nth + k] = uni_var_infl[j]
    influence *= np.sqrt(n)
    th_obs = np.where(numeric_entry, -th_all, th_all)
    wls_obs = np.concatenate([th_obs, var[num], cov[rows, cols]])
    return OrdinalGroupStats(n, ordinal, np.where(ordinal, nlevels, 0), th_all, th_var, var, cor, cov, wls_obs,
                             influence, pair_n, tuple(zero_cells))


def _code_correlations(codes: np.ndarray, i_: np.ndarray, j_: np.ndarray) -> np.ndarray:
    """Pearson correlations of the category codes of pairs ``(i_, j_)`` over the cases answering both."""
    obs = (codes > 0).astype(float)
    c = codes.astype(float)
    nn = obs.T @ obs
    s1 = c.T @ obs  # [a, b]: sum of codes of a over cases observing b
    s2 = (c * c).T @ obs
    sxy = c.T @ c
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - s1 * s1.T / nn
        va = s2 - s1 * s1 / nn
        r = cov / np.sqrt(va * va.T)
    out = r[i_, j_]
    return np.where(np.isfinite(out) & (np.abs(out) < 1), out, 0.0)


def _twostep_special_cases(tables, t1, t2, k1, k2, start) -> np.ndarray:
    """Polychoric correlations with lavaan's rules for 2 x 2 tables (``zero.add = c(0.5, 0)``): two
    empty cells give +/-1, one empty cell gets 0.5 added keeping the margins, a product-balanced
    table gives 0 and equal-split margins give the closed form ``-cos(2 pi p11)``."""
    tables = tables.astype(float).copy()
    rho = np.full(len(tables), np.nan)
    two = np.flatnonzero((k1 == 2) & (k2 == 2))
    for m in two:
        f = tables[m, :2, :2]
        zero = np.argwhere(f == 0)
        if len(zero) == 2:
            rho[m] = 1.0 if f[0, 0] > 0 else -1.0
            continue
        if len(zero) == 1:
            r0, c0 = zero[0]
            sign = 1.0 if r0 == c0 else -1.0  # a zero on the diagonal: add to the diagonal
            f[0, 0] += 0.5 * sign
            f[1, 1] += 0.5 * sign
            f[0, 1] -= 0.5 * sign
            f[1, 0] -= 0.5 * sign
            tables[m, :2, :2] = f
        if f[0, 0] * f[1, 1] == f[0, 1] * f[1, 0]:
            rho[m] = 0.0
        elif t1[m, 1] == 0 and t2[m, 1] == 0:
            rho[m] = -np.cos(2 * np.pi * f[0, 0] / f.sum())
    todo = np.flatnonzero(np.isnan(rho))
    if len(todo):
        rho[todo] = polychoric(tables[todo], t1[todo], t2[todo], start[todo])
    return rho


def _polychoric_influence(codes, i_, j_, tables, tpad, rho, ord_tables, kmax,
                          out: np.ndarray | None = None) -> np.ndarray:
    """Influence columns (``B^-1 s``, before the factor sqrt(N)) of the polychoric correlations.

    Per pair and cell (a, b) (0 = missing): ``[s_rho(a, b) - A21_i u_i(a) - A21_j u_j(b)] / A22`` with
    ``s_rho = phi / PI`` the correlation's score, ``u`` the items' threshold influences, and
    ``A21`` / ``A22`` the cross-products of the bivariate scores over the cases (count-weighted sums
    over the cells).
    """
    n = codes.shape[0]
    m = len(i_)
    pi, phi, _ = _cell_probabilities(tpad[i_], tpad[j_], rho)
    ok = pi > SQRT_EPS
    s_rho = np.where(ok, phi / pi, 0.0)  # m x K x K
    # bivariate scores of the thresholds: d PI_ab / d tau1_k, per cell
    a = tpad[i_][:, :, None]  # m x (K+1) x 1: tau1_0..tau1_K
    b = tpad[j_][:, None, :]
    r = np.sqrt(1 - rho * rho)[:, None, None]
    rr = rho[:, None, None]
    dens_a = np.where(np.isfinite(a), np.exp(-0.5 * a * a) / np.sqrt(2 * np.pi), 0.0)
    dens_b = np.where(np.isfinite(b), np.exp(-0.5 * b * b) / np.sqrt(2 * np.pi), 0.0)
    with np.errstate(invalid="ignore"):
        # g1[t, c] = phi(tau1_t) [Phi((tau2_c - rho tau1_t)/R)] for t in 0..K, c in 0..K; cells take differences
        ca = special.ndtr((b - rr * a) / r)
        cb = special.ndtr((a - rr * b) / r)
    ca = np.where(np.isfinite(a), ca, 0.0)
    cb = np.where(np.isfinite(b), cb, 0.0)
    ga = dens_a * ca  # m x (K+1) x (K+1) indexed [t (tau1 index), c (tau2 index)]
    gb = dens_b * cb  # indexed [c (tau1 index), t (tau2 index)]
    # dPI[a, b]/d tau1_t: t = a+1 (upper) -> ga[a+1, b+1] - ga[a+1, b]; t = a (lower) -> -(ga[a, b+1] - ga[a, b])
    za = ga[:, :, 1:] - ga[:, :, :-1]  # m x (K+1) x K: [t, b]
    zb = gb[:, 1:, :] - gb[:, :-1, :]  # m x K x (K+1): [a, t]
    k = kmax
    lik = np.where(ok, pi, np.inf)
    # A21 rows: sum over cells of n * s_rho * dth / lik
    a21_i = np.zeros((m, k - 1))
    a21_j = np.zeros((m, k - 1))
    w = tables * s_rho / lik  # m x K x K
    for t in range(1, k):  # interior threshold t (1..K-1) is index t-1
        # cells with a+1 == t (upper): a = t-1; cells with a == t (lower)
        a21_i[:, t - 1] = np.sum(w[:, t - 1, :] * za[:, t, :], axis=1) - np.sum(w[:, t, :] * za[:, t, :], axis=1)
        a21_j[:, t - 1] = np.sum(w[:, :, t - 1] * zb[:, :, t], axis=1) - np.sum(w[:, :, t] * zb[:, :, t], axis=1)
    a22 = np.sum(tables * s_rho * s_rho, axis=(1, 2))
    # cell tables of the influence, with row/col 0 for "missing"
    out_tab = np.zeros((m, k + 1, k + 1))
    out_tab[:, 1:, 1:] = s_rho
    # threshold influences per item padded to (K+1) categories x (K-1) thresholds (row 0 = missing)
    upad = np.zeros((max(ord_tables) + 1, k + 1, k - 1))
    for v, (_, infl) in ord_tables.items():
        upad[v, :infl.shape[0], :infl.shape[1]] = infl
    out_tab -= np.einsum("qct,qt->qc", upad[i_], a21_i)[:, :, None]
    out_tab -= np.einsum("qct,qt->qc", upad[j_], a21_j)[:, None, :]
    out_tab /= np.where(a22 > 0, a22, np.inf)[:, None, None]
    # gather per case: pair q, cell (codes_i, codes_j) -> flat position q (K+1)^2 + c_i (K+1) + c_j
    # 64 cases at a time, so that the index arrays stay in cache (all at once: ~10x slower for 135 items,
    # N = 3,000), with np.intp indices (numpy's take converts any other integer type first)
    cc = codes.astype(np.intp)
    flat = out_tab.ravel()
    base = (np.arange(m, dtype=np.intp) * (k + 1) ** 2)[None, :]
    if out is None:
        out = np.empty((n, m))
    for s in range(0, n, 64):
        block = cc[s:s + 64]
        idx = block[:, i_] * (k + 1)
        idx += block[:, j_]
        idx += base
        np.take(flat, idx, out=out[s:s + 64], mode="clip")  # mode "raise" would buffer the output
    return out


def _pearson_influence(values, i, j, mean, var, rho, num_scores, uni_infl, uni_var_infl) -> np.ndarray:
    """Influence column of the covariance of two continuous variables (lavaan's ``bvreg`` scores,
    then ``H``: ``cov = rho sd_i sd_j``)."""
    y1, y2 = values[:, i], values[:, j]
    both = ~np.isnan(y1) & ~np.isnan(y2)
    e1, e2 = np.where(both, y1 - mean[i], 0.0), np.where(both, y2 - mean[j], 0.0)
    v1, v2 = var[i], var[j]
    s1, s2 = np.sqrt(v1), np.sqrt(v2)
    r = 1 - rho * rho
    z = e1 * e1 / v1 - 2 * rho * e1 * e2 / (s1 * s2) + e2 * e2 / v2
    d_rho = np.where(both, rho / r + (e1 * e2 / (s1 * s2 * r) - z * rho / (r * r)), 0.0)
    d_mu1 = np.where(both, (2 * e1 / v1 - 2 * rho * e2 / (s1 * s2)) / (2 * r), 0.0)
    d_mu2 = np.where(both, -(2 * rho * e1 / (s1 * s2) - 2 * e2 / v2) / (2 * r), 0.0)
    d_v1 = np.where(both, -(0.5 / v1 - (e1 * e1 / (v1 * v1) - rho * e1 * e2 / (v1 * s1 * s2)) / (2 * r)), 0.0)
    d_v2 = np.where(both, -(0.5 / v2 + (rho * e1 * e2 / (v2 * s1 * s2) - e2 * e2 / (v2 * v2)) / (2 * r)), 0.0)
    a22 = float(d_rho @ d_rho)
    # A21 [mu_i, var_i] and [mu_j, var_j] against the univariate influences [d mu, d var] per case
    u_i = np.column_stack([uni_infl[i][:, 0], uni_var_infl[i]])
    u_j = np.column_stack([uni_infl[j][:, 0], uni_var_infl[j]])
    a21_i = np.array([d_rho @ d_mu1, d_rho @ d_v1])
    a21_j = np.array([d_rho @ d_mu2, d_rho @ d_v2])
    z_rho = (d_rho - u_i @ a21_i - u_j @ a21_j) / a22
    # H: d cov = sd_i sd_j d rho + rho sd_j / (2 sd_i) d var_i + rho sd_i / (2 sd_j) d var_j
    return s1 * s2 * z_rho + rho * s2 / (2 * s1) * uni_var_infl[i] + rho * s1 / (2 * s2) * uni_var_infl[j]


def _polyserial_influence(y, codes, mu, v, th, rho, num_sc, u_mean, u_var, ord_infl) -> np.ndarray:
    """Influence column of the covariance of a continuous and an ordinal variable (lavaan's ``bvmix``
    scores; ``H``: ``cov = rho sd``)."""
    obs = ~np.isnan(y) & (codes > 0)
    sd = np.sqrt(v)
    zz = np.where(obs, (np.nan_to_num(y) - mu) / sd, 0.0)
    c = np.where(obs, codes, 1)
    tau = np.concatenate([[-100.0], th, [100.0]])
    up, low = tau[c], tau[c - 1]
    r = np.sqrt(1 - rho * rho)
    ts1, ts2 = (up - rho * zz) / r, (low - rho * zz) / r
    yz1, yz2 = np.exp(-0.5 * ts1 * ts1) / np.sqrt(2 * np.pi), np.exp(-0.5 * ts2 * ts2) / np.sqrt(2 * np.pi)
    p = np.maximum(special.ndtr(ts1) - special.ndtr(ts2), EPS)
    pinv = 1 / p
    d12 = yz1 - yz2
    d_mu = np.where(obs, (zz + pinv * (rho / r) * d12) / sd, 0.0)
    d_var = np.where(obs, ((zz * zz - 1) + pinv * rho * zz / r * d12) / (2 * v), 0.0)
    k = len(th) + 1
    d_th = np.zeros((len(y), k - 1))
    for t in range(1, k):  # threshold t is the upper bound of category t and the lower of t+1
        d_th[:, t - 1] = np.where(obs & (c == t), yz1, 0.0) - np.where(obs & (c == t + 1), yz2, 0.0)
    d_th *= (pinv / r)[:, None]
    d_rho = np.where(obs, pinv / r ** 3 * (yz1 * (up * rho - zz) - yz2 * (low * rho - zz)), 0.0)
    a22 = float(d_rho @ d_rho)
    u_num = np.column_stack([u_mean[:, 0], u_var])
    a21_num = np.array([d_rho @ d_mu, d_rho @ d_var])
    a21_th = d_rho @ d_th
    u_ord = ord_infl[codes]  # n x (k-1), row 0 (missing) = 0
    z_rho = (d_rho - u_num @ a21_num - u_ord @ a21_th) / a22
    return sd * z_rho + rho / (2 * sd) * u_var

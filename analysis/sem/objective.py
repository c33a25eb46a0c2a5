"""Maximum-likelihood discrepancy functions with analytic gradients and information.

Two objectives share one scale, ``f = -2 logL / N`` up to a constant, so that
the optimiser, the standard errors and the test statistics treat them alike:

* :class:`MLObjective` - complete data, from sample moments (lavaan's
  ``estimator="ML"``, ``likelihood="normal"``):
  ``f = sum_g (n_g/N) [log|Sigma| + tr(S Sigma^-1) - log|S| - p + (ybar-mu)' Sigma^-1 (ybar-mu)]``
  so that ``chisq = N f`` at the minimum (``fmin`` in lavaan is ``f/2``).
* :class:`FIMLObjective` - incomplete data, case-wise (full-information) ML,
  vectorised over rows (:mod:`analysis.sem.fiml`): ``f = -2 logL / N`` exactly
  (lavaan's ``missing="ml"``).

Both give ``value``, ``gradient``, the expected information per case
(``vcov = inv(N * information)``), the log-likelihood and case-wise scores
(for sandwich standard errors). The Hessian of ``f`` is about twice the
information per case; the observed information is ``hessian(f) / 2``.
"""

from __future__ import annotations

import numpy as np

from analysis.sem.fiml import RowTerms, casewise_hessian, cond_quadratic, row_terms, trace_products
from analysis.sem.fiml import chol_inverse as _chol_inverse
from analysis.sem.ram import Implied, RamModel
from analysis.sem.samplestats import LOG2PI, GroupData


class _Base:
    def __init__(self, model: RamModel, groups: list[GroupData], meanstructure: bool):
        self.model = model
        self.groups = groups
        self.meanstructure = meanstructure
        self.ntotal = sum(g.n for g in groups)
        self.weights = np.array([g.n / self.ntotal for g in groups])
        self.npar = model.npar
        self._memo_theta: np.ndarray | None = None
        self._memo: dict = {}

    def _memoised(self, theta: np.ndarray, key, compute):
        """``compute()`` remembered for the last ``theta``: the optimiser asks for the value, the
        gradient and the Hessian at the same point, and each needs the implied moments and their
        inverse (a memo of pure results, not fit state)."""
        if self._memo_theta is None or not np.array_equal(theta, self._memo_theta):
            self._memo_theta = np.array(theta, dtype=float, copy=True)
            self._memo = {}
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def _factors(self, theta: np.ndarray, g: int, imp: Implied) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``rank2_factors`` of group ``g`` at ``theta`` (``imp``: its implied moments), remembered like ``_at``."""
        return self._memoised(theta, ("factors", g), lambda: self.model.rank2_factors(g, imp))

    def _at(self, theta: np.ndarray, g: int) -> tuple[Implied, tuple[np.ndarray, float] | None]:
        """Implied moments of group ``g`` at ``theta`` and (inverse, log-determinant) of Sigma (None: not PD)."""
        def compute():
            imp = self.model.implied(theta, g)
            return imp, _chol_inverse(imp.sigma)
        return self._memoised(theta, ("implied", g), compute)

    def _complete_information(self, theta: np.ndarray, meanstructure: bool) -> np.ndarray:
        """Expected information per case as if the data were complete, weighted over groups
        (NaN when an implied covariance matrix is not positive definite)."""
        info = np.zeros((self.npar, self.npar))
        for g in range(len(self.groups)):
            imp, ci = self._at(theta, g)
            if ci is None:
                return np.full((self.npar, self.npar), np.nan)
            U, V, M = self._factors(theta, g, imp)
            info += self.weights[g] * self.model.collapse(g, self._info_from(U, V, M, ci[0], meanstructure))
        return info

    def _implied(self, theta: np.ndarray) -> list[Implied]:
        return [self.model.implied(theta, g) for g in range(len(self.groups))]

    def _grad_from(self, theta: np.ndarray, g: int, imp: Implied, omega: np.ndarray,
                   omega_mu: np.ndarray | None) -> np.ndarray:
        """Chain rule: d f / d theta from d f / d Sigma (symmetric Omega) and d f / d mu."""
        U, V, M = self._factors(theta, g, imp)
        grad_occ = 2.0 * np.einsum("pq,pq->q", U, omega @ V)
        if omega_mu is not None:
            grad_occ += omega_mu @ M
        return self.model.collapse_rows(g, grad_occ)

    @staticmethod
    def _info_from(U, V, M, W, meanstructure) -> np.ndarray:
        return information_terms(U, V, M, W, meanstructure)


def information_terms(U: np.ndarray, V: np.ndarray, M: np.ndarray, W: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Expected information per case over occurrences with rank-2 factors ``(U, V)`` and mean factors ``M``
    for complete data with ``W = Sigma^-1``: ``(U'WV) o (U'WV)' + (U'WU) o (V'WV)`` (+ ``M'WM``)."""
    wu, wv = W @ U, W @ V
    uu, vv, uv = U.T @ wu, V.T @ wv, U.T @ wv
    info = uv * uv.T + uu * vv
    if meanstructure:
        info = info + M.T @ (W @ M)
    return info


def _product_terms(U, V, M, W, s_tilde, d, meanstructure) -> np.ndarray:
    """Hessian terms of ``log|Sigma| + tr(S~ W)`` (+ mean part) that involve first derivatives only.

    ``-tr(W dS_k W dS_l) + 2 tr(W dS_k Z dS_l)`` with ``Z = W S~ W``, plus, with a
    mean structure, ``2 mu_k' W mu_l + 2 (d' W dS_k W mu_l + d' W dS_l W mu_k)``.
    """
    Z = W @ s_tilde @ W
    h = 2.0 * trace_products(U, V, W, Z) - trace_products(U, V, W, W)
    if meanstructure:
        a = W @ d
        wm = W @ M
        c = (U.T @ a)[:, None] * (V.T @ wm) + (V.T @ a)[:, None] * (U.T @ wm)
        h = h + 2.0 * (c + c.T) + 2.0 * (M.T @ wm)
    return h


def _second_derivative_term(model: RamModel, g: int, imp: Implied, omega: np.ndarray,
                            omega_mu: np.ndarray) -> np.ndarray:
    """``tr(Omega d2Sigma_kl) + omega_mu' d2mu_kl`` for all occurrence pairs (RAM form).

    Only pairs involving an ``A`` entry have second derivatives: with
    ``B = (I-A)^-1``, ``G = F B``, ``H = G S B'``, ``Sigma_all = B S B'``:
    A_ij,A_kl: 2[B_jk G_i'O H_l + B_li G_k'O H_j + Sall_jl G_i'O G_k] + B_jk w'G_i mu_l + B_li w'G_k mu_j;
    A_ij,S_kl: 2[B_jk G_i'O G_l + B_jl G_i'O G_k] (halved when k = l);
    A_ij,m_k:  B_jk w'G_i.
    """
    ix = model.groups[g].second_order
    out = np.zeros((ix.q, ix.q))
    if len(ix.ia) == 0:
        return out
    B, G, H, mu_all, s_all = imp.B, imp.G, imp.H, imp.mu_all, imp.sigma_all
    goh = G.T @ omega @ H
    gog = G.T @ omega @ G
    wg = omega_mu @ G
    i1, j1 = ix.i1, ix.j1
    # A-A block (k = i1, l = j1 for the second occurrence): B[j1, k2] = B[l2, i1] = Bg
    bg = B[ix.j1_col, ix.i1_row]
    og = goh[ix.i1_col, ix.j1_row]
    wm = np.outer(wg[i1], mu_all[j1])
    aa = 2.0 * (bg * og + (bg * og).T + s_all[ix.j1_col, ix.j1_row] * gog[ix.i1_col, ix.i1_row]) + bg * wm + (bg * wm).T
    out[ix.aa] = aa
    if len(ix.iS):
        as_ = 2.0 * (B[ix.j1_col, ix.ks_row] * gog[ix.i1_col, ix.ls_row]
                     + B[ix.j1_col, ix.ls_row] * gog[ix.i1_col, ix.ks_row]) * ix.half
        out[ix.as_] = as_
        out[ix.sa] = as_.T
    if len(ix.im):
        am = B[ix.j1_col, ix.im_row] * wg[i1][:, None]
        out[ix.am] = am
        out[ix.ma] = am.T
    return out


class MLObjective(_Base):
    """Complete-data ML discrepancy (see module docstring)."""

    casewise = False

    def h1_value(self) -> float:
        """``f`` of the saturated model: 0, the ML discrepancy is measured from it."""
        return 0.0

    def __init__(self, model: RamModel, groups: list[GroupData], meanstructure: bool):
        super().__init__(model, groups, meanstructure)
        self._logdet_s = [np.linalg.slogdet(gd.cov)[1] for gd in groups]

    def value(self, theta: np.ndarray) -> float:
        total = 0.0
        for g, gd in enumerate(self.groups):
            imp, ci = self._at(theta, g)
            if ci is None:
                return np.inf
            w, logdet = ci
            fg = logdet + np.sum(w * gd.cov) - self._logdet_s[g] - len(gd.mean)
            if self.meanstructure:
                d = gd.mean - imp.mu
                fg += d @ w @ d
            total += self.weights[g] * fg
        return float(total)

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        grad = np.zeros(self.npar)
        for g, gd in enumerate(self.groups):
            imp, ci = self._at(theta, g)
            if ci is None:
                return np.full(self.npar, np.nan)
            w, _ = ci
            s = gd.cov
            omega_mu = None
            if self.meanstructure:
                d = gd.mean - imp.mu
                s = s + np.outer(d, d)
                omega_mu = -2.0 * (w @ d)
            omega = w - w @ s @ w
            grad += self.weights[g] * self._grad_from(theta, g, imp, omega, omega_mu)
        return grad

    def information(self, theta: np.ndarray) -> np.ndarray:
        """Expected (Fisher) information per case, weighted over groups."""
        return self._complete_information(theta, self.meanstructure)

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """Exact (analytic) Hessian of ``f``; the observed information per case is half of it."""
        hess = np.zeros((self.npar, self.npar))
        for g, gd in enumerate(self.groups):
            imp, ci = self._at(theta, g)
            if ci is None:
                return np.full((self.npar, self.npar), np.nan)
            w = ci[0]
            U, V, M = self._factors(theta, g, imp)
            s_tilde, d = gd.cov, np.zeros(len(gd.mean))
            omega_mu = np.zeros(len(gd.mean))
            if self.meanstructure:
                d = gd.mean - imp.mu
                s_tilde = s_tilde + np.outer(d, d)
                omega_mu = -2.0 * (w @ d)
            omega = w - w @ s_tilde @ w
            h = (_product_terms(U, V, M, w, s_tilde, d, self.meanstructure)
                 + _second_derivative_term(self.model, g, imp, omega, omega_mu))
            hess += self.weights[g] * self.model.collapse(g, h)
        return (hess + hess.T) / 2

    def step_matrix(self, theta: np.ndarray) -> np.ndarray:
        """Matrix for Newton steps: the exact Hessian (cheap for complete data)."""
        return self.hessian(theta)

    def loglik(self, theta: np.ndarray) -> float:
        total = 0.0
        for g, gd in enumerate(self.groups):
            imp, (w, logdet) = self._at(theta, g)
            p = len(gd.mean)
            q = np.sum(w * gd.cov)
            if self.meanstructure:
                d = gd.mean - imp.mu
                q += d @ w @ d
            total += -0.5 * gd.n * (p * LOG2PI + logdet + q)
        return float(total)

    def scores(self, theta: np.ndarray) -> list[np.ndarray]:
        """Case-wise derivatives of the log-likelihood, one ``n_g x npar`` array per group.

        Without a mean structure the means are saturated (``mu = ybar``).
        """
        out = []
        for g, gd in enumerate(self.groups):
            imp, (w, _) = self._at(theta, g)
            mu = imp.mu if self.meanstructure else gd.mean
            r = gd.data - mu
            out.append(_case_scores(self.model, g, imp, w, r, self.meanstructure))
        return out


def _case_scores(model: RamModel, g: int, imp: Implied, w: np.ndarray, r: np.ndarray,
                 meanstructure: bool, observed: np.ndarray | None = None) -> np.ndarray:
    """Scores of cases with residuals ``r`` (n x p_o) on the ``observed`` columns."""
    U, V, M = model.rank2_factors(g, imp)
    if observed is not None:
        U, V, M = U[observed], V[observed], M[observed]
    a = r @ w  # rows: W r_i
    # d l_i = tr(Omega_i dSigma) + a_i' dmu, Omega_i = (a_i a_i' - W) / 2
    sc = (a @ U) * (a @ V) - np.einsum("pq,pq->q", U, w @ V)
    if meanstructure:
        sc = sc + a @ M
    return model.collapse_rows(g, sc)


class FIMLObjective(_Base):
    """Full-information ML on incomplete data: ``f = -2 logL / N``, case by case.

    Every evaluation is vectorised over rows (:mod:`analysis.sem.fiml`): one
    full-pattern inverse per group and a batched k x k inverse per row missing
    k values; the exact Hessian and the expected information likewise
    (:func:`analysis.sem.fiml.casewise_hessian`).
    """

    casewise = True

    def _row_terms(self, theta: np.ndarray, g: int) -> tuple[Implied, RowTerms | None]:
        def compute():
            imp = self.model.implied(theta, g)
            return imp, row_terms(self.groups[g].rows, imp.mu, imp.sigma)
        return self._memoised(theta, ("rows", g), compute)

    def value(self, theta: np.ndarray) -> float:
        total = 0.0
        for g in range(len(self.groups)):
            _, rt = self._row_terms(theta, g)
            if rt is None:
                return np.inf
            total += rt.minus2ll.sum()
        return float(total / self.ntotal)

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        grad = np.zeros(self.npar)
        for g in range(len(self.groups)):
            imp, rt = self._row_terms(theta, g)
            if rt is None:
                return np.full(self.npar, np.nan)
            omega, omega_mu = rt.omega()
            grad += self._grad_from(theta, g, imp, omega, omega_mu)
        return grad / self.ntotal

    def _casewise(self, theta: np.ndarray, expected: bool) -> np.ndarray:
        """``sum_g`` of the case-wise Hessian of ``-2 logL`` (:func:`analysis.sem.fiml.casewise_hessian`;
        with the second-derivative term of ``Sigma(theta)`` unless ``expected``) over ``N``."""
        out = np.zeros((self.npar, self.npar))
        for g in range(len(self.groups)):
            imp, rt = self._row_terms(theta, g)
            if rt is None:
                return np.full((self.npar, self.npar), np.nan)
            U, V, M = self._factors(theta, g, imp)
            h = casewise_hessian(rt, U, V, M, expected=expected)
            if not expected:
                omega, omega_mu = rt.omega()
                h += _second_derivative_term(self.model, g, imp, omega, omega_mu)
            out += self.model.collapse(g, h)
        out /= self.ntotal
        return (out + out.T) / 2

    def information(self, theta: np.ndarray) -> np.ndarray:
        """Expected information per case under MAR (lavaan's for missing data)."""
        return self._casewise(theta, expected=True) / 2.0

    def step_matrix(self, theta: np.ndarray) -> np.ndarray:
        """Matrix for optimisation steps: twice the expected information as if the data were complete.

        As a step matrix (Fisher-scoring style) the complete-data information is
        nearly as good as the exact Hessian - missingness is a small share of the
        data - and costs one evaluation of model-sized matrices. The exact
        Hessian is still used for standard errors.
        """
        return 2.0 * self._complete_information(theta, True)

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """Exact (analytic) Hessian of ``f = -2 logL / N``."""
        return self._casewise(theta, expected=False)

    def loglik(self, theta: np.ndarray) -> float:
        return float(-0.5 * self.ntotal * self.value(theta))

    def scores(self, theta: np.ndarray) -> list[np.ndarray]:
        """Case-wise derivatives of the log-likelihood: ``(u'b)(b'v) - u'W_i v + b'M`` per row, ``b = W_i r_i``.

        ``u'W_i v = u'Pv - u'P C~_i P v`` (:func:`analysis.sem.fiml.cond_quadratic`).
        """
        out = []
        for g in range(len(self.groups)):
            imp, rt = self._row_terms(theta, g)
            U, V, M = self._factors(theta, g, imp)
            b = rt.resid @ rt.precision
            uwv = np.einsum("pq,pq->q", U, rt.precision @ V) - cond_quadratic(rt, U, V)
            sc = (b @ U) * (b @ V) - uwv + b @ M
            out.append(self.model.collapse_rows(g, sc))
        return out

    def h1_value(self) -> float:
        """``f`` of the saturated model (EM estimates)."""
        return float(-2.0 * sum(gd.h1_loglik for gd in self.groups) / self.ntotal)


def numeric_hessian(gradient, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Hessian by a five-point stencil on the analytic gradient (as lavaan's ``lav_model_hessian``)."""
    k = len(theta)
    hess = np.zeros((k, k))
    for j in range(k):
        steps = []
        for mult in (-2, -1, 1, 2):
            x = theta.copy()
            x[j] += mult * h
            steps.append(gradient(x))
        hess[:, j] = (steps[0] - 8 * steps[1] + 8 * steps[2] - steps[3]) / (12 * h)
    return (hess + hess.T) / 2

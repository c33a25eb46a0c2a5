"""The standard bivariate normal distribution, vectorised over arrays of points and correlations.

Polychoric correlations need ``Phi2(h, k; rho)`` at every pair of thresholds of
every pair of items, at every Newton step: for the questionnaire's 138 seven-point
items that is 9,453 pairs x 36 points. ``scipy.stats.multivariate_normal.cdf``
takes one correlation matrix per call (Genz's algorithm, ~50 microseconds each), far
too slow for that; so the CDF is written here through Owen's T function, which
scipy provides as a vectorised ufunc (:func:`scipy.special.owens_t`, Patefield and
Tandy's algorithm, double precision):

    Phi2(h, k; rho) = [Phi(h) + Phi(k)] / 2 - T(h, a_h) - T(k, a_k) - beta,

    a_h = (k - rho h) / (h sqrt(1 - rho^2)),  a_k = (h - rho k) / (k sqrt(1 - rho^2)),

with ``beta = 0`` when ``h k > 0`` or (``h k = 0`` and ``h + k >= 0``), else 1/2
(Owen 1956, eq. 3.1). At ``h = 0`` (a threshold exactly at the median)
``T(0, a) = arctan(a) / (2 pi)`` with ``a = +/- infinity`` is taken in its limit.
The tests compare it with scipy's ``multivariate_normal.cdf`` on a grid. lavaan uses
Genz's ``pbivnorm`` (Drezner-Wesolowsky); both are exact to ~1e-15.
"""

from __future__ import annotations

import numpy as np
from scipy import special

TWO_PI = 2.0 * np.pi


def _owen_term(h: np.ndarray, k: np.ndarray, rho: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``T(h, (k - rho h) / (h s))``; at ``h = 0`` its limit from ``h > 0`` (``sign(k) / 4``, which
    goes with ``beta``'s convention), and at ``h = k = 0`` the limit along ``h = k``,
    ``T(0, sqrt((1 - rho) / (1 + rho)))``."""
    num = k - rho * h
    with np.errstate(divide="ignore", invalid="ignore"):
        a = num / (h * s)
    zero = h == 0
    if np.any(zero):
        both = zero & (k == 0)
        a = np.where(both, np.sqrt((1.0 - rho) / (1.0 + rho)), np.where(zero, 0.0, a))
        out = special.owens_t(h, a)
        return np.where(zero & ~both, np.sign(num) * 0.25, out)
    return special.owens_t(h, a)


def bvn_cdf(h, k, rho) -> np.ndarray:
    """``P(X <= h, Y <= k)`` for standard normal ``X, Y`` with correlation ``rho`` (broadcast).

    ``h`` and ``k`` may be infinite (then the univariate margin); ``|rho| < 1``.
    """
    h, k, rho = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float),
                                    np.asarray(rho, dtype=float))
    out = np.empty(h.shape)
    hinf, kinf = np.isinf(h), np.isinf(k)
    fin = ~(hinf | kinf)
    hf, kf, rf = h[fin], k[fin], rho[fin]
    s = np.sqrt(1.0 - rf * rf)
    beta = np.where((hf * kf > 0) | ((hf * kf == 0) & (hf + kf >= 0)), 0.0, 0.5)
    val = 0.5 * (special.ndtr(hf) + special.ndtr(kf)) - _owen_term(hf, kf, rf, s) - _owen_term(kf, hf, rf, s) - beta
    out[fin] = np.clip(val, 0.0, 1.0)
    # infinite arguments: a margin or 0
    lo = (hinf & (h < 0)) | (kinf & (k < 0))
    out[lo] = 0.0
    hi_h = hinf & (h > 0) & ~lo  # P(Y <= k)
    out[hi_h] = special.ndtr(k[hi_h])
    hi_k = kinf & (k > 0) & ~lo & ~hi_h
    out[hi_k] = special.ndtr(h[hi_k])
    return out


def bvn_pdf(h, k, rho) -> np.ndarray:
    """Density of the standard bivariate normal with correlation ``rho`` (0 at infinite arguments)."""
    h, k, rho = (np.asarray(v, dtype=float) for v in (h, k, rho))
    r2 = 1.0 - rho * rho
    with np.errstate(invalid="ignore", over="ignore"):
        q = (h * h - 2.0 * rho * h * k + k * k) / r2
        out = np.exp(-0.5 * q) / (TWO_PI * np.sqrt(r2))
    return np.where(np.isfinite(q), out, 0.0)


def bvn_pdf_drho(h, k, rho, pdf: np.ndarray | None = None) -> np.ndarray:
    """``d phi2(h, k; rho) / d rho`` (lavaan's ``guv`` times the density; 0 at infinite arguments)."""
    h, k, rho = (np.asarray(v, dtype=float) for v in (h, k, rho))
    pdf = bvn_pdf(h, k, rho) if pdf is None else pdf
    r = 1.0 - rho * rho
    with np.errstate(invalid="ignore"):
        g = (h * k * r - rho * (h * h - 2.0 * rho * h * k + k * k) + rho * r) / (r * r)
        return np.where(pdf > 0, pdf * np.where(pdf > 0, g, 0.0), 0.0)

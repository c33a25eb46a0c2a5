"""p-values of z and t statistics: the one implementation every test of the package uses.

Both tails come from their own function (``sf`` for the upper, ``cdf`` for the
lower): ``1 - sf(z)`` would round a far tail to exactly 0.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

ALTERNATIVES = ("two-sided", "greater", "less")


def pvalue(statistic: float, alternative: str = "two-sided", df: float | None = None) -> float:
    """p-value of a z statistic (``df=None``) or a t statistic with ``df`` degrees of freedom.

    ``alternative``: ``"greater"`` (upper tail), ``"less"`` (lower tail) or
    ``"two-sided"``. NaN in, NaN out.
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {list(ALTERNATIVES)}, got {alternative!r}")
    if not np.isfinite(statistic):
        return float("nan")
    if df is None:  # the standard normal: stats.norm's sf(z) and cdf(z) are ndtr(-z) and ndtr(z), without
        # the distribution machinery's overhead (a power study computes millions)
        if alternative == "greater":
            return float(special.ndtr(-statistic))
        if alternative == "less":
            return float(special.ndtr(statistic))
        return float(2 * special.ndtr(-abs(statistic)))
    dist = stats.t(df)
    if alternative == "greater":
        return float(dist.sf(statistic))
    if alternative == "less":
        return float(dist.cdf(statistic))
    return float(2 * dist.sf(abs(statistic)))


def one_sided(estimate: float, se: float, direction: str, df: float | None = None) -> tuple[float, float]:
    """One-sided p-values ``(in the predicted direction, in the opposite direction)``.

    A z test of ``estimate / se``, or a t test with ``df`` degrees of freedom
    (e.g. G - 1 for cluster-robust standard errors with G clusters).
    ``direction`` is ``"greater"`` or ``"less"``; NaN when ``se`` is not positive.
    """
    if not (np.isfinite(estimate) and np.isfinite(se)) or se <= 0:
        return float("nan"), float("nan")
    t = estimate / se
    p_greater, p_less = pvalue(t, "greater", df), pvalue(t, "less", df)
    return (p_greater, p_less) if direction == "greater" else (p_less, p_greater)

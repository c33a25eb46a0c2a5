"""From latent scores to Likert answers: continuous responses, thresholds, categories.

An item's continuous response is ``y* = lambda eta + sqrt(1 - lambda^2) e``
(standard normal when ``eta`` is), plus a respondent's acquiescence shift when
that knob is on. Categories ``1..7`` come from six thresholds: a named profile
(``common.yaml``) moved by the item's own ``shift`` so that each item has its
own skew. A reverse-keyed item measures ``-eta`` and uses the mirrored
profile (people disagree with a negatively worded statement about a trait
they have); the recorded answer is the raw agreement, as a respondent gives it.

:func:`expected_correlation` gives the exact Pearson correlation of two
categorised items whose continuous responses are bivariate normal with
correlation ``rho`` - the attenuation the tests check for.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def thresholds_for(profile: np.ndarray, shift: float, reverse: bool) -> np.ndarray:
    """The six thresholds of one item (mirrored for reverse-keyed items)."""
    t = np.asarray(profile, dtype=float) + shift
    return -t[::-1] if reverse else t


def categorize(ystar: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Category ``1 + number of thresholds below y*`` (int8)."""
    return (np.searchsorted(thresholds, ystar, side="right") + 1).astype(np.int8)


def continuous_responses(eta: np.ndarray, loadings: np.ndarray, reverse: np.ndarray,
                         rng: np.random.Generator) -> np.ndarray:
    """``n x k`` continuous responses of ``k`` items loading ``loadings`` on ``eta``."""
    loadings = np.asarray(loadings, dtype=float)
    sign = np.where(np.asarray(reverse, dtype=bool), -1.0, 1.0)
    noise = rng.standard_normal((len(eta), len(loadings)))
    return np.outer(eta, sign * loadings) + noise * np.sqrt(1 - loadings ** 2)


def category_probabilities(thresholds: np.ndarray) -> np.ndarray:
    """Probabilities of categories 1..7 for a standard-normal continuous response."""
    cdf = stats.norm.cdf(np.concatenate([[-np.inf], thresholds, [np.inf]]))
    return np.diff(cdf)


def expected_correlation(rho: float, t1: np.ndarray, t2: np.ndarray) -> float:
    """Pearson correlation of two categorised standard-normal responses with correlation ``rho``.

    ``E[c1 c2]`` is a sum over the 7 x 7 cells of bivariate-normal rectangle
    probabilities; means and variances come from the marginal probabilities.
    """
    cats = np.arange(1, 8)
    p1, p2 = category_probabilities(t1), category_probabilities(t2)
    m1, m2 = cats @ p1, cats @ p2
    v1, v2 = (cats ** 2) @ p1 - m1 ** 2, (cats ** 2) @ p2 - m2 ** 2
    big = 10.0
    e1 = np.concatenate([[-big], t1, [big]])
    e2 = np.concatenate([[-big], t2, [big]])
    mvn = stats.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]])
    grid = np.array([[mvn.cdf([a, b]) for b in e2] for a in e1])
    cell = grid[1:, 1:] - grid[:-1, 1:] - grid[1:, :-1] + grid[:-1, :-1]
    exy = cats @ cell @ cats
    return float((exy - m1 * m2) / np.sqrt(v1 * v2))

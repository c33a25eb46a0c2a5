"""analysis.pvalues: z p-values by special.ndtr are scipy.stats.norm's, bit for bit; t p-values stay stats.t's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.pvalues import one_sided, pvalue


def test_z_pvalues_equal_stats_norm_bit_for_bit():
    rng = np.random.default_rng(11)
    zs = np.concatenate([rng.normal(0, 3, 3000), [0.0, -0.0, 1e-300, 8.3, -8.3, 38.0, -38.0, 40.0]])
    for z in zs:
        assert pvalue(z, "greater") == float(stats.norm.sf(z))
        assert pvalue(z, "less") == float(stats.norm.cdf(z))
        assert pvalue(z) == float(2 * stats.norm.sf(abs(z)))
    assert pvalue(30.0, "greater") > 0  # the far tail from its own function, not 1 - cdf (which is 0)
    assert np.isnan(pvalue(np.nan)) and np.isnan(pvalue(np.inf, "less"))


def test_t_pvalues_and_one_sided():
    assert pvalue(2.1, "greater", df=9) == float(stats.t(9).sf(2.1))
    assert pvalue(-2.1, df=9) == float(2 * stats.t(9).sf(2.1))
    assert one_sided(0.5, 0.25, "greater") == (float(stats.norm.sf(2.0)), float(stats.norm.cdf(2.0)))
    assert one_sided(0.5, 0.25, "less") == (float(stats.norm.cdf(2.0)), float(stats.norm.sf(2.0)))
    assert one_sided(0.5, 0.0, "less") == pytest.approx((np.nan, np.nan), nan_ok=True)

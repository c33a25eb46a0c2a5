"""Likelihood-ratio (chi-square difference) tests of nested models.

The restricted model is the free model plus equality constraints (labels
shared, or ``a == b`` lines), or a model with fewer free parameters. With ML
the test statistic is the difference of the chi-squares; with MLR it is the
Satorra-Bentler (2001) scaled difference, as lavaan's ``lavTestLRT``:
``cd = (df0 c0 - df1 c1) / (df0 - df1)`` and ``T = (T0 - T1) / cd``. For ordinal
(WLS-family) fits, as ``lavTestLRT`` for them: Satorra's (2000) scaled-shifted difference
after a scaled-shifted test (WLSMV, ULSMV), Satorra-Bentler (2001) after a mean-adjusted one
(WLSM), the plain difference after none (DWLS, ULS); see :mod:`analysis.sem.ordinal.invariance`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from scipy import stats

if TYPE_CHECKING:  # pragma: no cover
    from analysis.sem.fit import FitResult

LRT_COLUMNS = ("chisq.diff", "df.diff", "pvalue", "method")


def chisq_difference(restricted: FitResult, free: FitResult) -> tuple[float, int, float]:
    """``(statistic, df difference, p-value)`` of restricted vs free; NaN when not nested by df."""
    f0, f1 = restricted.fit_measures, free.fit_measures
    ddf = int(f0["df"] - f1["df"])
    if ddf <= 0:
        return float("nan"), ddf, float("nan")
    diff = f0["chisq"] - f1["chisq"]
    if "chisq.scaling.factor" in f0 and "chisq.scaling.factor" in f1:
        cd = (f0["df"] * f0["chisq.scaling.factor"] - f1["df"] * f1["chisq.scaling.factor"]) / ddf
        diff = diff / cd if cd > 0 else float("nan")
    diff = max(diff, 0.0)
    return float(diff), ddf, float(stats.chi2.sf(diff, ddf))


def lr_test(restricted: FitResult, free: FitResult) -> pd.DataFrame:
    """One-row table (:data:`LRT_COLUMNS`) comparing two nested fitted models (``method`` names the
    test, as lavaan's ``lavTestLRT`` attribute ``method``)."""
    if free.options.ordered and "chisq.shift.parameters" in free.fit_measures:
        # imported here: the ordinal layer builds on this module
        from analysis.sem.ordinal.invariance import satorra2000_difference

        if int(restricted.fit_measures["df"] - free.fit_measures["df"]) > 0:
            t = satorra2000_difference(free, restricted)
            return pd.DataFrame([{"chisq.diff": t.chisq, "df.diff": t.df, "pvalue": t.pvalue,
                                  "method": "satorra.2000"}], columns=list(LRT_COLUMNS))
    d, ddf, p = chisq_difference(restricted, free)
    method = "satorra.bentler.2001" if "chisq.scaling.factor" in free.fit_measures else "standard"
    return pd.DataFrame([{"chisq.diff": d, "df.diff": ddf, "pvalue": p, "method": method}],
                        columns=list(LRT_COLUMNS))

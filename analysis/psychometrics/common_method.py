"""Common-method variance checks: Harman's single factor and the marker-variable adjustment.

Neither proves the absence of common-method bias; both are what reviewers ask
for (Podsakoff et al. 2003). Each function returns a tidy DataFrame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from smecore.errors import DataError

HARMAN_COLUMNS = ("items", "n", "first.share", "flag")


def harman_single_factor(data: pd.DataFrame, items: Sequence[str], threshold: float = 0.5) -> pd.DataFrame:
    """Share of the items' total variance carried by the first unrotated principal component.

    Computed from the correlation matrix (pairwise complete): first eigenvalue
    divided by the number of items. ``flag`` is True when the share exceeds
    ``threshold`` (the customary 50%), i.e. one general factor dominates.
    """
    items = list(items)
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise DataError(f"harman_single_factor: column(s) {absent} not in the data")
    r = data[items].apply(pd.to_numeric, errors="coerce").corr().to_numpy()
    if np.isnan(r).any():
        i, j = np.argwhere(np.isnan(r))[0]
        pair = items[i] if i == j else f"{items[i]} and {items[j]}"
        why = "has no variance (constant or empty)" if i == j else "have no rows with both answered or no variance"
        raise DataError(f"harman_single_factor: {pair} {why} ({int(np.isnan(r).any(axis=0).sum())} item(s) "
                        "affected); drop the item(s) or check the data")
    share = float(np.linalg.eigvalsh(r)[-1] / len(items))
    n = int(data[items].notna().all(axis=1).sum())
    return pd.DataFrame([{"items": len(items), "n": n, "first.share": share, "flag": share > threshold}],
                        columns=list(HARMAN_COLUMNS))


MARKER_COLUMNS = ("var1", "var2", "r", "r.marker", "r.adjusted", "t", "df", "pvalue", "n")


def marker_adjustment(data: pd.DataFrame, variables: Sequence[str], marker: Sequence[str] | str, *,
                      r_marker: float | None = None) -> pd.DataFrame:
    """Lindell & Whitney (2001) marker-variable adjustment of the correlations among ``variables``.

    ``r_A = (r_U - r_M) / (1 - r_M)`` with ``r_M`` the smallest positive
    correlation between the marker (the mean of the marker items when several)
    and the substantive variables, unless given. ``t = r_A sqrt((n - 3) /
    (1 - r_A^2))`` with ``n - 3`` degrees of freedom (two-sided p-value).
    Variables are typically scale scores. One row per pair of variables.
    """
    variables = list(variables)
    marker_items = [marker] if isinstance(marker, str) else list(marker)
    absent = [c for c in variables + marker_items if c not in data.columns]
    if absent:
        raise DataError(f"marker_adjustment: column(s) {absent} not in the data")
    frame = data[variables].apply(pd.to_numeric, errors="coerce")
    frame["__marker__"] = data[marker_items].apply(pd.to_numeric, errors="coerce").mean(axis=1)
    frame = frame.dropna()
    n = len(frame)
    if n < 10:
        raise DataError(f"marker_adjustment: only {n} complete rows")
    r = frame.corr()
    rm = r.loc["__marker__", variables]
    if r_marker is None:
        positive = rm[rm > 0]
        r_marker = float(positive.min()) if len(positive) else 0.0
    rows = []
    for i, a in enumerate(variables):
        for b in variables[i + 1:]:
            ru = float(r.loc[a, b])
            ra = (ru - r_marker) / (1 - r_marker)
            t = ra * np.sqrt((n - 3) / max(1 - ra ** 2, 1e-12))
            rows.append({"var1": a, "var2": b, "r": ru, "r.marker": r_marker, "r.adjusted": ra, "t": t,
                         "df": n - 3, "pvalue": float(2 * stats.t.sf(abs(t), n - 3)), "n": n})
    return pd.DataFrame(rows, columns=list(MARKER_COLUMNS))

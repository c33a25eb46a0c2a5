"""Missing data: Little's MCAR test and per-item / per-respondent / per-module summaries.

What goes in: a data frame of item answers (NaN = missing; never modified).
What comes out: tidy frames (columns listed per function).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.sem.samplestats import em_saturated, missing_patterns
from smecore.errors import DataError


def _values(data: pd.DataFrame, items: Sequence[str], what: str) -> np.ndarray:
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise DataError(f"{what}: column(s) {absent} not in the data; pass items present in the data")
    return data[list(items)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)


def little_mcar(data: pd.DataFrame, items: Sequence[str]) -> pd.DataFrame:
    """Little's (1988) test that the data are missing completely at random.

    Returns one row: ``statistic, df, p, n_patterns, n``.

    Notes
    -----
    ``d2 = sum_j n_j (ybar_j - mu_j)' Sigma_j^-1 (ybar_j - mu_j)`` over the
    missing-data patterns ``j`` (rows with nothing observed left out), with
    ``mu, Sigma`` the ML estimates from EM (the SEM engine's saturated EM,
    :func:`analysis.sem.samplestats.em_saturated`) restricted to the pattern's
    observed items; ``df = sum_j p_j - p``; ``p = P(chi2_df > d2)``. Same as
    ``naniar::mcar_test`` / ``misty::na.test``.
    """
    x = _values(data, items, "little_mcar")
    x = x[~np.isnan(x).all(axis=1)]
    pats = missing_patterns(x)
    mean, cov, _ = em_saturated(x, pats)
    d2 = 0.0
    for pat in pats:
        o = pat.observed
        d = pat.mean - mean[o]
        d2 += pat.n * float(d @ np.linalg.solve(cov[np.ix_(o, o)], d))
    df = sum(len(p.observed) for p in pats) - x.shape[1]
    p = float(stats.chi2.sf(d2, df)) if df > 0 else float("nan")
    return pd.DataFrame([{"statistic": d2, "df": df, "p": p, "n_patterns": len(pats), "n": len(x)}])


def missing_by_item(data: pd.DataFrame, items: Sequence[str]) -> pd.DataFrame:
    """Per item: ``item, n_missing, share_missing``."""
    miss = np.isnan(_values(data, items, "missing_by_item"))
    return pd.DataFrame({"item": list(items), "n_missing": miss.sum(axis=0),
                         "share_missing": miss.mean(axis=0) if len(miss) else np.nan})


def missing_by_respondent(data: pd.DataFrame, items: Sequence[str]) -> pd.DataFrame:
    """Per row (the data's index): ``n_missing, share_missing``."""
    miss = np.isnan(_values(data, items, "missing_by_respondent"))
    return pd.DataFrame({"n_missing": miss.sum(axis=1), "share_missing": miss.mean(axis=1)}, index=data.index)


def missing_by_module(data: pd.DataFrame, modules: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Per module ``{module: items}``: ``module, items, cells, share_missing``."""
    rows = []
    for name, items in modules.items():
        miss = np.isnan(_values(data, items, "missing_by_module"))
        rows.append((name, len(items), miss.size, float(miss.mean()) if miss.size else np.nan))
    return pd.DataFrame(rows, columns=["module", "items", "cells", "share_missing"])


def missing_patterns_table(data: pd.DataFrame, items: Sequence[str]) -> pd.DataFrame:
    """The pattern matrix: one row per missing-data pattern, most frequent first (ties: fewer missing first).

    Columns: the items (1 = observed, 0 = missing), then ``n`` and ``n_missing``.
    """
    obs = ~np.isnan(_values(data, items, "missing_patterns_table"))
    frame = pd.DataFrame(obs.astype(int), columns=list(items))
    vc = frame.value_counts(sort=False)
    # the patterns as one block (reset_index inserts one column at a time: slow and fragmented for many items)
    patterns = vc.index.to_frame(index=False)
    counts = pd.concat([patterns, pd.DataFrame({"n": vc.to_numpy(),
                                                "n_missing": len(items) - patterns.to_numpy().sum(axis=1)})], axis=1)
    return counts.sort_values(["n", "n_missing"], ascending=[False, True], kind="mergesort").reset_index(drop=True)

"""Screening survey responses: which rows to keep, and for every other row the reason.

Rules (each optional, applied in this order; a row is excluded by the first
rule it breaks, and every rule it breaks is listed):

1. ``duplicate``  - the respondent id appeared in an earlier row;
2. ``partial``    - fewer than ``min_answered`` (share) of the Likert items answered;
3. ``attention``  - an instructed-response item not answered as instructed
   (Meade & Craig 2012);
4. ``speeder``    - completion time below ``seconds_per_item`` x items answered
   (Huang et al. 2012 use 2 s per item);
5. ``straightline`` - the longest run of identical consecutive answers
   ("longstring", Johnson 2005) covers at least ``max_longstring_share`` of the
   Likert items;
6. ``outlier``    - flagged, not excluded: Mahalanobis distance of the Likert
   answers with chi-square p below ``mahalanobis_alpha`` (random responding
   produces such multivariate outliers; a reviewer decides).

What goes in: a data frame (never modified) and the column roles. What comes
out: :class:`ScreeningResult` with the kept rows and a log with one row per
excluded or flagged case (``row, id, rule, reason, excluded``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

LOG_COLUMNS = ("row", "id", "rule", "reason", "excluded")


@dataclass(frozen=True)
class ScreeningRules:
    """Thresholds of the screening rules (``None`` switches a rule off)."""

    min_answered: float | None = 0.5
    seconds_per_item: float | None = 2.0
    max_longstring_share: float | None = 0.9
    min_items_for_longstring: int = 10
    mahalanobis_alpha: float | None = 0.001
    attention_max_failures: int | None = 0  # more failures than this -> excluded


@dataclass(frozen=True)
class ScreeningResult:
    """Rows kept, the exclusion log and the per-row indices behind the rules."""

    kept: pd.DataFrame
    log: pd.DataFrame
    indices: pd.DataFrame  # per input row: answered, attention_failures, longstring, seconds, mahalanobis_p

    def summary(self) -> pd.DataFrame:
        """Counts of excluded and flagged rows per rule."""
        if self.log.empty:
            return pd.DataFrame(columns=["rule", "excluded", "flagged"])
        g = self.log.groupby("rule")["excluded"]
        return pd.DataFrame({"excluded": g.sum(), "flagged": g.size() - g.sum()}).reset_index()


def longstring(values: np.ndarray) -> np.ndarray:
    """Longest run of identical consecutive non-missing answers per row."""
    out = np.zeros(len(values), dtype=int)
    for i, row in enumerate(values):
        best = run = 0
        prev = np.nan
        for v in row:
            if np.isnan(v):
                run, prev = 0, np.nan
                continue
            run = run + 1 if v == prev else 1
            prev = v
            best = max(best, run)
        out[i] = best
    return out


def mahalanobis_pvalues(values: np.ndarray) -> np.ndarray:
    """Chi-square p-values of squared Mahalanobis distances (complete rows; NaN otherwise)."""
    complete = ~np.isnan(values).any(axis=1)
    p = np.full(len(values), np.nan)
    x = values[complete]
    if len(x) <= x.shape[1] + 1:
        return p
    centred = x - x.mean(axis=0)
    cov = np.cov(x, rowvar=False)
    d2 = np.einsum("ij,jk,ik->i", centred, np.linalg.pinv(cov), centred)
    p[complete] = stats.chi2.sf(d2, x.shape[1])
    return p


def screen(data: pd.DataFrame, *, likert: Sequence[str], id_column: str | None = None,
           attention: Mapping[str, float] | None = None, duration_column: str | None = None,
           rules: ScreeningRules | None = None) -> ScreeningResult:
    """Apply the screening rules to ``data`` (see the module docstring).

    Parameters
    ----------
    likert : sequence of str
        The Likert-item columns (in questionnaire order, for longstring).
    id_column : str, optional
        Respondent id (for duplicates and the log).
    attention : mapping, optional
        ``{column: expected answer}`` of the instructed-response items.
    duration_column : str, optional
        Completion time in seconds.
    """
    rules = rules or ScreeningRules()
    likert = [c for c in likert if c in data.columns]
    values = data[likert].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float) if likert \
        else np.empty((len(data), 0))
    n_items = max(len(likert), 1)
    answered = (~np.isnan(values)).sum(axis=1)
    ids = data[id_column].to_numpy() if id_column and id_column in data.columns else data.index.to_numpy()
    reasons: list[list[tuple[str, str]]] = [[] for _ in range(len(data))]
    if id_column and id_column in data.columns:
        dup = data[id_column].duplicated(keep="first").to_numpy() & data[id_column].notna().to_numpy()
        for i in np.flatnonzero(dup):
            reasons[i].append(("duplicate", f"respondent id {ids[i]!r} already answered in an earlier row"))
    if rules.min_answered is not None and likert:
        for i in np.flatnonzero(answered < rules.min_answered * n_items):
            reasons[i].append(("partial", f"answered {answered[i]} of {len(likert)} items "
                                          f"(< {rules.min_answered:.0%})"))
    failures = np.zeros(len(data), dtype=int)
    if attention:
        for col, expected in attention.items():
            if col not in data.columns:
                continue
            got = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
            failures += (got != expected).astype(int)  # missing counts as failed
        if rules.attention_max_failures is not None:
            for i in np.flatnonzero(failures > rules.attention_max_failures):
                reasons[i].append(("attention", f"failed {failures[i]} of {len(attention)} attention checks"))
    seconds = np.full(len(data), np.nan)
    if duration_column and duration_column in data.columns and rules.seconds_per_item is not None:
        seconds = pd.to_numeric(data[duration_column], errors="coerce").to_numpy(dtype=float)
        floor = rules.seconds_per_item * answered
        for i in np.flatnonzero(seconds < floor):
            reasons[i].append(("speeder", f"completed in {seconds[i]:.0f} s, below "
                                          f"{rules.seconds_per_item:g} s x {answered[i]} items"))
    ls = longstring(values) if likert else np.zeros(len(data), dtype=int)
    if rules.max_longstring_share is not None and len(likert) >= rules.min_items_for_longstring:
        for i in np.flatnonzero(ls >= rules.max_longstring_share * len(likert)):
            reasons[i].append(("straightline", f"same answer {ls[i]} times in a row "
                                               f"({ls[i] / len(likert):.0%} of the items)"))
    mp = mahalanobis_pvalues(values) if likert else np.full(len(data), np.nan)
    flags = np.zeros(len(data), dtype=bool)
    if rules.mahalanobis_alpha is not None:
        flags = np.nan_to_num(mp, nan=1.0) < rules.mahalanobis_alpha
    log_rows = []
    excluded = np.zeros(len(data), dtype=bool)
    for i, rs in enumerate(reasons):
        for rule, text in rs:
            log_rows.append((data.index[i], ids[i], rule, text, True))
        excluded[i] = bool(rs)
        if flags[i]:
            log_rows.append((data.index[i], ids[i], "outlier",
                             f"Mahalanobis p = {mp[i]:.2g} (flagged, kept)", False))
    log = pd.DataFrame(log_rows, columns=list(LOG_COLUMNS))
    indices = pd.DataFrame({"answered": answered, "attention_failures": failures, "longstring": ls,
                            "seconds": seconds, "mahalanobis_p": mp}, index=data.index)
    return ScreeningResult(data.loc[~excluded].copy(), log, indices)

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
6. ``outlier``    - Mahalanobis D-squared of the Likert answers with chi-square
   p below ``mahalanobis_alpha`` = .001 (random responding produces such
   multivariate outliers; Meade & Craig 2012; Curran 2016);
7. ``irv``        - intra-individual response variability (within-person SD over
   the Likert items, Dunn et al. 2018) below ``irv_min``; off by default since
   Dunn et al. give no cut-off (they inspect the low tail), the index is always
   computed and reported;
8. ``evenodd``    - even-odd consistency (Johnson 2005; Curran 2016): the
   within-person correlation, across scales, of the means of the odd- and
   even-numbered items of each scale (reverse-keyed items reverse-scored
   first, ``reverse``), Spearman-Brown corrected and bounded below at -1 as
   in ``careless::evenodd``, below ``evenodd_min`` = 0 (Curran 2016: values
   below zero are hard to explain by attentive answering);
9. ``psychsyn`` / ``psychant`` - psychometric synonyms / antonyms (Meade &
   Craig 2012): item pairs correlating above ``+synonym_r`` (.60) or below
   ``-synonym_r`` in the sample (antonyms arise from reverse-keyed items); the
   within-person correlation across those pairs below ``synonym_min`` = 0
   (synonyms) or above ``-synonym_min`` (antonyms) is suspect; pairs are only
   chosen from at least ``min_rows_for_synonyms`` = 50 rows;
10. ``page_speeder`` - per-page speeding where the export has page timers: a page is sped when its time
   is below ``page_seconds_per_item`` x the items on the page (Huang et al. 2012's 2 s per item, page
   by page); a respondent is a page speeder when more than ``page_speeder_share`` (.5) of their timed
   pages are sped (project default: a majority of pages, so that one page read quickly after an
   earlier look does not count).

Which rules exclude and which only flag is ``ScreeningRules.exclude``: by default
rules 1-5 exclude and rules 6-10 flag for a reviewer, as the careless-responding
literature recommends for the statistical indices, which have no agreed cut-off
(Curran 2016; Meade & Craig 2012; Huang et al. 2012; Dunn et al. 2018); ``page_speeder``
flags too, since Huang et al.'s 2 s per item was set for whole surveys, not single pages.

What goes in: a data frame (never modified) and the column roles. What comes
out: :class:`ScreeningResult` with the kept rows and a log with one row per
excluded or flagged case (``row, id, rule, reason, excluded``). Every index is
also a function of its own (``longstring``, ``irv``, ``mahalanobis_d2``,
``evenodd``, ``psychsyn``, ``speeders``, ``page_speeders``) taking an
``n x k`` float array (NaN = missing) and returning one value per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from instrument.platforms.base import fielded, page_variables
from smecore.errors import DataError

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
    irv_min: float | None = None  # Dunn et al. 2018 give no cut-off: reported, not applied, by default
    evenodd_min: float | None = 0.0
    synonym_r: float = 0.60
    synonym_min: float | None = 0.0
    min_rows_for_synonyms: int = 50  # pair correlations from fewer rows are noise: no pairs chosen
    page_seconds_per_item: float | None = 2.0  # Huang et al. 2012's 2 s per item, per page
    page_speeder_share: float = 0.5  # a page speeder: more than this share of the timed pages sped
    exclude: frozenset[str] = frozenset({"duplicate", "partial", "attention", "speeder", "straightline"})

    def table(self) -> pd.DataFrame:
        """The thresholds as a tidy frame ``rule, setting, value, action`` (for reports)."""
        rows = [("duplicate", "id seen before", "", ""), ("partial", "min_answered", self.min_answered, ""),
                ("attention", "attention_max_failures", self.attention_max_failures, ""),
                ("speeder", "seconds_per_item", self.seconds_per_item, ""),
                ("straightline", "max_longstring_share", self.max_longstring_share, ""),
                ("outlier", "mahalanobis_alpha", self.mahalanobis_alpha, ""),
                ("irv", "irv_min", self.irv_min, ""), ("evenodd", "evenodd_min", self.evenodd_min, ""),
                ("psychsyn", "synonym_min (pairs r > synonym_r)", self.synonym_min, ""),
                ("psychant", "-synonym_min (pairs r < -synonym_r)", self.synonym_min, ""),
                ("page_speeder", f"page_seconds_per_item (> {self.page_speeder_share:g} of the pages)",
                 self.page_seconds_per_item, "")]
        return pd.DataFrame([(r, k, "off" if v is None else v, "exclude" if r in self.exclude else "flag")
                             for r, k, v, _ in rows], columns=["rule", "setting", "value", "action"])


@dataclass(frozen=True)
class ScreeningResult:
    """Rows kept, the exclusion log and the per-row indices behind the rules."""

    kept: pd.DataFrame
    log: pd.DataFrame
    indices: pd.DataFrame  # per input row: answered, attention_failures, longstring, seconds, mahalanobis_d2,
    #                        mahalanobis_p, irv, evenodd, psychsyn, psychant, pages_timed, pages_sped

    def summary(self) -> pd.DataFrame:
        """Counts of excluded and flagged rows per rule."""
        if self.log.empty:
            return pd.DataFrame(columns=["rule", "excluded", "flagged"])
        g = self.log.groupby("rule")["excluded"]
        return pd.DataFrame({"excluded": g.sum(), "flagged": g.size() - g.sum()}).reset_index()


def longstring(values: np.ndarray) -> np.ndarray:
    """Longest run of identical consecutive non-missing answers per row (a missing answer ends a run)."""
    x = np.asarray(values, dtype=float)
    best = np.zeros(len(x), dtype=int)
    run = np.zeros(len(x), dtype=int)
    prev = np.full(len(x), np.nan)
    for v in x.T:  # column by column, every row at once
        missing = np.isnan(v)
        run = np.where(missing, 0, np.where(v == prev, run + 1, 1))
        prev = np.where(missing, np.nan, v)
        best = np.maximum(best, run)
    return best


def mahalanobis_d2(values: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distance of each complete row from the sample mean (NaN for incomplete rows).

    Notes
    -----
    ``D2_i = (x_i - xbar)' S^-1 (x_i - xbar)`` with ``S`` the sample covariance
    (divisor n - 1) of the complete rows, as ``careless::mahad`` and
    ``stats::mahalanobis(x, colMeans(x), cov(x))``. All NaN when there are no
    more complete rows than items + 1.
    """
    complete = ~np.isnan(values).any(axis=1)
    d2 = np.full(len(values), np.nan)
    x = values[complete]
    if len(x) <= x.shape[1] + 1:
        return d2
    centred = x - x.mean(axis=0)
    cov = np.atleast_2d(np.cov(x, rowvar=False))
    d2[complete] = np.einsum("ij,jk,ik->i", centred, np.linalg.pinv(cov), centred)
    return d2


def mahalanobis_pvalues(values: np.ndarray) -> np.ndarray:
    """Chi-square (df = items) p-values of :func:`mahalanobis_d2` (complete rows; NaN otherwise)."""
    return stats.chi2.sf(mahalanobis_d2(values), values.shape[1])


def irv(values: np.ndarray) -> np.ndarray:
    """Intra-individual response variability: the SD (divisor k - 1) of each row's answered items.

    Dunn et al. (2018); ``careless::irv(x, na.rm = TRUE)``. NaN with fewer than two answers.
    """
    answered = (~np.isnan(values)).sum(axis=1)
    out = np.full(len(values), np.nan)
    ok = answered >= 2
    out[ok] = np.nanstd(values[ok], axis=1, ddof=1)
    return out


def _rowwise_corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of a[i] with b[i] per row over the columns where both are present.

    Hand-written because numpy/pandas have no row-wise paired correlation with
    pairwise-complete columns; NaN with fewer than two pairs or zero variance. Rows with the same
    number of present columns are computed together, each with the operations of a row alone (a
    row's mean, then its dot products, as ``x @ y`` of two vectors): the numbers of a row-by-row loop.
    """
    out = np.full(len(a), np.nan)
    if not len(a):
        return out
    ok = ~(np.isnan(a) | np.isnan(b))
    count = ok.sum(axis=1)
    # rows grouped by how many pairs they have, m: each row's m present values gathered in column
    # order into an (rows x m) block - the block a missing pattern gives, with one Python iteration
    # per m instead of per pattern (nearly one pattern per respondent: ~30 ms of a 1,500-row screening)
    for m in np.unique(count[count >= 2]):
        rows = np.flatnonzero(count == m)
        cols = np.nonzero(ok[rows])[1].reshape(len(rows), int(m))
        xa, xb = np.take_along_axis(a[rows], cols, axis=1), np.take_along_axis(b[rows], cols, axis=1)
        x, y = xa - xa.mean(axis=1)[:, None], xb - xb.mean(axis=1)[:, None]
        xx = (x[:, None, :] @ x[:, :, None])[:, 0, 0]
        yy = (y[:, None, :] @ y[:, :, None])[:, 0, 0]
        xy = (x[:, None, :] @ y[:, :, None])[:, 0, 0]
        den = np.sqrt(xx * yy)
        pos = den > 0
        out[rows[pos]] = xy[pos] / den[pos]
    return out


def evenodd(values: np.ndarray, scales: Sequence[Sequence[int]], *, spearman_brown: bool = True) -> np.ndarray:
    """Even-odd consistency per row (Johnson 2005; Curran 2016).

    ``scales`` lists, per scale, the column indices of its items in questionnaire
    order. For each scale the mean of the odd-numbered items (1st, 3rd, ...) and
    of the even-numbered ones is taken (missing answers left out); the index is
    the correlation, across scales, of the odd-half with the even-half means,
    Spearman-Brown corrected ``2r / (1 + r)`` unless ``spearman_brown=False``;
    the corrected value is bounded below at -1 as ``careless::evenodd`` does
    (``2r / (1 + r)`` runs to minus infinity as r nears -1, which is no
    consistency coefficient). ``values`` must have reverse-keyed items already
    reverse-scored (Johnson 2005), else a scale's halves disagree by design.
    Scales with fewer than two items are skipped; NaN with fewer than two scales.
    """
    scales = [list(s) for s in scales if len(s) >= 2]
    n = len(values)
    if len(scales) < 2:
        return np.full(n, np.nan)
    with np.errstate(all="ignore"):
        odd = np.column_stack([_nanmean_rows(values[:, s[0::2]]) for s in scales])
        even = np.column_stack([_nanmean_rows(values[:, s[1::2]]) for s in scales])
        r = _rowwise_corr(odd, even)
        return np.fmax(2 * r / (1 + r), -1.0) if spearman_brown else r


def _nanmean_rows(x: np.ndarray) -> np.ndarray:
    cnt = (~np.isnan(x)).sum(axis=1)
    total = np.nansum(x, axis=1)
    return np.where(cnt > 0, total / np.maximum(cnt, 1), np.nan)


def synonym_pairs(values: np.ndarray, critval: float = 0.60, *, antonyms: bool = False) -> list[tuple[int, int]]:
    """Item pairs ``(i, j)``, ``i < j``, whose sample correlation (pairwise complete) exceeds ``critval``.

    With ``antonyms=True`` the pairs correlating below ``-critval`` (Meade & Craig 2012).
    """
    synonyms, opposite = threshold_pairs(values, critval)
    return opposite if antonyms else synonyms


#: |r - threshold| within which :func:`threshold_pairs` takes pandas' own correlation of the pair
_NEAR = 1e-7


def threshold_pairs(values: np.ndarray, critval: float) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The item pairs ``(i, j)``, ``i < j`` in row-major order, whose pairwise-complete correlation - as
    ``pd.DataFrame(values).corr()`` computes it - is above ``critval`` (synonyms) and below ``-critval``
    (antonyms): the pairs of thresholding that matrix, without computing all of it the slow way.

    The correlations come from products of the masked data (every pair's pairwise-complete sums at
    once); a pair within 1e-7 of a threshold, or whose variances are degenerate (little spread
    relative to the values, none, or fewer than two rows), is decided by pandas' correlation of the two
    columns alone, which is the entry of the whole matrix (pandas computes each pair from its own two
    columns).
    """
    x = np.asarray(values, dtype=float)
    k = x.shape[1]
    if k < 2:
        return [], []
    present = ~np.isnan(x)
    m, x0 = present.astype(float), np.where(present, x, 0.0)
    n = m.T @ m  # rows where both are present
    sx = x0.T @ m  # [i, j]: sum of item i over the rows where j is present too
    sxx = (x0 * x0).T @ m
    sxy = x0.T @ x0
    with np.errstate(all="ignore"):
        var_i = sxx - sx * sx / n  # of item i over the pair's rows
        var_j = var_i.T
        cov = sxy - sx * sx.T / n
        r = cov / np.sqrt(var_i * var_j)
        degenerate = ~((n >= 2) & (var_i > 1e-6 * sxx) & (var_j > 1e-6 * sxx.T) & np.isfinite(r))
    upper = np.triu(np.ones((k, k), dtype=bool), k=1)
    unsure = upper & (degenerate | (np.abs(r - critval) <= _NEAR) | (np.abs(r + critval) <= _NEAR))
    for i, j in zip(*np.nonzero(unsure), strict=True):
        r[i, j] = pd.DataFrame(x[:, [i, j]]).corr().to_numpy()[0, 1]
    hit_syn, hit_ant = upper & (r > critval), upper & (r < -critval)  # NaN compares False
    return ([(int(i), int(j)) for i, j in zip(*np.nonzero(hit_syn), strict=True)],
            [(int(i), int(j)) for i, j in zip(*np.nonzero(hit_ant), strict=True)])


def psychsyn(values: np.ndarray, critval: float = 0.60, *, antonyms: bool = False,
             pairs: list[tuple[int, int]] | None = None) -> np.ndarray:
    """Psychometric synonyms (antonyms) index per row (Meade & Craig 2012; ``careless::psychsyn``).

    The within-person correlation between the first and the second item of every
    pair from :func:`synonym_pairs`. Attentive respondents give high positive
    values for synonyms and negative ones for antonyms. NaN with fewer than two
    usable pairs (or no variance), and for every row when no pair passes ``critval``.
    ``pairs``: those pairs if already found (:func:`threshold_pairs` gives both kinds at once).
    """
    pairs = synonym_pairs(values, critval, antonyms=antonyms) if pairs is None else pairs
    if len(pairs) < 2:
        return np.full(len(values), np.nan)
    first = values[:, [i for i, _ in pairs]]
    second = values[:, [j for _, j in pairs]]
    return _rowwise_corr(first, second)


def speeders(seconds: np.ndarray, answered: np.ndarray, seconds_per_item: float = 2.0) -> np.ndarray:
    """True where the total time is below ``seconds_per_item`` x items answered (Huang et al. 2012).

    Missing times are never speeders.
    """
    seconds = np.asarray(seconds, dtype=float)
    return np.nan_to_num(seconds, nan=np.inf) < seconds_per_item * np.asarray(answered, dtype=float)


def page_speeders(page_seconds: pd.DataFrame, items_per_page: Mapping[str, int],
                  seconds_per_item: float = 2.0) -> pd.DataFrame:
    """Per-page speeding: for each page-duration column, True where its time < ``seconds_per_item`` x its items.

    ``page_seconds`` has one column of seconds per page (e.g. Qualtrics page
    timers, LimeSurvey group times); ``items_per_page`` gives each column's item
    count. Returns a boolean frame (same index, same columns) plus ``pages_sped``, the count per row.
    """
    out = pd.DataFrame(index=page_seconds.index)
    for col, k in items_per_page.items():
        secs = pd.to_numeric(page_seconds[col], errors="coerce").to_numpy(dtype=float)
        out[col] = speeders(secs, np.full(len(secs), k), seconds_per_item)
    out["pages_sped"] = out.sum(axis=1).astype(int)
    return out


def screen(data: pd.DataFrame, *, likert: Sequence[str], id_column: str | None = None,
           attention: Mapping[str, float] | None = None, duration_column: str | None = None,
           rules: ScreeningRules | None = None,
           scales: Mapping[str, Sequence[str]] | None = None,
           reverse: Mapping[str, float] | None = None, page_seconds: pd.DataFrame | None = None,
           page_items: Mapping[str, Sequence[str]] | None = None) -> ScreeningResult:
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
    scales : mapping, optional
        ``{construct: items}`` for the even-odd index (items among ``likert``).
    reverse : mapping, optional
        ``{column: lowest + highest scale value}`` of the reverse-keyed items: the even-odd index reads
        them reverse-scored (``lowest + highest - answer``); every other index reads the answers as given.
    page_seconds : DataFrame, optional
        Seconds per row of ``data`` (same rows, in the same order) and page (one column per page id),
        e.g. :attr:`analysis.ingest.pipeline.IngestResult.pages`; other columns are ignored.
    page_items : mapping, optional
        ``{page id: the items on that page}``; a page's threshold is ``page_seconds_per_item`` x its items
        that are columns of ``data``. Pages in both ``page_seconds`` and ``page_items`` are screened.
    """
    rules = rules or ScreeningRules()
    likert = [c for c in likert if c in data.columns]
    block = data[likert]
    if not all(pd.api.types.is_numeric_dtype(d) and not pd.api.types.is_bool_dtype(d) for d in block.dtypes):
        # (numeric columns: to_numeric would leave them as they are)
        block = block.apply(pd.to_numeric, errors="coerce")
    values = block.to_numpy(dtype=float) if likert else np.empty((len(data), 0))
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
        for i in np.flatnonzero(speeders(seconds, answered, rules.seconds_per_item)):
            reasons[i].append(("speeder", f"completed in {seconds[i]:.0f} s, below "
                                          f"{rules.seconds_per_item:g} s x {answered[i]} items"))
    ls = longstring(values) if likert else np.zeros(len(data), dtype=int)
    if rules.max_longstring_share is not None and len(likert) >= rules.min_items_for_longstring:
        for i in np.flatnonzero(ls >= rules.max_longstring_share * len(likert)):
            reasons[i].append(("straightline", f"same answer {ls[i]} times in a row "
                                               f"({ls[i] / len(likert):.0%} of the items)"))
    d2 = mahalanobis_d2(values) if likert else np.full(len(data), np.nan)
    mp = stats.chi2.sf(d2, len(likert)) if likert else np.full(len(data), np.nan)
    iv = irv(values) if likert else np.full(len(data), np.nan)
    pos = {c: j for j, c in enumerate(likert)}
    scale_cols = [[pos[c] for c in items if c in pos] for items in (scales or {}).values()]
    keyed = values.copy()
    for c, total in (reverse or {}).items():
        if c in pos:
            keyed[:, pos[c]] = total - keyed[:, pos[c]]
    eo = evenodd(keyed, scale_cols) if likert else np.full(len(data), np.nan)
    enough = bool(likert) and len(data) >= rules.min_rows_for_synonyms
    pairs = threshold_pairs(values, rules.synonym_r) if enough else ([], [])  # both kinds at once
    syn = psychsyn(values, rules.synonym_r, pairs=pairs[0]) if enough else np.full(len(data), np.nan)
    ant = psychsyn(values, rules.synonym_r, antonyms=True, pairs=pairs[1]) if enough else np.full(len(data), np.nan)
    stat_rules = []  # (rule, bad-row mask, reason text per row)
    if rules.mahalanobis_alpha is not None:
        stat_rules.append(("outlier", np.nan_to_num(mp, nan=1.0) < rules.mahalanobis_alpha,
                           lambda i: f"Mahalanobis D2 = {d2[i]:.1f}, p = {mp[i]:.2g}"))
    if rules.irv_min is not None:
        stat_rules.append(("irv", np.nan_to_num(iv, nan=np.inf) < rules.irv_min,
                           lambda i: f"response SD {iv[i]:.2f} below {rules.irv_min:g}"))
    if rules.evenodd_min is not None:
        stat_rules.append(("evenodd", np.nan_to_num(eo, nan=np.inf) < rules.evenodd_min,
                           lambda i: f"even-odd consistency {eo[i]:.2f} below {rules.evenodd_min:g}"))
    if rules.synonym_min is not None:
        stat_rules.append(("psychsyn", np.nan_to_num(syn, nan=np.inf) < rules.synonym_min,
                           lambda i: f"psychometric synonyms r = {syn[i]:.2f} below {rules.synonym_min:g}"))
        stat_rules.append(("psychant", np.nan_to_num(ant, nan=-np.inf) > -rules.synonym_min,
                           lambda i: f"psychometric antonyms r = {ant[i]:.2f} above {-rules.synonym_min:g}"))
    pages_timed = np.full(len(data), np.nan)
    pages_sped = np.full(len(data), np.nan)
    if page_seconds is not None and page_items:
        if len(page_seconds) != len(data):
            raise DataError(f"page_seconds has {len(page_seconds)} rows but data {len(data)}: give the page "
                            "times of exactly the rows screened, in their order")
        counts = {p: sum(c in data.columns for c in items) for p, items in page_items.items()
                  if p in page_seconds.columns}
        counts = {p: k for p, k in counts.items() if k > 0}
        secs = page_seconds[list(counts)].reset_index(drop=True).apply(pd.to_numeric, errors="coerce")
        pages_timed = secs.notna().sum(axis=1).to_numpy(dtype=float)
        if rules.page_seconds_per_item is not None and counts:
            pages_sped = page_speeders(secs, counts, rules.page_seconds_per_item)["pages_sped"].to_numpy(dtype=float)
            share = np.divide(pages_sped, pages_timed, out=np.zeros(len(data)), where=pages_timed > 0)
            stat_rules.append(("page_speeder", share > rules.page_speeder_share,
                               lambda i: f"{pages_sped[i]:.0f} of {pages_timed[i]:.0f} pages below "
                                         f"{rules.page_seconds_per_item:g} s per item (> "
                                         f"{rules.page_speeder_share:.0%})"))
    for rule, mask, text in stat_rules:
        for i in np.flatnonzero(mask):
            reasons[i].append((rule, text(i)))
    log_rows = []
    excluded = np.zeros(len(data), dtype=bool)
    for i, rs in enumerate(reasons):
        for rule, text in rs:
            ex = rule in rules.exclude
            log_rows.append((data.index[i], ids[i], rule, text if ex else f"{text} (flagged, kept)", ex))
            excluded[i] |= ex
    log = pd.DataFrame(log_rows, columns=list(LOG_COLUMNS))
    indices = pd.DataFrame({"answered": answered, "attention_failures": failures, "longstring": ls,
                            "seconds": seconds, "mahalanobis_d2": d2, "mahalanobis_p": mp, "irv": iv,
                            "evenodd": eo, "psychsyn": syn, "psychant": ant, "pages_timed": pages_timed,
                            "pages_sped": pages_sped}, index=data.index)
    return ScreeningResult(data.loc[~excluded], log, indices)  # boolean indexing: already a new frame


def screen_instrument(data: pd.DataFrame, instrument, rules: ScreeningRules | None = None,
                      page_seconds: pd.DataFrame | None = None) -> ScreeningResult:
    """:func:`screen` with the column roles read from ``instrument`` (an :class:`instrument.model.Instrument`).

    Likert and matrix items present in ``data`` (questionnaire order), the attention checks with their
    instructed answers, ``respondent_id`` and ``duration_sec`` when present, every construct's items as
    the even-odd scales and the reverse-keyed items with their scale's lowest + highest value. The one
    place the analysis (``smesurvey analyze``) and the data-quality report build screen()'s arguments, so
    both screen the same way. ``page_seconds`` (one row per row of ``data``): the page times, screened
    against the pages as fielded (:func:`instrument.platforms.base.fielded`: the modules with items in
    ``data``, as the platform readers lay the pages out; :func:`~instrument.platforms.base.page_variables`).
    """
    likert = [v.name for v in instrument.variables() if v.kind in ("likert", "matrix") and v.name in data.columns]
    attention = {a.id: a.expected for a in instrument.questionnaire.attention_checks if a.id in data.columns}
    scales = {c.id: [it.id for it in c.items] for c in instrument.constructs.values()}
    reverse = {}
    for c in instrument.constructs.values():
        points = [p.value for p in instrument.scales[c.scale].points]
        reverse.update({it.id: min(points) + max(points) for it in c.items if it.reverse})
    return screen(data, likert=likert, id_column="respondent_id" if "respondent_id" in data.columns else None,
                  attention=attention, duration_column="duration_sec" if "duration_sec" in data.columns else None,
                  rules=rules, scales=scales, reverse=reverse, page_seconds=page_seconds,
                  page_items=page_variables(fielded(instrument, data.columns)) if page_seconds is not None else None)

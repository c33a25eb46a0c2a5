"""Discriminant validity: HTMT ratios and the Fornell-Larcker table.

Both return tidy DataFrames. HTMT reads raw item data; Fornell-Larcker reads a
fitted CFA (standardized loadings and the model-implied latent covariances).
A value that cannot be computed is NaN / NA and never counts as a pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from smecore.errors import DataError

if TYPE_CHECKING:
    from analysis.sem.fit import FitResult

HTMT_COLUMNS = ("construct1", "construct2", "htmt", "above.85", "above.90")


def htmt(data: pd.DataFrame, constructs: Mapping[str, Sequence[str]], *, geometric: bool = True,
         absolute: bool = True) -> pd.DataFrame:
    """Heterotrait-monotrait ratios of correlations.

    ``HTMT_ij = m(|r| heterotrait) / sqrt(m(|r| monotrait_i) m(|r| monotrait_j))`` from
    the Pearson correlations of the items (pairwise complete), where ``m`` is the
    geometric mean (HTMT2, Roemer, Schuberth & Henseler 2021 - semTools' default,
    consistent also when loadings differ) or, with ``geometric=False``, the
    arithmetic mean (the original HTMT of Henseler, Ringle & Sarstedt 2015).

    Returns the long table (:data:`HTMT_COLUMNS`, one row per pair, with the
    usual 0.85 and 0.90 thresholds flagged as nullable booleans: NA where a ratio
    cannot be computed, e.g. no pairwise-complete answers); ``htmt_matrix`` gives
    the square form.

    Examples
    --------
    Matches ``semTools::htmt(model, data)`` (semTools 0.5-6: ``htmt2 = TRUE``,
    ``absolute = TRUE``).
    """
    items = [i for its in constructs.values() for i in its]
    absent = [i for i in items if i not in data.columns]
    if absent:
        raise DataError(f"htmt: column(s) {absent} not in the data")
    short = [c for c, its in constructs.items() if len(its) < 2]
    if short:
        raise DataError(f"htmt: construct(s) {short} have fewer than 2 items; HTMT needs a monotrait correlation")
    r = data[list(dict.fromkeys(items))].apply(pd.to_numeric, errors="coerce").corr()  # an item once
    if absolute or geometric:
        r = r.abs()

    def mean(values: np.ndarray) -> float:
        return float(np.exp(np.mean(np.log(values)))) if geometric else float(np.mean(values))

    # positions in the correlation matrix (numpy indexing: pandas .loc per pair cost ~1 ms each)
    rm = r.to_numpy()
    at = {c: r.index.get_indexer(list(its)) for c, its in constructs.items()}
    mono = {c: mean(rm[np.ix_(i, i)][np.triu_indices(len(i), 1)]) for c, i in at.items()}
    rows = []
    for a, b in combinations(constructs, 2):
        hetero = mean(rm[np.ix_(at[a], at[b])].ravel())
        value = hetero / np.sqrt(mono[a] * mono[b])
        rows.append({"construct1": a, "construct2": b, "htmt": value,
                     "above.85": pd.NA if np.isnan(value) else bool(value > 0.85),
                     "above.90": pd.NA if np.isnan(value) else bool(value > 0.90)})
    out = pd.DataFrame(rows, columns=list(HTMT_COLUMNS))
    return out.astype({"above.85": "boolean", "above.90": "boolean"})


def htmt_matrix(long: pd.DataFrame) -> pd.DataFrame:
    """Square, symmetric form of :func:`htmt` output (ones on the diagonal)."""
    names = list(dict.fromkeys(list(long["construct1"]) + list(long["construct2"])))
    m = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for r in long.itertuples():
        m.loc[r.construct1, r.construct2] = m.loc[r.construct2, r.construct1] = r.htmt
    return m


def fornell_larcker(result: FitResult, group: int = 1) -> pd.DataFrame:
    """Fornell-Larcker table: sqrt(AVE) on the diagonal, latent correlations off it.

    What goes in: a fitted CFA / SEM (:class:`analysis.sem.fit.FitResult`). The
    rows are the first-order factors (those measured by observed items);
    ``sqrt(AVE)`` is the root mean square of their items' standardized
    loadings (``std.all``), and the correlations are read from the
    model-implied latent covariance matrix (lavaan's ``lavInspect(fit,
    "cov.lv")``, standardized), so factors under a second-order factor or
    regressed on each other get their implied correlation, not the residual
    one. What comes out: a square DataFrame plus ``max.correlation`` (largest
    absolute correlation with another factor) and ``pass`` (nullable boolean:
    sqrt(AVE) above ``max.correlation``). Both are NA when they cannot be
    computed (a single factor, a non-positive variance) - never a pass by default.
    """
    if isinstance(result, pd.DataFrame):
        raise TypeError("fornell_larcker() takes the fitted model (FitResult), not its parameter table: "
                        "the latent correlations come from the model-implied latent covariance matrix")
    p = result.parameters
    p = p[p["group"] == group] if "group" in p.columns else p
    ov = set(result.partable.variables.ov)
    load = p[(p["op"] == "=~") & p["rhs"].isin(ov)]
    factors = list(dict.fromkeys(load["lhs"]))
    table = pd.DataFrame(np.nan, index=factors, columns=factors)
    for f in factors:
        s = load.loc[load["lhs"] == f, "std.all"].to_numpy(dtype=float)
        table.loc[f, f] = np.sqrt(np.mean(s ** 2))
    cov = result.implied_latent(group)[0].loc[factors, factors].to_numpy()
    sd = np.sqrt(np.where(np.diag(cov) > 0, np.diag(cov), np.nan))
    corr = cov / np.outer(sd, sd)
    off = ~np.eye(len(factors), dtype=bool)
    table = table.where(~off, corr)
    max_r = [float(np.max(np.abs(corr[i, off[i]]))) if off[i].any() else np.nan for i in range(len(factors))]
    table["max.correlation"] = max_r  # NaN propagates through np.max: one unknown correlation, no verdict
    table["pass"] = pd.array([pd.NA if not (np.isfinite(m) and np.isfinite(table.loc[f, f]))
                              else bool(table.loc[f, f] > m) for f, m in zip(factors, max_r, strict=True)],
                             dtype="boolean")
    return table

"""Discriminant validity: HTMT ratios and the Fornell-Larcker table.

Both return tidy DataFrames. HTMT reads raw item data; Fornell-Larcker reads a
fitted CFA's parameter table (lavaan columns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from smesurvey.errors import DataError

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
    usual 0.85 and 0.90 thresholds flagged); ``htmt_matrix`` gives the square form.

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
    r = data[items].apply(pd.to_numeric, errors="coerce").corr()
    if absolute or geometric:
        r = r.abs()

    def mean(values: np.ndarray) -> float:
        return float(np.exp(np.mean(np.log(values)))) if geometric else float(np.mean(values))

    def mono(its):
        block = r.loc[its, its].to_numpy()
        return mean(block[np.triu_indices(len(its), 1)])

    rows = []
    for a, b in combinations(constructs, 2):
        hetero = mean(r.loc[list(constructs[a]), list(constructs[b])].to_numpy().ravel())
        value = hetero / np.sqrt(mono(list(constructs[a])) * mono(list(constructs[b])))
        rows.append({"construct1": a, "construct2": b, "htmt": value, "above.85": value > 0.85,
                     "above.90": value > 0.90})
    return pd.DataFrame(rows, columns=list(HTMT_COLUMNS))


def htmt_matrix(long: pd.DataFrame) -> pd.DataFrame:
    """Square, symmetric form of :func:`htmt` output (ones on the diagonal)."""
    names = list(dict.fromkeys(list(long["construct1"]) + list(long["construct2"])))
    m = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for r in long.itertuples():
        m.loc[r.construct1, r.construct2] = m.loc[r.construct2, r.construct1] = r.htmt
    return m


def fornell_larcker(params: pd.DataFrame, group: int = 1) -> pd.DataFrame:
    """Fornell-Larcker table: sqrt(AVE) on the diagonal, latent correlations off it.

    Reads the standardized loadings (``std.all`` of ``=~`` rows) and the latent
    correlations (``std.all`` of ``~~`` rows between factors) of a fitted CFA.
    Returns a square DataFrame plus a column ``pass``: True when a factor's
    sqrt(AVE) exceeds its largest absolute correlation with another factor.
    """
    p = params[params["group"] == group] if "group" in params.columns else params
    load = p[p["op"] == "=~"]
    factors = list(dict.fromkeys(load["lhs"]))
    table = pd.DataFrame(np.nan, index=factors, columns=factors)
    for f in factors:
        s = load.loc[load["lhs"] == f, "std.all"].to_numpy(dtype=float)
        table.loc[f, f] = np.sqrt(np.mean(s ** 2))
    cov = p[(p["op"] == "~~") & p["lhs"].isin(factors) & p["rhs"].isin(factors) & (p["lhs"] != p["rhs"])]
    for r in cov.itertuples():
        table.loc[r.lhs, r.rhs] = table.loc[r.rhs, r.lhs] = cov.loc[r.Index, "std.all"]
    off = table.where(~np.eye(len(factors), dtype=bool))
    table["pass"] = [bool(table.loc[f, f] > np.nanmax(np.abs(off.loc[f].to_numpy(dtype=float)), initial=0))
                     for f in factors]
    return table

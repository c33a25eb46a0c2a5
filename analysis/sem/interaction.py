"""Latent interactions by product indicators (unconstrained approach, double-mean-centering).

Why this method: it needs nothing beyond ML/MLR estimation, it is what
semTools offers (``indProd``) and what reviewers in management research know
(Marsh, Wen & Hau 2004; Lin et al. 2010). Each indicator of ``X`` is paired
with one of ``Z`` (matched pairs, in the order given: put the best indicators
first), the items are mean-centred, multiplied, and the products centred
again ("double mean centering", which removes the need for a mean
structure). The product latent ``XZ`` is measured by these products and
allowed to covary with ``X`` and ``Z``; its structural path is the
interaction. Standard errors should be robust (MLR) because products are
not normal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from smecore.errors import DataError


def product_indicators(data: pd.DataFrame, x_items: Sequence[str], z_items: Sequence[str], *,
                       double_mean_center: bool = True, sep: str = "_x_") -> pd.DataFrame:
    """Matched-pair product indicators, as ``semTools::indProd(match=TRUE, meanC=TRUE, doubleMC=TRUE)``.

    Returns a DataFrame (same index as ``data``) with one column per pair,
    named ``"<x><sep><z>"``; ``data`` is not modified. Missing values stay missing.
    """
    x_items, z_items = list(x_items), list(z_items)
    absent = [c for c in x_items + z_items if c not in data.columns]
    if absent:
        raise DataError(f"product indicators: column(s) {absent} not in the data")
    k = min(len(x_items), len(z_items))
    if k < 1:
        raise DataError("product indicators need at least one item for each factor")
    columns = {c: data[c].to_numpy(dtype=float, na_value=np.nan) for c in dict.fromkeys(x_items[:k] + z_items[:k])}
    return pd.DataFrame(product_columns(columns, x_items, z_items, double_mean_center=double_mean_center, sep=sep),
                        index=data.index)


def product_columns(columns: Mapping[str, np.ndarray], x_items: Sequence[str], z_items: Sequence[str], *,
                    double_mean_center: bool = True, sep: str = "_x_") -> dict[str, np.ndarray]:
    """:func:`product_indicators` on float arrays (``columns``: name -> values, NaN = missing): the
    products by name, in pair order. On numpy rather than pandas Series because Monte Carlo studies
    build them in every replication, where Series arithmetic cost ten times as much; :func:`_mean` is
    pandas' ``Series.mean`` to the last bit, so both give the same numbers."""
    out = {}
    for x, z in zip(x_items, z_items):  # as many pairs as the shorter list
        xc = columns[x] - _mean(columns[x])
        zc = columns[z] - _mean(columns[z])
        prod = xc * zc
        if double_mean_center:
            prod = prod - _mean(prod)
        out[f"{x}{sep}{z}"] = prod
    return out


def _mean(values: np.ndarray) -> float:
    """The mean of the non-missing values as pandas computes it (missing values summed as zeros, divided by
    the count); NaN when none is observed."""
    observed = ~np.isnan(values)
    count = int(observed.sum())
    return float(np.where(observed, values, 0.0).sum() / count) if count else np.nan


def interaction_syntax(name: str, products: Sequence[str]) -> str:
    """Measurement line of the product latent (``XZ =~ p1 + p2 + ...``)."""
    return f"{name} =~ " + " + ".join(products)

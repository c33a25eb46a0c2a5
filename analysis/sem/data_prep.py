"""Turn a user's data frame into per-group numeric arrays for a model, with an exclusion log.

Every row is either used or listed in the exclusion log with its reason;
the input frame is never modified. Problems a user can fix raise
:class:`~smecore.errors.DataError` naming the column (and a row where it
helps) and what to do.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smecore.errors import DataError, SmeSurveyWarning

SMALL_G = 30  # fewer clusters than this: cluster-robust inference is unreliable


@dataclass(frozen=True)
class PreparedData:
    """Numeric arrays per group plus what was left out and why."""

    arrays: tuple[np.ndarray, ...]  # one (n_g x p) array per group, columns = variables
    variables: tuple[str, ...]
    group_labels: tuple[str, ...]  # in order of first appearance ("" for one group)
    row_index: tuple[np.ndarray, ...]  # original index labels of the rows kept, per group
    excluded: pd.DataFrame  # columns: row, reason
    clusters: tuple[np.ndarray, ...] | None = None  # cluster code (0, 1, ...) of each kept row, per group
    # what a user should be told about (as lavaan warns): rows dropped for a missing group, cluster or
    # fixed.x covariate, with counts; None when there were none (listwise deletion is only logged)
    notice: str | None = None


def _numeric_column(data: pd.DataFrame, name: str) -> np.ndarray:
    col = data[name]
    if pd.api.types.is_bool_dtype(col):
        return col.astype(float).to_numpy()
    if pd.api.types.is_numeric_dtype(col):
        return col.astype(float).to_numpy()
    converted = pd.to_numeric(col, errors="coerce")
    bad = col.notna() & converted.isna()
    if bad.any():
        first = bad.idxmax()
        raise DataError(
            f"column '{name}' has non-numeric values (e.g. {col[first]!r} in row {first}); "
            "recode it to numbers or remove it from the model")
    return converted.astype(float).to_numpy()


def prepare_data(data: pd.DataFrame, variables: Sequence[str], *, group: str | None = None,
                 missing: str = "listwise", covariates: Sequence[str] = (),
                 source: str = "data", cluster: str | None = None) -> PreparedData:
    """Select, check and split ``data`` for a model with observed ``variables``.

    Parameters
    ----------
    data : DataFrame
        One row per case; not modified.
    variables : sequence of str
        The model's observed variables (their order is kept).
    group : str, optional
        Column defining groups (order of first appearance, as lavaan).
    missing : {"listwise", "fiml"}
        Listwise: rows with any missing value on ``variables`` are excluded.
        FIML: only rows with no observed value on ``variables`` are excluded,
        and rows missing an exogenous covariate (lavaan does the same with
        ``fixed.x=TRUE``: covariates are conditioned on, so they must be observed).
    covariates : sequence of str
        The model's exogenous observed covariates (a subset of ``variables``).
    source : str
        Name used in messages (e.g. the CSV path).
    cluster : str, optional
        Column naming the cluster (e.g. the cluster organisation) of each row,
        for cluster-robust statistics; rows without a cluster are excluded.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{source}: expected a pandas DataFrame, got {type(data).__name__}")
    missing_cols = [v for v in variables if v not in data.columns]
    if missing_cols:
        hints = []
        for v in missing_cols:
            close = difflib.get_close_matches(v, [str(c) for c in data.columns], n=1)
            hints.append(f"'{v}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise DataError(f"{source}: the model uses variable(s) not in the data: {', '.join(hints)}; "
                        "rename the columns or correct the model")
    for role, col in (("group", group), ("cluster", cluster)):
        if col is not None and col not in data.columns:
            raise DataError(f"{source}: {role} column '{col}' is not in the data; "
                            f"available columns: {', '.join(map(str, data.columns[:20]))}")
    x = np.column_stack([_numeric_column(data, v) for v in variables]) if variables else np.empty((len(data), 0))
    excluded: list[tuple[object, str]] = []
    notices: list[str] = []
    keep = np.ones(len(data), dtype=bool)
    if group is not None:
        gcol = data[group]
        no_group = gcol.isna().to_numpy()
        for i in np.flatnonzero(no_group):
            excluded.append((data.index[i], f"missing value in group column '{group}'"))
        keep &= ~no_group
        if no_group.any():
            notices.append(f"{_rows(no_group.sum())} excluded: missing value in group column '{group}'")
    if cluster is not None:
        no_cluster = data[cluster].isna().to_numpy() & keep
        for i in np.flatnonzero(no_cluster):
            excluded.append((data.index[i], f"missing value in cluster column '{cluster}'"))
        keep &= ~no_cluster
        if no_cluster.any():
            notices.append(f"{_rows(no_cluster.sum())} excluded: missing value in cluster column '{cluster}'")
    nan = np.isnan(x)
    if missing == "listwise":
        drop = nan.any(axis=1) & keep
        for i in np.flatnonzero(drop):
            cols = [variables[j] for j in np.flatnonzero(nan[i])]
            excluded.append((data.index[i], "missing value in " + ", ".join(cols[:5])
                             + (" ..." if len(cols) > 5 else "")))
        keep &= ~drop
    else:
        xcols = [variables.index(c) for c in covariates]
        if xcols:
            drop = nan[:, xcols].any(axis=1) & keep
            for i in np.flatnonzero(drop):
                cols = [variables[j] for j in xcols if nan[i, j]]
                excluded.append((data.index[i], "missing value in covariate " + ", ".join(cols)
                                 + " (covariates are conditioned on and must be observed)"))
            keep &= ~drop
            if drop.any():
                names = [variables[j] for j in xcols if (nan[:, j] & drop).any()]
                notices.append(f"{_rows(drop.sum())} excluded: missing on covariate(s) {', '.join(names)} "
                               "(fixed.x: covariates are conditioned on and must be observed)")
        drop = nan.all(axis=1) & keep
        for i in np.flatnonzero(drop):
            excluded.append((data.index[i], "no observed value on the model's variables"))
        keep &= ~drop
    if group is None:
        labels = ("",)
        masks = [keep]
    else:
        values = data[group].astype(str).to_numpy()
        labels = tuple(dict.fromkeys(values[keep]))
        masks = [keep & (values == lab) for lab in labels]
    arrays, rows = [], []
    for lab, mask in zip(labels, masks):
        xg = x[mask]
        where = f"{source}" + (f", group '{lab}'" if group is not None else "")
        n_complete = int((~np.isnan(xg).any(axis=1)).sum())
        if len(xg) < 2 or (missing == "listwise" and n_complete <= len(variables)):
            raise DataError(
                f"{where}: only {len(xg)} usable row(s) ({n_complete} complete) for "
                f"{len(variables)} variables; ML needs more complete rows than variables. "
                "Collect more data, drop variables, or use missing='fiml'")
        for j, v in enumerate(variables):
            col = xg[:, j]
            col = col[~np.isnan(col)]
            if len(col) == 0:
                raise DataError(f"{where}: column '{v}' has no observed values; remove it from the model")
            if np.ptp(col) == 0:
                raise DataError(f"{where}: column '{v}' is constant (every value is {col[0]:g}); a constant "
                                "variable carries no information - remove it from the model")
        arrays.append(xg)
        rows.append(data.index.to_numpy()[mask])
    clusters = None
    if cluster is not None:
        clusters = tuple(pd.factorize(data[cluster].to_numpy()[mask])[0] for mask in masks)
        few = [lab or "the data" for lab, c in zip(labels, clusters) if c.max(initial=-1) + 1 < 2]
        if few:
            raise DataError(f"{source}: cluster column '{cluster}' has fewer than 2 clusters in {few[0]}; "
                            "cluster-robust statistics need many clusters (20 or more is a common rule)")
        g = min(int(c.max()) + 1 for c in clusters)
        if g < SMALL_G:
            warnings.warn(f"{source}: cluster-robust standard errors and test from only {g} clusters "
                          f"('{cluster}'); with fewer than {SMALL_G} clusters they tend to be too small "
                          "(Cameron & Miller 2015) - read the p-values with care", SmeSurveyWarning, stacklevel=3)
    log = pd.DataFrame(excluded, columns=["row", "reason"])
    notice = "; ".join(notices) + " (every excluded row is in the exclusion log, excluded.csv)" if notices else None
    return PreparedData(tuple(arrays), tuple(variables), labels, tuple(rows), log, clusters, notice)


def _rows(n: int) -> str:
    return f"{int(n)} row" + ("" if n == 1 else "s")

"""Turn a user's data frame into per-group numeric arrays for a model, with an exclusion log.

Every row is either used or listed in the exclusion log with its reason;
the input frame is never modified. Problems a user can fix raise
:class:`~smecore.errors.DataError` naming the column (and a row where it
helps) and what to do.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from smecore.errors import DataError, SmeSurveyWarning

SMALL_G = 30  # fewer clusters than this: cluster-robust inference is unreliable
#: Values survey and statistics packages use for "no answer" (the codebook's own is -99). In a column whose
#: other values lie far away (see :func:`_suspect_codes`) they are refused unless passed as missing codes.
COMMON_MISSING_CODES = (-9.0, -99.0, -999.0, -9999.0, 99.0, 999.0, 9999.0)
#: Larger magnitudes are refused: beyond 2**53 whole numbers are no longer exact, and squares of such
#: values overflow the moments long before they mean anything in a survey.
MAX_MAGNITUDE = 2.0 ** 53


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
    # cells set missing because they held one of ``missing_codes``: columns row, variable, original
    recoded: pd.DataFrame | None = None


def _numeric_column(data: pd.DataFrame, name: str, source: str) -> np.ndarray:
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
            f"{source}: column '{name}' has {int(bad.sum())} non-numeric value(s) (e.g. {col[first]!r} in row "
            f"{first}); recode them to numbers (or empty for missing) or remove '{name}' from the model")
    return converted.astype(float).to_numpy()


def _numeric_block(data: pd.DataFrame, variables: Sequence[str], source: str) -> np.ndarray:
    """The columns ``variables`` as a float array (rows x variables): one conversion when every column is
    numeric or boolean, else column by column (:func:`_numeric_column`, which names a non-numeric value)."""
    if not variables:
        return np.empty((len(data), 0))
    at = data.columns.get_indexer(list(variables))
    dtypes = data.dtypes.to_numpy()
    if all(pd.api.types.is_numeric_dtype(dtypes[j]) or pd.api.types.is_bool_dtype(dtypes[j]) for j in at):
        if len(at) * 2 >= data.shape[1] and all(pd.api.types.is_numeric_dtype(d) or pd.api.types.is_bool_dtype(d)
                                                 for d in dtypes):
            # a model's frame (mostly its own columns): the whole frame in one conversion, then the columns -
            # selecting them first builds a frame, which cost three times the conversion
            return data.to_numpy(dtype=float, na_value=np.nan)[:, at]
        return data.iloc[:, at].to_numpy(dtype=float, na_value=np.nan, copy=True)
    return np.column_stack([_numeric_column(data, v, source) for v in variables])


def _normalised(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


_ITEM = re.compile(r"^([a-z]+(?:_[a-z]+)*?)_?(\d+)$")


def close_column(name: str, columns: Sequence[str]) -> str | None:
    """A column of ``columns`` that is most likely ``name`` renamed, else ``None``: the same name ignoring case
    and separators (``MK_2``, ``mk2``), else a close spelling (difflib, ratio >= 0.8) that is not another item
    of the same numbered pattern (``mk_2`` is not ``mkr_2`` nor ``mk_12``)."""
    cols = [str(c) for c in columns]
    same = [c for c in cols if _normalised(c) == _normalised(name)]
    if same:
        return same[0]
    m = _ITEM.match(name.casefold())
    for cand in difflib.get_close_matches(name, cols, n=5, cutoff=0.8):
        k = _ITEM.match(cand.casefold())
        if m and k and (m.group(1) != k.group(1) or m.group(2) != k.group(2)):
            continue  # another item of a numbered scale, not a misspelling
        return cand
    return None


#: the empty logs, copied (building an empty frame costs ten times its copy; a model's data are prepared
#: once per refit in Monte Carlo studies)
_EMPTY_RECODED = pd.DataFrame([], columns=["row", "variable", "original"])
_EMPTY_EXCLUDED = pd.DataFrame([], columns=["row", "reason"])


def _apply_missing_codes(x: np.ndarray, variables: Sequence[str], index: pd.Index,
                         codes: Sequence[float]) -> pd.DataFrame:
    """Set cells of ``x`` equal to one of ``codes`` to NaN (in place); the log of those cells."""
    rows: list[tuple] = []
    if not codes:
        return _EMPTY_RECODED.copy()
    hit = np.isin(x, np.asarray(codes, dtype=float))
    for i, j in zip(*np.nonzero(hit)):
        rows.append((index[i], variables[j], f"{x[i, j]:g}"))
    x[hit] = np.nan
    return pd.DataFrame(rows, columns=["row", "variable", "original"]).sort_values(
        ["variable", "row"], kind="mergesort").reset_index(drop=True)


def _suspect_codes(col: np.ndarray) -> list[float]:
    """Values of :data:`COMMON_MISSING_CODES` in ``col`` that lie far outside its other values: farther from
    the nearest other value than the other values' whole range (e.g. -99 or 99 among answers 1 to 7)."""
    obs = col[~np.isnan(col)]
    out = []
    for code in COMMON_MISSING_CODES:
        other = obs[obs != code]
        if len(other) == len(obs) or len(other) < 2:
            continue
        lo, hi = other.min(), other.max()
        gap = lo - code if code < lo else code - hi if code > hi else 0.0
        if gap > max(hi - lo, 1.0):
            out.append(code)
    return out


def _check_values(x: np.ndarray, variables: Sequence[str], index: pd.Index, source: str,
                  missing_codes: Sequence[float]) -> None:
    """Non-finite, huge and isolated missing-code values: :class:`DataError` naming column, rows and the fix."""
    with np.errstate(invalid="ignore"):
        suspect = np.isinf(x).any(axis=0) | (np.abs(np.nan_to_num(x)) > MAX_MAGNITUDE).any(axis=0) \
            | np.isin(x, COMMON_MISSING_CODES).any(axis=0)
    for j, v in enumerate(variables):
        if not suspect[j]:  # no infinite, huge or code value: nothing below can apply
            continue
        col = x[:, j]
        bad = np.isinf(col) | (np.abs(np.nan_to_num(col)) > MAX_MAGNITUDE)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{source}: column '{v}' has {int(bad.sum())} infinite or huge value(s) (e.g. "
                            f"{col[i]:g} in row {index[i]}); correct them or leave the cells empty (missing)")
        for code in _suspect_codes(col):
            rows = np.flatnonzero(col == code)
            other = col[~np.isnan(col) & (col != code)]
            shown = ", ".join(str(index[i]) for i in rows[:5]) + (", ..." if len(rows) > 5 else "")
            given = ",".join(f"{c:g}" for c in (*missing_codes, code))
            raise DataError(
                f"{source}: column '{v}' holds {code:g} in {len(rows)} row(s) ({shown}), far outside its other "
                f"values ({other.min():g} to {other.max():g}): it looks like a missing-data code. Declare it "
                f"missing (smesurvey fit --missing-codes {given}; Python: missing_codes=[{given}]) or correct "
                "the data")


def prepare_data(data: pd.DataFrame, variables: Sequence[str], *, group: str | None = None,
                 missing: str = "listwise", covariates: Sequence[str] = (),
                 source: str = "data", cluster: str | None = None,
                 missing_codes: Sequence[float] = (), ordinal: Sequence[str] = ()) -> PreparedData:
    """Select, check and split ``data`` for a model with observed ``variables``.

    Parameters
    ----------
    data : DataFrame
        One row per case; not modified.
    variables : sequence of str
        The model's observed variables (their order is kept).
    group : str, optional
        Column defining groups (order of first appearance, as lavaan).
    missing : {"listwise", "fiml", "pairwise"}
        Listwise: rows with any missing value on ``variables`` are excluded.
        FIML: only rows with no observed value on ``variables`` are excluded,
        and rows missing an exogenous covariate (lavaan does the same with
        ``fixed.x=TRUE``: covariates are conditioned on, so they must be observed).
        Pairwise (ordinal models: thresholds from each item's answers, correlations
        from each pair's): as FIML.
    covariates : sequence of str
        The model's exogenous observed covariates (a subset of ``variables``).
    source : str
        Name used in messages (e.g. the CSV path).
    cluster : str, optional
        Column naming the cluster (e.g. the cluster organisation) of each row,
        for cluster-robust statistics; rows without a cluster are excluded.
    missing_codes : sequence of float
        Values that mean "no answer" (e.g. ``-99, -9``): set missing in the
        model's variables and listed in ``recoded``. A value of
        :data:`COMMON_MISSING_CODES` far outside a column's other values that is
        not declared here raises :class:`DataError` (it would be fitted as an
        answer), as do infinite values and magnitudes above :data:`MAX_MAGNITUDE`.
    ordinal : sequence of str
        Ordinal columns: not refused for being constant within a group (the caller names the
        item, group and category, :mod:`analysis.sem.ordinal.fit`).
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{source}: expected a pandas DataFrame, got {type(data).__name__}")
    missing_cols = [v for v in variables if v not in data.columns]
    if missing_cols:
        hints = []
        for v in missing_cols:
            close = close_column(v, [c for c in data.columns if c not in variables])
            hints.append(f"'{v}'" + (f" (did you mean '{close}'?)" if close else ""))
        raise DataError(f"{source}: the model uses {len(missing_cols)} variable(s) not in the data: "
                        f"{', '.join(hints)}; rename the columns or correct the model")
    dup = data.columns[data.columns.duplicated()]
    if len(dup):
        raise DataError(f"{source}: column '{dup[0]}' appears twice; rename or delete one of them")
    for role, col in (("group", group), ("cluster", cluster)):
        if col is not None and col not in data.columns:
            raise DataError(f"{source}: {role} column '{col}' is not in the data; "
                            f"available columns: {', '.join(map(str, data.columns[:20]))}")
    x = _numeric_block(data, variables, source)
    recoded = _apply_missing_codes(x, variables, data.index, missing_codes)
    _check_values(x, variables, data.index, source, missing_codes)
    blank = [v for j, v in enumerate(variables) if len(x) and np.isnan(x[:, j]).all()]
    if blank:  # before the row counts: a blank column leaves no complete row, and it is the thing to fix
        codes = ", ".join(f"{c:g}" for c in missing_codes)
        raise DataError(f"{source}: column(s) {', '.join(repr(b) for b in blank)} have no observed values"
                        + (f" (empty or one of the missing codes {codes})" if missing_codes else "")
                        + "; remove them from the model or fill them in")
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
        values = _labels(data[group])
        labels = tuple(dict.fromkeys(values[keep]))
        masks = [keep & (values == lab) for lab in labels]
    arrays, rows = [], []
    for lab, mask in zip(labels, masks):
        xg = x[mask]
        where = f"{source}" + (f", group '{lab}'" if group is not None else "")
        n_complete = int((~np.isnan(xg).any(axis=1)).sum())
        if len(xg) < 2 or (missing == "listwise" and n_complete <= len(variables)) \
                or (missing in ("fiml", "pairwise") and len(xg) <= len(variables)):
            need = ({"fiml": "FIML needs more rows than variables. Collect more data or drop variables",
                     "pairwise": "pairwise deletion needs more rows than variables. Collect more data or drop "
                     "variables"}.get(missing, "ML needs more complete rows than variables. Collect more data, "
                                               "drop variables, or use missing='fiml'"))
            raise DataError(f"{where}: only {len(xg)} usable row(s) ({n_complete} complete) for "
                            f"{len(variables)} variables; {need}")
        lo, hi = np.fmin.reduce(xg, axis=0, initial=np.inf), np.fmax.reduce(xg, axis=0, initial=-np.inf)  # NaN-blind
        ordinal_col = np.array([v in ordinal for v in variables], dtype=bool)
        fine = (lo <= hi) & ((lo < hi) | ordinal_col)  # observed, and not constant (ordinal may be)
        for j, v in enumerate(variables):
            if fine[j]:
                continue
            col = xg[:, j]
            col = col[~np.isnan(col)]
            if len(col) == 0:
                raise DataError(f"{where}: column '{v}' has no observed values; remove it from the model")
            if np.ptp(col) == 0 and v not in ordinal:
                raise DataError(f"{where}: column '{v}' is constant (every value is {col[0]:g}); a constant "
                                "variable carries no information - remove it from the model")
        if missing in ("fiml", "pairwise"):  # lavaan: "some pairs have zero coverage" - no data on their covariance
            obs = (~np.isnan(xg)).astype(float)
            coverage = obs.T @ obs
            i, j = np.unravel_index(np.argmin(coverage), coverage.shape)
            if coverage[i, j] == 0:
                what = "FIML cannot estimate their covariance" if missing == "fiml" else \
                    "their (polychoric) correlation cannot be estimated"
                raise DataError(f"{where}: no row answers both '{variables[i]}' and '{variables[j]}' "
                                f"({int((coverage == 0).sum() // 2)} pair(s) never observed together); {what} "
                                "- drop one of them or collect such rows")
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
    log = pd.DataFrame(excluded, columns=["row", "reason"]) if excluded else _EMPTY_EXCLUDED.copy()
    notice = "; ".join(notices) + " (every excluded row is in the exclusion log, excluded.csv)" if notices else None
    return PreparedData(tuple(arrays), tuple(variables), labels, tuple(rows), log, clusters, notice, recoded)


def _labels(column: pd.Series) -> np.ndarray:
    """Group labels as text; whole numbers without ``.0`` (a country code 3 read as a float is "3", as lavaan
    prints it), missing values as ``"nan"`` (such rows are dropped before)."""
    if pd.api.types.is_float_dtype(column):
        whole = column.dropna()
        if len(whole) and (whole == np.round(whole)).all():
            return np.array(["nan" if pd.isna(v) else str(int(v)) for v in column], dtype=object)
    return column.astype(str).to_numpy()


def _rows(n: int) -> str:
    return f"{int(n)} row" + ("" if n == 1 else "s")

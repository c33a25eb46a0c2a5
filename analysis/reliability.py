"""Reliability of multi-item scales: Cronbach's alpha, item-total statistics, omega, CR, AVE.

One function per statistic, each returning a tidy DataFrame (pingouin style).
Model-based coefficients read a lavaan-style parameter table (our
``FitResult.parameters`` or lavaan's ``parameterEstimates()``), so they can be
checked against semTools on lavaan's own output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from smesurvey.errors import DataError


def _items(data: pd.DataFrame, items: Sequence[str], what: str) -> pd.DataFrame:
    items = list(items)
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise DataError(f"{what}: column(s) {absent} not in the data")
    if len(items) < 2:
        raise DataError(f"{what}: needs at least 2 items, got {items}")
    x = data[items].apply(pd.to_numeric, errors="coerce").dropna()
    constant = [c for c in items if x[c].nunique() < 2]
    if constant:
        raise DataError(f"{what}: item(s) {constant} are constant in the complete rows; drop them")
    if len(x) < 3:
        raise DataError(f"{what}: fewer than 3 complete rows")
    return x


def cronbach_alpha(data: pd.DataFrame, items: Sequence[str], level: float = 0.95) -> pd.DataFrame:
    """Cronbach's alpha (raw and standardized) with a Feldt confidence interval.

    Listwise: rows with a missing item are left out (``n`` reports how many
    were used). Returns one row: ``alpha, std.alpha, ci.lower, ci.upper, n, k``.

    Notes
    -----
    ``alpha = k/(k-1) (1 - sum(var_i) / var(sum))``; standardized alpha uses the
    mean inter-item correlation ``r``: ``k r / (1 + (k - 1) r)``. Feldt (1965):
    ``1 - (1 - alpha) F_{1-a/2}`` and ``1 - (1 - alpha) F_{a/2}`` with
    ``(n - 1, (n - 1)(k - 1))`` degrees of freedom.

    Examples
    --------
    Matches ``psych::alpha(x)$total$raw_alpha`` and ``std.alpha``.
    """
    x = _items(data, items, "cronbach_alpha")
    k, n = x.shape[1], x.shape[0]
    cov = x.cov().to_numpy()
    alpha = k / (k - 1) * (1 - np.trace(cov) / cov.sum())
    corr = x.corr().to_numpy()
    rbar = (corr.sum() - k) / (k * (k - 1))
    std_alpha = k * rbar / (1 + (k - 1) * rbar)
    a = 1 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lower = 1 - (1 - alpha) * stats.f.ppf(1 - a / 2, df1, df2)
    upper = 1 - (1 - alpha) * stats.f.ppf(a / 2, df1, df2)
    return pd.DataFrame([{"alpha": alpha, "std.alpha": std_alpha, "ci.lower": lower, "ci.upper": upper,
                          "n": n, "k": k}])


def item_total(data: pd.DataFrame, items: Sequence[str]) -> pd.DataFrame:
    """Corrected item-total correlation and alpha if the item is deleted, per item.

    Columns: ``item, r.drop, alpha.if.deleted, mean, sd`` (listwise). ``r.drop``
    is the correlation of the item with the sum of the other items
    (``psych::alpha(x)$item.stats$r.drop``).
    """
    x = _items(data, items, "item_total")
    rows = []
    for c in x.columns:
        rest = x.drop(columns=c)
        r = np.corrcoef(x[c], rest.sum(axis=1))[0, 1]
        a = cronbach_alpha(rest, list(rest.columns))["alpha"].iloc[0] if rest.shape[1] >= 2 else np.nan
        rows.append({"item": c, "r.drop": r, "alpha.if.deleted": a, "mean": x[c].mean(), "sd": x[c].std()})
    return pd.DataFrame(rows)


def _factor_blocks(params: pd.DataFrame, group: int = 1) -> dict[str, pd.DataFrame]:
    p = params
    if "group" in p.columns:
        p = p[p["group"] == group]
    loadings = p[p["op"] == "=~"]
    return {f: block for f, block in loadings.groupby("lhs", sort=False)}


def _value(p: pd.DataFrame, lhs: str, op: str, rhs: str) -> float:
    hit = p[(p["op"] == op) & (((p["lhs"] == lhs) & (p["rhs"] == rhs)) | ((p["lhs"] == rhs) & (p["rhs"] == lhs)))]
    return float(hit["est"].iloc[0]) if len(hit) else 0.0


RELIABILITY_COLUMNS = ("factor", "k", "alpha", "omega", "omega2", "omega3", "avevar", "cr", "ave")


def reliability(params: pd.DataFrame, data: pd.DataFrame | None = None, *, group: int = 1,
                implied: pd.DataFrame | None = None) -> pd.DataFrame:
    """Reliability of every first-order factor of a fitted CFA (as ``semTools::reliability``, 0.5-6).

    Parameters
    ----------
    params : DataFrame
        Parameter table with lavaan's columns (``lhs, op, rhs, est, std.all``;
        ``group`` optional).
    data : DataFrame, optional
        The raw item data, for ``alpha`` and ``omega3`` (NaN without it).
    implied : DataFrame, optional
        Model-implied covariance of the indicators, for ``omega2`` (default:
        rebuilt from the loadings and (residual) (co)variances in ``params``).

    Returns
    -------
    DataFrame
        One row per factor with :data:`RELIABILITY_COLUMNS`. Factors measured by
        other factors (second order) are skipped.

    Notes
    -----
    With loadings ``l``, factor variance ``psi`` and residual (co)variances ``theta``:
    ``omega = (sum l)^2 psi / ((sum l)^2 psi + sum theta_ii + 2 sum_{i<j} theta_ij)``;
    ``omega2`` divides by the sum of the model-implied indicator covariance matrix,
    ``omega3`` by the sum of the sample covariance matrix (divisor N, as lavaan);
    ``avevar = sum l^2 psi / (sum l^2 psi + sum theta_ii)``. ``cr`` (Joreskog's
    composite reliability) and ``ave`` (Fornell & Larcker) use standardized
    loadings ``s``: ``(sum s)^2 / ((sum s)^2 + sum(1 - s^2))`` and ``mean(s^2)``.
    """
    p = params[params["group"] == group] if "group" in params.columns else params
    latent = set(p.loc[p["op"] == "=~", "lhs"])
    rows = []
    for f, block in _factor_blocks(params, group).items():
        inds = list(block["rhs"])
        if any(i in latent for i in inds):
            continue
        lam = block["est"].to_numpy(dtype=float)
        psi = _value(p, f, "~~", f)
        theta = np.array([[_value(p, a, "~~", b) for b in inds] for a in inds])
        num = lam.sum() ** 2 * psi
        omega = num / (num + np.trace(theta) + 2 * np.sum(np.triu(theta, 1)))
        if implied is not None:
            total_implied = implied.loc[inds, inds].to_numpy().sum()
        else:
            total_implied = (np.outer(lam, lam) * psi + theta).sum()  # other factors' cross-loadings absent
        omega2 = num / total_implied
        alpha = omega3 = np.nan
        if data is not None:
            x = data[inds].apply(pd.to_numeric, errors="coerce").dropna()
            s = np.cov(x.to_numpy(dtype=float), rowvar=False, bias=True)
            omega3 = num / s.sum()
            k = len(inds)
            alpha = k / (k - 1) * (1 - np.trace(s) / s.sum())
        avevar = np.sum(lam ** 2 * psi) / (np.sum(lam ** 2 * psi) + np.trace(theta))
        std = block["std.all"].to_numpy(dtype=float) if "std.all" in block else np.full(len(inds), np.nan)
        cr = std.sum() ** 2 / (std.sum() ** 2 + np.sum(1 - std ** 2))
        rows.append({"factor": f, "k": len(inds), "alpha": alpha, "omega": omega, "omega2": omega2,
                     "omega3": omega3, "avevar": avevar, "cr": cr, "ave": np.mean(std ** 2)})
    return pd.DataFrame(rows, columns=list(RELIABILITY_COLUMNS))


def scale_alphas(data: pd.DataFrame, constructs: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Cronbach's alpha for several scales at once: ``construct`` plus :func:`cronbach_alpha`'s columns."""
    out = [cronbach_alpha(data, items).assign(construct=name) for name, items in constructs.items()]
    frame = pd.concat(out, ignore_index=True)
    return frame[["construct", *[c for c in frame.columns if c != "construct"]]]

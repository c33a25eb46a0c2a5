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

from smecore.errors import DataError, OptionError


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


def _group_rows(params: pd.DataFrame, group: int) -> pd.DataFrame:
    return params[params["group"] == group] if "group" in params.columns else params


def _factor_blocks(params: pd.DataFrame, group: int = 1) -> dict[str, pd.DataFrame]:
    loadings = _group_rows(params, group)
    loadings = loadings[loadings["op"] == "=~"]
    return {f: block for f, block in loadings.groupby("lhs", sort=False)}


def _model_matrices(p: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """RAM matrices of one group's parameter table and the model-implied covariance of every variable.

    Returns ``(names, A, S, sigma)``: ``A[i, j]`` is the directed effect of
    ``names[j]`` on ``names[i]`` (loadings ``f =~ y`` and regressions ``y ~ x``),
    ``S`` the (residual) (co)variances ``~~`` and ``sigma = (I - A)^-1 S
    (I - A)^-T`` the implied covariance of latent and observed variables alike
    (lavaan's ``cov.lv`` is its latent block: a first-order factor's variance
    includes what a second-order factor or a covariate explains).
    """
    rows = p[p["op"].isin(("=~", "~", "~~"))]
    names = list(dict.fromkeys([*rows["lhs"], *rows["rhs"]]))
    at = {n: k for k, n in enumerate(names)}
    a = np.zeros((len(names), len(names)))
    s = np.zeros_like(a)
    for r in rows.itertuples(index=False):
        i, j, est = at[r.lhs], at[r.rhs], float(r.est)
        if r.op == "=~":
            a[j, i] = est
        elif r.op == "~":
            a[i, j] = est
        else:
            s[i, j] = s[j, i] = est
    inv = np.linalg.inv(np.eye(len(names)) - a)
    return names, a, s, inv @ s @ inv.T


RELIABILITY_COLUMNS = ("factor", "k", "alpha", "omega", "omega2", "omega3", "avevar", "cr", "ave")


def reliability(params: pd.DataFrame, data: pd.DataFrame | None = None, *, group: int = 1,
                implied: pd.DataFrame | None = None, sample_cov: pd.DataFrame | None = None) -> pd.DataFrame:
    """Reliability of every first-order factor of a fitted CFA (as ``semTools::reliability``, 0.5-6).

    Parameters
    ----------
    params : DataFrame
        Parameter table with lavaan's columns (``lhs, op, rhs, est, std.all``;
        ``group`` optional).
    data : DataFrame, optional
        The raw item data, for ``alpha`` and ``omega3`` (listwise-complete rows, divisor N;
        NaN without ``data`` or ``sample_cov``).
    sample_cov : DataFrame, optional
        The sample covariance matrix of the indicators (labelled), used instead of ``data``:
        pass ``fit.sample_moments()[0]`` to match ``semTools::reliability(fit)``, which reads
        ``lavInspect(fit, "sampstat")`` - with FIML the EM (h1) estimate, using every row.
    implied : DataFrame, optional
        Model-implied covariance of the indicators, for ``omega2`` (default:
        rebuilt from all loadings, regressions and (co)variances in ``params``).

    Returns
    -------
    DataFrame
        One row per factor with :data:`RELIABILITY_COLUMNS`. Factors measured by
        other factors (second order) are skipped: see
        :func:`second_order_reliability`.

    Notes
    -----
    With loadings ``l``, the factor's model-implied variance ``phi`` (semTools
    reads ``lavInspect(fit, "cov.lv")``: for a factor that loads on a
    second-order factor or is regressed on covariates this is its total
    variance, not its disturbance variance) and residual (co)variances ``theta``:
    ``omega = (sum l)^2 phi / ((sum l)^2 phi + sum theta_ii + 2 sum_{i<j} theta_ij)``;
    ``omega2`` divides by the sum of the model-implied indicator covariance matrix,
    ``omega3`` by the sum of the sample covariance matrix (divisor N, as lavaan);
    ``avevar = sum l^2 phi / (sum l^2 phi + sum theta_ii)``, NaN when an indicator
    also depends on another factor (as semTools). ``cr`` (Joreskog's composite
    reliability) and ``ave`` (Fornell & Larcker) use standardized loadings
    ``s``: ``(sum s)^2 / ((sum s)^2 + sum(1 - s^2))`` and ``mean(s^2)``.

    Examples
    --------
    ``reliability(fit.parameters, data)`` matches ``semTools::reliability(fit)``
    row for row (``alpha, omega, omega2, omega3, avevar``).
    """
    p = _group_rows(params, group)
    latent = set(p.loc[p["op"] == "=~", "lhs"])
    names, a, s_ram, sigma = _model_matrices(p)
    at = {n: k for k, n in enumerate(names)}
    lat = [at[n] for n in names if n in latent]
    rows = []
    for f, block in _factor_blocks(params, group).items():
        inds = list(block["rhs"])
        if any(i in latent for i in inds):
            continue
        ix = [at[i] for i in inds]
        lam = a[ix, at[f]]
        phi = sigma[at[f], at[f]]
        theta = s_ram[np.ix_(ix, ix)]
        num = lam.sum() ** 2 * phi
        omega = num / (num + theta.sum())
        if implied is not None:
            total_implied = implied.loc[inds, inds].to_numpy().sum()
        else:
            total_implied = sigma[np.ix_(ix, ix)].sum()
        omega2 = num / total_implied
        alpha = omega3 = np.nan
        s = None
        if sample_cov is not None:
            s = sample_cov.loc[inds, inds].to_numpy(dtype=float)
        elif data is not None:
            x = data[inds].apply(pd.to_numeric, errors="coerce").dropna()
            s = np.cov(x.to_numpy(dtype=float), rowvar=False, bias=True)
        if s is not None:
            omega3 = num / s.sum()
            k = len(inds)
            alpha = k / (k - 1) * (1 - np.trace(s) / s.sum())
        # true-score variance of each indicator from all factors; avevar only when it is this factor's alone
        lam_all = a[np.ix_(ix, lat)]
        true_item = np.einsum("ij,jk,ik->i", lam_all, sigma[np.ix_(lat, lat)], lam_all)
        true_fac = lam ** 2 * phi
        avevar = (true_fac.sum() / (true_fac.sum() + np.trace(theta))
                  if np.abs(true_item - true_fac).sum() < 1e-5 else np.nan)
        std = block["std.all"].to_numpy(dtype=float) if "std.all" in block else np.full(len(inds), np.nan)
        cr = std.sum() ** 2 / (std.sum() ** 2 + np.sum(1 - std ** 2))
        rows.append({"factor": f, "k": len(inds), "alpha": alpha, "omega": omega, "omega2": omega2,
                     "omega3": omega3, "avevar": avevar, "cr": cr, "ave": np.mean(std ** 2)})
    return pd.DataFrame(rows, columns=list(RELIABILITY_COLUMNS))


SECOND_ORDER_COLUMNS = ("factor", "k", "omegaL1", "omegaL2", "partialOmegaL1")


def second_order_reliability(params: pd.DataFrame, factor: str, *, group: int = 1) -> pd.DataFrame:
    """Reliability of a second-order factor (as ``semTools::reliabilityL2``, 0.5-6).

    Parameters
    ----------
    params : DataFrame
        Parameter table with lavaan's columns (``lhs, op, rhs, est``; ``group``
        optional) of a model in which ``factor`` is measured by first-order
        factors only.
    factor : str
        The second-order factor.

    Returns
    -------
    DataFrame
        One row with :data:`SECOND_ORDER_COLUMNS` (``k`` = number of first-order factors).

    Notes
    -----
    With second-order loadings ``b_j`` of the first-order factors ``j``, the
    variance ``phi`` of ``factor``, the first-order disturbance (co)variances
    ``psi``, the first-order loadings ``l`` and the indicators' residual
    (co)variances ``theta``: ``omegaL2 = (sum b)^2 phi / ((sum b)^2 phi + sum
    psi)`` (of the first-order factors as indicators); with the indicators'
    loadings on ``factor`` through the first-order factors, ``c_i = sum_j
    l_ij b_j``, ``omegaL1 = (sum c)^2 phi / ((sum c)^2 phi + sum_j (sum_i
    l_ij)^2 psi_jj + sum theta)`` (of the sum of all indicators) and
    ``partialOmegaL1`` the same without the disturbance term.

    Examples
    --------
    ``second_order_reliability(fit.parameters, "g")`` matches
    ``semTools::reliabilityL2(fit, "g")``.
    """
    p = _group_rows(params, group)
    first = list(p.loc[(p["op"] == "=~") & (p["lhs"] == factor), "rhs"])
    latent = set(p.loc[p["op"] == "=~", "lhs"])
    if not first or not all(f in latent for f in first):
        raise OptionError(f"second_order_reliability: '{factor}' must be measured by first-order factors only; "
                          f"it is measured by {first or 'nothing'}")
    names, a, s, sigma = _model_matrices(p)
    at = {n: k for k, n in enumerate(names)}
    g, fx = at[factor], [at[f] for f in first]
    inds = [n for n in names if n not in latent and np.any(a[at[n], fx] != 0)]
    ix = [at[i] for i in inds]
    phi = sigma[g, g]
    b = a[fx, g]
    lam = a[np.ix_(ix, fx)]
    common_l2 = b.sum() ** 2 * phi
    common_l1 = (lam @ b).sum() ** 2 * phi
    error_l1 = s[np.ix_(ix, ix)].sum()
    unique_l1 = float(np.sum(lam.sum(axis=0) ** 2 * np.diag(s)[fx]))
    return pd.DataFrame([{"factor": factor, "k": len(first),
                          "omegaL1": common_l1 / (common_l1 + unique_l1 + error_l1),
                          "omegaL2": common_l2 / (common_l2 + s[np.ix_(fx, fx)].sum()),
                          "partialOmegaL1": common_l1 / (common_l1 + error_l1)}],
                        columns=list(SECOND_ORDER_COLUMNS))


def scale_alphas(data: pd.DataFrame, constructs: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Cronbach's alpha for several scales at once: ``construct`` plus :func:`cronbach_alpha`'s columns."""
    out = [cronbach_alpha(data, items).assign(construct=name) for name, items in constructs.items()]
    frame = pd.concat(out, ignore_index=True)
    return frame[["construct", *[c for c in frame.columns if c != "construct"]]]

"""Regression checks with statsmodels: scale-score OLS, count models, mixed models, multiple testing.

These are the robustness checks beside the SEM tests, with the usual
corrections for survey data of firms nested in cluster organisations:

* :func:`ols` - OLS on scale scores with HC3 standard errors (small-sample
  heteroskedasticity-consistent, MacKinnon & White 1985) and, when a cluster
  column is given, cluster-robust standard errors (firms in the same cluster
  organisation are not independent);
* :func:`count_regression` - Poisson regression for counts (markets entered),
  switching to negative binomial (NB2) when the Cameron-Trivedi test finds
  overdispersion, with cluster-robust standard errors when asked;
* :func:`cell_contrasts` - within-firm contrasts of repeated ratings (the
  source x content matrix) from a linear mixed model with a random intercept
  per firm (statsmodels ``MixedLM``, REML), tested one-sided (:func:`cell_model`
  fits it once for many contrasts);
* :func:`adjust_pvalues` - Holm and Benjamini-Hochberg adjustments.

Every function returns a tidy DataFrame whose columns its docstring lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.discrete.diagnostic import PoissonDiagnostic
from statsmodels.stats.multitest import multipletests

from analysis.pvalues import pvalue
from smecore.errors import DataError, OptionError

OLS_COLUMNS = ("term", "estimate", "std.estimate", "se.hc3", "pvalue.hc3", "ci.lower.hc3", "ci.upper.hc3",
               "se.cluster", "pvalue.cluster", "df.cluster", "n", "n.clusters")


def _cluster_cov(used: pd.DataFrame, cluster: str) -> dict:
    """statsmodels' cluster-robust covariance with t inference on G - 1 degrees of freedom.

    ``use_correction`` applies the small-sample factor G/(G-1) (N-1)/(N-k) (Stata's
    CR1) and ``use_t`` with ``df_correction`` makes statsmodels use t(G - 1), as
    recommended for a few dozen clusters (Cameron & Miller 2015).
    """
    return {"cov_type": "cluster", "use_t": True,
            "cov_kwds": {"groups": pd.factorize(used[cluster])[0], "use_correction": True, "df_correction": True}}


def _check(data: pd.DataFrame, columns: Sequence[str], what: str) -> pd.DataFrame:
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise DataError(f"{what}: column(s) {absent} not in the data")
    used = data[list(columns)].dropna()
    if len(used) < len(columns) + 2:
        raise DataError(f"{what}: only {len(used)} complete rows for {len(columns)} variables")
    return used


def ols(data: pd.DataFrame, outcome: str, predictors: Sequence[str], *, cluster: str | None = None,
        level: float = 0.95) -> pd.DataFrame:
    """OLS of ``outcome`` on ``predictors`` (listwise), with HC3 and cluster-robust inference.

    Returns one row per predictor (intercept omitted) with :data:`OLS_COLUMNS`;
    ``std.estimate`` is the standardized coefficient ``b sd(x) / sd(y)``;
    ``pvalue.*`` are two-sided: HC3 from t(n - k), cluster-robust from t(G - 1)
    with ``df.cluster = G - 1`` (G = ``n.clusters``). Cluster columns are NaN
    without ``cluster``.
    """
    cols = [outcome, *predictors] + ([cluster] if cluster else [])
    used = _check(data, cols, f"OLS of {outcome}")
    formula = f"Q('{outcome}') ~ " + " + ".join(f"Q('{p}')" for p in predictors)
    model = smf.ols(formula, data=used)
    hc3 = model.fit(cov_type="HC3")
    cl = model.fit(**_cluster_cov(used, cluster)) if cluster else None
    ci = hc3.conf_int(alpha=1 - level)
    rows = []
    sd_y = used[outcome].std()
    for name, p in zip(hc3.params.index[1:], predictors):
        rows.append({
            "term": p, "estimate": hc3.params[name], "std.estimate": hc3.params[name] * used[p].std() / sd_y,
            "se.hc3": hc3.bse[name], "pvalue.hc3": hc3.pvalues[name],
            "ci.lower.hc3": ci.loc[name, 0], "ci.upper.hc3": ci.loc[name, 1],
            "se.cluster": cl.bse[name] if cl is not None else np.nan,
            "pvalue.cluster": cl.pvalues[name] if cl is not None else np.nan,
            "df.cluster": cl.df_resid_inference if cl is not None else np.nan,
            "n": int(hc3.nobs), "n.clusters": int(used[cluster].nunique()) if cluster else np.nan,
        })
    return pd.DataFrame(rows, columns=list(OLS_COLUMNS))


COUNT_COLUMNS = ("term", "estimate", "se", "z", "pvalue", "ci.lower", "ci.upper", "rate.ratio", "family",
                 "dispersion.pvalue", "n", "df", "n.clusters")


def count_regression(data: pd.DataFrame, outcome: str, predictors: Sequence[str], *,
                     cluster: str | None = None, family: str = "auto", level: float = 0.95) -> pd.DataFrame:
    """Log-linear model for a count outcome: Poisson, or negative binomial (NB2) when overdispersed.

    ``family="auto"`` runs the Cameron & Trivedi (1990) auxiliary regression
    test of ``Var(y) = mu + alpha mu^2`` on the Poisson fit and uses NB2 when
    ``alpha > 0`` at the 5% level. Returns :data:`COUNT_COLUMNS` per
    predictor; ``rate.ratio = exp(estimate)``. With ``cluster`` the standard
    errors are cluster-robust and ``z`` is a t statistic on ``df = G - 1``
    (``n.clusters = G``); without, ``df`` is NaN (normal reference).
    """
    if family not in ("auto", "poisson", "negbin"):
        raise OptionError(f"The 'family' parameter must be one of ['auto', 'negbin', 'poisson']. Got {family!r}.")
    cols = [outcome, *predictors] + ([cluster] if cluster else [])
    used = _check(data, cols, f"count model of {outcome}")
    y = used[outcome]
    if (y < 0).any() or not np.allclose(y, np.round(y)):
        raise DataError(f"count model: '{outcome}' must hold non-negative whole numbers")
    formula = f"Q('{outcome}') ~ " + " + ".join(f"Q('{p}')" for p in predictors)
    cov = _cluster_cov(used, cluster) if cluster else {}
    pois = smf.poisson(formula, data=used).fit(disp=False, **cov)
    # Cameron & Trivedi (1990) regression test of Var(y) = mu + alpha mu^2 (statsmodels' "CT nb2"),
    # one-sided: overdispersion (alpha > 0) is the alternative
    diag = PoissonDiagnostic(pois).test_dispersion()
    ct = float(np.asarray(diag.statistic)[list(diag.method).index("CT nb2")])
    p_disp = pvalue(ct, "greater")
    use_nb = family == "negbin" or (family == "auto" and p_disp < 0.05)
    res = smf.negativebinomial(formula, data=used).fit(disp=False, maxiter=200, **cov) if use_nb else pois
    ci = res.conf_int(alpha=1 - level)
    rows = []
    for name, p in zip(res.params.index[1:1 + len(predictors)], predictors):
        rows.append({"term": p, "estimate": res.params[name], "se": res.bse[name], "z": res.tvalues[name],
                     "pvalue": res.pvalues[name], "ci.lower": ci.loc[name, 0], "ci.upper": ci.loc[name, 1],
                     "rate.ratio": float(np.exp(res.params[name])),
                     "family": "negative binomial" if use_nb else "poisson",
                     "dispersion.pvalue": p_disp, "n": int(res.nobs),
                     "df": getattr(res, "df_resid_inference", np.nan) if cluster else np.nan,
                     "n.clusters": int(used[cluster].nunique()) if cluster else np.nan})
    return pd.DataFrame(rows, columns=list(COUNT_COLUMNS))


CONTRAST_COLUMNS = ("contrast", "estimate", "se", "z", "pvalue", "alternative", "n.firms")


@dataclass(frozen=True)
class CellModel:
    """A fitted random-intercept model of repeated ratings, ``value ~ 0 + C(cell) + (1 | subject)``
    (REML), from which any number of contrasts are tested (:meth:`contrasts`) without refitting."""

    fe_params: pd.Series
    cov: pd.DataFrame  # covariance of the fixed effects
    level_of: dict[str, str]  # fixed-effect name -> cell label
    cell: str
    n_subjects: int

    def contrasts(self, contrasts: Mapping[str, Mapping[str, float]], alternative: str = "greater") -> pd.DataFrame:
        """:data:`CONTRAST_COLUMNS`, one row per contrast ``{name: {cell: weight}}`` (z tests)."""
        names = list(self.fe_params.index)
        rows = []
        for cname, weights in contrasts.items():
            unknown = [c for c in weights if c not in self.level_of.values()]
            if unknown:
                raise DataError(f"contrast '{cname}': cell(s) {unknown} not in column '{self.cell}'")
            vec = np.array([weights.get(self.level_of[n], 0.0) for n in names])
            est = float(vec @ self.fe_params.to_numpy())
            cov = self.cov.loc[names, names].to_numpy()
            se = float(np.sqrt(vec @ cov @ vec))
            z = est / se
            p = pvalue(z, alternative)
            rows.append({"contrast": cname, "estimate": est, "se": se, "z": z, "pvalue": float(p),
                         "alternative": alternative, "n.firms": self.n_subjects})
        return pd.DataFrame(rows, columns=list(CONTRAST_COLUMNS))


def cell_model(long: pd.DataFrame, *, value: str, cell: str, subject: str) -> CellModel:
    """Fit ``value ~ 0 + C(cell) + (1 | subject)`` by REML (statsmodels ``MixedLM``) once; test
    contrasts with :meth:`CellModel.contrasts` (the pipeline tests every matrix contrast on one fit)."""
    used = _check(long, [value, cell, subject], "mixed model")
    model = smf.mixedlm(f"Q('{value}') ~ 0 + C(Q('{cell}'))", data=used, groups=used[subject])
    res = model.fit(reml=True)
    names = list(res.fe_params.index)
    level_of = {n: n.split("[", 1)[1].rstrip("]").removeprefix("T.") for n in names}
    return CellModel(res.fe_params, res.cov_params(), level_of, cell, int(used[subject].nunique()))


def cell_contrasts(long: pd.DataFrame, *, value: str, cell: str, subject: str,
                   contrasts: Mapping[str, Mapping[str, float]], alternative: str = "greater") -> pd.DataFrame:
    """Contrasts of cell means from a random-intercept mixed model (within-subject design).

    Parameters
    ----------
    long : DataFrame
        One row per subject x cell rating (e.g. firm x source-content cell).
    value, cell, subject : str
        Columns holding the rating, the cell label and the subject (firm) id.
    contrasts : mapping
        ``{name: {cell: weight}}``, e.g. ``{"VN: TK > IK": {"vn_tk": 1, "vn_ik": -1}}``.
    alternative : {"greater", "less", "two-sided"}

    Returns :data:`CONTRAST_COLUMNS`, one row per contrast (z test on the
    REML fixed effects of ``value ~ 0 + C(cell) + (1 | subject)``; :func:`cell_model` and
    :meth:`CellModel.contrasts` in two steps).
    """
    return cell_model(long, value=value, cell=cell, subject=subject).contrasts(contrasts, alternative)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values, computed as statsmodels' ``multipletests(p, method="holm")`` computes them
    (the same numbers) but without the full garbage collection it runs on every call (about a second
    in a large process: a power study adjusts thousands of families)."""
    order = np.argsort(p)
    raw = np.take(p, order) * np.arange(len(p), 0, -1)
    adjusted = np.maximum.accumulate(raw)
    adjusted[adjusted > 1] = 1
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def adjust_pvalues(pvalues: Sequence[float]) -> pd.DataFrame:
    """Holm (family-wise) and Benjamini-Hochberg (false discovery rate) adjusted p-values.

    NaN p-values (skipped tests) are left out of the family and stay NaN.
    Returns columns ``pvalue, pvalue.holm, pvalue.bh`` in the input order.
    """
    p = np.asarray(pvalues, dtype=float)
    holm = np.full(len(p), np.nan)
    bh = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        holm[ok] = _holm(p[ok])
        bh[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return pd.DataFrame({"pvalue": p, "pvalue.holm": holm, "pvalue.bh": bh})

"""Measurement invariance across groups: configural, metric, scalar, strict - in one table.

Each level adds equality constraints to the previous one (lavaan's
``group.equal``): metric = loadings; scalar = + intercepts (latent means then
free in groups 2..); strict = + residual variances. Consecutive models are
compared by

* the chi-square difference test (likelihood ratio; with MLR the
  Satorra-Bentler 2001 scaled difference, lavaan's ``lavTestLRT`` default:
  ``cd = (df0 c0 - df1 c1) / (df0 - df1)``, ``T = (T0 - T1) / cd``);
* the change in CFI and RMSEA (Chen 2007 suggests non-invariance when CFI
  drops by more than 0.010 together with RMSEA rising by more than 0.015).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.sem.fit import FitResult, fit_each
from analysis.sem.nested import chisq_difference
from smecore.errors import OptionError

LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}

INVARIANCE_COLUMNS = (
    "level", "npar", "chisq", "df", "pvalue", "cfi", "rmsea", "srmr", "delta.chisq", "delta.df",
    "delta.pvalue", "delta.cfi", "delta.rmsea", "comparison.ok", "invariant",
)


@dataclass(frozen=True)
class InvarianceResult:
    """The comparison table and the fitted model of each level."""

    table: pd.DataFrame
    fits: dict[str, FitResult]
    #: why the sequence stopped before its last level (``stop_when_improper``), naming the level and
    #: its problem; empty when every level was fitted
    stopped: str = ""


def measurement_invariance(model: str, data: pd.DataFrame, group: str, *,
                           levels: Sequence[str] = ("configural", "metric", "scalar", "strict"),
                           estimator: str = "ML", missing: str = "listwise", alpha: float = 0.05,
                           delta_cfi: float = -0.010, delta_rmsea: float = 0.015,
                           stop_when_improper: bool = False) -> InvarianceResult:
    """Fit the invariance sequence and compare each level with the one before.

    Returns an :class:`InvarianceResult` whose ``table`` has the columns
    :data:`INVARIANCE_COLUMNS`, one row per level (the first, usually
    configural, is the baseline: ``comparison.ok`` and ``invariant`` None).
    ``comparison.ok`` is True when the comparison with the level before is
    passed: the difference test is not significant at ``alpha`` or the changes
    in CFI and RMSEA stay within ``delta_cfi`` / ``delta_rmsea`` (the
    chi-square test is over-powered in large samples, hence the fit-index
    rule). ``invariant`` is True only when the level's own comparison and
    every level before it pass: strict invariance cannot hold where scalar
    invariance does not.

    ``stop_when_improper=True`` ends the sequence at the first level whose solution is improper
    (a negative variance or a latent covariance matrix that is not positive definite, see
    :attr:`FitResult.improper`): the table then holds the levels fitted so far, that one included,
    and ``stopped`` says which level and why. Comparisons built on an improper solution are not
    interpretable, and the more constrained models of such data often have no finite solution at
    all, so fitting them costs many iterations for nothing (lavaan fits them anyway and warns).
    """
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown:
        raise OptionError(f"unknown invariance level(s) {unknown}; choose from {list(LEVELS)}")
    fits: dict[str, FitResult] = {}
    rows = []
    previous: FitResult | None = None
    lower_hold = True  # every level below the current one holds
    # one data preparation, EM, h1 information and baseline model for all levels (fit_many)
    results = fit_each(model, data, [{"group_equal": LEVELS[level]} for level in levels], estimator=estimator,
                       missing=missing, group=group)
    stopped = ""
    for level, res in zip(levels, results):
        fits[level] = res
        fm = res.fit_measures
        chisq_key = "chisq.scaled" if "chisq.scaled" in fm else "chisq"
        cfi_key = "cfi.robust" if "cfi.robust" in fm else "cfi"
        rmsea_key = "rmsea.robust" if "rmsea.robust" in fm else "rmsea"
        row = {"level": level, "npar": fm["npar"], "chisq": fm[chisq_key], "df": fm["df"],
               "pvalue": fm["pvalue.scaled" if chisq_key == "chisq.scaled" else "pvalue"],
               "cfi": fm[cfi_key], "rmsea": fm[rmsea_key], "srmr": fm["srmr"],
               "delta.chisq": np.nan, "delta.df": np.nan, "delta.pvalue": np.nan,
               "delta.cfi": np.nan, "delta.rmsea": np.nan, "comparison.ok": None, "invariant": None}
        if previous is not None:
            d, ddf, p = chisq_difference(res, previous)
            pf = previous.fit_measures
            row.update({"delta.chisq": d, "delta.df": ddf, "delta.pvalue": p,
                        "delta.cfi": fm[cfi_key] - pf[cfi_key], "delta.rmsea": fm[rmsea_key] - pf[rmsea_key]})
            ok = bool(p >= alpha or (row["delta.cfi"] >= delta_cfi and row["delta.rmsea"] <= delta_rmsea))
            row["comparison.ok"] = ok
            row["invariant"] = ok and lower_hold
            lower_hold = row["invariant"]
        rows.append(row)
        previous = res
        if stop_when_improper and res.improper and level != levels[-1]:
            rest = levels[levels.index(level) + 1:]
            stopped = (f"the {level} model's solution is improper ({'; '.join(res.improper)}), so "
                       f"{', '.join(rest)} {'was' if len(rest) == 1 else 'were'} not tested")
            break
    return InvarianceResult(pd.DataFrame(rows, columns=list(INVARIANCE_COLUMNS)), fits, stopped)

"""Measurement invariance of ordinal items, thresholds first (Wu & Estabrook 2016), with lavaan's tests.

The sequence of semTools' ``measEq.syntax(..., ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016")``
for a CFA of ordinal items, written out as lavaan syntax per level (:func:`wu_estabrook_syntax`)
and fitted by :func:`analysis.sem.fit.fit`:

* ``configural`` - everything free per group; latent means 0, variances 1, item intercepts 0,
  scale factors (delta; in the theta parameterization the residual variances) 1 in every group;
* ``thresholds`` - thresholds equal across groups; in groups 2.. the item intercepts and the scale
  factors (residual variances) free - which leaves the fit of a model with three or more
  categories per item nearly unchanged (Wu & Estabrook's point: thresholds first);
* ``metric`` - + loadings equal; latent variances free in groups 2..;
* ``scalar`` - + intercepts equal (0 in every group); latent means free in groups 2..
  (the model lavaan's ``group.equal = c("thresholds", "loadings")`` fits).

Consecutive levels are compared with lavaan's ``lavTestLRT()`` for these estimators: for WLSMV
(scaled-shifted test) Satorra's (2000) difference test, scaled and shifted
(:func:`satorra2000_difference`); for the mean-adjusted WLSM Satorra & Bentler's (2001)
scaled difference. As :func:`analysis.sem.invariance.measurement_invariance`, a level passes when
the difference test is not significant or the scaled CFI drops by at most 0.010 while the scaled
RMSEA rises by at most 0.015 (robust CFI / RMSEA are NA in lavaan once thresholds are equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, special

from analysis.sem.syntax import classify_variables, parse_model
from analysis.sem.threads import fit_threads
from smecore.errors import ModelSyntaxError, OptionError

LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "thresholds": ("thresholds",),
    "metric": ("thresholds", "loadings"),
    "scalar": ("thresholds", "loadings", "intercepts"),
}
ORDINAL_INVARIANCE_COLUMNS = (
    "level", "npar", "chisq", "df", "chisq.scaled", "pvalue.scaled", "cfi.scaled", "tli.scaled", "rmsea.scaled",
    "cfi.robust", "rmsea.robust", "srmr", "delta.chisq", "delta.df", "delta.pvalue", "delta.cfi",
    "delta.rmsea", "comparison.ok", "invariant",
)


def _c(values: Sequence[str]) -> str:
    return "c(" + ", ".join(values) + ")"


def wu_estabrook_syntax(model: str, nthresholds: dict[str, int], ngroups: int, level: str,
                        parameterization: str = "delta") -> str:
    """lavaan syntax of one level of the thresholds-first sequence (see the module docstring) for a
    CFA ``model`` of ordinal items with ``nthresholds`` each, in ``ngroups`` groups."""
    if level not in LEVELS:
        raise OptionError(f"unknown invariance level {level!r}; choose from {list(LEVELS)}")
    eq = set(LEVELS[level])
    parsed = parse_model(model)
    other = [s for s in parsed.statements if s.op != "=~" and not (s.op == "~~" and s.lhs != s.rhs)]
    if other or parsed.definitions or parsed.constraints:
        raise ModelSyntaxError("the ordinal invariance sequence takes a CFA (factor =~ items, optionally factor "
                               "covariances); fix or label parameters in the generated syntax instead")
    roles = classify_variables(parsed.statements)
    lv = list(roles.lv)
    items = list(roles.ov)
    missing = [x for x in items if x not in nthresholds]
    if missing:
        raise OptionError(f"the ordinal invariance sequence needs ordinal items; not ordinal: {', '.join(missing)}")
    g = range(1, ngroups + 1)
    free = _c(["NA"] * ngroups)

    def labels(name: str, equal: bool) -> str:
        return _c([name] * ngroups if equal else [f"{name}.g{k}" for k in g])

    def first_fixed(value: str, rest: str, name: str, equal: bool = False) -> str:
        return _c([value] + [rest] * (ngroups - 1)) + "*{x} + " + labels(name, equal) + "*{x}"

    lines = ["## loadings"]
    for s in parsed.statements:
        if s.op == "=~":
            lines.append(f"{s.lhs} =~ {free}*{s.rhs} + {labels(f'l.{s.lhs}.{s.rhs}', 'loadings' in eq)}*{s.rhs}")
    lines.append("## thresholds")
    for x in items:
        for k in range(1, nthresholds[x] + 1):
            lines.append(f"{x} | {free}*t{k} + {labels(f'th.{x}.{k}', 'thresholds' in eq)}*t{k}")
    lines.append("## intercepts")
    free_nu = "thresholds" in eq and "intercepts" not in eq
    for x in items:
        lines.append(f"{x} ~ " + first_fixed("0", "NA" if free_nu else "0", f"nu.{x}").format(x="1"))
    lines.append("## scale factors" if parameterization == "delta" else "## residual variances")
    op = "~*~" if parameterization == "delta" else "~~"
    for x in items:
        rest = "NA" if "thresholds" in eq else "1"
        lines.append(f"{x} {op} " + _c(["1"] + [rest] * (ngroups - 1)) + f"*{x}")
    lines.append("## latent means, variances, covariances")
    for f in lv:
        lines.append(f"{f} ~ " + first_fixed("0", "NA" if "intercepts" in eq else "0", f"alpha.{f}").format(x="1"))
        lines.append(f"{f} ~~ " + first_fixed("1", "NA" if "loadings" in eq else "1", f"psi.{f}").format(x=f))
    for i, a in enumerate(lv):
        for b in lv[i + 1:]:
            lines.append(f"{a} ~~ {free}*{b} + {labels(f'psi.{a}.{b}', False)}*{b}")
    return "\n".join(lines) + "\n"


# -- the difference test --------------------------------------------------------------------------
@dataclass(frozen=True)
class DifferenceTest:
    chisq: float
    df: int
    pvalue: float


def _orthogonal_complement(h: np.ndarray) -> np.ndarray:
    """Basis of the orthogonal complement of the columns of ``h`` (lavaan's
    ``lav_matrix_orthogonal_complement``: the trailing columns of a complete QR)."""
    q, r, _ = linalg.qr(h, pivoting=True)
    rank = int(np.sum(np.abs(np.diag(r)) > max(h.shape) * np.finfo(float).eps * max(abs(r[0, 0]), 1e-300)))
    return q[:, rank:]


def satorra2000_difference(m1, m0) -> DifferenceTest:
    """lavaan's ``lav_test_diff_Satorra2000(m1, m0, scaled.shifted = TRUE)``: ``m1`` the less and ``m0``
    the more constrained WLSMV fit of the same data.

    ``A`` spans the constraints that turn ``m1`` into ``m0`` (orthogonal to ``H = Delta1^+ Delta0``,
    the Jacobians at each model's estimates); with ``P = E1^-1`` and
    ``M = P A' (A P A')^+ A P``, ``B = sum_g f_g Delta1_g' W_g Gamma_g W_g Delta1_g``:
    ``tr(U Gamma) = tr(M B)``, ``tr((U Gamma)^2) = tr((M B)^2)``, ``a = sqrt(m / tr((U Gamma)^2))``,
    ``b = m - a tr(U Gamma)`` and ``T = (T0 - T1) a + b`` on ``m = df0 - df1`` degrees of freedom.
    BLAS on one thread, as in the fit core (:mod:`analysis.sem.threads`).
    """
    with fit_threads():
        return _satorra2000(m1, m0)


def _satorra2000(m1, m0) -> DifferenceTest:
    e1, e0 = m1.estimation, m0.estimation
    t1, t0 = m1.fit_measures["chisq"], m0.fit_measures["chisq"]
    df1, df0 = int(m1.fit_measures["df"]), int(m0.fit_measures["df"])
    m = df0 - df1
    if m <= 0:
        raise OptionError(f"the second model must be more constrained than the first (df {df0} vs {df1})")
    ng = len(e1.stats)
    d1 = [e1.objective.jacobian(e1.theta, g) for g in range(ng)]
    d0 = [e0.objective.jacobian(e0.theta, g) for g in range(ng)]
    delta1 = np.vstack([d.toarray() for d in d1])
    delta0 = np.vstack([d.toarray() for d in d0])
    h = np.linalg.pinv(delta1) @ delta0
    a = _orthogonal_complement(h).T
    p_inv = np.linalg.inv(e1.objective.expected_information(e1.theta))
    apa = a @ p_inv @ a.T
    keep = ~((np.abs(apa.sum(axis=0)) < np.sqrt(np.finfo(float).eps))
             & (np.abs(apa.sum(axis=1)) < np.sqrt(np.finfo(float).eps)))
    a = a[keep]
    mm = p_inv @ a.T @ np.linalg.pinv(a @ p_inv @ a.T) @ a @ p_inv
    b = np.zeros_like(p_inv)
    fg = e1.objective.weights
    for g, (st, w, d) in enumerate(zip(e1.stats, e1.objective.wls_v, d1)):
        zwd = np.asarray((d.multiply(w[:, None])).T @ st.influence.T).T
        b += fg[g] * (zwd.T @ zwd)
    mb = mm @ b
    tr1, tr2 = float(np.trace(mb)), float(np.sum(mb * mb.T))
    scale = np.sqrt(m / tr2)
    stat = (t0 - t1) * scale + (m - scale * tr1)
    return DifferenceTest(float(stat), m, float(special.chdtrc(m, stat)))


def satorra_bentler2001_difference(m1, m0) -> DifferenceTest:
    """Satorra & Bentler's (2001) scaled difference (lavaan's default for mean-adjusted tests)."""
    f1, f0 = m1.fit_measures, m0.fit_measures
    df1, df0 = int(f1["df"]), int(f0["df"])
    cd = (df0 * f0["chisq.scaling.factor"] - df1 * f1["chisq.scaling.factor"]) / (df0 - df1)
    stat = (f0["chisq"] - f1["chisq"]) / cd
    return DifferenceTest(float(stat), df0 - df1, float(special.chdtrc(df0 - df1, stat)))


# -- the sequence -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrdinalInvarianceResult:
    """The comparison table, the fitted model and the syntax of each level."""

    table: pd.DataFrame
    fits: dict
    syntax: dict[str, str]


def ordinal_invariance(model: str, data: pd.DataFrame, group: str, *, ordered=True,
                       levels: Sequence[str] = ("configural", "thresholds", "metric", "scalar"),
                       estimator: str = "WLSMV", parameterization: str = "delta", missing: str = "listwise",
                       alpha: float = 0.05, delta_cfi: float = -0.010, delta_rmsea: float = 0.015
                       ) -> OrdinalInvarianceResult:
    """Fit the thresholds-first invariance sequence of a CFA of ordinal items and compare each level
    with the one before (see the module docstring). ``table`` has :data:`ORDINAL_INVARIANCE_COLUMNS`;
    ``comparison.ok`` / ``invariant`` as in :func:`analysis.sem.invariance.measurement_invariance`."""
    from analysis.sem.fit import fit  # the fit core imports the ordinal package

    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown:
        raise OptionError(f"unknown invariance level(s) {unknown}; choose from {list(LEVELS)}")
    if estimator not in ("WLSMV", "WLSM"):
        raise OptionError("the ordinal invariance table compares WLSMV (or WLSM) fits; got " + repr(estimator))
    # the categories of each item (over all groups) give the number of thresholds
    configural = fit(model, data, ordered=ordered, group=group, estimator=estimator,
                     parameterization=parameterization, missing=missing)
    levels_of = configural.estimation.levels
    nth = {x: len(v) - 1 for x, v in levels_of.items()}
    ngroups = len(configural.nobs)
    rows, fits, syntax = [], {}, {}
    previous = None
    lower_hold = True
    for level in levels:
        text = wu_estabrook_syntax(model, nth, ngroups, level, parameterization)
        res = fit(text, data, ordered=list(nth), group=group, estimator=estimator,
                  parameterization=parameterization, missing=missing)
        fits[level], syntax[level] = res, text
        fm = res.fit_measures
        row = {k: fm.get(k, np.nan) for k in ORDINAL_INVARIANCE_COLUMNS[1:12]}
        row.update({"level": level, "delta.chisq": np.nan, "delta.df": np.nan, "delta.pvalue": np.nan,
                    "delta.cfi": np.nan, "delta.rmsea": np.nan, "comparison.ok": None, "invariant": None})
        if previous is not None:
            test = (satorra2000_difference(previous, res) if estimator == "WLSMV"
                    else satorra_bentler2001_difference(previous, res))
            pf = previous.fit_measures
            row.update({"delta.chisq": test.chisq, "delta.df": test.df, "delta.pvalue": test.pvalue,
                        "delta.cfi": fm["cfi.scaled"] - pf["cfi.scaled"],
                        "delta.rmsea": fm["rmsea.scaled"] - pf["rmsea.scaled"]})
            ok = bool(test.pvalue >= alpha or (row["delta.cfi"] >= delta_cfi and row["delta.rmsea"] <= delta_rmsea))
            row["comparison.ok"] = ok
            row["invariant"] = ok and lower_hold
            lower_hold = row["invariant"]
        rows.append(row)
        previous = res
    return OrdinalInvarianceResult(pd.DataFrame(rows, columns=list(ORDINAL_INVARIANCE_COLUMNS)), fits, syntax)

"""Plain-text summaries of fitted models (what ``FitResult.summary()`` returns).

Laid out like lavaan's ``summary(fit, fit.measures=TRUE, standardized=TRUE)``
so that a reader who knows lavaan finds everything where they expect it. All
text is built here from the result's parameter table and fit measures; the
library never prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.sem.auxiliary import auxiliary_rows

if TYPE_CHECKING:  # pragma: no cover
    from analysis.sem.fit import FitResult

_SECTIONS = (
    ("=~", "Latent Variables"),
    ("~", "Regressions"),
    ("~~cov", "Covariances"),
    ("~1", "Intercepts"),
    ("|", "Thresholds"),
    ("~~var", "Variances"),
    ("~*~", "Scales y*"),
    (":=", "Defined Parameters"),
)
_MISSING = {"fiml": "full information ML", "listwise": "listwise deletion", "pairwise": "pairwise deletion"}
_SCALING = {"yuan.bentler.mplus": "Scaling correction factor (Yuan-Bentler Mplus)",
            "scaled.shifted": "Scaling correction factor (scaled-shifted)",
            "satorra.bentler": "Scaling correction factor (Satorra-Bentler)"}


def _num(x: float, width: int = 9, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return " " * width
    return f"{x:{width}.{digits}f}"


def _line(label: str, value) -> str:
    if isinstance(value, float):
        value = f"{value:.3f}"
    return f"  {label:<40}{value:>16}"


def _parameter_rows(block: pd.DataFrame, explicit: bool = False) -> list[str]:
    lines = []
    current = None
    for r in block.itertuples(index=False):
        op = r.op
        if op in ("=~", "~") and r.lhs != current:
            current = r.lhs
            lines.append(f"  {r.lhs} {op}")
        name = r.rhs if op in ("=~", "~") else (r.lhs if op in ("~1", ":=", "~*~") or r.lhs == r.rhs
                                                  else f"{r.lhs} ~~ {r.rhs}")
        if op == "|":
            name = f"{r.lhs}|{r.rhs}"
        if op == ":=":
            name = f"{r.lhs} := {r.rhs}"
        if explicit:
            name = f"{r.lhs} {op} {r.rhs}".strip()
        if r.label and not str(r.label).startswith(".p") and op != ":=":
            name = f"{name} ({r.label})"
        indent = "    " if op in ("=~", "~") else "   "
        fixed = r.se == 0 and not np.isfinite(r.z)
        lines.append(
            f"{indent}{name:<22}{_num(r.est)}{'' if fixed else _num(r.se)}"
            + ("" if fixed else f"{_num(r.z, 9, 3)}{_num(r.pvalue, 9, 3)}")
            + ("" if not fixed else " " * 27)
            + f"{_num(r.std_lv)}{_num(r.std_all)}")
    return lines


# the rest of lavaan's fitMeasures(): (name, label); the scaled / robust variants of a name
# ("nnfi.scaled", "nnfi.robust") go in the columns beside it
_MORE_MEASURES = (
    ("nnfi", "Bentler-Bonett Non-normed Fit Index (NNFI)"),
    ("nfi", "Bentler-Bonett Normed Fit Index (NFI)"),
    ("pnfi", "Parsimony Normed Fit Index (PNFI)"),
    ("rfi", "Bollen's Relative Fit Index (RFI)"),
    ("ifi", "Bollen's Incremental Fit Index (IFI)"),
    ("rni", "Relative Noncentrality Index (RNI)"),
    ("rmsea", "RMSEA"),
    ("rmsea.ci.lower", "90 Percent CI - lower"),
    ("rmsea.ci.upper", "90 Percent CI - upper"),
    ("rmsea.pvalue", "P-value H0: RMSEA <= 0.050"),
    ("rmsea.notclose.pvalue", "P-value H0: RMSEA >= 0.080"),
    ("rmr", "RMR"),
    ("rmr_nomean", "RMR (No Mean)"),
    ("srmr_bentler", "SRMR (Bentler)"),
    ("srmr_bentler_nomean", "SRMR (Bentler, No Mean)"),
    ("crmr", "CRMR (Bollen)"),
    ("crmr_nomean", "CRMR (Bollen, No Mean)"),
    ("srmr_mplus", "SRMR (Mplus)"),
    ("srmr_mplus_nomean", "SRMR (Mplus, No Mean)"),
    ("cn_05", "Hoelter Critical N (CN) alpha = 0.05"),
    ("cn_01", "Hoelter Critical N (CN) alpha = 0.01"),
    ("gfi", "Goodness of Fit Index (GFI)"),
    ("agfi", "Adjusted Goodness of Fit Index (AGFI)"),
    ("pgfi", "Parsimony Goodness of Fit Index (PGFI)"),
    ("mfi", "McDonald Fit Index (MFI)"),
    ("ecvi", "Expected Cross-Validation Index (ECVI)"),
    ("bic2", "Sample-size adjusted Bayesian (SABIC)"),
)


def _more_measures(fm: dict) -> list[str]:
    """Lines of the further fit measures: Standard, and Scaled / Robust columns where lavaan has them."""
    extra = [v for v in ("scaled", "robust") if any(f"{k}.{v}" in fm for k, _ in _MORE_MEASURES)]
    out = ["", "Further fit measures (lavaan's fitMeasures()):"]
    out.append(f"  {'':<44}{'Standard':>12}" + "".join(f"{v.capitalize():>12}" for v in extra))
    for key, label in _MORE_MEASURES:
        if key not in fm:
            continue
        cells = [fm[key]] + [fm.get(f"{key}.{v}") for v in extra]
        out.append(f"  {label:<44}" + "".join(_num(None if c is None else float(c), 12) for c in cells))
    return out


def fit_summary(result: FitResult) -> str:
    """Text summary of a :class:`~analysis.sem.fit.FitResult`."""
    o = result.options
    fm = result.fit_measures
    est = result.estimation
    out = ["sme-intl-survey structural equation model (lavaan 0.6 conventions)", ""]
    out.append(_line("Estimator", o.estimator))
    out.append(_line("Optimization", f"{est.optim.iterations} iterations"))
    out.append(_line("Converged", "yes" if est.optim.converged else "NO"))
    out.append(_line("Number of model parameters", int(fm["npar"])))
    if len(result.nobs) > 1:
        for lab, n in zip(result.group_labels, result.nobs):
            out.append(_line(f"Number of observations ({lab})", n))
    out.append(_line("Number of observations used", int(sum(result.nobs))))
    out.append(_line("Rows excluded (see .excluded)", len(result.excluded)))
    out.append(_line("Missing data", _MISSING.get(o.missing, o.missing)))
    if o.ordered:
        out.append(_line("Ordinal items", f"{len(o.ordered)} ({o.parameterization} parameterization)"))
    aux = getattr(o, "auxiliary", ())
    if aux:
        out.append(_line("Auxiliary variables (saturated)", ", ".join(aux)))
    out.append(_line("Standard errors", f"{o.se} ({o.information} information)"))
    if o.group_equal:
        out.append(_line("Equal across groups", ", ".join(o.group_equal)))
    if o.group_partial:
        out.append(_line("Except (group_partial)", ", ".join(o.group_partial)))
    if o.model_type == "growth":
        out.append(_line("Model type", "growth (observed intercepts 0, latent means free)"))
    out += ["", "Model Test User Model:"]
    if "chisq.scaled" in fm:
        out.append(f"  {'':<44}{'Standard':>12}{'Scaled':>12}")
        out.append(f"  {'Test statistic':<44}{fm['chisq']:12.3f}{fm['chisq.scaled']:12.3f}")
        out.append(f"  {'Degrees of freedom':<44}{int(fm['df']):12d}{int(fm['df']):12d}")
        out.append(f"  {'P-value (Chi-square)':<44}{fm['pvalue']:12.3f}{fm['pvalue.scaled']:12.3f}")
        out.append(f"  {_SCALING.get(o.test, 'Scaling correction factor'):<44}{'':12}{fm['chisq.scaling.factor']:12.3f}")
        if "chisq.shift.parameters" in fm:
            out.append(f"  {'Shift parameter':<44}{'':12}{fm['chisq.shift.parameters']:12.3f}")
    else:
        out.append(_line("Test statistic", fm["chisq"]))
        out.append(_line("Degrees of freedom", int(fm["df"])))
        out.append(_line("P-value (Chi-square)", fm["pvalue"]))
    out += ["", "Fit indices:"]
    for key, label in (("cfi", "Comparative Fit Index (CFI)"), ("tli", "Tucker-Lewis Index (TLI)"),
                       ("cfi.robust", "Robust CFI"), ("tli.robust", "Robust TLI"),
                       ("rmsea", "RMSEA"), ("rmsea.ci.lower", "90 Percent CI - lower"),
                       ("rmsea.ci.upper", "90 Percent CI - upper"), ("rmsea.pvalue", "P-value H0: RMSEA <= 0.050"),
                       ("rmsea.robust", "Robust RMSEA"), ("srmr", "SRMR"),
                       ("logl", "Loglikelihood user model (H0)"), ("aic", "Akaike (AIC)"),
                       ("bic", "Bayesian (BIC)")):
        if key in fm:
            out.append(_line(label, float(fm[key])))
    out += _more_measures(fm)
    p = result.parameters.rename(columns={"std.lv": "std_lv", "std.all": "std_all"})
    aux_mask = auxiliary_rows(p, aux)
    p, p_aux = p[~aux_mask], p[aux_mask]
    group_ids = sorted(g for g in p["group"].unique() if g > 0) + ([0] if (p["group"] == 0).any() else [])
    for g in group_ids:
        gp = p[p["group"] == g]
        if g > 0 and len(result.nobs) > 1:
            out += ["", f"Group {g} [{result.group_labels[g - 1]}]:"]
        if g > 0 or len(group_ids) == 1:
            out += ["", f"  {'':<22}{'Estimate':>9}{'Std.Err':>9}{'z-value':>9}{'P(>|z|)':>9}{'Std.lv':>9}{'Std.all':>9}"]
        for key, title in _SECTIONS:
            if key == "~~cov":
                block = gp[(gp["op"] == "~~") & (gp["lhs"] != gp["rhs"])]
            elif key == "~~var":
                block = gp[(gp["op"] == "~~") & (gp["lhs"] == gp["rhs"])]
            else:
                block = gp[gp["op"] == key]
            if len(block):
                out += ["", f"{title}:"] + _parameter_rows(block)
        block = p_aux[p_aux["group"] == g]
        if len(block):
            out += ["", "Auxiliary variables (saturated correlates; not part of the model):"] + _parameter_rows(block, True)
    if result.warnings:
        out += ["", "Warnings:"] + [f"  - {w}" for w in result.warnings]
    return "\n".join(out) + "\n"

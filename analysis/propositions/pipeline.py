"""From responses to verdicts: the analysis pipeline in small steps.

1. screen   - exclusion log (attention checks, speeders, straight-lining, partials, duplicates)
2. score    - reverse-keyed items, derived indices, scale scores
3. measure  - per module: CFA (MLR, FIML, cluster-robust), reliability, HTMT, Fornell-Larcker; common-method checks
4. test     - per hypothesis: its SEM, decision tests, constraint tests, robustness checks
5. decide   - verdicts, Holm and Benjamini-Hochberg adjusted p-values
(6. report  - :mod:`analysis.report.render` renders the result.)

:func:`analyze` returns an :class:`AnalysisResult`; :func:`write_outputs` writes
``verdicts.csv``, ``tests.csv``, ``robustness.csv``, ``parameters.csv``,
``measurement.csv``, ``fit.json``, ``excluded.csv``, ``cells.csv`` (answers set to
missing, with the reason) and ``skipped.csv``.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.propositions.hypotheses import (
    Hypothesis,
    Registry,
    combine_tests,
    load_registry,
    one_sided,
    verdict,
)
from analysis.propositions.regression import adjust_pvalues, cell_contrasts, count_regression, ols
from analysis.psychometrics.common_method import harman_single_factor, marker_adjustment
from analysis.psychometrics.reliability import reliability
from analysis.psychometrics.scoring import (
    Scored,
    find_survey_year,
    score,
    score_name,
    validate_codes,
)
from analysis.psychometrics.screening import ScreeningResult, screen
from analysis.psychometrics.validity import fornell_larcker, htmt
from analysis.sem.bootstrap import bootstrap
from analysis.sem.constants import PARAMETER_COLUMNS
from analysis.sem.effects import monte_carlo_ci, wald_test
from analysis.sem.fit import FitResult, fit
from analysis.sem.interaction import product_indicators
from analysis.sem.nested import lr_test
from analysis.sem.syntax import classify_variables, parse_model
from instrument import Instrument, load_instrument
from smecore.errors import DataError, SmeSurveyError, SmeSurveyWarning
from smecore.jsonio import dumps
from smecore.provenance import package_versions

CLUSTER_COLUMN = "firm_cluster_org"
VERDICT_COLUMNS = ("hypothesis", "verdict", "estimate", "se", "ci.lower", "ci.upper", "pvalue", "pvalue.holm",
                   "pvalue.bh", "std.estimate", "n", "test", "model", "cfi", "tli", "rmsea", "srmr",
                   "robustness", "flag", "statement")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class AnalysisResult:
    """Everything the analysis found; reports and writers read from here."""

    verdicts: pd.DataFrame
    tests: pd.DataFrame
    robustness: pd.DataFrame
    parameters: pd.DataFrame
    fits: dict
    measurement: pd.DataFrame
    common_method: dict
    skipped: pd.DataFrame
    screening: ScreeningResult
    scored: Scored
    models: dict = field(repr=False)  # model key -> (syntax, FitResult, [hypothesis ids])
    registry: Registry = field(repr=False)
    options: dict = field(default_factory=dict)


# -- step 1-2 -------------------------------------------------------------------------------

def step1_screen(data: pd.DataFrame, instrument: Instrument) -> ScreeningResult:
    likert = [v.name for v in instrument.variables() if v.kind in ("likert", "matrix") and v.name in data.columns]
    attention = {a.id: a.expected for a in instrument.questionnaire.attention_checks if a.id in data.columns}
    return screen(data, likert=likert, id_column="respondent_id" if "respondent_id" in data.columns else None,
                  attention=attention, duration_column="duration_sec" if "duration_sec" in data.columns else None)


def step12_prepare(data: pd.DataFrame, instrument: Instrument,
                   survey_year: int | None = None) -> tuple[ScreeningResult, Scored]:
    """Steps 1-2: answers the codebook does not allow set to missing (logged in
    ``Scored.cells``), screening, then scoring of the kept rows."""
    checked, cells = validate_codes(data, instrument)
    year, year_source = find_survey_year(data, instrument, survey_year)
    screened = step1_screen(checked, instrument)
    scored = score(screened.kept.reset_index(drop=True), instrument, survey_year=year)
    return screened, replace(scored, survey_year_source=year_source, cells=cells)


# -- auxiliary variables of FIML ---------------------------------------------------------------

#: Observed variables that predict missingness: added to every SEM that does not already contain
#: them as auxiliary variables of FIML (saturated correlates, :mod:`analysis.sem.auxiliary`). Firm size
#: (``SIZE``, log employees): small firms leave more answers blank - in the synthetic data by
#: construction (``synthetic_data.knobs``, MAR given size), and a common pattern in SME surveys.
MISSINGNESS_PREDICTORS = ("SIZE",)


def with_auxiliary(syntax: str, data: pd.DataFrame, scored: Scored) -> tuple[pd.DataFrame, list[str]]:
    """``data`` plus the :data:`MISSINGNESS_PREDICTORS` the model leaves out, and their names.

    A predictor is added when the scored data have it (with at least two distinct
    observed values) and the model's syntax does not use it; rows are matched on
    the index. Pass the names to ``fit(..., auxiliary=...)``.
    """
    in_model = set(classify_variables(parse_model(syntax).statements).ov)
    aux = [v for v in MISSINGNESS_PREDICTORS if v in scored.data.columns and v not in in_model
           and v not in data.columns and pd.to_numeric(scored.data[v], errors="coerce").nunique() >= 2]
    if not aux:
        return data, []
    extra = {v: pd.to_numeric(scored.data[v], errors="coerce").astype(float) for v in aux}
    return data.assign(**extra), aux


# -- step 3 ------------------------------------------------------------------------------------

def numeric_frame(scored: Scored, columns: Sequence[str]) -> pd.DataFrame:
    return scored.data[list(columns)].apply(pd.to_numeric, errors="coerce").astype(float)


def step3_measure(scored: Scored, instrument: Instrument, progress: Progress | None = None,
                  cluster: str | None = None) -> tuple[
        pd.DataFrame, dict, dict, dict]:
    """Per module CFA with reliability and validity; returns (table, fits, parameters, common method)."""
    rows, fits, params = [], {}, {}
    modules = [m for m in scored.modules if m != "M0"]
    for k, mid in enumerate(modules):
        if progress:
            progress("measurement models", k, len(modules))
        syntax = instrument.lavaan_syntax([mid])
        constructs = {c.id: scored.constructs[c.id] for c in instrument.constructs_in(mid) if c.id in scored.constructs}
        items = [i for its in constructs.values() for i in its]
        frame = numeric_frame(scored, items)
        try:
            data, aux = with_auxiliary(syntax, with_cluster(frame, scored, cluster), scored)
            res = fit(syntax, data, estimator="MLR", missing="fiml",
                      cluster=cluster, source=f"measurement model {mid}", auxiliary=aux)
        except SmeSurveyError as exc:
            rows += [{"module": mid, "construct": c, "note": f"CFA failed: {exc}"} for c in constructs]
            continue
        fits[f"measurement {mid}"] = res.fit_measures
        params[f"measurement {mid}"] = res.parameters
        rel = reliability(res.parameters, frame).set_index("factor")
        ht = htmt(frame, constructs)
        fl = fornell_larcker(res)
        for c in constructs:
            pairs = ht[(ht["construct1"] == c) | (ht["construct2"] == c)]
            # an HTMT that cannot be computed leaves the maximum unknown (NaN), not the largest known one
            top = pairs.loc[pairs["htmt"].idxmax()] if len(pairs) and pairs["htmt"].notna().all() else None
            rows.append({
                "module": mid, "construct": c, "items": len(constructs[c]),
                "alpha": rel.loc[c, "alpha"], "omega": rel.loc[c, "omega"], "cr": rel.loc[c, "cr"],
                "ave": rel.loc[c, "ave"], "sqrt.ave": float(fl.loc[c, c]),
                "max.correlation": float(fl.loc[c, "max.correlation"]),
                "fornell.larcker": fl.loc[c, "pass"],
                "max.htmt": float(top["htmt"]) if top is not None else np.nan,
                "htmt.with": (top["construct2"] if top["construct1"] == c else top["construct1"]) if top is not None else "",
                "cfi": res.fit_measures.get("cfi.robust", res.fit_measures["cfi"]),
                "rmsea": res.fit_measures.get("rmsea.robust", res.fit_measures["rmsea"]),
                "srmr": res.fit_measures["srmr"], "note": "",
            })
    table = pd.DataFrame(rows)
    common: dict = {}
    all_items = [i for c, its in scored.constructs.items() if c != instrument.questionnaire.marker for i in its]
    if all_items:
        common["harman"] = harman_single_factor(numeric_frame(scored, all_items), all_items).iloc[0].to_dict()
    marker = instrument.questionnaire.marker
    if marker in scored.constructs:
        scores = [score_name(c) for c in scored.constructs if c != marker]
        frame = scored.data[scores + scored.constructs[marker]].apply(pd.to_numeric, errors="coerce")
        adj = marker_adjustment(frame, scores, scored.constructs[marker])
        common["marker"] = {"r.marker": float(adj["r.marker"].iloc[0]) if len(adj) else np.nan,
                            "pairs": len(adj), "max.change": float((adj["r"] - adj["r.adjusted"]).abs().max())
                            if len(adj) else np.nan,
                            "significant.before": int((adj["pvalue"] < 0.05).sum()) if len(adj) else 0}
    return table, fits, params, common


# -- step 4 ------------------------------------------------------------------------------------

def _observed_column(scored: Scored, name: str) -> pd.Series:
    if name in scored.data.columns:
        return pd.to_numeric(scored.data[name], errors="coerce").astype(float)
    raise DataError(f"the analysis needs column '{name}', which the data do not have")


def build_model(h: Hypothesis, scored: Scored, instrument: Instrument,
                cluster: str | None = None) -> tuple[str, pd.DataFrame]:
    """lavaan syntax and data frame (reverse-scored items, observed variables, product indicators)."""
    spec = h.spec
    lines, columns = [], {}
    for c in spec.constructs:
        items = scored.constructs[c]
        lines.append(f"{c} =~ " + " + ".join(items))
        for i in items:
            columns[i] = pd.to_numeric(scored.data[i], errors="coerce").astype(float)
    members = instrument.second_order()
    for so in spec.second_order:
        lines.append(f"{so} =~ " + " + ".join(members[so]))
    for name in spec.observed:
        columns[name] = _observed_column(scored, name)
    for prod in spec.products:
        a, b = prod.of
        xa = scored.constructs[a]
        if b in scored.constructs:
            xb = scored.constructs[b]
            frame = pd.DataFrame({**{i: columns[i] for i in xa}, **{i: columns.get(i, pd.to_numeric(
                scored.data[i], errors="coerce")) for i in xb}})
        else:  # latent x observed: every indicator times the standardized observed variable
            obs = _observed_column(scored, b)
            zname = f"{b}_z"
            frame = pd.DataFrame({**{i: columns[i] for i in xa}, zname: (obs - obs.mean()) / obs.std()})
            xb = [zname] * len(xa)
        prods = product_indicators(frame, xa, xb)
        if b not in scored.constructs:
            prods.columns = [f"{i}_x_{b.lower()}" for i in xa]
        lines.append(f"{prod.name} =~ " + " + ".join(prods.columns))
        for c in prods.columns:
            columns[c] = prods[c]
    lines.append(spec.model.strip())
    for k, t in enumerate(spec.tests):
        if t.kind == "indirect":
            lines.append(f"ind{k + 1} := {t.expression}")
    data = pd.DataFrame(columns)
    if spec.group:
        g = _observed_column(scored, spec.group)
        names = {v: k for k, v in spec.groups.items()}
        data[spec.group] = g.map(names)
        order = {name: i for i, name in enumerate(spec.groups)}
    data = with_cluster(data, scored, cluster)
    if spec.group:
        data = data.iloc[np.argsort(data[spec.group].map(order).fillna(len(order)).to_numpy(), kind="stable")]
    return "\n".join(lines) + "\n", data


def cluster_column(scored: Scored) -> str | None:
    """The cluster-organisation column when the data have one with at least two clusters.

    Firms recruited through the same cluster organisation share its influence
    (the design of DESIGN.md). The regression checks always use
    cluster-robust standard errors. The SEMs do only with
    ``analyze(cluster_robust=True)`` (lavaan's ``cluster=``; indirect effects
    then bootstrapped by cluster): with about 20 clusters the cluster sandwich
    is itself very noisy - in our coverage study (theory world, N = 3,000,
    10 seeds) it did not bring the coverage of 95% intervals closer to 95%
    (93% with, 92% without) - so it is offered, not imposed.
    """
    if CLUSTER_COLUMN in scored.data.columns and scored.data[CLUSTER_COLUMN].nunique() >= 2:
        return CLUSTER_COLUMN
    return None


def with_cluster(frame: pd.DataFrame, scored: Scored, cluster: str | None) -> pd.DataFrame:
    if cluster is None:
        return frame
    return frame.assign(**{cluster: scored.data[cluster].to_numpy()})


def _test_rows(h: Hypothesis, res: FitResult, registry: Registry, seed: int, n_boot: int, n_jobs: int,
               progress: Progress | None) -> tuple[list[dict], list[dict]]:
    """Decision tests (and the Monte Carlo lines of indirect effects, which go to robustness)."""
    alpha = registry.alpha
    rows, extra = [], []
    for k, t in enumerate(h.spec.tests):
        if t.kind == "wald":
            w = wald_test(res, t.expression, alternative=t.direction, standardized=t.standardized).iloc[0]
            p_pred, p_opp = one_sided(w["estimate"], w["se"], t.direction)
            std = w["estimate"] if t.standardized else \
                wald_test(res, t.expression, standardized=True).iloc[0]["estimate"]
            rows.append({"hypothesis": h.id, "test": t.name, "kind": "wald" + (" (standardized)" if t.standardized
                                                                               else ""),
                         "expression": t.expression, "direction": t.direction, "estimate": w["estimate"],
                         "se": w["se"], "ci.lower": w["ci.lower"], "ci.upper": w["ci.upper"],
                         "p.predicted": p_pred, "p.opposite": p_opp, "std.estimate": std, "decision": True})
        else:
            name = f"ind{k + 1}"
            boot = bootstrap(res, n_boot, seed=seed, n_jobs=n_jobs,
                             progress=(lambda d, total: progress(f"bootstrap {h.id}", d, total)) if progress else None)
            row = boot.table[boot.table["lhs"] == name].iloc[0]
            draws = boot.draws[[c for c in boot.draws.columns if c.startswith(f"{name} :=")][0]].to_numpy()
            below, above = int(np.sum(draws <= 0)), int(np.sum(draws >= 0))
            p_greater = (below + 1) / (len(draws) + 1)
            p_less = (above + 1) / (len(draws) + 1)
            p_pred, p_opp = (p_greater, p_less) if t.direction == "greater" else (p_less, p_greater)
            std = float(res.parameters.loc[res.parameters["lhs"] == name, "std.all"].iloc[0])
            rows.append({"hypothesis": h.id, "test": t.name, "kind": f"indirect, percentile bootstrap ({len(draws)} "
                                                                       f"resamples; BC {row['ci.lower.bc']:.3f} to "
                                                                       f"{row['ci.upper.bc']:.3f})",
                         "expression": t.expression, "direction": t.direction, "estimate": row["est"],
                         "se": row["boot.se"], "ci.lower": row["ci.lower"], "ci.upper": row["ci.upper"],
                         "p.predicted": p_pred, "p.opposite": p_opp, "std.estimate": std, "decision": True,
                         "failed.resamples": boot.n_failed})
            mc = monte_carlo_ci(res, t.expression, n_draws=registry.monte_carlo, seed=seed)
            mc_p = mc.one_sided_pvalue(t.direction)
            extra.append({"hypothesis": h.id, "check": f"Monte Carlo CI ({mc.n_draws} draws): {t.name}",
                          "estimate": mc.estimate, "se": float(np.std(mc.draws, ddof=1)), "ci.lower": mc.ci_lower,
                          "ci.upper": mc.ci_upper, "p.predicted": mc_p, "p.cluster": np.nan,
                          "significant": mc_p < alpha})
    return rows, extra


def _lr_rows(h: Hypothesis, syntax: str, data: pd.DataFrame, res: FitResult) -> list[dict]:
    rows = []
    for constraint in h.spec.lr_tests:
        restricted = fit(syntax + constraint + "\n", data, estimator="MLR", missing="fiml", group=h.spec.group,
                         cluster=res.options.cluster, auxiliary=res.options.auxiliary,
                         group_equal=h.spec.group_equal, std_lv=h.spec.std_lv, source=f"model of {h.id}")
        lr = lr_test(restricted, res).iloc[0]
        rows.append({"hypothesis": h.id, "test": f"chi-square difference: {constraint}", "kind": "lr",
                     "expression": constraint, "direction": "", "estimate": lr["chisq.diff"], "se": np.nan,
                     "ci.lower": np.nan, "ci.upper": np.nan, "p.predicted": lr["pvalue"], "p.opposite": np.nan,
                     "std.estimate": np.nan, "decision": h.spec.lr_required, "df": lr["df.diff"]})
    return rows


def _htmt_row(h: Hypothesis, scored: Scored) -> dict | None:
    spec = h.spec.htmt_below
    if not spec:
        return None
    ht = htmt(scored.data, {c: scored.constructs[c] for c in h.spec.constructs})
    c = spec["construct"]
    pairs = ht[(ht["construct1"] == c) | (ht["construct2"] == c)]
    value = float(pairs["htmt"].max(skipna=False))  # NaN (and so not "ok") when one ratio is unknown
    return {"hypothesis": h.id, "test": f"max HTMT of {c} with the others < {spec['threshold']}", "kind": "htmt",
            "expression": "", "direction": "less", "estimate": value, "se": np.nan, "ci.lower": np.nan,
            "ci.upper": np.nan, "p.predicted": np.nan, "p.opposite": np.nan, "std.estimate": np.nan,
            "decision": True, "ok": value < spec["threshold"]}


def _score_frame(scored: Scored, names: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """Robustness data: construct scores and observed variables; ``A*B`` is a product of centred scores."""
    cols, out = {}, []
    for name in names:
        parts = name.split("*")
        series = []
        for p in parts:
            col = score_name(p) if (p in scored.constructs or p in scored.second_order) else p
            series.append(pd.to_numeric(scored.data[col], errors="coerce"))
        if len(series) == 1:
            cols[name] = series[0]
        else:
            prod = np.ones(len(scored.data))
            for s_ in series:
                prod = prod * (s_ - s_.mean())
            cols[name] = prod
        out.append(name)
    frame = pd.DataFrame(cols)
    if CLUSTER_COLUMN in scored.data.columns:
        frame[CLUSTER_COLUMN] = scored.data[CLUSTER_COLUMN].to_numpy()
    return frame, out


def _matrix_long(scored: Scored, instrument: Instrument) -> pd.DataFrame | None:
    if not instrument.matrices:
        return None
    mx = next(iter(instrument.matrices.values()))
    cells = {f"{s.id}_{c.id}": mx.item_id(s.id, c.id) for s in mx.sources for c in mx.contents}
    if not all(col in scored.data.columns for col in cells.values()):
        return None
    ids = scored.data["respondent_id"] if "respondent_id" in scored.data.columns else scored.data.index.to_series()
    frames = [pd.DataFrame({"firm": ids.to_numpy(), "cell": cell,
                            "rating": pd.to_numeric(scored.data[col], errors="coerce").to_numpy()})
              for cell, col in cells.items()]
    return pd.concat(frames, ignore_index=True).dropna()


def _multigroup_row(h: Hypothesis, r, scored: Scored, instrument: Instrument, cluster: str | None = None) -> dict:
    """Fit the multi-group variant of a hypothesis' model and test a between-group contrast."""
    spec = h.spec.model_copy(update={"model": r.model, "group": r.group, "groups": r.groups,
                                     "group_equal": r.group_equal, "products": [], "observed": [], "tests": []})
    syntax, data = build_model(Hypothesis(h.id, h.statement, h.seed, h.passage, h.module, spec), scored, instrument,
                               cluster)
    data, aux = with_auxiliary(syntax, data, scored)
    res = fit(syntax, data, estimator="MLR", missing="fiml", group=r.group, group_equal=r.group_equal,
              cluster=cluster, auxiliary=aux,
              source=f"multi-group model of {h.id}")
    w = wald_test(res, r.expression).iloc[0]
    p = one_sided(w["estimate"], w["se"], r.direction)[0]
    return {"hypothesis": h.id, "check": r.label, "estimate": w["estimate"], "se": w["se"],
            "ci.lower": w["ci.lower"], "ci.upper": w["ci.upper"], "p.predicted": p, "p.cluster": np.nan,
            "significant": p < 0.05, "n": int(sum(res.nobs))}


def _robust_rows(h: Hypothesis, scored: Scored, matrix_long: pd.DataFrame | None, alpha: float,
                 instrument: Instrument, cluster: str | None = None) -> list[dict]:
    rows = []
    for r in h.spec.robustness:
        try:
            if r.kind == "multigroup":
                row = _multigroup_row(h, r, scored, instrument, cluster)
                row["significant"] = row["p.predicted"] < alpha
                rows.append(row)
                continue
            if r.kind == "matrix":
                if matrix_long is None:
                    continue
                c = cell_contrasts(matrix_long, value="rating", cell="cell", subject="firm",
                                   contrasts={r.label: r.contrast}, alternative=r.direction).iloc[0]
                rows.append({"hypothesis": h.id, "check": r.label, "estimate": c["estimate"], "se": c["se"],
                             "ci.lower": c["estimate"] - 1.96 * c["se"], "ci.upper": c["estimate"] + 1.96 * c["se"],
                             "p.predicted": c["pvalue"], "p.cluster": np.nan, "significant": c["pvalue"] < alpha})
                continue
            frame, preds = _score_frame(scored, r.predictors)
            outcome_frame, _ = _score_frame(scored, [r.outcome])
            frame[r.outcome + "__y"] = outcome_frame[r.outcome]
            # the regression checks are always cluster-robust when the data name clusters; this is
            # their own column, not the SEMs' `cluster` argument (which stays as the caller set it)
            reg_cluster = CLUSTER_COLUMN if CLUSTER_COLUMN in frame.columns else None
            if r.kind == "ols":
                t = ols(frame, r.outcome + "__y", preds, cluster=reg_cluster).set_index("term").loc[r.term]
                est, se = t["estimate"], t["se.hc3"]
                p_hc3 = one_sided(est, t["se.hc3"], r.direction)[0]
                p_cl = one_sided(est, t["se.cluster"], r.direction, df=t["df.cluster"])[0] if reg_cluster \
                    else np.nan
                rows.append({"hypothesis": h.id, "check": "OLS on scale scores: " + r.label, "estimate": est,
                             "se": se, "ci.lower": t["ci.lower.hc3"], "ci.upper": t["ci.upper.hc3"],
                             "p.predicted": p_hc3, "p.cluster": p_cl, "std.estimate": t["std.estimate"],
                             "clusters": t["n.clusters"], "significant": (p_cl if reg_cluster else p_hc3) < alpha})
            else:
                outcome = r.outcome
                frame[outcome] = pd.to_numeric(scored.data[outcome], errors="coerce")
                t = count_regression(frame, outcome, preds, cluster=reg_cluster).set_index("term").loc[r.term]
                p = one_sided(t["estimate"], t["se"], r.direction,
                              df=t["df"] if np.isfinite(t["df"]) else None)[0]
                rows.append({"hypothesis": h.id, "check": f"count model ({t['family']}): {r.label}",
                             "estimate": t["estimate"], "se": t["se"], "ci.lower": t["ci.lower"],
                             "ci.upper": t["ci.upper"], "p.predicted": p, "p.cluster": p if reg_cluster else np.nan,
                             "clusters": t["n.clusters"], "significant": p < alpha})
        except SmeSurveyError as exc:
            rows.append({"hypothesis": h.id, "check": r.label, "note": f"not computed: {exc}", "significant": np.nan})
    return rows


def _available(h: Hypothesis, scored: Scored, instrument: Instrument) -> str:
    """Empty when the hypothesis can be tested on these data, else why not."""
    missing_constructs = [c for c in h.spec.constructs if c not in scored.constructs]
    if missing_constructs:
        mods = sorted({instrument.constructs[c].module for c in missing_constructs})
        return f"module(s) {', '.join(mods)} not in the data (constructs {', '.join(missing_constructs)})"
    needed = list(h.spec.observed) + ([h.spec.group] if h.spec.group else [])
    for r in h.spec.robustness:
        if r.kind == "count" and r.outcome:
            needed.append(r.outcome)
        if r.kind == "multigroup" and r.group:
            needed.append(r.group)
    absent = [v for v in needed if v not in scored.data.columns]
    if absent:
        return f"firm-profile variable(s) {', '.join(absent)} not in the data"
    return ""


def step4_test(scored: Scored, instrument: Instrument, registry: Registry, *, seed: int, n_boot: int, n_jobs: int,
               progress: Progress | None = None, cluster: str | None = None) -> dict:
    """Fit every testable hypothesis' model and run its tests (``cluster``: cluster-robust SEMs)."""
    models: dict[str, tuple[str, FitResult, list[str]]] = {}
    tests, robust, skipped = [], [], []
    matrix_long = _matrix_long(scored, instrument)
    hyps = registry.hypotheses
    for k, h in enumerate(hyps):
        if progress:
            progress("hypotheses", k, len(hyps))
        reason = _available(h, scored, instrument)
        if reason:
            skipped.append({"hypothesis": h.id, "reason": reason})
            continue
        syntax, data = build_model(h, scored, instrument, cluster)
        data, aux = with_auxiliary(syntax, data, scored)
        key = next((kk for kk, (s, _, _) in models.items() if s == syntax), None)
        try:
            if key is None:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", SmeSurveyWarning)
                    res = fit(syntax, data, estimator="MLR", missing="fiml", group=h.spec.group,
                              cluster=cluster, auxiliary=aux,
                              group_equal=h.spec.group_equal, std_lv=h.spec.std_lv, source=f"model of {h.id}")
                key = f"model {h.id}"
                models[key] = (syntax, res, [h.id])
                for w in caught:
                    warnings.warn(f"{key}: {w.message}", SmeSurveyWarning, stacklevel=2)
            else:
                models[key][2].append(h.id)
            res = models[key][1]
            rows, extra = _test_rows(h, res, registry, seed, n_boot, n_jobs, progress)
            rows += _lr_rows(h, syntax, data, res)
            ht = _htmt_row(h, scored)
            if ht:
                rows.append(ht)
            for r in rows:
                r["model"] = key
                r["n"] = int(sum(res.nobs))
            tests += rows
            robust += extra + _robust_rows(h, scored, matrix_long, registry.alpha, instrument, cluster)
        except SmeSurveyError as exc:
            skipped.append({"hypothesis": h.id, "reason": f"the model could not be estimated: {exc}"})
    return {"models": models, "tests": pd.DataFrame(tests), "robustness": pd.DataFrame(robust),
            "skipped": pd.DataFrame(skipped, columns=["hypothesis", "reason"])}


# -- step 5 ------------------------------------------------------------------------------------

def step5_decide(tests: pd.DataFrame, robustness: pd.DataFrame, models: dict, registry: Registry) -> pd.DataFrame:
    """One verdict row per tested hypothesis (see :mod:`analysis.propositions.hypotheses` for the rule).

    The weakest decision test of each hypothesis gives its p-values; these are
    adjusted across the family (Holm and BH are both reported, the registry's
    ``adjust`` decides) before the verdicts are drawn.
    """
    rows = []
    statements = {h.id: h.statement for h in registry.hypotheses}
    for hid in [h.id for h in registry.hypotheses]:
        t = tests[tests["hypothesis"] == hid] if len(tests) else tests
        if t.empty:
            continue
        decision = t[t["decision"].astype(bool) & t["p.predicted"].notna()]
        weakest = combine_tests(decision)
        # the estimate shown is that of the weakest test with an effect size (a chi-square
        # difference test has none); the p-value is the weakest of all decision tests
        effects = decision[decision["kind"] != "lr"]
        shown = combine_tests(effects) if len(effects) else weakest
        extra_ok = bool(t.loc[t["kind"] == "htmt", "ok"].all()) if (t["kind"] == "htmt").any() else True
        fm = models[weakest["model"]][1].fit_measures
        rows.append({
            "hypothesis": hid, "estimate": shown["estimate"], "se": shown["se"],
            "ci.lower": shown["ci.lower"], "ci.upper": shown["ci.upper"], "pvalue": weakest["p.predicted"],
            "p.opposite": weakest["p.opposite"], "extra_ok": extra_ok,
            "std.estimate": shown["std.estimate"], "n": int(weakest["n"]), "test": weakest["test"],
            "model": weakest["model"], "cfi": fm.get("cfi.robust", fm["cfi"]), "tli": fm.get("tli.robust", fm["tli"]),
            "rmsea": fm.get("rmsea.robust", fm["rmsea"]), "srmr": fm["srmr"], "statement": statements[hid]})
    out = pd.DataFrame(rows)
    if out.empty:
        return out.reindex(columns=list(VERDICT_COLUMNS))
    adj = adjust_pvalues(out["pvalue"].to_numpy())
    out["pvalue.holm"] = adj["pvalue.holm"].to_numpy()
    out["pvalue.bh"] = adj["pvalue.bh"].to_numpy()
    opp = adjust_pvalues(out["p.opposite"].to_numpy())
    column = {"holm": "pvalue.holm", "bh": "pvalue.bh", "none": "pvalue"}[registry.adjust]
    out["verdict"] = [verdict(pp, po, registry.alpha, ok) for pp, po, ok in
                      zip(out[column], opp[column], out["extra_ok"], strict=True)]
    summaries, flags = [], []
    for hid, v in zip(out["hypothesis"], out["verdict"], strict=True):
        rb = robustness[robustness["hypothesis"] == hid] if len(robustness) else robustness
        judged = [r for r in rb.itertuples() if isinstance(r.significant, (bool, np.bool_))]
        disagree = [r.check for r in judged if bool(r.significant) != (v == "supported")]
        summaries.append("; ".join(f"{r.check}: {'significant' if r.significant else 'n.s.'}" for r in judged))
        flags.append("robustness disagrees: " + "; ".join(disagree) if disagree else "")
    out["robustness"] = summaries
    out["flag"] = flags
    return out.reindex(columns=list(VERDICT_COLUMNS))


# -- the whole pipeline -----------------------------------------------------------------------

def analyze(data: pd.DataFrame, *, instrument: Instrument | None = None, registry: Registry | None = None,
            modules: Sequence[str] | None = None, n_boot: int | None = None, seed: int = 1, n_jobs: int = -1,
            progress: Progress | None = None, source: str = "data", cluster_robust: bool = False,
            survey_year: int | None = None) -> AnalysisResult:
    """Screen, score, measure and test every hypothesis the data allow (see the module docstring).

    ``cluster_robust=True`` fits every SEM with cluster-robust standard errors
    and scaled test by cluster organisation (see :func:`cluster_column`).

    Answers the codebook does not allow are set to missing first and logged
    (``result.scored.cells``, written as ``cells.csv``). ``survey_year`` (for
    firm age and experience) defaults to the latest submission date in the
    data, else the instrument's fielding year (see
    :func:`analysis.psychometrics.scoring.find_survey_year`); provenance records which.

    ``modules`` restricts the analysis; by default every module present in the
    data is analysed. ``n_boot`` defaults to the registry's (2,000).
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{source}: expected a table of responses")
    inst = (instrument or load_instrument()).select(modules)
    reg = registry or load_registry(inst)
    n_boot = reg.bootstrap if n_boot is None else n_boot
    present = [v.name for v in inst.variables(paradata=False) if v.name in data.columns]
    if not any(inst.variable(v).kind in ("likert", "matrix") for v in present):
        raise DataError(f"{source}: no questionnaire items found; columns must be named as the codebook "
                        "(e.g. tk_1, cbc_2)")
    screened, scored = step12_prepare(data, inst, survey_year)
    cluster = cluster_column(scored) if cluster_robust else None
    measurement, mfits, mparams, common = step3_measure(scored, inst, progress, cluster)
    tested = step4_test(scored, inst, reg, seed=seed, n_boot=n_boot, n_jobs=n_jobs, progress=progress,
                        cluster=cluster)
    verdicts = step5_decide(tested["tests"], tested["robustness"], tested["models"], reg)
    params = [res.parameters.assign(model=key) for key, (_, res, _) in tested["models"].items()]
    params += [p.assign(model=key) for key, p in mparams.items()]
    parameters = pd.concat(params, ignore_index=True)[["model", *PARAMETER_COLUMNS]] if params else \
        pd.DataFrame(columns=["model", *PARAMETER_COLUMNS])
    fits = {key: res.fit_measures for key, (_, res, _) in tested["models"].items()} | mfits
    options = {"seed": seed, "bootstrap": n_boot, "alpha": reg.alpha, "modules": list(scored.modules),
               "estimator": "MLR", "missing": "fiml", "cluster.robust.sem": cluster,
               "monte_carlo": reg.monte_carlo, "source": source,
               "rows.read": len(data), "rows.kept": len(screened.kept),
               "clusters": int(scored.data[CLUSTER_COLUMN].nunique()) if CLUSTER_COLUMN in scored.data.columns
               else 0,
               "survey_year": scored.survey_year, "survey_year.source": scored.survey_year_source,
               "cells.set.missing": len(scored.cells)}
    return AnalysisResult(verdicts, tested["tests"], tested["robustness"], parameters, fits, measurement, common,
                          tested["skipped"], screened, scored, tested["models"], reg, options)


def write_outputs(result: AnalysisResult, out: str | Path, input_path: Path | None = None) -> list[Path]:
    """Write the tables, fit measures and provenance of an analysis into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def csv(frame: pd.DataFrame, name: str):
        path = out / name
        frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)

    csv(result.verdicts, "verdicts.csv")
    csv(result.tests, "tests.csv")
    csv(result.robustness, "robustness.csv")
    csv(result.parameters, "parameters.csv")
    csv(result.measurement, "measurement.csv")
    csv(result.screening.log, "excluded.csv")
    csv(result.scored.cells, "cells.csv")
    csv(result.skipped, "skipped.csv")
    fits = {k: {m: v for m, v in fm.items()} for k, fm in result.fits.items()}
    (out / "fit.json").write_text(dumps(fits), encoding="utf-8")
    written.append(out / "fit.json")
    prov = {"command": "smesurvey analyze", **result.options, "versions": package_versions(),
            "common_method": result.common_method}
    if input_path is not None:
        prov["input_sha256"] = hashlib.sha256(Path(input_path).read_bytes()).hexdigest()
    (out / "provenance.json").write_text(dumps(prov), encoding="utf-8")
    written.append(out / "provenance.json")
    return written

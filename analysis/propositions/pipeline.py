"""From responses to verdicts: the analysis pipeline in small steps.

1. screen   - exclusion log (attention checks, speeders, straight-lining, partials, duplicates)
2. score    - reverse-keyed items, derived indices, scale scores
3. measure  - per module: CFA (MLR, FIML, cluster-robust), reliability, HTMT, Fornell-Larcker; common-method checks
4. test     - per hypothesis: its SEM, decision tests, constraint tests, robustness checks
5. decide   - verdicts, Holm and Benjamini-Hochberg adjusted p-values
(6. report  - :mod:`analysis.report.render` renders the result.)

``analyze(..., ordinal=True)`` (``smesurvey analyze --ordinal``) fits the measurement models and
the hypothesis SEMs with the items as ordinal (WLSMV, pairwise deletion; models with latent
products stay on MLR with FIML, as lavaan has no WLSMV form for them), decides on those fits, and
also draws the default (MLR) verdicts to compare them hypothesis by hypothesis
(``AnalysisResult.estimator_comparison``, ``ml_vs_wlsmv.csv``).

:func:`analyze` returns an :class:`AnalysisResult`; :func:`write_outputs` writes
``verdicts.csv``, ``tests.csv``, ``robustness.csv``, ``parameters.csv``,
``measurement.csv``, ``fit.json``, ``excluded.csv``, ``cells.csv`` (answers set to
missing, with the reason) and ``skipped.csv`` (and ``ml_vs_wlsmv.csv`` with ``ordinal``).
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.propositions.hypotheses import (
    Hypothesis,
    Registry,
    hypothesis_decision,
    load_registry,
    one_sided,
    verdict,
)
from analysis.propositions.models import (
    CLUSTER_COLUMN,
    ORDINAL_ESTIMATOR,
    ORDINAL_MISSING,
    ModelSpec,
    build_model,
    cluster_column,
    flag_auxiliary,
    hypothesis_specs,
    measurement_specs,
    numeric_frame,
    with_auxiliary,
)
from analysis.propositions.regression import (
    CellModel,
    adjust_pvalues,
    cell_model,
    count_regression,
    ols,
)
from analysis.psychometrics.common_method import harman_single_factor, marker_adjustment
from analysis.psychometrics.reliability import reliability, second_order_reliability
from analysis.psychometrics.scoring import (
    Scored,
    check_items_usable,
    check_layout,
    find_survey_year,
    score,
    score_name,
    validate_codes,
)
from analysis.psychometrics.screening import ScreeningResult, screen_instrument
from analysis.psychometrics.validity import fornell_larcker, htmt
from analysis.sem.bootstrap import BootstrapResult, bootstrap, worker_threads
from analysis.sem.constants import PARAMETER_COLUMNS
from analysis.sem.effects import expression_value, monte_carlo_ci, wald_values
from analysis.sem.fit import FitResult
from analysis.sem.nested import lr_test
from analysis.sem.ordinal.reliability import ordinal_reliability
from analysis.sem.threads import fit_threads
from instrument import Instrument, load_instrument
from smecore.csvsafe import write_csv
from smecore.errors import DataError, OptionError, SmeSurveyError, SmeSurveyWarning
from smecore.jsonio import dumps
from smecore.provenance import package_versions

VERDICT_COLUMNS = ("hypothesis", "verdict", "estimate", "se", "ci.lower", "ci.upper", "pvalue", "pvalue.holm",
                   "pvalue.bh", "std.estimate", "n", "test", "model", "cfi", "tli", "rmsea", "srmr",
                   "robustness", "flag", "statement")
Progress = Callable[[str, int, int], None]
#: the ML-vs-WLSMV table of an ordinal analysis (``ml_vs_wlsmv.csv``): per hypothesis both verdicts,
#: whether they differ, the standardized estimate and decision p-value (adjusted as the verdicts) of
#: each, and how the "WLSMV" side was fitted (WLSMV, or MLR for a model with latent products)
COMPARISON_COLUMNS = ("hypothesis", "verdict.ml", "verdict.wlsmv", "differs", "std.estimate.ml",
                      "std.estimate.wlsmv", "p.ml", "p.wlsmv", "estimator.wlsmv", "note")


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
    #: seconds per stage of this run (screening and scoring, measurement models, hypothesis models, bootstrap,
    #: robustness checks, decisions); printed by the CLI, never written (outputs stay byte-identical)
    timings: dict = field(default_factory=dict, repr=False, compare=False)
    #: ordinal analyses only: :data:`COMPARISON_COLUMNS`, one row per hypothesis tested either way
    estimator_comparison: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)


@contextmanager
def _timed(timings: dict[str, float] | None, stage: str):
    """Add the seconds spent in the block to ``timings[stage]`` (no-op when ``timings`` is None)."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0


# -- step 1-2 -------------------------------------------------------------------------------

def step1_screen(data: pd.DataFrame, instrument: Instrument,
                 page_seconds: pd.DataFrame | None = None) -> ScreeningResult:
    """Step 1: :func:`~analysis.psychometrics.screening.screen_instrument` with the default rules;
    ``page_seconds``: the rows' page times when ingest read them (``IngestResult.pages``)."""
    return screen_instrument(data, instrument, page_seconds=page_seconds)


def step12_prepare(data: pd.DataFrame, instrument: Instrument, survey_year: int | None = None,
                   page_seconds: pd.DataFrame | None = None) -> tuple[ScreeningResult, Scored]:
    """Steps 1-2: answers the codebook does not allow set to missing (logged in
    ``Scored.cells``), screening, then scoring of the kept rows."""
    checked, cells = validate_codes(data, instrument)
    year, year_source = find_survey_year(data, instrument, survey_year)
    screened = step1_screen(checked, instrument, page_seconds)
    scored = score(screened.kept.reset_index(drop=True), instrument, survey_year=year, codes_checked=True)
    return screened, replace(scored, survey_year_source=year_source, cells=cells)


# -- step 3 ------------------------------------------------------------------------------------

#: Discriminant validity by HTMT: below 0.85 (Henseler, Ringle & Sarstedt 2015, the conservative HTMT.85).
HTMT_THRESHOLD = 0.85


def htmt_ok(value: float, threshold: float = HTMT_THRESHOLD):
    """``value < threshold`` as a nullable boolean: NA (never a pass) when the HTMT is unknown."""
    return pd.NA if not np.isfinite(value) else bool(value < threshold)


def headline_fit(fm: dict, ordinal: bool = False) -> dict[str, float]:
    """The CFI, TLI and RMSEA a table shows: the robust ones (lavaan's ``cfi.robust``, ...) when the fit
    has them, else the plain ones; for an ordinal fit whose robust indices lavaan leaves NA (continuous
    variables among the items, equal thresholds across groups) the scaled ones (``cfi.scaled``, ...)."""
    out = {}
    for name in ("cfi", "tli", "rmsea"):
        value = fm.get(f"{name}.robust", fm[name])
        if ordinal and not np.isfinite(value):
            value = fm.get(f"{name}.scaled", value)
        out[name] = value
    return out


#: how the measurement table's reliability columns are computed for an ordinal (WLSMV) fit
ORDINAL_RELIABILITY_NOTE = ("ordinal fit (WLSMV): alpha is ordinal alpha (polychoric correlations), omega "
                            "categorical omega (Green & Yang 2009), as semTools' reliability() of a WLSMV fit")


def _measurement_rows(spec: ModelSpec, res: FitResult, scored: Scored, instrument: Instrument) -> list[dict]:
    """One row per first-order construct of a fitted measurement model, then one per second-order factor.

    For an ordinal fit ``alpha`` and ``omega`` are ordinal alpha and categorical omega
    (:func:`~analysis.sem.ordinal.reliability.ordinal_reliability`); HTMT stays on the Pearson
    correlations of the answers, for both estimators."""
    constructs = {c.id: scored.constructs[c.id] for c in instrument.constructs_in(spec.module)
                  if c.id in scored.constructs}
    frame = spec.data[[i for its in constructs.values() for i in its]]
    ordinal = bool(res.options.ordered)
    if ordinal:
        rel = ordinal_reliability(res).set_index("factor")
        rel["alpha"] = rel["alpha.ord"]
    else:
        rel = reliability(res.parameters, sample_cov=res.sample_moments()[0]).set_index("factor")
    ht = htmt(frame, constructs)
    fl = fornell_larcker(res)
    head = headline_fit(res.fit_measures, ordinal)
    fit_columns = {"cfi": head["cfi"], "rmsea": head["rmsea"], "srmr": res.fit_measures["srmr"]}
    second = instrument.select([spec.module]).second_order()
    parent = {m: so for so, members in second.items() for m in members}
    rows = []
    for c in constructs:
        pairs = ht[(ht["construct1"] == c) | (ht["construct2"] == c)]
        # an HTMT that cannot be computed leaves the maximum unknown (NaN), not the largest known one
        top = pairs.loc[pairs["htmt"].idxmax()] if len(pairs) and pairs["htmt"].notna().all() else None
        max_htmt = float(top["htmt"]) if top is not None else np.nan
        rows.append({
            "module": spec.module, "construct": c, "items": len(constructs[c]), "second.order": parent.get(c, ""),
            "alpha": rel.loc[c, "alpha"], "omega": rel.loc[c, "omega"], "omega.l2": np.nan, "cr": rel.loc[c, "cr"],
            "ave": rel.loc[c, "ave"], "sqrt.ave": float(fl.loc[c, c]),
            "max.correlation": float(fl.loc[c, "max.correlation"]),
            "fornell.larcker": fl.loc[c, "pass"],
            "max.htmt": max_htmt,
            "htmt.with": (top["construct2"] if top["construct1"] == c else top["construct1"]) if top is not None
            else "",
            "htmt.threshold": HTMT_THRESHOLD,
            "htmt.ok": htmt_ok(max_htmt),
            **fit_columns, "note": ORDINAL_RELIABILITY_NOTE if ordinal else "",
        })
    for so, members in second.items():
        l2 = second_order_reliability(res.parameters, so).iloc[0]
        rows.append({"module": spec.module, "construct": so, "items": len(members), "second.order": "",
                     "omega.l2": float(l2["omegaL2"]), "fornell.larcker": pd.NA, "htmt.ok": pd.NA,
                     "htmt.threshold": HTMT_THRESHOLD, **fit_columns,
                     "note": f"second-order factor of {', '.join(members)}: omega.l2 is semTools' reliabilityL2 "
                             "omegaL2 (first-order factors as its indicators)"})
    return rows


def step3_measure(scored: Scored, instrument: Instrument, progress: Progress | None = None,
                  cluster: str | None = None, ordinal: bool = False) -> tuple[pd.DataFrame, dict, dict, dict]:
    """Per module CFA with reliability and validity; returns (table, fits, parameters, common method).

    The table has one row per construct (``alpha`` and ``omega`` as semTools' ``reliability()`` on the
    FIML fit: from the EM saturated covariance matrix), and one row per second-order factor with its
    ``omega.l2`` (semTools' ``reliabilityL2``); a first-order construct names its ``second.order`` factor.
    ``ordinal``: the CFAs with the items as ordinal (WLSMV, pairwise deletion), ordinal alpha and
    categorical omega.
    """
    rows, fits, params = [], {}, {}
    specs = measurement_specs(scored, instrument, cluster, ordinal)
    for k, spec in enumerate(specs):
        if progress:
            progress("measurement models", k, len(specs))
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", SmeSurveyWarning)
                res = spec.fit()
            for w in caught:  # named after the model, as step 4 does
                warnings.warn(f"{spec.key}: {w.message}", w.category, stacklevel=2)
        except SmeSurveyError as exc:
            rows += [{"module": spec.module, "construct": c.id, "note": f"CFA failed: {exc}"}
                     for c in instrument.constructs_in(spec.module) if c.id in scored.constructs]
            continue
        fits[spec.key] = res.fit_measures
        params[spec.key] = flag_auxiliary(res)
        rows += _measurement_rows(spec, res, scored, instrument)
    table = pd.DataFrame(rows)
    common: dict = {}
    all_items = [i for c, its in scored.constructs.items() if c != instrument.questionnaire.marker for i in its]
    if all_items:
        try:
            common["harman"] = harman_single_factor(numeric_frame(scored, all_items), all_items).iloc[0].to_dict()
        except SmeSurveyError as exc:  # e.g. two items never answered together: reported, not fatal
            common["harman.note"] = f"not computed: {exc}"
    marker = instrument.questionnaire.marker
    if marker in scored.constructs:
        scores = [score_name(c) for c in scored.constructs if c != marker]
        frame = scored.data[scores + scored.constructs[marker]].apply(pd.to_numeric, errors="coerce")
        try:
            adj = marker_adjustment(frame, scores, scored.constructs[marker])
        except SmeSurveyError as exc:
            common["marker.note"] = f"not computed: {exc}"
        else:
            common["marker"] = {"r.marker": float(adj["r.marker"].iloc[0]) if len(adj) else np.nan,
                                "pairs": len(adj), "max.change": float((adj["r"] - adj["r.adjusted"]).abs().max())
                                if len(adj) else np.nan,
                                "significant.before": int((adj["pvalue"] < 0.05).sum()) if len(adj) else 0}
    return table, fits, params, common


# -- step 4 ------------------------------------------------------------------------------------

def _bootstrap_fields(boot: BootstrapResult, name: str, direction: str) -> dict:
    """The fields of an indirect effect's test row that come from its bootstrap."""
    row = boot.table[boot.table["lhs"] == name].iloc[0]
    draws = boot.draws[[c for c in boot.draws.columns if c.startswith(f"{name} :=")][0]].to_numpy()
    below, above = int(np.sum(draws <= 0)), int(np.sum(draws >= 0))
    p_greater = (below + 1) / (len(draws) + 1)
    p_less = (above + 1) / (len(draws) + 1)
    p_pred, p_opp = (p_greater, p_less) if direction == "greater" else (p_less, p_greater)
    return {"kind": f"indirect, percentile bootstrap ({len(draws)} resamples; BC {row['ci.lower.bc']:.3f} to "
                    f"{row['ci.upper.bc']:.3f})",
            "estimate": row["est"], "se": row["boot.se"], "ci.lower": row["ci.lower"], "ci.upper": row["ci.upper"],
            "p.predicted": p_pred, "p.opposite": p_opp, "failed.resamples": boot.n_failed}


@dataclass
class _Pending:
    """A bootstrap running in the background (:func:`step4_test`): the test row it completes."""

    hypothesis: str
    row: dict
    name: str
    direction: str
    future: Future


def _background_bootstrap(res: FitResult, n_boot: int, seed: int, n_jobs: int,
                          progress: Callable[[int, int], None] | None) -> BootstrapResult:
    """:func:`analysis.sem.bootstrap.bootstrap` in the background thread. numpy's floating-point warnings
    are off there (``np.errstate`` is per thread; a degenerate resample counts as failed): Python's
    warning filters are shared by all threads, and the main thread records a model's warnings while
    it fits."""
    with np.errstate(all="ignore"):
        return bootstrap(res, n_boot, seed=seed, n_jobs=n_jobs, progress=progress)


def _test_rows(h: Hypothesis, res: FitResult, registry: Registry, seed: int, n_boot: int, n_jobs: int,
               progress: Progress | None, timings: dict[str, float] | None = None,
               background: ThreadPoolExecutor | None = None, pending: list[_Pending] | None = None,
               indirect: str = "bootstrap") -> tuple[list[dict], list[dict]]:
    """Decision tests (and the Monte Carlo lines of indirect effects, which go to robustness). With
    ``background``, an indirect effect's bootstrap is submitted there and its row, added to
    ``pending``, is completed later (:func:`step4_test`). ``indirect="monte_carlo"`` decides indirect
    effects by the Monte Carlo CI instead of the bootstrap (the power study's default: no resampling
    inside each replication; only the parameters the effect names are drawn); an ordinal (WLSMV) fit's
    are always decided by it."""
    alpha = registry.alpha
    rows, extra = [], []
    for k, t in enumerate(h.spec.tests):
        if t.kind == "wald":
            w = wald_values(res, t.expression, alternative=t.direction, standardized=t.standardized)
            p_pred, p_opp = one_sided(w["estimate"], w["se"], t.direction)
            std = w["estimate"] if t.standardized else expression_value(res, t.expression, standardized=True)
            rows.append({"hypothesis": h.id, "test": t.name, "kind": "wald" + (" (standardized)" if t.standardized
                                                                               else ""),
                         "expression": t.expression, "direction": t.direction, "estimate": w["estimate"],
                         "se": w["se"], "ci.lower": w["ci.lower"], "ci.upper": w["ci.upper"],
                         "p.predicted": p_pred, "p.opposite": p_opp, "std.estimate": std, "decision": True})
        elif res.options.ordered or indirect == "monte_carlo":  # no bootstrap: the Monte Carlo interval decides
            rows.append(_monte_carlo_row(h, t, k, res, registry, seed, marginal=indirect == "monte_carlo"))
        else:
            name = f"ind{k + 1}"
            std = float(res.parameters.loc[res.parameters["lhs"] == name, "std.all"].iloc[0])
            # the columns in their order; the bootstrap's fields filled below, or when it has run
            row = {"hypothesis": h.id, "test": t.name, "kind": None, "expression": t.expression,
                   "direction": t.direction, "estimate": None, "se": None, "ci.lower": None, "ci.upper": None,
                   "p.predicted": None, "p.opposite": None, "std.estimate": std, "decision": True,
                   "failed.resamples": None}
            bar = (lambda d, total, hid=h.id: progress(f"bootstrap {hid}", d, total)) if progress else None
            if background is None:
                with _timed(timings, "bootstrap"):
                    boot = bootstrap(res, n_boot, seed=seed, n_jobs=n_jobs, progress=bar)
                row.update(_bootstrap_fields(boot, name, t.direction))
            else:
                pending.append(_Pending(h.id, row, name, t.direction,
                                        background.submit(_background_bootstrap, res, n_boot, seed, n_jobs, bar)))
            rows.append(row)
            mc = monte_carlo_ci(res, t.expression, n_draws=registry.monte_carlo, seed=seed)
            mc_p = mc.one_sided_pvalue(t.direction)
            extra.append({"hypothesis": h.id, "check": f"Monte Carlo CI ({mc.n_draws} draws): {t.name}",
                          "estimate": mc.estimate, "se": float(np.std(mc.draws, ddof=1)), "ci.lower": mc.ci_lower,
                          "ci.upper": mc.ci_upper, "p.predicted": mc_p, "p.cluster": np.nan,
                          "significant": mc_p < alpha})
    return rows, extra


def _monte_carlo_row(h: Hypothesis, t, k: int, res: FitResult, registry: Registry, seed: int,
                     marginal: bool = False) -> dict:
    """The decision row of an indirect effect decided by the Monte Carlo interval and one-sided
    p-values of semTools' ``monteCarloCI``: an ordinal (WLSMV) fit's (the bootstrap is not available
    for WLSMV fits) and, with ``marginal`` (draws of the effect's own parameters only), a power
    replication's."""
    mc = monte_carlo_ci(res, t.expression, n_draws=registry.monte_carlo, seed=seed, marginal=marginal)
    opposite = "less" if t.direction == "greater" else "greater"
    std = float(res.parameters.loc[res.parameters["lhs"] == f"ind{k + 1}", "std.all"].iloc[0])
    why = "; no bootstrap for WLSMV fits" if res.options.ordered else ""
    return {"hypothesis": h.id, "test": t.name,
            "kind": f"indirect, Monte Carlo CI ({mc.n_draws} draws{why})",
            "expression": t.expression, "direction": t.direction, "estimate": mc.estimate,
            "se": float(np.std(mc.draws, ddof=1)), "ci.lower": mc.ci_lower, "ci.upper": mc.ci_upper,
            "p.predicted": mc.one_sided_pvalue(t.direction), "p.opposite": mc.one_sided_pvalue(opposite),
            "std.estimate": std, "decision": True}


def _lr_rows(h: Hypothesis, spec: ModelSpec, res: FitResult,
             fit: Callable[[str], FitResult] | None = None) -> list[dict]:
    """Chi-square difference tests of the equality constraints; ``fit(constraint)`` fits the restricted
    model (default :meth:`ModelSpec.fit` with the constraint appended)."""
    rows = []
    for constraint in h.spec.lr_tests:
        restricted = spec.fit(constraint + "\n") if fit is None else fit(constraint)
        lr = lr_test(restricted, res).iloc[0]
        rows.append({"hypothesis": h.id, "test": f"chi-square difference: {constraint}", "kind": "lr",
                     "expression": constraint, "direction": "", "estimate": lr["chisq.diff"], "se": np.nan,
                     "ci.lower": np.nan, "ci.upper": np.nan, "p.predicted": lr["pvalue"], "p.opposite": np.nan,
                     "std.estimate": np.nan, "decision": h.spec.lr_required, "df": lr["df.diff"]})
    return rows


def hypothesis_tests(h: Hypothesis, spec: ModelSpec, res: FitResult, registry: Registry, scored: Scored, *,
                     seed: int, n_boot: int, indirect: str = "bootstrap",
                     fit_restricted: Callable[[str], FitResult] | None = None,
                     decisions_only: bool = False) -> list[dict]:
    """The rows of ``tests.csv`` for hypothesis ``h`` fitted as ``res``, computed by step 4's code:
    decision tests, chi-square difference tests (only those that decide with ``decisions_only``)
    and the HTMT condition. ``indirect`` and ``fit_restricted``: see ``_test_rows`` and ``_lr_rows``.
    The power study runs this in every replication; bootstraps run in process."""
    rows, _ = _test_rows(h, res, registry, seed, n_boot, 1, None, indirect=indirect)
    if h.spec.lr_required or not decisions_only:
        rows += _lr_rows(h, spec, res, fit_restricted)
    ht = _htmt_row(h, scored)
    if ht:
        rows.append(ht)
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
    res = ModelSpec(f"multi-group model {h.id}", syntax, data, (h.id,), h.module, r.group, tuple(r.group_equal),
                    cluster=cluster, auxiliary=tuple(aux), label=f"multi-group model of {h.id}").fit()
    w = wald_values(res, r.expression)
    p = one_sided(w["estimate"], w["se"], r.direction)[0]
    return {"hypothesis": h.id, "check": r.label, "estimate": w["estimate"], "se": w["se"],
            "ci.lower": w["ci.lower"], "ci.upper": w["ci.upper"], "p.predicted": p, "p.cluster": np.nan,
            "significant": p < 0.05, "n": int(sum(res.nobs))}


def _robust_rows(h: Hypothesis, scored: Scored, matrix: Callable[[], CellModel | None], alpha: float,
                 instrument: Instrument, cluster: str | None = None) -> list[dict]:
    """The robustness checks of ``h``; ``matrix()`` gives the mixed model of the source x content
    ratings (fitted once, on first use, for every hypothesis' contrasts) or None without a matrix."""
    rows = []
    for r in h.spec.robustness:
        try:
            if r.kind == "multigroup":
                row = _multigroup_row(h, r, scored, instrument, cluster)
                row["significant"] = row["p.predicted"] < alpha
                rows.append(row)
                continue
            if r.kind == "matrix":
                cells = matrix()
                if cells is None:
                    continue
                c = cells.contrasts({r.label: r.contrast}, alternative=r.direction).iloc[0]
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


def step4_test(scored: Scored, instrument: Instrument, registry: Registry, *, seed: int, n_boot: int, n_jobs: int,
               progress: Progress | None = None, cluster: str | None = None,
               timings: dict[str, float] | None = None, ordinal: bool = False,
               fitted: dict[str, FitResult] | None = None, robustness: bool = True) -> dict:
    """Fit every testable hypothesis' model (:func:`analysis.propositions.models.hypothesis_specs`) and run
    its tests (``cluster``: cluster-robust SEMs). Hypotheses sharing a model share its fit.

    ``ordinal``: the models as :func:`~analysis.propositions.models.ordinal_variant` (WLSMV; models with
    latent products stay on MLR). ``fitted``: fits to reuse, by model key, for the specs fitted the same
    way (an MLR model both runs of an ordinal analysis share). ``robustness=False`` skips the checks
    beside the decision (the comparison run of an ordinal analysis needs only the verdicts)."""
    built = hypothesis_specs(scored, instrument, registry, cluster, ordinal)
    specs = {s.key: s for s in built.specs}
    why = dict(zip(built.skipped["hypothesis"], built.skipped["reason"], strict=True))
    models: dict[str, tuple[str, FitResult, list[str]]] = {}
    failed: dict[str, str] = {}
    tests, robust, skipped = [], [], []
    matrix_fit: list = []

    def matrix() -> CellModel | None:  # one REML fit for every matrix contrast (they share the model)
        if not matrix_fit:
            long = _matrix_long(scored, instrument)
            matrix_fit.append(None if long is None else cell_model(long, value="rating", cell="cell",
                                                                    subject="firm"))
        return matrix_fit[0]

    # With two or more threads to use (n_jobs, or for -1 the idle cores), indirect effects' bootstraps run
    # in a background thread while the other hypotheses' models are fitted: the bootstrap releases the
    # GIL in numpy's loops, so a second core does it beside the single-threaded fits; the bootstrap then
    # takes the threads the fits leave. Their draws depend on the seed only.
    threads = worker_threads(n_jobs)
    background = ThreadPoolExecutor(1, thread_name_prefix="bootstrap") if threads > 1 else None
    boot_jobs = threads - 1 if background is not None else n_jobs
    pending: list[_Pending] = []
    try:
        _each_hypothesis(registry, scored, instrument, built, specs, why, models, failed, tests, robust, skipped,
                         matrix, seed=seed, n_boot=n_boot, n_jobs=boot_jobs, progress=progress, cluster=cluster,
                         timings=timings, background=background, pending=pending, fitted=fitted,
                         robustness=robustness)
        for job in pending:  # in submission order; what is left of the bootstraps' time after the overlap
            try:
                with _timed(timings, "bootstrap"):
                    boot = job.future.result()
            except SmeSurveyError as exc:  # as when the tests fail in the loop: no test or robustness rows
                tests = [r for r in tests if r["hypothesis"] != job.hypothesis]
                robust = [r for r in robust if r["hypothesis"] != job.hypothesis]
                skipped.append({"hypothesis": job.hypothesis, "reason": f"the model could not be estimated: {exc}"})
                continue
            job.row.update(_bootstrap_fields(boot, job.name, job.direction))
    finally:
        if background is not None:
            background.shutdown(cancel_futures=True)
    order = {h.id: k for k, h in enumerate(registry.hypotheses)}
    skipped.sort(key=lambda r: order.get(r["hypothesis"], len(order)))
    return {"models": models, "tests": pd.DataFrame(tests), "robustness": pd.DataFrame(robust),
            "skipped": pd.DataFrame(skipped, columns=["hypothesis", "reason"]),
            "notes": {s.key: s.note for s in built.specs if s.note}}


def _each_hypothesis(registry: Registry, scored: Scored, instrument: Instrument, built, specs: dict, why: dict,
                     models: dict, failed: dict, tests: list, robust: list, skipped: list,
                     matrix: Callable[[], CellModel | None], *, seed: int, n_boot: int, n_jobs: int,
                     progress: Progress | None, cluster: str | None, timings: dict[str, float] | None,
                     background: ThreadPoolExecutor | None, pending: list[_Pending],
                     fitted: dict[str, FitResult] | None = None, robustness: bool = True) -> None:
    """:func:`step4_test`'s loop over the hypotheses: fits, tests and robustness rows appended to
    ``models``, ``tests``, ``robust`` and ``skipped`` (``fitted``, ``robustness``: as step4_test's)."""
    hyps = registry.hypotheses
    for k, h in enumerate(hyps):
        if progress:
            progress("hypotheses", k, len(hyps))
        if h.id in why:
            skipped.append({"hypothesis": h.id, "reason": why[h.id]})
            continue
        spec = specs[built.of[h.id]]
        if spec.key in failed:
            skipped.append({"hypothesis": h.id, "reason": failed[spec.key]})
            continue
        try:
            if spec.key not in models:
                reuse = (fitted or {}).get(spec.key)
                if reuse is not None and not spec.ordered and not reuse.options.ordered:
                    models[spec.key] = (spec.syntax, reuse, [])
                else:
                    with warnings.catch_warnings(record=True) as caught, _timed(timings, "hypothesis models"):
                        warnings.simplefilter("always", SmeSurveyWarning)
                        res = spec.fit()
                    models[spec.key] = (spec.syntax, res, [])
                    for w in caught:
                        warnings.warn(f"{spec.key}: {w.message}", SmeSurveyWarning, stacklevel=2)
            res = models[spec.key][1]
            models[spec.key][2].append(h.id)
            rows, extra = _test_rows(h, res, registry, seed, n_boot, n_jobs, progress, timings, background, pending)
            with _timed(timings, "hypothesis models"):  # the chi-square difference refits
                rows += _lr_rows(h, spec, res)
            ht = _htmt_row(h, scored)
            if ht:
                rows.append(ht)
            for r in rows:
                r["model"] = spec.key
                r["n"] = int(sum(res.nobs))
            tests += rows
            if robustness:
                with _timed(timings, "robustness checks"):
                    robust += extra + _robust_rows(h, scored, matrix, registry.alpha, instrument, cluster)
        except SmeSurveyError as exc:
            reason = f"the model could not be estimated: {exc}"
            if spec.key not in models:
                failed[spec.key] = reason
            skipped.append({"hypothesis": h.id, "reason": reason})


# -- step 5 ------------------------------------------------------------------------------------

def family_verdicts(pvalues, p_opposite, extra_ok, registry: Registry) -> pd.DataFrame:
    """Verdicts of a family of hypotheses tested together: their weakest-test p-values (predicted
    and opposite direction) adjusted across the family - Holm and Benjamini-Hochberg both
    computed, the registry's ``adjust`` deciding - then :func:`verdict`.

    Returns ``pvalue.holm, pvalue.bh, p.opposite.adjusted, verdict`` in the input order (the rule of
    ``analyze``'s step 5, which the power study applies to each replication's family)."""
    adj = adjust_pvalues(np.asarray(pvalues, dtype=float))
    opp = adjust_pvalues(np.asarray(p_opposite, dtype=float))
    column = {"holm": "pvalue.holm", "bh": "pvalue.bh", "none": "pvalue"}[registry.adjust]
    verdicts = [verdict(pp, po, registry.alpha, bool(ok)) for pp, po, ok in
                zip(adj[column], opp[column], extra_ok, strict=True)]
    return pd.DataFrame({"pvalue.holm": adj["pvalue.holm"].to_numpy(), "pvalue.bh": adj["pvalue.bh"].to_numpy(),
                         "p.opposite.adjusted": opp[column].to_numpy(), "verdict": verdicts})


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
        # the estimate shown is that of the weakest test with an effect size (a chi-square
        # difference test has none); the p-value is the weakest of all decision tests
        weakest, shown, extra_ok = hypothesis_decision(t)
        fitted = models[weakest["model"]][1]
        fm = fitted.fit_measures
        head = headline_fit(fm, bool(fitted.options.ordered))
        improper = [w.split(". ")[0] for w in fitted.warnings if "Heywood" in w or "not positive definite" in w]
        rows.append({"improper": "; ".join(improper),
            "hypothesis": hid, "estimate": shown["estimate"], "se": shown["se"],
            "ci.lower": shown["ci.lower"], "ci.upper": shown["ci.upper"], "pvalue": weakest["p.predicted"],
            "p.opposite": weakest["p.opposite"], "extra_ok": extra_ok,
            "std.estimate": shown["std.estimate"], "n": int(weakest["n"]), "test": weakest["test"],
            "model": weakest["model"], "cfi": head["cfi"], "tli": head["tli"],
            "rmsea": head["rmsea"], "srmr": fm["srmr"], "statement": statements[hid]})
    out = pd.DataFrame(rows)
    if out.empty:
        return out.reindex(columns=list(VERDICT_COLUMNS))
    decided = family_verdicts(out["pvalue"], out["p.opposite"], out["extra_ok"], registry)
    out["pvalue.holm"] = decided["pvalue.holm"].to_numpy()
    out["pvalue.bh"] = decided["pvalue.bh"].to_numpy()
    out["verdict"] = decided["verdict"].to_numpy()
    summaries, flags = [], []
    for hid, v, improper in zip(out["hypothesis"], out["verdict"], out["improper"], strict=True):
        rb = robustness[robustness["hypothesis"] == hid] if len(robustness) else robustness
        judged = [r for r in rb.itertuples() if isinstance(r.significant, (bool, np.bool_))]
        disagree = [r.check for r in judged if bool(r.significant) != (v == "supported")]
        summaries.append("; ".join(f"{r.check}: {'significant' if r.significant else 'n.s.'}" for r in judged))
        flag = ["robustness disagrees: " + "; ".join(disagree)] if disagree else []
        if improper:  # an improper solution is reported with the verdict it gave, never silently accepted
            flag.append(f"improper solution ({improper})")
        flags.append(" | ".join(flag))
    out["robustness"] = summaries
    out["flag"] = flags
    return out.reindex(columns=list(VERDICT_COLUMNS))


# -- the whole pipeline -----------------------------------------------------------------------

def analyze(data: pd.DataFrame, *, instrument: Instrument | None = None, registry: Registry | None = None,
            modules: Sequence[str] | None = None, n_boot: int | None = None, seed: int = 1, n_jobs: int = -1,
            progress: Progress | None = None, source: str = "data", cluster_robust: bool = False,
            survey_year: int | None = None, page_seconds: pd.DataFrame | None = None,
            ordinal: bool = False) -> AnalysisResult:
    """Screen, score, measure and test every hypothesis the data allow (see the module docstring).

    ``ordinal=True`` treats the questionnaire items as ordinal: measurement models and hypothesis
    SEMs by WLSMV with pairwise deletion (latent interactions and quadratic terms stay on MLR with
    FIML; indirect effects decided by their Monte Carlo interval, as the bootstrap is not available for
    WLSMV fits), reliability as ordinal alpha and categorical omega; the verdicts are those of these
    fits, and ``estimator_comparison`` sets them beside the default (MLR) verdicts. Not with
    ``cluster_robust`` (no cluster-robust WLSMV).

    ``page_seconds``: page times of the rows of ``data`` (one row each, in order), screened by the
    ``page_speeder`` rule; ``smesurvey analyze`` passes ingest's when the export has page timers.

    ``cluster_robust=True`` fits every SEM with cluster-robust standard errors
    and scaled test by cluster organisation (see :func:`cluster_column`).

    Answers the codebook does not allow are set to missing first and logged
    (``result.scored.cells``, written as ``cells.csv``). ``survey_year`` (for
    firm age and experience) defaults to the latest submission date in the
    data, else the instrument's fielding year (see
    :func:`analysis.psychometrics.scoring.find_survey_year`); provenance records which.

    ``modules`` restricts the analysis; by default every module present in the
    data is analysed. ``n_boot`` defaults to the registry's (2,000).

    BLAS runs on one thread throughout (:func:`analysis.sem.threads.fit_threads`, as inside every
    fit): the analysis' matrices are small, and the bootstrap's threads are its parallelism.
    """
    with fit_threads():
        return _analyze(data, instrument=instrument, registry=registry, modules=modules, n_boot=n_boot, seed=seed,
                        n_jobs=n_jobs, progress=progress, source=source, cluster_robust=cluster_robust,
                        survey_year=survey_year, page_seconds=page_seconds, ordinal=ordinal)


def _analyze(data: pd.DataFrame, *, instrument: Instrument | None, registry: Registry | None,
             modules: Sequence[str] | None, n_boot: int | None, seed: int, n_jobs: int, progress: Progress | None,
             source: str, cluster_robust: bool, survey_year: int | None,
             page_seconds: pd.DataFrame | None, ordinal: bool = False) -> AnalysisResult:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{source}: expected a table of responses")
    if ordinal and cluster_robust:
        raise OptionError("--ordinal and --cluster-robust cannot be combined: WLSMV fits have no cluster-robust "
                          "standard errors here. Run the ordinal analysis without --cluster-robust (the regression "
                          "checks stay cluster-robust), or the cluster-robust one without --ordinal")
    full = instrument or load_instrument()
    inst = full.select(modules)
    reg = registry or load_registry(inst)
    n_boot = reg.bootstrap if n_boot is None else n_boot
    present = [v.name for v in inst.variables(paradata=False) if v.name in data.columns]
    if not any(inst.variable(v).kind in ("likert", "matrix") for v in present):
        raise DataError(f"{source}: no questionnaire items found; columns must be named as the codebook "
                        "(e.g. tk_1, cbc_2)")
    check_layout(data.columns, inst, source, known=[v.name for v in full.variables()])
    timings: dict[str, float] = {}
    with _timed(timings, "screening and scoring"):
        screened, scored = step12_prepare(data, inst, survey_year, page_seconds)
    check_items_usable(scored, source)
    cluster = cluster_column(scored) if cluster_robust else None
    with warnings.catch_warnings(record=True) as caught:  # kept for the report, then shown to the caller
        warnings.simplefilter("always", SmeSurveyWarning)
        with _timed(timings, "measurement models"):
            measurement, mfits, mparams, common = step3_measure(scored, inst, progress, cluster, ordinal)
        t4 = time.perf_counter()
        tested = step4_test(scored, inst, reg, seed=seed, n_boot=n_boot, n_jobs=n_jobs, progress=progress,
                            cluster=cluster, timings=timings, ordinal=ordinal)
        # what step 4 spent outside its fits, bootstraps and robustness checks (Wald and Monte Carlo tests)
        timings["tests"] = time.perf_counter() - t4 - sum(timings.get(k, 0.0) for k in
                                                         ("hypothesis models", "bootstrap", "robustness checks"))
        if ordinal:  # the default (MLR) verdicts beside them; the MLR models both runs share are fitted once
            with _timed(timings, "MLR verdicts for the comparison"):
                shared = {key: res for key, (_, res, _) in tested["models"].items() if not res.options.ordered}
                ml = step4_test(scored, inst, reg, seed=seed, n_boot=n_boot, n_jobs=n_jobs, progress=progress,
                                fitted=shared, robustness=False)
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    notes = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, SmeSurveyWarning)))
    with _timed(timings, "decisions"):
        verdicts = step5_decide(tested["tests"], tested["robustness"], tested["models"], reg)
        comparison = pd.DataFrame(columns=list(COMPARISON_COLUMNS))
        if ordinal:
            ml_verdicts = step5_decide(ml["tests"], ml["robustness"], ml["models"], reg)
            comparison = compare_verdicts(ml_verdicts, verdicts, tested, ml["skipped"], reg)
    params = [flag_auxiliary(res).assign(model=key) for key, (_, res, _) in tested["models"].items()]
    params += [p.assign(model=key) for key, p in mparams.items()]
    columns = ["model", *PARAMETER_COLUMNS, "auxiliary"]
    parameters = pd.concat(params, ignore_index=True)[columns] if params else pd.DataFrame(columns=columns)
    fits = {key: res.fit_measures for key, (_, res, _) in tested["models"].items()} | mfits
    options = {"seed": seed, "bootstrap": n_boot, "alpha": reg.alpha, "modules": list(scored.modules),
               "estimator": "MLR", "missing": "fiml", "cluster.robust.sem": cluster,
               "monte_carlo": reg.monte_carlo, "source": source,
               "rows.read": len(data), "rows.kept": len(screened.kept),
               "clusters": int(scored.data[CLUSTER_COLUMN].nunique()) if CLUSTER_COLUMN in scored.data.columns
               else 0,
               "survey_year": scored.survey_year, "survey_year.source": scored.survey_year_source,
               "cells.set.missing": len(scored.cells), "warnings": notes}
    if ordinal:
        options |= {"estimator": ORDINAL_ESTIMATOR, "missing": ORDINAL_MISSING,
                    "ordinal": {"items": "ordered (thresholds, polychoric correlations)",
                                "mlr.models": {key: note for key, note in tested["notes"].items()},
                                "indirect.effects": f"Monte Carlo CI ({reg.monte_carlo} draws) on WLSMV fits",
                                "comparison": "ml_vs_wlsmv.csv"}}
    return AnalysisResult(verdicts, tested["tests"], tested["robustness"], parameters, fits, measurement, common,
                          tested["skipped"], screened, scored, tested["models"], reg, options, timings, comparison)


def compare_verdicts(ml: pd.DataFrame, wlsmv: pd.DataFrame, tested: dict, ml_skipped: pd.DataFrame,
                     registry: Registry) -> pd.DataFrame:
    """The ML-vs-WLSMV table of an ordinal analysis (:data:`COMPARISON_COLUMNS`), in registry order.

    ``ml``: the default (MLR) verdicts, ``ml_skipped`` the hypotheses that run could not test;
    ``wlsmv``: those of the ordinal run, whose step-4 output ``tested`` says how each model was fitted. A hypothesis tested one way only shows ``not tested``
    on the other side, with the reason in ``note``; ``differs`` is True when the verdicts differ."""
    column = {"holm": "pvalue.holm", "bh": "pvalue.bh", "none": "pvalue"}[registry.adjust]
    a, b = ml.set_index("hypothesis"), wlsmv.set_index("hypothesis")
    why = dict(zip(tested["skipped"]["hypothesis"], tested["skipped"]["reason"], strict=True))
    why_ml = dict(zip(ml_skipped["hypothesis"], ml_skipped["reason"], strict=True))
    rows = []
    for hid in [h.id for h in registry.hypotheses if h.id in a.index or h.id in b.index]:
        ra = a.loc[hid] if hid in a.index else None
        rb = b.loc[hid] if hid in b.index else None
        how, note = "", ""
        if rb is not None:
            res = tested["models"][rb["model"]][1]
            how = res.options.estimator + (" (latent products)" if not res.options.ordered else "")
            note = tested["notes"].get(rb["model"], "")
        else:
            note = f"WLSMV: {why.get(hid, 'not tested')}"
        if ra is None:
            note = f"MLR: {why_ml.get(hid, 'not tested')}"
        rows.append({"hypothesis": hid, "verdict.ml": ra["verdict"] if ra is not None else "not tested",
                     "verdict.wlsmv": rb["verdict"] if rb is not None else "not tested",
                     "std.estimate.ml": ra["std.estimate"] if ra is not None else np.nan,
                     "std.estimate.wlsmv": rb["std.estimate"] if rb is not None else np.nan,
                     "p.ml": ra[column] if ra is not None else np.nan,
                     "p.wlsmv": rb[column] if rb is not None else np.nan, "estimator.wlsmv": how, "note": note})
    out = pd.DataFrame(rows, columns=[c for c in COMPARISON_COLUMNS if c != "differs"])
    out.insert(3, "differs", out["verdict.ml"] != out["verdict.wlsmv"])
    return out


def write_outputs(result: AnalysisResult, out: str | Path, input_path: Path | None = None) -> list[Path]:
    """Write the tables, fit measures and provenance of an analysis into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def csv(frame: pd.DataFrame, name: str):
        written.append(write_csv(frame, out / name))  # formula-leading text neutralised (respondent ids)

    csv(result.verdicts, "verdicts.csv")
    csv(result.tests, "tests.csv")
    csv(result.robustness, "robustness.csv")
    csv(result.parameters, "parameters.csv")
    csv(result.measurement, "measurement.csv")
    csv(result.screening.log, "excluded.csv")
    csv(result.scored.cells, "cells.csv")
    csv(result.skipped, "skipped.csv")
    if result.options.get("ordinal"):
        csv(result.estimator_comparison, "ml_vs_wlsmv.csv")
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

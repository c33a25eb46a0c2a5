"""Reports of an analysis: ``report.md`` and a self-contained ``report.html``.

The HTML report opens offline: figures are inline SVG (graphviz path
diagrams, matplotlib item distributions and correlation heatmaps), there is
no script and no external resource. Verdicts come first, then one section per
module (path diagram, measurement table, fit, each hypothesis with its tests
and robustness checks, item distributions, correlations), then screening,
common-method checks and provenance. All user text passes through jinja2's
autoescaping.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from analysis.propositions.hypotheses import HypothesisSpec
from analysis.propositions.pipeline import AnalysisResult, headline_fit
from analysis.psychometrics.scoring import score_name
from analysis.report.diagram import LEGEND, DiagramError, analysis_diagram, render_svg
from analysis.report.plots import correlation_heatmap, item_distributions, verdict_chart
from analysis.report.publication import Publication
from analysis.sem.data_prep import SMALL_G
from instrument import Instrument
from smecore.files import write_text
from smecore.provenance import package_versions

MEASUREMENT_COLUMNS = ("construct", "items", "second.order", "alpha", "omega", "omega.l2", "cr", "ave", "sqrt.ave",
                       "max.correlation", "fornell.larcker", "max.htmt", "htmt.with", "htmt.ok")


ADJUST_TEXT = {"holm": "verdicts on Holm-adjusted p-values (family-wise error rate)",
               "bh": "verdicts on Benjamini-Hochberg-adjusted p-values (false discovery rate)",
               "none": "verdicts on unadjusted p-values"}


def fmt(x, digits: int = 3) -> str:
    """Numbers for tables: fixed digits, p-values below 0.001 as '<.001', NaN as ''."""
    if x is None or x is pd.NA or (isinstance(x, float) and not math.isfinite(x)):
        return ""  # not computable: shown empty, never as a pass
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return f"{x:.{digits}f}"
    return str(x)


def fmt_p(p) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "<.001" if p < 0.001 else f"{p:.3f}"


# Each kind of decision test gets its own table with the columns that mean something for it: a
# chi-square difference is no estimate and has no one-sided p, an HTMT ratio has a threshold.
TEST_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "wald": ("Wald tests", ("Test", "Estimate", "SE", "95% CI", "p (one-sided)")),
    "bootstrap": ("Indirect effects, percentile bootstrap",
                  ("Test", "Estimate", "Bootstrap SE", "95% CI (percentile)", "p (one-sided, bootstrap)",
                   "Failed resamples", "Method")),
    "lr": ("Chi-square difference tests (likelihood ratio)", ("Test", "\u03c7\u00b2 difference", "df", "p")),
    "htmt": ("Discriminant validity (HTMT)", ("Test", "HTMT", "Threshold", "Below threshold")),
    "other": ("Other tests", ("Test", "Kind", "Estimate", "SE", "95% CI", "p")),
}

_TEXT_COLUMNS = ("Test", "Kind", "Method", "Below threshold")


def _test_family(kind: str) -> str:
    """Which :data:`TEST_TABLES` table a test of the pipeline's ``kind`` goes to."""
    kind = str(kind)
    if kind.startswith("wald"):
        return "wald"
    if "bootstrap" in kind:
        return "bootstrap"
    return kind if kind in ("lr", "htmt") else "other"


def _ci(r: dict) -> str:
    lo, hi = r.get("ci.lower", np.nan), r.get("ci.upper", np.nan)
    return "" if lo is None or not np.isfinite(lo) else f"[{fmt(lo)}, {fmt(hi)}]"


def _number(r: dict, key: str):
    value = r.get(key, np.nan)
    return np.nan if value is None else value


def _test_cells(family: str, r: dict, threshold) -> list[str]:
    """The cells of one test row, in the order of the family's :data:`TEST_TABLES` columns."""
    if family == "wald":
        name = r["test"] + (" [standardized]" if "standardized" in str(r["kind"]) else "")
        return [name, fmt(r["estimate"]), fmt(r["se"]), _ci(r), fmt_p(r["p.predicted"])]
    if family == "bootstrap":
        failed = _number(r, "failed.resamples")
        return [r["test"], fmt(r["estimate"]), fmt(r["se"]), _ci(r), fmt_p(r["p.predicted"]),
                fmt(int(failed)) if np.isfinite(failed) else "", str(r["kind"])]
    if family == "lr":
        df = _number(r, "df")
        return [r["test"], fmt(r["estimate"]), fmt(int(df)) if np.isfinite(df) else "", fmt_p(r["p.predicted"])]
    if family == "htmt":
        ok = r.get("ok")
        return [r["test"], fmt(r["estimate"]), fmt(threshold, 2) if threshold is not None else "",
                fmt(bool(ok)) if isinstance(ok, (bool, np.bool_)) else ""]
    return [r["test"], str(r["kind"]), fmt(r["estimate"]), fmt(r["se"]), _ci(r), fmt_p(r["p.predicted"])]


def decision_test_tables(tests: pd.DataFrame, spec: HypothesisSpec | None = None) -> list[dict]:
    """One hypothesis's decision tests as tables, one per kind of test.

    ``tests`` has the pipeline's test columns (``test, kind, estimate, se,
    ci.lower, ci.upper, p.predicted``; ``df`` for ``lr``, ``ok`` for ``htmt``,
    ``failed.resamples`` for the bootstrap); ``spec`` is the hypothesis'
    registry entry (for the HTMT threshold). Returns a list of
    ``{"family", "title", "columns", "rows", "numeric"}`` in :data:`TEST_TABLES`
    order, rows being lists of strings and ``numeric`` a flag per column;
    kinds without tests are left out.
    """
    threshold = None
    htmt_spec = spec.htmt_below if spec is not None else None
    if htmt_spec:
        threshold = float(htmt_spec["threshold"])
    records = tests.to_dict("records")
    out = []
    for family, (title, columns) in TEST_TABLES.items():
        rows = [_test_cells(family, r, threshold) for r in records if _test_family(r["kind"]) == family]
        if rows:
            out.append({"family": family, "title": title, "columns": columns, "rows": rows,
                        "numeric": [c not in _TEXT_COLUMNS for c in columns]})
    return out


def _css(verdict: str) -> str:
    return {"supported": "supported", "contrary": "contrary"}.get(verdict, "notsupported")


def _module_of_model(result: AnalysisResult, instrument: Instrument) -> dict[str, str]:
    hyp_module = {h.id: h.module for h in result.registry.hypotheses}
    return {key: hyp_module[ids[0]] for key, (_, _, ids) in result.models.items()}


def _diagram(result: AnalysisResult, keys: list[str]) -> str:
    """One diagram of a module's models; tested paths marked from the verdicts (see analysis.report.diagram)."""
    g = analysis_diagram(result, keys)
    if g is None:
        return ""
    try:
        return render_svg(g)
    except DiagramError:
        return ""


#: the estimator line of an ordinal analysis (``analyze --ordinal``); the default one is "MLR with FIML"
ORDINAL_ESTIMATOR_TEXT = (
    "WLSMV with the items as ordinal (thresholds, polychoric correlations; pairwise deletion) for the measurement "
    "models and hypothesis SEMs; MLR with FIML for the models with latent interactions or quadratic terms ({mlr}), "
    "which have no WLSMV form in lavaan; indirect effects decided by Monte Carlo intervals (WLSMV fits have no "
    "bootstrap here: the bootstrap resamples serve the ML verdicts of the comparison)")
ORDINAL_FIT_NOTE = ("WLSMV fits: chi-square is the scaled-shifted statistic; CFI, TLI and RMSEA are the robust ones "
                    "where lavaan reports them and the scaled ones where it leaves the robust ones NA (continuous "
                    "variables in the model); alpha is ordinal alpha and omega categorical omega.")


def _is_ordinal(result: AnalysisResult, key: str) -> bool:
    """Whether model ``key`` of ``result`` was fitted with its items as ordinal."""
    if key in result.models:
        return bool(result.models[key][1].options.ordered)
    return bool(result.options.get("ordinal")) and key.startswith("measurement")


def comparison_rows(result: AnalysisResult) -> tuple[list[dict], str]:
    """The ML-vs-WLSMV table of an ordinal analysis as strings, and a one-line summary ("" without one)."""
    comp = result.estimator_comparison
    if not result.options.get("ordinal") or comp is None or comp.empty:
        return [], ""
    rows = [{"hypothesis": r["hypothesis"], "ml": r["verdict.ml"], "wlsmv": r["verdict.wlsmv"],
             "css_ml": _css(r["verdict.ml"]), "css_wlsmv": _css(r["verdict.wlsmv"]),
             "differs": "yes" if r["differs"] else "no", "std_ml": fmt(r["std.estimate.ml"]),
             "std_wlsmv": fmt(r["std.estimate.wlsmv"]), "p_ml": fmt_p(r["p.ml"]), "p_wlsmv": fmt_p(r["p.wlsmv"]),
             "estimator": r["estimator.wlsmv"]} for r in comp.to_dict("records")]
    diff = comp[comp["differs"]]
    if diff.empty:
        summary = f"The ML (MLR) and WLSMV verdicts agree for all {len(comp)} hypotheses."
    else:
        summary = (f"The verdicts differ for {len(diff)} of {len(comp)} hypotheses: "
                   + "; ".join(f"{r['hypothesis']} ({r['verdict.ml']} with ML, {r['verdict.wlsmv']} with WLSMV)"
                               for r in diff.to_dict("records")) + ".")
    return rows, summary


def context(result: AnalysisResult, instrument: Instrument, publication: Publication | None = None,
            figures: bool = True) -> dict:
    """Everything the templates show, as plain strings and lists (``publication``: the tables of
    :func:`analysis.report.publication.publication_tables`, shown in their own section).
    ``figures=False`` leaves the figures (path diagrams, item distributions, heatmaps, verdict chart)
    empty: the markdown report shows none, and drawing them is most of the cost of a report."""
    opts = result.options
    v = result.verdicts
    verdicts = [{
        "hypothesis": r["hypothesis"], "statement": r["statement"], "verdict": r["verdict"], "css": _css(r["verdict"]),
        "estimate": fmt(r["estimate"]), "ci": f"[{fmt(r['ci.lower'])}, {fmt(r['ci.upper'])}]",
        "pvalue": fmt_p(r["pvalue"]), "holm": fmt_p(r["pvalue.holm"]), "bh": fmt_p(r["pvalue.bh"]),
        "std": fmt(r["std.estimate"]), "n": fmt(r["n"]), "test": r["test"],
        "flag": r["flag"] if isinstance(r["flag"], str) else ""} for r in v.to_dict("records")]
    model_module = _module_of_model(result, instrument)
    hyps = {h.id: h for h in result.registry.hypotheses}
    sections = []
    scored = result.scored
    for mid in [m for m in scored.modules if m != "M0"]:
        mod = instrument.module(mid)
        keys = [k for k, m in model_module.items() if m == mid]
        meas = result.measurement[result.measurement["module"] == mid] if len(result.measurement) else pd.DataFrame()
        meas_rows = [[fmt(r.get(c, "")) for c in MEASUREMENT_COLUMNS] for r in meas.to_dict("records")]
        fits = []
        for key in [f"measurement {mid}", *keys]:
            if key in result.fits:
                fm = result.fits[key]
                ordinal = _is_ordinal(result, key)
                head = headline_fit(fm, ordinal)
                label = key + ((" (WLSMV)" if ordinal else " (MLR)") if opts.get("ordinal") else "")
                fits.append({"model": label, "chisq": fmt(fm.get("chisq.scaled", fm["chisq"]), 1),
                             "df": fmt(int(fm["df"])), "cfi": fmt(head["cfi"]), "tli": fmt(head["tli"]),
                             "rmsea": fmt(head["rmsea"]), "srmr": fmt(fm["srmr"])})
        hyp_rows = []
        for hid in [h for h in v["hypothesis"] if hyps[h].module == mid]:
            vr = v[v["hypothesis"] == hid].iloc[0]
            t = result.tests[result.tests["hypothesis"] == hid]
            rb = result.robustness[result.robustness["hypothesis"] == hid] if len(result.robustness) else pd.DataFrame()
            hyp_rows.append({
                "id": hid, "verdict": vr["verdict"], "css": _css(vr["verdict"]), "statement": hyps[hid].statement,
                "passage": hyps[hid].passage, "seed": instrument.cite(hyps[hid].seed),
                "test_tables": decision_test_tables(t, hyps[hid].spec),
                "robustness": [{"check": r["check"], "estimate": fmt(r.get("estimate", np.nan)),
                                "se": fmt(r.get("se", np.nan)), "p": fmt_p(r.get("p.predicted", np.nan)),
                                "pc": fmt_p(r.get("p.cluster", np.nan)),
                                "sig": fmt(r["significant"]) if isinstance(r["significant"], (bool, np.bool_)) else ""}
                               for r in rb.to_dict("records")]})
        items = [it.id for c in instrument.constructs_in(mid) if c.id in scored.constructs for it in c.items]
        scores = [score_name(c.id) for c in instrument.constructs_in(mid) if score_name(c.id) in scored.data.columns]
        sections.append({
            "anchor": mid.lower(), "title": f"{mid}: {mod.title['en']}",
            "diagram": _diagram(result, keys) if figures else "",
            "measurement": meas_rows, "fits": fits, "hypotheses": hyp_rows,
            "distributions": item_distributions(result.screening.kept, items, title=f"Answers, module {mid}")
            if items and figures else "",
            "heatmap": correlation_heatmap(scored.data[scores].rename(columns=lambda c: c[:-6]))
            if len(scores) > 1 and figures else ""})
    screening = [{"rule": r["rule"], "excluded": int(r["excluded"]), "flagged": int(r["flagged"])}
                 for r in result.screening.summary().to_dict("records")]
    cm = result.common_method
    common = []
    if "harman" in cm:
        h = cm["harman"]
        common.append(f"Harman's single factor: the first unrotated component carries {h['first.share']:.1%} of the "
                      f"variance of {h['items']} items ({'above' if h['flag'] else 'below'} the 50% rule of thumb).")
    if "harman.note" in cm:
        common.append(f"Harman's single factor: {cm['harman.note']}.")
    if "marker.note" in cm:
        common.append(f"Marker variable (Lindell & Whitney): {cm['marker.note']}.")
    if "marker" in cm:
        m = cm["marker"]
        common.append(f"Marker variable (Lindell & Whitney): marker correlation r_M = {m['r.marker']:.3f}; adjusting "
                      f"{m['pairs']} construct correlations changes them by at most {m['max.change']:.3f}.")
    versions = package_versions()
    g = int(opts.get("clusters", 0) or 0)
    clusters = ""
    if g:
        clusters = (f"Firms come from {g} cluster organisations: the regression checks use cluster-robust standard "
                    f"errors with t tests on {g - 1} degrees of freedom (G - 1); the SEMs "
                    + ("are cluster-robust too (lavaan's cluster=)" if opts.get("cluster.robust.sem")
                       else "are not (analyze --cluster-robust makes them so)") + ".")
        if g < SMALL_G:
            clusters += (f" With fewer than {SMALL_G} clusters, cluster-robust standard errors tend to be too small: "
                         "read the cluster-robust p-values with care.")
    comparison, comparison_summary = comparison_rows(result)
    estimator = "MLR with FIML"
    if opts.get("ordinal"):
        mlr = sorted({h for key in opts["ordinal"].get("mlr.models", {}) if key in result.models
                      for h in result.models[key][2]}, key=lambda h: int(h[1:]) if h[1:].isdigit() else 0)
        estimator = ORDINAL_ESTIMATOR_TEXT.format(mlr=", ".join(mlr) or "none in these data")
    prov = (f"seed {opts['seed']}; bootstrap {opts['bootstrap']}; Monte Carlo draws {opts['monte_carlo']}; "
            f"alpha {opts['alpha']}; " + ", ".join(f"{k} {val}" for k, val in versions.items()))
    return {
        "title": "SME internationalisation survey: which propositions hold in these data",
        "source": opts.get("source", ""), "rows_read": opts["rows.read"], "rows_kept": opts["rows.kept"],
        "modules": ", ".join(opts["modules"]), "alpha": opts["alpha"], "bootstrap": opts["bootstrap"],
        "adjust": ADJUST_TEXT[result.registry.adjust],
        "seed": opts["seed"], "verdicts": verdicts, "skipped": result.skipped.to_dict("records"),
        "verdict_chart": verdict_chart(v) if len(v) and figures else "", "module_sections": sections,
        "measurement_columns": MEASUREMENT_COLUMNS, "screening": screening, "common_method": " ".join(common),
        "provenance": prov, "clusters": clusters, "diagram_legend": LEGEND,
        "ingest": opts.get("ingest") or {},  # set when the input was ingested first (smesurvey analyze RAW)
        "warnings": list(opts.get("warnings", [])),  # Heywood cases, few clusters, ... (never silently accepted)
        "plan": opts.get("plan") or {},  # analyze --plan: whether the preregistered plan ran unchanged
        "publication": [{"key": t.key, "number": t.number, "title": t.title, "columns": list(t.frame.columns),
                         "rows": t.frame.to_numpy(dtype=str).tolist(), "note": t.note}
                        for t in publication.tables] if publication is not None else [],
        "publication_notes": list(publication.notes) if publication is not None else [],
        "references": list(publication.references) if publication is not None else [],
        "estimator": estimator, "comparison": comparison, "comparison_summary": comparison_summary,
        "fit_note": ORDINAL_FIT_NOTE if opts.get("ordinal") else "",
    }


def render_html(result: AnalysisResult, instrument: Instrument, publication: Publication | None = None) -> str:
    """The HTML report (template ``report.html.j2``, autoescaped)."""
    env = Environment(loader=PackageLoader("analysis.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True))
    return env.get_template("report.html.j2").render(**context(result, instrument, publication))


def _md(s) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def render_markdown(result: AnalysisResult, instrument: Instrument, publication: Publication | None = None) -> str:
    """The markdown report (template ``report.md.j2``; the same context as the HTML one, without the
    figures, which it does not show)."""
    env = Environment(loader=PackageLoader("analysis.report", "templates"), autoescape=False,
                      trim_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = _md
    return env.get_template("report.md.j2").render(**context(result, instrument, publication, figures=False))




def write_reports(result: AnalysisResult, instrument: Instrument, out: str | Path,
                  publication: Publication | None = None) -> list[Path]:
    """Write ``report.md`` and ``report.html`` into ``out``; with ``publication`` (the tables of
    :func:`~analysis.report.publication.publication_tables`) the reports show them and cite the seeds."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return [write_text(out / "report.md", render_markdown(result, instrument, publication)),
            write_text(out / "report.html", render_html(result, instrument, publication))]

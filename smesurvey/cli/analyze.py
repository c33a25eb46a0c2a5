"""``smesurvey analyze``: screen, score, measure, test every hypothesis and write the report."""

from __future__ import annotations

import gc
import time
import warnings
from dataclasses import replace
from pathlib import Path

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from smesurvey.cli import app, err_console


@app.command("analyze")
def analyze_command(
    data_file: Path = typer.Argument(..., help="Responses: a CSV with the codebook's columns, or any export "
                                     "`smesurvey ingest` reads (Qualtrics, LimeSurvey, Kobo, REDCap, XLSX, SAV, DTA)."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    modules: str = typer.Option(None, "--modules", help="Comma-separated modules to analyse (default: all present)."),
    bootstrap: int = typer.Option(2000, "--bootstrap", min=2, help="Bootstrap resamples for indirect effects."),
    seed: int = typer.Option(1, "--seed", min=0, help="Seed of the bootstrap and Monte Carlo draws."),
    jobs: int = typer.Option(-1, "--jobs", min=-1, help="Threads for the bootstrap (-1 = the cores other work "
                             "leaves idle); with two or more the bootstraps run beside the model fits. The draws "
                             "do not depend on it."),
    cluster_robust: bool = typer.Option(False, "--cluster-robust", help="Fit the SEMs with cluster-robust SEs by "
                                        "cluster organisation (firm_cluster_org); the regression checks always are."),
    survey_year: int = typer.Option(None, "--survey-year", help="Year the survey was answered, for firm age and "
                                    "export experience (default: latest submission date in the data, else the "
                                    "instrument's fielding year; provenance.json records which)."),
    format: str = typer.Option("auto", "--format", help="Format of DATA_FILE when it is ingested first: "
                               "auto|qualtrics|limesurvey|kobo|redcap|csv|xlsx|sav|dta."),
    key_file: Path = typer.Option(None, "--key-file", help="Key for the respondent pseudonyms when DATA_FILE is "
                                  "ingested (default: random, never stored)."),
    force: bool = typer.Option(False, "--force", help="Write into OUT even if it holds another command's outputs."),
    plan: Path = typer.Option(None, "--plan", help="A preregistered plan (plan.json or prereg.md from `smesurvey "
                              "plan`): the report states whether this analysis ran it unchanged."),
    ordinal: bool = typer.Option(False, "--ordinal", help="Treat the items as ordinal: measurement models and "
                                 "hypothesis SEMs by WLSMV (pairwise deletion; latent interactions and quadratic "
                                 "terms stay on MLR), with the default (MLR) verdicts beside them in "
                                 "ml_vs_wlsmv.csv and the report. Not with --cluster-robust."),
) -> None:
    """Test the propositions H1-H16 on DATA_FILE.

    Writes verdicts.csv, tests.csv, robustness.csv, parameters.csv, measurement.csv,
    fit.json, excluded.csv, cells.csv (answers set to missing, with the reason), skipped.csv, provenance.json, report.md and report.html into OUT,
    and the APA-style publication tables into OUT/publication: one CSV per table (table1_flow.csv ...,
    the sample, item descriptives, missing data, measurement model, HTMT, fit, structural results with
    95% CIs, the cross-country invariance sequence when two countries have 100 firms, the hypotheses with
    the propositions they test), the same cells in tables.docx and tables.tex (booktabs), and a path
    diagram per module as diagram_<module>.svg and .pdf (with --ordinal also ml_vs_wlsmv.csv: the ML and
    WLSMV verdict of each hypothesis).

    A DATA_FILE not in the codebook layout (a platform export, XLSX, SAV, DTA, or a CSV only `smesurvey
    ingest` reads) is ingested first; then rows.csv (every data row read, kept or excluded), ingest_cells.csv
    (cells ingest changed), ingest_provenance.json, pages.csv (page times, when the export has page timers)
    and the data-quality report quality.html / quality.md are written too, and report.html links to
    quality.html.
    """
    from smecore.errors import OptionError
    from smecore.files import check_output_dir

    mods = [m.strip().upper() for m in modules.split(",") if m.strip()] if modules else None
    if jobs == 0:
        raise OptionError("--jobs: 0 workers; give -1 (all cores) or a positive number")
    if ordinal and cluster_robust:
        raise OptionError("--ordinal and --cluster-robust cannot be combined: WLSMV fits have no cluster-robust "
                          "standard errors here. Run the ordinal analysis without --cluster-robust (the regression "
                          "checks stay cluster-robust), or the cluster-robust one without --ordinal")
    check_output_dir(out, command="smesurvey analyze", force=force)  # before minutes of work
    if plan is not None:
        from analysis.power.plan import read_plan

        read_plan(plan)  # a plan that cannot be read is refused before the work
    # The analysis' modules imported, move their objects (millions: pandas, scipy, statsmodels, matplotlib)
    # out of the cyclic garbage collector's way for the rest of the process: its full collections walked
    # them all, about 1 s of a run (issue 13). The run's own objects are collected as usual.
    import analysis.propositions.pipeline  # noqa: F401
    import analysis.report.publication  # noqa: F401
    import analysis.report.render  # noqa: F401

    gc.freeze()
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:  # shown below as one line each, not as Python prints them
        warnings.simplefilter("always")
        result, paths = run_analysis(data_file, out, mods, bootstrap, seed, jobs, cluster_robust, survey_year,
                                     format=format, key_file=key_file, ordinal=ordinal, plan=plan)
    v = result.verdicts
    counts = v["verdict"].value_counts().to_dict() if len(v) else {}
    typer.echo(f"{len(v)} hypotheses tested in {time.perf_counter() - t0:.0f} s: "
               + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("supported", "not supported", "contrary")))
    for r in result.skipped.itertuples():
        typer.echo(f"skipped {r.hypothesis}: {r.reason}")
    comp = result.estimator_comparison
    if ordinal and len(comp):
        diff = comp[comp["differs"]]
        typer.echo("ML and WLSMV verdicts: " + ("agree for every hypothesis" if diff.empty else "differ for "
                   + ", ".join(f"{r['hypothesis']} ({r['verdict.ml']} with ML, {r['verdict.wlsmv']} with WLSMV)"
                                for r in diff.to_dict("records")))
                   + f" ({out / 'ml_vs_wlsmv.csv'})")
    ing = result.options.get("ingest")
    if ing:
        typer.echo(f"ingested first ({ing['format']}: {ing['detected_by']}): {ing['rows_read']} rows read, "
                   f"{ing['rows_kept']} kept; data-quality report: {out / 'quality.html'}")
    if result.options.get("plan"):
        typer.echo(result.options["plan"]["statement"])
    typer.echo(f"report: {out / 'report.html'}")
    typer.echo(f"wrote {len(paths)} files into {out}")
    for text in dict.fromkeys(one_line_warning(w) for w in caught):
        err_console.print(text, markup=False, soft_wrap=True)
    typer.echo("time per stage: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()))


def one_line_warning(w: warnings.WarningMessage) -> str:
    """``warning: message`` for the package's warnings, ``warning (Category): message`` for any other."""
    from smecore.errors import SmeSurveyWarning

    kind = "" if issubclass(w.category, SmeSurveyWarning) else f" ({w.category.__name__})"
    return f"warning{kind}: {' '.join(str(w.message).split())}"


def ingest_first(data_file: Path, out: Path, instrument, format: str = "auto",
                 key_file: Path | None = None) -> tuple[pd.DataFrame, dict, list[Path], pd.DataFrame | None]:
    """Ingest ``data_file``; write rows.csv, ingest_cells.csv, ingest_provenance.json, pages.csv (when the
    export has page timers), quality.html and quality.md into ``out``. Returns (the ingested responses,
    the ingest record for provenance, paths, the page times or None)."""
    from analysis.ingest.pipeline import csv_text, ingest
    from analysis.report.quality import quality_report, write_quality
    from smecore import jsonio
    from smecore.csvsafe import safe_frame
    from smecore.files import write_text

    res = ingest(data_file, format=format, key=key_file, instrument=instrument)
    # the analysis' own logs (excluded.csv, cells.csv) name rows by their data row in DATA_FILE, as rows.csv does
    responses = res.responses.set_axis(
        pd.Index(res.rows.loc[res.rows["status"] == "kept", "source_row"].astype(int).to_numpy(), name="row"))
    # written as ingest writes its own files (formula-looking text was escaped in the frames)
    paths = [write_text(out / "rows.csv", csv_text(safe_frame(res.rows))),
             res.cell_log.write_csv(out / "ingest_cells.csv"),
             write_text(out / "ingest_provenance.json", jsonio.dumps(res.provenance))]
    if res.pages is not None:
        paths.append(write_text(out / "pages.csv", csv_text(res.pages)))
    paths += write_quality(quality_report(res, instrument), out)
    prov = res.provenance
    record = {"format": prov["format"], "detected_by": prov["detected_by"], "input_sha256": prov["input_sha256"],
              "rows_read": prov["rows_read"], "rows_kept": prov["rows_kept"], "cells_changed": len(res.cell_log),
              "options": prov["options"], "dropped_identifier_columns": prov["dropped_identifier_columns"],
              "quality_report": "quality.html", "provenance": "ingest_provenance.json",
              "page_timers": prov["page_timers"]}
    return responses, record, paths, res.pages


def read_input(data_file: Path, out: Path, instrument, format: str = "auto", key_file: Path | None = None
               ) -> tuple[pd.DataFrame, dict | None, list[Path], pd.DataFrame | None]:
    """Read DATA_FILE as ``analyze`` does: a codebook-layout CSV directly, anything else ingested first
    (:func:`ingest_first`, writing its logs and quality report into ``out``). Returns (the responses, the
    ingest record or None, the paths written, the page times or None); shared by ``analyze`` and ``pilot``."""
    from analysis.ingest import read_responses
    from analysis.ingest.detect import is_codebook_csv

    if format == "auto" and (not data_file.exists() or is_codebook_csv(data_file, instrument)):
        return read_responses(data_file), None, [], None
    return ingest_first(data_file, out, instrument, format, key_file)


def run_analysis(data_file: Path, out: Path, modules: list[str] | None = None, bootstrap: int = 2000,
                 seed: int = 1, jobs: int = -1, cluster_robust: bool = False, survey_year: int | None = None,
                 *, format: str = "auto", key_file: Path | None = None, ordinal: bool = False,
                 plan: Path | None = None):
    """Read DATA_FILE (ingesting it first unless it is a codebook-layout CSV), analyse it with progress
    bars on stderr, write every output into OUT.

    Returns ``(AnalysisResult, written paths)``; shared by ``analyze`` and ``demo``.
    """
    from analysis.propositions.pipeline import analyze, write_outputs
    from analysis.report.publication import publication_tables, write_publication
    from analysis.report.render import write_reports
    from instrument import load_instrument
    from smecore.errors import DataError

    full = load_instrument()
    inst = full.select(modules)
    t0 = time.perf_counter()
    data, ingested, ingest_paths, page_seconds = read_input(data_file, out, full, format, key_file)
    t_read = time.perf_counter() - t0
    # the bar starts with the first report of progress, so that an error in the input
    # is printed as one clean line
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeElapsedColumn(), console=err_console, transient=True)
    tasks: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if not tasks:
            bar.start()
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    try:
        result = analyze(data, instrument=inst, modules=modules, n_boot=bootstrap, seed=seed, n_jobs=jobs,
                         progress=progress, source=str(data_file), cluster_robust=cluster_robust,
                         survey_year=survey_year, page_seconds=page_seconds, ordinal=ordinal)
    finally:
        if tasks:
            bar.stop()
    if result.verdicts.empty:  # exit 2 with the reasons rather than "0 hypotheses tested"
        reasons: dict[str, list[str]] = {}
        for r in result.skipped.itertuples():
            reasons.setdefault(str(r.reason), []).append(str(r.hypothesis))
        # the reasons of models that failed first; "module not in the data" only explains the rest
        order = sorted(reasons.items(), key=lambda kv: "not in the data" in kv[0])
        shown = "; ".join(f"{', '.join(h)}: {why}" for why, h in order[:3])
        raise DataError(f"{data_file}: no hypothesis could be tested ({shown}"
                        + ("; ..." if len(reasons) > 3 else "") + ")")
    if ingested is not None:
        result = replace(result, options={**result.options, "ingest": ingested})
    if plan is not None:  # the preregistered plan: did this run follow it? (provenance.json and the report)
        from analysis.power.plan import check_plan

        result = replace(result, options={**result.options, "plan": check_plan(plan, result.options)})
    t0 = time.perf_counter()
    pub = publication_tables(result, inst)
    t_pub = time.perf_counter() - t0  # mostly the cross-country invariance fits
    t0 = time.perf_counter()
    paths = (write_outputs(result, out, data_file) + write_reports(result, inst, out, pub)
             + write_publication(pub, out / "publication") + ingest_paths)
    stage = "reading and ingesting (with the quality report)" if ingested is not None else "reading"
    result = replace(result, timings={stage: t_read, **result.timings, "publication tables": t_pub,
                                      "writing outputs and reports": time.perf_counter() - t0})
    return result, paths

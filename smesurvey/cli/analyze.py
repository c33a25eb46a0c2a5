"""``smesurvey analyze``: screen, score, measure, test every hypothesis and write the report."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from smesurvey.cli import app, err_console


@app.command("analyze")
def analyze_command(
    data_file: Path = typer.Argument(..., help="Responses (CSV, XLSX or SAV) with the codebook's columns."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    modules: str = typer.Option(None, "--modules", help="Comma-separated modules to analyse (default: all present)."),
    bootstrap: int = typer.Option(2000, "--bootstrap", help="Bootstrap resamples for indirect effects."),
    seed: int = typer.Option(1, "--seed", help="Seed of the bootstrap and Monte Carlo draws."),
    jobs: int = typer.Option(-1, "--jobs", help="Parallel workers for the bootstrap (-1 = all cores)."),
    cluster_robust: bool = typer.Option(False, "--cluster-robust", help="Fit the SEMs with cluster-robust SEs by "
                                        "cluster organisation (firm_cluster_org); the regression checks always are."),
    survey_year: int = typer.Option(None, "--survey-year", help="Year the survey was answered, for firm age and "
                                    "export experience (default: latest submission date in the data, else the "
                                    "instrument's fielding year; provenance.json records which)."),
) -> None:
    """Test the propositions H1-H16 on DATA_FILE (CSV, XLSX or SAV laid out as the codebook).

    Writes verdicts.csv, tests.csv, robustness.csv, parameters.csv, measurement.csv,
    fit.json, excluded.csv, cells.csv (answers set to missing, with the reason), skipped.csv, provenance.json, report.md and report.html into OUT.
    """
    mods = [m.strip().upper() for m in modules.split(",") if m.strip()] if modules else None
    t0 = time.perf_counter()
    result, paths = run_analysis(data_file, out, mods, bootstrap, seed, jobs, cluster_robust, survey_year)
    v = result.verdicts
    counts = v["verdict"].value_counts().to_dict() if len(v) else {}
    typer.echo(f"{len(v)} hypotheses tested in {time.perf_counter() - t0:.0f} s: "
               + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("supported", "not supported", "contrary")))
    for r in result.skipped.itertuples():
        typer.echo(f"skipped {r.hypothesis}: {r.reason}")
    typer.echo(f"report: {out / 'report.html'}")
    typer.echo(f"wrote {len(paths)} files into {out}")


def run_analysis(data_file: Path, out: Path, modules: list[str] | None = None, bootstrap: int = 2000,
                 seed: int = 1, jobs: int = -1, cluster_robust: bool = False, survey_year: int | None = None):
    """Read DATA_FILE, analyse it with progress bars on stderr, write every output into OUT.

    Returns ``(AnalysisResult, written paths)``; shared by ``analyze`` and ``demo``.
    """
    from analysis.ingest import read_responses
    from analysis.propositions.pipeline import analyze, write_outputs
    from analysis.report.render import write_reports
    from instrument import load_instrument

    data = read_responses(data_file)
    inst = load_instrument().select(modules)
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
                         survey_year=survey_year)
    finally:
        if tasks:
            bar.stop()
    paths = write_outputs(result, out, data_file) + write_reports(result, inst, out)
    return result, paths

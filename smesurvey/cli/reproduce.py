"""``smesurvey reproduce``: regenerate the reference data, re-run the analysis, compare with expected results."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from smesurvey.cli import app, err_console


@app.command("reproduce")
def reproduce_command(
    out: Path = typer.Option(Path("out/reproduce"), "--out", help="Folder for the re-run analyses."),
    world: str = typer.Option("all", "--world", help="Reference set: theory, null or all."),
    update_expected: bool = typer.Option(False, "--update-expected",
                                         help="Maintainers: store this run as the expected results."),
) -> None:
    """Re-create the reference results and say whether they match (PASS/FAIL table).

    Regenerates the reference data from their seeds and checks the SHA-256 manifest, re-runs
    the full analysis (2,000 bootstrap resamples, seed 1) and compares verdicts and key
    estimates with the expected results in synthetic_data/reference/expected/ (to 1e-6).
    Exit status 1 on any mismatch.
    """
    from smesurvey.reproduce import reproduce
    from smesurvey.reproduce import update_expected as update

    worlds = ("theory", "null") if world == "all" else (world,)
    t0 = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        if update_expected:
            paths = update(worlds, progress)
            typer.echo(f"wrote {len(paths)} expected-result files in {time.perf_counter() - t0:.0f} s")
            return
        checks = reproduce(out, worlds, progress)
    table = Table(title="smesurvey reproduce")
    for col in ("check", "item", "compared", "max.deviation", "tolerance", "status"):
        table.add_column(col, justify="right" if col in ("compared", "max.deviation", "tolerance") else "left")
    for r in checks.itertuples():
        style = "green" if r.status == "PASS" else "bold red"
        table.add_row(r.check, r.item, str(r.compared), f"{r._4:.2e}", f"{r.tolerance:g}",
                      f"[{style}]{r.status}[/{style}]")
    Console(width=120).print(table)
    failed = checks[checks["status"] != "PASS"]
    for r in failed.itertuples():
        typer.echo(f"FAIL {r.check} {r.item}: {r.detail}")
    verdict = "PASS" if failed.empty else f"FAIL ({len(failed)} of {len(checks)} checks)"
    typer.echo(f"{verdict} in {time.perf_counter() - t0:.0f} s; re-run outputs in {out}")
    if not failed.empty:
        raise typer.Exit(1)

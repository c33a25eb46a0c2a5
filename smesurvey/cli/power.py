"""``smesurvey power`` (Monte Carlo power per hypothesis) and ``smesurvey plan`` (preregistration)."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from smesurvey.cli import app, err_console


@app.command("power")
def power_command(
    out: Path = typer.Option(..., "--out", help="Output folder (re-running the same command resumes: finished "
                             "blocks of replications are kept in OUT/chunks)."),
    hypotheses: str = typer.Option(None, "--hypotheses", help="Comma-separated ids (default: all H1-H16; the "
                                   "Holm step runs across the hypotheses given)."),
    n: str = typer.Option("100:1500:100", "--n", help="Sample sizes (firms fielded): START:STOP:STEP, a list "
                          "(200,400,800) or one number."),
    reps: int = typer.Option(500, "--reps", help="Replications per world and N."),
    world: str = typer.Option("theory", "--world", help="theory | null | both (null: false-positive rates)."),
    set_: list[str] = typer.Option(None, "--set", help="Theory-world path by hypothesis tag, e.g. --set H14=0.30 "
                                   "or --set H10:PEG~LC=0.10 (repeatable)."),
    bootstrap: int = typer.Option(0, "--bootstrap", help="0: indirect effects (H6, H15) decided by the Monte "
                                  "Carlo CI; N >= 100: by N bootstrap resamples in every replication (exact, slow)."),
    workers: int = typer.Option(None, "--workers", help="Local worker processes (default: every core)."),
    scheduler: str = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://HOST:8786): run on "
                                  "that cluster's workers instead of local processes."),
    seed: int = typer.Option(1, "--seed", help="Seed; replications are seeded by (world, N, replication)."),
    no_recovery: bool = typer.Option(False, "--no-recovery", help="Skip the true values (a minute) and "
                                     "recovery.csv."),
) -> None:
    """Monte Carlo power of every hypothesis' decision, null-world false-positive rates and recovery.

    Writes power.csv, sample_size.csv, recovery.csv, replications.parquet, power_curves.png/.svg
    (false_positives.png/.svg for the null world), power.html and provenance.json into OUT.
    """
    from analysis.power import power

    bar = Progress(TextColumn("replications"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("ETA"), TimeRemainingColumn(), console=err_console, transient=True)
    task: list[int] = []
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if not task:  # replications already on disk (a resumed run) start the bar where it left off
            bar.start()
            task.append(bar.add_task("power", total=total, completed=done))
            return
        bar.update(task[0], completed=done, total=total)

    try:
        result = power(out=out, hypotheses=hypotheses, ns=n, reps=reps, world=world, overrides=set_ or None,
                       n_boot=bootstrap, workers=workers, scheduler=scheduler, seed=seed, progress=progress,
                       recovery=not no_recovery)
    finally:
        if task:
            bar.stop()
    study = result.study
    typer.echo(result.summary())
    if study:
        if study["n.each"] != study["n.each"]:  # NaN: some hypothesis never reaches the target on the grid
            typer.echo(f"study: 80% power on each hypothesis is not reached by N = {study['max.n']:,} "
                       f"(limited by {study['limiting']})")
        else:
            typer.echo(f"study: N = {study['n.each']:,.0f} firms for 80% power on each hypothesis "
                       f"(limited by {study['limiting']})")
    ran = result.timings.get("blocks run", 0)
    typer.echo(f"{ran} blocks of replications run in {time.perf_counter() - started:.0f} s; report: "
               f"{out / 'power.html'}")
    typer.echo(f"wrote {len(result.paths)} files into {out}")


@app.command("plan")
def plan_command(
    out: Path = typer.Option(..., "--out", help="Output folder for prereg.md and plan.json."),
    power_dir: Path = typer.Option(None, "--power", help="Folder of a `smesurvey power` run whose sample-size "
                                   "recommendation justifies N."),
    n: int = typer.Option(None, "--n", help="Planned sample size (default: the power run's recommendation)."),
    title: str = typer.Option("SME internationalisation survey", "--title", help="Title of the study."),
) -> None:
    """Write a preregistration (AsPredicted's questions) with the SHA-256 of the registry and instrument.

    `smesurvey analyze --plan OUT/plan.json` (or prereg.md) then states whether it ran this plan unchanged.
    """
    from analysis.power.plan import write_plan

    paths = write_plan(out, power_dir=power_dir, n=n, title=title)
    typer.echo(f"wrote {' and '.join(str(p) for p in paths)}")

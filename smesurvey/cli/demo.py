"""``smesurvey demo``: the main job, as a list of steps: instrument exports, synthetic data, analysis."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import typer

from smesurvey.cli import app


def step_instrument(out: Path) -> list[Path]:
    """Questionnaire preview, codebook and every platform export into ``out/instrument``."""
    from instrument import load_instrument
    from instrument.export import FORMATS, default_filename, export

    inst = load_instrument()
    written = []
    for fmt in FORMATS:
        written += export(inst, fmt, out / "instrument" / default_filename(fmt))
    return written


DEMO_WORLD, DEMO_N, DEMO_SEED = "theory", 600, 20261123


def step_generate(out: Path) -> list[Path]:
    """Theory-world synthetic data (N = 600, fixed seed): CSV + sidecar into ``out/data``."""
    from synthetic_data.generate import generate
    from synthetic_data.writers import write_data

    gen = generate(world=DEMO_WORLD, n=DEMO_N, seed=DEMO_SEED)
    return write_data(gen, demo_data_file(out))


def demo_data_file(out: Path) -> Path:
    return out / "data" / f"{DEMO_WORLD}_n{DEMO_N}_seed{DEMO_SEED}.csv"


def step_analyze(out: Path) -> list[Path]:
    """Analyse the demo data as a user would (read the CSV back): verdicts, tables and report."""
    from smesurvey.cli.analyze import run_analysis

    _, paths = run_analysis(demo_data_file(out), out / "analysis")
    return paths


STEPS: list[tuple[str, Callable[[Path], list[Path]]]] = [
    ("instrument exports", step_instrument),
    ("synthetic data", step_generate),
    ("analysis", step_analyze),
]


@app.command("demo")
def demo_command(out: Path = typer.Option(Path("out"), "--out", help="Output folder.")) -> None:
    """Run the main job: every step writes into OUT and reports what it wrote."""
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for name, step in STEPS:
        t0 = time.perf_counter()
        paths = step(out)
        typer.echo(f"[{name}] {len(paths)} files in {time.perf_counter() - t0:.1f} s")
        for p in paths:
            typer.echo(f"  {p}")
    typer.echo(f"demo finished in {time.perf_counter() - start:.0f} s; the report is {out / 'analysis' / 'report.html'}")

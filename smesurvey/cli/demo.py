"""``smesurvey demo``: the main job, as a list of steps: instrument exports, synthetic data, analysis."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import typer

from smesurvey.cli import app

#: Languages of the demo's respondent questionnaire (English, the source, and one translation).
DEMO_LANGUAGES = ("en", "fi")


def step_instrument(out: Path) -> list[Path]:
    """Questionnaire previews, codebook and every platform export (English) into ``out/instrument``; the
    respondent questionnaire in English and Finnish (HTML, and PDF when Chromium is installed); the
    back-translation sheet of every translation."""
    from instrument import load_instrument
    from instrument.export import FORMATS, default_filename, export
    from instrument.export.respondent import find_chromium
    from smecore.errors import OptionError

    inst = load_instrument()
    written = []
    for fmt in FORMATS:
        if fmt == "respondent-pdf":
            try:
                find_chromium()
            except OptionError as exc:
                typer.echo(f"warning: respondent PDF skipped: {exc}", err=True)
                continue
        languages = DEMO_LANGUAGES if fmt in ("respondent", "respondent-pdf") else ("en",)
        written += export(inst, fmt, out / "instrument" / default_filename(fmt), languages=languages)
    return list(dict.fromkeys(written))


DEMO_WORLD, DEMO_N, DEMO_SEED = "theory", 600, 20261123


def step_generate(out: Path) -> list[Path]:
    """Theory-world synthetic data (N = 600, fixed seed) into ``out/data``: CSV (the analysis reads it), and
    the same data as SPSS ``.sav`` and Stata ``.dta`` beside it; each with its sidecar."""
    from synthetic_data.generate import generate
    from synthetic_data.writers import write_data

    gen = generate(world=DEMO_WORLD, n=DEMO_N, seed=DEMO_SEED)
    csv_file = demo_data_file(out)
    return [*write_data(gen, csv_file), *write_data(gen, csv_file.with_suffix(".sav")),
            *write_data(gen, csv_file.with_suffix(".dta"))]


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

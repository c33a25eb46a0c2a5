"""``smesurvey demo``: the main job, as a list of steps: instrument exports, synthetic data, a pilot,
analysis (with the publication tables)."""

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


PILOT_N, PILOT_SEED = 80, 3


def step_pilot(out: Path) -> list[Path]:
    """A pilot of 80 firms (theory world, its own seed) into ``out/pilot``: the data, then the pilot report
    with its suggested cuts, as ``smesurvey pilot`` writes them."""
    from analysis.ingest import read_responses
    from analysis.pilot.pilot import pilot
    from analysis.pilot.report import write_pilot
    from synthetic_data.generate import generate
    from synthetic_data.writers import write_data

    data_file = out / "pilot" / f"{DEMO_WORLD}_n{PILOT_N}_seed{PILOT_SEED}.csv"
    data_file.parent.mkdir(parents=True, exist_ok=True)
    paths = write_data(generate(world=DEMO_WORLD, n=PILOT_N, seed=PILOT_SEED), data_file)
    result = pilot(read_responses(data_file), source=str(data_file))
    return [*paths, *write_pilot(result, out / "pilot", data_file)]


def step_analyze(out: Path) -> list[Path]:
    """Analyse the demo data as a user would (read the CSV back): verdicts, tables, report and the
    publication tables (``out/analysis/publication``: CSV, Word, LaTeX, path diagrams)."""
    from smesurvey.cli.analyze import run_analysis

    _, paths = run_analysis(demo_data_file(out), out / "analysis")
    return paths


STEPS: list[tuple[str, Callable[[Path], list[Path]]]] = [
    ("instrument exports", step_instrument),
    ("synthetic data", step_generate),
    ("pilot", step_pilot),
    ("analysis", step_analyze),
]


@app.command("demo")
def demo_command(out: Path = typer.Option(Path("out"), "--out", help="Output folder.")) -> None:
    """Run the main job: every step writes into OUT and reports what it wrote.

    OUT/instrument: every export, the back-translation sheet and the respondent questionnaire in English and
    Finnish; OUT/data: theory-world data (N = 600) as CSV, SAV and DTA; OUT/pilot: a pilot of 80 firms and
    its report (pilot.html, suggested cuts); OUT/analysis: the analysis, its report and the publication
    tables (OUT/analysis/publication: CSV, tables.docx, tables.tex, path diagrams as SVG and PDF)."""
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for name, step in STEPS:
        t0 = time.perf_counter()
        paths = step(out)
        typer.echo(f"[{name}] {len(paths)} files in {time.perf_counter() - t0:.1f} s")
        for p in paths:
            typer.echo(f"  {p}")
    typer.echo(f"demo finished in {time.perf_counter() - start:.0f} s; the report is {out / 'analysis' / 'report.html'}")

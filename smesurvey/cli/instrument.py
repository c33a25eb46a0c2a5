"""``smesurvey instrument``: validate, describe and export the questionnaire."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from smesurvey.cli import app

instrument_app = typer.Typer(help="The questionnaire as data: validate, describe, export.", no_args_is_help=True)
app.add_typer(instrument_app, name="instrument")


def _modules(value: str | None) -> list[str] | None:
    return [m.strip().upper() for m in value.split(",") if m.strip()] if value else None


@instrument_app.command("export")
def export_command(
    fmt: str = typer.Option(..., "--format", help="xlsform, limesurvey, redcap, qualtrics, html, markdown, "
                                                  "codebook or lavaan."),
    out: Path = typer.Option(..., "--out", help="File to write (codebook also writes .md and .sav beside it)."),
    modules: str = typer.Option(None, "--modules", help="Comma-separated modules, e.g. M1,M3 (M0, the firm "
                                                        "profile, is always included in questionnaires)."),
    definition: Path = typer.Option(None, "--definition", help="Instrument definition folder (default: built in)."),
) -> None:
    """Export the questionnaire in one format."""
    from instrument import load_instrument
    from instrument.export import export
    from smecore.files import check_output_file

    check_output_file(out)
    paths = export(load_instrument(definition), fmt.lower(), out, _modules(modules))
    for p in paths:
        typer.echo(f"wrote {p}")


@instrument_app.command("validate")
def validate_command(
    definition: Path = typer.Argument(None, help="Instrument definition folder (default: built in)."),
) -> None:
    """Check a definition folder; lists every problem with its file and location."""
    from instrument import load_instrument

    inst = load_instrument(definition)
    typer.echo(f"ok: {len(inst.constructs)} constructs, {len(inst.variables(paradata=False))} variables, "
               f"{len(inst.hypotheses)} hypotheses")


@instrument_app.command("info")
def info_command(
    modules: str = typer.Option(None, "--modules", help="Comma-separated modules (default: all)."),
) -> None:
    """Constructs, items and estimated completion time per module."""
    from instrument import load_instrument

    inst = load_instrument().select(_modules(modules))
    t = inst.completion_time()
    table = Table(title=f"Completion time ({t.attrs['assumptions']})")
    for col in ("module", "likert_items", "factual_questions", "text_questions", "minutes"):
        table.add_column(col)
    for r in t.itertuples():
        table.add_row(str(r.module), str(r.likert_items), str(r.factual_questions), str(r.text_questions),
                      f"{r.minutes:.1f}")
    console = Console()
    console.print(table)
    n_items = sum(len(c.items) for m in inst.module_ids for c in inst.constructs_in(m))
    console.print(f"{sum(len(inst.constructs_in(m)) for m in inst.module_ids)} constructs with {n_items} items "
                  f"(plus the marker and {sum(len(inst.matrices_in(m)) for m in inst.module_ids)} matrix)")

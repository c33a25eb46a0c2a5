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
                                                  "codebook or lavaan (the measurement model, items as "
                                                  "answered; its header names the reverse-keyed ones: fit it "
                                                  "with `smesurvey fit --reverse-score`)."),
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
    n = inst.counts()
    typer.echo(f"ok: {n['constructs'] + n['marker']} constructs, {n['questionnaire_variables']} questionnaire "
               f"variables ({n['codebook_variables']} in the codebook), {len(inst.hypotheses)} hypotheses")


@instrument_app.command("info")
def info_command(
    modules: str = typer.Option(None, "--modules", help="Comma-separated modules (default: all)."),
) -> None:
    """Estimated completion time per module, and the counts: constructs, items, matrix cells, profile
    questions, attention checks, questionnaire variables and codebook variables (with the paradata
    respondent_id and duration_sec)."""
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
    typer.echo(counts_line(inst))


def _plural(k: int, one: str, many: str | None = None) -> str:
    return f"{k} {one if k == 1 else (many or one + 's')}"


def counts_line(inst) -> str:
    """The instrument's counts as one sentence (the README states the same numbers)."""
    n = inst.counts()
    if inst.marker is not None:
        constructs = (f"{n['constructs'] + n['marker']} constructs ({n['constructs']} and the marker "
                      f"{inst.marker.id}) with {n['items'] + n['marker_items']} items ({n['items']} and the "
                      f"marker's {n['marker_items']})")
    else:
        constructs = f"{_plural(n['constructs'], 'construct')} with {_plural(n['items'], 'item')}"
    parts = [constructs]
    if n["matrices"]:
        parts.append(f"{_plural(n['matrices'], 'source x content matrix', 'source x content matrices')} with "
                     f"{_plural(n['matrix_cells'], 'cell')}")
    parts.append(_plural(n["profile_questions"], "profile question"))
    return (f"{', '.join(parts)} and {_plural(n['attention_checks'], 'attention check')}: "
            f"{n['questionnaire_variables']} questionnaire variables; with respondent_id and duration_sec, "
            f"{n['codebook_variables']} variables in the codebook and in data files")

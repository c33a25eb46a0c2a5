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
    fmt: str = typer.Option(..., "--format", help="xlsform, limesurvey, redcap, qualtrics, html, markdown "
                                                  "(the researcher's previews), respondent, respondent-pdf "
                                                  "(the questionnaire as respondents see it), codebook, "
                                                  "lavaan (the measurement model, items as answered; its "
                                                  "header names the reverse-keyed ones: fit it with "
                                                  "`smesurvey fit --reverse-score`) or backtranslation (the "
                                                  "translation committee's XLSX)."),
    out: Path = typer.Option(..., "--out", help="File to write (codebook also writes .md, .sav and .dta beside "
                                                "it; respondent-pdf the .html it prints)."),
    modules: str = typer.Option(None, "--modules", help="Comma-separated modules, e.g. M1,M3 (M0, the firm "
                                                        "profile, is always included in questionnaires)."),
    language: str = typer.Option("en", "--language", help="Language code (en, fi, sv, de), several "
                                                          "(en,fi: the first is the base language) or 'all'. "
                                                          "XLSForm and LimeSurvey hold every language in one "
                                                          "file, Qualtrics gets a translation table beside the "
                                                          "TXT, other formats a copy per language "
                                                          "(<stem>_<code>). A language missing any "
                                                          "respondent-facing string is refused."),
    definition: Path = typer.Option(None, "--definition", help="Instrument definition folder (default: built in)."),
) -> None:
    """Export the questionnaire in one format."""
    from instrument import load_instrument
    from instrument.export import export
    from instrument.translations import parse_languages
    from smecore.files import check_output_file

    check_output_file(out)
    inst = load_instrument(definition)
    paths = export(inst, fmt.lower(), out, _modules(modules), parse_languages(inst, language))
    for p in paths:
        typer.echo(f"wrote {p}")


def _coverage_table(inst) -> Table:
    from instrument.translations import coverage

    cov = coverage(inst)
    table = Table(title="Languages: respondent-facing strings translated")
    for col in cov.columns:
        table.add_column(col)
    for row in cov.itertuples(index=False):
        table.add_row(*("yes" if x is True else "no" if x is False else str(x) for x in row))
    return table


@instrument_app.command("languages")
def languages_command(
    definition: Path = typer.Argument(None, help="Instrument definition folder (default: built in)."),
    show: int = typer.Option(10, "--show", min=0, help="Problems listed per incomplete language."),
) -> None:
    """The coverage of each language: how many of the respondent-facing strings (items, instructions,
    answer options, section titles, the respondent view's own strings) it has, placeholder and duplicate-label
    problems, its status (draft translations need review and back-translation: `smesurvey instrument export
    --format backtranslation`), and what an incomplete language lacks."""
    from instrument import load_instrument
    from instrument.translations import language_problems

    inst = load_instrument(definition)
    Console(width=140).print(_coverage_table(inst))
    for lang in inst.questionnaire.languages:
        typer.echo(f"{lang.code} ({lang.name}): status {lang.status}" + (f"; {lang.note}" if lang.note else ""))
        probs = language_problems(inst, lang.code)
        found = [f"missing: {k}" for k in probs["missing"]] + probs["placeholders"] + \
            [f"duplicate labels: {d}" for d in probs["duplicate_labels"]]
        for line in found[:show]:
            typer.echo(f"  {line}")
        if len(found) > show:
            typer.echo(f"  ... {len(found) - show} more")


@instrument_app.command("validate")
def validate_command(
    definition: Path = typer.Argument(None, help="Instrument definition folder (default: built in)."),
    complete: bool = typer.Option(False, "--complete-languages", help="Also fail when a declared language "
                                                                       "lacks a respondent-facing string."),
) -> None:
    """Check a definition folder; lists every problem with its file and location, then the coverage of
    each declared language (`smesurvey instrument languages` lists what an incomplete one lacks)."""
    from instrument import load_instrument
    from instrument.translations import coverage
    from smecore.errors import DefinitionError

    inst = load_instrument(definition)
    n = inst.counts()
    typer.echo(f"ok: {n['constructs'] + n['marker']} constructs, {n['questionnaire_variables']} questionnaire "
               f"variables ({n['codebook_variables']} in the codebook), {len(inst.hypotheses)} hypotheses")
    Console(width=140).print(_coverage_table(inst))
    cov = coverage(inst)
    incomplete = cov.loc[~cov["complete"], "language"].tolist()
    if incomplete and complete:
        raise DefinitionError([f"language '{code}' is not complete (see `smesurvey instrument languages`)"
                               for code in incomplete])


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

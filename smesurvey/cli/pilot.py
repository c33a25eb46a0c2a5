"""``smesurvey pilot``: item statistics, reliability, EFA, suggested cuts and completion time of a pilot."""

from __future__ import annotations

import warnings
from pathlib import Path

import typer

from smesurvey.cli import app, err_console


@app.command("pilot")
def pilot_command(
    data_file: Path = typer.Argument(..., help="Pilot responses: a CSV with the codebook's columns, or any export "
                                     "`smesurvey ingest` reads (Qualtrics, LimeSurvey, Kobo, REDCap, XLSX, SAV, DTA)."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    modules: str = typer.Option(None, "--modules", help="Comma-separated modules (default: all present)."),
    thresholds: Path = typer.Option(None, "--thresholds", help="YAML file of thresholds (name: value; the "
                                    "thresholds.yaml a run writes is one). Names left out keep their defaults."),
    settings: list[str] = typer.Option(None, "--set", help="Change one threshold, e.g. --set loading=0.5 or "
                                       "--set cut_rules=item_total,missing (repeatable; applied after --thresholds)."),
    format: str = typer.Option("auto", "--format", help="Format of DATA_FILE when it is ingested first: "
                               "auto|qualtrics|limesurvey|kobo|redcap|csv|xlsx|sav|dta."),
    key_file: Path = typer.Option(None, "--key-file", help="Key for the respondent pseudonyms when DATA_FILE is "
                                  "ingested (default: random, never stored)."),
    force: bool = typer.Option(False, "--force", help="Write into OUT even if it holds another command's outputs."),
) -> None:
    """Analyse a pilot sample and suggest which items to cut before fielding.

    Screens the rows as `analyze` does, then per construct: item descriptives and distributions, missing
    answers (firms asked only), floor and ceiling shares, corrected item-total correlations, alpha if an
    item is deleted, alpha and omega; per module an EFA after parallel analysis (cross-loadings, items on
    another factor than their construct's, reverse-keyed items forming a method factor); suggested cuts,
    each with its reasons, never below min_items items per construct; completion time before and after
    the cuts (duration_sec, page timers when the export has them, and the instrument's estimate).

    Default thresholds: item_total 0.30, alpha_gain 0.02, loading 0.40, cross_loading 0.32, missing 0.10,
    floor_ceiling 0.15 (flags only), min_items 3.

    Writes pilot.html and pilot.md (the report), pilot_items.csv, pilot_cuts.csv, pilot_constructs.csv,
    pilot_modules.csv, pilot_loadings.csv, pilot_parallel.csv, pilot_distributions.csv, pilot_times.csv,
    pilot_pages.csv (with page timers), excluded.csv, thresholds.yaml (the thresholds used) and
    provenance.json into OUT; a DATA_FILE not in the codebook layout is ingested first, as by `analyze`
    (rows.csv, ingest_cells.csv, quality.html ... are written too). Every threshold, its default and its
    source: see the report's Thresholds table.
    """
    from analysis.pilot.pilot import pilot
    from analysis.pilot.report import write_pilot
    from analysis.pilot.thresholds import (
        PilotThresholds,
        load_thresholds,
        parse_settings,
        with_settings,
    )
    from instrument import load_instrument
    from smecore.files import check_output_dir
    from smesurvey.cli.analyze import one_line_warning, read_input

    mods = [m.strip().upper() for m in modules.split(",") if m.strip()] if modules else None
    th = load_thresholds(thresholds) if thresholds is not None else PilotThresholds()
    th = with_settings(th, parse_settings(settings), "--set")
    check_output_dir(out, command="smesurvey pilot", force=force)
    full = load_instrument()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data, ingested, paths, pages = read_input(data_file, out, full, format, key_file)
        result = pilot(data, instrument=full, modules=mods, thresholds=th, page_seconds=pages,
                       source=str(data_file))
        paths = write_pilot(result, out, data_file) + paths
    typer.echo(result.summary())
    if ingested is not None:
        typer.echo(f"ingested first ({ingested['format']}: {ingested['detected_by']}); data-quality report: "
                   f"{out / 'quality.html'}")
    typer.echo(f"report: {out / 'pilot.html'}")
    typer.echo(f"wrote {len(paths)} files into {out}")
    for text in dict.fromkeys(one_line_warning(w) for w in caught):
        err_console.print(text, markup=False, soft_wrap=True)

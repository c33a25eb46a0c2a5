"""``smesurvey ingest``: any supported response export -> the codebook layout, with row and cell logs."""

from __future__ import annotations

from pathlib import Path

import typer

from smesurvey.cli import app


@app.command("ingest")
def ingest_command(
    raw: Path = typer.Argument(..., help="Response export (Qualtrics, LimeSurvey, Kobo, REDCap, CSV, XLSX, SAV, DTA)."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    format: str = typer.Option("auto", "--format", help="auto|qualtrics|limesurvey|kobo|redcap|csv|xlsx|sav|dta"),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first problem instead of logging it."),
    key_file: Path = typer.Option(None, "--key-file", help="Key for the respondent pseudonyms (default: random, "
                                  "never stored)."),
    keep_identifiers: bool = typer.Option(False, "--keep-identifiers", help="Keep identifier columns and raw ids."),
    force: bool = typer.Option(False, "--force", help="Write into OUT even if it holds another command's outputs."),
) -> None:
    """Read RAW (never modified) into the codebook layout and report on its quality.

    Writes responses.csv, rows.csv (one line per data row read: kept or excluded, and why),
    cells.csv (every changed cell and why), provenance.json, pages.csv (seconds per respondent and
    page, when the export has page timers: LimeSurvey groupTime, Qualtrics <page>_timer), and the data-quality report
    quality.html (self-contained) and quality.md (screening, missing data, Little's MCAR test,
    item distributions, reliability before and after screening) into OUT.
    """
    from analysis.ingest.pipeline import ingest
    from analysis.report.quality import quality_report, write_quality
    from instrument import load_instrument
    from smecore.files import check_output_dir

    check_output_dir(out, command="smesurvey ingest", force=force)
    inst = load_instrument()
    res = ingest(raw, out, format=format, strict=strict, key=key_file, keep_identifiers=keep_identifiers,
                 instrument=inst)
    kept = int((res.rows["status"] == "kept").sum())
    typer.echo(f"{len(res.rows)} rows read ({res.provenance['format']}: {res.provenance['detected_by']}): "
               f"{kept} kept, {len(res.rows) - kept} excluded, {len(res.cell_log)} cells changed")
    report = quality_report(res, inst)
    paths = write_quality(report, out)
    typer.echo(f"screening of {report.screened_rows} kept rows: {report.screened_rows - report.screened_kept} would be excluded, "
               f"{report.screened_kept} kept; quality report: {paths[0]}")
    typer.echo(f"wrote {6 + (res.pages is not None)} files into {out}")

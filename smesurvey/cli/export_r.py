"""``smesurvey export-r``: every model as lavaan syntax, its data, our results and an R script."""

from __future__ import annotations

from pathlib import Path

import typer

from smesurvey.cli import app


@app.command("export-r")
def export_r_command(
    out: Path = typer.Option(..., "--out", help="Output folder."),
    data_file: Path = typer.Option(None, "--data", help="Responses laid out as the codebook "
                                   "(default: the reference theory-world data, N = 600)."),
    ordinal: bool = typer.Option(False, "--ordinal", help="The models of `smesurvey analyze --ordinal`: WLSMV with "
                                 "the items as ordinal (pairwise deletion); models with latent products on MLR."),
) -> None:
    """Write every model of the analysis, its data and an R script that fits them with lavaan.

    Each model (measurement and hypothesis models) as lavaan syntax with its data and our
    estimates, plus fit_lavaan.R, which fits them with lavaan and writes tables with the same
    column names (`lavaan/<model>_parameters.csv`, `lavaan/<model>_fit.csv`).
    """
    from analysis.ingest import read_responses
    from smecore.files import check_output_dir
    from smesurvey.export_r import export_r
    from synthetic_data.reference import REFERENCE_DIR, REFERENCE_SETS

    check_output_dir(out)

    path = data_file or REFERENCE_DIR / REFERENCE_SETS[0].filename
    written = export_r(read_responses(path), out, source=str(path), ordinal=ordinal)
    typer.echo(f"wrote {len(written)} files into {out}; run `Rscript fit_lavaan.R` there to fit them with lavaan")

"""``smesurvey fit``: fit any lavaan-syntax model to any CSV file."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import pandas as pd
import typer

from smecore.errors import DataError, SmeSurveyWarning
from smecore.jsonio import dumps
from smecore.provenance import package_versions
from smesurvey.cli import app, err_console


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV data file (never modified), turning failures into a DataError naming the file."""
    if not path.is_file():
        raise DataError(f"{path}: no such data file")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({exc}); save it as comma-separated UTF-8") from exc


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_json(path: Path, obj: dict) -> None:
    path.write_text(dumps(obj), encoding="utf-8")  # NaN (lavaan's NA) as null


@app.command("fit")
def fit_command(
    model_file: Path = typer.Argument(..., help="Model in lavaan syntax (a .lav text file)."),
    data_file: Path = typer.Argument(..., help="Data as CSV, one row per case, columns named as in the model."),
    out: Path = typer.Option(..., "--out", help="Output folder (created if missing)."),
    estimator: str = typer.Option("ML", "--estimator", help="ML or MLR (robust SEs, Yuan-Bentler scaled test)."),
    missing: str = typer.Option("listwise", "--missing", help="listwise or fiml (full-information ML)."),
    group: str = typer.Option(None, "--group", help="Column defining groups (multi-group model)."),
    cluster: str = typer.Option(None, "--cluster", help="Column with each case's cluster: cluster-robust SEs and "
                                "scaled test (lavaan cluster=; needs --estimator MLR)."),
    group_equal: str = typer.Option("", "--group-equal",
                                    help="Comma-separated parameter types held equal across groups, "
                                         "e.g. loadings,intercepts."),
    group_partial: list[str] = typer.Option([], "--group-partial",
                                            help="Parameters exempted from --group-equal, in lavaan syntax; "
                                                 "repeat the option or separate by commas, e.g. "
                                                 "--group-partial \"x3 ~ 1\" --group-partial \"visual =~ x2\"."),
    growth: bool = typer.Option(False, "--growth", help="lavaan growth() defaults: mean structure, observed "
                                "intercepts fixed to 0, latent means free."),
    std_lv: bool = typer.Option(False, "--std-lv", help="Scale latent variables by fixing their variances to 1."),
    modindices: bool = typer.Option(False, "--modindices", help="Also write modindices.csv."),
    bootstrap: int = typer.Option(0, "--bootstrap", help="Bootstrap resamples for percentile and "
                                  "bias-corrected CIs of every free and defined parameter (bootstrap.csv); 0 = none."),
    seed: int = typer.Option(1, "--seed", help="Seed of the bootstrap resampling."),
    jobs: int = typer.Option(-1, "--jobs", help="Parallel workers for the bootstrap (-1 = all cores)."),
    quiet: bool = typer.Option(False, "--quiet", help="Do not print the summary."),
) -> None:
    """Fit a lavaan-syntax MODEL_FILE to a CSV DATA_FILE (ML or MLR, FIML, groups, clusters).

    Writes parameters.csv (lavaan's parameterEstimates columns), fit.json (lavaan's
    fitMeasures names), excluded.csv (rows left out and why) and provenance.json
    (versions, options, input checksums) into OUT.
    """
    from analysis.sem.constants import PARAMETER_COLUMNS
    from analysis.sem.fit import fit

    if not model_file.is_file():
        raise DataError(f"{model_file}: no such model file")
    syntax = model_file.read_text(encoding="utf-8")
    data = read_csv(data_file)
    equal = [g.strip() for g in group_equal.split(",") if g.strip()]
    partial = [p.strip() for item in group_partial for p in item.split(",") if p.strip()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SmeSurveyWarning)
        result = fit(syntax, data, estimator=estimator.upper(), missing=missing.lower(), group=group,
                     group_equal=equal, group_partial=partial, std_lv=std_lv, source=str(data_file),
                     cluster=cluster, model_type="growth" if growth else "sem")
    # the package's warnings are shown once each as one line; any other warning as Python shows it
    messages = list(dict.fromkeys(
        [str(w.message) for w in caught if issubclass(w.category, SmeSurveyWarning)] + list(result.warnings)))
    for w in caught:
        if not issubclass(w.category, SmeSurveyWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    out.mkdir(parents=True, exist_ok=True)
    result.parameters[list(PARAMETER_COLUMNS)].to_csv(out / "parameters.csv", index=False)
    write_json(out / "fit.json", {k: float(v) for k, v in result.fit_measures.items()})
    result.excluded.to_csv(out / "excluded.csv", index=False)
    if modindices:
        result.modindices().to_csv(out / "modindices.csv", index=False)
    if bootstrap:
        from rich.progress import Progress

        from analysis.sem.bootstrap import bootstrap as run_bootstrap

        with Progress(console=err_console, transient=True) as bar:
            task = bar.add_task("bootstrap", total=bootstrap)
            boot = run_bootstrap(result, bootstrap, seed=seed, n_jobs=jobs,
                                 progress=lambda done, total: bar.update(task, completed=done))
        boot.table.to_csv(out / "bootstrap.csv", index=False)
        if boot.n_failed:
            err_console.print(f"warning: {boot.n_failed} of {bootstrap} bootstrap samples could not be "
                              "fitted and were left out", markup=False, soft_wrap=True)
    write_json(out / "provenance.json", {
        "command": "smesurvey fit",
        "model_file": str(model_file), "model_sha256": sha256(model_file),
        "data_file": str(data_file), "data_sha256": sha256(data_file),
        "options": {"estimator": result.options.estimator, "missing": result.options.missing,
                    "group": group, "group_equal": equal, "group_partial": partial, "std_lv": std_lv,
                    "model_type": result.options.model_type, "cluster": cluster,
                    "bootstrap": bootstrap, "seed": seed if bootstrap else None},
        "nobs": list(result.nobs), "excluded_rows": len(result.excluded),
        "versions": package_versions(),
    })
    if not quiet:
        typer.echo(result.summary())
    for message in messages:
        err_console.print(f"warning: {message}", markup=False, soft_wrap=True)
    typer.echo(f"wrote {out / 'parameters.csv'} and {out / 'fit.json'}")

"""``smesurvey fit``: fit any lavaan-syntax model to any CSV file."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import typer

from smecore.csvsafe import write_csv
from smecore.errors import DataError, OptionError, SmeSurveyWarning
from smecore.files import check_output_dir
from smecore.jsonio import dumps
from smecore.provenance import package_versions
from smesurvey.cli import app, err_console


def parse_codes(text: str | None, option: str = "--missing-codes") -> tuple[float, ...]:
    """``"-99,-9"`` -> ``(-99.0, -9.0)``; :class:`OptionError` naming a token that is not a number."""
    out = []
    for token in (text or "").split(","):
        token = token.strip()
        if not token:
            continue
        try:
            value = float(token)
        except ValueError:
            raise OptionError(f"{option}: '{token}' is not a number; give codes such as -99,-9") from None
        if not np.isfinite(value):
            raise OptionError(f"{option}: '{token}' is not a finite number")
        out.append(value)
    return tuple(dict.fromkeys(out))


ESTIMATORS = ("ML", "MLR", "WLSMV", "WLSM", "ULSMV", "DWLS", "ULS")
MISSING = ("listwise", "fiml", "pairwise")
PARAMETERIZATIONS = ("delta", "theta")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_json(path: Path, obj: dict) -> None:
    path.write_text(dumps(obj), encoding="utf-8")  # NaN (lavaan's NA) as null


REVERSE_RULE = "min + max - x on the item's scale, 8 - x on 1-7"


def reverse_keyed_items(data: pd.DataFrame, observed, reverse_score: bool | None
                        ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The questionnaire's reverse-keyed items among the model's observed variables that are columns of
    ``data``: reverse-scored when ``reverse_score``, named in a warning when it is ``None``.

    Returns (the data to fit, the items reverse-scored, warning messages)."""
    from instrument import load_instrument

    inst = load_instrument()
    keyed = inst.reverse_keyed([v for v in observed if v in data.columns])
    if reverse_score and keyed:
        return inst.reverse_scored(data, keyed), keyed, []
    if reverse_score:
        return data, [], ["--reverse-score: none of the model's variables is a reverse-keyed item of the "
                          "questionnaire; nothing was reverse-scored"]
    if reverse_score is None and keyed:
        return data, [], [f"the model uses {len(keyed)} reverse-keyed item(s) of the questionnaire as answered "
                          f"({', '.join(keyed)}): their loadings come out negative; pass --reverse-score to "
                          "reverse-score them on the way in, or --no-reverse-score if the data are already "
                          "reverse-scored"]
    return data, [], []


@app.command("fit")
def fit_command(
    model_file: Path = typer.Argument(..., help="Model in lavaan syntax (a .lav text file)."),
    data_file: Path = typer.Argument(..., help="Data as CSV, one row per case, columns named as in the model."),
    out: Path = typer.Option(..., "--out", help="Output folder (created if missing)."),
    estimator: str = typer.Option(None, "--estimator", help="ML or MLR (robust SEs, Yuan-Bentler scaled test); "
                                  "for ordinal items (--ordered) WLSMV (the default then), WLSM, ULSMV, DWLS or "
                                  "ULS. Default: ML, or WLSMV with --ordered."),
    missing: str = typer.Option("listwise", "--missing", help="listwise or fiml (full-information ML); with "
                                "--ordered listwise or pairwise."),
    ordered: str = typer.Option(None, "--ordered", help="Ordinal items (lavaan ordered=): 'all' (every observed "
                                "variable of the model) or COL1,COL2,...: thresholds and polychoric correlations, "
                                "fitted by WLSMV unless --estimator says otherwise."),
    parameterization: str = typer.Option("delta", "--parameterization", help="Of ordinal items: delta (latent "
                                         "responses with unit variance, lavaan's default) or theta (residual "
                                         "variances 1)."),
    missing_codes: str = typer.Option(None, "--missing-codes", help="Values meaning 'no answer', set missing "
                                      "and listed in cells.csv, e.g. --missing-codes=-99,-9 (the codebook's "
                                      "code is -99). Such codes far outside a column's values are refused "
                                      "unless given here."),
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
    reverse_score: bool | None = typer.Option(None, "--reverse-score/--no-reverse-score",
                                       help="--reverse-score: reverse-score the questionnaire's reverse-keyed "
                                       "items among the model's variables on the way in (x -> 8 - x on 1-7; "
                                       "numbers outside the scale, such as missing codes, left as they are), "
                                       "as `smesurvey instrument export --format lavaan` models expect; "
                                       "recorded in provenance.json. --no-reverse-score: the data are already "
                                       "reverse-scored. Without either, a model using reverse-keyed items "
                                       "gets a warning naming them (fitted as answered, their loadings come "
                                       "out negative)."),
    std_lv: bool = typer.Option(False, "--std-lv", help="Scale latent variables by fixing their variances to 1."),
    modindices: bool = typer.Option(False, "--modindices", help="Also write modindices.csv."),
    bootstrap: int = typer.Option(0, "--bootstrap", min=0, help="Bootstrap resamples for percentile and "
                                  "bias-corrected CIs of every free and defined parameter (bootstrap.csv); 0 = none."),
    seed: int = typer.Option(1, "--seed", min=0, help="Seed of the bootstrap resampling."),
    jobs: int = typer.Option(-1, "--jobs", min=-1, help="Threads for the bootstrap (-1 = the idle cores; joblib "
                             "workers, -1 = all cores, for models with fixed covariates)."),
    quiet: bool = typer.Option(False, "--quiet", help="Do not print the summary."),
    force: bool = typer.Option(False, "--force", help="Write into OUT even if it holds another command's outputs."),
) -> None:
    """Fit a lavaan-syntax MODEL_FILE to a CSV DATA_FILE (ML or MLR, FIML, groups, clusters; ordinal items
    with --ordered: thresholds, polychoric correlations, WLSMV).

    DATA_FILE may be CSV / TSV (any delimiter, decimal comma, UTF-8 / UTF-16 / Latin-1), XLSX, SAV or DTA;
    rows are numbered from 1 under the header in every message and log. Writes parameters.csv (lavaan's
    parameterEstimates columns), fit.json (lavaan's fitMeasures names), excluded.csv (rows left out and
    why), cells.csv (cells set missing: missing codes, NA markers, SPSS user-missing) and provenance.json
    (versions, options, input checksums) into OUT. Every option and the output folder are checked before
    any work, and nothing is written when the fit is refused.

    Reverse-keyed items of the questionnaire (in models from `smesurvey instrument export --format lavaan`)
    are fitted as they are in DATA_FILE: --reverse-score reverse-scores them on the way in (and
    provenance.json lists them); without it or --no-reverse-score, a warning names them.
    """
    from analysis.sem.constants import PARAMETER_COLUMNS
    from analysis.sem.data_file import read_data_file
    from analysis.sem.fit import fit

    if estimator is not None and estimator.upper() not in ESTIMATORS:
        raise OptionError(f"--estimator: '{estimator}' is not one of {', '.join(ESTIMATORS)}")
    if missing.lower() not in MISSING:
        raise OptionError(f"--missing: '{missing}' is not one of {', '.join(MISSING)}")
    if parameterization.lower() not in PARAMETERIZATIONS:
        raise OptionError(f"--parameterization: '{parameterization}' is not one of {', '.join(PARAMETERIZATIONS)}")
    ordered_cols = None
    if ordered is not None:
        ordered_cols = True if ordered.strip().lower() == "all" else [c.strip() for c in ordered.split(",")
                                                                       if c.strip()]
        if not ordered_cols:
            raise OptionError("--ordered: give 'all' or the ordinal columns, e.g. --ordered tk_1,tk_2")
    wls = estimator is not None and estimator.upper() in ESTIMATORS[2:]
    if ordered_cols is None and (wls or parameterization.lower() != "delta" or missing.lower() == "pairwise"):
        what = (f"--estimator {estimator.upper()}" if wls else "--parameterization" if
                parameterization.lower() != "delta" else "--missing pairwise")
        raise OptionError(f"{what} is for ordinal items: name them with --ordered all or --ordered COL1,COL2")
    if ordered_cols is not None and estimator is not None and not wls:
        raise OptionError(f"--ordered: ordinal items are fitted by WLSMV, WLSM, ULSMV, DWLS or ULS, not "
                          f"{estimator.upper()}; leave --estimator out (WLSMV) or drop --ordered")
    if ordered_cols is not None and missing.lower() == "fiml":
        raise OptionError("--missing fiml is not available with --ordered; use listwise or pairwise")
    if ordered_cols is not None and (modindices or bootstrap):
        raise OptionError(f"--{'modindices' if modindices else 'bootstrap'} is not available with --ordered "
                          "(ordinal WLSMV fits); leave it out")
    if jobs == 0:
        raise OptionError("--jobs: 0 workers; give -1 (all cores) or a positive number")
    codes = parse_codes(missing_codes)
    check_output_dir(out, command="smesurvey fit", force=force)
    if not model_file.is_file():
        raise DataError(f"{model_file}: no such model file" + (" (it is a folder)" if model_file.is_dir() else ""))
    try:
        syntax = model_file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{model_file}: is not a UTF-8 text file; save the model as plain text") from None
    from analysis.sem.syntax import classify_variables, parse_model

    parsed = parse_model(syntax)  # syntax errors before the data are read
    observed = classify_variables(parsed.statements).ov
    datafile = read_data_file(data_file, observed)
    data, reversed_items, reverse_messages = reverse_keyed_items(datafile.frame, observed, reverse_score)
    equal = [g.strip() for g in group_equal.split(",") if g.strip()]
    partial = [p.strip() for item in group_partial for p in item.split(",") if p.strip()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SmeSurveyWarning)
        result = fit(syntax, data, estimator=None if estimator is None else estimator.upper(),
                     missing=missing.lower(), group=group, group_equal=equal, group_partial=partial,
                     std_lv=std_lv, source=str(data_file), cluster=cluster,
                     model_type="growth" if growth else "sem", missing_codes=codes, ordered=ordered_cols,
                     parameterization=parameterization.lower())
    # the package's warnings are shown once each as one line; any other warning as Python shows it
    messages = list(dict.fromkeys(reverse_messages +
        [str(w.message) for w in caught if issubclass(w.category, SmeSurveyWarning)] + list(result.warnings)))
    for w in caught:
        if not issubclass(w.category, SmeSurveyWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(result.parameters[list(PARAMETER_COLUMNS)], out / "parameters.csv")
    write_json(out / "fit.json", {k: float(v) for k, v in result.fit_measures.items()})
    write_csv(result.excluded, out / "excluded.csv")
    cells = datafile.cells[datafile.cells["variable"].isin(result.partable.variables.ov)]
    if result.recoded is not None and len(result.recoded):
        cells = pd.concat([cells, result.recoded.assign(new="", reason="missing code (--missing-codes)")],
                          ignore_index=True)
    write_csv(cells, out / "cells.csv")
    if modindices:
        write_csv(result.modindices(), out / "modindices.csv")
    if bootstrap:
        from rich.progress import Progress

        from analysis.sem.bootstrap import bootstrap as run_bootstrap

        with Progress(console=err_console, transient=True) as bar:
            task = bar.add_task("bootstrap", total=bootstrap)
            boot = run_bootstrap(result, bootstrap, seed=seed, n_jobs=jobs,
                                 progress=lambda done, total: bar.update(task, completed=done))
        write_csv(boot.table, out / "bootstrap.csv")
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
                    "bootstrap": bootstrap, "seed": seed if bootstrap else None,
                    "missing_codes": list(codes), "reverse_score": reverse_score,
                    "ordered": list(result.options.ordered),
                    "parameterization": result.options.parameterization if result.options.ordered else None},
        "reverse_scored": {"items": reversed_items, "rule": REVERSE_RULE} if reversed_items else None,
        "data_read": datafile.details,
        "nobs": list(result.nobs), "excluded_rows": len(result.excluded), "cells_set_missing": len(cells),
        "versions": package_versions(),
    })
    if not quiet:
        typer.echo(result.summary())
    if reversed_items:
        typer.echo(f"reverse-scored {len(reversed_items)} reverse-keyed item(s) of the questionnaire "
                   f"({REVERSE_RULE}): {', '.join(reversed_items)}")
    for message in messages:
        err_console.print(f"warning: {message}", markup=False, soft_wrap=True)
    typer.echo(f"wrote {out / 'parameters.csv'} and {out / 'fit.json'}")

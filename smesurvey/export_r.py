"""A bridge for reviewers who use R: every model of the analysis as lavaan syntax, its data and an R script.

``export_r(data, out)`` screens and scores the responses exactly as
``smesurvey analyze`` does, then writes for each model (the measurement model
of every module and the structural model of every hypothesis):

* ``models/<key>.lav`` - the lavaan syntax;
* ``data/<key>.csv`` - the data that model is fitted to (reverse-scored items,
  derived variables, product indicators, the auxiliary variables of FIML);
* ``ours/<key>_parameters.csv`` and ``ours/<key>_fit.csv`` - our estimates
  (the columns of lavaan's ``parameterEstimates(standardized=TRUE, ci=TRUE)``)
  and fit measures (``measure,value``);
* ``models.csv`` - the list of models with their lavaan options (``auxiliary``:
  the missingness predictors added as saturated correlates, fitted in R with
  ``semTools::auxiliary()``; ``ordered``: the ordinal items of a WLSMV model);
* ``fit_lavaan.R`` - fits each model with lavaan (same options) and writes
  ``lavaan/<key>_parameters.csv`` and ``lavaan/<key>_fit.csv`` with the same
  column names, so the two can be compared line by line.

The models, their data and their options are the ones ``smesurvey analyze``
fits: both take them from :func:`analysis.propositions.models.model_specs`
(``ordinal=True``: those of ``smesurvey analyze --ordinal``, WLSMV with the items
as ordinal and pairwise deletion, the models with latent products on MLR).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.sem.constants import FIT_MEASURES, ROW_KEY
from smecore.files import write_text

R_SCRIPT = r"""# Fit every model of the smesurvey analysis with lavaan and write tables named as ours.
# Run from this folder:  Rscript fit_lavaan.R      (needs lavaan; semTools for models with auxiliaries)
suppressMessages(library(lavaan))
cat("lavaan", as.character(packageVersion("lavaan")), "\n")
models <- read.csv("models.csv", colClasses = "character", na.strings = character(0))
dir.create("lavaan", showWarnings = FALSE)
cols <- c("lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue", "ci.lower", "ci.upper",
          "std.lv", "std.all")
for (i in seq_len(nrow(models))) {
  m <- models[i, ]
  syntax <- paste(readLines(file.path("models", paste0(m$key, ".lav"))), collapse = "\n")
  d <- read.csv(file.path("data", paste0(m$key, ".csv")))
  args <- list(model = syntax, data = d, estimator = m$estimator, missing = m$missing,
               std.lv = as.logical(m$std_lv))
  if (nzchar(m$group)) { args$group <- m$group }
  if (nzchar(m$group_equal)) { args$group.equal <- strsplit(m$group_equal, ",")[[1]] }
  if (nzchar(m$cluster)) { args$cluster <- m$cluster }
  if (!is.null(m$ordered) && nzchar(m$ordered)) { args$ordered <- strsplit(m$ordered, ",")[[1]] }
  if (nzchar(m$auxiliary)) {
    # saturated correlates (Graham 2003) of the missingness predictors, as smesurvey fits them
    suppressMessages(library(semTools))
    fit <- do.call(semTools::auxiliary, c(list(aux = strsplit(m$auxiliary, ",")[[1]], fun = "sem"), args))
  } else {
    fit <- do.call("sem", args)
  }
  pe <- parameterEstimates(fit, standardized = TRUE, ci = TRUE)
  if (!"group" %in% names(pe)) pe$group <- 1L
  pe$group[pe$op == ":="] <- 0L
  for (cl in cols) if (!cl %in% names(pe)) pe[[cl]] <- NA
  write.csv(pe[, cols], file.path("lavaan", paste0(m$key, "_parameters.csv")), row.names = FALSE)
  fm <- fitMeasures(fit)
  write.csv(data.frame(measure = names(fm), value = as.numeric(fm)),
            file.path("lavaan", paste0(m$key, "_fit.csv")), row.names = FALSE)
  cat(sprintf("%-16s chisq %.3f  df %d\n", m$key, fm[["chisq"]], as.integer(fm[["df"]])))
}
"""

README = """Models of the smesurvey analysis, exported for lavaan.

  Rscript fit_lavaan.R

fits every model listed in models.csv with lavaan (MLR, missing = "ml", the
options in models.csv - with an `ordered` column, WLSMV with those items as
ordinal and missing = "pairwise"; models with auxiliary variables through
semTools::auxiliary()) and writes lavaan/<model>_parameters.csv and
lavaan/<model>_fit.csv. Our results for the same models and data are in
ours/ with the same columns (parameters: lhs, op, rhs, group, label, est, se,
z, pvalue, ci.lower, ci.upper, std.lv, std.all; defined parameters have
group 0), so each pair of files can be compared line by line (join on lhs,
op, rhs, group).
"""


#: compared besides :data:`FIT_MEASURES` (the indices of WLSMV fits lavaan reports first)
SCALED_INDICES = ("cfi.scaled", "tli.scaled", "rmsea.scaled")


def _key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")


def export_r(data: pd.DataFrame, out: str | Path, *, source: str = "data", ordinal: bool = False) -> list[Path]:
    """Write models, data, our results and the lavaan script into ``out`` (see the module docstring).

    ``data``: responses in the codebook layout; ``ordinal``: the models of ``analyze --ordinal``.
    Returns the paths written.
    """
    from analysis.propositions.hypotheses import load_registry
    from analysis.propositions.models import model_specs
    from analysis.propositions.pipeline import step12_prepare
    from instrument import load_instrument
    from smecore.errors import DataError

    out = Path(out)
    inst = load_instrument()
    present = [v.name for v in inst.variables(paradata=False) if v.name in data.columns]
    if not any(inst.variable(v).kind in ("likert", "matrix") for v in present):
        raise DataError(f"{source}: no questionnaire items found; columns must be named as the codebook")
    _, scored = step12_prepare(data, inst)
    written, manifest = [], []
    for spec in model_specs(scored, inst, load_registry(inst), ordinal=ordinal):
        key = _key(spec.key)
        written.append(write_text(out / "models" / f"{key}.lav", spec.syntax))
        path = out / "data" / f"{key}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        spec.data.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
        res = spec.fit()
        p = out / "ours" / f"{key}_parameters.csv"
        p.parent.mkdir(parents=True, exist_ok=True)
        res.parameters.to_csv(p, index=False, lineterminator="\n")
        f = out / "ours" / f"{key}_fit.csv"
        pd.DataFrame({"measure": list(res.fit_measures), "value": list(res.fit_measures.values())}).to_csv(
            f, index=False, lineterminator="\n")
        written += [p, f]
        manifest.append({"key": key, **spec.lavaan_options()})
    m = out / "models.csv"
    frame = pd.DataFrame(manifest)
    if "ordered" in frame:
        frame["ordered"] = frame["ordered"].fillna("")
    frame.to_csv(m, index=False, lineterminator="\n")
    written += [m, write_text(out / "fit_lavaan.R", R_SCRIPT), write_text(out / "README.txt", README)]
    return written


def compare_with_lavaan(folder: str | Path) -> pd.DataFrame:
    """After ``Rscript fit_lavaan.R``: per model, the largest differences between ours and lavaan's.

    Columns: ``model, parameters, est, se, std.all`` (max absolute differences over
    the joined parameter rows; ``se`` relative) and one column per fit measure
    (absolute difference; chi-squares relative; the scaled CFI / TLI / RMSEA too; NaN where
    both report NA, infinite where only one does).
    """
    folder = Path(folder)
    rows = []
    for m in pd.read_csv(folder / "models.csv", keep_default_na=False)["key"]:
        ours = pd.read_csv(folder / "ours" / f"{m}_parameters.csv", keep_default_na=False, na_values=[""])
        lav = pd.read_csv(folder / "lavaan" / f"{m}_parameters.csv", keep_default_na=False, na_values=["", "NA"])
        for frame in (ours, lav):
            frame["rhs"] = frame["rhs"].fillna("").astype(str)
        j = ours.merge(lav, on=list(ROW_KEY), suffixes=("", ".lavaan"))
        free = j["se.lavaan"] > 0
        row = {"model": m, "parameters": f"{len(j)}/{len(lav)}",
               "est": float((j["est"] - j["est.lavaan"]).abs().max()),
               "se": float(((j.loc[free, "se"] / j.loc[free, "se.lavaan"]) - 1).abs().max()),
               "std.all": float((j["std.all"] - j["std.all.lavaan"]).abs().max())}
        fo = pd.read_csv(folder / "ours" / f"{m}_fit.csv").set_index("measure")["value"]
        fl = pd.read_csv(folder / "lavaan" / f"{m}_fit.csv").set_index("measure")["value"]
        for k in (*FIT_MEASURES, *SCALED_INDICES):
            if k in fo.index and k in fl.index:
                a, b = float(fo[k]), float(fl[k])
                if np.isnan(a) or np.isnan(b):
                    row[k] = np.nan if np.isnan(a) and np.isnan(b) else np.inf
                    continue
                row[k] = abs(a - b) / max(1.0, abs(b)) if k.startswith("chisq") else abs(a - b)
        rows.append(row)
    return pd.DataFrame(rows)

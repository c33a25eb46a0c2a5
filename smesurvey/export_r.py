"""A bridge for reviewers who use R: every model of the analysis as lavaan syntax, its data and an R script.

``export_r(data, out)`` screens and scores the responses exactly as
``smesurvey analyze`` does, then writes for each model (the measurement model
of every module and the structural model of every hypothesis):

* ``models/<key>.lav`` - the lavaan syntax;
* ``data/<key>.csv`` - the data that model is fitted to (reverse-scored items,
  derived variables, product indicators);
* ``ours/<key>_parameters.csv`` and ``ours/<key>_fit.csv`` - our estimates
  (the columns of lavaan's ``parameterEstimates(standardized=TRUE, ci=TRUE)``)
  and fit measures (``measure,value``);
* ``models.csv`` - the list of models with their lavaan options;
* ``fit_lavaan.R`` - fits each model with lavaan (same options) and writes
  ``lavaan/<key>_parameters.csv`` and ``lavaan/<key>_fit.csv`` with the same
  column names, so the two can be compared line by line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from analysis.sem.constants import FIT_MEASURES, ROW_KEY
from smecore.files import write_text

R_SCRIPT = r"""# Fit every model of the smesurvey analysis with lavaan and write tables named as ours.
# Run from this folder:  Rscript fit_lavaan.R      (needs the lavaan package)
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
  fit <- do.call("sem", args)
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
options in models.csv) and writes lavaan/<model>_parameters.csv and
lavaan/<model>_fit.csv. Our results for the same models and data are in
ours/ with the same columns (parameters: lhs, op, rhs, group, label, est, se,
z, pvalue, ci.lower, ci.upper, std.lv, std.all; defined parameters have
group 0), so each pair of files can be compared line by line (join on lhs,
op, rhs, group).
"""


def _key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")


def export_r(data: pd.DataFrame, out: str | Path, *, source: str = "data") -> list[Path]:
    """Write models, data, our results and the lavaan script into ``out`` (see the module docstring)."""
    from analysis.propositions.hypotheses import load_registry
    from analysis.propositions.pipeline import build_model, numeric_frame, step12_prepare
    from analysis.sem.fit import fit
    from instrument import load_instrument
    from smecore.errors import DataError, SmeSurveyError

    out = Path(out)
    inst = load_instrument()
    present = [v.name for v in inst.variables(paradata=False) if v.name in data.columns]
    if not any(inst.variable(v).kind in ("likert", "matrix") for v in present):
        raise DataError(f"{source}: no questionnaire items found; columns must be named as the codebook")
    _, scored = step12_prepare(data, inst)
    jobs: list[tuple[str, str, pd.DataFrame, dict]] = []
    for mid in [m for m in scored.modules if m != "M0"]:
        items = [i for c in inst.constructs_in(mid) if c.id in scored.constructs for i in scored.constructs[c.id]]
        jobs.append((f"measurement_{mid}", inst.lavaan_syntax([mid]), numeric_frame(scored, items), {}))
    seen: dict[str, str] = {}
    for h in load_registry(inst).hypotheses:
        if any(c not in scored.constructs for c in h.spec.constructs):
            continue
        try:
            syntax, frame = build_model(h, scored, inst)
        except (SmeSurveyError, KeyError):
            continue
        if syntax in seen:
            continue
        seen[syntax] = h.id
        opts = {"std_lv": h.spec.std_lv, "group": h.spec.group or "", "group_equal": ",".join(h.spec.group_equal)}
        jobs.append((f"model_{h.id}", syntax, frame, opts))
    written, manifest = [], []
    for key, syntax, frame, opts in jobs:
        key = _key(key)
        written.append(write_text(out / "models" / f"{key}.lav", syntax))
        path = out / "data" / f"{key}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
        res = fit(syntax, frame, estimator="MLR", missing="fiml", std_lv=opts.get("std_lv", False),
                  group=opts.get("group") or None, group_equal=[g for g in opts.get("group_equal", "").split(",")
                                                                 if g], source=key)
        p = out / "ours" / f"{key}_parameters.csv"
        p.parent.mkdir(parents=True, exist_ok=True)
        res.parameters.to_csv(p, index=False, lineterminator="\n")
        f = out / "ours" / f"{key}_fit.csv"
        pd.DataFrame({"measure": list(res.fit_measures), "value": list(res.fit_measures.values())}).to_csv(
            f, index=False, lineterminator="\n")
        written += [p, f]
        manifest.append({"key": key, "estimator": "MLR", "missing": "ml", "std_lv": bool(opts.get("std_lv", False)),
                         "group": opts.get("group", ""), "group_equal": opts.get("group_equal", ""), "cluster": ""})
    m = out / "models.csv"
    pd.DataFrame(manifest).to_csv(m, index=False, lineterminator="\n")
    written += [m, write_text(out / "fit_lavaan.R", R_SCRIPT), write_text(out / "README.txt", README)]
    return written




def compare_with_lavaan(folder: str | Path) -> pd.DataFrame:
    """After ``Rscript fit_lavaan.R``: per model, the largest differences between ours and lavaan's.

    Columns: ``model, parameters, est, se, std.all`` (max absolute differences over
    the joined parameter rows; ``se`` relative) and one column per fit measure
    (absolute difference; chi-squares relative).
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
        for k in FIT_MEASURES:
            if k in fo.index and k in fl.index:
                a, b = float(fo[k]), float(fl[k])
                row[k] = abs(a - b) / max(1.0, abs(b)) if k.startswith("chisq") else abs(a - b)
        rows.append(row)
    return pd.DataFrame(rows)

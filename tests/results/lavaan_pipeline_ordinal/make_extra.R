# lavaan 0.6.14 output for the tests of `smesurvey analyze --ordinal` beyond fit_lavaan.R (issue 14):
# the chi-square difference tests of the hypotheses' equality constraints (lavTestLRT: Satorra 2000,
# scaled and shifted, for WLSMV), standardized solutions with standard errors (the Wald tests of
# standardized paths), and the latent covariance matrix of model H1.
#
#   smesurvey export-r --ordinal --out DIR && (cd DIR && Rscript fit_lavaan.R)
#   Rscript make_extra.R DIR          # run in this folder; writes into it
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) >= 1) args[1] else stop("usage: Rscript make_extra.R EXPORT_DIR")
models <- read.csv(file.path(dir, "models.csv"), colClasses = "character", na.strings = character(0))
fit_key <- function(key, extra = "") {
  m <- models[models$key == key, ]
  syntax <- paste(c(readLines(file.path(dir, "models", paste0(key, ".lav"))), extra), collapse = "\n")
  d <- read.csv(file.path(dir, "data", paste0(key, ".csv")))
  sem(syntax, data = d, estimator = m$estimator, missing = m$missing, std.lv = as.logical(m$std_lv),
      ordered = strsplit(m$ordered, ",")[[1]])
}
# 1. chi-square difference tests of the registry's lr_tests (H2-H4 on model H2, H8 on model H8)
lrt <- list(model_H2 = c("b_vn_tk == b_vn_ik", "b_vn_mk == b_vn_ik", "b_vg_ik == b_vn_ik", "b_gr_tk == b_gr_ik",
                         "b_gr_mk == b_gr_ik"),
            model_H8 = c("r_endo == r_exo"))
rows <- list()
for (key in names(lrt)) {
  free <- fit_key(key)
  for (con in lrt[[key]]) {
    t <- lavTestLRT(free, fit_key(key, con))
    rows[[length(rows) + 1]] <- data.frame(model = key, constraint = con, chisq.diff = t[2, "Chisq diff"],
                                           df.diff = t[2, "Df diff"], pvalue = t[2, "Pr(>Chisq)"],
                                           method = attr(t, "heading"))
  }
  # 2. standardized solution with delta-method standard errors
  ss <- standardizedSolution(free, type = "std.all")
  write.csv(ss[, c("lhs", "op", "rhs", "est.std", "se")], paste0(key, "_std.csv"), row.names = FALSE)
}
out <- do.call(rbind, rows)
out$method <- regmatches(out$method, regexpr("satorra[.a-z0-9]*|standard", out$method))  # lavaan's method name
write.csv(out, "lrt.csv", row.names = FALSE)
for (key in c("model_H1", "model_H6")) {
  f <- fit_key(key)
  ss <- standardizedSolution(f, type = "std.all")
  write.csv(ss[, c("lhs", "op", "rhs", "est.std", "se")], paste0(key, "_std.csv"), row.names = FALSE)
}
# 3. the latent covariance matrix of model H1 (lavInspect "cov.lv")
write.csv(lavInspect(fit_key("model_H1"), "cov.lv"), "model_H1_cov_lv.csv")
cat(R.version.string, "\nlavaan", as.character(packageVersion("lavaan")), "\n", file = "VERSIONS_extra.txt")

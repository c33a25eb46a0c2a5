# lavaan 0.6.14 on the cases of benchmarks/fit_speed.py, with the same models and options (issue 13).
#
#   python -m benchmarks.fit_speed --export /tmp/bench      # the data and models
#   Rscript benchmarks/lavaan_speed.R /tmp/bench [case ...]  # -> benchmarks/results/lavaan_speed.csv
#
# Not a requirement of the package or its tests (apt-get install -y r-cran-lavaan). Each case is
# timed once (elapsed seconds) under a time limit; a case that hits it is written as "timeout" with
# the limit. Cases: fiml16x4_ML, fiml16x4_MLR, instrument_MLR, hs_fit, bootstrap_1000.
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) >= 1) args[1] else stop("usage: Rscript lavaan_speed.R DIR [case ...]")
wanted <- if (length(args) >= 2) args[-1] else c("hs_fit", "bootstrap_1000", "fiml16x4_ML", "fiml16x4_MLR",
                                                  "instrument_MLR")
out_file <- file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(), value = TRUE))), "results",
                      "lavaan_speed.csv")
limits <- c(hs_fit = 60, bootstrap_1000 = 3600, fiml16x4_ML = 3600, fiml16x4_MLR = 3600, instrument_MLR = 7200)

model <- function(name) paste(readLines(file.path(dir, name)), collapse = "\n")
cases <- list(
  hs_fit = function() {
    m <- model("hs.lav")
    invisible(cfa(m, data = HolzingerSwineford1939))  # warm-up (loading, byte-compiling)
    n <- 20
    t <- system.time(for (i in seq_len(n)) fit <- cfa(m, data = HolzingerSwineford1939))[["elapsed"]] / n
    list(seconds = t, note = sprintf("chisq %.3f", fitMeasures(fit, "chisq")))
  },
  bootstrap_1000 = function() {
    m <- model("mediation.lav")
    set.seed(1)
    t <- system.time({
      fit <- sem(m, data = PoliticalDemocracy, se = "bootstrap", bootstrap = 1000)
      pe <- parameterEstimates(fit, boot.ci.type = "bca.simple")
    })[["elapsed"]]
    ind <- pe[pe$op == ":=", ]
    list(seconds = t, note = sprintf("indirect %.4f [%.4f, %.4f]", ind$est, ind$ci.lower, ind$ci.upper))
  },
  fiml16x4_ML = function() {
    d <- read.csv(file.path(dir, "fiml16x4.csv"))
    t <- system.time(fit <- cfa(model("fiml16x4.lav"), data = d, missing = "ml"))[["elapsed"]]
    list(seconds = t, note = sprintf("chisq %.3f", fitMeasures(fit, "chisq")))
  },
  fiml16x4_MLR = function() {
    d <- read.csv(file.path(dir, "fiml16x4.csv"))
    t <- system.time(fit <- cfa(model("fiml16x4.lav"), data = d, missing = "ml", estimator = "MLR"))[["elapsed"]]
    list(seconds = t, note = sprintf("chisq.scaled %.3f", fitMeasures(fit, "chisq.scaled")))
  },
  instrument_MLR = function() {
    d <- read.csv(file.path(dir, "instrument.csv"))
    t <- system.time(fit <- cfa(model("instrument.lav"), data = d, missing = "ml", estimator = "MLR"))[["elapsed"]]
    list(seconds = t, note = sprintf("chisq.scaled %.3f", fitMeasures(fit, "chisq.scaled")))
  }
)

results <- if (file.exists(out_file)) read.csv(out_file, stringsAsFactors = FALSE) else
  data.frame(case = character(), seconds = numeric(), status = character(), note = character())
for (name in wanted) {
  limit <- limits[[name]]
  cat(name, "... ")
  res <- tryCatch({
    setTimeLimit(elapsed = limit, transient = TRUE)
    r <- cases[[name]]()
    setTimeLimit(elapsed = Inf)
    data.frame(case = name, seconds = r$seconds, status = "ok", note = r$note)
  }, error = function(e) {
    setTimeLimit(elapsed = Inf)
    status <- if (grepl("time limit", conditionMessage(e))) "timeout" else "error"
    data.frame(case = name, seconds = limit, status = status, note = substr(conditionMessage(e), 1, 120))
  })
  cat(res$status, res$seconds, res$note, "\n")
  results <- rbind(results[results$case != name, ], res)
  dir.create(dirname(out_file), showWarnings = FALSE)
  write.csv(results, out_file, row.names = FALSE)
}
cat(R.version.string, "; lavaan", as.character(packageVersion("lavaan")), "\n")

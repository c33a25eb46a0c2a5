# lavaan 0.6.14 on the cases of benchmarks/wlsmv_speed.py, with the same models, data and options (issue 14).
#
#   python -m benchmarks.wlsmv_speed --export /tmp/wlsmv      # the data and models
#   Rscript benchmarks/wlsmv_speed.R /tmp/wlsmv [case ...]   # -> benchmarks/results/wlsmv_lavaan_speed.csv
#
# Not a requirement of the package or its tests. Each case is timed once (elapsed seconds, everything
# cfa() computes by default for ordered = TRUE, then fitMeasures()). Cases: ord16x4_WLSMV, instrument_WLSMV.
# The csv records the BLAS R used. The recorded runs used OpenBLAS 0.3.21 on one thread (as our fit core),
# without installing it system-wide (R's reference BLAS is ~5x slower here: 150 s for ord16x4):
#   apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb ob
#   R_LD_LIBRARY_PATH=$PWD/ob/usr/lib/x86_64-linux-gnu/openblas-pthread:/usr/lib/R/lib:/usr/lib/x86_64-linux-gnu \
#     OPENBLAS_NUM_THREADS=1 Rscript benchmarks/wlsmv_speed.R /tmp/wlsmv
suppressMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args) >= 1) args[1] else stop("usage: Rscript wlsmv_speed.R DIR [case ...]")
wanted <- if (length(args) >= 2) args[-1] else c("ord16x4_WLSMV", "instrument_WLSMV")
out_file <- file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(), value = TRUE))), "results",
                      "wlsmv_lavaan_speed.csv")
model <- function(name) paste(readLines(file.path(dir, name)), collapse = "\n")
cases <- list(
  ord16x4_WLSMV = function() {
    d <- read.csv(file.path(dir, "ord16x4.csv"))
    t <- system.time({fit <- cfa(model("ord16x4.lav"), data = d, ordered = TRUE); fm <- fitMeasures(fit)})
    list(seconds = t[["elapsed"]], note = sprintf("chisq.scaled %.3f", fm[["chisq.scaled"]]))
  },
  instrument_WLSMV = function() {
    d <- read.csv(file.path(dir, "instrument.csv"))
    t <- system.time({fit <- cfa(model("instrument.lav"), data = d, ordered = TRUE, missing = "pairwise")
                      fm <- fitMeasures(fit)})
    list(seconds = t[["elapsed"]], note = sprintf("chisq.scaled %.3f", fm[["chisq.scaled"]]))
  }
)
blas <- tryCatch(sessionInfo()$BLAS, error = function(e) "")
rows <- list()
for (case in wanted) {
  r <- cases[[case]]()
  cat(case, r$seconds, "s", r$note, "\n")
  rows[[case]] <- data.frame(case = case, seconds = r$seconds, status = "ok", note = r$note,
                             lavaan = as.character(packageVersion("lavaan")), blas = blas)
}
old <- if (file.exists(out_file)) read.csv(out_file) else NULL
new <- do.call(rbind, rows)
if (!is.null(old)) new <- rbind(old[!old$case %in% new$case, ], new)
write.csv(new, out_file, row.names = FALSE)

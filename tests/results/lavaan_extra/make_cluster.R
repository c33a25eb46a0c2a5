# Cluster-robust (lavaan cluster=) single-level fits, lavaan 0.6.14 (run: Rscript make_cluster.R).
# Data: lavaan's Demo.twolevel (200 clusters), plus a copy with values deleted by a fixed rule.
suppressMessages(library(lavaan))
out <- function(fit, name) {
  pe <- parameterEstimates(fit, standardized=TRUE, ci=TRUE)
  write.csv(pe, paste0(name, "_parameters.csv"), row.names=FALSE)
  fm <- fitMeasures(fit)
  write.csv(data.frame(measure=names(fm), value=as.numeric(fm)), paste0(name, "_fit.csv"), row.names=FALSE)
}
d <- Demo.twolevel[, c("y1", "y2", "y3", "y4", "y5", "y6", "x1", "cluster")]
write.csv(d, "demo_twolevel.csv", row.names=FALSE)
dm <- d
i <- seq_len(nrow(dm))
dm$y1[i %% 7 == 0] <- NA
dm$y4[i %% 11 == 3] <- NA
dm$y6[i %% 13 == 5] <- NA
write.csv(dm, "demo_twolevel_missing.csv", row.names=FALSE)
model <- ' f1 =~ y1 + y2 + y3
           f2 =~ y4 + y5 + y6
           f2 ~ f1 + x1 '
out(sem(model, data=d, estimator="MLR", cluster="cluster"), "twolevel_cluster_MLR")
out(sem(model, data=dm, estimator="MLR", cluster="cluster", missing="ml"), "twolevel_cluster_FIML_MLR")

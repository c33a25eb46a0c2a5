# Auxiliary variables for FIML (Graham's saturated correlates), semTools 0.5-6 auxiliary() on
# lavaan 0.6.14 (run: Rscript make_auxiliary.R). semTools fits the model with fixed.x = FALSE,
# the auxiliaries correlated with each other and with every observed model variable, and stores
# an independence model with the auxiliaries saturated as the baseline of CFI/TLI.
# Data: lavaan's HolzingerSwineford1939 with values deleted at random given age and sex (MAR,
# fixed seed, below), and psych's bfi (its own missing values; age and education as auxiliaries).
suppressMessages({library(lavaan); library(semTools); library(psych)})
out <- function(fit, name) {
  pe <- parameterEstimates(fit, standardized=TRUE, ci=TRUE)
  write.csv(pe, paste0(name, "_parameters.csv"), row.names=FALSE)
  fm <- fitMeasures(fit)  # uses fit@external$baseline.model for the baseline (CFI, TLI, ...)
  write.csv(data.frame(measure=names(fm), value=as.numeric(fm)), paste0(name, "_fit.csv"), row.names=FALSE)
}
hs <- read.csv("../lavaan/HolzingerSwineford1939.csv")
set.seed(20240611)
d <- hs
z <- as.numeric(scale(d$ageyr + d$agemo / 12))
d$x2[runif(nrow(d)) < plogis(-1.8 + 1.0 * z)] <- NA
d$x5[runif(nrow(d)) < plogis(-1.5 + 1.2 * z)] <- NA
d$x6[runif(nrow(d)) < plogis(-2.0 + 0.8 * (d$sex == 2))] <- NA
d$x9[runif(nrow(d)) < plogis(-1.5 - 1.0 * z + 0.6 * (d$sex == 2))] <- NA
write.csv(d, "HolzingerSwineford1939_mar_age.csv", row.names=FALSE)
hsmodel <- ' visual =~ x1 + x2 + x3
             textual =~ x4 + x5 + x6
             speed =~ x7 + x8 + x9 '
out(cfa.auxiliary(hsmodel, data=d, aux="ageyr"), "hsmar_aux_ML")
out(cfa.auxiliary(hsmodel, data=d, aux="ageyr", estimator="MLR"), "hsmar_aux_MLR")
# two auxiliaries, one with a missing value (grade), and an exogenous covariate (sex; random under fixed.x = FALSE)
mimic <- ' visual =~ x1 + x2 + x3
           textual =~ x4 + x5 + x6
           visual ~ sex '
out(sem.auxiliary(mimic, data=d, aux=c("ageyr", "grade"), estimator="MLR"), "hsmar_mimic_aux2_MLR")
# multiple groups with equal loadings: the saturated correlates are free in every group
out(cfa.auxiliary(hsmodel, data=d, aux="ageyr", group="school", group.equal="loadings"), "hsmar_group_aux_ML")
b <- bfi[, c("A1", "A2", "A3", "A4", "A5", "C1", "C2", "C3", "C4", "C5", "age", "education")]
write.csv(b, "bfi_ac.csv", row.names=FALSE)
bfimodel <- ' agree =~ A1 + A2 + A3 + A4 + A5
              consc =~ C1 + C2 + C3 + C4 + C5 '
out(cfa.auxiliary(bfimodel, data=b, aux=c("age", "education"), estimator="MLR"), "bfi_aux_MLR")
cat(R.version.string, "\nlavaan", as.character(packageVersion("lavaan")), "\nsemTools",
    as.character(packageVersion("semTools")), "\npsych", as.character(packageVersion("psych")), "\n",
    file="VERSIONS_auxiliary.txt")

# lavaan 0.6.14 reference output for the full fitMeasures() set (gfi, rmr/srmr/crmr variants,
# cn, mfi, ecvi, the scaled and robust indices) in cases the other scripts lack: multi-group
# FIML (with MLR, and with covariates) and an MLR model on raw-scale data (run: Rscript make_fitmeasures.R).
# Data sets are lavaan's own (written by ../lavaan/make_reference.R).
suppressMessages(library(lavaan))
out <- function(fit, name) {
  pe <- parameterEstimates(fit, standardized=TRUE, ci=TRUE)
  write.csv(pe, paste0(name, "_parameters.csv"), row.names=FALSE)
  fm <- fitMeasures(fit)
  write.csv(data.frame(measure=names(fm), value=as.numeric(fm)), paste0(name, "_fit.csv"), row.names=FALSE)
}
hsm <- read.csv("../lavaan/HolzingerSwineford1939_missing10.csv")
pd <- read.csv("../lavaan/PoliticalDemocracy.csv")
hsmodel <- ' visual =~ x1 + x2 + x3
             textual =~ x4 + x5 + x6
             speed =~ x7 + x8 + x9 '
out(cfa(hsmodel, data=hsm, group="school", missing="ml", estimator="MLR"), "hsmissing_group_FIML_MLR")
mimicm <- ' visual =~ x1 + x2 + x3
            textual =~ x4 + x5 + x6
            visual ~ sex + ageyr '
out(sem(mimicm, data=hsm, group="school", missing="ml"), "hsmissing_mimic_group_FIML")
poldem <- ' ind60 =~ x1 + x2 + x3
            dem60 =~ y1 + a*y2 + b*y3 + c*y4
            dem65 =~ y5 + a*y6 + b*y7 + c*y8
            dem60 ~ ind60
            dem65 ~ ind60 + dem60
            y1 ~~ y5
            y2 ~~ y4 + y6
            y3 ~~ y7
            y4 ~~ y8
            y6 ~~ y8 '
out(sem(poldem, data=pd, estimator="MLR"), "poldem_sem_MLR")

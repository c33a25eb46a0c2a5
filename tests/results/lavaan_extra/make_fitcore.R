# lavaan 0.6.14 reference output for the fitting-core fixes (run: Rscript make_fitcore.R):
# partial invariance written with spaces, MLR scaling factors with equality constraints,
# growth() defaults, and the full modindices() sets of a multi-group, a growth and a MIMIC model.
# Data sets are lavaan's own (HolzingerSwineford1939, PoliticalDemocracy, Demo.growth).
suppressMessages(library(lavaan))
out <- function(fit, name) {
  pe <- parameterEstimates(fit, standardized=TRUE, ci=TRUE)
  write.csv(pe, paste0(name, "_parameters.csv"), row.names=FALSE)
  fm <- fitMeasures(fit)
  write.csv(data.frame(measure=names(fm), value=as.numeric(fm)), paste0(name, "_fit.csv"), row.names=FALSE)
}
# modindices() with its defaults (free.remove=TRUE, na.remove=TRUE, sort.=FALSE): every row it returns
out_mi <- function(fit, name) {
  write.csv(modindices(fit), paste0(name, "_modindices.csv"), row.names=FALSE)
}
hs <- read.csv("../lavaan/HolzingerSwineford1939.csv")
pd <- read.csv("../lavaan/PoliticalDemocracy.csv")
write.csv(Demo.growth, "demo_growth.csv", row.names=FALSE)
dg <- read.csv("demo_growth.csv")

hsmodel <- ' visual =~ x1 + x2 + x3
             textual =~ x4 + x5 + x6
             speed =~ x7 + x8 + x9 '
# 9. partial scalar invariance, the terms written with spaces (as lavaan's documentation does)
out(cfa(hsmodel, data=hs, group="school", group.equal=c("loadings", "intercepts"),
        group.partial=c("x3 ~ 1", "x7 ~ 1")), "hs_partial_ML")
out(cfa(hsmodel, data=hs, group="school", group.equal=c("loadings", "intercepts"),
        group.partial=c("x3 ~ 1", "x7 ~ 1", "visual =~ x2"), estimator="MLR"), "hs_partial_MLR")

# 10. MLR with equality constraints (labels a, b, c shared by two loadings each)
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
out(sem(poldem, data=pd, estimator="MLR"), "poldem_labels_MLR")
eqc <- ' visual =~ x1 + v2*x2 + v3*x3
         textual =~ x4 + x5 + x6
         v2 == v3 '
out(cfa(eqc, data=hs, estimator="MLR"), "hs_equality_MLR")

# 14. growth() defaults: meanstructure, observed intercepts fixed to 0, latent means free
linear <- ' i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
            s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4 '
out(growth(linear, data=dg), "growth_linear_ML")
out(growth(linear, data=dg, estimator="MLR"), "growth_linear_MLR")
growthcov <- ' i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4
               s =~ 0*t1 + 1*t2 + 2*t3 + 3*t4
               i ~ x1 + x2
               s ~ x1 + x2 '
gcov <- growth(growthcov, data=dg)
out(gcov, "growth_cov_ML")
out(growth(growthcov, data=dg, estimator="MLR"), "growth_cov_MLR")

# 11. modification indices: the whole set lavaan returns
metric <- cfa(hsmodel, data=hs, group="school", group.equal="loadings")
out_mi(metric, "hs_metric_ML")
out_mi(growth(linear, data=dg), "growth_linear_ML")
out_mi(gcov, "growth_cov_ML")
mimic <- ' visual =~ x1 + x2 + x3
           textual =~ x4 + x5 + x6
           visual ~ sex + ageyr
           textual ~ ageyr '
out_mi(sem(mimic, data=hs), "hs_mimic_ML")
out_mi(cfa(hsmodel, data=hs), "hs1939_cfa_ML")

# 13. rows lavaan drops (with a warning) for a missing group or fixed.x covariate under missing = "ml"
hsx <- read.csv("../lavaan/HolzingerSwineford1939_missing10.csv")
hsx$school[1:3] <- NA
hsx$ageyr[5:9] <- NA
write.csv(hsx, "hsmissing_exo_na.csv", row.names=FALSE)
mimicx <- ' visual =~ x1 + x2 + x3
            textual =~ x4 + x5 + x6
            visual ~ sex + ageyr '
nobs_x <- c(nobs(sem(mimicx, data=hsx, missing="ml")),
            sum(lavInspect(sem(mimicx, data=hsx, missing="ml", group="school"), "nobs")))
write.csv(data.frame(case=c("fiml", "fiml_group_school"), nobs=nobs_x), "hsmissing_exo_na_nobs.csv",
          row.names=FALSE)

cat(R.version.string, "\nlavaan", as.character(packageVersion("lavaan")), "\n", file="VERSIONS_fitcore.txt")

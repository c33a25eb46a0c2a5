# Extra lavaan 0.6.14 reference output for features beyond ../lavaan (run: Rscript make_extra.R).
# Data sets are lavaan's own (written by ../lavaan/make_reference.R).
suppressMessages(library(lavaan))
out <- function(fit, name) {
  pe <- parameterEstimates(fit, standardized=TRUE, ci=TRUE)
  write.csv(pe, paste0(name, "_parameters.csv"), row.names=FALSE)
  fm <- fitMeasures(fit)
  write.csv(data.frame(measure=names(fm), value=as.numeric(fm)), paste0(name, "_fit.csv"), row.names=FALSE)
}
hs <- read.csv("../lavaan/HolzingerSwineford1939.csv")
hsm <- read.csv("../lavaan/HolzingerSwineford1939_missing10.csv")
pd <- read.csv("../lavaan/PoliticalDemocracy.csv")
mimic <- ' visual =~ x1 + x2 + x3
           textual =~ x4 + x5 + x6
           visual ~ sex + ageyr
           textual ~ ageyr '
out(sem(mimic, data=hs), "hs_mimic_ML")
out(sem(mimic, data=hs, estimator="MLR"), "hs_mimic_MLR")
second <- ' visual =~ x1 + x2 + x3
            textual =~ x4 + x5 + x6
            speed =~ x7 + x8 + x9
            g =~ visual + textual + speed '
out(cfa(second, data=hs), "hs_secondorder_ML")
hsmodel <- ' visual =~ x1 + x2 + x3
             textual =~ x4 + x5 + x6
             speed =~ x7 + x8 + x9 '
out(cfa(hsmodel, data=hs, std.lv=TRUE), "hs_stdlv_ML")
out(cfa(hsmodel, data=hs, group="school", estimator="MLR"), "hs_group_MLR")
out(cfa(hsmodel, data=hs, group="school", group.equal=c("loadings","intercepts","residuals")), "hs_group_strict_ML")
path <- ' y2 ~ a*y1
          y3 ~ b*y2 + c*y1
          ind := a*b
          tot := c + a*b '
out(sem(path, data=pd), "poldem_path_ML")
out(sem(path, data=pd, estimator="MLR"), "poldem_path_MLR")
eqc <- ' visual =~ x1 + v2*x2 + v3*x3
         textual =~ x4 + x5 + x6
         v2 == v3 '
out(cfa(eqc, data=hs), "hs_equality_ML")
mimicm <- ' visual =~ x1 + x2 + x3
            textual =~ x4 + x5 + x6
            visual ~ sex + ageyr '
out(sem(mimicm, data=hsm, missing="ml"), "hsmissing_mimic_FIML")
cat(R.version.string, "\nlavaan", as.character(packageVersion("lavaan")), "\n", file="VERSIONS.txt")
# complete data with missing = "ml" (FIML on data that happen to have no holes)
out(cfa(hsmodel, data=hs, missing="ml", estimator="MLR"), "hs_complete_FIML_MLR")
# four groups (synthetic TK / IK items by country; written by the test suite's generator): group.equal
# must constrain every group to the first, not only the second
fg <- read.csv("fourgroup_tk_ik.csv")
fgm <- ' TK =~ tk_1 + tk_2 + tk_3 + tk_4
         IK =~ ik_1 + ik_2 + ik_3 + ik_4 '
out(cfa(fgm, data=fg, group="firm_country", group.equal=c("loadings", "intercepts")), "fourgroup_scalar_ML")

# lavaan 0.6.14 reference output for ordinal items (WLSMV and the WLS family), issue 14.
# Rscript make_data.R && Rscript make_ordinal.R   (data first; both write into this folder)
suppressMessages({library(lavaan); library(semTools)})
out <- function(fit, name) {
  pe <- parameterEstimates(fit, standardized = TRUE, ci = TRUE)
  write.csv(pe, paste0(name, "_parameters.csv"), row.names = FALSE)
  fm <- fitMeasures(fit)
  write.csv(data.frame(measure = names(fm), value = as.numeric(fm)), paste0(name, "_fit.csv"), row.names = FALSE)
  # the adjusted test's pieces (fitMeasures() has no shift parameter)
  tst <- lavInspect(fit, "test")
  if (length(tst) > 1) {
    s <- tst[[2]]
    keep <- c("stat", "df", "pvalue", "scaling.factor", "shift.parameter", "trace.UGamma", "trace.UGamma2")
    keep <- keep[keep %in% names(s)]
    write.csv(data.frame(measure = keep, value = as.numeric(unlist(s[keep]))), paste0(name, "_test.csv"),
              row.names = FALSE)
  }
}
three <- ' F1 =~ o1 + o2 + o3 + o4
           F2 =~ o5 + o6 + o7 + o8
           F3 =~ o9 + o10 + o11 + o12 '
od <- read.csv("../lavaan/ordinal_3f.csv")
# 1. the shared 3-factor data with every estimator of the family, and the theta parameterization
out(cfa(three, data = od, ordered = TRUE, estimator = "WLSM"), "ordinal_3f_cfa_WLSM")
out(cfa(three, data = od, ordered = TRUE, estimator = "ULSMV"), "ordinal_3f_cfa_ULSMV")
out(cfa(three, data = od, ordered = TRUE, estimator = "DWLS"), "ordinal_3f_cfa_DWLS")
out(cfa(three, data = od, ordered = TRUE, estimator = "ULS"), "ordinal_3f_cfa_ULS")
out(cfa(three, data = od, ordered = TRUE, parameterization = "theta"), "ordinal_3f_cfa_theta_WLSMV")
# 2. pairwise missing data (10% MCAR per item)
om <- read.csv("ordinal_3f_missing10.csv")
out(cfa(three, data = om, ordered = TRUE, missing = "pairwise"), "ordinal_3f_pairwise_WLSMV")
# 3. SEM with regressions and defined indirect / total effects, 5 categories; delta and theta
sem_model <- ' X =~ x1 + x2 + x3 + x4
               M =~ m1 + m2 + m3 + m4
               Y =~ y1 + y2 + y3 + y4
               M ~ a*X
               Y ~ b*M + c*X
               ind := a*b
               total := c + a*b '
os <- read.csv("ord_sem.csv")
out(sem(sem_model, data = os, ordered = TRUE), "ord_sem_WLSMV")
out(sem(sem_model, data = os, ordered = TRUE, parameterization = "theta"), "ord_sem_theta_WLSMV")
# 4. two groups with equal thresholds and loadings (and the configural model); delta and theta
two <- ' F1 =~ u1 + u2 + u3 + u4
         F2 =~ u5 + u6 + u7 + u8 '
tg <- read.csv("ord_twogroup.csv")
out(cfa(two, data = tg, ordered = TRUE, group = "country"), "ord_twogroup_configural_WLSMV")
out(cfa(two, data = tg, ordered = TRUE, group = "country", group.equal = c("thresholds", "loadings")),
    "ord_twogroup_equal_WLSMV")
out(cfa(two, data = tg, ordered = TRUE, group = "country", group.equal = c("thresholds", "loadings"),
        parameterization = "theta"), "ord_twogroup_equal_theta_WLSMV")
# 5. mixed ordinal and continuous indicators
mixed <- ' F1 =~ o1 + o2 + o3 + c1
           F2 =~ o4 + o5 + c2 + c3 '
mx <- read.csv("ord_mixed.csv")
out(cfa(mixed, data = mx, ordered = c("o1", "o2", "o3", "o4", "o5")), "ord_mixed_WLSMV")
# 6. 7-category Likert items, 4 factors x 5 items
seven <- ' A =~ a1 + a2 + a3 + a4 + a5
           B =~ b1 + b2 + b3 + b4 + b5
           C =~ c1 + c2 + c3 + c4 + c5
           D =~ d1 + d2 + d3 + d4 + d5 '
o7 <- read.csv("ord7.csv")
f7 <- cfa(seven, data = o7, ordered = TRUE)
out(f7, "ord7_WLSMV")
# 7. reliability of ordinal items: ordinal alpha and categorical omega (semTools 0.5-6 reliability())
r7 <- semTools::reliability(f7)
write.csv(as.data.frame(r7), "ord7_reliability_semTools.csv")
r3 <- semTools::reliability(cfa(three, data = od, ordered = TRUE))
write.csv(as.data.frame(r3), "ordinal_3f_reliability_semTools.csv")
cat(R.version.string, "\nlavaan", as.character(packageVersion("lavaan")), "\nsemTools",
    as.character(packageVersion("semTools")), "\n", file = "VERSIONS.txt")
# 8. mixed indicators with pairwise missing data; its sample statistics (WLS.obs) and NACOV (Gamma)
mm <- read.csv("ord_mixed_missing10.csv")
fmm <- cfa(mixed, data = mm, ordered = c("o1", "o2", "o3", "o4", "o5"), missing = "pairwise")
out(fmm, "ord_mixed_pairwise_WLSMV")
write.csv(data.frame(wls.obs = lavInspect(fmm, "wls.obs")), "ord_mixed_pairwise_wls_obs.csv", row.names = FALSE)
write.csv(unname(lavInspect(fmm, "gamma")), "ord_mixed_pairwise_gamma.csv", row.names = FALSE)
cat(R.version.string, "\nlavaan", as.character(packageVersion("lavaan")), "\nsemTools",
    as.character(packageVersion("semTools")), "\n", file = "VERSIONS.txt")
# 9. measurement invariance of ordinal items, thresholds first (semTools measEq.syntax, Wu & Estabrook 2016):
#    configural, thresholds, thresholds + loadings, + intercepts; each compared with the level before
#    by lavTestLRT (lavaan's default for WLSMV: Satorra 2000, scaled and shifted)
levels <- list(configural = "", thresholds = "thresholds", metric = c("thresholds", "loadings"),
               scalar = c("thresholds", "loadings", "intercepts"))
inv <- list()
fits <- list()
for (lv in names(levels)) {
  syn <- measEq.syntax(configural.model = two, data = tg, ordered = paste0("u", 1:8), parameterization = "delta",
                       ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group = "country",
                       group.equal = levels[[lv]])
  txt <- as.character(syn)
  writeLines(txt, paste0("ord_twogroup_invariance_", lv, ".lav"))
  f <- cfa(txt, data = tg, group = "country", ordered = paste0("u", 1:8))
  fits[[lv]] <- f
  fm <- fitMeasures(f, c("npar", "chisq", "df", "chisq.scaled", "pvalue.scaled", "cfi.scaled", "tli.scaled",
                         "rmsea.scaled", "cfi.robust", "rmsea.robust", "srmr"))
  inv[[lv]] <- data.frame(level = lv, as.list(setNames(as.numeric(fm), names(fm))), check.names = FALSE)
}
inv <- do.call(rbind, inv)
inv$delta.chisq <- NA; inv$delta.df <- NA; inv$delta.pvalue <- NA
for (k in 2:length(fits)) {
  lrt <- lavTestLRT(fits[[k - 1]], fits[[k]])
  inv$delta.chisq[k] <- lrt[2, "Chisq diff"]
  inv$delta.df[k] <- lrt[2, "Df diff"]
  inv$delta.pvalue[k] <- lrt[2, "Pr(>Chisq)"]
}
write.csv(inv, "ord_twogroup_invariance.csv", row.names = FALSE)

# Reference output for item statistics, EFA, reliability (also of second-order models) and common-method
# checks (R 4.2, psych 2.2.9, psychTools 2.2.9, lavaan 0.6.14, semTools 0.5-6, base stats). Run: Rscript make_psychometrics.R
suppressMessages(library(psych))
hs <- read.csv("../lavaan/HolzingerSwineford1939.csv")
a <- psych::alpha(hs[, c("x4", "x5", "x6")])
write.csv(data.frame(item = rownames(a$item.stats), r.drop = a$item.stats$r.drop,
                     alpha.if.deleted = a$alpha.drop$raw_alpha), "hs_textual_itemstats_psych.csv", row.names = FALSE)
f <- factanal(hs[, paste0("x", 1:9)], 3, rotation = "varimax")
write.csv(data.frame(item = paste0("x", 1:9), unclass(f$loadings), uniqueness = f$uniquenesses),
          "hs_factanal_varimax.csv", row.names = FALSE)

# ---- reliability of second-order models (semTools 0.5-6, lavaan 0.6.14) ----
# semTools::reliability() takes each first-order factor's variance from the model-implied
# latent covariance (lavInspect(fit, "cov.lv")), not from its disturbance variance;
# reliabilityL2() gives the reliability of the second-order factor.
suppressMessages(library(lavaan))
suppressMessages(library(semTools))
relcsv <- function(fit, second, name) {
  write.csv(as.data.frame(semTools::reliability(fit)), paste0(name, "_reliability_semTools.csv"))
  l2 <- semTools::reliabilityL2(fit, second)
  write.csv(data.frame(measure = names(l2), value = as.numeric(l2)), paste0(name, "_reliabilityL2_semTools.csv"),
            row.names = FALSE)
}
hs_second <- ' visual =~ x1 + x2 + x3
               textual =~ x4 + x5 + x6
               speed =~ x7 + x8 + x9
               g =~ visual + textual + speed '
relcsv(cfa(hs_second, data = hs), "g", "hs_secondorder")
# Holzinger & Swineford's 24 tests (psychTools::holzinger.swineford), 4 first-order factors and g:
# over-identified at the second level (3 factors would be just-identified)
h24 <- as.data.frame(lapply(psychTools::holzinger.swineford[, 8:26], as.numeric))  # t01_visperc ... t19_figword
names(h24) <- sprintf("t%02d", 1:19)
write.csv(h24, "hs24.csv", row.names = FALSE)
h24_second <- ' spatial =~ t01 + t02 + t03 + t04
                verbal =~ t05 + t06 + t07 + t08 + t09
                speed =~ t10 + t11 + t12 + t13
                memory =~ t14 + t15 + t16 + t17 + t18 + t19
                g =~ spatial + verbal + speed + memory '
f24 <- cfa(h24_second, data = h24)
write.csv(parameterEstimates(f24, standardized = TRUE), "hs24_secondorder_ML_parameters.csv", row.names = FALSE)
relcsv(f24, "g", "hs24_secondorder")

# the same rule where a factor is regressed on other factors (Bollen's political democracy model, which
# also has residual covariances within a factor); semTools 0.5-6 fails on MIMIC models (fixed.x covariates)
pdem <- read.csv("../lavaan/PoliticalDemocracy.csv")
write.csv(as.data.frame(semTools::reliability(sem(' ind60 =~ x1 + x2 + x3
                                                   dem60 =~ y1 + a*y2 + b*y3 + c*y4
                                                   dem65 =~ y5 + a*y6 + b*y7 + c*y8
                                                   dem60 ~ ind60
                                                   dem65 ~ ind60 + dem60
                                                   y1 ~~ y5
                                                   y2 ~~ y4 + y6
                                                   y3 ~~ y7
                                                   y4 ~~ y8
                                                   y6 ~~ y8 ', data = pdem))),
          "poldem_sem_reliability_semTools.csv")

# ---- composite reliability (Joreskog) and AVE (Fornell & Larcker) from lavaan's standardized loadings ----
# closed form on standardizedSolution(): CR = (sum s)^2 / ((sum s)^2 + sum(1 - s^2)), AVE = mean(s^2)
crave <- function(fit, name) {
  ss <- standardizedSolution(fit)
  ss <- ss[ss$op == "=~" & ss$rhs %in% lavNames(fit, "ov"), ]
  out <- do.call(rbind, lapply(split(ss$est.std, factor(ss$lhs, unique(ss$lhs))), function(s)
    data.frame(cr = sum(s)^2 / (sum(s)^2 + sum(1 - s^2)), ave = mean(s^2), sqrt.ave = sqrt(mean(s^2)))))
  write.csv(data.frame(factor = rownames(out), out), paste0(name, "_cr_ave_lavaan.csv"), row.names = FALSE)
}
crave(cfa(' visual =~ x1 + x2 + x3
            textual =~ x4 + x5 + x6
            speed =~ x7 + x8 + x9 ', data = hs), "hs")
crave(f24, "hs24_secondorder")

# ---- common-method checks on psych::bfi (2,800 respondents, 25 items, some missing) ----
# Harman's single factor: first eigenvalue of the (pairwise complete) correlation matrix / number
# of items, and the same from psych::principal(nfactors = 1, rotate = "none").
bfi <- psych::bfi[, c(1:25, 27)]
write.csv(bfi, "bfi.csv", row.names = FALSE)
items <- names(bfi)[1:25]
r <- cor(bfi[, items], use = "pairwise.complete.obs")
pc <- psych::principal(r, nfactors = 1, rotate = "none")
write.csv(data.frame(items = 25, n = sum(complete.cases(bfi[, items])), first.share = eigen(r)$values[1] / 25,
                     first.share.principal = pc$values[1] / 25), "bfi_harman.csv", row.names = FALSE)
# Lindell & Whitney (2001) marker adjustment of the correlations among the five scale scores
# (means of the keyed items, reverse-keyed as 7 - x; NA when an item is missing), marker = education:
# r_M = smallest positive marker correlation, r_A = (r - r_M) / (1 - r_M),
# t = r_A / sqrt((1 - r_A^2) / (n - 3)), two-sided p on n - 3 df; listwise over scores and marker.
keys <- list(A = c("-A1", "A2", "A3", "A4", "A5"), C = c("C1", "C2", "C3", "-C4", "-C5"),
             E = c("-E1", "-E2", "E3", "E4", "E5"), N = c("N1", "N2", "N3", "N4", "N5"),
             O = c("O1", "-O2", "O3", "O4", "-O5"))
scores <- as.data.frame(lapply(keys, function(k) {
  rev <- startsWith(k, "-"); nm <- sub("^-", "", k)
  x <- as.matrix(bfi[, nm]); x[, rev] <- 7 - x[, rev]; rowMeans(x)
}))
d <- na.omit(data.frame(scores, marker = bfi$education))
n <- nrow(d)
rr <- cor(d)
rm <- rr["marker", names(keys)]
rM <- min(rm[rm > 0])
pairs <- t(combn(names(keys), 2))
ru <- rr[pairs]
ra <- (ru - rM) / (1 - rM)
tt <- ra / sqrt((1 - ra^2) / (n - 3))
write.csv(data.frame(var1 = pairs[, 1], var2 = pairs[, 2], r = ru, r.marker = rM, r.adjusted = ra, t = tt,
                     df = n - 3, pvalue = 2 * pt(-abs(tt), n - 3), n = n), "bfi_marker_education.csv",
          row.names = FALSE)

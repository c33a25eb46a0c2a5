# Reference output for Wald tests, likelihood-ratio tests of equality constraints and
# semTools::monteCarloCI (lavaan 0.6.14, semTools 0.5.6). Run: Rscript make_effects.R
suppressMessages({library(lavaan); library(semTools)})
pd <- read.csv("../lavaan/PoliticalDemocracy.csv")
med <- '
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  indirect := a*b '
fit <- sem(med, data=pd)
w <- lavTestWald(fit, constraints = "a == c")
fit0 <- sem(paste(med, "\n a == c"), data=pd)
lr <- lavTestLRT(fit0, fit)
set.seed(20261123)
mc <- monteCarloCI(fit, nRep = 200000)
out <- data.frame(quantity = c("wald.stat", "wald.df", "wald.p", "lrt.chisq.diff", "lrt.df.diff", "lrt.p",
                               "mc.indirect.est", "mc.indirect.lower", "mc.indirect.upper"),
                  value = c(w$stat, w$df, w$p.value, lr[2, "Chisq diff"], lr[2, "Df diff"], lr[2, "Pr(>Chisq)"],
                            mc["indirect", "est"], mc["indirect", "ci.lower"], mc["indirect", "ci.upper"]))
write.csv(out, "poldem_effects.csv", row.names = FALSE)
s <- standardizedSolution(fit)
write.csv(s[, c("lhs", "op", "rhs", "est.std", "se", "z", "pvalue", "ci.lower", "ci.upper")],
          "poldem_mediation_standardizedSolution.csv", row.names = FALSE)

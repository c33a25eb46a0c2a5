# semTools::reliability() on FIML fits (R 4.2, lavaan 0.6.14, semTools 0.5-6): alpha and omega3 come
# from lavInspect(fit, "sampstat"), which with missing = "ml" is the EM (h1) covariance of every row,
# not the listwise-complete one. psych::bfi with its real missing values. Run: Rscript make_reliability_fiml.R
suppressMessages(library(lavaan))
suppressMessages(library(semTools))
bfi <- read.csv("bfi.csv")
model <- ' agree =~ A1 + A2 + A3 + A4 + A5
           consc =~ C1 + C2 + C3 + C4 + C5
           extra =~ E1 + E2 + E3 + E4 + E5
           neuro =~ N1 + N2 + N3 + N4 + N5
           open  =~ O1 + O2 + O3 + O4 + O5 '
fit <- cfa(model, data = bfi, estimator = "MLR", missing = "ml")
write.csv(as.data.frame(semTools::reliability(fit)), "bfi_fiml_reliability_semTools.csv")
write.csv(data.frame(n.complete = sum(complete.cases(bfi[, 1:25])), n = nrow(bfi)),
          "bfi_fiml_reliability_n.csv", row.names = FALSE)

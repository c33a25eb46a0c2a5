# semTools 0.5.6 indProd (matched pairs, double-mean-centering) on HolzingerSwineford1939.
# Run: Rscript make_indprod.R
suppressMessages(library(semTools))
hs <- read.csv("../lavaan/HolzingerSwineford1939.csv")
d <- indProd(hs, var1 = c("x1", "x2", "x3"), var2 = c("x4", "x5", "x6"), match = TRUE,
             meanC = TRUE, residualC = FALSE, doubleMC = TRUE)
write.csv(d[, c("x1.x4", "x2.x5", "x3.x6")], "hs_indprod_dmc.csv", row.names = FALSE)

# Reference output for item statistics and EFA (R 4.2, psych 2.2.9, base stats). Run: Rscript make_psychometrics.R
suppressMessages(library(psych))
hs <- read.csv("../lavaan/HolzingerSwineford1939.csv")
a <- psych::alpha(hs[, c("x4", "x5", "x6")])
write.csv(data.frame(item = rownames(a$item.stats), r.drop = a$item.stats$r.drop,
                     alpha.if.deleted = a$alpha.drop$raw_alpha), "hs_textual_itemstats_psych.csv", row.names = FALSE)
f <- factanal(hs[, paste0("x", 1:9)], 3, rotation = "varimax")
write.csv(data.frame(item = paste0("x", 1:9), unclass(f$loadings), uniqueness = f$uniquenesses),
          "hs_factanal_varimax.csv", row.names = FALSE)

# Model-implied latent correlations (lavInspect "cor.lv") for the Fornell-Larcker table,
# lavaan 0.6.14 (run: Rscript make_validity.R). Models whose factor correlations are not
# free ~~ parameters: a second-order CFA and a structural model with latent regressions.
suppressMessages(library(lavaan))
hs <- read.csv("../lavaan/HolzingerSwineford1939.csv")
pd <- read.csv("../lavaan/PoliticalDemocracy.csv")
second <- ' visual =~ x1 + x2 + x3
            textual =~ x4 + x5 + x6
            speed =~ x7 + x8 + x9
            g =~ visual + textual + speed '
write.csv(lavInspect(cfa(second, data=hs), "cor.lv"), "hs_secondorder_cor_lv.csv")
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
write.csv(lavInspect(sem(poldem, data=pd), "cor.lv"), "poldem_sem_cor_lv.csv")

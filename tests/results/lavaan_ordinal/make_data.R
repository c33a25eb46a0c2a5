# Data of the ordinal (WLSMV) reference cases: simulated with lavaan's simulateData, cut into categories.
# Rscript make_data.R  (then Rscript make_ordinal.R)
suppressMessages(library(lavaan))
cut_all <- function(y, cuts) as.data.frame(lapply(y, function(v) findInterval(v, cuts) + 1))

# 1. SEM X -> M -> Y, 5 categories, N = 500
set.seed(14001)
pop <- ' X =~ 0.8*x1 + 0.7*x2 + 0.7*x3 + 0.6*x4
         M =~ 0.7*m1 + 0.8*m2 + 0.6*m3 + 0.7*m4
         Y =~ 0.8*y1 + 0.7*y2 + 0.6*y3 + 0.7*y4
         M ~ 0.5*X
         Y ~ 0.4*M + 0.2*X '
y <- simulateData(pop, sample.nobs = 500, standardized = TRUE)
write.csv(cut_all(y, c(-1.5, -0.5, 0.4, 1.3)), "ord_sem.csv", row.names = FALSE)

# 2. the 3-factor CFA data of the shared set with 10% MCAR missing per item (pairwise)
set.seed(14002)
od <- read.csv("../lavaan/ordinal_3f.csv")
for (v in names(od)) { idx <- sample(nrow(od), round(0.1 * nrow(od))); od[idx, v] <- NA }
write.csv(od, "ordinal_3f_missing10.csv", row.names = FALSE, na = "")

# 3. two groups, 2 factors x 4 items, 5 categories, thresholds shifted in group 2
set.seed(14003)
pop1 <- ' F1 =~ 0.8*u1 + 0.7*u2 + 0.6*u3 + 0.7*u4
          F2 =~ 0.7*u5 + 0.8*u6 + 0.6*u7 + 0.5*u8
          F1 ~~ 0.4*F2 '
y1 <- simulateData(pop1, sample.nobs = 350, standardized = TRUE)
pop2 <- ' F1 =~ 0.8*u1 + 0.7*u2 + 0.6*u3 + 0.7*u4
          F2 =~ 0.7*u5 + 0.8*u6 + 0.6*u7 + 0.5*u8
          F1 ~~ 0.5*F2
          F1 ~ 0.3*1
          F2 ~ -0.2*1 '
y2 <- simulateData(pop2, sample.nobs = 300, standardized = FALSE)
cuts <- c(-1.3, -0.4, 0.5, 1.4)
d <- rbind(data.frame(cut_all(y1, cuts), country = "A"), data.frame(cut_all(y2, cuts), country = "B"))
write.csv(d, "ord_twogroup.csv", row.names = FALSE)

# 4. mixed ordinal and continuous indicators, N = 500
set.seed(14004)
pop <- ' F1 =~ 0.8*o1 + 0.7*o2 + 0.6*o3 + 0.7*c1
         F2 =~ 0.7*o4 + 0.8*o5 + 0.6*c2 + 0.5*c3
         F1 ~~ 0.4*F2 '
y <- simulateData(pop, sample.nobs = 500, standardized = TRUE)
d <- y
for (v in c("o1","o2","o3","o4","o5")) d[[v]] <- findInterval(y[[v]], c(-1.0, 0.2, 1.1)) + 1
d$c1 <- round(3 + 1.5 * y$c1, 3); d$c2 <- round(10 + 2 * y$c2, 3); d$c3 <- round(y$c3 * 0.8 - 1, 3)
write.csv(d[, c("o1","o2","o3","c1","o4","o5","c2","c3")], "ord_mixed.csv", row.names = FALSE)

# 5. 7-category Likert items, 4 factors x 5 items, N = 800, skewed cuts
set.seed(14005)
pop <- ' A =~ 0.8*a1 + 0.7*a2 + 0.6*a3 + 0.7*a4 + 0.6*a5
         B =~ 0.7*b1 + 0.8*b2 + 0.6*b3 + 0.5*b4 + 0.7*b5
         C =~ 0.6*c1 + 0.7*c2 + 0.8*c3 + 0.7*c4 + 0.6*c5
         D =~ 0.7*d1 + 0.6*d2 + 0.7*d3 + 0.8*d4 + 0.6*d5
         A ~~ 0.4*B + 0.3*C + 0.2*D
         B ~~ 0.5*C + 0.3*D
         C ~~ 0.4*D '
y <- simulateData(pop, sample.nobs = 800, standardized = TRUE)
write.csv(cut_all(y, c(-1.8, -1.1, -0.5, 0.1, 0.8, 1.5)), "ord7.csv", row.names = FALSE)

# 6. the mixed data with 8% MCAR per column (pairwise: polyserial / Pearson correlations with missing values)
set.seed(14006)
mx <- read.csv("ord_mixed.csv")
for (v in names(mx)) { idx <- sample(nrow(mx), 40); mx[idx, v] <- NA }
write.csv(mx, "ord_mixed_missing10.csv", row.names = FALSE, na = "")

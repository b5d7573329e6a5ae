# Gamma = 1 reference values for remitpov.robustness.rosenbaum_bounds: with no hidden bias
# the upper and lower bounds are the ordinary one-sided Wilcoxon signed-rank p-value
# (zero differences dropped, average ranks for ties, variance sum(rank^2)/4 = the tie-
# corrected variance), i.e. base R's wilcox.test. (R's rbounds and DOS2 are not packaged
# by Debian; Gamma > 1 is tested against closed forms and enumeration in Python.)
#
# Run from the repository root:  Rscript tests/r/make_rosenbaum_wilcoxon.R
# Writes fixtures/rosenbaum_wilcoxon.json.  R 4.2.2 (stats), jsonlite.
suppressPackageStartupMessages(library(jsonlite))
# Rosenbaum (2002, sec. 4.3.3): blood lead of 33 exposed children and their matched controls
# (Morton et al. 1982); one zero difference, tied absolute differences
trt <- c(38, 23, 41, 18, 37, 36, 23, 62, 31, 34, 24, 14, 21, 17, 16, 20, 15, 10, 45, 39, 22, 35, 49, 48, 44,
         35, 43, 39, 34, 13, 73, 25, 27)
ctrl <- c(16, 18, 18, 24, 19, 11, 10, 15, 16, 18, 18, 13, 19, 10, 16, 16, 24, 13, 9, 14, 21, 19, 7, 18, 19, 12,
          11, 22, 25, 16, 13, 11, 13)
d_notie <- c(3.1, -1.2, 2.5, 4.7, 0.8, -0.3, 5.9, 2.2, -4.1, 6.3, 1.7, 3.8)
w1 <- suppressWarnings(wilcox.test(trt, ctrl, paired = TRUE, alternative = "greater", exact = FALSE,
                                   correct = FALSE))
w2 <- wilcox.test(d_notie, alternative = "greater", exact = TRUE)
w3 <- wilcox.test(d_notie, alternative = "greater", exact = FALSE, correct = FALSE)
out <- list(
  meta = list(r_version = R.version.string,
              notes = "wilcox.test one-sided 'greater'; statistic V = sum of ranks of positive differences"),
  lead = list(trt = trt, ctrl = ctrl, V = unname(w1$statistic), p_normal = w1$p.value),
  no_ties = list(d = d_notie, V = unname(w2$statistic), p_exact = w2$p.value, p_normal = w3$p.value))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "fixtures/rosenbaum_wilcoxon.json")
print(str(out))

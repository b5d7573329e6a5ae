# Reference values for remitpov.econometrics.treatment on the LaLonde data.
#
# Run from the repository root:
#   REMITPOV_SHARED=../shared Rscript tests/r/make_lalonde_matchit.R
# Writes fixtures/lalonde_matchit.json.
#
# R 4.2.2, MatchIt 4.5.1, Matching 4.10-8, sandwich, lmtest, jsonlite.
suppressPackageStartupMessages({
  library(MatchIt); library(Matching); library(sandwich); library(lmtest); library(jsonlite)
})
shared <- Sys.getenv("REMITPOV_SHARED", "../shared")
d <- read.csv(file.path(shared, "data", "econ", "lalonde.csv.gz"))
d$race <- factor(d$race)
fml <- treat ~ age + educ + race + married + nodegree + re74 + re75

out <- list(meta = list(
  r_version = R.version.string,
  matchit = as.character(packageVersion("MatchIt")),
  matching = as.character(packageVersion("Matching")),
  data = "data/econ/lalonde.csv.gz (614 rows; row i of the file = index i-1 in Python)",
  call = "matchit(treat ~ age + educ + race + married + nodegree + re74 + re75, data, method='nearest', distance='glm')",
  notes = paste(
    "Greedy 1:1 nearest-neighbour on the logit propensity score, without replacement,",
    "treated matched in decreasing order of the score (MatchIt m.order='largest').",
    "att_diff = mean(re78 | matched treated) - mean(re78 | matched controls).",
    "diff_se_cluster = SE of treat in lm(re78 ~ treat, weights) with vcovCL(cluster=~subclass).",
    "reg_* = vignette regression lm(re78 ~ treat + covariates, weights) with vcovCL(cluster=~subclass) (HC1-type CR).",
    "gcomp_* = lm(re78 ~ treat*(covariates)) on the matched data, mean over matched treated of",
    "predicted(treat=1)-predicted(treat=0) (what avg_comparisons() returns in the MatchIt >= 4.5 vignette).",
    "Matching::Match on the same logit score: estimand ATT, M=1, replace=TRUE, ties=TRUE,",
    "distance.tolerance=1e-5 (default), BiasAdjust=FALSE; se = Abadie-Imbens (2006) SE,",
    "Var.calc=0 (homoskedastic) and Var.calc=1 (heteroskedastic, 1 within-group match)."
  )))

m <- matchit(fml, data = d, method = "nearest", distance = "glm")
ps <- as.numeric(m$distance)
out$pscore <- ps
out$ps_coef <- as.list(coef(glm(fml, data = d, family = binomial)))
mm <- m$match.matrix  # rows: treated (row names), value: matched control row name
out$pairs <- list(treated = as.integer(rownames(mm)) - 1L, control = as.integer(mm[, 1]) - 1L)
md <- match.data(m)
out$matched_rows <- sort(as.integer(rownames(md)) - 1L)
out$att_diff <- mean(md$re78[md$treat == 1]) - mean(md$re78[md$treat == 0])
fit0 <- lm(re78 ~ treat, data = md, weights = weights)
ct0 <- coeftest(fit0, vcov. = vcovCL, cluster = ~subclass)
out$diff_se_cluster <- unname(ct0["treat", 2])
fit <- lm(re78 ~ treat + age + educ + race + married + nodegree + re74 + re75, data = md, weights = weights)
ct <- coeftest(fit, vcov. = vcovCL, cluster = ~subclass)
out$reg_att <- unname(ct["treat", 1]); out$reg_se_cluster <- unname(ct["treat", 2])
fit2 <- lm(re78 ~ treat * (age + educ + race + married + nodegree + re74 + re75), data = md, weights = weights)
t1 <- md[md$treat == 1, ]
p1 <- predict(fit2, transform(t1, treat = 1)); p0 <- predict(fit2, transform(t1, treat = 0))
out$gcomp_att <- mean(p1 - p0)
# balance (MatchIt summary: standardised mean differences, treated SD as denominator for ATT)
s <- summary(m, standardize = TRUE)
out$smd_all <- as.list(s$sum.all[, "Std. Mean Diff."])
out$smd_matched <- as.list(s$sum.matched[, "Std. Mean Diff."])
out$var_ratio_all <- as.list(s$sum.all[, "Var. Ratio"])
out$var_ratio_matched <- as.list(s$sum.matched[, "Var. Ratio"])

# Matching package: Abadie-Imbens SE, matching with replacement on the same score
for (vc in c(0, 1)) {
  r <- Match(Y = d$re78, Tr = d$treat, X = ps, estimand = "ATT", M = 1, replace = TRUE,
             ties = TRUE, Var.calc = vc)
  out[[paste0("match_vc", vc)]] <- list(est = unname(r$est[1, 1]), se = r$se, se_standard = r$se.standard,
                                        wnobs = r$wnobs, nobs = r$orig.nobs)
}
r2 <- Match(Y = d$re78, Tr = d$treat, X = ps, estimand = "ATE", M = 1, replace = TRUE, ties = TRUE)
out$match_ate <- list(est = unname(r2$est[1, 1]), se = r2$se)
r3 <- Match(Y = d$re78, Tr = d$treat, X = ps, estimand = "ATT", M = 3, replace = TRUE, ties = TRUE)
out$match_att_m3 <- list(est = unname(r3$est[1, 1]), se = r3$se)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "fixtures/lalonde_matchit.json")
cat("att_diff", out$att_diff, "reg", out$reg_att, out$reg_se_cluster, "\n")
print(out[grep("match_", names(out))])

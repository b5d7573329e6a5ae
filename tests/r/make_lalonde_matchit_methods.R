# Reference values for the matching methods added in issue 10 (remitpov.econometrics
# .matching): Mahalanobis nearest neighbour, caliper on the linear propensity score,
# k:1 with replacement, subclassification; balance tables; plus the propensity-score
# logit refitted with a tight convergence tolerance (issue 10, item 6).
#
# Run from the repository root:
#   REMITPOV_SHARED=../shared Rscript tests/r/make_lalonde_matchit_methods.R
# Writes fixtures/lalonde_matchit_methods.json.
#
# R 4.2.2, MatchIt 4.5.1, sandwich, lmtest, jsonlite (Debian packages).
suppressPackageStartupMessages({
  library(MatchIt); library(sandwich); library(lmtest); library(jsonlite)
})
shared <- Sys.getenv("REMITPOV_SHARED", "../shared")
d <- read.csv(file.path(shared, "data", "econ", "lalonde.csv.gz"))
d$race <- factor(d$race)
fml <- treat ~ age + educ + race + married + nodegree + re74 + re75
covs <- c("age", "educ", "racehispan", "racewhite", "married", "nodegree", "re74", "re75")

out <- list(meta = list(
  r_version = R.version.string,
  matchit = as.character(packageVersion("MatchIt")),
  sandwich = as.character(packageVersion("sandwich")),
  data = "data/econ/lalonde.csv.gz (614 rows; row i of the file = index i-1 in Python)",
  formula = "treat ~ age + educ + race + married + nodegree + re74 + re75",
  notes = paste(
    "glm_tight: glm(formula, binomial, control = glm.control(epsilon = 1e-14, maxit = 100)):",
    "coefficients, ML SEs (summary.glm) and fitted probabilities; R's default epsilon = 1e-8 stops",
    "IRLS early (SEs off by up to ~5e-5 relative).",
    "Each method block: pairs = match.matrix as 0-based rows (treated, control, column k),",
    "weights = MatchIt weights (0 = unmatched), att/ate = weighted difference in means =",
    "coef of treat in lm(re78 ~ treat, weights) on match.data(); se_cluster = vcovCL(cluster=~subclass)",
    "(HC1-type CR, MatchIt vignette, pair matching without replacement); se_hc3 = vcovHC(type='HC3')",
    "(vignette's recommendation after matching with replacement and subclassification);",
    "balance = summary(m) 'Std. Mean Diff.' and 'Var. Ratio' (sum.all and sum.matched,",
    "or sum.across for subclassification)."
  )))

g <- glm(fml, data = d, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100))
sg <- summary(g)$coefficients
out$glm_tight <- list(coef = as.list(sg[, 1]), se = as.list(sg[, 2]), pscore = unname(fitted(g)),
                      converged = g$converged, iter = g$iter)
g0 <- glm(fml, data = d, family = binomial)
out$glm_default <- list(coef = as.list(coef(g0)), se = as.list(summary(g0)$coefficients[, 2]),
                        iter = g0$iter)

mm0 <- function(mm) {
  tr <- rep(as.integer(rownames(mm)) - 1L, ncol(mm))
  k <- rep(seq_len(ncol(mm)), each = nrow(mm)) - 1L
  co <- as.integer(c(mm)) - 1L
  ok <- !is.na(co)
  list(treated = tr[ok], control = co[ok], k = k[ok])
}
bal <- function(s, which) {
  tab <- s[[which]]
  list(smd = as.list(tab[, "Std. Mean Diff."]), var_ratio = as.list(tab[, "Var. Ratio"]),
       mean_treated = as.list(tab[, "Means Treated"]), mean_control = as.list(tab[, "Means Control"]))
}
effect <- function(m, pairs = TRUE) {
  md <- match.data(m)
  fit <- lm(re78 ~ treat, data = md, weights = weights)
  r <- list(effect = unname(coef(fit)["treat"]),
            se_hc3 = unname(sqrt(vcovHC(fit, type = "HC3")["treat", "treat"])),
            se_hc1 = unname(sqrt(vcovHC(fit, type = "HC1")["treat", "treat"])),
            n_matched = nrow(md))
  if (pairs) r$se_cluster <- unname(sqrt(vcovCL(fit, cluster = ~subclass)["treat", "treat"]))
  r
}
block <- function(m, pairs = TRUE, across = FALSE) {
  r <- list(call = paste(deparse(m$call), collapse = " "), weights = unname(m$weights))
  if (!is.null(m$match.matrix)) r$pairs <- mm0(m$match.matrix)
  if (!is.null(m$subclass)) r$subclass <- as.integer(as.character(m$subclass))
  if (!is.null(m$q.cut)) r$q_cut <- unname(m$q.cut)
  if (!is.null(m$distance)) r$distance <- unname(m$distance)
  r$effect <- effect(m, pairs)
  s <- summary(m, standardize = TRUE)
  r$balance_all <- bal(s, "sum.all")
  r$balance_matched <- bal(s, if (across) "sum.across" else "sum.matched")
  r
}

# 1. Mahalanobis-distance 1:1 nearest neighbour without replacement (data order)
m <- matchit(fml, data = d, method = "nearest", distance = "mahalanobis")
out$mahalanobis <- block(m)
# 2. caliper 0.2 SD on the linear propensity score (std.caliper = TRUE, default)
m <- matchit(fml, data = d, method = "nearest", distance = "glm", link = "linear.logit",
             caliper = 0.2, std.caliper = TRUE)
out$caliper_linear <- block(m)
out$caliper_linear$caliper_dist <- 0.2 * sd(m$distance)
# 2b. Mahalanobis matching within a 0.2 SD caliper on the linear score (treated by decreasing score)
m <- matchit(fml, data = d, method = "nearest", distance = "glm", link = "linear.logit",
             mahvars = ~ age + educ + race + married + nodegree + re74 + re75, caliper = 0.2)
out$mahvars_caliper <- block(m)
# 3. k:1 with replacement (3 controls per treated)
m <- matchit(fml, data = d, method = "nearest", ratio = 3, replace = TRUE)
out$replace_k3 <- block(m, pairs = FALSE)
out$replace_k3$note <- paste(
  "MatchIt 4.5.1's fast path (nn_matchC_vec) repeats the nearest control k times when",
  "replace = TRUE: its check for controls already in the treated unit's row compares 0-based",
  "with 1-based indices, so the result equals 1:1 matching with replacement.")
m <- matchit(fml, data = d, method = "nearest", ratio = 1, replace = TRUE)
out$replace_k1 <- block(m, pairs = FALSE)
# 3b. the same with the score distances given as a matrix: MatchIt's general routine
# (nn_matchC) takes the 3 distinct nearest controls (std::partial_sort; order among exactly
# tied distances unspecified)
ps <- as.numeric(m$distance)
Dm <- abs(outer(ps[d$treat == 1], ps[d$treat == 0], "-"))
m <- matchit(fml, data = d, method = "nearest", distance = Dm, ratio = 3, replace = TRUE)
out$replace_k3_matrix <- block(m, pairs = FALSE)
out$replace_k3_matrix$distance <- ps
# 4. subclassification on the propensity score, 6 subclasses, ATT and ATE
m <- matchit(fml, data = d, method = "subclass", subclass = 6, estimand = "ATT")
out$subclass_att <- block(m, pairs = FALSE, across = TRUE)
m <- matchit(fml, data = d, method = "subclass", subclass = 6, estimand = "ATE")
out$subclass_ate <- block(m, pairs = FALSE, across = TRUE)

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "string"),
           "fixtures/lalonde_matchit_methods.json")
for (b in c("mahalanobis", "caliper_linear", "mahvars_caliper", "replace_k3", "replace_k1", "replace_k3_matrix", "subclass_att", "subclass_ate"))
  cat(b, unlist(out[[b]]$effect), "\n")

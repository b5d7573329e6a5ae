# Reference values for cov_type="design" in remitpov.econometrics (RobustOLS, RemittanceIV):
# survey::svyglm (gaussian) and survey::svyivreg on the API samples.
#
# Run from the repository root:
#   REMITPOV_SHARED=../shared Rscript tests/r/make_survey_regression.R
# Writes fixtures/survey_regression.json.   R 4.2.2, survey 4.1.1, AER 1.2-10, jsonlite.
suppressPackageStartupMessages({library(survey); library(AER); library(jsonlite)})
shared <- Sys.getenv("REMITPOV_SHARED", "../shared")
strat <- read.csv(file.path(shared, "data", "api", "apistrat.csv.gz"))
clus2 <- read.csv(file.path(shared, "data", "api", "apiclus2.csv.gz"))
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, weights = ~pw, data = clus2)
fo <- api00 ~ ell + meals + mobility
fiv <- api00 ~ ell + meals | ell + mobility + emer
fna <- api00 ~ ell + meals + acs.46   # acs.46 is missing in 30 rows: svyglm drops them
one <- function(fit) list(coef = as.list(coef(fit)), se = as.list(sqrt(diag(vcov(fit)))),
                          df_residual = fit$df.residual, nobs = length(residuals(fit)))
# svyivreg (survey 4.1.1) stores the design-based covariance vcov(svytotal(influence, design)) in
# $cov.unscaled, but vcov()/summary() then multiply it by sigma^2 as for a plain ivreg (a factor
# ~6,000 here): the reference is $cov.unscaled; the inflated vcov() is kept as se_vcov for the record.
one_iv <- function(fit) list(coef = as.list(coef(fit)), se = as.list(sqrt(diag(fit$cov.unscaled))),
                             se_vcov = as.list(sqrt(diag(vcov(fit)))), sigma = fit$sigma,
                             df_residual = fit$df.residual, nobs = length(residuals(fit)))
out <- list(
  meta = list(r_version = R.version.string, survey = as.character(packageVersion("survey")),
              notes = paste("apistrat: svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc);",
                            "apiclus2: svydesign(id=~dnum+snum, fpc=~fpc1+fpc2, weights=~pw).",
                            "ols: svyglm(api00 ~ ell + meals + mobility); iv: svyivreg(api00 ~ ell + meals |",
                            "ell + mobility + emer); ols_na: svyglm(api00 ~ ell + meals + acs.46), rows with",
                            "missing acs.46 dropped (zero influence, the design kept).",
                            "iv se: sqrt(diag(svyivreg(...)$cov.unscaled)), the design-based variance svyivreg",
                            "computes; its vcov()/summary() multiply that by sigma^2 (se_vcov; survey 4.1.1).")),
  strat_ols = one(svyglm(fo, design = dstrat)), strat_iv = one_iv(svyivreg(fiv, design = dstrat)),
  clus2_ols = one(svyglm(fo, design = dclus2)), clus2_iv = one_iv(svyivreg(fiv, design = dclus2)),
  clus2_ols_na = one(svyglm(fna, design = dclus2)))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "fixtures/survey_regression.json")
str(out$clus2_iv); str(out$clus2_ols_na$nobs)

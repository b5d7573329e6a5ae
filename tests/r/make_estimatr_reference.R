# Reference values for remitpov.econometrics.ols (RobustOLS) and .iv (RemittanceIV) covariances:
# estimatr::lm_robust / iv_robust with every se_type, and iv_robust's first-stage F.
#
# Run from the repository root:
#   REMITPOV_SHARED=../shared Rscript tests/r/make_estimatr_reference.R
# Writes fixtures/estimatr_reference.json.   R 4.2.2, estimatr 1.0.0, jsonlite.
#
# Data:
# * LAC Gini panel (data/lac_panel/lac_gini_remittances_panel.csv), year = first four characters,
#   with TRUE lags of remittances rm_lag1/rm_lag3 = WDI personal_rm at t-1/t-3 (as
#   remitpov.io.read_lac_panel adds them; the file's rm_l1/rm_l3 are leads). Rows where a lag is
#   missing are dropped (complete cases, as estimatr does).
# * CigarettesSW (data/econ/CigarettesSW.csv.gz), 1985 and 1995 (96 rows, 48 states), clustered by
#   state, weighted by population in the weighted cases.
suppressPackageStartupMessages({library(estimatr); library(jsonlite)})
shared <- Sys.getenv("REMITPOV_SHARED", "../shared")
g <- read.csv(file.path(shared, "data", "lac_panel", "lac_gini_remittances_panel.csv"))
g$year <- as.integer(substr(g$year, 1, 4))
w <- read.csv(file.path(shared, "data", "lac_panel", "wdi_lac_1990_2021.csv"))[, c("country", "year", "personal_rm")]
for (k in c(1, 3)) {
  lag <- w
  lag$year <- lag$year + k
  names(lag)[3] <- paste0("rm_lag", k)
  g <- merge(g, lag, by = c("country", "year"), all.x = TRUE)
}
g <- g[order(g$country, g$year), ]
d <- read.csv(file.path(shared, "data", "econ", "CigarettesSW.csv.gz"))
d$rprice <- d$price / d$cpi
d$rincome <- d$income / d$population / d$cpi
d$rtaxs <- (d$taxs - d$tax) / d$cpi
d$rtax <- d$tax / d$cpi

hc <- c("classical", "HC0", "HC1", "HC2", "HC3")
cr <- c("CR0", "stata", "CR2")

one <- function(fit) {
  out <- list(coef = as.list(coef(fit)), se = as.list(fit$std.error), nobs = fit$nobs,
              df_residual = fit$df.residual, df = as.list(setNames(fit$df, names(coef(fit)))),
              r_squared = fit$r.squared, adj_r_squared = fit$adj.r.squared)
  if (!is.null(fit$diagnostic_first_stage_fstatistic)) {
    f <- fit$diagnostic_first_stage_fstatistic
    out$first_stage_f <- list(value = unname(f["value"]), numdf = unname(f["nomdf"]), dendf = unname(f["dendf"]),
                              p_value = unname(f["p.value"]))
    h <- fit$diagnostic_endogeneity_test
    out$endogeneity <- list(value = unname(h["value"]), numdf = unname(h["numdf"]), dendf = unname(h["dendf"]),
                            p_value = unname(h["p.value"]))
  }
  out
}
cases <- function(fn, clusters) {
  res <- list()
  for (s in hc) res[[s]] <- one(fn(s, NULL))
  for (s in cr) res[[s]] <- one(fn(s, clusters))
  res
}
fg <- log(gini) ~ log(rm) + gov_e + debt_s + ca_balance
fgiv <- log(gini) ~ log(rm) + gov_e + debt_s + ca_balance | log(rm_lag1) + log(rm_lag3) + gov_e + debt_s + ca_balance
fc <- log(packs) ~ log(rprice) + log(rincome)
fciv <- log(packs) ~ log(rprice) + log(rincome) | log(rincome) + rtaxs + rtax
gc <- g[complete.cases(g[, c("gini", "rm", "gov_e", "debt_s", "ca_balance", "rm_lag1", "rm_lag3")]), ]

out <- list(
  meta = list(r_version = R.version.string, estimatr = as.character(packageVersion("estimatr")),
              notes = paste("se keys are estimatr se_type values: classical, HC0-HC3 without clusters;",
                            "CR0, stata (= CR1: G/(G-1) (n-1)/(n-k)), CR2 (Bell-McCaffrey) with clusters.",
                            "first_stage_f: iv_robust(diagnostics=TRUE) diagnostic_first_stage_fstatistic",
                            "(Wald F of the excluded instruments in the first stage under the same se_type);",
                            "df: the per-coefficient t degrees of freedom (Bell-McCaffrey for CR2);",
                            "endogeneity: diagnostic_endogeneity_test (Wald F of the first-stage residuals added",
                            "to the structural equation, under the same se_type: the control-function test).",
                            "gini_*: LAC Gini panel with true lags rm_lag1/rm_lag3 from WDI, complete cases",
                            "(n = nrow of gini_iv), clusters = country. cig_*: CigarettesSW 1985+1995,",
                            "clusters = state, weights = population where named *_weighted."),
              gini_rows_used = nrow(gc)),
  gini_ols = cases(function(s, cl) lm_robust(fg, data = gc, se_type = s, clusters = cl), gc$country),
  gini_iv = cases(function(s, cl) iv_robust(fgiv, data = gc, se_type = s, clusters = cl, diagnostics = TRUE),
                  gc$country),
  cig_ols_weighted = cases(function(s, cl) lm_robust(fc, data = d, se_type = s, clusters = cl, weights = population),
                           d$state),
  cig_iv = cases(function(s, cl) iv_robust(fciv, data = d, se_type = s, clusters = cl, diagnostics = TRUE), d$state),
  cig_iv_weighted = cases(function(s, cl) iv_robust(fciv, data = d, se_type = s, clusters = cl, weights = population,
                                                    diagnostics = TRUE), d$state)
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "fixtures/estimatr_reference.json")
str(out$gini_iv$HC2)

# More plm reference values for remitpov.econometrics.panel on the LAC panels:
# heteroskedasticity-robust vcovHC(method="white1", type="HC0"/"HC1"), random effects
# (Swamy-Arora, plm's default), first differences, between, and the Hausman test.
#
# Run from the repository root:
#   REMITPOV_SHARED=../shared Rscript tests/r/make_lac_panel_plm_more.R
# Writes fixtures/lac_panel_plm_more.json.   R 4.2.2, plm 2.6-2, jsonlite.
suppressPackageStartupMessages({library(plm); library(jsonlite)})
shared <- Sys.getenv("REMITPOV_SHARED", "../shared")
g <- read.csv(file.path(shared, "data", "lac_panel", "lac_gini_remittances_panel.csv"))
g$year <- as.integer(substr(g$year, 1, 4))   # stored as "2000-10-18"
w <- read.csv(file.path(shared, "data", "lac_panel", "wdi_lac_1990_2021.csv"))
pg <- pdata.frame(g, index = c("country", "year"))
pw <- pdata.frame(w, index = c("country", "year"))
fg <- log(gini) ~ log(rm) + gov_e + debt_s + ca_balance
fw <- pov_gap ~ personal_rm + gov_cons_exp + curr_acc_balance

se <- function(V) as.list(sqrt(diag(V)))
# vcovHC(white1) fails for some fd fits in plm 2.6-2 ("subscript out of bounds"): then NULL
try_se <- function(expr) tryCatch(se(expr), error = function(e) NULL)
one <- function(fit) {
  out <- list(coef = as.list(coef(fit)), se_classical = se(vcov(fit)),
              se_white1_hc0 = try_se(vcovHC(fit, method = "white1", type = "HC0")),
              se_white1_hc1 = try_se(vcovHC(fit, method = "white1", type = "HC1")),
              se_cluster = try_se(vcovHC(fit, method = "arellano", type = "HC0", cluster = "group")),
              nobs = nobs(fit), df_residual = df.residual(fit))
  if (inherits(fit, "plm") && fit$args$model == "random") {
    ec <- ercomp(fit)
    out$sigma2 <- as.list(ec$sigma2)
    th <- unlist(ec$theta)
    if (length(unique(th)) == 1) out$theta <- th[[1]]  # balanced: one theta (unbalanced: one per country, omitted)
  }
  out
}
res <- function(d, f) {
  re <- plm(f, data = d, model = "random", random.method = "swar")
  fe <- plm(f, data = d, model = "within")
  h <- phtest(fe, re)
  list(within_white = one(fe),
       pooling_white = one(plm(f, data = d, model = "pooling")),
       twoways_white = one(plm(f, data = d, model = "within", effect = "twoways")),
       random = one(re),
       fd = one(plm(f, data = d, model = "fd")),
       between = list(coef = as.list(coef(b <- plm(f, data = d, model = "between"))), se_classical = se(vcov(b)),
                      nobs = nobs(b), df_residual = df.residual(b)),
       hausman = list(statistic = unname(h$statistic), df = unname(h$parameter), p_value = h$p.value))
}
out <- list(
  meta = list(r_version = R.version.string, plm = as.character(packageVersion("plm")),
              gini_formula = deparse(fg), wdi_formula = deparse(fw),
              notes = paste("se_white1_hc0/hc1: vcovHC(method='white1', type='HC0'/'HC1');",
                            "random: plm(model='random', random.method='swar') with classical vcov, ercomp sigma2/theta;",
                            "fd: plm(model='fd') (first differences with an intercept, plm's default);",
                            "between: plm(model='between') (group means; nobs = number of groups);",
                            "hausman: phtest(within, random) (chi2 on the slope contrast).",
                            "wdi rows with any missing model variable are dropped by plm (complete cases).")),
  gini = res(pg, fg), wdi = res(pw, fw))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "fixtures/lac_panel_plm_more.json")
str(out$gini$random); str(out$wdi$hausman)

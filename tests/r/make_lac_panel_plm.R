# Reference values for remitpov.econometrics.panel on the LAC panels (plm).
#
# Run from the repository root:
#   REMITPOV_SHARED=../shared Rscript tests/r/make_lac_panel_plm.R
# Writes fixtures/lac_panel_plm.json.   R 4.2.2, plm 2.6-2, jsonlite.
suppressPackageStartupMessages({library(plm); library(jsonlite)})
shared <- Sys.getenv("REMITPOV_SHARED", "../shared")
g <- read.csv(file.path(shared, "data", "lac_panel", "lac_gini_remittances_panel.csv"))
g$year <- as.integer(substr(g$year, 1, 4))   # stored as "2000-10-18"
w <- read.csv(file.path(shared, "data", "lac_panel", "wdi_lac_1990_2021.csv"))
pg <- pdata.frame(g, index = c("country", "year"))
pw <- pdata.frame(w, index = c("country", "year"))

one <- function(fit) {
  list(coef = as.list(coef(fit)),
       se_classical = as.list(sqrt(diag(vcov(fit)))),
       se_cluster = as.list(sqrt(diag(vcovHC(fit, method = "arellano", type = "HC0", cluster = "group")))),
       se_cluster_time = as.list(sqrt(diag(vcovHC(fit, method = "arellano", type = "HC0", cluster = "time")))),
       se_cluster_both = as.list(sqrt(diag(vcovDC(fit, type = "HC0")))),
       se_cluster_hc1 = as.list(sqrt(diag(vcovHC(fit, method = "arellano", type = "HC1", cluster = "group")))),
       nobs = nobs(fit), df_residual = df.residual(fit))
}
fg <- log(gini) ~ log(rm) + gov_e + debt_s + ca_balance
fw <- pov_gap ~ personal_rm + gov_cons_exp + curr_acc_balance
out <- list(
  meta = list(r_version = R.version.string, plm = as.character(packageVersion("plm")),
              gini_formula = deparse(fg), wdi_formula = deparse(fw),
              notes = paste("se_cluster: vcovHC(method='arellano', type='HC0', cluster='group'),",
                            "i.e. clustered by country with no small-sample factor; se_cluster_hc1 adds (n-1)/(n-k)",
                            "se_cluster_time: the same clustered by year; se_cluster_both: vcovDC(type='HC0') (double clustering).",
                            "(plm's HC1 for a within model uses k = number of slope coefficients).",
                            "wdi rows with any missing model variable are dropped by plm (complete cases).",
                            "iv_within: plm(log(gini) ~ log(rm) + gov_e + debt_s + ca_balance | log(rm_l1) + log(rm_l3) + gov_e + debt_s + ca_balance, model='within') (FE-2SLS).")),
  gini_pooling = one(plm(fg, data = pg, model = "pooling")),
  gini_within = one(plm(fg, data = pg, model = "within", effect = "individual")),
  gini_twoways = one(plm(fg, data = pg, model = "within", effect = "twoways")),
  wdi_within = one(plm(fw, data = pw, model = "within", effect = "individual")),
  wdi_twoways = one(plm(fw, data = pw, model = "within", effect = "twoways")),
  gini_iv_within = one(plm(log(gini) ~ log(rm) + gov_e + debt_s + ca_balance |
                           log(rm_l1) + log(rm_l3) + gov_e + debt_s + ca_balance,
                           data = pg, model = "within", effect = "individual")),
  gini_iv_pooling = one(plm(log(gini) ~ log(rm) + gov_e + debt_s + ca_balance |
                            log(rm_l1) + log(rm_l3) + gov_e + debt_s + ca_balance,
                            data = pg, model = "pooling"))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "fixtures/lac_panel_plm.json")
str(out$gini_within); str(out$wdi_twoways$nobs)

# Reference values for remitpov.econometrics.gmm (dynamic panel GMM) from plm's pgmm.
#
# Run from the repository root:
#   Rscript tests/r/make_emplUK_pgmm.R
# Writes fixtures/emplUK.csv (plm's EmplUK data: 140 UK firms, 1976-1984, the Arellano-Bond
# 1991 employment equations; public R dataset shipped with plm) and fixtures/emplUK_pgmm.json.
# R 4.2.2, plm 2.6-2, jsonlite.
#
# For every model: coefficients (one-step and two-step), the non-robust covariance (vcov:
# for two-step the usual (X'Z A2 Z'X)^-1; for one-step pgmm's unscaled B1), the robust one
# (vcovHC: Arellano-Bond one-step robust / Windmeijer-corrected two-step), the Hansen J
# (sargan(weights="twosteps")), pgmm's one-step-weighted criterion (sargan(weights="onestep"),
# N z'(sum Z'HZ)^-1 z: NOT divided by sigma^2), the AR(1)/AR(2) tests with the robust and the
# non-robust covariance, the number of instruments, the observations used, and the Wald tests.
suppressPackageStartupMessages({library(plm); library(jsonlite)})
data("EmplUK", package = "plm")
write.csv(EmplUK, "fixtures/emplUK.csv", row.names = FALSE)

one <- function(fit) {
  twostep <- is.list(fit$coefficients)
  b <- if (twostep) fit$coefficients[[2L]] else fit$coefficients
  vr <- vcovHC(fit)
  vn <- vcov(fit)
  sm <- summary(fit, robust = TRUE)
  out <- list(
    coef = as.list(b),
    coef_onestep = as.list(if (twostep) fit$coefficients[[1L]] else fit$coefficients),
    se_robust = as.list(sqrt(diag(vr))),
    se_nonrobust = as.list(sqrt(diag(vn))),
    hansen = unname(sargan(fit, "twosteps")$statistic),
    hansen_df = unname(sargan(fit, "twosteps")$parameter),
    sargan_onestep_pgmm = unname(sargan(fit, "onestep")$statistic),
    ar1_robust = as.numeric(mtest(fit, order = 1, vcov = vr)$statistic),
    ar2_robust = as.numeric(mtest(fit, order = 2, vcov = vr)$statistic),
    ar1_nonrobust = as.numeric(mtest(fit, order = 1)$statistic),
    ar2_nonrobust = as.numeric(mtest(fit, order = 2)$statistic),
    wald_coef_robust = unname(sm$wald.coef$statistic),
    n_instruments = ncol(fit$W[[1L]]),
    n_entities = length(fit$W),
    nobs_used = nobs(fit)
  )
  if (!is.null(sm$wald.td)) out$wald_td_robust <- unname(sm$wald.td$statistic)
  out
}

f_ab <- log(emp) ~ lag(log(emp), 1:2) + lag(log(wage), 0:1) + log(capital) + lag(log(output), 0:1) |
  lag(log(emp), 2:99)
f_bb <- log(emp) ~ lag(log(emp), 1) + lag(log(wage), 0:1) + lag(log(capital), 0:1) |
  lag(log(emp), 2:99) + lag(log(wage), 2:99) + lag(log(capital), 2:99)
f_lim <- log(emp) ~ lag(log(emp), 1:2) + lag(log(wage), 0:1) + log(capital) + lag(log(output), 0:1) |
  lag(log(emp), 2:4)
# lag rules beyond 2 (session 4): instruments from lag 3 on, and windows 3:5, 3:4, 3:6 in system GMM.
# pgmm's level-equation instrument is always the difference x_{t-1} - x_{t-2}, whatever the lag
# start (remitpov: level_instruments = "pgmm"). The GMM lag ranges start at the same lag for every
# variable: when one variable's start exceeds the first usable period, pgmm's makegmm() takes
# x[max(1, t - b):(t - a)] with a descending R range (1:0) and includes x[1] for that period.
f_ab36 <- log(emp) ~ lag(log(emp), 1:2) + lag(log(wage), 0:1) + log(capital) + lag(log(output), 0:1) |
  lag(log(emp), 3:6)
f_bb3 <- log(emp) ~ lag(log(emp), 1) + lag(log(wage), 0:1) + lag(log(capital), 0:1) |
  lag(log(emp), 3:99) + lag(log(wage), 3:99) + lag(log(capital), 3:99)
f_bb35 <- log(emp) ~ lag(log(emp), 1) + lag(log(wage), 0:1) + lag(log(capital), 0:1) |
  lag(log(emp), 3:5) + lag(log(wage), 3:4) + lag(log(capital), 3:6)

fits <- list(
  # Arellano and Bond (1991) Table 4 column (b): plm's documented example
  ab_twostep = pgmm(f_ab, data = EmplUK, effect = "twoways", model = "twosteps"),
  ab_onestep = pgmm(f_ab, data = EmplUK, effect = "twoways", model = "onestep"),
  ab_twostep_collapse = pgmm(f_ab, data = EmplUK, effect = "twoways", model = "twosteps", collapse = TRUE),
  ab_twostep_lags24 = pgmm(f_lim, data = EmplUK, effect = "twoways", model = "twosteps"),
  ab_onestep_individual = pgmm(f_ab, data = EmplUK, effect = "individual", model = "onestep"),
  # Blundell and Bond (1998) Table 4 (plm's documented system-GMM example)
  bb_onestep = pgmm(f_bb, data = EmplUK, effect = "twoways", model = "onestep", transformation = "ld"),
  bb_twostep = pgmm(f_bb, data = EmplUK, effect = "twoways", model = "twosteps", transformation = "ld"),
  bb_twostep_collapse = pgmm(f_bb, data = EmplUK, effect = "twoways", model = "twosteps", transformation = "ld",
                             collapse = TRUE),
  # session 4: system GMM with individual effects only (pgmm: no time dummies and no intercept),
  # and lag rules beyond 2
  bb_onestep_individual = pgmm(f_bb, data = EmplUK, effect = "individual", model = "onestep",
                               transformation = "ld"),
  bb_twostep_individual = pgmm(f_bb, data = EmplUK, effect = "individual", model = "twosteps",
                               transformation = "ld"),
  bb_twostep_individual_collapse = pgmm(f_bb, data = EmplUK, effect = "individual", model = "twosteps",
                                        transformation = "ld", collapse = TRUE),
  ab_twostep_lags36 = pgmm(f_ab36, data = EmplUK, effect = "twoways", model = "twosteps"),
  bb_twostep_lags3 = pgmm(f_bb3, data = EmplUK, effect = "twoways", model = "twosteps", transformation = "ld"),
  bb_twostep_lags35 = pgmm(f_bb35, data = EmplUK, effect = "twoways", model = "twosteps", transformation = "ld"),
  bb_twostep_lags35_collapse = pgmm(f_bb35, data = EmplUK, effect = "twoways", model = "twosteps",
                                    transformation = "ld", collapse = TRUE),
  bb_onestep_lags3_individual = pgmm(f_bb3, data = EmplUK, effect = "individual", model = "onestep",
                                     transformation = "ld")
)
out <- c(list(meta = list(
  r_version = R.version.string, plm = as.character(packageVersion("plm")),
  formula_ab = paste(deparse(f_ab), collapse = " "), formula_bb = paste(deparse(f_bb), collapse = " "),
  formula_lags24 = paste(deparse(f_lim), collapse = " "),
  formula_ab36 = paste(deparse(f_ab36), collapse = " "), formula_bb3 = paste(deparse(f_bb3), collapse = " "),
  formula_bb35 = paste(deparse(f_bb35), collapse = " "),
  notes = paste("pgmm defaults otherwise. Coefficient names are pgmm's; time-dummy names are years.",
                "se_robust: vcovHC (Windmeijer for two-step); se_nonrobust: vcov.",
                "hansen: sargan(fit, 'twosteps'); sargan_onestep_pgmm: sargan(fit, 'onestep').",
                "ar*_robust: mtest with vcov = vcovHC(fit) (what summary() prints); ar*_nonrobust: vcov(fit).")
)), lapply(fits, one))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "fixtures/emplUK_pgmm.json")
str(out$ab_twostep[c("hansen", "ar1_robust", "ar2_robust", "n_instruments", "nobs_used")])

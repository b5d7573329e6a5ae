# Recompute, with R, the values of ../shared/reference/*.json that tests/reference/cases.toml
# compares (the shared folder ships the values without their script), and report the
# largest relative difference per file. Exit status 1 if any exceeds 1e-10.
#
#   Rscript tests/r/check_shared_reference.R [SHARED_DIR]
#
# R 4.2.2, survey 4.1.1, laeken 0.5.2, jsonlite (Debian packages).
suppressMessages({library(survey); library(laeken); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
shared <- if (length(args)) args[1] else Sys.getenv("REMITPOV_SHARED", "../shared")
ref <- function(f) fromJSON(file.path(shared, "reference", f), simplifyVector = FALSE)
worst <- list()
check <- function(file, what, got, want) {
  got <- as.numeric(unlist(got)); want <- as.numeric(unlist(want))
  stopifnot(length(got) == length(want))
  d <- ifelse(got == want, 0, abs(got - want) / pmax(abs(want), 1e-300))
  worst[[file]] <<- max(c(worst[[file]], d))
  if (max(d) > 1e-10) cat(sprintf("  %s %s: got %s want %s\n", file, what, format(got, digits = 16), format(want, digits = 16)))
}
options(survey.lonely.psu = "fail")

# ------------------------------------------------------------------ api_survey.json (survey)
api <- ref("api_survey.json")
rd <- function(f) {
  d <- read.csv(gzfile(file.path(shared, "data", "api", paste0(f, ".csv.gz"))))
  d$low600 <- as.numeric(d$api00 < 600); d$growth <- d$api00 - d$api99; d
}
designs <- list(
  srs = svydesign(ids = ~1, fpc = ~fpc, data = rd("apisrs")),
  srs_nofpc = svydesign(ids = ~1, weights = ~pw, data = rd("apisrs")),
  strat = svydesign(ids = ~1, strata = ~stype, fpc = ~fpc, weights = ~pw, data = rd("apistrat")),
  strat_nofpc = svydesign(ids = ~1, strata = ~stype, weights = ~pw, data = rd("apistrat")),
  clus1 = svydesign(ids = ~dnum, fpc = ~fpc, weights = ~pw, data = rd("apiclus1")),
  clus1_nofpc = svydesign(ids = ~dnum, weights = ~pw, data = rd("apiclus1")),
  clus2 = svydesign(ids = ~dnum + snum, fpc = ~fpc1 + fpc2, data = rd("apiclus2")),
  clus2_ultimate_cluster = svydesign(ids = ~dnum, weights = ~pw, data = rd("apiclus2")))
for (nm in names(designs)) {
  des <- designs[[nm]]; r <- api[[nm]]; f <- "api_survey.json"
  check(f, paste(nm, "degf"), degf(des), r$degf)
  check(f, paste(nm, "sum_weights"), sum(weights(des)), r$sum_weights)
  for (v in c("api00", "low600", "growth", "enroll")) {
    m <- svymean(as.formula(paste0("~", v)), des, na.rm = TRUE)
    check(f, paste(nm, "mean", v), c(coef(m), SE(m)), r[[paste0("mean_", v)]][c("estimate", "se")])
  }
  check(f, paste(nm, "deff"), deff(svymean(~api00, des, deff = TRUE)), r$mean_api00$deff)
  for (v in c("api00", "low600", "enroll")) {
    t <- svytotal(as.formula(paste0("~", v)), des, na.rm = TRUE)
    check(f, paste(nm, "total", v), c(coef(t), SE(t)), r[[paste0("total_", v)]][c("estimate", "se")])
  }
  m2 <- svymean(~api00 + api99, des)
  check(f, paste(nm, "joint"), c(coef(m2), vcov(m2)), c(r$mean_api00_api99$estimate, unlist(r$mean_api00_api99$vcov)))
  ct <- svycontrast(m2, c(1, -1))
  check(f, paste(nm, "contrast"), c(coef(ct), SE(ct)), r$contrast_mean_api00_minus_api99[c("estimate", "se")])
  q <- svyratio(~api00, ~api99, des)
  check(f, paste(nm, "ratio"), c(coef(q), SE(q)), r$ratio_api00_over_api99[c("estimate", "se")])
  q <- svyratio(~api.stu, ~enroll, des, na.rm = TRUE)
  check(f, paste(nm, "ratio stu"), c(coef(q), SE(q)), r$ratio_apistu_over_enroll[c("estimate", "se")])
  by <- function(key, b) {
    for (lab in names(r[[key]])) {
      i <- which(as.character(b[[1]]) == lab)
      check(f, paste(nm, key, lab), c(coef(b)[i], SE(b)[i]), r[[key]][[lab]][c("estimate", "se")])
    }
  }
  by("by_stype_mean_api00", svyby(~api00, ~stype, des, svymean))
  by("by_stype_mean_low600", svyby(~low600, ~stype, des, svymean))
  by("by_stype_total_low600", svyby(~low600, ~stype, des, svytotal))
  by("by_stype_ratio_api00_over_api99", svyby(~api00, ~stype, des, svyratio, denominator = ~api99))
  by("by_sch.wide_mean_api00", svyby(~api00, ~sch.wide, des, svymean))
}
pop <- rd("apipop")
check("api_survey.json", "population", c(mean(pop$api00), sum(pop$api00), nrow(pop)),
      api$population[c("mean_api00", "total_api00", "N")])

# ------------------------------------------------------------------ eusilc_fgt.json (survey)
fgt <- ref("eusilc_fgt.json")
d <- read.csv(gzfile(file.path(shared, "data", "eusilc", "eusilc.csv.gz")))
d$noT <- d$eqIncome - d$hy080n / d$eqSS
lines <- fgt$meta$lines
for (a in 0:2) for (cn in c("full", "noT")) for (ln in names(lines)) {
  y <- if (cn == "full") d$eqIncome else d$noT
  z <- lines[[ln]]
  d[[sprintf("g%d_%s_%s", a, cn, ln)]] <- ifelse(y < z, ((z - y) / z)^a, 0)
}
des <- svydesign(ids = ~db030, strata = ~db040, weights = ~rb050, data = d)
f <- "eusilc_fgt.json"
for (key in names(fgt$national)) {
  r <- fgt$national[[key]]
  fm <- as.formula(paste("~", paste(sprintf("g%d_%s", 0:2, key), collapse = " + ")))
  m <- svymean(fm, des)
  check(f, paste("national", key), c(coef(m), SE(m), vcov(m)),
        c(sapply(0:2, function(a) r[[paste0("fgt", a)]]$estimate), sapply(0:2, function(a) r[[paste0("fgt", a)]]$se),
          unlist(r$vcov_fgt012)))
  h <- svytotal(as.formula(sprintf("~g0_%s", key)), des)
  check(f, paste("headcount", key), c(coef(h), SE(h)), r$headcount_total[c("estimate", "se")])
  for (byv in c("db040", "rb090")) {
    b <- svyby(fm, as.formula(paste0("~", byv)), des, svymean)
    rr <- fgt[[paste0("by_", byv)]][[key]]
    vars <- sprintf("g%d_%s", 0:2, key)
    for (lab in names(rr)) {
      i <- which(as.character(b[[byv]]) == lab)
      check(f, paste(byv, key, lab), c(as.numeric(b[i, vars]), as.numeric(b[i, paste0("se.", vars)])),
            c(sapply(0:2, function(a) rr[[lab]][[paste0("fgt", a)]]$estimate),
              sapply(0:2, function(a) rr[[lab]][[paste0("fgt", a)]]$se)))
    }
  }
}
for (ln in names(lines)) {
  r <- fgt$difference_without_minus_with[[paste0("noT_", ln)]]
  for (a in 0:2) {
    fm <- as.formula(sprintf("~g%d_noT_%s + g%d_full_%s", a, ln, a, ln))
    m <- svymean(fm, des)
    ct <- svycontrast(m, c(1, -1))
    ra <- r[[paste0("fgt", a)]]
    check(f, paste("difference", ln, a), c(coef(m), SE(m), vcov(m)[1, 2], coef(ct), SE(ct)),
          ra[c("without", "with", "se_without", "se_with", "cov_without_with", "difference", "se_difference")])
    for (byv in c("db040", "rb090")) {
      b <- svyby(fm, as.formula(paste0("~", byv)), des, svymean, covmat = TRUE)
      rr <- ra[[paste0("difference_by_", byv)]]
      cf <- names(coef(b))
      for (lab in names(rr)) {
        L <- setNames((cf == sprintf("%s:g%d_noT_%s", lab, a, ln)) - (cf == sprintf("%s:g%d_full_%s", lab, a, ln)), cf)
        stopifnot(sum(abs(L)) == 2)
        dif <- svycontrast(b, L)
        check(f, paste("difference", ln, a, byv, lab), c(coef(dif), SE(dif)), rr[[lab]][c("estimate", "se")])
      }
    }
  }
}

# ------------------------------------------------------------------ eusilc_laeken.json (laeken)
lk <- ref("eusilc_laeken.json")$point
f <- "eusilc_laeken.json"
w <- d$rb050; y <- d$eqIncome
check(f, "mean", weighted.mean(y, w), lk$weighted_mean_eqIncome)
check(f, "median", weightedMedian(y, w), lk$weighted_median_eqIncome)
p <- c(0.1, 0.2, 0.25, 0.5, 0.75, 0.8, 0.9)
check(f, "quantiles", weightedQuantile(y, w, p), lk$weighted_quantiles_eqIncome)
check(f, "incQuintile", incQuintile(y, weights = w), lk$income_quintiles_incQuintile)
check(f, "arpt", as.numeric(arpt("eqIncome", weights = "rb050", data = d)), lk$arpt_60)
for (k in names(lk$arpt_multi)) {
  pc <- as.numeric(sub("p", "", k)) / 100
  check(f, paste("arpt", k), as.numeric(arpt("eqIncome", weights = "rb050", data = d, p = pc)), lk$arpt_multi[[k]])
  check(f, paste("arpr", k), arpr("eqIncome", weights = "rb050", data = d, p = pc)$value, lk$arpr_multi_percent[[k]])
}
a <- arpr("eqIncome", weights = "rb050", data = d)
check(f, "arpr", c(a$value, a$threshold), c(lk$arpr_60_percent, lk$arpr_60_threshold))
for (byv in c("db040", "rb090")) {
  a <- arpr("eqIncome", weights = "rb050", breakdown = byv, data = d)
  check(f, paste("arpr by", byv), a$valueByStratum$value[match(names(lk[[paste0("arpr_by_", byv, "_percent")]]),
                                                                 as.character(a$valueByStratum$stratum))],
        lk[[paste0("arpr_by_", byv, "_percent")]])
  g <- gini("eqIncome", weights = "rb050", breakdown = byv, data = d)
  check(f, paste("gini by", byv), g$valueByStratum$value[match(names(lk[[paste0("gini_by_", byv, "_percent")]]),
                                                                as.character(g$valueByStratum$stratum))],
        lk[[paste0("gini_by_", byv, "_percent")]])
}
check(f, "arpr fixed", arpr("eqIncome", weights = "rb050", data = d, threshold = 10000)$value, lk$arpr_fixed_line_10000_percent)
check(f, "gini", gini("eqIncome", weights = "rb050", data = d)$value, lk$gini_percent)
check(f, "gini unweighted", gini("eqIncome", data = d)$value, lk$gini_unweighted_percent)
check(f, "qsr", qsr("eqIncome", weights = "rb050", data = d)$value, lk$qsr)
q <- qsr("eqIncome", weights = "rb050", breakdown = "db040", data = d)
check(f, "qsr by", q$valueByStratum$value[match(names(lk$qsr_by_db040), as.character(q$valueByStratum$stratum))],
      lk$qsr_by_db040)

for (f in names(worst)) cat(sprintf("%s: largest relative difference %.3g\n", f, worst[[f]]))
quit(status = if (all(unlist(worst) <= 1e-10)) 0 else 1)

# Reference values for remitpov's replicate designs with a finite population correction.
# Run from the project root:  Rscript tests/r/make_replicates_reference.R [SHARED_DIR]
# Writes fixtures/replicates_reference.json. R survey 4.1.1.
#
# * jk:    as.svrepdesign(type = "JK1"/"JKn") of designs WITH fpc (R folds 1 - f into
#          scale (JK1) or rscales (JKn)): means, totals, ratios and their SEs.
# * random replicate types (bootstrap = Canty-Davison, subbootstrap = Rao-Wu n_h - 1,
#   mrbbootstrap = Preston): the replicate MULTIPLIERS R drew (weights(des, "replication"),
#   rows = sampled units, columns = replicates), scale and rscales, and the SEs R computes
#   from them, so that remitpov can be fed the same weights (draws cannot match R's RNG).
# * quantiles: svyquantile(interval.type = "quantile") (replicate re-evaluation) and
#   interval.type = "mean" (Woodruff with the replicate variance of the cdf) on JK1 and on
#   the bootstrap designs, qrule "hf7" and "math".
suppressMessages({library(survey); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
shared <- if (length(args)) args[1] else Sys.getenv("REMITPOV_SHARED", "../shared")
rd <- function(f) read.csv(gzfile(file.path(shared, "data", "api", paste0(f, ".csv.gz"))))
apiclus1 <- rd("apiclus1"); apistrat <- rd("apistrat"); apiclus2 <- rd("apiclus2")
# api00 without ties (distinct values keep their order): R's qrule_hf7 breaks ties between
# units of unequal weight by row order, remitpov by weight; untied, the two rules coincide
untie <- function(d) { d$api00u <- d$api00 + seq_len(nrow(d)) / 1e4; d }
apiclus1 <- untie(apiclus1); apistrat <- untie(apistrat); apiclus2 <- untie(apiclus2)
options(survey.replicates.mse = FALSE)
probs <- c(0.25, 0.5, 0.75)

stats <- function(des) {
  m <- svymean(~api00, des); t <- svytotal(~api00, des); r <- svyratio(~api00, ~api99, des)
  b <- svyby(~api00, ~sch.wide, des, svymean)
  list(mean = unname(coef(m)), mean_se = unname(SE(m)), total = unname(coef(t)),
       total_se = unname(SE(t)), ratio = unname(coef(r)), ratio_se = unname(SE(r)),
       by_schwide_se = setNames(as.list(unname(SE(b))), b$sch.wide),
       scale = des$scale, rscales = unname(des$rscales), degf = degf(des),
       n_replicates = ncol(weights(des, "analysis")))
}
quant <- function(des) {
  out <- list()
  for (v in c("api00", "api00u")) for (rule in c("hf7", "math")) for (it in c("quantile", "mean")) {
    q <- suppressWarnings(svyquantile(as.formula(paste0("~", v)), des, probs, interval.type = it,
                                      qrule = rule))
    key <- paste(if (v == "api00") rule else paste0(rule, "_untied"), it, sep = "_")
    out[[key]] <- list(quantile = unname(q[[v]][, 1]), se = unname(SE(q)))
  }
  out
}
withmult <- function(des) {
  x <- stats(des)
  x$multipliers <- unname(as.matrix(weights(des, "replication")))
  x$quantiles <- quant(des)
  x
}

out <- list(meta = list(survey = as.character(packageVersion("survey")), R = R.version.string,
  probs = probs,
  note = paste("designs: apiclus1 ids=~dnum fpc=~fpc; apistrat strata=~stype fpc=~fpc;",
               "apiclus2 ids=~dnum+snum fpc=~fpc1+fpc2 (JK1 drops the second-stage fpc, as R warns).",
               "multipliers: n x R, row order of the data file; analysis weight = pw * multiplier.",
               "mse = FALSE (centre at the mean of the replicates). svyquantile SEs: (U - L)/(2 t_df)",
               "with df = degf(design). api00u = api00 + row/1e4 (no ties).")))
dc1 <- svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
ds <- svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
dc2 <- svydesign(ids = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)

out$jk1_clus1_fpc <- stats(as.svrepdesign(dc1, type = "JK1"))
out$jk1_clus1_fpc$quantiles <- quant(as.svrepdesign(dc1, type = "JK1"))
out$jkn_strat_fpc <- stats(as.svrepdesign(ds, type = "JKn"))
out$jk1_clus2_fpc <- suppressWarnings(stats(as.svrepdesign(dc2, type = "JK1")))
# linearised SEs of the same designs (the expectation the bootstraps aim at)
lin <- function(des) list(mean_se = unname(SE(svymean(~api00, des))),
                          total_se = unname(SE(svytotal(~api00, des))))
out$linearised <- list(clus1 = lin(dc1), strat = lin(ds), clus2 = lin(dc2))
# Woodruff limit beyond [0, 1] (p = 0.99 on apiclus1 without fpc): R's SE is NaN
q <- svyquantile(~api00, svydesign(ids = ~dnum, weights = ~pw, data = apiclus1), c(0.9, 0.95, 0.99),
                 qrule = "math")
out$woodruff_edge_clus1 <- list(probs = c(0.9, 0.95, 0.99), quantile = unname(q$api00[, 1]), se = unname(SE(q)))

set.seed(20261129)
out$bootstrap_strat_fpc <- withmult(as.svrepdesign(ds, type = "bootstrap", replicates = 50))
out$bootstrap_clus1_fpc <- withmult(as.svrepdesign(dc1, type = "bootstrap", replicates = 50))
out$subbootstrap_strat <- withmult(as.svrepdesign(ds, type = "subbootstrap", replicates = 50))
out$mrbbootstrap_strat_fpc <- withmult(as.svrepdesign(ds, type = "mrbbootstrap", replicates = 50))
out$mrbbootstrap_clus2_fpc <- withmult(as.svrepdesign(dc2, type = "mrbbootstrap", replicates = 50))

# JKn with single-PSU strata: apiclus1 with the artificial strata 'grp' of
# make_design_reference.R (districts grouped; g1 and g5 hold one district), every
# lonely-PSU policy of R's jknweights (certainty/remove: no replicate; average: scale
# n_psu/replicates; adjust: one replicate zeroing the lonely PSU, others * H/(H - 1))
d <- sort(unique(apiclus1$dnum))
grp <- c(rep("g1", 1), rep("g2", 4), rep("g3", 4), rep("g4", 5), rep("g5", 1))
apiclus1$grp <- setNames(grp, d)[as.character(apiclus1$dnum)]
lon <- list()
for (pol in c("certainty", "remove", "adjust", "average")) {
  options(survey.lonely.psu = pol)
  r <- as.svrepdesign(svydesign(ids = ~dnum, strata = ~grp, weights = ~pw, data = apiclus1), type = "JKn")
  lon[[pol]] <- list(mean_se = unname(SE(svymean(~api00, r))), total_se = unname(SE(svytotal(~api00, r))),
                     scale = r$scale, rscales = unname(r$rscales), degf = degf(r),
                     n_replicates = ncol(weights(r, "analysis")))
}
options(survey.lonely.psu = "fail")
out$jkn_lonely_clus1 <- lon

write_json(out, "fixtures/replicates_reference.json", digits = NA, auto_unbox = TRUE, pretty = FALSE)
cat("wrote fixtures/replicates_reference.json\n")

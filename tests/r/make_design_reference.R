# Reference values for remitpov's variance engine (lonely PSUs, replicate designs).
# Run from the project root:  Rscript tests/r/make_design_reference.R [SHARED_DIR]
# Writes fixtures/design_reference.json. R survey 4.1.1.
suppressMessages({library(survey); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
shared <- if (length(args)) args[1] else Sys.getenv("REMITPOV_SHARED", "../shared")
rd <- function(f) read.csv(gzfile(file.path(shared, "data", "api", paste0(f, ".csv.gz"))))
apiclus1 <- rd("apiclus1"); apistrat <- rd("apistrat")
out <- list(meta = list(survey = as.character(packageVersion("survey")), R = R.version.string,
  note = paste("lonely: apiclus1 with strata = artificial grouping 'grp' of districts (dnum) so that",
               "two strata have a single PSU; replicate: as.svrepdesign JK1 on apiclus1, JKn on",
               "apistrat (no fpc); svymean/svytotal of api00, svyratio api00/api99")))
# artificial strata: districts sorted, grouped; groups 'g1' and 'g5' have one district
d <- sort(unique(apiclus1$dnum))
grp <- c(rep("g1", 1), rep("g2", 4), rep("g3", 4), rep("g4", 5), rep("g5", 1))
map <- setNames(grp, d)
apiclus1$grp <- map[as.character(apiclus1$dnum)]
lon <- list()
for (pol in c("certainty", "remove", "adjust", "average")) {
  options(survey.lonely.psu = pol)
  des <- svydesign(ids = ~dnum, strata = ~grp, weights = ~pw, data = apiclus1)
  m <- svymean(~api00, des); t <- svytotal(~api00, des)
  b <- svyby(~api00, ~stype, des, svymean)
  lon[[pol]] <- list(mean = unname(coef(m)), mean_se = unname(SE(m)), total = unname(coef(t)),
                     total_se = unname(SE(t)), by_stype_se = setNames(as.list(unname(SE(b))), b$stype))
}
options(survey.lonely.psu = "fail")
out$lonely <- lon
out$lonely_strata <- as.list(map)
rep <- list()
dc <- svydesign(ids = ~dnum, weights = ~pw, data = apiclus1)
jk1 <- as.svrepdesign(dc, type = "JK1")
ds <- svydesign(ids = ~1, strata = ~stype, weights = ~pw, data = apistrat)
jkn <- as.svrepdesign(ds, type = "JKn")
`%||%` <- function(a, b) if (is.null(a)) b else a
g <- function(des) {
  m <- svymean(~api00, des); t <- svytotal(~api00, des); r <- svyratio(~api00, ~api99, des)
  b <- svyby(~api00, ~sch.wide, des, svymean)
  list(mean = unname(coef(m)), mean_se = unname(SE(m)), total = unname(coef(t)), total_se = unname(SE(t)),
       ratio = unname(coef(r)), ratio_se = unname(SE(r)),
       by_schwide_se = setNames(as.list(unname(SE(b))), b$sch.wide),
       n_replicates = ncol(weights(des, "analysis")))
}
out$jk1_clus1 <- g(jk1)
out$jkn_strat <- g(jkn)
write_json(out, "fixtures/design_reference.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote fixtures/design_reference.json\n")

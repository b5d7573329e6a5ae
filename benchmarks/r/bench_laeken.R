# laeken timings for benchmarks/bench_fgt.py: Gini and at-risk-of-poverty rate (point estimates).
# Usage: Rscript bench_laeken.R data.csv repeats out.json   (columns income, w)
# gini(): one weighted sort; arpr(): 60 % of the weighted median (laeken's weightedQuantile), strict y < line.
suppressPackageStartupMessages({library(laeken); library(data.table); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
csv <- args[1]; reps <- as.integer(args[2]); out <- args[3]
dat <- as.data.frame(fread(csv, select = c("income", "w")))
x <- dat$income; w <- dat$w
tg <- list(); ta <- list()
gc(reset = TRUE)
for (r in seq_len(reps)) {
  tg[[r]] <- system.time(g <- gini(x, weights = w))
  ta[[r]] <- system.time(a <- arpr(x, weights = w))
}
mem <- sum(gc()[, 6])
el <- function(L) sapply(L, function(t) unname(t["elapsed"]))
cp <- function(L) sapply(L, function(t) unname(t["user.self"] + t["sys.self"]))
writeLines(toJSON(list(tool = "R laeken", version = as.character(packageVersion("laeken")),
                       elapsed = list(gini = el(tg), arpr = el(ta)), cpu = list(gini = cp(tg), arpr = cp(ta)),
                       max_used_mb = mem, gini = g$value, arpr = a$value, arpt = a$threshold),
                  digits = NA, auto_unbox = TRUE), out)

# R survey timings for benchmarks/bench_fgt.py (called by it; not run by the tests).
#
# Usage: Rscript bench_survey.R data.csv repeats out.json
# The CSV holds the synthetic person-level survey with precomputed FGT indicator columns
# (g0w g1w g2w = FGT(0,1,2) with remittances, g0o g1o g2o = without, d0 d1 d2 = with - without)
# so that R only times the design and the estimation, as a user would run them:
#   svydesign(ids=~psu, strata=~strata, weights=~w)   (with-replacement, linearised SEs)
#   svymean(~g0w+...+g2o)                             FGT(0,1,2) with and without, total
#   svyby(~g0w+...+g2o, ~urban, svymean)              by urban/rural
#   svycontrast(svymean, with - without)              differences, total and by domain
# Each step is timed with system.time() inside R (elapsed and user+sys), `repeats` runs,
# and gc()'s "max used" memory (Mb) is reported for one run of the whole table.
suppressPackageStartupMessages({library(survey); library(data.table); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
csv <- args[1]; reps <- as.integer(args[2]); out <- args[3]
t_read <- system.time(dat <- as.data.frame(fread(csv)))
vars <- c("g0w", "g1w", "g2w", "g0o", "g1o", "g2o")
fml <- as.formula(paste("~", paste(vars, collapse = "+")))
C <- matrix(0, 3, 6); for (a in 1:3) { C[a, a] <- 1; C[a, a + 3] <- -1 }
Cd <- matrix(0, 6, 12)  # svyby coef order: var-major (g0w:0, g0w:1, g1w:0, ...)
for (a in 1:3) for (d in 1:2) { Cd[(d - 1) * 3 + a, (a - 1) * 2 + d] <- 1; Cd[(d - 1) * 3 + a, (a + 2) * 2 + d] <- -1 }
run <- function() {
  t <- list()
  t$design <- system.time(des <- svydesign(ids = ~psu, strata = ~strata, weights = ~w, data = dat))
  t$total <- system.time(m <- svymean(fml, des))
  t$domain <- system.time(b <- svyby(fml, ~urban, des, svymean, covmat = TRUE))
  t$difference <- system.time({
    dt <- svycontrast(m, lapply(1:3, function(a) setNames(C[a, ], names(coef(m)))))
    dd <- svycontrast(b, lapply(1:6, function(r) setNames(Cd[r, ], names(coef(b)))))
  })
  list(t = t, m = m, b = b, dt = dt, dd = dd)
}
res <- NULL
times <- list()
gc(reset = TRUE)
for (r in seq_len(reps)) {
  res <- run()
  if (r == 1) mem <- sum(gc()[, 6])  # "max used" (Mb), Ncells + Vcells, first run
  times[[r]] <- res$t
}
step <- function(s, k) sapply(times, function(tt) unname(tt[[s]][k]))
cpu <- function(s) sapply(times, function(tt) unname(tt[[s]]["user.self"] + tt[[s]]["sys.self"]))
steps <- c("design", "total", "domain", "difference")
b <- res$b
bys <- as.character(b$urban)
est_by <- unlist(lapply(seq_along(bys), function(i) unlist(b[i, vars])))
se_by <- unlist(lapply(seq_along(bys), function(i) unlist(b[i, paste0("se.", vars)])))
outl <- list(
  tool = "R survey", version = as.character(packageVersion("survey")), R = R.version.string,
  read_seconds = unname(t_read["elapsed"]),
  elapsed = setNames(lapply(steps, function(s) step(s, "elapsed")), steps),
  cpu = setNames(lapply(steps, cpu), steps),
  max_used_mb = mem,
  total = list(estimate = unname(coef(res$m)), se = unname(SE(res$m))),
  domain = list(labels = bys, estimate = unname(est_by), se = unname(se_by)),
  diff_total = list(estimate = unname(coef(res$dt)), se = unname(SE(res$dt))),
  diff_domain = list(estimate = unname(coef(res$dd)), se = unname(SE(res$dd)))
)
writeLines(toJSON(outl, digits = NA, auto_unbox = TRUE), out)

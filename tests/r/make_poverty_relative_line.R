# Reference values for remitpov.poverty relative (estimated) poverty lines.
#
# Convey-style linearisation of FGT(0,1,2) at 60% of the weighted median of eqIncome
# (laeken quantile rule), written out BY HAND (convey is not installed) and handed to
# survey::svytotal for the design variance: the SE of the total of the linearised
# variable is the SE of the indicator. Design as in eusilc_fgt.json:
# svydesign(ids=~db030, strata=~db040, weights=~rb050).
#
#   q     = laeken weightedQuantile(eqIncome, rb050, 0.5)  (first x with cumw/W > 0.5)
#   z     = 0.6 q
#   h     = convey h_fun: sqrt(weighted population variance) / N^(1/5), N = sum of weights
#   f(x)  = sum w dnorm((x - y)/h) / (N h)                  (convey densfun)
#   I_z   = -0.6 (1[y <= q] - 0.5) / (N f(q))               (convey svyarpt lin)
#   lin_a = 1[D] (g_a - P_a)/N_D + A_a I_z,  A_0 = f_D(z) (domain h),
#           A_a = sum_D w a ((z-y)/z)^(a-1) y/z^2 1[y<z] / N_D  (a >= 1)
#
# Usage: Rscript tests/r/make_poverty_relative_line.R [shared_dir] > fixtures/poverty_relative_line.json
suppressMessages({library(survey); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
shared <- if (length(args)) args[1] else Sys.getenv("REMITPOV_SHARED", "../shared")
d <- read.csv(gzfile(file.path(shared, "data", "eusilc", "eusilc.csv.gz")))
y <- d$eqIncome; w <- d$rb050; N <- sum(w)
o <- order(y); rw <- cumsum(w[o]) / sum(w); q <- y[o][min(which(rw > 0.5))]
z <- 0.6 * q
hfun <- function(y, w) { N <- sum(w); sqrt((sum(w * y * y) - sum(w * y)^2 / N) / N) / exp(0.2 * log(N)) }
dens <- function(x, y, w, h) sum(w * dnorm((x - y) / h)) / (sum(w) * h)
h <- hfun(y, w)
fq <- dens(q, y, w, h)
Iz <- -0.6 * ((y <= q) - 0.5) / (N * fq)
des <- svydesign(ids = ~db030, strata = ~db040, weights = ~rb050, data = d)
g <- function(a) if (a == 0) as.numeric(y < z) else ifelse(y < z, ((z - y) / z)^a, 0)
dg <- function(a) ifelse(y < z, a * ((z - y) / z)^(a - 1) * y / z^2, 0)
one <- function(dom) {
  ind <- as.numeric(dom); ND <- sum(w * ind)
  out <- list()
  for (a in 0:2) {
    P <- sum(w * ind * g(a)) / ND
    A <- if (a == 0) dens(z, y[ind == 1], w[ind == 1], hfun(y[ind == 1], w[ind == 1])) else sum(w * ind * dg(a)) / ND
    lin <- ind * (g(a) - P) / ND + A * Iz
    fixed <- ind * (g(a) - P) / ND
    des2 <- update(des, lin = lin, fixed = fixed)
    out[[paste0("fgt", a)]] <- list(estimate = P, se = unname(SE(svytotal(~lin, des2))[1]),
                                    se_fixed_line = unname(SE(svytotal(~fixed, des2))[1]), dPdz = A)
  }
  out
}
res <- list(
  meta = list(R = R.version.string, survey = as.character(packageVersion("survey")),
              design = "svydesign(ids=~db030, strata=~db040, weights=~rb050, data=eusilc)",
              definition = "see the header of tests/r/make_poverty_relative_line.R",
              median = q, line = z, bandwidth = h, density_at_median = fq),
  national = one(rep(TRUE, nrow(d))),
  by_rb090 = list(male = one(d$rb090 == "male"), female = one(d$rb090 == "female"))
)
cat(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE))

# Reference values for remitpov.inequality on laeken's eusilc data (tests/test_inequality_eusilc.py).
#
# Run from the project root:  Rscript tests/r/make_inequality_eusilc.R
# (reads $REMITPOV_SHARED/data/eusilc/eusilc.csv.gz, default ../shared; writes
#  fixtures/inequality_eusilc.json)
#
# 1. Gini linearised standard errors, coded here independently of remitpov from the
#    published linearised variable of Langel & Tille (2013, JRSS A 176, eq. for u_k;
#    also Osier 2009):
#       u_k = [ 2 N_k (y_k - Y_k / N_k) + Y - N y_k - G (Y + N y_k) ] / (N Y)
#    with N_k = sum of weights of units with y_l <= y_k, Y_k = sum of w_l y_l over the
#    same units, N, Y the totals and G the Gini. The variance is that of the total of
#    u_k: survey::svytotal(~u, design). Two variants are stored:
#      "published": N_k, Y_k cumulative INCLUDING all ties (the formula as printed);
#      "midrank":   N_k, Y_k minus half the tied weight / income (the weighted mid-rank
#                   convention under which G equals laeken's estimator exactly).
#    Domains: u_k computed from the domain's units only, zero outside, svytotal on the
#    FULL design (domains are not subsets).
# 2. survey::svyquantile (survey 4.1.1) Woodruff standard errors (interval.type="mean")
#    for qrule = "math", "hf7" and laeken's weightedQuantile rule passed as a function.
suppressMessages({library(survey); library(laeken); library(jsonlite)})
shared <- Sys.getenv("REMITPOV_SHARED", "../shared")
d <- read.csv(gzfile(file.path(shared, "data", "eusilc", "eusilc.csv.gz")))
des <- svydesign(ids = ~db030, strata = ~db040, weights = ~rb050, data = d)

gini_lin <- function(x, w, variant) {
  # x, w: incomes and weights of the units in the domain
  o <- order(x)
  xs <- x[o]; ws <- w[o]
  N <- sum(ws); Y <- sum(ws * xs)
  cw <- cumsum(ws); cy <- cumsum(ws * xs)
  Nk <- ave(cw, xs, FUN = max)            # weight with y_l <= y_k (ties included)
  Yk <- ave(cy, xs, FUN = max)
  if (variant == "midrank") {
    Nk <- Nk - ave(ws, xs, FUN = sum) / 2
    Yk <- Yk - ave(ws * xs, xs, FUN = sum) / 2
  }
  G <- (2 * sum(ws * xs * cumsum(ws)) - sum(ws^2 * xs)) / (N * Y) - 1
  u <- (2 * Nk * (xs - Yk / Nk) + Y - N * xs - G * (Y + N * xs)) / (N * Y)
  out <- numeric(length(x)); out[o] <- u
  list(G = G, u = out)
}

gini_ref <- function(dom) {
  res <- list()
  for (variant in c("published", "midrank")) {
    ests <- c(); ses <- c()
    for (lev in names(dom)) {
      m <- dom[[lev]]
      g <- gini_lin(d$eqIncome[m], d$rb050[m], variant)
      u <- numeric(nrow(d)); u[m] <- g$u
      des2 <- update(des, u_lin = u)
      st <- svytotal(~u_lin, des2)
      ests[lev] <- g$G; ses[lev] <- as.numeric(SE(st))
    }
    res[[variant]] <- list(estimate = as.list(ests), se = as.list(ses))
  }
  res
}

all_dom <- list(all = rep(TRUE, nrow(d)))
reg <- sort(unique(d$db040)); reg_dom <- setNames(lapply(reg, function(r) d$db040 == r), reg)
sex <- sort(unique(d$rb090)); sex_dom <- setNames(lapply(sex, function(r) d$rb090 == r), sex)

# cross-check of the point value against laeken
lg <- laeken::gini("eqIncome", weights = "rb050", data = d)$value / 100

laeken_rule <- function(x, w, p) {
  o <- order(x); x <- x[o]; w <- w[o]
  rw <- cumsum(w) / sum(w)
  x[min(which(rw > p))]
}
probs <- c(0.1, 0.25, 0.5, 0.75, 0.9)
qref <- list()
for (rule in c("math", "hf7", "laeken")) {
  qr <- if (rule == "laeken") laeken_rule else rule
  q <- svyquantile(~eqIncome, des, probs, qrule = qr, interval.type = "mean", ci = TRUE)
  tab <- q$eqIncome
  qref[[rule]] <- list(p = probs, estimate = unname(tab[, 1]), ci_lower = unname(tab[, 2]),
                       ci_upper = unname(tab[, 3]), se = unname(tab[, 4]))
}
# domain medians by sex (svyby = subsets of the design; df fixed to the full design's)
qby <- list()
for (rule in c("math", "hf7")) {
  b <- svyby(~eqIncome, ~rb090, des, svyquantile, quantiles = 0.5, qrule = rule, ci = TRUE,
             df = degf(des), keep.var = TRUE)
  qby[[rule]] <- list(domain = as.character(b$rb090), estimate = unname(b$eqIncome),
                      se = unname(b[["se.eqIncome"]]))
}

# 3. quantile rules on a small deterministic weighted sample without ties (stored with
#    its data): survey's internal qrule_hf7 / qrule_math / qrule_school.
xs <- round(((1:41) * 37) %% 101 + sqrt(1:41), 6)
ws <- ((1:41) %% 7) + 0.5
pr <- c(0.01, 0.05, 0.1, 0.25, 0.33, 0.5, 0.66, 0.75, 0.9, 0.99)
qsyn <- list(x = xs, w = ws, p = pr,
             hf7 = sapply(pr, function(p) survey:::qrule_hf7(xs, ws, p)),
             math = sapply(pr, function(p) survey:::qrule_math(xs, ws, p)),
             school = sapply(pr, function(p) survey:::qrule_school(xs, ws, p)))

out <- list(
  meta = list(
    script = "tests/r/make_inequality_eusilc.R",
    R = R.version.string, survey = as.character(packageVersion("survey")),
    laeken = as.character(packageVersion("laeken")),
    design = "svydesign(ids=~db030, strata=~db040, weights=~rb050, data=eusilc)",
    degf = degf(des),
    gini = "Langel-Tille (2013) linearised variable, variance of its total (svytotal); 0-1 scale",
    quantile = "svyquantile(interval.type='mean') Woodruff; se = (upper - lower)/(2 qt(0.975, degf))"
  ),
  gini_laeken = lg,
  gini = list(national = gini_ref(all_dom), db040 = gini_ref(reg_dom), rb090 = gini_ref(sex_dom)),
  quantile = qref,
  quantile_by_rb090 = qby,
  quantile_rules_synthetic = qsyn
)
write_json(out, "fixtures/inequality_eusilc.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote fixtures/inequality_eusilc.json\n")

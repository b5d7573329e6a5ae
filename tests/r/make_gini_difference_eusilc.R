# Reference values for remitpov.inequality.compare_inequality (tests/test_compare_inequality.py):
# the Gini of two income concepts on the SAME sample and the SE of their difference.
#
# Run from the project root:  Rscript tests/r/make_gini_difference_eusilc.R
# (reads $REMITPOV_SHARED/data/eusilc/eusilc.csv.gz, default ../shared; writes
#  fixtures/gini_difference_eusilc.json)
#
# Concepts (as ../shared/reference/eusilc_fgt.json):
#   with    = eqIncome                    (laeken's equivalised income)
#   without = eqIncome - hy080n / eqSS    (without regular inter-household cash transfers
#                                          received, the remittance-like item; 4 negative values)
# The Langel & Tille (2013) linearised Gini variable u_k is taken from
# tests/r/make_inequality_eusilc.R (function gini_lin, evaluated from that file, not copied),
# computed for each concept; the difference's variance is that of the total of
# u_with - u_without on the same design (svytotal), and the joint vcov of the two Ginis is
# vcov(svytotal(~u_with + u_without)). Both tie variants ("published": cumulative sums
# including ties; "midrank": minus half the tied weight) are stored. Domains: u from the
# domain's units, zero outside, svytotal on the FULL design.
suppressMessages({library(survey); library(laeken); library(jsonlite)})
shared <- Sys.getenv("REMITPOV_SHARED", "../shared")
d <- read.csv(gzfile(file.path(shared, "data", "eusilc", "eusilc.csv.gz")))
d$noT <- d$eqIncome - d$hy080n / d$eqSS
des <- svydesign(ids = ~db030, strata = ~db040, weights = ~rb050, data = d)

for (e in parse(file.path("tests", "r", "make_inequality_eusilc.R"))) {
  if (is.call(e) && identical(e[[1]], as.name("<-")) && identical(e[[2]], as.name("gini_lin"))) eval(e)
}
stopifnot(exists("gini_lin"))

diff_ref <- function(dom) {
  res <- list()
  for (variant in c("published", "midrank")) {
    out <- list()
    for (lev in names(dom)) {
      m <- dom[[lev]]
      gw <- gini_lin(d$eqIncome[m], d$rb050[m], variant)
      go <- gini_lin(d$noT[m], d$rb050[m], variant)
      uw <- numeric(nrow(d)); uw[m] <- gw$u
      uo <- numeric(nrow(d)); uo[m] <- go$u
      des2 <- update(des, u_with = uw, u_without = uo, u_diff = uw - uo)
      joint <- svytotal(~u_with + u_without, des2)
      dt <- svytotal(~u_diff, des2)
      V <- unname(vcov(joint))
      out[[lev]] <- list(gini_with = gw$G, gini_without = go$G, difference = gw$G - go$G,
                         se_with = sqrt(V[1, 1]), se_without = sqrt(V[2, 2]), cov = V[1, 2],
                         se_difference = as.numeric(SE(dt)))
    }
    res[[variant]] <- out
  }
  res
}

all_dom <- list(all = rep(TRUE, nrow(d)))
reg <- sort(unique(d$db040)); reg_dom <- setNames(lapply(reg, function(r) d$db040 == r), reg)
sex <- sort(unique(d$rb090)); sex_dom <- setNames(lapply(sex, function(r) d$rb090 == r), sex)

out <- list(
  meta = c(
    lapply(c(survey = "survey", laeken = "laeken"), function(pkg) as.character(packageVersion(pkg))),
    list(script = "tests/r/make_gini_difference_eusilc.R", R = R.version.string, degf = degf(des),
         design = "svydesign(ids=~db030, strata=~db040, weights=~rb050, data=eusilc)"),
    list(concepts = list(with = "eqIncome", without = "eqIncome - hy080n/eqSS"),
         difference = "with minus without; SE = SE(svytotal(~u_with - u_without)) on the same design",
         gini = "Langel-Tille (2013) linearised variable (gini_lin of make_inequality_eusilc.R); 0-1 scale")
  ),
  gini_laeken = list(with = laeken::gini("eqIncome", weights = "rb050", data = d)$value / 100,
                     without = laeken::gini("noT", weights = "rb050", data = d)$value / 100),
  national = diff_ref(all_dom), db040 = diff_ref(reg_dom), rb090 = diff_ref(sex_dom)
)
write_json(out, "fixtures/gini_difference_eusilc.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote fixtures/gini_difference_eusilc.json\n")

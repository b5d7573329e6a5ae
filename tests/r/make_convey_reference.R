# Reference values for remitpov.measures (arpt, rmpg, poormed, rmir, zenga) from R convey.
#
# convey is not in Debian. Its source is the public repository ajdamico/convey (1.0.1,
# 2024-10-16); install it into a private library once, e.g.
#   git clone https://github.com/ajdamico/convey /tmp/convey   (or `git archive` of a mirror)
#   sed -i 's/survey (>= 4.2-1)/survey (>= 4.1-1)/' /tmp/convey/DESCRIPTION
#   mkdir -p /tmp/rlib && R CMD INSTALL -l /tmp/rlib /tmp/convey
# The DESCRIPTION edit only relaxes the version check: Debian ships survey 4.1.1, and the
# functions used here call only survey API present in 4.1.1 (oldsvyquantile, svyrecvar).
#
# Design as in eusilc_fgt.json: svydesign(ids=~db030, strata=~db040, weights=~rb050) on
# laeken's eusilc (equivalised income eqIncome), then convey_prep.
#
# Usage: R_LIBS=/tmp/rlib Rscript tests/r/make_convey_reference.R [shared_dir] > fixtures/convey_eusilc.json
suppressMessages({library(survey); library(convey); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
shared <- if (length(args)) args[1] else Sys.getenv("REMITPOV_SHARED", "../shared")
d <- read.csv(gzfile(file.path(shared, "data", "eusilc", "eusilc.csv.gz")))
d$eqIncome5000 <- pmax(d$eqIncome, 5000)  # censored: a tie block of 288 units at 5000
des <- convey_prep(svydesign(ids = ~db030, strata = ~db040, weights = ~rb050, data = d))
one <- function(x, extra = list()) c(list(estimate = unname(coef(x))[1], se = unname(SE(x))[1]), extra)

arpt <- svyarpt(~eqIncome, des)
arpt50 <- svyarpt(~eqIncome, des, percent = 0.5)
arpt_q40 <- svyarpt(~eqIncome, des, quantiles = 0.4, percent = 1)
arpr <- svyarpr(~eqIncome, des)
poormed <- svypoormed(~eqIncome, des)
rmpg <- svyrmpg(~eqIncome, des, thresh = TRUE, poor_median = TRUE)
rmpg50 <- svyrmpg(~eqIncome, des, percent = 0.5)
rmir <- svyrmir(~eqIncome, des, age = ~age, med_old = TRUE, med_young = TRUE)
rmir60 <- svyrmir(~eqIncome, des, age = ~age, agelim = 60)
zenga <- svyzenga(~eqIncome, des)
zenga_ties <- svyzenga(~eqIncome5000, des)

# domains (svyby): sex. Thresholds of svyrmpg/svypoormed stay national (convey's full_design)
by_sex <- function(FUN, ...) {
  b <- svyby(~eqIncome, ~rb090, des, FUN, ...)
  setNames(lapply(seq_len(nrow(b)), function(i) list(estimate = unname(coef(b))[i], se = unname(SE(b))[i])),
           as.character(b$rb090))
}
by_rb090 <- list(arpt = by_sex(svyarpt), poor_median = by_sex(svypoormed), rmpg = by_sex(svyrmpg),
                 rmir = by_sex(svyrmir, age = ~age), zenga = by_sex(svyzenga))

res <- list(
  meta = list(R = R.version.string, survey = as.character(packageVersion("survey")),
              convey = as.character(packageVersion("convey")),
              design = "convey_prep(svydesign(ids=~db030, strata=~db040, weights=~rb050, data=eusilc))",
              income = "eqIncome", n = nrow(d)),
  arpt = one(arpt),
  arpt_percent50 = one(arpt50),
  arpt_q40_percent100 = one(arpt_q40),
  arpr = one(arpr),
  poormed = one(poormed),
  rmpg = one(rmpg, list(thresh = unname(attr(rmpg, "thresh")), poor_median = unname(attr(rmpg, "poor_median")))),
  rmpg_percent50 = one(rmpg50),
  rmir = one(rmir, list(med_old = unname(attr(rmir, "med_old")), med_young = unname(attr(rmir, "med_young")))),
  rmir_agelim60 = one(rmir60),
  zenga = one(zenga),
  zenga_ties = one(zenga_ties),
  by_rb090 = by_rb090
)
cat(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE))

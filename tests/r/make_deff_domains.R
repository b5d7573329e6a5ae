# Reference design effects by domain: R survey's svyby(..., deff = TRUE) and deff = "replace".
# Run from the project root:  Rscript tests/r/make_deff_domains.R [SHARED_DIR]
# Writes fixtures/deff_domains.json. R survey 4.1.1.
#
# svyby applies the statistic to subset(design, domain): the SRS variance of a domain
# estimate uses the domain's own sample size n_d and population N_d (sum of its weights),
#   mean:  svyvar(x) (N_d - n_d) / (N_d n_d)       deff = "replace": svyvar(x) / n_d
#   total: svyvar(x) N_d^2 (N_d - n_d) / (N_d n_d)  deff = "replace": svyvar(x) N_d^2 / n_d
#   ratio: deff of svytotal of the ratio's influence values r = (y - R x) / X_d
# and the design variance keeps every PSU (zero weights outside the domain).
suppressMessages({library(survey); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
shared <- if (length(args)) args[1] else Sys.getenv("REMITPOV_SHARED", "../shared")
rd <- function(f) read.csv(gzfile(file.path(shared, "data", "api", paste0(f, ".csv.gz"))))
apiclus1 <- rd("apiclus1"); apistrat <- rd("apistrat")
line <- 600
for (nm in c("apiclus1", "apistrat")) {
  d <- get(nm)
  d$g0 <- as.numeric(d$api00 < line)                       # FGT(0) contributions at a line of 600
  d$g1 <- ifelse(d$api00 < line, (line - d$api00) / line, 0)  # FGT(1)
  assign(nm, d)
}
designs <- list(
  clus1 = list(des = svydesign(ids = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc), by = ~stype),
  strat = list(des = svydesign(ids = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc),
               by = ~sch.wide))
one <- function(b) {  # a svyby result -> list(domain, estimate, se, deff) (the DEff column by name)
  list(domain = as.character(b[[1]]), estimate = unname(as.numeric(coef(b))), se = unname(as.numeric(SE(b))),
       deff = unname(b[[grep("^DEff", names(b))[1]]]))
}
out <- list(meta = list(survey = as.character(packageVersion("survey")), R = R.version.string,
  line = line,
  note = paste("clus1: svydesign(ids=~dnum, weights=~pw, fpc=~fpc, data=apiclus1), domains ~stype;",
               "strat: svydesign(ids=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat), domains ~sch.wide;",
               "g0/g1 = FGT(0)/FGT(1) contributions of api00 at the line 600 (strict <);",
               "deff=TRUE and deff='replace' through svyby; 'all' = the statistic on the whole design")))
for (dn in names(designs)) {
  des <- designs[[dn]]$des; by <- designs[[dn]]$by
  res <- list()
  for (df in list(TRUE, "replace")) {
    key <- if (isTRUE(df)) "deff_true" else "deff_replace"
    m <- svyby(~api00, by, des, svymean, deff = df)
    t <- svytotal(~enroll, des, deff = df)
    tb <- svyby(~enroll, by, des, svytotal, deff = df)
    r <- svyby(~api00, by, des, svyratio, denominator = ~api99, deff = df)
    g <- svyby(~g0 + g1, by, des, svymean, deff = df)
    ma <- svymean(~api00, des, deff = df)
    ra <- svyratio(~api00, ~api99, des, deff = df)
    res[[key]] <- list(
      mean_api00 = one(m), total_enroll = one(tb), ratio_api00_api99 = one(r),
      fgt_api00 = list(domain = as.character(g[[1]]), g0 = unname(g$g0), g1 = unname(g$g1),
                       se_g0 = unname(g$se.g0), se_g1 = unname(g$se.g1),
                       deff_g0 = unname(g$DEff.g0), deff_g1 = unname(g$DEff.g1)),
      all = list(mean_api00 = unname(coef(ma)), mean_api00_deff = unname(as.numeric(deff(ma))),
                 total_enroll = unname(coef(t)), total_enroll_deff = unname(as.numeric(deff(t))),
                 ratio_api00_api99 = unname(as.numeric(coef(ra))),
                 ratio_api00_api99_deff = unname(as.numeric(attr(ra, "deff")))))
  }
  out[[dn]] <- res
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "fixtures/deff_domains.json")
cat("wrote fixtures/deff_domains.json\n")

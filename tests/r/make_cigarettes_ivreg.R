# Reference values for remitpov.econometrics.iv on CigarettesSW (Stock & Watson, ch. 12).
#
# Run from the repository root:
#   REMITPOV_SHARED=../shared Rscript tests/r/make_cigarettes_ivreg.R
# Writes fixtures/cigarettes_ivreg.json.   R 4.2.2, AER, sandwich, jsonlite.
suppressPackageStartupMessages({library(AER); library(sandwich); library(jsonlite)})
shared <- Sys.getenv("REMITPOV_SHARED", "../shared")
d <- read.csv(file.path(shared, "data", "econ", "CigarettesSW.csv.gz"))
d <- subset(d, year == 1995)
d$rprice <- d$price / d$cpi
d$rincome <- d$income / d$population / d$cpi
d$rtaxs <- (d$taxs - d$tax) / d$cpi
d$rtax <- d$tax / d$cpi
res <- function(fit) {
  s <- summary(fit, diagnostics = TRUE)
  list(coef = as.list(coef(fit)),
       se_classical = as.list(sqrt(diag(vcov(fit)))),
       se_hc0 = as.list(sqrt(diag(vcovHC(fit, type = "HC0")))),
       se_hc1 = as.list(sqrt(diag(vcovHC(fit, type = "HC1")))),
       sigma = s$sigma, nobs = nobs(fit),
       diagnostics = setNames(lapply(seq_len(nrow(s$diagnostics)), function(i) as.list(s$diagnostics[i, ])),
                              rownames(s$diagnostics)))
}
f2 <- ivreg(log(packs) ~ log(rprice) + log(rincome) | log(rincome) + rtaxs + rtax, data = d)
f1 <- ivreg(log(packs) ~ log(rprice) + log(rincome) | log(rincome) + rtaxs, data = d)
# weighted (population weights), to check the weights path
fw <- ivreg(log(packs) ~ log(rprice) + log(rincome) | log(rincome) + rtaxs + rtax, data = d, weights = population)
out <- list(
  meta = list(r_version = R.version.string, aer = as.character(packageVersion("AER")),
              data = "data/econ/CigarettesSW.csv.gz, year == 1995 (48 states)",
              definitions = "rprice=price/cpi, rincome=income/population/cpi, rtaxs=(taxs-tax)/cpi, rtax=tax/cpi",
              notes = paste("se_classical: sigma^2 (X'PzX)^-1 with sigma^2 = RSS/(n-k);",
                            "se_hc0/se_hc1: sandwich::vcovHC type HC0 / HC1;",
                            "diagnostics: summary(ivreg, diagnostics=TRUE) (Weak instruments F, Wu-Hausman, Sargan)")),
  two_instruments = res(f2), one_instrument = res(f1), weighted = res(fw))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "fixtures/cigarettes_ivreg.json")
print(summary(f2, diagnostics = TRUE))

"""RemittanceIV (remitpov.econometrics.iv) against R AER::ivreg on CigarettesSW.

Reference: fixtures/cigarettes_ivreg.json, made by tests/r/make_cigarettes_ivreg.R
(R 4.2.2, AER, sandwich). Stock & Watson's 1995 cross-section: log(packs) on
log(rprice) (endogenous) and log(rincome), instruments rtaxs and rtax.
Tolerance: relative 1e-8 -- both sides solve the same closed-form normal equations in
double precision; the JSON stores 15+ significant digits.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from remitpov.exceptions import InputError, WeakInstrumentWarning
from remitpov.econometrics.iv import RemittanceIV

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "cigarettes_ivreg.json"
RTOL = 1e-8
NAMES = {"Intercept": "(Intercept)", "lrprice": "log(rprice)", "lrincome": "log(rincome)"}


@pytest.fixture(scope="module")
def ref():
    return json.loads(FIX.read_text())


@pytest.fixture(scope="module")
def cig(shared):
    return cigarettes(shared, (1995,))


def cigarettes(shared, years=(1985, 1995)) -> pd.DataFrame:
    """CigarettesSW for the given years with Stock & Watson's real-price variables."""
    d = pd.read_csv(shared("data", "econ", "CigarettesSW.csv.gz"))
    d = d[d["year"].isin(years)].reset_index(drop=True)
    d["lrprice"] = np.log(d["price"] / d["cpi"])
    d["lrincome"] = np.log(d["income"] / d["population"] / d["cpi"])
    d["lpacks"] = np.log(d["packs"])
    d["rtaxs"] = (d["taxs"] - d["tax"]) / d["cpi"]
    d["rtax"] = d["tax"] / d["cpi"]
    return d


def _check(res, r, se_key):
    assert sorted(NAMES[k] for k in res.params.index) == sorted(r["coef"])  # every R coefficient checked
    for k, v in res.params.items():
        assert v == pytest.approx(r["coef"][NAMES[k]], rel=RTOL)
        assert res.std_errors[k] == pytest.approx(r[se_key][NAMES[k]], rel=RTOL)


@pytest.mark.parametrize("case,instr", [("two_instruments", "rtaxs + rtax"), ("one_instrument", "rtaxs")])
def test_2sls_equals_aer_ivreg(cig, ref, case, instr):
    iv = RemittanceIV.from_formula(f"lpacks ~ 1 + lrincome + [lrprice ~ {instr}]", cig)
    r = ref[case]
    _check(iv.fit(cov_type="unadjusted", debiased=True), r, "se_classical")
    _check(iv.fit(cov_type="HC0"), r, "se_hc0")
    _check(iv.fit(cov_type="HC1", debiased=True), r, "se_hc1")
    _check(iv.fit(cov_type="HC1"), r, "se_hc1")  # the registry name fixes the matrix; debiased only the df
    # old spellings: the same numbers, with a FutureWarning naming the new one
    with pytest.warns(FutureWarning, match="write cov_type='HC0'"):
        _check(iv.fit(cov_type="robust"), r, "se_hc0")
    with pytest.warns(FutureWarning, match="write cov_type='HC1'"):
        _check(iv.fit(cov_type="robust", debiased=True), r, "se_hc1")


def test_diagnostics_equal_aer(cig, ref):
    res = RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]", cig).fit(
        cov_type="unadjusted", debiased=True)
    d = ref["two_instruments"]["diagnostics"]
    assert res.first_stage.loc["lrprice", "f_stat"] == pytest.approx(d["Weak instruments"]["statistic"], rel=1e-8)
    assert res.overid["test"] == "Sargan"
    assert res.overid["stat"] == pytest.approx(d["Sargan"]["statistic"], rel=1e-8)
    assert res.exogeneity["stat"] == pytest.approx(d["Wu-Hausman"]["statistic"], rel=1e-8)
    assert not res.weak_instruments
    assert "Sargan" in " ".join(res.notes)
    assert len(res.diagnostics()) == 3
    # robust fit: F is the robust Wald / q; classical F kept for reference
    rob = RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]", cig).fit()
    assert rob.first_stage.loc["lrprice", "f_stat_classical"] == pytest.approx(
        d["Weak instruments"]["statistic"], rel=1e-8)
    assert rob.overid["test"].startswith("Wooldridge")


def test_weighted_equals_aer(cig, ref):
    iv = RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]", cig, weights="population")
    _check(iv.fit(cov_type="unadjusted", debiased=True), ref["weighted"], "se_classical")


def test_liml_gmm_and_clusters(cig):
    iv = RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]", cig)
    s = iv.fit("2sls", cov_type="HC0")
    l = iv.fit("liml", cov_type="HC0")
    g = iv.fit("gmm", cov_type="HC0")
    # over-identified but strong instruments: LIML and GMM close to 2SLS (within 1 SE)
    for r in (l, g):
        assert abs(r.params["lrprice"] - s.params["lrprice"]) < s.std_errors["lrprice"]
    assert g.overid["test"] == "Hansen J"
    # clusters: every state its own cluster == HC0 up to G/(G-1) only when debiased
    c = RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]", cig,
                                  clusters="state").fit()
    assert c.cov_type == "CR0"
    np.testing.assert_allclose(c.std_errors, s.std_errors, rtol=1e-10)
    # coarser clusters (first letter of the state): a different SE
    cig2 = cig.assign(region=cig["state"].astype(str).str[0])
    c2 = RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]", cig2,
                                   clusters="region").fit()
    assert c2.info["Clusters"] == cig2["region"].nunique()
    assert not np.allclose(c2.std_errors, s.std_errors)
    assert "Remittance IV" in str(c2.summary)


def test_weak_instrument_warns(cig):
    rng = np.random.default_rng(0)
    d = cig.assign(noise=rng.normal(size=len(cig)))
    with pytest.warns(WeakInstrumentWarning, match="partial F below 10"):
        res = RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ noise]", d).fit()
    assert res.weak_instruments


def test_bad_input(cig):
    with pytest.raises(InputError, match="endogenous block"):
        RemittanceIV.from_formula("lpacks ~ 1 + lrincome", cig)
    d = cig.copy()
    d.loc[2, "rtax"] = np.nan
    iv = RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]", d)
    with pytest.raises(InputError, match="missing in 1 row"):
        iv.fit()
    res = RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]", d, missing="drop").fit()
    assert res.nobs == len(d) - 1 and "dropped" in res.notes[0]
    with pytest.raises(InputError, match="clusters"):
        RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]", cig).fit(cov_type="CR1")
    with pytest.raises(InputError, match="not a covariance type"):
        RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]", cig).fit(cov_type="HC4")
    with pytest.raises(InputError, match="not available for this model"):
        RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]", cig).fit("liml", cov_type="HC2")
    with pytest.raises(InputError, match="estimator"):
        RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]", cig).fit("ols")


# ----------------------------------------------------------------------------- cluster-robust diagnostics
def test_cluster_robust_overid_reduces_to_linearmodels_with_singletons(cig):
    """Wooldridge's score test with one observation per cluster is the heteroskedasticity-robust
    one of linearmodels (an independent implementation), weighted or not."""
    from remitpov.econometrics.iv import score_overid_test

    for w in (None, "population"):
        iv = RemittanceIV.from_formula("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]", cig, weights=w,
                                       clusters="state")
        r = iv.fit(cov_type="HC0")
        mine = score_overid_test(r.arrays, r.params.to_numpy(), np.arange(r.nobs))
        assert mine["stat"] == pytest.approx(float(r.lm.wooldridge_overid.stat), rel=1e-10)
        assert r.overid["stat"] == pytest.approx(mine["stat"], rel=1e-10)
        c = iv.fit(cov_type="CR1")  # every state its own cluster: the same number
        assert c.overid["test"].startswith("Wooldridge score (cluster-robust")
        assert c.overid["stat"] == pytest.approx(mine["stat"], rel=1e-10)


def test_cluster_robust_overid_and_endogeneity_size_monte_carlo():
    """Known truth: valid instruments and an exogenous regressor, errors and instruments
    correlated within 30 clusters of 20. Over 400 replications the cluster-robust score
    overid test and the CR2 control-function endogeneity test reject at about 5 % (observed
    5.25 % and 7.25 %; MC SE 1.1 points, band 2 SE + 1 point for the small-G
    approximation), while their heteroskedasticity-only versions over-reject (55 %). CR1
    over-rejects with so few, so strongly correlated clusters (10 %; 4 % with 150 clusters)."""
    from remitpov.econometrics.iv import IVArrays, control_function_test, score_overid_test

    rng = np.random.default_rng(7)
    G, m, R = 30, 20, 400
    cl = np.repeat(np.arange(G), m)
    n = G * m
    rej = {"overid_cr": 0, "overid_hc": 0, "endog_cr": 0, "endog_hc": 0}
    for _ in range(R):  # replications
        Zx = rng.normal(size=(n, 2)) + 1.5 * rng.normal(size=(G, 2))[cl]
        u = rng.normal(size=n) + 1.5 * rng.normal(size=G)[cl]
        x = Zx @ np.array([0.5, 0.5]) + rng.normal(size=n) + rng.normal(size=G)[cl]  # exogenous
        y = 1.0 + 0.5 * x + u
        one = np.ones((n, 1))
        Z = np.column_stack([one, Zx])
        X = np.column_stack([one, x])
        Xhat = Z @ np.linalg.lstsq(Z, X, rcond=None)[0]
        b = np.linalg.solve(Xhat.T @ X, Xhat.T @ y)
        a = IVArrays(y, X, Z, Xhat, None, 1)
        rej["overid_cr"] += score_overid_test(a, b, cl)["pvalue"] < 0.05
        rej["overid_hc"] += score_overid_test(a, b, None)["pvalue"] < 0.05
        rej["endog_cr"] += control_function_test(a, "CR2", cl)["pvalue"] < 0.05
        rej["endog_hc"] += control_function_test(a, "HC1", None)["pvalue"] < 0.05
    rate = {k: v / R for k, v in rej.items()}
    band = 2 * np.sqrt(0.05 * 0.95 / R) + 0.01
    assert abs(rate["overid_cr"] - 0.05) < band, rate
    assert abs(rate["endog_cr"] - 0.05) < band, rate
    assert rate["overid_hc"] > 0.05 + band and rate["endog_hc"] > 0.05 + band, rate

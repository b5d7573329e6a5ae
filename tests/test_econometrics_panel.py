"""Cross-country panels: read_lac_panel and RemittancePanel against R plm 2.6-2.

Reference: fixtures/lac_panel_plm.json, made by tests/r/make_lac_panel_plm.R on
../shared/data/lac_panel (pooled, within individual/twoways, FE-2SLS and pooled 2SLS;
classical SEs and vcovHC(method="arellano", type="HC0") clustered by country).
Tolerance: relative 1e-9 -- the same least-squares algebra on the same rows in double
precision (observed agreement ~1e-13).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from remitpov.exceptions import InputError, WeakInstrumentWarning
from remitpov.econometrics.panel import RemittancePanel
from remitpov.io.lac_panel import read_lac_panel

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "lac_panel_plm.json"
RTOL = 1e-9
FG = "log(gini) ~ 1 + log(rm) + gov_e + debt_s + ca_balance"
FW = "pov_gap ~ 1 + personal_rm + gov_cons_exp + curr_acc_balance"
FIV = "log(gini) ~ 1 + gov_e + debt_s + ca_balance + [log(rm) ~ log(rm_l1) + log(rm_l3)]"


@pytest.fixture(scope="module")
def ref():
    return json.loads(FIX.read_text())


@pytest.fixture(scope="module")
def gini(shared):
    return read_lac_panel("gini", path=shared("data", "lac_panel"))


@pytest.fixture(scope="module")
def wdi(shared):
    return read_lac_panel("wdi", path=shared("data", "lac_panel"))


def _check(res, r, se_key):
    assert res.nobs == r["nobs"]
    names = {"(Intercept)": "Intercept"}
    assert len(res.params) == len(r["coef"])
    for k, v in r["coef"].items():
        p = names.get(k, k)
        assert res.params[p] == pytest.approx(v, rel=RTOL, abs=1e-14)
        assert res.std_errors[p] == pytest.approx(r[se_key][k], rel=RTOL)


@pytest.mark.parametrize("name,data,formula,effects", [
    ("gini_pooling", "gini", FG, "pooled"), ("gini_within", "gini", FG, "entity"),
    ("gini_twoways", "gini", FG, "twoways"), ("wdi_within", "wdi", FW, "entity"),
    ("wdi_twoways", "wdi", FW, "twoways")])
def test_ols_equals_plm(request, ref, name, data, formula, effects):
    df = request.getfixturevalue(data)
    m = RemittancePanel.from_formula(formula, df, entity="country", time="year")
    _check(m.fit(effects, cov_type="CR0"), ref[name], "se_cluster")
    _check(m.fit(effects), ref[name], "se_cluster")  # CR0 by country is the default
    _check(m.fit(effects, cov_type="unadjusted"), ref[name], "se_classical")
    with pytest.warns(FutureWarning, match="write cov_type='CR0'"):
        _check(m.fit(effects, cov_type="clustered"), ref[name], "se_cluster")


@pytest.mark.parametrize("name,effects", [("gini_iv_within", "entity"), ("gini_iv_pooling", "pooled")])
def test_iv_equals_plm(gini, ref, name, effects):
    m = RemittancePanel.from_formula(FIV, gini)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakInstrumentWarning)  # the FE first stage is weak
        _check(m.fit(effects, cov_type="CR0"), ref[name], "se_cluster")
        _check(m.fit(effects, cov_type="unadjusted"), ref[name], "se_classical")


def test_within_iv_first_stage_is_weak(gini):
    with pytest.warns(WeakInstrumentWarning):
        r = RemittancePanel.from_formula(FIV, gini).fit("entity")
    assert r.first_stage["weak"].all()
    assert r.method == "Country FE 2SLS"


def test_twoways_point_estimates_equal_statsmodels_dummies(gini):
    import statsmodels.formula.api as smf

    r = RemittancePanel.from_formula(FG, gini).fit("twoways")
    sm = smf.ols("np.log(gini) ~ np.log(rm) + gov_e + debt_s + ca_balance + C(country) + C(year)", gini).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(gini["country"])[0], "use_correction": False})
    # within transformation vs explicit dummies: the same least-squares solution (FWL), rounding only;
    # SEs: the same clustered sandwich, 1e-8 for the dummy regression's conditioning
    assert r.params["log(rm)"] == pytest.approx(sm.params["np.log(rm)"], rel=1e-10)
    assert r.std_errors["log(rm)"] == pytest.approx(sm.bse["np.log(rm)"], rel=1e-8)


def test_elasticities(gini, wdi):
    r = RemittancePanel.from_formula(FG, gini).fit("entity")
    e = r.elasticities()
    assert e.loc["log(rm)", "elasticity"] == r.params["log(rm)"]  # log-log: the coefficient
    assert e.loc["log(rm)", "kind"].startswith("log-log")
    r2 = RemittancePanel.from_formula(FW, wdi).fit("entity")
    cc = wdi.dropna(subset=["pov_gap", "personal_rm", "gov_cons_exp", "curr_acc_balance"])
    e2 = r2.elasticities().loc["personal_rm"]
    f = cc["personal_rm"].mean() / cc["pov_gap"].mean()
    # elasticity at the means = coefficient x mean(x)/mean(y): one multiplication, rounding only
    assert e2["elasticity"] == pytest.approx(r2.params["personal_rm"] * f, rel=1e-12)
    assert e2["std_error"] == pytest.approx(r2.std_errors["personal_rm"] * f, rel=1e-12)
    assert "1088" in r2.notes[0] and r2.info["Rows dropped (missing)"] == 1088 - 381
    assert "Remittances panel" in str(r2.summary)


def test_missing_raise_and_bad_input(wdi, gini):
    with pytest.raises(InputError, match="missing"):
        RemittancePanel.from_formula(FW, wdi, missing="raise").fit()
    with pytest.raises(InputError, match="fixed effects"):
        RemittancePanel.from_formula(FG + " + EntityEffects", gini)
    with pytest.raises(InputError, match="effects"):
        RemittancePanel.from_formula(FG, gini).fit("random")
    with pytest.raises(InputError, match="not available for this model"):
        RemittancePanel.from_formula(FIV, gini).fit("pooled", cov_type="HC1")
    with pytest.raises(InputError, match="CR1.*both"):
        RemittancePanel.from_formula(FG, gini).fit("entity", cov_type="CR1", cluster="both")
    with pytest.raises(InputError, match="endogenous block"):
        RemittancePanel.from_formula(FIV, gini).random_effects()
    with pytest.raises(InputError, match="weights"):
        RemittancePanel.from_formula(FG, gini, weights=np.ones(len(gini))).between()
    with pytest.raises(InputError, match="intercept"):
        RemittancePanel.from_formula("log(gini) ~ 0 + log(rm) + gov_e", gini).first_difference()
    with pytest.raises(InputError, match="duplicated"):
        RemittancePanel.from_formula(FG, pd.concat([gini, gini.iloc[:1]]))
    with pytest.raises(InputError, match="entity"):
        RemittancePanel.from_formula(FG, gini, entity="nation")


@pytest.mark.parametrize("name,effects", [("gini_within", "entity"), ("gini_twoways", "twoways"),
                                          ("gini_pooling", "pooled")])
def test_time_and_double_clustering_equal_plm(gini, ref, name, effects):
    m = RemittancePanel.from_formula(FG, gini)
    _check(m.fit(effects, cluster="time"), ref[name], "se_cluster_time")
    _check(m.fit(effects, cluster="both"), ref[name], "se_cluster_both")


# ----------------------------------------------------------------------------- loader
def test_read_lac_panel(gini, wdi):
    assert wdi.shape[0] == 1088 and wdi["year"].between(1990, 2021).all()
    assert gini.shape[0] == 300 and gini["year"].dtype.kind == "i" and gini["year"].min() == 2000
    assert any("integer year" in s for s in gini.attrs["load_report"])
    # rm is WDI personal_rm; rm_lag1 is its true lag, the stored rm_l1 a lead
    m = gini.merge(wdi[["country", "year", "personal_rm"]], on=["country", "year"])
    assert np.isclose(m["rm"], m["personal_rm"], rtol=1e-9).sum() >= 299  # one row differs in the file
    w = wdi.set_index(["country", "year"])["personal_rm"]
    lag = w.reindex(list(zip(gini["country"], gini["year"] - 1))).to_numpy()
    lead = w.reindex(list(zip(gini["country"], gini["year"] + 1))).to_numpy()
    np.testing.assert_array_equal(gini["rm_lag1"].to_numpy(), lag)
    assert np.isclose(gini["rm_l1"].to_numpy(), lead).mean() > 0.9
    assert not np.isclose(gini["rm_l1"].to_numpy(), lag).mean() > 0.5


def test_read_lac_panel_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("REMITPOV_SHARED", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="REMITPOV_SHARED"):
        read_lac_panel("wdi")
    with pytest.raises(InputError, match="which"):
        read_lac_panel("oecd")
    # malformed files: named problem and fix, never a pandas KeyError/ValueError
    p = tmp_path / "wdi_lac_1990_2021.csv"
    pd.DataFrame({"country": ["A", "A"], "year": [2000, 2000], "personal_rm": [1.0, 2.0]}).to_csv(p, index=False)
    with pytest.raises(InputError, match=r"2 duplicated country-year rows.*remove or aggregate"):
        read_lac_panel("wdi", path=p)
    pd.DataFrame({"country": ["A", "A"], "year": [2000, "y2k"]}).to_csv(p, index=False)
    with pytest.raises(InputError, match=r"year must be a whole number.*\['y2k'\] in 1 rows"):
        read_lac_panel("wdi", path=p)
    pd.DataFrame({"pais": ["A"], "year": [2000]}).to_csv(p, index=False)
    with pytest.raises(InputError, match=r"no column\(s\) \['country'\]"):
        read_lac_panel("wdi", path=p)


# ----------------------------------------------------------------------------- more plm estimators
# Reference: fixtures/lac_panel_plm_more.json, made by tests/r/make_lac_panel_plm_more.R (plm 2.6-2):
# vcovHC(method="white1", type="HC0"/"HC1"), random effects (Swamy-Arora), first differences,
# between, phtest. Same tolerance RTOL (1e-9; observed agreement ~1e-13, the RE coefficients
# through the estimated variance components ~2e-13).
FIX_MORE = Path(__file__).resolve().parent.parent / "fixtures" / "lac_panel_plm_more.json"
PANELS = [("gini", FG), ("wdi", FW)]  # balanced (15 x 20) and unbalanced (22 countries, 381 rows)


@pytest.fixture(scope="module")
def ref_more():
    return json.loads(FIX_MORE.read_text())


@pytest.mark.parametrize("data,formula", PANELS)
@pytest.mark.parametrize("effects,key", [("entity", "within_white"), ("pooled", "pooling_white"),
                                         ("twoways", "twoways_white")])
def test_hc0_hc1_equal_plm_white1(request, ref_more, data, formula, effects, key):
    """Issue item 5: HC0/HC1 are plm's vcovHC(method="white1"); the deprecated 'robust' is
    linearmodels' convention, larger than plm's HC0 by exactly n/(n - absorbed effects) in
    variance (N - 1 country, T - 1 year effects beyond the intercept)."""
    m = RemittancePanel.from_formula(formula, request.getfixturevalue(data))
    r = ref_more[data][key]
    hc0 = m.fit(effects, cov_type="HC0")
    _check(hc0, r, "se_white1_hc0")
    _check(m.fit(effects, cov_type="HC1"), r, "se_white1_hc1")
    with pytest.warns(FutureWarning, match="linearmodels' convention"):
        rob = m.fit(effects, cov_type="robust")
    n = hc0.nobs
    # absorbed effects = the effect dummies beyond the intercept that linearmodels keeps
    N, T = hc0.info["Entities"], hc0.info["Periods"]
    absorbed = {"pooled": 0, "entity": N - 1, "time": T - 1, "twoways": N + T - 2}[effects]
    np.testing.assert_allclose(rob.std_errors / hc0.std_errors, np.sqrt(n / (n - absorbed)), rtol=1e-10)


@pytest.mark.parametrize("data,formula", PANELS)
def test_random_effects_equal_plm_swamy_arora(request, ref_more, data, formula):
    m = RemittancePanel.from_formula(formula, request.getfixturevalue(data))
    r = ref_more[data]["random"]
    re_ = m.random_effects()
    _check(re_, r, "se_classical")
    _check(m.random_effects("HC0"), r, "se_white1_hc0")
    _check(m.random_effects("HC1"), r, "se_white1_hc1")
    _check(m.random_effects("CR0"), r, "se_cluster")
    assert re_.info["sigma2 (idiosyncratic)"] == pytest.approx(r["sigma2"]["idios"], rel=RTOL)
    assert re_.info["sigma2 (individual)"] == pytest.approx(r["sigma2"]["id"], rel=RTOL)
    if "theta" in r:  # balanced panel: one theta
        assert re_.info["theta"] == pytest.approx(r["theta"], rel=RTOL)
    assert re_.method.startswith("Random effects")


@pytest.mark.parametrize("data,formula", PANELS)
def test_first_difference_and_between_equal_plm(request, ref_more, data, formula):
    m = RemittancePanel.from_formula(formula, request.getfixturevalue(data))
    r = ref_more[data]
    fd = m.first_difference()
    _check(fd, r["fd"], "se_classical")
    if r["fd"]["se_white1_hc0"]:  # plm 2.6-2's vcovHC fails on the unbalanced fd fit (see the R script)
        _check(m.first_difference("HC0"), r["fd"], "se_white1_hc0")
        _check(m.first_difference("CR0"), r["fd"], "se_cluster")
    _check(m.between(), r["between"], "se_classical")


@pytest.mark.parametrize("data,formula", PANELS)
def test_hausman_equals_phtest(request, ref_more, data, formula):
    h = RemittancePanel.from_formula(formula, request.getfixturevalue(data)).hausman()
    r = ref_more[data]["hausman"]
    assert h["stat"] == pytest.approx(r["statistic"], rel=RTOL)
    assert h["df"] == r["df"]
    assert h["pvalue"] == pytest.approx(r["p_value"], rel=1e-6)  # scipy vs R chi2 tail far out: ~1e-10


def test_random_effects_identities(gini):
    """Same number by different routes: theta = 0 is pooled OLS, theta = 1 is the within fit;
    on the balanced panel the between and RE use the group means the same way."""
    m = RemittancePanel.from_formula(FG, gini)
    fe, pooled = m.fit("entity", cov_type="unadjusted"), m.fit("pooled", cov_type="unadjusted")
    re_ = m.random_effects()
    # RE lies between pooled and within for every slope (a matrix-weighted average; with
    # theta = 0.82 it is close to the within estimate)
    slopes = list(fe.params.index)
    d_fe = (re_.params[slopes] - fe.params[slopes]).abs()
    d_pool = (re_.params[slopes] - pooled.params[slopes]).abs()
    assert (d_fe < d_pool).all()

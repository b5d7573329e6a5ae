"""Dynamic panel GMM (remitpov.econometrics.gmm) against R plm's pgmm (plm 2.6-2).

Reference: fixtures/emplUK_pgmm.json, made by tests/r/make_emplUK_pgmm.R on plm's EmplUK data
(fixtures/emplUK.csv: the Arellano--Bond 1991 employment equations): difference GMM (Table 4
column (b), one- and two-step, individual effects, collapsed, lag limits 2:4) and system GMM
(Blundell--Bond 1998 Table 4, one- and two-step, collapsed).

Tolerances (relative): the same estimator on the same rows in double precision, but pgmm
inverts the weight matrices with solve() and this module with numpy's inv(); the system-GMM
matrices (113 instruments, ~10 nonzero rows each per firm) are ill-conditioned, and the
observed agreement is 3e-13 (difference GMM) and 6e-10 (system GMM) in coefficients and
SEs, 3e-9 in Hansen J. RTOL = 1e-8 leaves a margin of ~20 over the worst case; the AR
statistics (order 1) are compared with an absolute 1e-8.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from remitpov.econometrics.gmm import DynamicPanelGMM
from remitpov.exceptions import InputError

FIX = Path(__file__).resolve().parent.parent / "fixtures"
RTOL = 1e-8
F_AB = ("log(emp) ~ lag(log(emp), 1:2) + lag(log(wage), 0:1) + log(capital) + lag(log(output), 0:1)"
        " | lag(log(emp), 2:99)")
F_BB = ("log(emp) ~ lag(log(emp), 1) + lag(log(wage), 0:1) + lag(log(capital), 0:1)"
        " | lag(log(emp), 2:99) + lag(log(wage), 2:99) + lag(log(capital), 2:99)")
CASES = {
    "ab_twostep": (F_AB, {}, 2),
    "ab_onestep": (F_AB, {}, 1),
    "ab_twostep_collapse": (F_AB, {"collapse": True}, 2),
    "ab_twostep_lags24": (F_AB.replace("2:99", "2:4"), {}, 2),
    "ab_onestep_individual": (F_AB, {"effects": "individual"}, 1),
    "bb_onestep": (F_BB, {"system": True}, 1),
    "bb_twostep": (F_BB, {"system": True}, 2),
    "bb_twostep_collapse": (F_BB, {"system": True, "collapse": True}, 2),
}


@pytest.fixture(scope="module")
def ref():
    return json.loads((FIX / "emplUK_pgmm.json").read_text())


@pytest.fixture(scope="module")
def empl():
    return pd.read_csv(FIX / "emplUK.csv")


def _fit(empl, name, **fit):
    f, kw, steps = CASES[name]
    return DynamicPanelGMM.from_formula(f, empl, entity="firm", time="year", **kw).fit(steps=steps, **fit)


def _vals(d):
    return np.array(list(d.values()), dtype=float)


@pytest.mark.parametrize("name", list(CASES))
def test_equals_pgmm(empl, ref, name):
    r, res = ref[name], _fit(empl, name)
    # pgmm orders the parameters as we do: regressors in formula order, then time dummies
    # (system GMM: "(Intercept)" first); only the names differ (lag(log(emp), 1:2)1 = L1.log(emp))
    np.testing.assert_allclose(res.params.to_numpy(), _vals(r["coef"]), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(res.params_onestep.to_numpy(), _vals(r["coef_onestep"]), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(res.std_errors.to_numpy(), _vals(r["se_robust"]), rtol=RTOL)
    assert res.n_instruments == r["n_instruments"] and res.n_entities == r["n_entities"]
    assert res.nobs == r["nobs_used"]
    assert res.hansen["stat"] == pytest.approx(r["hansen"], rel=RTOL)
    assert res.hansen["df"] == r["hansen_df"]
    np.testing.assert_allclose(res.ar_tests["stat"].to_numpy(), [r["ar1_robust"], r["ar2_robust"]], rtol=RTOL,
                               atol=1e-8)
    assert res.wald["stat"] == pytest.approx(r["wald_coef_robust"], rel=RTOL)
    assert 0 < res.hansen["pvalue"] < 1 and np.all((res.ar_tests["pvalue"] > 0) & (res.ar_tests["pvalue"] < 1))


@pytest.mark.parametrize("name", ["ab_twostep", "ab_twostep_collapse", "bb_twostep"])
def test_twostep_unadjusted_equals_pgmm_vcov(empl, ref, name):
    """Two-step (X'Z A2 Z'X)^-1 is pgmm's vcov(); the AR tests with it are mtest(fit)."""
    r, res = ref[name], _fit(empl, name, cov_type="unadjusted")
    np.testing.assert_allclose(res.std_errors.to_numpy(), _vals(r["se_nonrobust"]), rtol=RTOL)
    np.testing.assert_allclose(res.ar_tests["stat"].to_numpy(), [r["ar1_nonrobust"], r["ar2_nonrobust"]],
                               rtol=RTOL, atol=1e-8)


def test_arellano_bond_table4b_windmeijer_larger(empl, ref):
    """AB (1991) Table 4(b): the Windmeijer correction raises every two-step SE here."""
    r = ref["ab_twostep"]
    assert np.all(_vals(r["se_robust"]) > _vals(r["se_nonrobust"]))
    res = _fit(empl, "ab_twostep")
    assert res.params.index[:2].tolist() == ["L1.log(emp)", "L2.log(emp)"]
    assert res.params.index[-1] == "year=1984"


def test_onestep_sargan_and_unadjusted(empl, ref):
    """Sargan = pgmm's sargan(fit, 'onestep') / (N s^2); one-step unadjusted = s^2 N vcov(pgmm);
    s^2 = sum of squared differenced one-step residuals / (2 n)."""
    r, res = ref["ab_onestep"], _fit(empl, "ab_onestep", cov_type="unadjusted")
    e = res.residuals.loc[res.residuals["equation"] == "diff", "residual"].to_numpy()
    assert e.size == res.nobs == 611
    s2 = float(e @ e) / (2 * e.size)
    assert res.sigma2 == pytest.approx(s2, rel=1e-12)
    N = r["n_entities"]
    assert res.sargan["stat"] * N * s2 == pytest.approx(r["sargan_onestep_pgmm"], rel=RTOL)
    assert res.sargan["df"] == r["hansen_df"]
    np.testing.assert_allclose(res.std_errors.to_numpy(), np.sqrt(s2 * N) * _vals(r["se_nonrobust"]), rtol=RTOL)
    assert _fit(empl, "bb_onestep").sargan is None  # not defined for system GMM


def test_row_order_and_summary(empl):
    """Same answer from shuffled rows; summary prints the tests and hides nothing."""
    a = _fit(empl, "ab_twostep_collapse")
    shuffled = empl.sample(frac=1.0, random_state=3).reset_index(drop=True)
    b = DynamicPanelGMM(F_AB, shuffled, entity="firm", time="year", collapse=True).fit()
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)
    np.testing.assert_allclose(a.std_errors, b.std_errors, rtol=1e-10)
    text = str(a.summary)
    for s in ("Difference GMM, two-step, collapsed", "Hansen J", "AR(2) p-value", "Time effects", "windmeijer"):
        assert s in text


def _simulate(seed, N=400, T=7, rho=0.5, beta=1.0):
    """y_it = rho y_i,t-1 + beta x_it + mu_i + e_it, x exogenous; stationary start."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=N)
    x = rng.normal(size=(N, T + 20))
    e = rng.normal(size=(N, T + 20))
    y = np.zeros((N, T + 20))
    y[:, 0] = mu / (1 - rho)
    for t in range(1, T + 20):  # loop over time only (vectorised over entities)
        y[:, t] = rho * y[:, t - 1] + beta * x[:, t] + mu + e[:, t]
    y, x = y[:, 20:], x[:, 20:]
    return pd.DataFrame({"id": np.repeat(np.arange(N), T), "t": np.tile(np.arange(T), N),
                         "y": y.ravel(), "x": x.ravel()})


@pytest.mark.parametrize("system", [False, True])
def test_recovers_known_truth(system):
    """A DGP with known rho = 0.5 (within-group OLS is Nickell-biased downwards at T = 7):
    GMM within 3 SEs of the truth in each of 3 seeds, AR(2) not rejected at 1 %."""
    for seed in range(3):
        d = _simulate(seed)
        res = DynamicPanelGMM("y ~ lag(y, 1) + x | lag(y, 2:99)", d, entity="id", time="t", system=system,
                              effects="individual").fit()
        z = (res.params["L1.y"] - 0.5) / res.std_errors["L1.y"]
        assert abs(z) < 3, (seed, res.params["L1.y"], res.std_errors["L1.y"])
        assert abs(res.params["x"] - 1.0) < 3 * res.std_errors["x"]
        assert res.ar_tests.at["AR(2)", "pvalue"] > 0.01
        assert res.ar_tests.at["AR(1)", "pvalue"] < 0.01  # differenced iid errors are MA(1)


def test_bad_input(empl):
    with pytest.raises(InputError, match="GMM instruments"):
        DynamicPanelGMM("log(emp) ~ lag(log(emp), 1) + log(wage)", empl, entity="firm", time="year")
    with pytest.raises(InputError, match="backwards"):
        DynamicPanelGMM("log(emp) ~ lag(log(emp), 2:1) | lag(log(emp), 2:99)", empl, entity="firm", time="year")
    with pytest.raises(InputError, match="start at lag 0"):
        DynamicPanelGMM("log(emp) ~ lag(log(emp), 1) | lag(log(emp), 0:99)", empl, entity="firm", time="year")
    with pytest.raises(InputError, match="emq"):
        DynamicPanelGMM("log(emq) ~ lag(log(emq), 1) | lag(log(emq), 2:99)", empl, entity="firm", time="year")
    with pytest.raises(InputError, match="duplicated"):
        DynamicPanelGMM(F_AB, pd.concat([empl, empl.iloc[:1]]), entity="firm", time="year")
    with pytest.raises(InputError, match="equally spaced"):
        DynamicPanelGMM(F_AB, empl[empl["year"] != 1980], entity="firm", time="year").fit()
    bad = empl.copy()
    bad.loc[5, "wage"] = np.nan
    with pytest.raises(InputError, match=r"log\(wage\).*row"):
        DynamicPanelGMM(F_AB, bad, entity="firm", time="year", missing="raise").fit()
    res = DynamicPanelGMM(F_AB, bad, entity="firm", time="year").fit()
    assert any("log(wage): 1 missing" in n for n in res.notes)
    with pytest.raises(InputError, match="cov_type"):
        _fit(empl, "ab_twostep", cov_type="HC1")
    with pytest.raises(InputError, match="not defined"):
        _fit(empl, "bb_onestep", cov_type="unadjusted")


def test_lac_gini_panel(shared):
    """The user guide's LAC application: instrument counts as designed, and two-step GMM with
    year dummies on 15 countries (more instruments than countries) refused, not computed
    with a singular weight matrix."""
    from remitpov.econometrics.gmm import EstimationError
    from remitpov.io.lac_panel import read_lac_panel

    g = read_lac_panel("gini", path=shared("data", "lac_panel"))
    f = "log(gini) ~ lag(log(gini), 1) + log(rm) + gov_e | lag(log(gini), 2:3)"
    kw = dict(entity="country", time="year", effects="individual", collapse=True)
    d = DynamicPanelGMM(f, g, **kw).fit()
    s = DynamicPanelGMM(f, g, system=True, **kw).fit()
    # difference: gini lags 2, 3 + differenced log(rm), gov_e; system adds one collapsed level
    # instrument, log(rm), gov_e in levels and the intercept
    assert (d.n_instruments, s.n_instruments) == (4, 8)
    assert d.n_entities == s.n_entities == 15
    assert np.isfinite(d.hansen["stat"]) and np.all(np.isfinite(s.std_errors))
    with pytest.raises(EstimationError, match="rank"):
        DynamicPanelGMM(f, g, entity="country", time="year").fit(steps=2)
    one = DynamicPanelGMM(f, g, entity="country", time="year").fit(steps=1)
    assert np.isnan(one.hansen["stat"]) and any("Hansen J is not computed" in n for n in one.notes)

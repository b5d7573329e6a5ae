"""Weak-instrument-robust inference: Anderson-Rubin sets and the Montiel Olea-Pflueger effective F.

References
----------
* fixtures/ivmodels_ar.json, made by tests/r/make_ivmodels_ar.py with ivmodels 0.10.0 (an
  independent implementation of the classical AR test and its inversion): AR statistics,
  p-values and set boundaries on the LAC Gini panel (strong lags; weak leads with country
  dummies, unbounded set) and CigarettesSW 1995.
* Robust/cluster-robust sets: the exact quadratic-inequality solution for one instrument
  (closed form), the same AR statistic reached through a RobustOLS reduced-form regression,
  and a Monte Carlo with known truth (coverage of the CR1 set under weak instruments and
  clustered heteroskedastic errors).
* Effective F: its defining identities (classical covariance -> the usual F; one instrument
  -> the robust Wald F; invariance to linear recombinations of the instruments).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from remitpov.econometrics import RemittanceIV, RobustOLS
from remitpov.econometrics.covariance import cluster_codes
from remitpov.econometrics.weakiv import anderson_rubin, effective_f
from remitpov.exceptions import InputError, WeakInstrumentWarning
from test_econometrics_iv import cig  # noqa: F401  (CigarettesSW 1995 fixture)
from test_econometrics_panel import gini  # noqa: F401  (the LAC Gini panel fixture)

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ivmodels_ar.json"
F_LAGS = "np.log(gini) ~ 1 + gov_e + debt_s + ca_balance + [np.log(rm) ~ np.log(rm_lag1) + np.log(rm_lag3)]"
F_FE = "np.log(gini) ~ 1 + gov_e + debt_s + ca_balance + C(country) + [np.log(rm) ~ np.log(rm_l1) + np.log(rm_l3)]"
F_CIG = "lpacks ~ 1 + lrincome + [lrprice ~ rtaxs + rtax]"


@pytest.fixture(scope="module")
def ref():
    return json.loads(FIX.read_text())


def _fit(formula, data, cov_type="unadjusted", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakInstrumentWarning)
        return RemittanceIV.from_formula(formula, data, **kw).fit(cov_type=cov_type, debiased=True)


@pytest.mark.parametrize("case,formula,data", [("gini_lags", F_LAGS, "gini"), ("gini_fe_leads", F_FE, "gini"),
                                               ("cigarettes", F_CIG, "cig")])
def test_classical_ar_equals_ivmodels(request, ref, case, formula, data):
    df = request.getfixturevalue(data)
    if case == "gini_lags":
        df = df.dropna(subset=["rm_lag1", "rm_lag3"]).reset_index(drop=True)
    r = ref[case]
    res = _fit(formula, df)
    assert res.nobs == r["n"]
    cs, table = res.anderson_rubin(beta0=r["beta0"])
    # same statistic in closed form on both sides: rounding only (1e-9 for the dummy design)
    np.testing.assert_allclose(table["stat"], r["stat"], rtol=1e-9)
    np.testing.assert_allclose(table["pvalue"], r["pvalue"], rtol=1e-7, atol=1e-14)  # F tail, scipy both sides
    for level in (0.95, 0.90):
        s = r[f"set_{int(level * 100)}"]
        cs = res.anderson_rubin(level)[0]
        assert cs.kind == s["kind"]
        if s["kind"] == "empty":  # the weak, over-identified FE case at 90 %: AR rejects every value
            assert cs.intervals == ()
            continue
        lo, hi = s["roots"]
        expect = [(lo, hi)] if s["kind"] == "bounded" else [(-np.inf, lo), (hi, np.inf)]
        # our boundaries: brentq to 1e-14 relative; ivmodels': the roots of its quadric
        np.testing.assert_allclose(np.array(cs.intervals), np.array(expect), rtol=1e-9)


@pytest.mark.parametrize("cov_type", ["HC1", "HC3", "CR1", "CR2"])
def test_one_instrument_set_is_the_quadratic_inequality(cig, cov_type):
    """q = 1: (a - b B)^2 <= c (V0 - 2 b V1 + b^2 V2) solved in closed form, each V from a
    separate reduced-form regression (y, x and y - x) with RobustOLS."""
    d = cig.assign(region=cig["state"].astype(str).str[0], ydiff=cig["lpacks"] - cig["lrprice"])
    res = _fit("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs]", d, cov_type, clusters="region")
    cs = res.anderson_rubin(0.95, dist="F")[0]

    def rf(lhs):
        f = RobustOLS.from_formula(f"{lhs} ~ lrincome + rtaxs", d, clusters="region").fit(cov_type)
        return f.params["rtaxs"], f.cov.loc["rtaxs", "rtaxs"], f

    a, V0, f = rf("lpacks")
    B, V2, _ = rf("lrprice")
    _, Vd, _ = rf("ydiff")
    V1 = (V0 + V2 - Vd) / 2  # Var(y - x) = V0 - 2 V1 + V2
    dendf = f.info["Clusters"] - 1 if "Clusters" in f.info else f.df_resid  # the AR's F(q, G - 1) for CR types
    c = stats.f.ppf(0.95, 1, dendf)
    A2, A1, A0 = B**2 - c * V2, -2 * (a * B - c * V1), a**2 - c * V0
    r = np.sort(np.roots([A2, A1, A0]).real)
    assert A2 > 0 and cs.kind == "bounded"  # a strong instrument: a bounded interval
    np.testing.assert_allclose(cs.intervals[0], r, rtol=1e-9)


@pytest.mark.parametrize("cov_type", ["HC2", "CR0", "CR2"])
def test_ar_statistic_equals_reduced_form_wald(gini, cov_type):
    """AR(b0) = Wald F of the instruments in the regression of y - x b0 on exog + instruments."""
    g = gini.dropna(subset=["rm_lag1", "rm_lag3"]).reset_index(drop=True)
    res = _fit(F_LAGS, g, cov_type, clusters="country")
    b0 = 0.004
    _, t = res.anderson_rubin(beta0=b0)
    g = g.assign(ystar=np.log(g["gini"]) - b0 * np.log(g["rm"]), z1=np.log(g["rm_lag1"]), z3=np.log(g["rm_lag3"]))
    f = RobustOLS.from_formula("ystar ~ gov_e + debt_s + ca_balance + z1 + z3", g, clusters="country").fit(cov_type)
    p = f.params[["z1", "z3"]].to_numpy()
    W = p @ np.linalg.solve(f.cov.loc[["z1", "z3"], ["z1", "z3"]].to_numpy(), p)
    assert t["stat"].iloc[0] == pytest.approx(W / 2, rel=1e-9)


def test_effective_f_identities(gini, cig):
    g = gini.dropna(subset=["rm_lag1", "rm_lag3"]).reset_index(drop=True)
    # classical covariance: the effective F is the usual first-stage F
    r = _fit(F_LAGS, g, "unadjusted", clusters="country")
    assert r.first_stage["f_eff"].iloc[0] == pytest.approx(r.first_stage["f_stat"].iloc[0], rel=1e-10)
    # one instrument: the robust Wald F under the same covariance
    for ct in ("HC0", "HC2", "CR1"):
        r1 = _fit("lpacks ~ 1 + lrincome + [lrprice ~ rtaxs]", cig.assign(cl=cig.index // 3), ct, clusters="cl")
        assert r1.first_stage["f_eff"].iloc[0] == pytest.approx(r1.first_stage["f_stat"].iloc[0], rel=1e-10)
    # invariant to a linear recombination of the instruments (the robust Wald F is too, but
    # the two differ with q = 2 and heteroskedasticity)
    a = r.arrays
    x, ex, Z = a.X[:, -1], a.Z[:, :a.n_exog], a.Z[:, a.n_exog:]
    cl = cluster_codes(g["country"], len(g))
    f1 = effective_f(x, ex, Z, cov_type="CR2", clusters=cl)
    f2 = effective_f(x, ex, Z @ np.array([[2.0, 1.0], [-0.5, 3.0]]), cov_type="CR2", clusters=cl)
    assert f1 == pytest.approx(f2, rel=1e-10)
    rc = _fit(F_LAGS, g, "CR2", clusters="country")
    assert rc.first_stage["f_eff"].iloc[0] == pytest.approx(f1, rel=1e-12)
    assert abs(f1 - rc.first_stage["f_stat"].iloc[0]) > 1.0


def test_cluster_robust_ar_coverage_monte_carlo():
    """Known truth b = 1, a weak instrument (median cluster-robust first-stage F 0.7), errors correlated within 40
    clusters and heteroskedastic, endogeneity 0.8: the CR1 AR set covers b in 95 % +- 2 MC SE
    of 400 replications (MC SE 1.1 points; observed 95.5 %) -- the 2SLS Wald interval does not
    (observed 75.5 %: 2SLS is biased towards OLS)."""
    rng = np.random.default_rng(20261129)
    G, m, R = 40, 10, 400
    cl = np.repeat(np.arange(G), m)
    n = G * m
    cover_ar = cover_wald = 0
    for _ in range(R):  # replications
        z = rng.normal(size=n) + rng.normal(size=G)[cl]
        u = rng.normal(size=n) * (0.5 + np.abs(z)) + rng.normal(size=G)[cl]
        v = 0.8 * u + 0.6 * rng.normal(size=n)
        x = 0.08 * z + v
        y = 1.0 * x + u
        ex = np.ones((n, 1))
        cs, _ = anderson_rubin(y, x, ex, z[:, None], cov_type="CR1", clusters=cl, level=0.95, dist="F", grid=801)
        cover_ar += 1.0 in cs
        zc, xc, yc = z - z.mean(), x - x.mean(), y - y.mean()
        b = (zc @ yc) / (zc @ xc)
        e = yc - b * xc
        sc = np.bincount(cl, weights=zc * e)
        se = np.sqrt(sc @ sc) / abs(zc @ xc)
        cover_wald += abs(b - 1.0) <= stats.t.ppf(0.975, G - 1) * se
    mc_se = np.sqrt(0.95 * 0.05 / R)
    assert abs(cover_ar / R - 0.95) < 2 * mc_se + 0.005  # +0.5 point for CR1's small-G approximation
    assert cover_wald / R < cover_ar / R - 0.03


def test_bad_input(cig):
    res = _fit(F_CIG, cig)
    with pytest.raises(InputError, match="needs the model's clusters"):
        res.anderson_rubin(cov_type="CR2")
    with pytest.raises(InputError, match="dist"):
        res.anderson_rubin(dist="t")
    two = RemittanceIV.from_formula("lpacks ~ 1 + [lrprice + lrincome ~ rtaxs + rtax]", cig).fit(cov_type="HC0")
    with pytest.raises(InputError, match="exactly one endogenous"):
        two.anderson_rubin()
    assert "f_eff" not in two.first_stage.columns

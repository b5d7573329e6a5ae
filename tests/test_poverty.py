"""Poverty estimators: relative lines, replicate designs, edge cases, decomposition, curves, Sen/SST.

References used here (each test says which):
* ``../shared/reference/eusilc_laeken.json`` -- laeken 0.5.2 at-risk-of-poverty threshold
  and rate (point values, percent);
* ``fixtures/poverty_relative_line.json`` -- ``tests/r/make_poverty_relative_line.R``:
  convey-style linearisation written by hand in R, variance by ``survey::svytotal``;
* closed forms computed by hand in the tests (replicate formulas, domain variance,
  O(n^2) Gini, finite differences of the statistic with respect to the weights);
* a Rao--Wu bootstrap in which the median line is recomputed in every replicate.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import remitpov as rp
from remitpov.design import Design
from remitpov.exceptions import DesignError, InputError
from remitpov.poverty import (EmptyDomainWarning, RelativeLine, SinglePSUDomainWarning, compare, decompose, fgt, poverty_curve, sen, sst,
                              static_identity, watts, weighted_quantile)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


# ---------------------------------------------------------------------------- helpers
def synthetic(n_strata=12, psu_per=8, per_psu=15, seed=1, two_psu=False):
    """A stratified clustered person-level sample with lognormal incomes and cluster effects."""
    rng = np.random.default_rng(seed)
    if two_psu:
        psu_per = 2
    H, P, m = n_strata, psu_per, per_psu
    h = np.repeat(np.arange(H), P * m)
    psu = np.repeat(np.arange(H * P), m)
    eff = rng.normal(0, 0.3, H * P)[psu]
    y = np.exp(9 + 0.2 * (h % 3) + eff + rng.normal(0, 0.6, h.size))
    rem = np.where(rng.random(h.size) < 0.2, np.exp(7.5 + rng.normal(0, 0.5, h.size)), 0.0)
    w = rng.uniform(50, 150, h.size)
    df = pd.DataFrame({"stratum": h, "psu": psu, "w": w, "y_without": y, "remit": rem,
                       "y_with": y + rem, "recipient": rem > 0, "area": np.where(h % 2 == 0, "urban", "rural"),
                       "sex": rng.choice(["f", "m"], h.size)})
    return rp.Survey(df, weight="w", strata="stratum", psu="psu", unit="person")


def hand_fgt(y, w, z, a, strict=True):
    poor = y < z if strict else y <= z
    g = poor.astype(float) if a == 0 else np.where(poor, ((z - y) / z) ** a, 0.0)
    return (w * g).sum(axis=0) / w.sum(axis=0)


def hand_linear_var(zw, strata, psu):
    """Stratified with-replacement variance of sum(w z) by hand (pandas groupby)."""
    df = pd.DataFrame({"h": strata, "p": psu, "x": zw})
    T = df.groupby(["h", "p"])["x"].sum().reset_index()
    v = 0.0
    for _, g in T.groupby("h"):
        nh = len(g)
        v += nh / (nh - 1) * ((g["x"] - g["x"].mean()) ** 2).sum()
    return v


@pytest.fixture(scope="module")
def eus(shared):
    df = pd.read_csv(shared("data", "eusilc", "eusilc.csv.gz"))
    return rp.Survey(df, weight="rb050", strata="db040", psu="db030", unit="person")


# ---------------------------------------------------------------------------- relative lines
def test_arpr_matches_laeken(eus, eusilc_laeken_ref):
    """laeken's at-risk-of-poverty threshold and rate (60 % of the weighted median, strict <).

    Point values from laeken 0.5.2 (percent); both sides do the same sort + cumulative-sum
    selection and a weighted mean, so agreement is to rounding (1e-12 relative)."""
    p = eusilc_laeken_ref["point"]
    d = eus.design()
    y = eus.data["eqIncome"].to_numpy()
    assert RelativeLine(0.6).value(y, d.weights) == pytest.approx(p["arpt_60"], rel=1e-12)
    np.testing.assert_allclose(weighted_quantile(y, d.weights, 0.5), p["weighted_median_eqIncome"], rtol=1e-12)
    t = fgt(eus, "eqIncome", RelativeLine(0.6), alpha=0)
    np.testing.assert_allclose(100 * t.get(measure="fgt0").estimate, p["arpr_60_percent"], rtol=1e-12)
    for k, v in p["arpr_multi_percent"].items():
        share = int(k[1:]) / 100
        e = fgt(eus, "eqIncome", RelativeLine(share), alpha=0, headcount_total=False).estimates[0]
        np.testing.assert_allclose(100 * e, v, rtol=1e-12)
    # breakdowns use the national threshold
    for by in ("db040", "rb090"):
        tb = fgt(eus, "eqIncome", RelativeLine(0.6), alpha=0, by=by, headcount_total=False)
        for dom, v in p[f"arpr_by_{by}_percent"].items():
            np.testing.assert_allclose(100 * tb.get(**{by: dom}).estimate, v, rtol=1e-12)
    for k, v in p["weighted_quantiles_eqIncome"].items():
        np.testing.assert_allclose(weighted_quantile(y, d.weights, int(k[1:]) / 100), v, rtol=1e-12)


def test_relative_line_se_matches_r_linearisation(eus):
    """SEs with the estimated line equal the convey-style linearisation computed in R.

    Same formulas on both sides (densities with the same Gaussian kernel and bandwidth),
    so the tolerance is numerical (1e-8 relative on SEs)."""
    ref = json.loads((FIXTURES / "poverty_relative_line.json").read_text())
    t = fgt(eus, "eqIncome", RelativeLine(0.6))
    fixed = fgt(eus, "eqIncome", ref["meta"]["line"])
    for a in (0, 1, 2):
        r = ref["national"][f"fgt{a}"]
        e = t.get(measure=f"fgt{a}")
        np.testing.assert_allclose(e.estimate, r["estimate"], rtol=1e-12)
        np.testing.assert_allclose(e.se, r["se"], rtol=1e-8)
        np.testing.assert_allclose(fixed.get(measure=f"fgt{a}").se, r["se_fixed_line"], rtol=1e-8)
        assert abs(e.se - r["se_fixed_line"]) > 0.01 * r["se_fixed_line"]  # the line's variability matters
    tb = fgt(eus, "eqIncome", RelativeLine(0.6), by="rb090")
    for dom, rr in ref["by_rb090"].items():
        for a in (0, 1, 2):
            np.testing.assert_allclose(tb.get(measure=f"fgt{a}", rb090=dom).se, rr[f"fgt{a}"]["se"], rtol=1e-8)


def test_relative_line_se_validated_by_bootstrap():
    """Linearised SE with an estimated line vs a bootstrap that recomputes the median line.

    Rao--Wu bootstrap (R=1500) computed BY HAND here from the replicate factors: in every
    replicate the weighted median (laeken rule) and the FGT are recomputed. Monte Carlo
    error of a bootstrap SE is ~1/sqrt(2R) = 1.8 %; the kernel-density linearisation
    adds a few percent of smoothing bias at n = 2,880, so we require agreement within
    12 %. The fixed-line SE ignores the line's variability and must be farther away.
    Also: fgt() on the replicate design equals the hand replicate computation exactly.
    """
    s = synthetic(n_strata=12, psu_per=8, per_psu=30, seed=7)
    y = s.data["y_with"].to_numpy()
    d = s.design().with_replicates("bootstrap", replicates=1500, seed=3)
    W = d.weights[:, None] * d.replicates.factors[d.psu]
    R = W.shape[1]
    theta = np.empty((R, 2))
    order = np.argsort(y, kind="stable")
    for r in range(R):  # hand computation, one replicate at a time
        wr = W[:, r]
        cw = np.cumsum(wr[order]) / wr.sum()
        z = 0.6 * y[order][np.argmax(cw > 0.5)]
        theta[r] = [hand_fgt(y, wr, z, 0), hand_fgt(y, wr, z, 1)]
    v_boot = theta.var(axis=0, ddof=1)
    lin = fgt(s, "y_with", RelativeLine(0.6), alpha=(0, 1), headcount_total=False)
    fix = fgt(s, "y_with", RelativeLine(0.6).value(y, s.design().weights), alpha=(0, 1), headcount_total=False)
    for j in range(2):
        se_b = np.sqrt(v_boot[j])
        assert abs(lin.se[j] / se_b - 1) < 0.12
        assert abs(lin.se[j] - se_b) < abs(fix.se[j] - se_b)
    # fgt's own replicate path recomputes the line in every replicate: identical to the hand loop
    rep = fgt(rp.Design.from_arrays(d.weights, d.strata, d.psu).with_replicates("bootstrap", 1500, seed=3),
              y, RelativeLine(0.6), alpha=(0, 1), headcount_total=False)
    np.testing.assert_allclose(rep.vcov, np.cov(theta.T, ddof=1), rtol=1e-10)


def test_relative_line_anchored_on_other_income_and_mean():
    s = synthetic()
    w = s.design().weights
    yw, yo = s.data["y_with"].to_numpy(), s.data["y_without"].to_numpy()
    z = 0.6 * weighted_quantile(yw, w, 0.5)
    t = compare(s, {"with": "y_with", "without": "y_without"}, RelativeLine(0.6, income="y_with"), alpha=0)
    np.testing.assert_allclose(t.get(concept="without").estimate, hand_fgt(yo, w, z, 0), rtol=1e-12)
    zm = 0.5 * (w * yw).sum() / w.sum()
    tm = fgt(s, "y_with", RelativeLine(0.5, of="mean"), alpha=1, headcount_total=False)
    np.testing.assert_allclose(tm.estimates[0], hand_fgt(yw, w, zm, 1), rtol=1e-12)
    # mean-relative line: influence dP1/dz * 0.5 (y - mean)/N added; check against hand linearisation
    N = w.sum()
    g = np.where(yw < zm, (zm - yw) / zm, 0)
    P = (w * g).sum() / N
    A = (w * np.where(yw < zm, yw / zm**2, 0)).sum() / N
    zi = (g - P) / N + A * 0.5 * (yw - (w * yw).sum() / N) / N
    v = hand_linear_var(w * zi, s.data["stratum"], s.data["psu"])
    np.testing.assert_allclose(tm.se[0] ** 2, v, rtol=1e-10)


# ---------------------------------------------------------------------------- replicate designs
def test_brr_replicate_path_equals_hand_formula():
    """BRR on a 2-PSU-per-stratum design: fgt equals the direct replicate formula.

    V = 1/R sum_r (theta_r - mean_r theta)^2 (survey's BRR, centred at the replicate mean),
    theta_r = FGT under replicate weights w_i * factor[psu_i, r], computed here by hand,
    for the national indices, a domain and the with-minus-without difference."""
    s = synthetic(n_strata=8, two_psu=True, per_psu=20, seed=3).with_replicates("brr")
    d = s.design()
    W = d.weights[:, None] * d.replicates.factors[d.psu]
    R = W.shape[1]
    yw, yo = s.data["y_with"].to_numpy(), s.data["y_without"].to_numpy()
    z = 9000.0
    urb = (s.data["area"] == "urban").to_numpy()[:, None]

    def brr_var(th):
        return ((th - th.mean(axis=0)) ** 2).sum(axis=0) / R

    t = fgt(s, "y_with", z, alpha=(0, 1, 2))
    for a in (0, 1, 2):
        th = hand_fgt(yw[:, None], W, z, a)
        np.testing.assert_allclose(t.get(measure=f"fgt{a}").se ** 2, brr_var(th), rtol=1e-10)
    th_tot = (W * (yw[:, None] < z)).sum(axis=0)
    np.testing.assert_allclose(t.get(measure="headcount_total").se ** 2, brr_var(th_tot), rtol=1e-10)
    tb = fgt(s, "y_with", z, alpha=1, by="area")
    th = hand_fgt(yw[:, None], W * urb, z, 1)
    np.testing.assert_allclose(tb.get(measure="fgt1", area="urban").se ** 2, brr_var(th), rtol=1e-10)
    c = compare(s, {"with": "y_with", "without": "y_without"}, z, alpha=2)
    th = hand_fgt(yw[:, None], W, z, 2) - hand_fgt(yo[:, None], W, z, 2)
    np.testing.assert_allclose(c.get(concept="with - without").se ** 2, brr_var(th), rtol=1e-10)
    assert c.design["variance"] == "replicate"


# ---------------------------------------------------------------------------- edge cases
def _design_srs(y_len, w=None):
    return Design.from_arrays(np.ones(y_len) if w is None else w)


def test_negative_and_zero_incomes_not_censored():
    y = np.array([-50.0, 0.0, 50.0, 150.0, 200.0])
    d = _design_srs(5)
    t = fgt(d, y, 100.0, alpha=(0, 1, 2), headcount_total=False)
    g1 = np.array([1.5, 1.0, 0.5, 0, 0])
    np.testing.assert_allclose(t.estimates, [3 / 5, g1.sum() / 5, (g1 ** 2).sum() / 5], rtol=1e-14)
    assert t.estimates[2] > t.estimates[1] * 0 + (g1 ** 2).sum() / 5 - 1e-15  # gap > 1 squares above 1
    with pytest.raises(InputError, match="Watts"):
        watts(d, y, 100.0)
    ww = watts(d, np.array([25.0, 50.0, 150.0, 200.0, 300.0]), 100.0)
    np.testing.assert_allclose(ww.estimates[0], (np.log(4) + np.log(2)) / 5, rtol=1e-14)


def test_all_poor_and_none_poor_have_zero_se():
    s = synthetic()
    t = fgt(s, "y_with", 1e9, alpha=0, headcount_total=False)
    assert t.estimates[0] == 1.0 and t.se[0] == 0.0
    t = fgt(s, "y_with", 1e-3, alpha=(0, 1, 2), headcount_total=True)
    np.testing.assert_array_equal(t.estimates, 0.0)
    np.testing.assert_array_equal(t.se, 0.0)


def test_nan_incomes_raise_or_leave_the_domain():
    s = synthetic()
    y = s.data["y_with"].to_numpy().copy()
    y[[3, 40]] = np.nan
    s2 = s.with_columns(y_nan=y)
    with pytest.raises(InputError, match="missing in 2 rows"):
        fgt(s2, "y_nan", 9000.0)
    t = fgt(s2, "y_nan", 9000.0, alpha=1, na_rm=True, headcount_total=False)
    ok = np.isfinite(y)
    ref = fgt(s, "y_with", 9000.0, alpha=1, by=ok, headcount_total=False).get(domain=True)
    np.testing.assert_allclose([t.estimates[0], t.se[0]], [ref.estimate, ref.se], rtol=1e-12)
    # same rule on the replicate path: rows out of the domain in every replicate
    sr = s2.with_replicates("bootstrap", 50, seed=1)
    tr = fgt(sr, "y_nan", 9000.0, alpha=1, na_rm=True, headcount_total=False)
    d = sr.design()
    W = d.weights[:, None] * d.replicates.factors[d.psu] * ok[:, None]
    th = hand_fgt(np.where(ok, y, 0)[:, None], W, 9000.0, 1)
    np.testing.assert_allclose(tr.se[0] ** 2, th.var(ddof=1), rtol=1e-10)


def test_empty_domain_is_nan_with_warning():
    s = synthetic()
    y = s.data["y_with"].to_numpy().copy()
    rural = (s.data["area"] == "rural").to_numpy()
    y[rural] = np.nan
    s2 = s.with_columns(y_nan=y)
    with pytest.warns(EmptyDomainWarning):
        t = fgt(s2, "y_nan", 9000.0, by="area", na_rm=True)
    f = t.to_frame()
    assert f.loc[f.area == "rural", ["estimate", "se"]].isna().all().all()
    assert f.loc[f.area == "urban", ["estimate", "se"]].notna().all().all()
    # the non-empty domain is unaffected by the empty one
    ref = fgt(s, "y_with", 9000.0, by="area")
    np.testing.assert_allclose(t.subset(area="urban").estimates, ref.subset(area="urban").estimates, rtol=1e-12)
    np.testing.assert_allclose(t.subset(area="urban").se, ref.subset(area="urban").se, rtol=1e-12)


def test_domain_with_one_psu_uses_full_design():
    """Domains with one and with two PSUs: svyby-style variance (zeros elsewhere), by hand.

    Inside ONE PSU the domain's influence values sum to zero in that PSU, so the SE of
    the ratio is exactly zero (as in R survey): defined behaviour = estimate, SE 0 (up to
    rounding) and a SinglePSUDomainWarning."""
    s = synthetic()
    y, w = s.data["y_with"].to_numpy(), s.design().weights
    dom = (s.data["psu"] == 5).to_numpy()
    with pytest.warns(SinglePSUDomainWarning):
        t = fgt(s, "y_with", 9000.0, alpha=0, by=dom, headcount_total=False)
    e = t.get(domain=True)
    P = (w * dom * (y < 9000)).sum() / (w * dom).sum()
    assert 0 < P < 1 and np.isclose(e.estimate, P, rtol=1e-14)
    assert e.se < 1e-12 * P
    dom2 = s.data["psu"].isin([5, 40]).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SinglePSUDomainWarning)
        e2 = fgt(s, "y_with", 9000.0, alpha=0, by=dom2, headcount_total=False).get(domain=True)
    Nd = (w * dom2).sum()
    P2 = (w * dom2 * (y < 9000)).sum() / Nd
    v = hand_linear_var(w * dom2 * ((y < 9000) - P2) / Nd, s.data["stratum"], s.data["psu"])
    np.testing.assert_allclose(e2.se ** 2, v, rtol=1e-12)
    assert e2.se > 0
    # a design stratum with a single PSU follows the design's lonely-PSU policy
    df = s.data.copy()
    df.loc[df.stratum == 0, "psu"] = 0
    with pytest.raises(DesignError):
        fgt(rp.Survey(df, weight="w", strata="stratum", psu="psu", unit="person"), "y_with", 9000.0)
    t2 = fgt(rp.Survey(df, weight="w", strata="stratum", psu="psu", unit="person", lonely_psu="certainty"),
             "y_with", 9000.0)
    assert np.isfinite(t2.se).all()


def test_bad_lines_and_inputs():
    s = synthetic()
    for bad in (0.0, -1.0, np.nan):
        with pytest.raises(InputError):
            fgt(s, "y_with", bad)
    with pytest.raises(InputError, match="alpha"):
        fgt(s, "y_with", 9000.0, alpha=-1)
    with pytest.raises(InputError):
        compare(s, {"a": "y_with"}, 9000.0)
    with pytest.raises(InputError):
        RelativeLine(0.6, of="mode")


def test_per_unit_lines_strict_weak_and_multiple_by():
    s = synthetic()
    df = s.data
    zl = np.where(df["area"] == "urban", 10000.0, 7000.0)
    s2 = s.with_columns(zline=zl, y_tie=np.round(df["y_with"] / 1000) * 1000)
    w = s2.design().weights
    y = df["y_with"].to_numpy()
    t = fgt(s2, "y_with", "zline", alpha=1, headcount_total=False)
    np.testing.assert_allclose(t.estimates[0], (w * np.where(y < zl, (zl - y) / zl, 0)).sum() / w.sum(),
                               rtol=1e-13)
    yt = s2.data["y_tie"].to_numpy()
    assert (yt == 9000).any()
    st = fgt(s2, "y_tie", 9000.0, alpha=0, headcount_total=False).estimates[0]
    wk = fgt(s2, "y_tie", 9000.0, alpha=0, headcount_total=False, strict=False).estimates[0]
    np.testing.assert_allclose([st, wk], [hand_fgt(yt, w, 9000, 0), hand_fgt(yt, w, 9000, 0, strict=False)])
    assert wk > st
    tb = fgt(s2, "y_with", 9000.0, alpha=0, by=["area", "sex"], headcount_total=False)
    f = tb.to_frame()
    assert set(zip(f.area, f.sex)) == {(a, x) for a in ("rural", "urban") for x in ("f", "m")}
    m = ((df.area == "rural") & (df.sex == "m")).to_numpy()
    np.testing.assert_allclose(tb.get(area="rural", sex="m").estimate, hand_fgt(y[m], w[m], 9000, 0), rtol=1e-13)


# ---------------------------------------------------------------------------- decomposition, identity, curves
def test_decompose_identities_and_ses():
    s = synthetic()
    t = decompose(s, "y_with", 9000.0, by="area", alpha=(0, 2))
    f = t.to_frame()
    for a in ("fgt0", "fgt2"):
        fa = f[f.measure == a]
        total = fa[fa.component == "total"].estimate.iloc[0]
        np.testing.assert_allclose(fa[fa.component == "contribution"].estimate.sum(), total, rtol=1e-13)
        np.testing.assert_allclose(fa[fa.component == "pct_contribution"].estimate.sum(), 100, rtol=1e-13)
        np.testing.assert_allclose(fa[fa.component == "population_share"].estimate.sum(), 1, rtol=1e-13)
        # SEs of the total and of the group indices equal fgt's (the delta method is exact for them)
        ref = fgt(s, "y_with", 9000.0, alpha=int(a[-1]), headcount_total=False)
        np.testing.assert_allclose(fa[fa.component == "total"].se.iloc[0], ref.se[0], rtol=1e-10)
        refb = fgt(s, "y_with", 9000.0, alpha=int(a[-1]), by="area", headcount_total=False)
        np.testing.assert_allclose(fa[fa.component == "group_index"].se.to_numpy(), refb.se, rtol=1e-10)
    # population share SE = SE of the domain mean of the indicator (estimation.mean)
    urb = (s.data["area"] == "urban").astype(float).to_numpy()
    m = rp.mean(s, urb)
    sh = t.get(measure="fgt0", component="population_share", area="urban")
    np.testing.assert_allclose([sh.estimate, sh.se], [m.estimates[0], m.se[0]], rtol=1e-10)


def test_static_identity_exact():
    s = synthetic()
    r = static_identity(s, "y_with", "y_without", 9000.0, "recipient", alpha=(0, 1, 2))
    np.testing.assert_allclose(r.lhs, r.rhs, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(r.nonrecipient_change, 0.0)
    w = s.design().weights
    rec = s.data["recipient"].to_numpy()
    np.testing.assert_allclose(r.recipient_share, w[rec].sum() / w.sum(), rtol=1e-13)
    # the total change row has the SE of compare()'s difference
    c = compare(s, {"with": "y_with", "without": "y_without"}, 9000.0, alpha=(0, 1, 2))
    for a in (0, 1, 2):
        np.testing.assert_allclose(r.table.get(measure=f"fgt{a}", component="total_change").se,
                                   c.get(measure=f"fgt{a}", concept="with - without").se, rtol=1e-9)
    assert "recipients" in r.summary()


@pytest.mark.parametrize("alpha", [0, 1, 2])
def test_poverty_curve_equals_pointwise_fgt(alpha):
    s = synthetic().with_columns()
    grid = np.linspace(3000, 20000, 9)
    cur = poverty_curve(s, {"with": "y_with", "without": "y_without"}, grid, alpha=alpha, by="area",
                        difference=True, max_cells=50_000)  # small blocks: exercises the chunking
    for z in grid[[0, 4, 8]]:
        c = compare(s, {"with": "y_with", "without": "y_without"}, float(z), alpha=alpha, by="area")
        for concept in ("with", "without", "with - without"):
            for area in ("rural", "urban"):
                row = cur[(cur.line == z) & (cur.concept == concept) & (cur.area == area)].iloc[0]
                e = c.get(concept=concept, area=area)
                np.testing.assert_allclose([row.estimate, row.se], [e.estimate, e.se], rtol=1e-10, atol=1e-15)
    # replicate designs
    sr = synthetic(two_psu=True).with_replicates("brr")
    cr = poverty_curve(sr, "y_with", grid[:3], alpha=alpha)
    for z in grid[:3]:
        e = fgt(sr, "y_with", float(z), alpha=alpha, headcount_total=False)
        row = cr[cr.line == z].iloc[0]
        np.testing.assert_allclose([row.estimate, row.se], [e.estimates[0], e.se[0]], rtol=1e-10, atol=1e-15)


# ---------------------------------------------------------------------------- Sen and SST
def _gini_brute(x, w):
    return (w[:, None] * w[None, :] * np.abs(x[:, None] - x[None, :])).sum() / (2 * w.sum() ** 2 * (w * x).sum() / w.sum())


def _small_design(seed=0, n=80):
    rng = np.random.default_rng(seed)
    y = np.exp(rng.normal(9, 0.7, n))
    y[:3] = [1000.0, 1000.0, 2500.0]  # ties among the poor
    w = rng.uniform(1, 3, n)
    strata = np.repeat(np.arange(4), n // 4)
    psu = np.repeat(np.arange(16), n // 16)
    return y, w, strata, psu


def _fd_influence(stat, w, eps=1e-6):
    """dStat/dw_k by central differences -- an independent check of the influence values."""
    out = np.empty(w.size)
    for k in range(w.size):
        wp, wm = w.copy(), w.copy()
        wp[k] += eps
        wm[k] -= eps
        out[k] = (stat(wp) - stat(wm)) / (2 * eps)
    return out


@pytest.mark.parametrize("kind", ["sen", "sst"])
def test_sen_sst_point_and_linearisation(kind):
    y, w, strata, psu = _small_design()
    z = 8000.0
    d = Design.from_arrays(w, strata, psu)

    def stat(wt):
        poor = y < z
        x = np.where(poor, (z - y) / z, 0)
        P1 = (wt * x).sum() / wt.sum()
        if kind == "sen":
            H = (wt * poor).sum() / wt.sum()
            I = (wt * x)[poor].sum() / wt[poor].sum()
            Gp = _gini_brute(y[poor], wt[poor])  # Gini of the poor's INCOMES: Sen's own form
            return H * (I + (1 - I) * Gp)
        return P1 * (1 + _gini_brute(x, wt))

    fn = sen if kind == "sen" else sst
    t = fn(d, y, z, deff=False)
    e = t.get(measure=kind)
    np.testing.assert_allclose(e.estimate, stat(w), rtol=1e-12)
    # influence values from finite differences (h = 1e-6 on weights ~2: error ~1e-9 relative)
    zi = _fd_influence(stat, w)
    v = hand_linear_var(w * zi, strata, psu)
    np.testing.assert_allclose(e.se ** 2, v, rtol=1e-6)
    # SST components: P0 x mean gap of the poor x (1 + G) (Shorrocks 1995)
    if kind == "sst":
        poor = y < z
        P0 = (w * poor).sum() / w.sum()
        Ibar = (w * (z - y) / z)[poor].sum() / w[poor].sum()
        G = t.get(measure="gini_gaps").estimate
        np.testing.assert_allclose(e.estimate, P0 * Ibar * (1 + G), rtol=1e-12)


def test_sen_sst_replicates_and_relative_line():
    s = synthetic(n_strata=6, two_psu=True, per_psu=25, seed=5).with_replicates("brr")
    d = s.design()
    W = d.weights[:, None] * d.replicates.factors[d.psu]
    y = s.data["y_with"].to_numpy()
    t = sst(s, "y_with", 9000.0, deff=False)
    x = np.where(y < 9000, (9000 - y) / 9000, 0)
    th = np.array([(W[:, r] * x).sum() / W[:, r].sum() * (1 + _gini_brute(x, W[:, r])) for r in range(W.shape[1])])
    np.testing.assert_allclose(t.get(measure="sst").se ** 2, ((th - th.mean()) ** 2).mean(), rtol=1e-10)
    # relative lines: finite positive SEs, point value at the estimated line
    sl = synthetic(seed=5)
    zl = RelativeLine(0.6).value(sl.data["y_with"].to_numpy(), sl.design().weights)
    a = sen(sl, "y_with", RelativeLine(0.6), deff=False)
    b = sen(sl, "y_with", zl, deff=False)
    np.testing.assert_allclose(a.estimates, b.estimates, rtol=1e-12)
    assert np.isfinite(a.se).all() and not np.allclose(a.se, b.se)


def test_compare_with_each_concepts_own_relative_line():
    """RelativeLine without income=: each concept's own median; difference and its SE by hand."""
    s = synthetic(seed=11)
    w = s.design().weights
    yw, yo = s.data["y_with"].to_numpy(), s.data["y_without"].to_numpy()
    c = compare(s, {"with": "y_with", "without": "y_without"}, RelativeLine(0.6), alpha=(0, 1), by="area")
    a = fgt(s, "y_with", RelativeLine(0.6), alpha=(0, 1), by="area", headcount_total=False)
    b = fgt(s, "y_without", RelativeLine(0.6), alpha=(0, 1), by="area", headcount_total=False)
    for m in ("fgt0", "fgt1"):
        for area in ("rural", "urban"):
            d = c.get(measure=m, concept="with - without", area=area)
            ea, eb = a.get(measure=m, area=area), b.get(measure=m, area=area)
            np.testing.assert_allclose(d.estimate, ea.estimate - eb.estimate, rtol=1e-12)
            assert c.get(measure=m, concept="with", area=area).se == pytest.approx(ea.se, rel=1e-12)
    urb = (s.data["area"] == "urban").to_numpy()
    zw = 0.6 * weighted_quantile(yw, w, 0.5)
    zo = 0.6 * weighted_quantile(yo, w, 0.5)
    np.testing.assert_allclose(c.get(measure="fgt0", concept="with - without", area="urban").estimate,
                               hand_fgt(yw[urb], w[urb], zw, 0) - hand_fgt(yo[urb], w[urb], zo, 0), rtol=1e-12)
    assert set(c.to_frame()["line"]) == {"60% median"}


def test_decompose_and_static_identity_on_replicate_design():
    """Transformed estimates (shares, contributions) on a BRR design: the replicate variance
    of the transform, checked against estimation.mean (population share) and compare()."""
    s = synthetic(n_strata=8, two_psu=True, per_psu=20, seed=3).with_replicates("brr")
    t = decompose(s, "y_with", 9000.0, by="area", alpha=1)
    urb = (s.data["area"] == "urban").astype(float).to_numpy()
    m = rp.mean(s, urb)
    sh = t.get(measure="fgt1", component="population_share", area="urban")
    np.testing.assert_allclose([sh.estimate, sh.se], [m.estimates[0], m.se[0]], rtol=1e-10)
    tot = t.get(measure="fgt1", component="total")
    ref = fgt(s, "y_with", 9000.0, alpha=1, headcount_total=False)
    np.testing.assert_allclose([tot.estimate, tot.se], [ref.estimates[0], ref.se[0]], rtol=1e-10)
    r = static_identity(s, "y_with", "y_without", 9000.0, "recipient", alpha=1)
    c = compare(s, {"with": "y_with", "without": "y_without"}, 9000.0, alpha=1)
    np.testing.assert_allclose(r.table.get(component="total_change").se, c.get(concept="with - without").se,
                               rtol=1e-10)
    np.testing.assert_allclose(r.lhs, r.rhs, atol=1e-12)

"""Poverty dominance (Davidson--Duclos, design-based) and growth/redistribution decompositions
(remitpov.robustness).

References
----------
* ../shared/reference/eusilc_fgt.json (R survey 4.1.1): with-minus-without FGT(0,1,2)
  differences and their SEs on EU-SILC at two lines -- the dominance test's difference
  curves and SEs at those lines must equal them (estimates 1e-10, SEs 1e-8 relative, the
  tolerances of tests/test_poverty_eusilc.py: R's SE is a sum over 6,000 PSU totals).
* Closed forms: a pure scaling has no distribution component, a mean-preserving change no
  growth component; the four counterfactual indices by hand with numpy.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import remitpov as rp
from remitpov.exceptions import InputError
from remitpov.robustness import growth_redistribution, poverty_dominance


def _sample(n_strata=10, psu_per=6, per_psu=20, seed=2):
    rng = np.random.default_rng(seed)
    h = np.repeat(np.arange(n_strata), psu_per * per_psu)
    psu = np.repeat(np.arange(n_strata * psu_per), per_psu)
    y = np.exp(9 + rng.normal(0, 0.3, n_strata * psu_per)[psu] + rng.normal(0, 0.6, h.size))
    rem = np.where(rng.random(h.size) < 0.25, np.exp(7.8 + rng.normal(0, 0.5, h.size)), 0.0)
    w = rng.uniform(50, 150, h.size)
    m = np.average(y, weights=w)
    df = pd.DataFrame({"h": h, "psu": psu, "w": w, "y0": y, "y1": y + rem, "spread": m + 1.6 * (y - m),
                       "scaled": 1.1 * y, "same": y.copy()})
    return rp.Survey(df, weight="w", strata="h", psu="psu", unit="person"), df


@pytest.fixture(scope="module")
def sample():
    return _sample()


@pytest.fixture(scope="module")
def eusilc(shared):
    df = pd.read_csv(shared("data", "eusilc", "eusilc.csv.gz"))
    df["noT"] = df["eqIncome"] - df["hy080n"] / df["eqSS"]
    return rp.Survey(df, weight="rb050", strata="db040", psu="db030", unit="person")


@pytest.mark.parametrize("order", [1, 2, 3])
def test_dominance_differences_and_ses_equal_r_survey(eusilc, eusilc_fgt_ref, order):
    ref = eusilc_fgt_ref["difference_without_minus_with"]
    lines = [ref["noT_z10000"]["z"], ref["noT_zarpt"]["z"]]
    r = poverty_dominance(eusilc, {"without": "noT", "with": "eqIncome"}, lines, order=order)
    for i, key in enumerate(("noT_z10000", "noT_zarpt")):
        a = ref[key][f"fgt{order - 1}"]
        row = r.table.iloc[i]
        np.testing.assert_allclose(row["difference"], a["difference"], rtol=1e-10)
        np.testing.assert_allclose(row["se"], a["se_difference"], rtol=1e-8)
        np.testing.assert_allclose([row["without"], row["with"]], [a["without"], a["with"]], rtol=1e-10)
    # transfers received lower poverty at both lines: "with" dominates, t < -critical
    assert r.conclusion == "with dominates without"
    assert r.critical == pytest.approx(stats.t.isf(0.05, eusilc_fgt_ref["meta"]["degf"]), rel=1e-10)


def test_dominance_decisions(sample):
    s, df = sample
    grid = np.quantile(df["y0"], np.linspace(0.1, 0.9, 9))
    r = poverty_dominance(s, {"with": "y1", "without": "y0"}, grid)
    assert r.conclusion == "with dominates without" and r.max_t < -r.critical
    assert poverty_dominance(s, {"without": "y0", "with": "y1"}, grid).conclusion == "with dominates without"
    # a mean-preserving spread: more poverty at low lines, less at high lines
    c = poverty_dominance(s, {"spread": "spread", "base": "y0"}, grid)
    assert c.conclusion == "curves cross" and c.table["t"].iloc[0] > c.critical and c.table["t"].iloc[-1] < -c.critical
    # identical incomes: zero SEs, t undefined, no ranking
    assert poverty_dominance(s, {"a": "y0", "b": "same"}, grid).conclusion == "no ranking"
    # the t statistic is the difference over its SE; the critical value is the design-df t
    assert np.allclose(r.table["t"], r.table["difference"] / r.table["se"], rtol=1e-14)
    assert r.critical == pytest.approx(stats.t.isf(0.05, s.design().df), rel=1e-10)
    assert "dominates" in r.summary()


def test_dominance_input_errors(sample):
    s, _ = sample
    with pytest.raises(InputError, match="exactly two"):
        poverty_dominance(s, {"a": "y0"}, [1000.0])
    with pytest.raises(InputError, match="order"):
        poverty_dominance(s, {"a": "y0", "b": "y1"}, [1000.0], order=4)
    with pytest.raises(InputError):
        poverty_dominance(s, {"a": "y0", "b": "y1"}, [-1.0])


def _hand_fgt(y, w, z, a):
    g = np.where(y < z, ((z - y) / z) ** a, 0.0)
    return np.sum(w * g) / np.sum(w)


@pytest.mark.parametrize("alpha", [0, 1, 2])
def test_decomposition_equals_hand_computation(sample, alpha):
    s, df = sample
    w = df["w"].to_numpy()
    y1, y2 = df["y0"].to_numpy(), df["y1"].to_numpy()
    m1, m2 = np.average(y1, weights=w), np.average(y2, weights=w)
    z = 9000.0
    P11, P22 = _hand_fgt(y1, w, z, alpha), _hand_fgt(y2, w, z, alpha)
    P21, P12 = _hand_fgt(y1 * m2 / m1, w, z, alpha), _hand_fgt(y2 * m1 / m2, w, z, alpha)
    sh = growth_redistribution(s, {"without": "y0", "with": "y1"}, z, alpha)
    dr = growth_redistribution(s, {"without": "y0", "with": "y1"}, z, alpha, method="datt_ravallion")
    # scaled incomes vs scaled lines: identical classifications here, sums in another order
    tol = dict(rel=1e-10, abs=1e-14)
    assert sh.growth == pytest.approx(0.5 * (P21 - P11 + P22 - P12), **tol)
    assert sh.redistribution == pytest.approx(0.5 * (P12 - P11 + P22 - P21), **tol)
    assert sh.residual == pytest.approx(0.0, abs=1e-15)
    assert dr.growth == pytest.approx(P21 - P11, **tol) and dr.redistribution == pytest.approx(P12 - P11, **tol)
    assert dr.growth + dr.redistribution + dr.residual == pytest.approx(P22 - P11, abs=1e-15)
    assert sh.mean1 == pytest.approx(m1, rel=1e-12) and sh.change == pytest.approx(P22 - P11, **tol)


def test_decomposition_closed_forms(sample):
    s, _ = sample
    # pure scaling by 1.1: Lorenz curve unchanged -> all growth
    g = growth_redistribution(s, {"base": "y0", "scaled": "scaled"}, 9000.0, 1)
    assert g.redistribution == pytest.approx(0.0, abs=1e-12) and g.growth == pytest.approx(g.change, abs=1e-12)
    assert g.change < 0
    # mean-preserving spread: no growth component, all distribution
    d = growth_redistribution(s, {"base": "y0", "spread": "spread"}, 9000.0, 0)
    assert d.mean2 == pytest.approx(d.mean1, rel=1e-12)
    assert d.growth == pytest.approx(0.0, abs=1e-12) and d.redistribution == pytest.approx(d.change, abs=1e-12)
    with pytest.raises(InputError, match="method"):
        growth_redistribution(s, {"a": "y0", "b": "y1"}, 9000.0, method="other")


def test_decomposition_ses_of_the_observed_indices_equal_compare(sample):
    """P1, P2 and their difference are ordinary FGT indices at a fixed line: their SEs must be
    those of remitpov.poverty.compare (same linearisation, 1e-10)."""
    s, _ = sample
    for a in (0, 1, 2):
        r = growth_redistribution(s, {"without": "y0", "with": "y1"}, 9000.0, a)
        c = rp.poverty.compare(s, {"with": "y1", "without": "y0"}, 9000.0, alpha=a)
        assert r.se["P1"] == pytest.approx(c.get(concept="without").se, rel=1e-10)
        assert r.se["P2"] == pytest.approx(c.get(concept="with").se, rel=1e-10)
        assert r.se["change"] == pytest.approx(c.get(concept="with - without").se, rel=1e-10)


@pytest.fixture(scope="module")
def larger():
    return _sample(n_strata=20, psu_per=10, per_psu=20)[0]


@pytest.mark.parametrize("alpha", [1, 2])
@pytest.mark.parametrize("method", ["shapley", "datt_ravallion"])
def test_decomposition_linearised_ses_equal_jackknife(larger, alpha, method):
    """The counterfactual indices move with the estimated means. The JKn replicate path
    recomputes means, lines and indices per replicate (no derivative), so it checks the
    linearisation's derivative terms: for these smooth statistics the two agree to
    O(1/number of PSUs) -- observed within 0.2 % with 200 PSUs; tolerance 1 %."""
    inc = {"without": "y0", "with": "y1"}
    lin = growth_redistribution(larger, inc, 9000.0, alpha, method=method).to_frame()
    jk = growth_redistribution(larger.with_replicates("jkn"), inc, 9000.0, alpha, method=method).to_frame()
    np.testing.assert_allclose(lin["estimate"], jk["estimate"], rtol=0, atol=1e-15)
    keys = ["change", "growth", "redistribution"] + (["residual"] if method == "datt_ravallion" else [])
    np.testing.assert_allclose(lin.loc[keys, "se"], jk.loc[keys, "se"], rtol=1e-2)
    # without the derivative terms the growth SE would be far off (the test can tell)
    c = rp.poverty.compare(larger, {"a": "y0", "b": "y1"}, 9000.0, alpha=alpha)
    assert abs(lin.loc["growth", "se"] / c.get(concept="a - b").se - 1) > 0.05


def test_decomposition_headcount_se_vs_bootstrap(larger):
    """alpha = 0: the line's effect goes through the kernel density (as for relative lines);
    checked against 1,000 Rao-Wu bootstrap replicates (seeded): the bootstrap SE has ~2 %
    Monte Carlo error and the headcount at a moving line is not smooth in finite samples,
    so within 12 % (observed 0.94-1.01)."""
    inc = {"without": "y0", "with": "y1"}
    lin = growth_redistribution(larger, inc, 9000.0, 0).to_frame()
    bs = growth_redistribution(larger.with_replicates("bootstrap", replicates=1000, seed=1), inc, 9000.0, 0).to_frame()
    r = lin.loc[["change", "growth", "redistribution"], "se"] / bs.loc[["change", "growth", "redistribution"], "se"]
    assert np.all(np.abs(r - 1) < 0.12)


def test_decomposition_missing_incomes(sample):
    s, df = sample
    y = df["y1"].to_numpy().copy()
    y[[3, 50]] = np.nan
    with pytest.raises(InputError, match="missing"):
        growth_redistribution(s, {"a": "y0", "b": y}, 9000.0)
    r = growth_redistribution(s, {"a": "y0", "b": y}, 9000.0, 1, na_rm=True)
    keep = np.isfinite(y)
    s2 = rp.Survey(df[keep].assign(yb=y[keep]), weight="w", strata="h", psu="psu", unit="person")
    r2 = growth_redistribution(s2, {"a": "y0", "b": "yb"}, 9000.0, 1)
    np.testing.assert_allclose(r.to_frame()["estimate"], r2.to_frame()["estimate"], rtol=1e-12, atol=1e-15)
    # the two rows contribute zero influence to their PSUs, which keep other rows: same SEs
    np.testing.assert_allclose(r.to_frame()["se"], r2.to_frame()["se"], rtol=1e-10)

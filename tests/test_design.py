"""The variance engine: lonely PSUs, replicate designs, closed forms, bad input.

References: fixtures/design_reference.json, produced by tests/r/make_design_reference.R
with R survey 4.1.1 (lonely-PSU policies; JK1/JKn replicate designs). Tolerance 1e-8
relative: identical formulas in double precision; the JSON is written with full digits.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import remitpov as rp
from remitpov.design import Design
from remitpov.exceptions import DesignError, InputError

REF = json.loads((Path(__file__).parents[1] / "fixtures" / "design_reference.json").read_text())
RTOL = 1e-8


def _flat(x):
    return float(np.asarray(x).ravel()[0])


@pytest.fixture(scope="module")
def clus1(shared):
    df = pd.read_csv(shared("data", "api", "apiclus1.csv.gz"))
    df["grp"] = df["dnum"].astype(str).map(REF["lonely_strata"])
    return df


@pytest.mark.parametrize("policy", ["certainty", "remove", "adjust", "average"])
def test_lonely_psu_policies_match_r(clus1, policy):
    ref = REF["lonely"][policy]
    s = rp.Survey(clus1, weight="pw", strata="grp", psu="dnum", unit="person", lonely_psu=policy)
    m = rp.mean(s, "api00").get()
    t = rp.total(s, "api00").get()
    np.testing.assert_allclose(m.estimate, ref["mean"], rtol=RTOL)
    np.testing.assert_allclose(m.se, _flat(ref["mean_se"]), rtol=RTOL)
    np.testing.assert_allclose(t.se, _flat(ref["total_se"]), rtol=RTOL)
    by = rp.mean(s, "api00", by="stype")
    for lab, se in ref["by_stype_se"].items():
        np.testing.assert_allclose(by.get(stype=lab).se, se, rtol=RTOL)


def test_lonely_psu_error_names_stratum(clus1):
    s = rp.Survey(clus1, weight="pw", strata="grp", psu="dnum", unit="person")
    with pytest.raises(DesignError, match="single PSU.*g1"):
        rp.mean(s, "api00")


@pytest.mark.parametrize("name,kind,kw", [
    ("jk1_clus1", "jk1", dict(psu="dnum")),
    ("jkn_strat", "jkn", dict(strata="stype")),
])
def test_jackknife_matches_r(shared, name, kind, kw):
    ref = REF[name]
    file = "apiclus1" if "clus1" in name else "apistrat"
    df = pd.read_csv(shared("data", "api", f"{file}.csv.gz"))
    s = rp.Survey(df, weight="pw", unit="person", **kw).with_replicates(kind)
    assert s.design().replicates.n_replicates == ref["n_replicates"]
    m = rp.mean(s, "api00").get()
    np.testing.assert_allclose(m.se, _flat(ref["mean_se"]), rtol=RTOL)
    np.testing.assert_allclose(rp.total(s, "api00").get().se, _flat(ref["total_se"]), rtol=RTOL)
    np.testing.assert_allclose(rp.ratio(s, "api00", "api99").get().se, _flat(ref["ratio_se"]), rtol=RTOL)
    by = rp.mean(s, "api00", by="sch.wide")
    for lab, se in ref["by_schwide_se"].items():
        np.testing.assert_allclose(by.get(**{"sch.wide": lab}).se, se, rtol=RTOL)


def _paired_design(seed=1, H=7):
    rng = np.random.default_rng(seed)
    n_per = rng.integers(2, 6, size=2 * H)
    psu = np.repeat(np.arange(2 * H), n_per)
    strata = psu // 2
    w = rng.uniform(1, 5, psu.size)
    y = rng.lognormal(size=psu.size)
    return w, strata, psu, y


@pytest.mark.parametrize("kind", ["brr", "fay", "jkn"])
def test_replicates_of_a_total_equal_linearisation(kind):
    """Closed form: with a fully balanced BRR/Fay set (or JKn), the replicate variance of a
    LINEAR statistic (a total) equals the with-replacement linearisation variance exactly."""
    w, strata, psu, y = _paired_design()
    d = Design.from_arrays(w, strata=strata, psu=psu)
    est = (w * y).sum()
    v_lin = d.vcov(est, y)
    dr = d.with_replicates(kind)
    v_rep = dr.vcov(est, y, totals=(y[:, None], lambda T: T))
    np.testing.assert_allclose(v_rep, v_lin, rtol=1e-10)  # exact identity: rounding only


def test_bootstrap_close_to_linearisation_and_unbiased_factors():
    """Rao-Wu bootstrap: E[multiplier] = 1 per PSU; with R = 4000 replicates the SE of a mean is
    within 6 % of the linearised SE (Monte-Carlo sd of an SE from R replicates ~ 1/sqrt(2R) = 1.1 %;
    the rest is the O(1/n_h) difference between the two variance estimators)."""
    rng = np.random.default_rng(5)
    H, per = 20, 8
    psu = np.repeat(np.arange(H * per), 6)
    strata = psu // per
    w = rng.uniform(1, 3, psu.size)
    y = rng.normal(size=psu.size) + psu % 7
    d = Design.from_arrays(w, strata=strata, psu=psu)
    tab_lin = rp.mean(d, y).get()
    db = d.with_replicates("bootstrap", replicates=4000, seed=11)
    assert abs(db.replicates.factors.mean() - 1) < 0.01
    tab_b = rp.mean(db, y).get()
    assert tab_b.estimate == pytest.approx(tab_lin.estimate, rel=1e-12)
    assert tab_b.se == pytest.approx(tab_lin.se, rel=0.06)
    # seeded: same seed, same replicates; other seed, other replicates
    again = d.with_replicates("bootstrap", replicates=50, seed=11).replicates.factors
    np.testing.assert_array_equal(again, d.with_replicates("bootstrap", replicates=50, seed=11).replicates.factors)
    assert not np.array_equal(again, d.with_replicates("bootstrap", replicates=50, seed=12).replicates.factors)


def test_replicate_row_path_equals_totals_path():
    """The chunked row-level path (used by non-linear statistics) equals the PSU-totals fast path."""
    w, strata, psu, y = _paired_design(H=30)
    d = Design.from_arrays(w, strata=strata, psu=psu).with_replicates("bootstrap", replicates=150, seed=3)
    from remitpov.design import ratio_linearization
    est, z, tot = ratio_linearization(w, y, np.ones_like(y))
    v_fast = d.vcov(est, z, totals=tot)
    v_rows = d.vcov(est, z, replicate=lambda W: (W.T @ y) / W.sum(0))
    np.testing.assert_allclose(v_rows, v_fast, rtol=1e-10)  # same replicate estimates, summed differently


def test_user_supplied_replicate_weights_equal_generated():
    w, strata, psu, y = _paired_design(H=10)
    d = Design.from_arrays(w, strata=strata, psu=psu)
    gen = d.with_replicates("jkn")
    W = w[:, None] * gen.replicates.factors[psu]
    sup = d.with_replicate_weights(W, kind="jkn", scale=1.0, rscales=gen.replicates.rscales)
    a = rp.mean(gen, y).get()
    b = rp.mean(sup, y).get()
    # identical replicate weights, two code paths: rounding only
    assert a.se == pytest.approx(b.se, rel=1e-12)
    # domains zero the supplied replicate weights too
    dom = y > np.median(y)
    a = rp.mean(gen, y, by=dom).get(domain=True)
    b = rp.mean(sup, y, by=dom).get(domain=True)
    assert a.se == pytest.approx(b.se, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 60), seed=st.integers(0, 10_000))
def test_srs_mean_variance_closed_form(n, seed):
    """Unstratified, unclustered, equal weights: V(mean) = s^2 / n (with-replacement)."""
    y = np.random.default_rng(seed).normal(size=n)
    d = Design.from_arrays(np.ones(n))
    se = rp.mean(d, y).get().se
    # closed form, rounding only (abs for the all-equal-y case where both are ~0)
    assert se == pytest.approx(np.sqrt(y.var(ddof=1) / n), rel=1e-9, abs=1e-14)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), c=st.floats(0.1, 100))
def test_weight_scale_invariance_of_mean_se(seed, c):
    w, strata, psu, y = _paired_design(seed=seed)
    a = rp.mean(Design.from_arrays(w, strata=strata, psu=psu), y).get()
    b = rp.mean(Design.from_arrays(c * w, strata=strata, psu=psu), y).get()
    # exact invariance; c up to 100 costs a few ulps in the weighted sums of squares
    assert a.estimate == pytest.approx(b.estimate, rel=1e-10)
    assert a.se == pytest.approx(b.se, rel=1e-8)


def test_bad_design_input():
    with pytest.raises(InputError, match="finite and non-negative.*row 1"):
        Design.from_arrays([1.0, -2.0, 3.0])
    with pytest.raises(InputError, match="PSU labels repeat across strata"):
        Design.from_arrays(np.ones(4), strata=[1, 1, 2, 2], psu=[1, 2, 1, 2])
    d = Design.from_arrays(np.ones(4), strata=[1, 1, 2, 2], psu=[1, 2, 1, 2], nest=True)
    assert d.n_psu == 4 and d.df == 2
    with pytest.raises(InputError, match="missing"):
        Design.from_arrays(np.ones(3), strata=[1, None, 2])
    with pytest.raises(InputError, match="unknown replicate kind"):
        Design.from_arrays(np.ones(4)).with_replicates("magic")
    with pytest.raises(DesignError, match="exactly 2 PSUs"):
        Design.from_arrays(np.ones(6), strata=[1, 1, 1, 2, 2, 2]).with_replicates("brr")


def test_survey_validation_messages():
    df = pd.DataFrame({"id": ["a", "b", "c"], "w": [1.0, 0.0, 2.0], "size": [1, 2, 0]})
    with pytest.raises(InputError, match=r"'w' is zero or negative in 1 row \(e.g. id='b'\)"):
        rp.Survey(df, weight="w", ids=["id"])
    df["w"] = [1.0, 2.0, 3.0]
    with pytest.raises(InputError, match=r"household size column 'size'.*id='c'"):
        rp.Survey(df, weight="w", ids=["id"], size="size")
    with pytest.raises(InputError, match="design column 'upm'"):
        rp.Survey(df, weight="w", psu="upm")


def test_person_weights_and_immutability():
    df = pd.DataFrame({"w": [10.0, 20.0], "size": [3, 1], "y": [1.0, 2.0]})
    s = rp.Survey(df, weight="w", size="size")
    np.testing.assert_array_equal(s.weights("person"), [30.0, 20.0])
    assert s.population("household") == 30 and s.population("person") == 50
    s2 = s.with_columns(z=[5, 6])
    assert "z" not in s.data.columns and "z" in s2.data.columns
    df.loc[0, "y"] = 99.0  # the caller's frame is copied on the way in
    assert s.data.loc[0, "y"] == 1.0


# ---------------------------------------------------------------------- factored influence values
def _factored_case(seed, D, m=3, K=4, chunk=None):
    rng = np.random.default_rng(seed)
    w, strata, psu, _ = _paired_design(H=12, seed=seed)
    n = w.size
    B = rng.normal(size=(n, m))
    codes = rng.integers(0, D, n)
    A = rng.normal(size=(D * m, K))
    # the row-level influence values the factored form stands for: z_i = B_i A[d_i]
    z = np.einsum("im,imk->ik", B, A.reshape(D, m, K)[codes])
    return w, strata, psu, B, codes, A, z


@pytest.mark.parametrize("D", [1, 3, 7])
@pytest.mark.parametrize("kind", ["plain", "fpc", "two_stage", "lonely_adjust", "lonely_average"])
def test_factored_influence_equals_row_path(D, kind):
    """vcov_factored / srs_variance_factored equal the row path (R-tested above) on z = B A[d].

    Same sums in another order: 1e-10 relative. Chunks smaller than n exercise the
    accumulation over chunks (and the many-domain grouping for D > 4)."""
    w, strata, psu, B, codes, A, z = _factored_case(5 + D, D)
    kw = {}
    if kind in ("fpc", "two_stage"):
        kw["fpc"] = np.full(w.size, 40.0)
    if kind == "two_stage":
        kw["ssu"] = np.arange(w.size) % 3
        kw["fpc2"] = np.full(w.size, 10.0)
    if kind.startswith("lonely"):
        strata = strata.copy()
        strata[psu == psu.max()] = strata.max() + 1  # one stratum with a single PSU
        kw["lonely_psu"] = kind.split("_")[1]
    d = Design.from_arrays(w, strata=strata, psu=psu, **kw)
    sums = d.influence_sums(B, codes, D, chunk=37)
    np.testing.assert_allclose(d.vcov_factored(sums, A), d.vcov(np.zeros(A.shape[1]), z), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(d.srs_variance_factored(sums, A), d.srs_variance(z), rtol=1e-10)
    # a callable basis (chunks produced on demand) gives the same sums
    sums2 = d.influence_sums(lambda a, b: B[a:b], codes, D, chunk=50)
    np.testing.assert_allclose(sums2.psu, sums.psu, rtol=1e-12, atol=1e-14)
    # per-domain totals of w B
    np.testing.assert_allclose(sums.totals, [(w[codes == j, None] * B[codes == j]).sum(0) for j in range(D)],
                               rtol=1e-12)


def test_factored_replicate_psu_totals_equal_row_totals():
    """Replicate estimates from PSU totals (factored path) equal those from row-level totals."""
    w, strata, psu, y = _paired_design(H=10)
    d = Design.from_arrays(w, strata=strata, psu=psu).with_replicates("bootstrap", replicates=40, seed=2)
    Y = np.column_stack([y, np.ones_like(y)])
    f = lambda T: T[:, :1] / T[:, 1:]  # noqa: E731
    sums = d.influence_sums(Y, gram=False)
    est = np.array([(w * y).sum() / w.sum()])
    a = d.vcov(est, psu_totals=(sums.psu, f))
    b = d.vcov(est, totals=(Y, f))
    np.testing.assert_allclose(a, b, rtol=1e-10)  # same totals, summed in another order
    sup = d.with_replicate_weights(w[:, None] * d.replicates.factors[psu])
    with pytest.raises(DesignError, match="PSU factors"):
        sup.vcov(est, psu_totals=(sums.psu, f))


def test_survey_roles_read_only_and_picklable():
    import pickle

    df = pd.DataFrame({"w": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 4.0], "st": [1, 1, 2], "p": [1, 2, 3]})
    s = rp.Survey(df, weight="w", unit="person", roles={"income": "y"}, strata="st", psu="p",
                  lonely_psu="certainty")
    with pytest.raises(TypeError):
        s.roles["income"] = "w"  # immutable: use with_roles
    s2 = s.with_roles(income="w")
    assert s.roles["income"] == "y" and s2.roles["income"] == "w"
    t = pickle.loads(pickle.dumps(s))
    assert dict(t.roles) == {"income": "y"} and t.data.equals(s.data)
    a, b = rp.mean(s, "y").get(), rp.mean(t, "y").get()
    assert (a.estimate, a.se) == (b.estimate, b.se)

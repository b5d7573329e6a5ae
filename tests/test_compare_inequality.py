"""Joint estimation of inequality measures for several income concepts (compare_inequality).

Independent references
----------------------
* The single-income estimators (:func:`gini`, :func:`theil`, ...): every concept's
  estimate and SE in the joint table must equal theirs, and the difference's estimate
  the difference of theirs (the same floating-point operations: compared EXACTLY for
  estimates, 1e-12 relative for SEs, where only the order of summation in the
  variance engine may differ).
* The covariance between the concepts, computed without the joint code:
  - influence values recomputed by central finite differences of the PUBLIC
    single-income estimator (one call per unit and sign), pushed through
    ``Design.vcov``: ``Var(G1 - G2) = V1 + V2 - 2 C12``. Relative tolerance 1e-6:
    central differences with step 1e-6 x weight have O(step^2) truncation error on
    these smooth statistics, the rest is rounding (as tests/test_inequality.py);
  - a delete-one-PSU jackknife coded here (not the library's replicate factors): the
    Gini (O(n^2) pairwise formula) and Theil (closed form) of both concepts under every
    replicate, their difference by hand, ``sum_r (n_h - 1)/n_h (d_r - mean d)^2``.
    Relative tolerance 1e-10 (same arithmetic up to summation order).
* R (fixtures/gini_difference_eusilc.json, tests/r/make_gini_difference_eusilc.R):
  Langel & Tillé's linearised Gini variable for eqIncome and eqIncome - hy080n/eqSS on
  laeken's eusilc data and ``svytotal`` of their difference on the same design; national,
  by region and by sex. Tolerances as tests/test_inequality_eusilc.py: estimates 1e-10
  relative (same closed-form sums, summation order only), SEs 1e-8 relative.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from remitpov import inequality as ineq
from remitpov.exceptions import InputError
from remitpov.inequality import INEQUALITY_MEASURES, compare_inequality, gini, theil
from remitpov.poverty import compare
from remitpov.survey import Survey

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "gini_difference_eusilc.json"
INCOMES = {"with": "income", "without": "no_remit"}


def make_survey(seed=0, H=6, m=5, k=4) -> Survey:
    """Stratified synthetic design; ``no_remit`` = income without remittances (positive)."""
    rng = np.random.default_rng(seed)
    n = H * m * k
    psu = np.repeat(np.arange(H * m), k)
    labour = np.exp(9 + rng.normal(0, 0.3, H * m)[psu] + rng.normal(0, 0.8, n))
    remit = np.where(rng.random(n) < 0.3, np.exp(8 + rng.normal(0, 0.7, n)), 0.0)
    df = pd.DataFrame({"stratum": np.repeat(np.arange(H), m * k), "psu": psu, "w": rng.uniform(50, 150, n),
                       "no_remit": labour, "income": labour + remit,
                       "region": np.array(["north", "south", "east"])[rng.integers(0, 3, n)]})
    return Survey(df, weight="w", strata="stratum", psu="psu", unit="person")


# measure name in compare_inequality -> (single-income function, options)
SINGLE = {
    "gini": (gini, {}),
    "theil": (theil, {}),
    "mld": (ineq.mld, {}),
    "generalized_entropy": (ineq.generalized_entropy, {"epsilon": (0.5, 2.0)}),
    "atkinson": (ineq.atkinson, {"epsilon": (0.5, 1.0)}),
    "palma": (ineq.palma, {}),
    "qsr": (ineq.quantile_share_ratio, {}),
    "income_shares": (ineq.income_shares, {"groups": 5}),
    "quantile": (ineq.quantile, {"probs": (0.25, 0.5)}),
}


@pytest.mark.parametrize("measure", list(SINGLE))
@pytest.mark.parametrize("by", [None, "region"])
def test_concepts_equal_single_income_estimators(measure, by):
    s = make_survey(1)
    fn, opts = SINGLE[measure]
    t = compare_inequality(s, INCOMES, measure, by=by, deff=False, **opts)
    a, b = fn(s, "income", by=by, deff=False, **opts), fn(s, "no_remit", by=by, deff=False, **opts)
    f = t.to_frame()
    for concept, single in (("with", a), ("without", b)):
        rows = np.flatnonzero((f["concept"] == concept).to_numpy())
        np.testing.assert_array_equal(t.estimates[rows], single.estimates)
        np.testing.assert_allclose(t.se[rows], single.se, rtol=1e-12)
        np.testing.assert_array_equal(f["variable"].to_numpy()[rows], single.keys["variable"].to_numpy())
    d = np.flatnonzero((f["concept"] == "with - without").to_numpy())
    np.testing.assert_array_equal(t.estimates[d], a.estimates - b.estimates)
    assert np.all(t.se[d] > 0)
    # the rows are domain-major: within each domain, with, without, difference
    if by is not None:
        per = len(a) // a.keys[by].nunique()
        blocks = f["concept"].to_numpy().reshape(-1, 3 * per)
        assert (blocks == np.repeat(["with", "without", "with - without"], per)).all()
        assert (f[by].to_numpy().reshape(-1, 3 * per) == f[by].to_numpy()[::3 * per][:, None]).all()


def fd_influence(s: Survey, stat, step=1e-6) -> np.ndarray:
    """Influence values ``d estimate / d w_i`` of the public estimator by central differences."""
    w = s.data["w"].to_numpy()
    Z = np.empty((w.size, np.asarray(stat(s)).size))
    for i in range(w.size):
        h = step * w[i]
        up, dn = w.copy(), w.copy()
        up[i] += h
        dn[i] -= h
        Z[i] = (np.asarray(stat(s.with_columns(w=up))) - np.asarray(stat(s.with_columns(w=dn)))) / (2 * h)
    return Z


@pytest.mark.parametrize("measure", ["gini", "theil", "palma"])
def test_difference_se_from_finite_difference_covariance(measure):
    s = make_survey(2, H=4, m=4, k=4)
    fn, _ = SINGLE[measure]
    Z1 = fd_influence(s, lambda x: fn(x, "income", by="region", deff=False).estimates)
    Z2 = fd_influence(s, lambda x: fn(x, "no_remit", by="region", deff=False).estimates)
    V = s.design().vcov(np.zeros(2 * Z1.shape[1]), np.hstack([Z1, Z2]))
    D = Z1.shape[1]
    V1, V2, C12 = np.diag(V)[:D], np.diag(V)[D:], np.diag(V[:D, D:])
    assert np.all(np.abs(C12) > 0.1 * np.sqrt(V1 * V2))  # the concepts are strongly correlated
    t = compare_inequality(s, INCOMES, measure, by="region", deff=False)
    se_diff = t.to_frame().query("concept == 'with - without'")["se"].to_numpy()
    np.testing.assert_allclose(se_diff, np.sqrt(V1 + V2 - 2 * C12), rtol=1e-6)
    # the joint vcov's covariance block too
    f = t.to_frame()
    iw = np.flatnonzero((f["concept"] == "with").to_numpy())
    io = np.flatnonzero((f["concept"] == "without").to_numpy())
    np.testing.assert_allclose(np.diag(t.vcov[np.ix_(iw, io)]), C12, rtol=1e-6)


def pairwise_gini(y, w):
    N, mu = w.sum(), w @ y / w.sum()
    return (w[:, None] * w[None, :] * np.abs(y[:, None] - y[None, :])).sum() / (2 * N**2 * mu)


def theil_closed(y, w):
    mu = w @ y / w.sum()
    return w @ (y / mu * np.log(y / mu)) / w.sum()


def hand_jackknife(s: Survey):
    """Delete-one-PSU jackknife weights (n, R) and rscales (n_h - 1)/n_h, coded here."""
    df = s.data
    w, psu, st = df["w"].to_numpy(), df["psu"].to_numpy(), df["stratum"].to_numpy()
    W, rs = [], []
    for j in np.unique(psu):
        h = st[psu == j][0]
        n_h = np.unique(psu[st == h]).size
        wr = np.where(st == h, w * n_h / (n_h - 1), w)
        wr[psu == j] = 0.0
        W.append(wr)
        rs.append((n_h - 1) / n_h)
    return np.column_stack(W), np.array(rs)


@pytest.mark.parametrize("supplied", [False, True])
def test_replicate_difference_equals_hand_jackknife(supplied):
    """JKn: the library's replicate factors, or the hand weights supplied as replicate weights."""
    s = make_survey(3, H=4, m=3, k=4)
    W, rs = hand_jackknife(s)
    y1, y2 = s.data["income"].to_numpy(), s.data["no_remit"].to_numpy()
    if supplied:
        sr = Survey(s.data, weight="w", strata="stratum", psu="psu", unit="person")
        d = sr.design().with_replicate_weights(W, kind="jkn", rscales=rs)
        obj, cols = d, {"with": y1, "without": y2}
    else:
        obj, cols = s.with_replicates("jkn"), INCOMES
    for measure, stat in (("gini", pairwise_gini), ("theil", theil_closed)):
        dr = np.array([stat(y1, W[:, r]) - stat(y2, W[:, r]) for r in range(W.shape[1])])
        v_hand = (rs * (dr - dr.mean()) ** 2).sum()
        t = compare_inequality(obj, cols, measure, deff=False)
        assert t.design["variance"] == "replicate"
        e = t.get(concept="with - without")
        np.testing.assert_allclose(e.se ** 2, v_hand, rtol=1e-10)
        w = s.data["w"].to_numpy()
        np.testing.assert_allclose(e.estimate, stat(y1, w) - stat(y2, w), rtol=1e-12)


def test_replicate_progress_callback():
    s = make_survey(4, H=10, m=8, k=2).with_replicates("bootstrap", 150, seed=1)
    calls = []
    t = compare_inequality(s, INCOMES, "gini", progress=lambda done, total: calls.append((done, total)), deff=False)
    # the engine evaluates replicates in chunks of REPLICATE_CHUNK = 64 columns: 64, 128, 150
    assert calls == [(64, 150), (128, 150), (150, 150)]
    assert np.isfinite(t.se).all()


def test_same_concept_twice_gives_zero_difference():
    s = make_survey(5)
    t = compare_inequality(s, {"a": "income", "b": "income"}, "gini", by="region", label="a - a", deff=False)
    d = t.subset(concept="a - a")
    assert np.all(d.estimates == 0) and np.allclose(d.se, 0, atol=1e-15)


def test_three_concepts_and_poverty_compare_dispatch():
    s = make_survey(6)
    s = s.with_columns(half=s.data["no_remit"].to_numpy() + 0.5 * (s.data["income"] - s.data["no_remit"]).to_numpy())
    t = compare_inequality(s, {"with": "income", "half": "half", "without": "no_remit"}, "mld", deff=False)
    assert list(t.keys["concept"]) == ["with", "half", "without", "with - half", "with - without"]
    t2 = compare_inequality(s, INCOMES, "mld", deff=False)
    np.testing.assert_allclose(t.get(concept="with - without").se, t2.get(concept="with - without").se, rtol=1e-12)
    # remitpov.poverty.compare dispatches inequality measures
    c = compare(s, INCOMES, measure="gini", by="region", label="diff", deff=False)
    ref = compare_inequality(s, INCOMES, "gini", by="region", label="diff", deff=False)
    pd.testing.assert_frame_equal(c.to_frame(), ref.to_frame())
    c = compare(s, INCOMES, measure="atkinson", epsilon=0.5, deff=False)
    np.testing.assert_array_equal(c.estimates, compare_inequality(s, INCOMES, "atkinson", epsilon=0.5, deff=False).estimates)
    assert {"gini", "theil", "mld", "atkinson", "palma", "qsr", "quantile"} <= set(INEQUALITY_MEASURES)


def test_errors_and_missing_values():
    s = make_survey(7)
    for kwargs in ({"line": 1000.0}, {"alpha": 0}, {"strict": False}, {"headcount_total": True}):
        with pytest.raises(InputError, match="only apply to poverty measures"):
            compare(s, INCOMES, measure="gini", **kwargs)
    with pytest.raises(InputError, match="unknown argument"):
        compare(s, INCOMES, 1000.0, measure="fgt", epsilon=1)
    with pytest.raises(InputError, match="unknown option"):
        compare_inequality(s, INCOMES, "gini", epsilon=1)
    with pytest.raises(InputError, match="not one of"):
        compare_inequality(s, INCOMES, "variance")
    with pytest.raises(InputError, match="at least two"):
        compare_inequality(s, {"with": "income"}, "gini")
    y = s.data["no_remit"].to_numpy().copy()
    y[[3, 17]] = np.nan
    s2 = s.with_columns(no_remit=y)
    with pytest.raises(InputError, match="no_remit"):
        compare_inequality(s2, INCOMES, "gini")
    # na_rm: a row missing in one concept is dropped from both (same sample)
    t = compare_inequality(s2, INCOMES, "gini", na_rm=True, deff=False)
    inc = s.data["income"].to_numpy().copy()
    inc[[3, 17]] = np.nan
    ref = gini(s.with_columns(income=inc), "income", na_rm=True, deff=False)
    np.testing.assert_array_equal(t.get(concept="with").estimate, ref.estimates[0])
    np.testing.assert_allclose(t.get(concept="with").se, ref.se[0], rtol=1e-12)


# --------------------------------------------------------------------------- EU-SILC vs R
@pytest.fixture(scope="module")
def eusilc(shared):
    df = pd.read_csv(shared("data", "eusilc", "eusilc.csv.gz"))
    df["noT"] = df["eqIncome"] - df["hy080n"] / df["eqSS"]
    return Survey(df, weight="rb050", strata="db040", psu="db030", unit="person")


@pytest.fixture(scope="module")
def rref():
    with open(FIXTURE) as fh:
        return json.load(fh)


@pytest.mark.parametrize("by", [None, "db040", "rb090"])
def test_eusilc_gini_difference_against_r(eusilc, rref, by):
    ref = rref["national" if by is None else by]["midrank"]
    t = compare(eusilc, {"with": "eqIncome", "without": "noT"}, measure="gini", by=by, deff=False)
    for dom, r in ref.items():
        lab = {} if by is None else {by: dom}
        w, o, d = (t.get(concept=c, **lab) for c in ("with", "without", "with - without"))
        np.testing.assert_allclose([w.estimate, o.estimate, d.estimate],
                                   [r["gini_with"], r["gini_without"], r["difference"]], rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose([w.se, o.se, d.se], [r["se_with"], r["se_without"], r["se_difference"]],
                                   rtol=1e-8)
        iw, io = (t._select(concept=c, **lab)[0] for c in ("with", "without"))
        np.testing.assert_allclose(t.vcov[iw, io], r["cov"], rtol=1e-8)
    if by is None:
        np.testing.assert_allclose([t.get(concept="with").estimate, t.get(concept="without").estimate],
                                   [rref["gini_laeken"]["with"], rref["gini_laeken"]["without"]], rtol=1e-10)

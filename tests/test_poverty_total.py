"""``fgt/compare/watts(..., by=..., total=True)``: the whole sample and the domains in one call.

The total rows come from the same PSU x domain sums as the domains (their PSU totals are
sums over the domains), so they must equal a separate call without ``by``. Tolerances:
estimates 1e-12 and SEs 1e-10 relative -- the two calls add the same numbers in a
different order (per PSU: domain sub-sums then their sum, vs one running sum), a
difference of a few ulps (~1e-15 relative) that the variance formula (squares of
centred PSU totals) can amplify by the ratio of the PSU totals to their deviations
(< 1e3 here); the limits leave a wide margin and still catch any real error (a wrong
coefficient, a missing domain or a second-stage term changes SEs at 1e-3 or more).

The joint vcov is checked against the ROW-level engine (``Design.vcov`` with explicit
influence values of the total and of every domain), an independent code path.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import remitpov as rp
from remitpov.design import Design
from remitpov.exceptions import InputError
from remitpov.poverty import RelativeLine, compare, fgt, watts

EST_RTOL, SE_RTOL = 1e-12, 1e-10


def _data(n=6000, seed=11):
    rng = np.random.default_rng(seed)
    st = rng.integers(0, 12, n)
    psu = st * 30 + rng.integers(0, 30, n)
    w = rng.lognormal(0, 0.4, n)
    y = rng.lognormal(6, 0.9, n)
    y[rng.random(n) < 0.03] = 0.0
    rem = np.where(rng.random(n) < 0.2, rng.lognormal(4.5, 1, n), 0.0)
    area = np.where(rng.random(n) < 0.6, "urban", "rural")
    region = rng.integers(1, 4, n)
    return pd.DataFrame({"y": y + rem, "y0": y, "w": w, "st": st, "psu": psu, "area": area, "region": region})


@pytest.fixture(scope="module")
def survey():
    return rp.Survey(_data(), weight="w", strata="st", psu="psu", unit="person")


def _check_total_rows(tb, t0, by_cols, label="all"):
    """Total rows of ``tb`` equal the no-by table ``t0`` (estimates, SEs, vcov block, deff)."""
    fb = tb.to_frame()
    sel = np.ones(len(fb), bool)
    for c in by_cols:
        sel &= (fb[c] == label).to_numpy()
    idx = np.flatnonzero(sel)
    assert idx.size == len(t0) and idx[0] == 0  # the total is the first domain
    f0 = t0.to_frame()
    for c in ("measure", "concept", "line"):
        assert fb[c].iloc[idx].tolist() == f0[c].tolist()
    np.testing.assert_allclose(tb.estimates[idx], t0.estimates, rtol=EST_RTOL, atol=1e-15)
    np.testing.assert_allclose(tb.se[idx], t0.se, rtol=SE_RTOL, atol=1e-15)
    np.testing.assert_allclose(tb.vcov[np.ix_(idx, idx)], t0.vcov, rtol=SE_RTOL, atol=1e-18)
    if "deff" in f0:
        np.testing.assert_allclose(fb["deff"].iloc[idx], f0["deff"], rtol=SE_RTOL)
    return idx


def _check_domain_rows(tb, t1, total_idx):
    """The remaining rows equal the plain by-call (same order)."""
    rest = np.setdiff1d(np.arange(len(tb)), total_idx)
    assert rest.size == len(t1)
    for c in t1.keys.columns:
        assert tb.keys[c].iloc[rest].astype(str).tolist() == t1.keys[c].astype(str).tolist()
    np.testing.assert_allclose(tb.estimates[rest], t1.estimates, rtol=EST_RTOL, atol=1e-15)
    np.testing.assert_allclose(tb.vcov[np.ix_(rest, rest)], t1.vcov, rtol=SE_RTOL, atol=1e-18)


INC = {"with": "y", "without": "y0"}


@pytest.mark.parametrize("line", [250.0, "per_unit", RelativeLine(0.6), RelativeLine(0.5, "mean", income="y")])
def test_compare_total_equals_separate_calls_linearised(survey, line):
    if line == "per_unit":
        line = np.where(survey.data["area"] == "urban", 300.0, 220.0)
    tb = compare(survey, INC, line, by="area", total=True)
    t0 = compare(survey, INC, line)
    t1 = compare(survey, INC, line, by="area")
    _check_domain_rows(tb, t1, _check_total_rows(tb, t0, ["area"]))
    assert tb.design == t0.design and tb.df == t0.df


def test_fgt_total_label_several_by_and_watts(survey):
    tb = fgt(survey, "y", 250, by=["area", "region"], total="Total", headcount_total=True)
    t0 = fgt(survey, "y", 250)
    idx = _check_total_rows(tb, t0, ["area", "region"], label="Total")
    _check_domain_rows(tb, fgt(survey, "y", 250, by=["area", "region"]), idx)
    ypos = np.maximum(survey.data["y"].to_numpy(), 1.0)  # Watts needs positive incomes
    tw = watts(survey, ypos, 250, by="region", total=True)
    _check_total_rows(tw, watts(survey, ypos, 250), ["region"])
    # without by the option changes nothing
    np.testing.assert_array_equal(fgt(survey, "y", 250, total=True).estimates, t0.estimates)


def test_joint_vcov_against_row_level_influence_values(survey):
    """Covariances between the total and the domains from explicit row-level z (Design.vcov)."""
    tb = fgt(survey, "y", 250, alpha=1, by="area", total=True, headcount_total=False)
    d = survey.design()
    w, y = d.weights, survey.data["y"].to_numpy()
    g = np.where(y < 250, (250 - y) / 250, 0.0)
    cols = []
    for mask in (np.ones(d.n, bool), survey.data["area"].to_numpy() == "rural",
                 survey.data["area"].to_numpy() == "urban"):
        N = w[mask].sum()
        P = (w * g)[mask].sum() / N
        cols.append(np.where(mask, (g - P) / N, 0.0))
    V = d.vcov(tb.estimates, np.column_stack(cols))
    assert tb.keys["area"].tolist() == ["all", "rural", "urban"]
    np.testing.assert_allclose(tb.vcov, V, rtol=1e-10)
    # a contrast domain minus total uses the covariances (not the sum of the variances)
    c = tb.contrast([-1, 0, 1])
    np.testing.assert_allclose(c.se, np.sqrt(V[2, 2] + V[0, 0] - 2 * V[0, 2]), rtol=1e-10)
    assert c.se < np.sqrt(V[2, 2] + V[0, 0]) * 0.95  # positively correlated: the covariance matters


@pytest.mark.parametrize("kind", ["bootstrap", "jkn", "user"])
@pytest.mark.parametrize("line", [250.0, RelativeLine(0.6)])
def test_total_on_replicate_designs(kind, line):
    df = _data(n=3000, seed=5)
    d = Design.from_arrays(df["w"].to_numpy(), df["st"].to_numpy(), df["psu"].to_numpy())
    if kind == "user":
        rng = np.random.default_rng(2)
        d = d.with_replicate_weights(d.weights[:, None] * rng.uniform(0.5, 1.5, (d.n, 40)), scale=1 / 40)
    else:
        d = d.with_replicates(kind, 60, seed=4)
    inc = {"with": df["y"].to_numpy(), "without": df["y0"].to_numpy()}
    area = df["area"].to_numpy()
    tb = compare(d, inc, line, by=area, total=True)
    t0 = compare(d, inc, line)
    t1 = compare(d, inc, line, by=area)
    _check_domain_rows(tb, t1, _check_total_rows(tb, t0, ["domain"]))
    assert tb.design["variance"] == "replicate"


def test_total_with_two_stage_fpc_and_na_rm():
    df = _data(n=4000, seed=8)
    rng = np.random.default_rng(3)
    ssu = df["psu"].to_numpy() * 4 + rng.integers(0, 4, len(df))
    d = Design.from_arrays(df["w"].to_numpy(), df["st"].to_numpy(), df["psu"].to_numpy(),
                           fpc=np.full(len(df), 200.0), ssu=ssu, fpc2=np.full(len(df), 40.0))
    y = df["y"].to_numpy().copy()
    y[::97] = np.nan
    tb = fgt(d, y, 250, by=df["region"].to_numpy(), total=True, na_rm=True)
    t0 = fgt(d, y, 250, na_rm=True)
    _check_total_rows(tb, t0, ["domain"])


def test_total_errors(survey):
    with pytest.raises(InputError, match="also a value"):
        fgt(survey, "y", 250, by="area", total="urban")
    with pytest.raises(InputError, match="total"):
        fgt(survey, "y", 250, by="area", total=1.5)
    with pytest.raises(InputError, match="total"):
        compare(survey, INC, measure="gini", total=True)


# ---------------------------------------------------------------- EU-SILC against R survey
@pytest.fixture(scope="module")
def eusilc(shared):
    df = pd.read_csv(shared("data", "eusilc", "eusilc.csv.gz"))
    df["noT"] = df["eqIncome"] - df["hy080n"] / df["eqSS"]
    return rp.Survey(df, weight="rb050", strata="db040", psu="db030", unit="person")


@pytest.mark.parametrize("key", ["full_z10000", "noT_zarpt"])
def test_eusilc_national_and_region_in_one_call(eusilc, eusilc_fgt_ref, key):
    """One call = R survey's svymean (national) and svyby(~db040) (tolerances of test_poverty_eusilc.py)."""
    concept, line = key.split("_")
    col = {"full": "eqIncome", "noT": "noT"}[concept]
    z = eusilc_fgt_ref["meta"]["lines"][line]
    t = fgt(eusilc, col, z, by="db040", total="Austria")
    nat = eusilc_fgt_ref["national"][key]
    for a in (0, 1, 2):
        e = t.get(measure=f"fgt{a}", db040="Austria")
        np.testing.assert_allclose(e.estimate, nat[f"fgt{a}"]["estimate"], rtol=1e-10)
        np.testing.assert_allclose(e.se, nat[f"fgt{a}"]["se"], rtol=1e-8)
    np.testing.assert_allclose(t.vcov[:3, :3], np.array(nat["vcov_fgt012"]), rtol=1e-8)
    np.testing.assert_allclose(t.get(measure="headcount_total", db040="Austria").se, nat["headcount_total"]["se"],
                               rtol=1e-8)
    for dom, r in eusilc_fgt_ref["by_db040"][key].items():
        for a in (0, 1, 2):
            e = t.get(measure=f"fgt{a}", db040=dom)
            np.testing.assert_allclose(e.estimate, r[f"fgt{a}"]["estimate"], rtol=1e-10, atol=1e-15)
            np.testing.assert_allclose(e.se, r[f"fgt{a}"]["se"], rtol=1e-8, atol=1e-15)


def test_eusilc_compare_differences_national_and_region(eusilc, eusilc_fgt_ref):
    ref = eusilc_fgt_ref["difference_without_minus_with"]["noT_z10000"]
    t = compare(eusilc, {"without": "noT", "with": "eqIncome"}, ref["z"], by="db040", total=True)
    for a in (0, 1, 2):
        r = ref[f"fgt{a}"]
        d = t.get(measure=f"fgt{a}", concept="without - with", db040="all")
        np.testing.assert_allclose([d.estimate, d.se], [r["difference"], r["se_difference"]], rtol=1e-8)
        for dom, rd in r["difference_by_db040"].items():
            d = t.get(measure=f"fgt{a}", concept="without - with", db040=dom)
            np.testing.assert_allclose([d.estimate, d.se], [rd["estimate"], rd["se"]], rtol=1e-8, atol=1e-15)


def test_deff_false_skips_design_effects_only(survey):
    a = compare(survey, INC, 250, by="area", total=True, deff=True)
    b = compare(survey, INC, 250, by="area", total=True)  # default: no design effects (R survey)
    assert "deff" in a.to_frame() and "deff" not in b.to_frame()
    np.testing.assert_array_equal(a.estimates, b.estimates)
    np.testing.assert_array_equal(a.vcov, b.vcov)

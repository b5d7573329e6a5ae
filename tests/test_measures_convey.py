"""The Eurostat / R convey measures (remitpov/measures/) against R convey 1.0.1 on EU-SILC.

Reference: fixtures/convey_eusilc.json, written by tests/r/make_convey_reference.R (R 4.2.2,
survey 4.1.1, convey 1.0.1 built from its public source): ``svyarpt``, ``svyarpr``,
``svypoormed``, ``svyrmpg``, ``svyrmir`` and ``svyzenga`` on
``convey_prep(svydesign(ids=~db030, strata=~db040, weights=~rb050))`` of ``eqIncome``,
nationally and by sex (``svyby``).

Tolerances: estimates relative 1e-10, linearised SEs relative 1e-8. remitpov implements
the SAME linearisation as convey for every measure (same quantile rule, kernel, bandwidth
and influence formulas, same ``svyrecvar`` variance), so the only differences are
floating-point summation order (~1e-13 relative; the Zenga index sums 15k ratios:
1.8e-13 observed) and the JSON's 15 significant digits.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import remitpov as rp
from remitpov import measures
from remitpov.measures.zenga import zenga_influence

EST_RTOL, SE_RTOL = 1e-10, 1e-8
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "convey_eusilc.json"


@pytest.fixture(scope="module")
def ref():
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def eusilc(shared):
    df = pd.read_csv(shared("data", "eusilc", "eusilc.csv.gz"))
    df["eqIncome5000"] = np.maximum(df["eqIncome"], 5000.0)  # as the R script: a tie block at 5000
    return rp.Survey(df, weight="rb050", strata="db040", psu="db030", unit="person")


def _check(t, r, **labels):
    e = t.get(**labels) if labels else t.get(measure=t.keys["measure"].iloc[0])
    np.testing.assert_allclose(e.estimate, r["estimate"], rtol=EST_RTOL)
    np.testing.assert_allclose(e.se, r["se"], rtol=SE_RTOL)


CASES = {
    "arpt": (rp.arpt, ("eqIncome",), {}),
    "arpt_percent50": (rp.arpt, ("eqIncome",), {"percent": 0.5}),
    "arpt_q40_percent100": (rp.arpt, ("eqIncome",), {"quantile": 0.4, "percent": 1.0}),
    "poormed": (rp.poor_median, ("eqIncome",), {}),
    "rmpg": (rp.rmpg, ("eqIncome",), {}),
    "rmpg_percent50": (rp.rmpg, ("eqIncome",), {"percent": 0.5}),
    "rmir": (rp.rmir, ("eqIncome", "age"), {}),
    "rmir_agelim60": (rp.rmir, ("eqIncome", "age"), {"agelim": 60}),
    "zenga": (rp.zenga, ("eqIncome",), {}),
    "zenga_ties": (rp.zenga, ("eqIncome5000",), {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_national_matches_convey(eusilc, ref, case):
    fn, args, kw = CASES[case]
    t = fn(eusilc, *args, deff=False, **kw)
    assert len(t) == 1
    _check(t, ref[case])
    assert t.to_frame()["n_obs"].iloc[0] == ref["meta"]["n"]


def test_components_match_convey(eusilc, ref):
    """The RMPG's threshold and median of the poor, the RMIR's two medians (convey attributes)."""
    r = ref["rmpg"]
    np.testing.assert_allclose(rp.arpt(eusilc, "eqIncome", deff=False).estimates[0], r["thresh"], rtol=EST_RTOL)
    np.testing.assert_allclose(rp.poor_median(eusilc, "eqIncome", deff=False).estimates[0], r["poor_median"], rtol=EST_RTOL)
    old = eusilc.data["age"].to_numpy() >= 65
    q_old = rp.arpt(eusilc, "eqIncome", by=np.where(old, "old", "young"), percent=1.0, deff=False)
    np.testing.assert_allclose(q_old.get(domain="old").estimate, ref["rmir"]["med_old"], rtol=EST_RTOL)
    np.testing.assert_allclose(q_old.get(domain="young").estimate, ref["rmir"]["med_young"], rtol=EST_RTOL)
    # the at-risk-of-poverty rate at the estimated threshold: the building block of the poor median's SE
    from remitpov.measures.convey import arpr_influence, arpt_influence

    d = eusilc.design()
    y = eusilc.data["eqIncome"].to_numpy()
    t, t_lin = arpt_influence(y, d.weights)
    rate, lin = arpr_influence(y, d.weights, t, t_lin)
    np.testing.assert_allclose(rate, ref["arpr"]["estimate"], rtol=EST_RTOL)
    np.testing.assert_allclose(np.sqrt(d.vcov([rate], lin[:, None])[0, 0]), ref["arpr"]["se"], rtol=SE_RTOL)


@pytest.mark.parametrize("name", ["arpt", "poor_median", "rmpg", "rmir", "zenga"])
def test_domains_match_convey_svyby(eusilc, ref, name):
    fn = getattr(rp, name)
    t = fn(eusilc, "eqIncome", *(("age",) if name == "rmir" else ()), by="rb090", deff=False)
    assert set(t.keys["rb090"]) == {"female", "male"}
    for sex, r in ref["by_rb090"][name].items():
        _check(t, r, rb090=sex)


def test_registered_and_exported():
    for name in ("arpt", "poor_median", "rmpg", "rmir", "zenga"):
        m = measures.get(name)
        assert m.function == name and not m.joint and callable(getattr(rp, name))
    assert measures.get("poormed").name == "poor_median"


# ------------------------------------------------------------------ closed forms
def _toy(y, w=None, **cols):
    y = np.asarray(y, dtype=float)
    w = np.ones_like(y) if w is None else np.asarray(w, dtype=float)
    return rp.Survey(pd.DataFrame({"y": y, "w": w, **cols}), weight="w", unit="person")


def test_closed_forms():
    # median of 1..10 (unit weights, "math" rule: smallest y with F >= 0.5) = 5; threshold 3
    s = _toy(np.arange(1, 11))
    assert rp.arpt(s, "y", deff=False).estimates[0] == pytest.approx(0.6 * 5, abs=1e-12)
    # poor: y <= 3 -> {1, 2, 3}, their median (F >= 1/2) = 2; RMPG = (3 - 2) / 3
    assert rp.poor_median(s, "y", deff=False).estimates[0] == pytest.approx(2.0, abs=1e-12)
    assert rp.rmpg(s, "y", deff=False).estimates[0] == pytest.approx(1 / 3, abs=1e-12)
    # RMIR: medians 3 (ages < 65: y 1..5) and 8 (y 6..10)
    s2 = _toy(np.arange(1, 11), age=[30] * 5 + [70] * 5)
    assert rp.rmir(s2, "y", "age", deff=False).estimates[0] == pytest.approx(8 / 3, abs=1e-12)
    # Zenga, convey's estimator by hand: Z = 1 - sum_k w_k (N - H_k)(T - K_k) / (N H_k K_k).
    # (5, 5, 5): N=3, T=15, H=(1,2,3), K=(15,10,5): terms 0, 1*1*5/(3*2*10), 0 -> Z = 11/12 (the
    # estimator is not 0 under equality in small samples: it uses H_k, not H_(k-1), for the lower group)
    assert rp.zenga(_toy([5.0, 5.0, 5.0]), "y", deff=False).estimates[0] == pytest.approx(11 / 12, abs=1e-12)
    # (1, 2, 6) weights (2, 1, 1): N=4, T=10, H=(2,3,4), K=(10,8,6):
    # terms 2*2*0/(4*2*10)=0, 1*1*2/(4*3*8)=1/48, 1*0*4/(4*4*6)=0 -> Z = 47/48
    assert zenga_influence(np.array([6.0, 1.0, 2.0]), np.array([1.0, 2.0, 1.0]))[0] == pytest.approx(47 / 48, abs=1e-12)


def test_zenga_influence_is_the_derivative():
    """lin_i = d Z / d w_i (unweighted influence): compare with finite differences of the weights."""
    rng = np.random.default_rng(3)
    y = rng.lognormal(size=40)
    w = rng.uniform(1, 3, size=40)
    z0, lin = zenga_influence(y, w)
    eps = 1e-6
    num = np.array([(zenga_influence(y, w + eps * np.eye(40)[i])[0] - z0) / eps for i in range(40)])
    # forward differences: error O(eps) ~ 1e-6 relative to the derivatives' scale
    np.testing.assert_allclose(num, lin, rtol=1e-4, atol=1e-6)


def test_replicate_design_recomputes():
    rng = np.random.default_rng(5)
    n = 400
    df = pd.DataFrame({"y": rng.lognormal(9, 0.7, n), "w": rng.uniform(1, 4, n), "psu": np.repeat(np.arange(80), 5),
                       "st": np.repeat(np.arange(8), 50), "age": rng.integers(20, 90, n)})
    s = rp.Survey(df, weight="w", psu="psu", strata="st", unit="person")
    rep = s.design().with_replicates("bootstrap", replicates=60, seed=1)
    for fn, args in ((rp.arpt, ("y",)), (rp.rmpg, ("y",)), (rp.rmir, ("y", "age")), (rp.zenga, ("y",))):
        lin, bs = fn(s, *args, deff=False), fn(rep, *[df[a].to_numpy() for a in args], deff=False)
        assert bs.estimates[0] == pytest.approx(lin.estimates[0], rel=1e-12)
        # both estimate the same sampling SD: the bootstrap with 60 replicates within a factor 2
        assert 0.5 < bs.se[0] / lin.se[0] < 2.0, fn.__name__


# ------------------------------------------------------------------ bad input
def test_bad_input():
    s = _toy([1.0, 2.0, np.nan, 4.0], age=[30, 70, 40, 80])
    with pytest.raises(rp.InputError, match=r"'y' missing.*na_rm=True"):
        rp.arpt(s, "y")
    assert rp.arpt(s, "y", na_rm=True, deff=False).to_frame()["n_obs"].iloc[0] == 3
    with pytest.raises(rp.InputError, match="negative"):
        rp.zenga(_toy([-1.0, 2.0, 3.0]), "y")
    with pytest.raises(rp.InputError, match="0 for everybody"):
        rp.zenga(_toy([0.0, 0.0, 0.0]), "y")
    with pytest.raises(rp.InputError, match="nobody aged 65 or over"):
        rp.rmir(_toy([1.0, 2.0], age=[20, 30]), "y", "age")
    with pytest.raises(rp.InputError, match="quantile=1.5"):
        rp.arpt(_toy([1.0, 2.0]), "y", quantile=1.5)
    with pytest.raises(rp.InputError, match="percent=-1"):
        rp.rmpg(_toy([1.0, 2.0]), "y", percent=-1)

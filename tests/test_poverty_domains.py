"""Many domains (issue #9.11 / #15): within-domain covariance blocks.

With more than ``JOINT_MAX_DOMAINS`` domains, ``fgt``/``watts``/``compare`` keep the
covariances within each domain only (a sparse ``vcov``; R's ``svyby`` without
``covmat=TRUE``), computed from sparse (PSU, domain) sums in time and memory linear in
the number of domains. Same answer by two routes: every estimate, SE, design effect and
within-domain covariance equals the joint computation (``covmat=True``, the path tested
against R) to 1e-12 relative -- the same sums, grouped in another order (observed
<= 3e-14).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import remitpov as rp
from remitpov.poverty import JOINT_MAX_DOMAINS, RelativeLine

RTOL = 1e-12


def _data(n=6000, P=120, H=12, D=90, seed=5):
    rng = np.random.default_rng(seed)
    psu = np.sort(np.concatenate([np.arange(P), rng.integers(0, P, n - P)]))
    return dict(w=rng.uniform(20, 200, n), strata=psu // (P // H), psu=psu, y=rng.lognormal(6, 1, n),
                dom=rng.integers(0, D, n), fpc=np.full(n, 40.0))


def _same(a, b):
    fa, fb = a.to_frame(), b.to_frame()
    num = [c for c in ("estimate", "se", "ci_lower", "ci_upper", "deff") if c in fa]
    pd.testing.assert_frame_equal(fa.drop(columns=num), fb.drop(columns=num))
    for c in num:
        np.testing.assert_allclose(fa[c], fb[c], rtol=RTOL, atol=1e-15, err_msg=c)
    blk = b.covariance_blocks
    assert isinstance(a.vcov, np.ndarray) and blk is not None
    Vb = b.vcov.toarray()
    same = blk[:, None] == blk[None, :]
    # covariances relative to the scale sqrt(V_ii V_jj) (a small covariance is a difference of large sums)
    scale = np.sqrt(np.outer(np.diag(a.vcov), np.diag(a.vcov)))
    assert (np.abs(Vb - a.vcov)[same] <= RTOL * scale[same] + 1e-300).all()
    assert (Vb[~same] == 0).all()


@pytest.mark.parametrize("design", ["plain", "fpc", "lonely_adjust", "lonely_certainty", "unclustered"])
@pytest.mark.parametrize("call", ["fgt", "fgt_total_deff", "compare_total", "watts_replace", "na_rm"])
def test_blocks_equal_the_joint_computation(design, call):
    d = _data()
    kw = {}
    strata, psu = d["strata"], d["psu"]
    if design == "fpc":
        kw["fpc"] = d["fpc"]
    if design.startswith("lonely"):
        strata = strata.copy()
        strata[psu == psu.max()] = strata.max() + 1
        kw["lonely_psu"] = design.split("_")[1]
    if design == "unclustered":
        psu = None
    des = rp.Design.from_arrays(d["w"], strata, psu, **kw)
    y, dom = d["y"], d["dom"]
    y_na = np.where(np.arange(y.size) % 17 == 3, np.nan, y)
    calls = {
        "fgt": lambda c: rp.fgt(des, y, 400.0, (0, 1, 2), by=dom, covmat=c),
        "fgt_total_deff": lambda c: rp.fgt(des, y, 400.0, (0, 1.5), by=dom, total=True, deff=True, covmat=c),
        "compare_total": lambda c: rp.compare(des, {"a": y, "b": 0.8 * y}, 400.0, by=dom, total="all", deff=True,
                                              covmat=c),
        "watts_replace": lambda c: rp.watts(des, y, 400.0, by=dom, deff="replace", covmat=c),
        "na_rm": lambda c: rp.fgt(des, y_na, 400.0, (0, 1), by=dom, na_rm=True, deff=True, covmat=c),
    }
    _same(calls[call](True), calls[call](False))


def test_default_switches_to_blocks_beyond_the_limit():
    d = _data(D=JOINT_MAX_DOMAINS + 1)
    des = rp.Design.from_arrays(d["w"], d["strata"], d["psu"])
    t = rp.fgt(des, d["y"], 400.0, by=d["dom"])
    assert t.covariance_blocks is not None and any("covariances between the" in n for n in t.notes)
    few = rp.fgt(des, d["y"], 400.0, by=d["dom"] % JOINT_MAX_DOMAINS)
    assert isinstance(few.vcov, np.ndarray) and few.covariance_blocks is None
    # paths that need every covariance keep the joint one
    rel = rp.fgt(des, d["y"], RelativeLine(0.6), (0,), by=d["dom"], covmat=False)
    assert isinstance(rel.vcov, np.ndarray)
    rep = rp.fgt(des.with_replicates("bootstrap", 10, seed=1), d["y"], 400.0, (0,), by=d["dom"], covmat=False)
    assert isinstance(rep.vcov, np.ndarray)


def test_contrasts_and_subsets_respect_the_blocks():
    d = _data()
    des = rp.Design.from_arrays(d["w"], d["strata"], d["psu"])
    b = rp.compare(des, {"a": d["y"], "b": 0.8 * d["y"]}, 400.0, by=d["dom"], covmat=False)
    j = rp.compare(des, {"a": d["y"], "b": 0.8 * d["y"]}, 400.0, by=d["dom"], covmat=True)
    k = len(b.estimates)
    c = np.zeros(k)
    c[[0, 3]] = [1.0, -1.0]  # fgt0 of both concepts in the first domain: within a block
    assert b.contrast(c).se == pytest.approx(j.contrast(c).se, rel=RTOL)
    c2 = np.zeros(k)
    c2[[0, 7]] = [1.0, -1.0]  # two domains: covariance not computed
    with pytest.raises(rp.InputError, match="covmat=True"):
        b.contrast(c2)
    sub = b.subset(domain=5)
    np.testing.assert_allclose(sub.se, j.subset(domain=5).se, rtol=RTOL)
    assert sub.covariance_blocks is not None
    both = rp.results.concat_tables([b.subset(domain=5), j.subset(domain=6)])
    np.testing.assert_allclose(both.se, np.r_[j.subset(domain=5).se, j.subset(domain=6).se], rtol=RTOL)


def test_empty_domain_is_nan_in_blocks_too():
    d = _data()
    w = np.where(d["dom"] == 4, 0.0, d["w"])
    des = rp.Design.from_arrays(w, d["strata"], d["psu"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rp.poverty.EmptyDomainWarning)
        b = rp.fgt(des, d["y"], 400.0, (0, 1), by=d["dom"], covmat=False, deff=True)
        j = rp.fgt(des, d["y"], 400.0, (0, 1), by=d["dom"], covmat=True, deff=True)
    fb, fj = b.to_frame(), j.to_frame()
    assert fb.loc[fb["domain"] == 4, ["estimate", "se"]].isna().all().all()
    np.testing.assert_allclose(fb["se"], fj["se"], rtol=RTOL)

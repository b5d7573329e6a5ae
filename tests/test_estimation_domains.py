"""Means, totals and ratios by many domains (issue #13): within-domain covariance blocks.

``mean``/``total``/``ratio`` with ``covmat=None`` keep the joint covariance up to
``JOINT_MAX_DOMAINS`` domains and within-domain covariance blocks beyond (R's ``svyby``
without ``covmat=TRUE``), from sparse (PSU, domain) sums. Same answer by several routes:

* blocks vs the joint computation (``covmat=True``, the path tested against R survey in
  ``test_design.py``/``test_estimation_api.py``): estimates, SEs, design effects and the
  within-domain covariances agree to 1e-12 relative -- the same sums grouped in another
  order (observed <= 1e-13);
* at 10,000 domains, where the joint path would need a 10,000^2 matrix, every SE against a
  direct per-domain computation written out in numpy (no remitpov code): the influence
  values of each domain's estimate (``z_i = 1[d_i = d](y_i - R_d x_i)/X_d``), their dense
  PSU x domain totals and the stratified formula with fpc;
* a closed form (simple random sampling with replacement of single units: the variance of
  a domain total is ``n/(n-1) sum_i (w_i y_i 1_d - mean)^2``).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import remitpov as rp
from remitpov.poverty import JOINT_MAX_DOMAINS
from test_poverty_domains import _same  # joint vs blocks: every number to RTOL, zeros off the blocks

RTOL = 1e-12


def _data(n=6000, P=120, H=12, D=90, seed=5):
    rng = np.random.default_rng(seed)
    psu = np.sort(np.concatenate([np.arange(P), rng.integers(0, P, n - P)]))
    return dict(w=rng.uniform(20, 200, n), strata=psu // (P // H), psu=psu, y=rng.lognormal(6, 1, n),
                x=rng.uniform(1, 3, n), dom=rng.integers(0, D, n), fpc=np.full(n, 40.0))


def _design(d, kind):
    strata, psu, kw = d["strata"], d["psu"], {}
    if kind == "fpc":
        kw["fpc"] = d["fpc"]
    if kind.startswith("lonely"):
        strata = strata.copy()
        strata[psu == psu.max()] = strata.max() + 1
        kw["lonely_psu"] = kind.split("_")[1]
    if kind == "unclustered":
        psu = None
    return rp.Design.from_arrays(d["w"], strata, psu, **kw)


CALLS = {
    "mean": lambda des, d, c, **k: rp.mean(des, [d["y"], d["x"]], by=d["dom"], covmat=c, **k),
    "total": lambda des, d, c, **k: rp.total(des, [d["y"], d["x"]], by=d["dom"], covmat=c, **k),
    "ratio": lambda des, d, c, **k: rp.ratio(des, d["y"], d["x"], by=d["dom"], covmat=c, **k),
}


@pytest.mark.parametrize("kind", ["plain", "fpc", "lonely_adjust", "lonely_certainty", "unclustered"])
@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("deff", [False, True, "replace"])
def test_blocks_equal_the_joint_computation(kind, call, deff):
    d = _data()
    des = _design(d, kind)
    _same(CALLS[call](des, d, True, deff=deff), CALLS[call](des, d, False, deff=deff))


@pytest.mark.parametrize("D", [1, 2, JOINT_MAX_DOMAINS + 1])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_domain_counts_1_2_65(D, call):
    d = _data(D=D)
    des = _design(d, "fpc")
    joint, default, blocks = (CALLS[call](des, d, c) for c in (True, None, False))
    if D == 1:  # one domain: nothing to split, every path is the joint one
        assert isinstance(blocks.vcov, np.ndarray) and blocks.covariance_blocks is None
        np.testing.assert_array_equal(blocks.vcov, joint.vcov)
        return
    _same(joint, blocks)
    if D > JOINT_MAX_DOMAINS:  # the default switches to blocks beyond the limit, and says so
        _same(joint, default)
        assert any("covariances between the" in n for n in default.notes)
    else:
        assert isinstance(default.vcov, np.ndarray)
        np.testing.assert_array_equal(default.vcov, joint.vcov)


def test_ten_thousand_domains_against_a_direct_per_domain_computation():
    rng = np.random.default_rng(11)
    n, P, H, D = 20_000, 400, 40, 10_000
    psu = np.sort(np.concatenate([np.arange(P), rng.integers(0, P, n - P)]))
    w, y, x = rng.uniform(20, 200, n), rng.lognormal(6, 1, n), rng.uniform(1, 3, n)
    dom = rng.permutation(np.arange(n) % D)  # 2 persons per domain, mostly in different PSUs
    des = rp.Design.from_arrays(w, psu // (P // H), psu, fpc=np.full(n, 60.0))
    t = rp.ratio(des, y, x, by=dom)
    tot = rp.total(des, y, by=dom)
    assert t.covariance_blocks is not None and len(t) == D
    # direct: each domain's ratio and the row-level influence values of it, through the row path
    X = np.bincount(dom, weights=w * x, minlength=D)
    R = np.bincount(dom, weights=w * y, minlength=D) / X
    np.testing.assert_allclose(t.estimates, R, rtol=1e-13)  # 1e-13: bincount vs pair sums, summation order
    # every domain's PSU totals of w z as a dense PSU x domain array (fits at this size), then the
    # stratified with-replacement formula with fpc written out: (1 - f_h) n_h/(n_h - 1) sum_j (T_hj - Tbar_h)^2
    u = (y - R[dom] * x) / X[dom]  # each row's influence on its own domain's ratio

    def direct_se(v):
        T = np.zeros((P, D))
        np.add.at(T, (psu, dom), w * v)
        Th = T.reshape(H, P // H, D)  # PSUs are sorted and stratum = psu // (P / H)
        nh, f = P // H, (P // H) / 60.0
        return np.sqrt(((1 - f) * nh / (nh - 1) * ((Th - Th.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)).sum(0))

    se_r, se_t = direct_se(u), direct_se(y)
    # a domain whose 2 persons share a PSU has a ratio SE of exactly 0: both routes leave rounding noise
    # of the ratio's scale there (~1e-14 against SEs ~100), hence the absolute tolerance
    np.testing.assert_allclose(t.se, se_r, rtol=RTOL, atol=1e-12 * se_r.max())
    np.testing.assert_allclose(tot.se, se_t, rtol=RTOL)


def test_closed_form_srs_with_replacement():
    """Unclustered, unstratified: V(total_d) = n/(n-1) sum_i (u_i - mean(u))^2, u_i = w_i y_i 1[d_i = d]."""
    d = _data(n=3000, D=80)
    des = rp.Design.from_arrays(d["w"], None, None)
    t = rp.total(des, d["y"], by=d["dom"])
    assert t.covariance_blocks is not None
    n = d["y"].size
    U = np.where(d["dom"][:, None] == np.arange(80)[None, :], (d["w"] * d["y"])[:, None], 0.0)
    v = n / (n - 1) * ((U - U.mean(axis=0)) ** 2).sum(axis=0)
    np.testing.assert_allclose(t.se, np.sqrt(v), rtol=1e-12)
    np.testing.assert_allclose(t.estimates, U.sum(axis=0), rtol=1e-13)


def test_designs_without_blocks_keep_the_joint_covariance():
    d = _data(D=JOINT_MAX_DOMAINS + 1)
    n = d["y"].size
    reps = _design(d, "plain").with_replicates("bootstrap", 10, seed=1)
    two_stage = rp.Design.from_arrays(d["w"], d["strata"], d["psu"], fpc=d["fpc"], ssu=np.arange(n),
                                      fpc2=np.full(n, 1000.0))
    for des in (reps, two_stage):
        t = rp.mean(des, d["y"], by=d["dom"], covmat=False)
        assert isinstance(t.vcov, np.ndarray)


def test_empty_domain_is_nan_on_both_paths():
    d = _data()
    w = np.where(d["dom"] == 4, 0.0, d["w"])
    des = rp.Design.from_arrays(w, d["strata"], d["psu"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        b = rp.mean(des, d["y"], by=d["dom"], covmat=False, deff=True)
        j = rp.mean(des, d["y"], by=d["dom"], covmat=True, deff=True)
    fb, fj = b.to_frame(), j.to_frame()
    assert fb.loc[fb["domain"] == 4, ["estimate", "se"]].isna().all().all()
    assert fj.loc[fj["domain"] == 4, ["estimate", "se"]].isna().all().all()
    ok = fb["domain"] != 4
    np.testing.assert_allclose(fb.loc[ok, "se"], fj.loc[ok, "se"], rtol=RTOL)


def test_contrasts_and_subsets_respect_the_blocks():
    d = _data()
    des = _design(d, "plain")
    b = rp.mean(des, [d["y"], d["x"]], by=d["dom"], covmat=False)
    j = rp.mean(des, [d["y"], d["x"]], by=d["dom"], covmat=True)
    c = np.zeros(len(b))
    c[[0, 1]] = [1.0, -1.0]  # two variables of one domain: within a block
    assert b.contrast(c).se == pytest.approx(j.contrast(c).se, rel=RTOL)
    c[[0, 1, 2]] = [1.0, 0.0, -1.0]  # two domains: covariance not computed
    with pytest.raises(rp.InputError, match="covmat=True"):
        b.contrast(c)


def test_bad_covmat_is_refused():
    d = _data(D=3)
    with pytest.raises(rp.InputError, match="covmat"):
        rp.mean(_design(d, "plain"), d["y"], by=d["dom"], covmat="yes")


@pytest.mark.parametrize("P, D", [(120, 90), (1000, 10_000)])  # counted pairs; sorted pairs (P D > 2^22)
def test_pair_sums_equal_the_design_engine(P, D):
    """estimation's (PSU, domain) sums (bincounts, no stacked basis) = Design.pair_sums (sparse products)."""
    from remitpov.estimation import _pair_sums

    d = _data(n=20_000, P=P, H=20, D=D)
    des = rp.Design.from_arrays(d["w"], d["strata"], d["psu"])
    codes = np.unique(d["dom"], return_inverse=True)[1]
    Dn = int(codes.max()) + 1
    Y = np.column_stack([d["y"], d["x"]])
    mine = _pair_sums(des, Y, np.ones(Y.shape[0]), codes, Dn, gram=True)
    ref = des.pair_sums(np.column_stack([Y, np.ones(Y.shape[0])]), codes, Dn, gram=True)
    np.testing.assert_array_equal(mine.psu, ref.psu)
    np.testing.assert_array_equal(mine.dom, ref.dom)
    np.testing.assert_allclose(mine.S, ref.S, rtol=1e-13)  # same sums, another order
    np.testing.assert_allclose(mine.gram, ref.gram, rtol=1e-13)
    np.testing.assert_array_equal(mine.n_pos, ref.n_pos)
    np.testing.assert_allclose(mine.wsum, ref.wsum, rtol=1e-13)

"""The one finaliser (remitpov.core.statistic, issue #15): a Statistic in any of its three
forms (row-level influence values, factored sums x coefficients, within-domain blocks)
gives the same table -- estimates, SEs, design effects, empty and single-PSU domains --
and the estimator families that use it agree on the rule.

References: fixtures/deff_domains.json (R survey 4.1.1 svyby(svymean, deff=TRUE /
"replace") on the API data, tests/r/make_deff_domains.R). Tolerance 1e-10 relative: the
same closed forms in double precision (observed ~1e-13); the JSON keeps 15 digits.
Cross-form agreement 1e-12: the same sums accumulated in a different order.
"""
from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import remitpov as rp
from remitpov.core.statistic import (EmptyDomainWarning, SinglePSUDomainWarning, Statistic, finalise)

RTOL = 1e-10
REF = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "deff_domains.json").read_text())


@pytest.fixture(scope="module")
def api(shared):
    df = pd.read_csv(shared("data", "api", "apiclus1.csv.gz"))
    s = rp.Survey(df, weight="pw", unit="person", psu="dnum", fpc="fpc")
    codes, labels = pd.factorize(df["stype"], sort=True)
    return s.design("person"), df["api00"].to_numpy(float), codes.astype(np.int64), list(labels)


def _forms(design, y, codes, D, empty=None):
    """Domain means of y as the three forms of a Statistic."""
    w = design.weights
    keys = pd.DataFrame({"measure": "mean", "domain": range(D)})
    N = np.bincount(codes, weights=w, minlength=D)
    T = np.bincount(codes, weights=w * y, minlength=D)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = T / N
    ok = N > 0
    mm, Ns = np.where(ok, m, 0.0), np.where(ok, N, 1.0)
    ind = codes[:, None] == np.arange(D)[None, :]
    z = ind * (y[:, None] - mm[None, :]) / Ns[None, :]
    B = np.column_stack([y, np.ones_like(y)])
    A = np.zeros((D, 2, D))
    A[np.arange(D), 0, np.arange(D)] = np.where(ok, 1 / Ns, 0.0)
    A[np.arange(D), 1, np.arange(D)] = np.where(ok, -mm / Ns, 0.0)
    Ab = A[np.arange(D), :, np.arange(D)][:, :, None]  # (D, m, 1): each domain's own estimate
    e = ~ok if empty is None else empty
    return {
        "rows": Statistic(keys, m, z=z, codes=codes, empty=e),
        "factored": Statistic(keys, m, sums=design.influence_sums(B, codes, D, gram=True), coef=A.reshape(2 * D, D),
                              empty=e),
        "blocks": Statistic(keys, m, sums=design.pair_sums(B, codes, D, gram=True), coef=Ab, blocks=True, empty=e),
    }


@pytest.mark.parametrize("mode", ["deff_true", "deff_replace"])
def test_three_forms_give_rs_domain_means_and_deff(api, mode):
    design, y, codes, labels = api
    ref = REF["clus1"][mode]["mean_api00"]
    assert labels == ref["domain"]
    deff = True if mode == "deff_true" else "replace"
    for form, st in _forms(design, y, codes, len(labels)).items():
        f = finalise(st, design, deff=deff).to_frame()
        np.testing.assert_allclose(f["estimate"], ref["estimate"], rtol=RTOL, err_msg=form)
        np.testing.assert_allclose(f["se"], ref["se"], rtol=RTOL, err_msg=form)
        np.testing.assert_allclose(f["deff"], ref["deff"], rtol=RTOL, err_msg=form)
        assert "deff" not in finalise(st, design).to_frame(), form  # deff=False: no column


def test_empty_domain_is_nan_with_a_warning_in_every_form(api):
    design, y, codes, labels = api
    D = len(labels) + 1  # one more domain code that no row has
    out = {}
    for form, st in _forms(design, y, codes, D).items():
        with pytest.warns(EmptyDomainWarning, match="1 estimates are in domains with no unit"):
            f = finalise(st, design, deff=True).to_frame()
        assert np.isnan(f["estimate"].iloc[-1]) and np.isnan(f["se"].iloc[-1]), form
        out[form] = f.iloc[:-1]
    ref = REF["clus1"]["deff_true"]["mean_api00"]
    for form, f in out.items():  # the other domains are untouched
        np.testing.assert_allclose(f["se"], ref["se"], rtol=RTOL, err_msg=form)
        np.testing.assert_allclose(f["deff"], ref["deff"], rtol=RTOL, err_msg=form)


def test_single_psu_domain_warns(api):
    design, y, codes, labels = api
    st = _forms(design, y, codes, len(labels))["rows"]
    st = st.replace(domains=pd.DataFrame({"stype": labels}), n_psu=np.array([3, 1, 5]))
    with pytest.warns(SinglePSUDomainWarning, match=r"1 domain\(s\) lie in a single PSU .*'H'"):
        finalise(st, design)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SinglePSUDomainWarning)
        finalise(st.replace(n_psu=np.array([3, 2, 5])), design)


def test_statistic_is_immutable(api):
    design, y, codes, labels = api
    st = _forms(design, y, codes, len(labels))["rows"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.estimates = np.zeros(3)
    with pytest.raises(ValueError, match="read-only"):
        st.estimates[0] = 1.0
    e = np.array([1.0, 2.0])
    st2 = Statistic(pd.DataFrame({"k": [0, 1]}), e)
    e[0] = 99.0  # the caller's array is copied
    assert st2.estimates[0] == 1.0
    assert st.replace(title="x").title == "x" and st.title == ""
    with pytest.raises(ValueError, match="2 key rows for 3 estimates"):
        Statistic(pd.DataFrame({"k": [0, 1]}), np.zeros(3))


def test_delta_method_complex_step_equals_given_jacobian(api):
    """transform=(h, None) (complex-step Jacobian) equals the explicit linear map."""
    design, y, codes, labels = api
    st = _forms(design, y, codes, len(labels))["factored"]
    C = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]])
    keys = pd.DataFrame({"contrast": ["E-H", "H-M"]})
    a = finalise(st, design, transform=(lambda E: E @ C.T, None), keys=keys)
    b = finalise(st, design, transform=(lambda E: E @ C.T, C), keys=keys)
    np.testing.assert_allclose(a.estimates, b.estimates, rtol=1e-14)
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-12)
    full = finalise(st, design)
    np.testing.assert_allclose(b.vcov, C @ full.vcov @ C.T, rtol=1e-12)


def test_deff_rule_same_in_every_family(shared):
    """A poverty (fgt), an inequality (gini) and a convey (arpt) estimator, and a mean, by
    domain: each deff is the design variance over R's SRS variance of the same influence
    values within the domain. The SRS variance does not depend on the design, so it is the
    same whether the rows come with their clusters or as a simple random sample:
    se_cluster^2 / deff_cluster == se_srs^2 / deff_srs for every family (1e-10: same sums)."""
    df = pd.read_csv(shared("data", "api", "apiclus1.csv.gz"))
    clus = rp.Survey(df, weight="pw", unit="person", psu="dnum", fpc="fpc")
    srs = rp.Survey(df, weight="pw", unit="person", fpc="fpc")
    calls = {
        "fgt": lambda s: rp.fgt(s, "api00", 650.0, (0, 1), by="stype", deff=True, headcount_total=False),
        "gini": lambda s: rp.gini(s, "enroll", by="stype", deff=True),
        "arpt": lambda s: rp.arpt(s, "api00", by="stype", deff=True),
        "mean": lambda s: rp.mean(s, "api00", by="stype", deff=True),
    }
    for name, call in calls.items():
        a, b = call(clus).to_frame(), call(srs).to_frame()
        va, vb = a["se"] ** 2 / a["deff"], b["se"] ** 2 / b["deff"]
        np.testing.assert_allclose(va, vb, rtol=RTOL, err_msg=name)
        assert (a["deff"] > 0).all() and np.isfinite(a["deff"]).all(), name


def test_replicate_designs_have_no_deff(shared):
    df = pd.read_csv(shared("data", "api", "apiclus1.csv.gz"))
    s = rp.Survey(df, weight="pw", unit="person", psu="dnum").with_replicates("jk1")
    for t in (rp.fgt(s, "api00", 650.0, (0,), deff=True), rp.gini(s, "enroll", deff=True), rp.arpt(s, "api00", deff=True)):
        f = t.to_frame()
        assert "deff" not in f and (f["se"] > 0).all()
        assert not any("Taylor" in n for n in t.notes)


def test_public_modules_keep_every_name():
    """remitpov.poverty.X and remitpov.inequality.X still work after the split into
    remitpov/measures/ (one file per measure): the same objects as remitpov.X."""
    from remitpov import inequality, poverty

    for mod in (poverty, inequality):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if name in rp.__all__:
                assert getattr(rp, name) is obj, (mod.__name__, name)
    assert poverty.JOINT_MAX_DOMAINS == 64 and poverty.QUANTILE_RULES == ("laeken", "math")
    assert poverty.EmptyDomainWarning is rp.EmptyDomainWarning
    assert inequality.theil.__module__ == "remitpov.measures.entropy"


def test_every_joint_inequality_measure_registers_its_statistic():
    """compare_inequality reads the statistic builders from the one registry."""
    from remitpov import measures

    joint = set(measures.names("inequality", joint=True))
    assert joint <= set(measures.statistics())
    assert measures.statistic_builder("ge") is measures.statistic_builder("generalized_entropy")
    assert measures.statistic_builder("sen") is None  # has its own function, not estimated jointly
    with pytest.raises(ValueError, match="already has a registered statistic"):
        measures.register_statistic("gini", lambda p: None)

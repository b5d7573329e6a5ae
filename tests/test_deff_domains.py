"""Design effects by domain follow R survey's ``svyby(..., deff=TRUE)`` (issue #10.3).

R evaluates the statistic on ``subset(design, domain)``: the SRS variance of a domain
estimate uses the domain's own sample size ``n_d`` and population ``N_d``; the design
variance keeps every PSU. ``deff="replace"`` drops the finite-population factor.

Reference: fixtures/deff_domains.json written by tests/r/make_deff_domains.R (R survey
4.1.1) on the API data. Tolerance 1e-10 relative: both sides compute the same closed
forms in double precision (observed ~1e-13); the JSON stores 15 significant digits.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import remitpov as rp

RTOL = 1e-10
REF = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "deff_domains.json").read_text())
DESIGNS = {"clus1": ("apiclus1", dict(psu="dnum", fpc="fpc"), "stype"),
           "strat": ("apistrat", dict(strata="stype", fpc="fpc"), "sch.wide")}
MODES = {"deff_true": True, "deff_replace": "replace"}


def _survey(shared, name):
    file, kw, by = DESIGNS[name]
    df = pd.read_csv(shared("data", "api", f"{file}.csv.gz"))
    return rp.Survey(df, weight="pw", unit="person", **kw), by


def _close(got, want):
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=RTOL, atol=0)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("name", list(DESIGNS))
def test_domain_deff_matches_svyby(shared, name, mode):
    s, by = _survey(shared, name)
    ref = REF[name][mode]
    deff = MODES[mode]
    for tab, r in ((rp.mean(s, "api00", by=by, deff=deff), ref["mean_api00"]),
                   (rp.total(s, "enroll", by=by, deff=deff), ref["total_enroll"]),
                   (rp.ratio(s, "api00", "api99", by=by, deff=deff), ref["ratio_api00_api99"])):
        f = tab.to_frame()
        assert list(f[by].astype(str)) == r["domain"]
        _close(f["estimate"], r["estimate"])
        _close(f["se"], r["se"])
        _close(f["deff"], r["deff"])
    # FGT(0), FGT(1) of api00 at a line of 600 are the means of their contributions (svyby of g0, g1)
    g = REF[name][mode]["fgt_api00"]
    f = rp.fgt(s, "api00", 600.0, (0, 1), by=by, deff=deff, headcount_total=False).to_frame()
    for a, col in ((0, "g0"), (1, "g1")):
        fa = f[f["measure"] == f"fgt{a}"]
        _close(fa["estimate"], g[col])
        _close(fa["se"], g[f"se_{col}"])
        _close(fa["deff"], g[f"deff_{col}"])


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("name", list(DESIGNS))
def test_whole_sample_deff_matches_r(shared, name, mode):
    s, by = _survey(shared, name)
    a = REF[name][mode]["all"]
    deff = MODES[mode]
    _close(rp.mean(s, "api00", deff=deff).to_frame()["deff"], [a["mean_api00_deff"]])
    _close(rp.total(s, "enroll", deff=deff).to_frame()["deff"], [a["total_enroll_deff"]])
    _close(rp.ratio(s, "api00", "api99", deff=deff).to_frame()["deff"], [a["ratio_api00_api99_deff"]])
    # total= with by=: the whole-sample row keeps the whole sample's SRS variance
    t = rp.fgt(s, "api00", 600.0, (0,), by=by, total=True, deff=deff).to_frame()
    t0 = rp.fgt(s, "api00", 600.0, (0,), deff=deff).to_frame()
    _close(t["deff"].iloc[:2], t0["deff"])


@pytest.mark.parametrize("measure", ["mean", "fgt", "compare", "gini", "theil", "quantile", "sen", "palma"])
def test_domain_srs_variance_is_the_subset_s(shared, measure):
    """Same answer by two routes: a domain's SRS variance (design variance / deff) equals the
    SRS variance of the same estimator on the domain's rows alone (their own survey), for
    every estimator family -- linearised influence values are the same within the domain
    and n, N are the domain's. (1e-10: same sums in another order.)"""
    s, by = _survey(shared, "clus1")
    s = rp.Survey(s.data.assign(api_lo=s.data["api00"] * 0.9), weight="pw", unit="person", psu="dnum")
    calls = {
        "mean": lambda v, **k: rp.mean(v, "api00", deff=True, **k),
        "fgt": lambda v, **k: rp.fgt(v, "api00", 650.0, (0, 1, 2), deff=True, **k),
        "compare": lambda v, **k: rp.compare(v, {"a": "api00", "b": "api_lo"}, 650.0, deff=True, **k),
        "gini": lambda v, **k: rp.gini(v, "enroll", deff=True, **k),
        "theil": lambda v, **k: rp.theil(v, "enroll", deff=True, **k),
        "quantile": lambda v, **k: rp.quantile(v, "api00", (0.5,), se_method="kernel", deff=True, **k),
        "sen": lambda v, **k: rp.sen(v, "api00", 650.0, deff=True, **k),
        "palma": lambda v, **k: rp.palma(v, "enroll", deff=True, **k),
    }
    f = calls[measure](s, by=by).to_frame()
    for dom in ("E", "M"):
        sub = s.data[s.data[by] == dom]
        g = calls[measure](rp.Survey(sub, weight="pw", unit="person", psu="dnum")).to_frame()
        fd = f[f[by].astype(str) == dom]
        vs_dom = fd["se"].to_numpy() ** 2 / fd["deff"].to_numpy()
        vs_sub = g["se"].to_numpy() ** 2 / g["deff"].to_numpy()
        _close(vs_dom, vs_sub)


def test_bad_deff_value_raises(shared):
    s, by = _survey(shared, "clus1")
    with pytest.raises(rp.InputError, match=r"deff='srs'.*'replace'"):
        rp.mean(s, "api00", by=by, deff="srs")

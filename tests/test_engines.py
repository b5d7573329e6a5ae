"""The backend protocol (remitpov.engines): out-of-memory engines give the in-memory numbers.

References
----------
* The in-memory estimators on the SAME data (remitpov.poverty, inequality, estimation),
  themselves tested against R survey / laeken / convey. The engines reduce the rows to
  per-(stratum, PSU, SSU, domain) sums and finish with the same variance engine
  (Design.vcov_factored) on the design of the sampled units, so agreement is at the
  level of floating-point summation order: 1e-10 relative (issue #15).
* Design effects: second moments are summed per partition and in another form than the
  in-memory Gram products: 1e-9 relative (a ratio of two ~1e-13-accurate sums).
* Quantiles are order statistics (or an interpolation between two of them, hf7): the
  estimates are compared to 1e-12 relative (hf7 interpolation weights are ratios of
  cumulative weights summed in another order).
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dask.dataframe", reason="dask is not installed: pip install -e '.[dask]'")

import remitpov as rp  # noqa: E402
from remitpov import distributed as rd  # noqa: E402
from remitpov.engines import basis as bs  # noqa: E402
from remitpov.exceptions import InputError  # noqa: E402

from _design_data import assert_same_result as same, design_frame  # noqa: E402  (shared set-up)

RTOL = 1e-10


pytestmark = pytest.mark.usefixtures("dask_synchronous")  # conftest: no cluster needed for equality


def make_data(n=6000, n_psu=120, n_strata=12, seed=7):
    # fpc: 40 PSUs in each stratum's population (10 sampled); fpc2: 9 households in each PSU's
    return design_frame(n, n_psu, n_strata, seed, two_stage=True)


@pytest.fixture(scope="module")
def data():
    return make_data()


def pair(df, **design):
    s = rp.Survey(df, weight="w", strata="strata", psu="psu", unit="person", **design)
    ds = rd.DaskSurvey(df, weight="w", strata="strata", psu="psu", npartitions=4, **design)
    return s, ds


INC = {"with": "income", "without": "y0"}


# ---------------------------------------------------------------------- defaults, total=, deff=
@pytest.mark.parametrize("by", [None, "urban", "region"])
def test_rp_functions_on_a_dask_survey_equal_memory(data, by):
    s, ds = pair(data)
    same(rp.fgt(ds, "income", 600.0, by=by), rp.fgt(s, "income", 600.0, by=by))
    same(rp.compare(ds, INC, 600.0, by=by), rp.compare(s, INC, 600.0, by=by))
    same(rp.mean(ds, ["income", "y0"], by=by), rp.mean(s, ["income", "y0"], by=by))
    same(rp.gini(ds, "income", by=by), rp.gini(s, "income", by=by, deff=True))
    same(rp.quantile(ds, "income", (0.1, 0.5, 0.9), by=by), rp.quantile(s, "income", (0.1, 0.5, 0.9), by=by, deff=True),
         rtol=1e-10)


def test_total_and_deff(data):
    s, ds = pair(data)
    for total in (True, "national"):
        for deff in (False, True, "replace"):
            kw = dict(by="urban", total=total, deff=deff)
            same(rp.compare(ds, INC, 600.0, headcount_total=True, **kw),
                 rp.compare(s, INC, 600.0, headcount_total=True, **kw))
    same(rp.fgt(ds, "income", "zline", alpha=(0, 1.5), by="region", total=True, deff=True, strict=False),
         rp.fgt(s, "income", "zline", alpha=(0, 1.5), by="region", total=True, deff=True, strict=False))
    same(rp.total(ds, "remit", by="urban", deff=True), rp.total(s, "remit", by="urban", deff=True))
    same(rp.ratio(ds, "remit", "income", by="region", deff="replace"),
         rp.ratio(s, "remit", "income", by="region", deff="replace"))
    with pytest.raises(InputError, match="total='urban' is also a value"):
        rp.fgt(ds, "income", 600.0, by="urban", total="urban")


@pytest.mark.parametrize("rule", ["hf7", "math", "school", "laeken"])
def test_quantile_rules_exact(data, rule):
    s, ds = pair(data)
    probs = (0.0, 0.05, 0.25, 0.5, 0.77, 0.9, 1.0)
    a = rp.quantile(ds, "income", probs, by="urban", rule=rule)
    b = rp.quantile(s, "income", probs, by="urban", rule=rule, deff=True)
    np.testing.assert_allclose(a.estimates, b.estimates, rtol=1e-12)
    same(a, b)
    # exactness does not depend on the bucketing
    np.testing.assert_array_equal(rd.quantile(ds, "income", probs, rule=rule, buckets=3).estimates,
                                  rd.quantile(ds, "income", probs, rule=rule, buckets=41).estimates)


# ---------------------------------------------------------------------- design features
def test_two_stage_fpc(data):
    s, ds = pair(data, fpc="fpc", ssu="hh", fpc2="fpc2")
    assert s.design().fpc2 is not None
    same(rp.compare(ds, INC, 600.0, by="urban", total=True, deff=True),
         rp.compare(s, INC, 600.0, by="urban", total=True, deff=True))
    same(rp.mean(ds, "income", by="region"), rp.mean(s, "income", by="region"))
    same(rp.gini(ds, "income", by="urban"), rp.gini(s, "income", by="urban", deff=True))
    same(rp.quantile(ds, "income", (0.5,)), rp.quantile(s, "income", (0.5,), deff=True))
    # the second stage matters: without it the SEs differ
    s1, ds1 = pair(data, fpc="fpc")
    assert rp.mean(ds1, "income").get().se != pytest.approx(rp.mean(ds, "income").get().se, rel=1e-6)


@pytest.mark.parametrize("kind,R", [("bootstrap", 40), ("jkn", None), ("canty_davison", 30)])
def test_replicate_weights(data, kind, R):
    fpc = {"fpc": "fpc"} if kind == "canty_davison" else {}
    s, ds = pair(data, **fpc)
    kw = {} if R is None else {"replicates": R}
    s, ds = s.with_replicates(kind, seed=3, **kw), ds.with_replicates(kind, seed=3, **kw)
    same(rp.compare(ds, INC, 600.0, by="urban", total=True), rp.compare(s, INC, 600.0, by="urban", total=True))
    same(rp.mean(ds, ["income", "y0"], by="region"), rp.mean(s, ["income", "y0"], by="region"))
    same(rp.ratio(ds, "remit", "income"), rp.ratio(s, "remit", "income"))
    with pytest.raises(InputError, match="replicate weights is not available"):
        rp.gini(ds, "income")


def test_nest_lonely_and_na_rm(data):
    d = data.copy()
    d["psu_in"] = d["psu"] % 10
    d.loc[d["strata"] == 0, "psu_in"] = 0  # stratum 0: a single PSU
    d.loc[d.index[:7], "income"] = np.nan
    s = rp.Survey(d, weight="w", strata="strata", psu="psu_in", nest=True, lonely_psu="adjust", unit="person")
    ds = rd.DaskSurvey(d, weight="w", strata="strata", psu="psu_in", nest=True, lonely_psu="adjust", npartitions=3)
    same(rp.fgt(ds, "income", 600.0, by="urban", na_rm=True, total=True),
         rp.fgt(s, "income", 600.0, by="urban", na_rm=True, total=True))
    same(rp.gini(ds, "income", na_rm=True), rp.gini(s, "income", na_rm=True, deff=True))
    with pytest.raises(InputError, match="'income' is missing or not finite in 7 rows"):
        rp.fgt(ds, "income", 600.0)


def test_refusals_name_the_option(data):
    s, ds = pair(data)
    with pytest.raises(InputError, match="measure='gini'.*not available on an out-of-memory survey"):
        rp.compare(ds, INC, measure="gini")
    with pytest.raises(InputError, match="relative lines"):
        rp.fgt(ds, "income", rp.RelativeLine(0.6))
    with pytest.raises(InputError, match="se_method='kernel' is not available"):
        rp.quantile(ds, "income", (0.5,), se_method="kernel")
    with pytest.raises(InputError, match="one domain column"):
        rp.mean(ds, "income", by=["urban", "region"])


# ---------------------------------------------------------------------- the shared basis
def test_basis_terms_use_the_one_fgt_definition():
    from remitpov.measures.fgt import contribution

    rng = np.random.default_rng(0)
    y = np.round(rng.lognormal(6, 1, 500), -1)
    z = np.full(500, 600.0)
    for a in (0, 1, 2, 1.5, "watts"):
        for strict in (True, False):
            t = bs.fgt("y", 600.0, a, strict)
            np.testing.assert_array_equal(t.values({"y": y}, 500), contribution(y, z, a, strict))
            cache: dict = {}  # the chunked engines share the alpha=1 gap between the alphas of a line
            bs.fgt("y", 600.0, 1, strict).values({"y": y}, 500, cache)
            np.testing.assert_array_equal(t.values({"y": y}, 500, cache), contribution(y, z, a, strict))
    assert bs.fgt("y", "z", 2).columns == ("y", "z")

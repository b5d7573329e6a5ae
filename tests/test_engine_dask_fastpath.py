"""The Dask engine's fast paths give the numbers of the general paths, bit for bit.

References
----------
* :func:`remitpov.measures.fgt.contribution` (the one FGT definition, itself tested against R
  and closed forms): the basis terms evaluated from one shared gap per (income, line) must be
  the same floats (``np.array_equal``, signs of zeros included).
* The Dask engine's own general paths on the same rows: the partial sums on the full (unit,
  domain) grid against those on compacted keys, and the finish from the cached units' design
  against :func:`remitpov.engines.base.collapse` of the labelled :class:`UnitSums`. Both add the
  same cells in the same order, so the comparison is exact (no tolerance); agreement with the
  in-memory estimators (1e-10) is tested in ``test_engines.py`` / ``test_engine_dask_units.py``.
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dask.dataframe", reason="dask is not installed: pip install -e '.[dask]'")

from remitpov import distributed as rd  # noqa: E402
from remitpov.engines import basis as bs  # noqa: E402
from remitpov.engines import dask as rde  # noqa: E402
from remitpov.engines.base import finish_sums  # noqa: E402
from remitpov.measures.fgt import contribution  # noqa: E402

from test_engines import make_data  # noqa: E402


pytestmark = pytest.mark.usefixtures("dask_synchronous")  # conftest: no cluster needed for equality


@pytest.fixture(scope="module")
def data():
    df = make_data(n=3000, n_psu=60, n_strata=6, seed=5)
    # text labels met in another order than sorted (the first row's is the largest): the partial
    # sums' domains are in order of appearance, the table's sorted
    df["label"] = np.where(df["region"] == df["region"].iloc[0], "zz", "aa")
    return df


def _terms(z="zline"):
    return [bs.one()] + [bs.fgt(c, z, a, strict) for c in ("income", "y0") for a in (0, 1, 2, 1.5)
                         for strict in (True, False)]


@pytest.mark.parametrize("line", [600.0, "column"])
def test_shared_gap_terms_equal_the_fgt_definition_bit_for_bit(line):
    rng = np.random.default_rng(3)
    n = 2000
    y = np.concatenate([np.round(rng.lognormal(6, 1, n - 6), -1), [-50.0, 0.0, -0.0, 600.0, 599.9999999, 1e-300]])
    z = np.full(n, 600.0) if line == 600.0 else np.round(rng.uniform(300, 900, n), -1)
    y[:40] = z[:40]  # incomes exactly at the line: poor only if strict=False, gap 0 either way
    cols = {"y": y, "z": z}
    zz = 600.0 if line == 600.0 else "z"
    for strict in (True, False):
        cache: dict = {}
        for a in (2, 0, 1.5, 1, 3, 0.5):  # (any order: the first term of a line fills the cache)
            got = np.asarray(bs.fgt("y", zz, a, strict).values(cols, n, cache), dtype=float)
            ref = contribution(y, z, a, strict)
            assert np.array_equal(got, ref) and np.array_equal(np.signbit(got), np.signbit(ref)), (a, strict)


@pytest.mark.parametrize("by", [None, "urban", "label"])
def test_partial_sums_on_the_grid_equal_compacted_keys(data, by, monkeypatch):
    ds = rd.DaskSurvey(data, weight="w", strata="strata", psu="psu", npartitions=2)
    out = {}
    for grid in (True, False):
        monkeypatch.setattr(rde, "_grid", lambda K, m, n, g=grid: g)
        out[grid] = rde.linear_partial(ds, _terms(), by, na_rm=False, deff=True)[1]
    a, b = out[True], out[False]
    assert list(a["dl"]) == list(b["dl"])
    for k in ("unit", "dom", "S", "G", "n_pos", "wsum"):
        assert np.array_equal(a[k], b[k]), k


def _same_finish(x, y):
    """The same domain keys and info, the same units' design (its rows -- the units -- may come in
    another order when several partitions meet them in another order than their labels'), the
    same PSU totals, Gram matrices and counts, and the same variance of every basis total."""
    (d1, s1, k1, i1), (d2, s2, k2, i2) = x, y
    assert i1 == i2 and list(k1) == list(k2) and [type(v) for v in k1] == [type(v) for v in k2]
    assert d1.n == d2.n and d1.n_psu == d2.n_psu and d1.df == d2.df
    assert np.array_equal(np.sort(d1.strata * d1.n_psu + d1.psu), np.sort(d2.strata * d2.n_psu + d2.psu))
    for f in ("psu", "gram", "n_pos", "wsum"):
        u, v = getattr(s1, f), getattr(s2, f)
        assert (u is None and v is None) or np.array_equal(u, v), f
    if s1.ssu is not None:  # second-stage totals: the same rows (SSU codes follow the units' order)
        assert np.array_equal(np.unique(s1.ssu, axis=0), np.unique(s2.ssu, axis=0))
    A = np.eye(s1.n_domains * s1.m)
    assert np.array_equal(d1.vcov_factored(s1, A), d2.vcov_factored(s2, A))


@pytest.mark.parametrize("design,by,total", [
    ({}, "urban", True), ({}, "label", False), ({}, "label", True), ({}, None, False),
    ({"fpc": "fpc"}, "region", True), ({"fpc": "fpc", "ssu": "hh", "fpc2": "fpc2"}, "urban", True)])
@pytest.mark.parametrize("npartitions", [1, 3])
def test_finish_from_the_cached_unit_design_equals_collapse(data, design, by, total, npartitions):
    ds = rd.DaskSurvey(data, weight="w", strata="strata", psu="psu", npartitions=npartitions, **design)
    un, res = rde.linear_partial(ds, _terms(600.0), by, na_rm=False, deff=True)
    fast = rde.finish_units(ds, un, res, by, deff=True, total=total, engine="e")
    assert ds._cache["units_design"][1] is rde.unit_design(ds, un)  # built once, reused
    _same_finish(fast, finish_sums(un.unit_sums(res), ds.spec, by, deff=True, total=total, engine="e"))


def test_a_unit_without_rows_takes_the_general_path(data):
    """(Only if the data changed under the DaskSurvey): the design is then on the units present."""
    ds = rd.DaskSurvey(data, weight="w", strata="strata", psu="psu", npartitions=2)
    un, res = rde.linear_partial(ds, _terms(600.0), "urban", na_rm=False, deff=False)
    keep = res["unit"] != 7
    part = {**res, "unit": res["unit"][keep], "dom": res["dom"][keep], "S": res["S"][keep]}
    got = rde.finish_units(ds, un, part, "urban", deff=False, total=False, engine="e")
    assert got[0].n_psu == un.n - 1
    _same_finish(got, finish_sums(un.unit_sums(part), ds.spec, "urban", deff=False, total=False, engine="e"))


@pytest.mark.parametrize("labels", ["from0", "gaps", "offset", "text"])
def test_unit_and_domain_key_of_every_row(data, labels):
    """``Units.codes(pdf, spec, D, dcode)`` = unit code x D + domain code, from one gather (a table
    times D); a label the units never held -- outside their range, or a gap in it -- is refused."""
    df = data.copy()
    df["psu"] = {"from0": df["psu"], "gaps": df["psu"] * 2, "offset": df["psu"] + 1000,
                 "text": "p" + df["psu"].astype(str)}[labels]
    ds = rd.DaskSurvey(df, weight="w", strata="strata", psu="psu", npartitions=1)
    un = rde.units(ds)
    assert (un.lut is None) == (labels == "text")
    dcode = np.random.default_rng(0).integers(0, 3, len(df))
    key = un.codes(df, ds.spec, 3, dcode)
    assert key.dtype == np.int64
    assert np.array_equal(key, un.codes(df, ds.spec).astype(np.int64) * 3 + dcode)
    assert np.array_equal(un.u[key // 3], df["psu"].to_numpy())
    bad = [10**6] if labels != "text" else ["nope"]
    if labels == "gaps":
        bad.append(3)  # inside the range of the labels, not a unit
    for b in bad:
        other = df.head(20).assign(psu=b)
        with pytest.raises(rde.InputError, match="data changed under the DaskSurvey"):
            un.codes(other, ds.spec, 3, dcode[:20])


def test_sums_without_evaluating_the_constant_equal_the_full_basis(data):
    """Without Gram matrices the constant's sums come from one count over every row: the basis
    leaves it out (``basis(a, b, const=False)``); the other columns' sums are the same floats."""
    from remitpov.engines import memory as rm

    spec = rd.DaskSurvey(data, weight="w", strata="strata", psu="psu", npartitions=1).spec
    w, dom, basis, k, expand, ones = rm.row_basis(data, spec, _terms(), "urban")
    assert basis.const_optional and ones == [0]
    codes, dl = rm.domain_codes(dom, len(data))
    full = rm.row_sums(lambda a, b: basis(a, b), k, codes, len(dl), w, codes, len(dl), False, ones)
    assert basis(0, 100, const=False)[1].shape[1] == k - 1
    got = rm.row_sums(basis, k, codes, len(dl), w, codes, len(dl), False, ones)
    for g, f in zip(got, full):
        assert (g is None and f is None) or np.array_equal(g, f)


@pytest.mark.parametrize("npartitions", [1, 3])
def test_weight_sums_without_design_effects_come_from_the_units(data, npartitions):
    """Without design effects the domains' sums of weights (the table's description only) are the
    sums of the units' weight totals, not a second pass over the rows: the same sums in another
    order (1e-13 relative: ~10^3 rows per domain and partition, 10^2 units); every sum of the
    basis is the same float as with design effects."""
    ds = rd.DaskSurvey(data, weight="w", strata="strata", psu="psu", npartitions=npartitions)
    _, a = rde.linear_partial(ds, _terms(600.0), "label", na_rm=False, deff=False)
    _, b = rde.linear_partial(ds, _terms(600.0), "label", na_rm=False, deff=True)
    for k in ("unit", "dom", "S", "n_pos"):
        assert np.array_equal(a[k], b[k]), k
    assert a["G"] is None and b["G"] is not None
    np.testing.assert_allclose(a["wsum"], b["wsum"], rtol=1e-13)
    W = np.bincount(data["label"].map({"aa": 0, "zz": 1}), weights=data["w"])
    np.testing.assert_allclose(np.sort(a["wsum"]), np.sort(W), rtol=1e-13)


def test_finiteness_checks_by_one_sum_refuse_only_non_finite_values():
    """The value and weight checks are one reduction each (a sum); finite values whose sum
    overflows are still accepted, a NaN or an infinity still found and named."""
    import pandas as pd

    from remitpov.engines import memory as rm

    spec = rd.DaskSurvey(pd.DataFrame({"w": [1.0], "psu": [1], "y": [1.0]}), weight="w", psu="psu",
                         npartitions=1).spec
    big = pd.DataFrame({"w": [1e308, 1e308, 1.0], "psu": [1, 2, 3], "y": [1e308, 1e308, -1e308]})
    w, ok, probs = rm.validate(big, spec, ["y"], na_rm=False, design=False)
    assert ok.all() and not probs and np.array_equal(w, big["w"].to_numpy())
    for bad in (np.nan, np.inf, -np.inf):
        w, ok, probs = rm.validate(big.assign(y=[1.0, bad, 2.0]), spec, ["y"], na_rm=False, design=False)
        assert list(ok) == [True, False, True] and probs["value:y"][0] == 1
        with pytest.raises(rde.InputError, match="weight column 'w'"):
            rm.validate(big.assign(w=[1.0, bad, 2.0]), spec, ["y"], na_rm=False, design=False)

"""The Dask engine's units found once per DaskSurvey, its sparse FGT basis and its range-partitioned Gini.

References
----------
* The in-memory estimators on the SAME data (remitpov.poverty, inequality), themselves tested
  against R survey / laeken. The Dask engine sums the same terms in another order (per
  partition, per output partition of the sort, then a tree reduction), so agreement is at the
  level of floating-point summation order: 1e-10 relative (issue #15/#17).
* The FGT basis evaluated on the poor rows only must give the sums of the dense basis on every
  row (the other rows' contributions are exact zeros): compared to 1e-12 relative
  (:func:`remitpov.engines.memory.row_sums` on both forms; only the summation order differs).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.dataframe", reason="dask is not installed: pip install -e '.[dask]'")

import remitpov as rp  # noqa: E402
from remitpov import distributed as rd  # noqa: E402
from remitpov.engines import basis as bs  # noqa: E402
from remitpov.engines import dask as rde  # noqa: E402
from remitpov.engines import memory as rm  # noqa: E402
from remitpov.exceptions import InputError  # noqa: E402

from test_engines import INC, make_data, same  # noqa: E402


pytestmark = pytest.mark.usefixtures("dask_synchronous")  # conftest: no cluster needed for equality


@pytest.fixture(scope="module")
def data():
    return make_data(n=4000, n_psu=80, n_strata=8, seed=11)


def _pair(df, npartitions=3, **design):
    s = rp.Survey(df, weight="w", strata="strata", psu="psu", unit="person", **design)
    return s, rd.DaskSurvey(df, weight="w", strata="strata", psu="psu", npartitions=npartitions, **design)


@pytest.mark.parametrize("labels", ["int", "wide_int", "text"])
@pytest.mark.parametrize("nest", [False, True])
def test_unit_lookup_every_label_kind(data, labels, nest):
    """Dense lookup table (compact integers), hash index (wide integers, text), nested PSU labels."""
    df = data.copy()
    if nest:  # PSU labels repeat across strata: the unit is (stratum, PSU)
        df["psu"] = df["psu"] % 10
    if labels == "wide_int":
        df["psu"] = df["psu"] * 10**12 + 7
        df["strata"] = df["strata"] * 10**11
    elif labels == "text":
        df["psu"] = "p" + df["psu"].astype(str)
        df["strata"] = "s" + df["strata"].astype(str)
    s, ds = _pair(df, nest=nest)
    un = rde.units(ds)
    if labels == "int" and not nest:
        assert un.lut is not None and un.levels[0][0] == "u"  # PSU alone identifies the unit
    if labels == "text":
        assert un.lut is None
    if nest:
        assert [lv[0] for lv in un.levels] == ["s", "u"]
    same(rp.compare(ds, INC, 600.0, by="urban", total=True, deff=True),
         rp.compare(s, INC, 600.0, by="urban", total=True, deff=True))
    same(rp.gini(ds, "income", by="region"), rp.gini(s, "income", by="region", deff=True))


def test_units_are_found_once_and_follow_assign(data):
    s, ds = _pair(data)
    rp.fgt(ds, "income", 600.0)
    un = rde.units(ds)
    assert rde.units(ds) is un  # cached
    ds2 = ds.assign(y2=ds.data["income"] * 2)
    assert rde.units(ds2) is un  # same rows, same design: carried over
    s2 = rp.Survey(data.assign(y2=data["income"] * 2), weight="w", strata="strata", psu="psu", unit="person")
    same(rp.fgt(ds2, "y2", 1200.0, by="urban"), rp.fgt(s2, "y2", 1200.0, by="urban"))
    # replacing a design column drops the cache: the new PSUs (pairs of old ones) are used
    ds3 = ds.assign(psu=ds.data["psu"] // 2)
    assert rde.units(ds3) is not un and rde.units(ds3).n == data["psu"].nunique() // 2
    s3 = rp.Survey(data.assign(psu=data["psu"] // 2), weight="w", strata="strata", psu="psu", unit="person")
    same(rp.fgt(ds3, "income", 600.0, by="urban"), rp.fgt(s3, "income", 600.0, by="urban"))


def test_rows_with_unknown_unit_labels_are_refused(data):
    _, ds = _pair(data)
    un = rde.units(ds)
    other = data.head(50).assign(psu=10**6)  # a PSU the DaskSurvey never saw
    with pytest.raises(InputError, match="data changed under the DaskSurvey"):
        un.codes(other, ds.spec)
    with pytest.raises(InputError, match="data changed under the DaskSurvey"):
        _, ds_t = _pair(data.assign(psu="p" + data["psu"].astype(str)))
        rde.units(ds_t).codes(other.assign(psu="nope"), ds_t.spec)


@pytest.mark.parametrize("strict", [True, False])
def test_fgt_basis_on_the_poor_rows_equals_the_dense_basis(data, strict):
    """The sparse evaluation (poor rows only; the constant over every row) = the dense one."""
    data = data.assign(zlow=data["zline"] / 3)
    _, ds = _pair(data)
    spec = ds.spec
    terms = [bs.one()] + [bs.fgt(c, z, a, strict) for c, z in (("income", 200.0), ("y0", "zlow"))
                          for a in (0, 1, 2, 1.5)] + [bs.fgt("income", 200.0, 0, strict)]
    w, dom, basis, k, expand, ones = rm.row_basis(data, spec, terms, "urban")
    assert k == len(terms) - 1 and ones == [0]  # the repeated FGT(0) is evaluated once
    sel, _ = basis(0, len(data))
    assert sel is not None and 0 < sel.size < len(data)  # only the rows poor under some concept
    codes, dl = rm.domain_codes(dom, len(data))
    got = rm.row_sums(basis, k, codes, len(dl), w, codes, len(dl), True, ones)

    def dense(a, b):
        cols = {c: rm.numeric(data, c)[a:b] for c in ("income", "y0", "zlow")}
        distinct = list(dict.fromkeys(terms))
        return None, np.column_stack([t.values(cols, b - a) for t in distinct])
    ref = rm.row_sums(dense, k, codes, len(dl), w, codes, len(dl), True)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-300)


def test_fgt_table_na_rm_and_line_column(data):
    df = data.copy()
    df.loc[df.index[::37], "y0"] = np.nan
    s, ds = _pair(df)
    same(rp.compare(ds, INC, "zline", by="urban", na_rm=True, deff=True),
         rp.compare(s, INC, "zline", by="urban", na_rm=True, deff=True))


@pytest.mark.parametrize("npartitions,buckets", [(1, None), (4, None), (5, 3), (3, 200)])
def test_gini_range_partitioned_sort(data, npartitions, buckets):
    """Any number of partitions and buckets (ties across partitions, buckets holding no rows,
    more output partitions than buckets) gives the in-memory Gini and SE."""
    s, ds = _pair(data, npartitions=npartitions)
    same(rp.gini(ds, "income", by="urban"), rp.gini(s, "income", by="urban", deff=True))
    assert rd.gini(ds, "income", buckets=buckets).get().estimate == pytest.approx(
        rp.gini(s, "income", deff=True).get().estimate, rel=1e-12)


def test_gini_na_rm_keeps_the_design_and_refuses_an_empty_domain(data):
    df = data.copy()
    df.loc[df.index[::23], "income"] = np.nan
    s, ds = _pair(df)
    same(rp.gini(ds, "income", by="urban", na_rm=True), rp.gini(s, "income", by="urban", na_rm=True, deff=True))
    df.loc[df["region"] == 2, "income"] = np.nan  # a domain with no usable row
    _, ds = _pair(df)
    with pytest.raises(InputError, match="no usable observation"):
        rd.gini(ds, "income", by="region", na_rm=True)

"""The DuckDB engine (remitpov.engines.duckdb): SQL GROUP BY sums give the in-memory numbers.

References: the in-memory estimators on the same rows (themselves tested against R
survey); the engine sums in another order (inside DuckDB), so agreement is to 1e-10
relative (issue #17), design effects to 1e-9 (ratios of second-moment sums, see
tests/test_engines.py). The SQL basis is checked against the numpy basis (the one FGT
definition, remitpov.measures.fgt) row by row to 1e-15 relative (DuckDB's ln/pow and
numpy's may differ in the last bit).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed: pip install -e '.[duckdb]'")

import remitpov as rp  # noqa: E402
from remitpov.engines import basis as bs  # noqa: E402
from remitpov.engines import duckdb as rdb  # noqa: E402
from remitpov.exceptions import InputError  # noqa: E402

from test_engines import INC, make_data, same  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return make_data(seed=11)


@pytest.fixture(scope="module")
def parquet(data, tmp_path_factory):
    d = tmp_path_factory.mktemp("pq")
    for i, part in enumerate((data.iloc[:2000], data.iloc[2000:4000], data.iloc[4000:])):  # three files
        part.to_parquet(d / f"part-{i}.parquet")
    return d


def mem(df, **design):
    return rp.Survey(df, weight="w", strata="strata", psu="psu", unit="person", **design)


def test_sql_basis_equals_numpy_basis():
    rng = np.random.default_rng(5)
    y = np.round(rng.lognormal(6, 1, 2000), -1)
    y[:20] = 600.0  # y == z
    z = np.where(rng.random(2000) < 0.5, 650.0, 600.0)
    frame = pd.DataFrame({"y": y, "z": z})
    terms = [bs.one(), bs.column("y"), bs.cdf("y", 600.0)]
    for a in (0, 1, 2, 1.5, 0.5, "watts"):
        for strict in (True, False):
            terms += [bs.fgt("y", 600.0, a, strict), bs.fgt("y", "z", a, strict)]
    got = rdb.sql_matches_numpy(terms, frame)
    want = np.column_stack([t.values({"y": y, "z": z}, len(y)) for t in terms])
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


@pytest.mark.parametrize("by", [None, "urban", "region"])
def test_duckdb_equals_memory(data, parquet, by):
    s, ds = mem(data), rdb.survey(parquet, weight="w", strata="strata", psu="psu")
    same(rdb.fgt(ds, "income", 600.0, by=by), rp.fgt(s, "income", 600.0, by=by))
    same(rdb.compare(ds, INC, 600.0, by=by, total=by is not None, deff=True, headcount_total=True),
         rp.compare(s, INC, 600.0, by=by, total=by is not None, deff=True, headcount_total=True))
    same(rdb.mean(ds, ["income", "y0"], by=by, deff=True), rp.mean(s, ["income", "y0"], by=by, deff=True))
    same(rdb.total(ds, "remit", by=by), rp.total(s, "remit", by=by))
    same(rdb.ratio(ds, "remit", "income", by=by), rp.ratio(s, "remit", "income", by=by))


def test_duckdb_table_two_stage_and_replicates(data):
    con = duckdb.connect()
    con.register("frame", data)
    con.execute("CREATE TABLE persons AS SELECT * FROM frame")
    ds = rdb.survey(con, "persons", weight="w", strata="strata", psu="psu", fpc="fpc", ssu="hh", fpc2="fpc2")
    s = mem(data, fpc="fpc", ssu="hh", fpc2="fpc2")
    same(rdb.compare(ds, INC, 600.0, by="urban", total=True, deff=True),
         rp.compare(s, INC, 600.0, by="urban", total=True, deff=True))
    same(rdb.fgt(ds, "income", "zline", alpha=(0, 2), strict=False), rp.fgt(s, "income", "zline", alpha=(0, 2),
                                                                              strict=False))
    r1 = rdb.survey(con, "persons", weight="w", strata="strata", psu="psu").with_replicates("bootstrap", 30, seed=2)
    same(rdb.compare(r1, INC, 600.0, by="region"), rp.compare(mem(data).with_replicates("bootstrap", 30, seed=2),
                                                              INC, 600.0, by="region"))


def test_duckdb_errors_name_the_problem(data, tmp_path):
    bad = data.copy()
    bad.loc[3, "w"] = -1.0
    bad.loc[[5, 6], "income"] = np.nan
    bad.to_parquet(tmp_path / "bad.parquet")
    ds = rdb.survey(tmp_path / "bad.parquet", weight="w", strata="strata", psu="psu")
    with pytest.raises(InputError, match="weight column 'w' is missing, zero or negative in 1 rows"):
        rdb.mean(ds, "income")
    data.assign(income=bad["income"]).to_parquet(tmp_path / "na.parquet")
    ds = rdb.survey(tmp_path / "na.parquet", weight="w", strata="strata", psu="psu")
    with pytest.raises(InputError, match="'income' is missing or not finite in 2 rows.*na_rm=True"):
        rdb.fgt(ds, "income", 600.0)
    d2 = data.copy()
    d2.loc[[5, 6], "income"] = np.nan
    same(rdb.fgt(ds, "income", 600.0, by="urban", na_rm=True), rp.fgt(mem(d2), "income", 600.0, by="urban",
                                                                       na_rm=True))
    with pytest.raises(InputError, match="psu column 'nope' not found"):
        rdb.survey(tmp_path / "na.parquet", weight="w", psu="nope")
    with pytest.raises(InputError, match="not found"):
        rdb.survey(tmp_path / "missing.parquet", weight="w", psu="psu")
    with pytest.raises(InputError, match=r"column\(s\) \['nope'\] not found"):
        rdb.mean(rdb.survey(tmp_path / "na.parquet", weight="w", psu="psu"), "nope")


@pytest.mark.parametrize("by", [None, "urban"])
def test_duckdb_gini_equals_memory(data, parquet, by):
    d = data.copy()
    d.loc[d.index[:4], "income"] = np.nan  # na_rm: outside every domain, design kept
    s, ds = mem(data), rdb.survey(parquet, weight="w", strata="strata", psu="psu")
    same(rdb.gini(ds, "income", by=by), rp.gini(s, "income", by=by, deff=True))
    con = duckdb.connect()
    con.register("frame", d)
    dn = rdb.survey(con, "frame", weight="w", strata="strata", psu="psu", fpc="fpc", ssu="hh", fpc2="fpc2")
    same(rdb.gini(dn, "income", by=by, na_rm=True), rp.gini(mem(d, fpc="fpc", ssu="hh", fpc2="fpc2"), "income",
                                                             by=by, na_rm=True, deff=True))

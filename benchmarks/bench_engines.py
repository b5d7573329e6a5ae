#!/usr/bin/env python
"""Engines side by side: in memory, Dask (one partition; a 2-worker cluster) and DuckDB.

What it measures (issues #15 / #17), on the synthetic census of ``dask_census.py``
(10,000 PSUs in 200 strata, lognormal incomes and remittances, urban/rural):

* **one partition** (``--sizes``, default 10^6 rows, data in memory): the with/without
  FGT(0,1,2) table with SEs (total + urban/rural in one ``compare(..., by="urban",
  total=True)``) and the Gini with its SE, by the in-memory estimators, by the Dask
  engine on ONE partition (synchronous scheduler: the engine's own cost, no
  parallelism) and by the DuckDB engine on the same frame; wall time (median of
  ``--repeats``) and peak traced memory (``tracemalloc``: numpy/pandas allocations of the
  call, DuckDB's own buffers are not traced) over the bytes of the columns used;
* **cluster** (``--cluster-rows``, default 10^7; skipped with ``--no-cluster``): the same
  table and the Gini + SE from a Parquet dataset on a ``LocalCluster`` of 2 workers x 1
  thread, the DuckDB engine on the same files, and the in-memory estimators on the same
  rows read into memory (reading not timed).

Every engine's estimates and SEs are asserted equal to the in-memory ones (1e-10
relative) before any time is printed. Timings are printed, never asserted.

Run::

    python benchmarks/bench_engines.py                     # 1e6 one partition + 1e7 cluster
    python benchmarks/bench_engines.py --sizes 1e6 --no-cluster
    python benchmarks/bench_engines.py --tiny              # smoke run (the test suite's)
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

LINE = 250.0
INC = {"with": "income", "without": "y0"}


def frame(rows: int, seed: int = 11) -> pd.DataFrame:
    """The census rows of dask_census.write_dataset, in memory, with the counterfactual income."""
    from dask_census import write_dataset

    with tempfile.TemporaryDirectory() as d:
        write_dataset(Path(d), rows, seed)
        df = pd.concat([pd.read_parquet(p) for p in sorted(Path(d).glob("*.parquet"))], ignore_index=True)
    df["y0"] = df["income"] - df["remit"]
    return df


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def traced_peak(fn) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def check(a, b, what):
    fa, fb = a.to_frame(), b.to_frame()
    np.testing.assert_allclose(fa["estimate"], fb["estimate"], rtol=1e-10, err_msg=what)
    np.testing.assert_allclose(fa["se"], fb["se"], rtol=1e-10, err_msg=what)


def one_partition(rows: int, repeats: int, out: list):
    import dask

    import remitpov as rp
    from remitpov.distributed import DaskSurvey

    df = frame(rows)
    cols = df[["strata", "psu", "w", "income", "y0", "urban"]]
    col_bytes = cols.memory_usage(index=False, deep=True).sum()
    s = rp.Survey(cols, weight="w", strata="strata", psu="psu", unit="person")
    ds = DaskSurvey(cols, weight="w", strata="strata", psu="psu", npartitions=1)
    runs = {
        ("in memory", "FGT table"): lambda: rp.compare(s, INC, LINE, by="urban", total=True),
        ("dask, 1 partition", "FGT table"): lambda: rp.compare(ds, INC, LINE, by="urban", total=True),
        ("in memory", "Gini + SE"): lambda: rp.gini(s, "income", by="urban"),
        ("dask, 1 partition", "Gini + SE"): lambda: rp.gini(ds, "income", by="urban"),
    }
    if importlib.util.find_spec("duckdb") is not None:
        import duckdb

        from remitpov.engines import duckdb as rdb

        con = duckdb.connect()
        con.register("persons", cols)
        dbs = rdb.survey(con, "persons", weight="w", strata="strata", psu="psu")
        runs[("duckdb (frame)", "FGT table")] = lambda: rdb.compare(dbs, INC, LINE, by="urban", total=True)
    with dask.config.set(scheduler="synchronous"):
        res = {k: timed(f, repeats) for k, f in runs.items()}
        for (eng, task), (t, tab) in res.items():
            check(tab, res[("in memory", task)][1], f"{eng} {task}")
        peaks = {k: traced_peak(f) for k, f in runs.items()}
    for (eng, task), (t, _) in res.items():
        base = res[("in memory", task)][0]
        out.append({"rows": rows, "engine": eng, "task": task, "wall_s": t, "x_in_memory": t / base,
                    "peak_MiB": peaks[eng, task] / 2**20, "peak_x_columns": peaks[eng, task] / col_bytes})


def cluster(rows: int, workers: int, out: list, memory_limit: str = "3GiB"):
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import remitpov as rp
    from dask_census import write_dataset
    from remitpov.distributed import DaskSurvey

    with tempfile.TemporaryDirectory(prefix="remitpov-engines-") as d:
        path = Path(d) / "census"
        write_dataset(path, rows)
        df = pd.concat([pd.read_parquet(p) for p in sorted(path.glob("*.parquet"))], ignore_index=True)
        df["y0"] = df["income"] - df["remit"]
        s = rp.Survey(df, weight="w", strata="strata", psu="psu", unit="person")
        t_mem_fgt, ref_fgt = timed(lambda: rp.compare(s, INC, LINE, by="urban", total=True), 1)
        t_mem_gini, ref_gini = timed(lambda: rp.gini(s, "income", by="urban"), 1)
        del s, df
        gc.collect()
        with Client(LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit=memory_limit,
                                 dashboard_address=None)) as client:
            ds = DaskSurvey(dd.read_parquet(str(path)), weight="w", strata="strata", psu="psu")
            ds = ds.assign(y0=ds.data["income"] - ds.data["remit"])
            t_fgt, tab = timed(lambda: rp.compare(ds, INC, LINE, by="urban", total=True), 1)
            t_gini, g = timed(lambda: rp.gini(ds, "income", by="urban"), 1)
            client.close()
        check(tab, ref_fgt, "dask FGT")
        check(g, ref_gini, "dask gini")
        rowsout = [("in memory", "FGT table", t_mem_fgt, t_mem_fgt), ("in memory", "Gini + SE", t_mem_gini, t_mem_gini),
                   (f"dask, {workers} workers", "FGT table", t_fgt, t_mem_fgt),
                   (f"dask, {workers} workers", "Gini + SE", t_gini, t_mem_gini)]
        if importlib.util.find_spec("duckdb") is not None:
            from remitpov.engines import duckdb as rdb

            dbs = rdb.survey(path, weight="w", strata="strata", psu="psu")
            dbs.con.execute("CREATE OR REPLACE TEMP VIEW rows0 AS SELECT *, income - remit AS y0 FROM "
                            + dbs.relation)
            dbs = rdb.survey(dbs.con, "rows0", weight="w", strata="strata", psu="psu")
            t_db, tdb = timed(lambda: rdb.compare(dbs, INC, LINE, by="urban", total=True), 1)
            t_dbg, gdb = timed(lambda: rdb.gini(dbs, "income", by="urban"), 1)
            check(tdb, ref_fgt, "duckdb FGT")
            check(gdb, ref_gini, "duckdb gini")
            rowsout += [("duckdb (Parquet)", "FGT table", t_db, t_mem_fgt), ("duckdb (Parquet)", "Gini + SE", t_dbg,
                                                                              t_mem_gini)]
        for eng, task, t, base in rowsout:
            out.append({"rows": rows, "engine": eng, "task": task, "wall_s": t, "x_in_memory": t / base,
                        "peak_MiB": np.nan, "peak_x_columns": np.nan})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e6])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cluster-rows", type=float, default=1e7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-cluster", action="store_true")
    ap.add_argument("--tiny", action="store_true", help="smoke run: 2e4 rows, one repeat, no cluster")
    a = ap.parse_args(argv)
    if a.tiny:
        a.sizes, a.repeats, a.no_cluster = [2e4], 1, True
    out: list = []
    for n in a.sizes:
        one_partition(int(n), a.repeats, out)
    if not a.no_cluster and importlib.util.find_spec("distributed") is not None:
        cluster(int(a.cluster_rows), a.workers, out)
    res = pd.DataFrame(out)
    with pd.option_context("display.width", 140, "display.float_format", "{:.3f}".format):
        print(res.to_string(index=False))
    import dask

    import remitpov

    vers = [f"remitpov {remitpov.__version__}", f"numpy {np.__version__}", f"pandas {pd.__version__}",
            f"dask {dask.__version__}"]
    if importlib.util.find_spec("duckdb") is not None:
        import duckdb

        vers.append(f"duckdb {duckdb.__version__}")
    print("; ".join(vers))


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Engines side by side: in memory, Dask (one partition; a 2-worker cluster) and DuckDB.

What it measures (issues #15 / #17), on the synthetic census of ``dask_census.py``
(10,000 PSUs in 200 strata, lognormal incomes and remittances, urban/rural):

* **one partition** (``--sizes``, default 10^6 rows, data in memory): the with/without
  FGT(0,1,2) table with SEs (total + urban/rural in one ``compare(..., by="urban",
  total=True)``) and the Gini with its SE, by the in-memory estimators, by the Dask
  engine on ONE partition (synchronous scheduler: the engine's own cost, no
  parallelism) and by the DuckDB engine on the same frame; wall and CPU time (minimum
  of ``--repeats`` rounds that alternate the engines) and peak traced memory (``tracemalloc``: numpy/pandas allocations of the
  call, DuckDB's own buffers are not traced) over the bytes of the columns used;
* **cluster** (``--cluster-rows``, default 10^7; skipped with ``--no-cluster``): the same
  table and the Gini + SE from a Parquet dataset on a ``LocalCluster`` of 2 workers x 1
  thread, the DuckDB engine on the same files, and the in-memory estimators on the same
  rows read into memory (reading not timed); CPU = the driver's plus the workers'. The
  workers import remitpov before anything is timed, and the Dask survey's sampled units
  are found first and timed on their own (once per ``DaskSurvey``, as the in-memory
  ``Survey`` is built before its estimators are timed).

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
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from _engines_common import (INC, LINE, check, dask_survey, frame, load, local_cluster, read_rows, timed, worker_cpu,
                             write_dataset)


def traced_peak(fn) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def paired(runs: dict, repeats: int) -> dict:
    """``{key: (wall, cpu, result)}``: minima over ``repeats`` rounds that call every run in turn
    (alternating, so a change of load during the benchmark weighs on every engine alike)."""
    got: dict = {k: [] for k in runs}
    for _ in range(repeats):
        for k, f in runs.items():
            got[k].append(timed(f))
    return {k: (min(r[0] for r in v), min(r[1] for r in v), v[-1][2]) for k, v in got.items()}


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
        ("in memory", "Gini + SE"): lambda: rp.gini(s, "income", by="urban", deff=True),
        ("dask, 1 partition", "Gini + SE"): lambda: rp.gini(ds, "income", by="urban", deff=True),
    }
    if importlib.util.find_spec("duckdb") is not None:
        import duckdb

        from remitpov.engines import duckdb as rdb

        con = duckdb.connect()
        con.register("persons", cols)
        dbs = rdb.survey(con, "persons", weight="w", strata="strata", psu="psu")
        runs[("duckdb (frame)", "FGT table")] = lambda: rdb.compare(dbs, INC, LINE, by="urban", total=True)
    with dask.config.set(scheduler="synchronous"):
        print(f"one partition, {rows:,} rows: {load()}", flush=True)
        from remitpov.engines.dask import units

        # the first estimator call on a DaskSurvey also finds its sampled units (once; reused after)
        t, c, _ = timed(lambda: units(DaskSurvey(cols, weight="w", strata="strata", psu="psu", npartitions=1)),
                        repeats)
        out.append({"rows": rows, "engine": "dask, 1 partition", "task": "units (once per DaskSurvey)",
                    "wall_s": t, "cpu_s": c})
        res = paired(runs, repeats)
        for (eng, task), (_, _, tab) in res.items():
            check(tab, res[("in memory", task)][2], f"{eng} {task}")
        peaks = {k: traced_peak(f) for k, f in runs.items()}
        print(f"  after: {load()}", flush=True)
    for (eng, task), (t, c, _) in res.items():
        base = res[("in memory", task)]
        out.append({"rows": rows, "engine": eng, "task": task, "wall_s": t, "cpu_s": c, "x_wall": t / base[0],
                    "x_cpu": c / base[1], "peak_MiB": peaks[eng, task] / 2**20,
                    "peak_x_columns": peaks[eng, task] / col_bytes})


def _warm_up():
    import remitpov.engines.dask  # noqa: F401  (what a worker imports to run its first task)


def cluster(rows: int, workers: int, out: list, memory_limit: str = "3GiB", duckdb: bool = True):
    """The 2-worker cluster run; cpu = the driver's plus the workers' CPU time."""
    import dask.dataframe as dd

    import remitpov as rp

    with tempfile.TemporaryDirectory(prefix="remitpov-engines-") as d:
        path = Path(d) / "census"
        write_dataset(path, rows)
        s = rp.Survey(read_rows(path), weight="w", strata="strata", psu="psu", unit="person")
        print(f"cluster, {rows:,} rows: {load()}", flush=True)
        mem = {"FGT table": timed(lambda: rp.compare(s, INC, LINE, by="urban", total=True)),
               "Gini + SE": timed(lambda: rp.gini(s, "income", by="urban", deff=True))}
        del s
        gc.collect()
        got = {}
        with local_cluster(workers, memory_limit) as client:
            client.run(_warm_up)  # the workers import remitpov once: not the cost of a call
            ds = dask_survey(dd.read_parquet(str(path)))
            from remitpov.engines.dask import units

            c0 = worker_cpu(client)
            t, c, _ = timed(lambda: units(ds))  # once per DaskSurvey (as building the in-memory Survey)
            out.append({"rows": rows, "engine": f"dask, {workers} workers", "task": "units (once per DaskSurvey)",
                        "wall_s": t, "cpu_s": c + worker_cpu(client) - c0})
            for task, fn in (("FGT table", lambda: rp.compare(ds, INC, LINE, by="urban", total=True)),
                             ("Gini + SE", lambda: rp.gini(ds, "income", by="urban", deff=True))):
                c0 = worker_cpu(client)
                t, c, tab = timed(fn)
                got[f"dask, {workers} workers", task] = (t, c + worker_cpu(client) - c0, tab)
        if duckdb and importlib.util.find_spec("duckdb") is not None:
            from remitpov.engines import duckdb as rdb

            dbs = rdb.survey(path, weight="w", strata="strata", psu="psu")
            dbs.con.execute("CREATE OR REPLACE TEMP VIEW rows0 AS SELECT *, income - remit AS y0 FROM "
                            + dbs.relation)
            dbs = rdb.survey(dbs.con, "rows0", weight="w", strata="strata", psu="psu")
            got["duckdb (Parquet)", "FGT table"] = timed(lambda: rdb.compare(dbs, INC, LINE, by="urban", total=True))
            got["duckdb (Parquet)", "Gini + SE"] = timed(lambda: rdb.gini(dbs, "income", by="urban"))
        print(f"  after: {load()}", flush=True)
        for (eng, task), (t, c, tab) in [(("in memory", k), v) for k, v in mem.items()] + list(got.items()):
            check(tab, mem[task][2], f"{eng} {task}")
            out.append({"rows": rows, "engine": eng, "task": task, "wall_s": t, "cpu_s": c, "x_wall": t / mem[task][0],
                        "x_cpu": c / mem[task][1], "peak_MiB": np.nan, "peak_x_columns": np.nan})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=float, nargs="*", default=[1e6], help="one-partition sizes (none: skip)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cluster-rows", type=float, default=1e7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-cluster", action="store_true")
    ap.add_argument("--no-duckdb", action="store_true", help="cluster run: leave out the DuckDB engine")
    ap.add_argument("--tiny", action="store_true", help="smoke run: 2e4 rows, one repeat, no cluster")
    a = ap.parse_args(argv)
    if a.tiny:
        a.sizes, a.repeats, a.no_cluster = [2e4], 1, True
    out: list = []
    for n in a.sizes:
        one_partition(int(n), a.repeats, out)
    if not a.no_cluster and importlib.util.find_spec("distributed") is not None:
        cluster(int(a.cluster_rows), a.workers, out, duckdb=not a.no_duckdb)
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

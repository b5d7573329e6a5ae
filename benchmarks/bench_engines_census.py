#!/usr/bin/env python
"""Census scale out of core: the DuckDB and the Dask engines on a Parquet dataset.

Writes (in files of 10^6 rows, never more in memory) the seeded synthetic census of
``dask_census.py`` with ``--rows`` rows (default 10^8; ~45 bytes a row on disk: the
disk's free space is checked first), then for each engine (``--engines``):

* the with/without FGT(0,1,2) table with SEs: total + urban/rural and the differences,
  ONE ``compare(..., by="urban", total=True)``;
* the Gini with its linearised SE by urban/rural.

The DuckDB engine runs inside this process with ``SET memory_limit`` (``--duckdb-memory``,
spilling to a temporary directory beyond it); the Dask engine on a ``LocalCluster`` of
``--workers`` workers x 1 thread with ``--memory-limit`` each (disk-backed shuffle). The
driver (this process) only ever holds one row per (stratum, PSU, domain); its peak RSS
is printed after each engine (DuckDB's buffers are in this process, so the DuckDB line
includes them). Both engines' estimates and SEs are asserted equal (1e-9 relative; each
equals the in-memory estimators to 1e-10 in tests/test_engines.py and
tests/test_engine_duckdb.py). The dataset is deleted at the end unless ``--keep``.

Run::

    python benchmarks/bench_engines_census.py --rows 1e8          # ~4.5 GB on disk
    python benchmarks/bench_engines_census.py --rows 3e7 --engines duckdb
    python benchmarks/bench_engines_census.py --tiny              # smoke run (the test suite's)
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

LINE = 250.0
INC = {"with": "income", "without": "y0"}
BYTES_PER_ROW = 60  # generous: the Parquet files take ~45


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def run_duckdb(path: Path, memory: str, tmpdir: str):
    from remitpov.engines import duckdb as rdb

    s = rdb.survey(path, weight="w", strata="strata", psu="psu", memory_limit=memory, temp_directory=tmpdir)
    s.con.execute(f"CREATE OR REPLACE TEMP VIEW census AS SELECT *, income - remit AS y0 FROM {s.relation}")
    s = rdb.survey(s.con, "census", weight="w", strata="strata", psu="psu")
    t = time.perf_counter()
    tab = rdb.compare(s, INC, LINE, by="urban", total=True)
    t_fgt = time.perf_counter() - t
    t = time.perf_counter()
    g = rdb.gini(s, "income", by="urban")
    t_gini = time.perf_counter() - t
    return tab, g, t_fgt, t_gini


def run_dask(path: Path, workers: int, memory_limit: str, sync: bool):
    import dask
    from distributed import Client, LocalCluster

    import remitpov as rp
    from remitpov.distributed import DaskSurvey

    client = None
    if sync:
        dask.config.set(scheduler="synchronous")
    else:
        client = Client(LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit=memory_limit,
                                     dashboard_address=None))
    try:
        ds = DaskSurvey(str(path), weight="w", strata="strata", psu="psu")
        ds = ds.assign(y0=ds.data["income"] - ds.data["remit"])
        t = time.perf_counter()
        tab = rp.compare(ds, INC, LINE, by="urban", total=True)
        t_fgt = time.perf_counter() - t
        t = time.perf_counter()
        g = rp.gini(ds, "income", by="urban")
        t_gini = time.perf_counter() - t
    finally:
        if client is not None:
            client.close()
    return tab, g, t_fgt, t_gini


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=float, default=1e8)
    ap.add_argument("--path", default=None, help="dataset folder (default: a new folder under /tmp)")
    ap.add_argument("--engines", nargs="+", default=["dask", "duckdb"], choices=["dask", "duckdb"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="3GiB", help="per Dask worker")
    ap.add_argument("--duckdb-memory", default="3GB", help="DuckDB's memory_limit")
    ap.add_argument("--keep", action="store_true", help="keep the dataset")
    ap.add_argument("--tiny", action="store_true", help="smoke run: 2e4 rows, synchronous Dask scheduler")
    a = ap.parse_args(argv)
    if a.tiny:
        a.rows = 2e4
    rows = int(a.rows)
    from dask_census import write_dataset

    base = Path(a.path) if a.path else Path(tempfile.mkdtemp(prefix="remitpov-census-engines-"))
    path = base / "census"
    free = shutil.disk_usage(base).free
    if not path.exists() and free < 2 * rows * BYTES_PER_ROW:
        raise SystemExit(f"not enough disk: {free / 2**30:.1f} GiB free under {base}, need ~"
                         f"{2 * rows * BYTES_PER_ROW / 2**30:.1f} GiB (data + spill)")
    results, tabs = [], {}
    try:
        if not path.exists():
            t = time.perf_counter()
            write_dataset(path, rows)
            size = sum(p.stat().st_size for p in path.glob("*.parquet"))
            print(f"wrote {rows:,} rows ({size / 2**30:.2f} GiB, {len(list(path.glob('*.parquet')))} files) in "
                  f"{time.perf_counter() - t:.1f} s; driver RSS {rss_mib():.0f} MiB", flush=True)
        for eng in a.engines:
            if eng == "dask":
                tab, g, tf, tg = run_dask(path, a.workers, a.memory_limit, a.tiny)
            else:
                spill = tempfile.mkdtemp(prefix="remitpov-duckdb-spill-", dir=base)
                tab, g, tf, tg = run_duckdb(path, a.duckdb_memory, spill)
            tabs[eng] = (tab, g)
            results.append({"rows": rows, "engine": eng, "FGT table s": tf, "Gini + SE s": tg,
                            "driver peak RSS MiB (so far)": rss_mib()})
            print(results[-1], flush=True)
        if len(tabs) == 2:
            for i, what in enumerate(("FGT table", "Gini")):
                fa, fb = tabs["dask"][i].to_frame(), tabs["duckdb"][i].to_frame()
                np.testing.assert_allclose(fa["estimate"], fb["estimate"], rtol=1e-9, err_msg=what)
                np.testing.assert_allclose(fa["se"], fb["se"], rtol=1e-9, err_msg=what)
            print("Dask and DuckDB agree (estimates and SEs, 1e-9)")
        eng = a.engines[-1]
        with pd.option_context("display.width", 140):
            print(tabs[eng][0].to_frame()[["measure", "concept", "urban", "estimate", "se"]].to_string(index=False))
            gcols = ["measure", "urban", "estimate", "se", "deff", "n_obs"]
            print(tabs[eng][1].to_frame()[gcols].to_string(index=False))
        print(pd.DataFrame(results).to_string(index=False))
    finally:
        if not a.keep:
            shutil.rmtree(path, ignore_errors=True)
            if a.path is None:
                shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

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
includes them), with wall and CPU time (the Dask line's CPU adds the workers') and the
machine's load average. Both engines' estimates and SEs are asserted equal (1e-9 relative; each
equals the in-memory estimators to 1e-10 in tests/test_engines.py and
tests/test_engine_duckdb.py). The dataset is deleted at the end unless ``--keep``.

Run::

    python benchmarks/bench_engines_census.py --rows 1e8          # ~4.5 GB on disk
    python benchmarks/bench_engines_census.py --rows 3e7 --engines duckdb
    python benchmarks/bench_engines_census.py --tiny              # smoke run (the test suite's)
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _engines_common import INC, LINE, dask_survey, load, local_cluster, rss_mib, timed, worker_cpu, write_dataset

BYTES_PER_ROW = 60  # generous: the Parquet files take ~19


def run_duckdb(path: Path, memory: str, tmpdir: str):
    """``{task: (wall, cpu, table)}`` of the DuckDB engine (in this process)."""
    from remitpov.engines import duckdb as rdb

    s = rdb.survey(path, weight="w", strata="strata", psu="psu", memory_limit=memory, temp_directory=tmpdir)
    s.con.execute(f"CREATE OR REPLACE TEMP VIEW census AS SELECT *, income - remit AS y0 FROM {s.relation}")
    s = rdb.survey(s.con, "census", weight="w", strata="strata", psu="psu")
    return {"FGT table": timed(lambda: rdb.compare(s, INC, LINE, by="urban", total=True)),
            "Gini + SE": timed(lambda: rdb.gini(s, "income", by="urban"))}


def run_dask(path: Path, workers: int, memory_limit: str, sync: bool, tasks):
    """``{task: (wall, cpu, table)}`` of the Dask engine; cpu = driver + workers."""
    import dask

    import remitpov as rp

    calls = {"FGT table": lambda ds: rp.compare(ds, INC, LINE, by="urban", total=True),
             "Gini + SE": lambda ds: rp.gini(ds, "income", by="urban")}
    out = {}
    with (dask.config.set(scheduler="synchronous") if sync else local_cluster(workers, memory_limit)) as client:
        client = None if sync else client
        ds = dask_survey(path)
        for task in tasks:
            c0 = worker_cpu(client)
            t, c, tab = timed(lambda: calls[task](ds))
            out[task] = (t, c + worker_cpu(client) - c0, tab)
            print(f"  dask {task}: wall {t:.1f} s, cpu {out[task][1]:.1f} s, driver peak RSS {rss_mib():.0f} MiB, "
                  f"{load()}", flush=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=float, default=1e8)
    ap.add_argument("--path", default=None, help="dataset folder (default: a new folder under /tmp)")
    ap.add_argument("--engines", nargs="+", default=["dask", "duckdb"], choices=["dask", "duckdb"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="3GiB", help="per Dask worker")
    ap.add_argument("--duckdb-memory", default="3GB", help="DuckDB's memory_limit")
    ap.add_argument("--keep", action="store_true", help="keep the dataset")
    ap.add_argument("--tasks", nargs="+", default=["FGT table", "Gini + SE"], choices=["FGT table", "Gini + SE"],
                    help="what the Dask engine runs (DuckDB runs both)")
    ap.add_argument("--tiny", action="store_true", help="smoke run: 2e4 rows, synchronous Dask scheduler")
    a = ap.parse_args(argv)
    if a.tiny:
        a.rows = 2e4
    rows = int(a.rows)
    base = Path(a.path) if a.path else Path(tempfile.mkdtemp(prefix="remitpov-census-engines-"))
    path = base / "census"
    base.mkdir(parents=True, exist_ok=True)  # --path may name a folder that does not exist yet
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
        print(f"start: {load()}", flush=True)
        for eng in a.engines:
            if eng == "dask":
                got = run_dask(path, a.workers, a.memory_limit, a.tiny, a.tasks)
            else:
                spill = tempfile.mkdtemp(prefix="remitpov-duckdb-spill-", dir=base)
                got = run_duckdb(path, a.duckdb_memory, spill)
            tabs[eng] = got
            for task, (t, c, _) in got.items():
                results.append({"rows": rows, "engine": eng, "task": task, "wall s": t, "cpu s": c,
                                "driver peak RSS MiB (so far)": rss_mib()})
            print(f"{eng} done: {load()}", flush=True)
        if len(tabs) == 2:
            for task in set(tabs["dask"]) & set(tabs["duckdb"]):
                fa, fb = tabs["dask"][task][2].to_frame(), tabs["duckdb"][task][2].to_frame()
                np.testing.assert_allclose(fa["estimate"], fb["estimate"], rtol=1e-9, err_msg=task)
                np.testing.assert_allclose(fa["se"], fb["se"], rtol=1e-9, err_msg=task)
            print("Dask and DuckDB agree (estimates and SEs, 1e-9)")
        got = tabs[a.engines[-1]]
        with pd.option_context("display.width", 140):
            if "FGT table" in got:
                print(got["FGT table"][2].to_frame()[["measure", "concept", "urban", "estimate", "se"]]
                      .to_string(index=False))
            if "Gini + SE" in got:
                print(got["Gini + SE"][2].to_frame()[["measure", "urban", "estimate", "se", "deff", "n_obs"]]
                      .to_string(index=False))
        print(pd.DataFrame(results).to_string(index=False))
    finally:
        if not a.keep:
            shutil.rmtree(path, ignore_errors=True)
            if a.path is None:
                shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Census-scale poverty and inequality on a Dask cluster, with bounded memory.

What it does
------------
1. Writes (once) a seeded synthetic person-level census sample as a Parquet dataset of
   ``--rows`` rows (default 10^7) in files of 10^6 rows -- generated file by file, so
   writing it never holds more than one file in memory. Columns: ``strata``, ``psu``
   (10,000 PSUs in 200 strata), ``w``, ``income``, ``remit``, ``urban``.
2. Starts a local Dask cluster (2 workers x 1 thread, ``--memory-limit`` each; workers
   spill to disk beyond it) -- or connects to an existing one with ``--scheduler``.
3. Runs, with :mod:`remitpov.distributed`, reading only the needed columns:
   * FGT(0,1,2) with and without remittances and their difference, total and by
     urban/rural, with linearised SEs (PSU sufficient statistics, one reduction);
   * the Gini with its linearised SE (exact: bucketed ranks + one shuffle);
   * exact weighted deciles (two passes, no shuffle).

Memory stays bounded: each task holds one Parquet file's columns (~10^6 rows); what
travels to the driver is one row per (stratum, PSU, domain) -- about 20,000 rows,
whatever the number of persons. Peak driver memory is printed at the end.

Run it::

    python benchmarks/dask_census.py                       # 1e7 rows, local cluster
    python benchmarks/dask_census.py --rows 2e6            # smaller try-out
    python benchmarks/dask_census.py --tiny                # smoke run (the test suite's), seconds
    python benchmarks/dask_census.py --path /data/census.parquet --scheduler tcp://scheduler:8786

A multi-machine cluster
-----------------------
The same code runs unchanged on several machines: start a scheduler and workers
(``dask scheduler`` on one host, ``dask worker tcp://scheduler:8786 --nthreads 1
--memory-limit 8GiB`` on each), put the Parquet dataset where every worker can read it
(a shared file system, or object storage such as ``s3://bucket/census/`` with ``s3fs``
installed), and connect the client instead of creating a LocalCluster::

    from distributed import Client
    client = Client("tcp://scheduler:8786")   # every dask computation now runs there
    ds = DaskSurvey("s3://bucket/census/", weight="w", strata="strata", psu="psu")
    compare(ds, {"with": "income", "without": "y_norem"}, line=250.0, by="urban")

(``--scheduler tcp://scheduler:8786`` does exactly that here.) Nothing else changes:
remitpov.distributed builds ordinary Dask graphs and computes them on the active client.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

N_PSU, N_STRATA, CHUNK = 10_000, 200, 1_000_000


def write_dataset(path: Path, rows: int, seed: int = 11) -> None:
    """Write the synthetic census as Parquet files of CHUNK rows (bounded memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.mkdir(parents=True, exist_ok=True)
    done = 0
    k = 0
    while done < rows:
        m = min(CHUNK, rows - done)
        rng = np.random.default_rng([seed, k])
        psu = np.sort(rng.integers(0, N_PSU, m))
        if k == 0:
            psu[: min(N_PSU, m)] = np.arange(min(N_PSU, m))  # every PSU present
            psu.sort()
        income = rng.lognormal(6.0, 1.0, m)
        income[rng.random(m) < 0.03] = 0.0
        df = pd.DataFrame({
            "strata": psu // (N_PSU // N_STRATA), "psu": psu, "w": rng.lognormal(5.0, 0.6, m), "income": income,
            "remit": np.where(rng.random(m) < 0.15, rng.lognormal(4.5, 1.0, m), 0.0),
            "urban": (rng.random(m) < np.where(psu % 3 == 0, 0.8, 0.5)).astype(np.int64)})
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path / f"part-{k:04d}.parquet")
        done += m
        k += 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=float, default=1e7)
    ap.add_argument("--path", default=None, help="Parquet dataset (default: /tmp/remitpov_census_<rows>.parquet)")
    ap.add_argument("--scheduler", default=None, help="address of an existing cluster, e.g. tcp://scheduler:8786")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="3GiB", help="per local worker (spills to disk beyond)")
    ap.add_argument("--line", type=float, default=250.0)
    ap.add_argument("--tiny", action="store_true",
                    help="smoke run: 20,000 rows in a temporary folder, Dask's synchronous scheduler (no cluster)")
    a = ap.parse_args(argv)
    if a.tiny:
        a.rows, a.scheduler = 2e4, "sync"
    rows = int(a.rows)

    from distributed import Client, LocalCluster

    from remitpov.distributed import DaskSurvey, compare, gini, quantile

    tmp = None
    if a.tiny and a.path is None:
        import tempfile

        tmp = tempfile.TemporaryDirectory(prefix="remitpov-census-")
        a.path = str(Path(tmp.name) / "census.parquet")
    path = Path(a.path or f"/tmp/remitpov_census_{rows}.parquet")
    if not path.exists():
        t = time.perf_counter()
        write_dataset(path, rows)
        print(f"wrote {rows:,} rows to {path} in {time.perf_counter() - t:.1f} s")
    cluster = None
    if a.scheduler == "sync":  # no cluster: every task in this process
        import dask

        dask.config.set(scheduler="synchronous")
        client = None
    elif a.scheduler:
        client = Client(a.scheduler)
    else:
        cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, memory_limit=a.memory_limit,
                               dashboard_address=None)
        client = Client(cluster)
    print(client if client is not None else "dask: synchronous scheduler (no cluster)")
    ds = DaskSurvey(str(path), weight="w", strata="strata", psu="psu")
    ds = ds.assign(y_norem=ds.data["income"] - ds.data["remit"])  # counterfactual: without remittances
    inc = {"with": "income", "without": "y_norem"}

    t = time.perf_counter()
    tab = compare(ds, inc, a.line, by="urban", deff=True)  # design effects are opt-in (R survey's default)
    tot = compare(ds, inc, a.line, deff=True)
    t_fgt = time.perf_counter() - t
    t = time.perf_counter()
    g = gini(ds, "income", by="urban")
    t_gini = time.perf_counter() - t
    t = time.perf_counter()
    q = quantile(ds, "income", np.arange(1, 10) / 10)
    t_q = time.perf_counter() - t
    cols = ["measure", "concept", "urban", "estimate", "se", "deff"]
    with pd.option_context("display.width", 120, "display.max_rows", 60):
        print(tot.to_frame()[[c for c in cols if c != "urban"]].to_string(index=False))
        print(tab.to_frame()[cols].to_string(index=False))
        print(g.to_frame()[["measure", "urban", "estimate", "se", "deff", "n_obs"]].to_string(index=False))
        print(q.to_frame()[["p", "estimate"]].T.to_string(header=False))
    print(f"\n{rows:,} rows: FGT with/without + differences (total and urban/rural) {t_fgt:.1f} s; "
          f"Gini + SE by urban {t_gini:.1f} s; 9 exact deciles {t_q:.1f} s")
    print(f"driver peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB "
          f"(columns read: {rows * 6 * 8 / 2**20:.0f} MiB in total)")
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()  # workers before the scheduler (else a heartbeat may log a CommClosedError at exit)
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()

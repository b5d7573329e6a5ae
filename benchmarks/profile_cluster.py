#!/usr/bin/env python
"""Where the time of the Dask engine goes on a local cluster (issue #17, item "2 workers").

Writes the synthetic census of ``dask_census.py`` as Parquet (``--rows``, files of
``--file-rows``), then on a ``LocalCluster`` of ``--workers`` workers x 1 thread times the
FGT table (first call: finds the sampled units too; second call: units cached) and the
Gini + SE, next to the in-memory estimators on the same rows (read first, not timed).
For every call it prints

* wall time, the driver's CPU time and the workers' CPU time (``getrusage`` on each
  worker), and the ``uptime`` load average (the machine may be shared);
* the time the workers take to import remitpov (``client.run``, before any call: a
  first call would otherwise pay it);
* the workers' CPU time while idle for 2 s (heartbeats, monitoring: part of every call's
  workers' CPU);
* the Dask task stream summed by task name: number of tasks, compute seconds, seconds
  spent transferring inputs between workers, bytes of the results -- so the time that is
  not task compute (driver: graph building and optimisation, scheduler round trips) is
  the wall time minus the critical path of the tasks.

Estimates and SEs are asserted equal to the in-memory ones (1e-10) before anything is
printed. Timings are printed, never asserted.

Run::

    python benchmarks/profile_cluster.py --rows 2e6 --file-rows 2e5     # 10 partitions of 2x10^5
    python benchmarks/profile_cluster.py --rows 2e6                     # 2 partitions of 10^6
    python benchmarks/profile_cluster.py --tiny                         # smoke run (the test suite's)
"""
from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

import dask_census
from _engines_common import (INC, LINE, check, dask_survey, load, local_cluster, read_rows, timed, worker_cpu,
                             write_dataset)


def stream_summary(records) -> pd.DataFrame:
    """Task-stream records -> one row per task name: tasks, compute s, transfer s, result MiB."""
    from distributed.utils import key_split

    acc: dict = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for r in records:
        a = acc[key_split(r["key"])]
        a[0] += 1
        for ss in r.get("startstops", ()):
            if ss["action"] == "compute":
                a[1] += ss["stop"] - ss["start"]
            elif ss["action"] == "transfer":
                a[2] += ss["stop"] - ss["start"]
        a[3] += r.get("nbytes", 0) / 2**20 if isinstance(r.get("nbytes"), (int, float)) else 0.0
    out = pd.DataFrame([(k, *v) for k, v in acc.items()], columns=["task", "n", "compute_s", "transfer_s",
                                                                    "result_MiB"])
    return out.sort_values("compute_s", ascending=False, ignore_index=True)


def _warm_up():
    import remitpov.engines.dask  # noqa: F401  (what a worker imports to run the first task)


def profile(rows: int, file_rows: int, workers: int, memory_limit: str = "3GiB"):
    import dask.dataframe as dd
    from distributed import get_task_stream

    import remitpov as rp

    dask_census.CHUNK = file_rows  # rows per Parquet file = rows per partition
    with tempfile.TemporaryDirectory(prefix="remitpov-profile-") as d:
        path = Path(d) / "census"
        write_dataset(path, rows)
        s = rp.Survey(read_rows(path), weight="w", strata="strata", psu="psu", unit="person")
        calls = {"FGT table": lambda x: rp.compare(x, INC, LINE, by="urban", total=True),
                 "Gini + SE": lambda x: rp.gini(x, "income", by="urban", deff=True)}
        print(f"{rows:,} rows in {-(-rows // file_rows)} files of {file_rows:,}; {workers} workers x 1 thread; "
              f"{load()}", flush=True)
        mem = {k: timed(lambda f=f: f(s)) for k, f in calls.items()}
        del s
        table = [("in memory", k, w, c, np.nan, np.nan) for k, (w, c, _) in mem.items()]
        streams = {}
        with local_cluster(workers, memory_limit) as client:
            t, c, _ = timed(lambda: client.run(_warm_up))  # the workers import remitpov (once per process)
            table.append((f"dask, {workers} workers", "workers import remitpov (not a call)", t, c, np.nan, np.nan))
            c0 = worker_cpu(client)
            time.sleep(2.0)
            table.append((f"dask, {workers} workers", "idle 2 s (workers' own overhead)", 2.0, np.nan,
                          worker_cpu(client) - c0, np.nan))
            ds = dask_survey(dd.read_parquet(str(path)))
            for name, key in (("FGT table, 1st call (finds the units)", "FGT table"),
                              ("FGT table, 2nd call", "FGT table"), ("Gini + SE", "Gini + SE")):
                c0 = worker_cpu(client)
                with get_task_stream(client) as ts:
                    t, c, tab = timed(lambda k=key: calls[k](ds))
                wc = worker_cpu(client) - c0
                check(tab, mem[key][2], name)
                streams[name] = stream_summary(ts.data)
                crit = streams[name]["compute_s"].sum() / workers
                table.append((f"dask, {workers} workers", name, t, c, wc, crit))
        print(f"  after: {load()}", flush=True)
    res = pd.DataFrame(table, columns=["engine", "call", "wall_s", "driver_cpu_s", "workers_cpu_s",
                                       "task_compute_s_per_worker"])
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        print(res.to_string(index=False))
        for name, st in streams.items():
            print(f"\ntask stream, {name}:")
            print(st.to_string(index=False))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=float, default=2e6)
    ap.add_argument("--file-rows", type=float, default=1e6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tiny", action="store_true", help="smoke run: 2e4 rows in 2 files")
    a = ap.parse_args(argv)
    if a.tiny:
        a.rows, a.file_rows = 2e4, 1e4
    t0 = time.perf_counter()
    profile(int(a.rows), int(a.file_rows), a.workers)
    print(f"\ntotal wall {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()

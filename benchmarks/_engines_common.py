"""Set-up shared by the engine benchmarks (``bench_engines.py``, ``bench_engines_census.py``).

Not a benchmark itself (the leading underscore keeps it out of ``tests/test_benchmarks.py``):
the data (the seeded synthetic census of ``dask_census.py``), the FGT table and Gini calls
every engine runs, the timers (wall and CPU, minimum over repeats), the equality check of
two tables, and what describes a run (load average, peak RSS, CPU time of Dask workers).
"""
from __future__ import annotations

import contextlib
import gc
import logging
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
for _p in (str(HERE.parent), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from dask_census import write_dataset  # noqa: E402  (after the path set-up)

__all__ = ["LINE", "INC", "write_dataset", "frame", "read_rows", "timed", "check", "rss_mib", "load",
           "worker_cpu", "dask_survey", "local_cluster"]

#: the poverty line and the two income concepts of every engine benchmark
LINE = 250.0
INC = {"with": "income", "without": "y0"}


def read_rows(path: Path) -> pd.DataFrame:
    """The Parquet files of a dataset in memory, with the counterfactual income ``y0``."""
    df = pd.concat([pd.read_parquet(p) for p in sorted(Path(path).glob("*.parquet"))], ignore_index=True)
    df["y0"] = df["income"] - df["remit"]
    return df


def frame(rows: int, seed: int = 11) -> pd.DataFrame:
    """The census rows of :func:`dask_census.write_dataset`, in memory, with ``y0``."""
    with tempfile.TemporaryDirectory() as d:
        write_dataset(Path(d), rows, seed)
        return read_rows(Path(d))


def dask_survey(data):
    """The benchmarks' DaskSurvey (strata, PSU, weights) of a Parquet path or a Dask frame, with ``y0``."""
    from remitpov.distributed import DaskSurvey

    ds = DaskSurvey(data if not isinstance(data, Path) else str(data), weight="w", strata="strata", psu="psu")
    return ds.assign(y0=ds.data["income"] - ds.data["remit"])


def timed(fn, repeats: int = 1):
    """``(wall s, cpu s, result)``: minima over ``repeats`` runs (other jobs only ever add time);
    cpu = this process's user + system time."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        gc.collect()
        c, t = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus), out


def check(a, b, what: str, rtol: float = 1e-10):
    """Estimates and SEs of two tables equal to ``rtol`` (the engines' contract)."""
    fa, fb = a.to_frame(), b.to_frame()
    np.testing.assert_allclose(fa["estimate"], fb["estimate"], rtol=rtol, err_msg=what)
    np.testing.assert_allclose(fa["se"], fb["se"], rtol=rtol, err_msg=what)


def rss_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def load() -> str:
    """The 1/5/15-minute load averages (the machine is shared: say it next to wall times)."""
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def _cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def worker_cpu(client) -> float:
    """CPU seconds (user + system) used so far by the Dask workers of ``client`` (0 without one)."""
    return float(sum(client.run(_cpu_self).values())) if client is not None else 0.0


@contextlib.contextmanager
def local_cluster(workers: int, memory_limit: str = "3GiB"):
    """A ``distributed`` client on a ``LocalCluster`` of ``workers`` processes x 1 thread.

    On exit the client is closed, then the cluster (workers before the scheduler). Closing
    only the client leaves the cluster to the interpreter's exit, where a worker's heartbeat
    can meet a scheduler already gone and ``distributed`` logs a ``CommClosedError``
    traceback on stderr (harmless, but it reads as a crash and fails the smoke test).
    ``distributed``'s own log is kept to errors during the shutdown.
    """
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit=memory_limit,
                           dashboard_address=None)
    client = Client(cluster)
    try:
        yield client
    finally:
        log = logging.getLogger("distributed")
        level = log.level
        log.setLevel(logging.CRITICAL)
        try:
            client.close()
            cluster.close()
        finally:
            log.setLevel(level)

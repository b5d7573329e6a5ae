"""Census-scale migration tabulations in memory and through Dask on Parquet: time, memory, scaling.

    python benchmarks/bench_census.py                       # 10^6 and 10^7 persons, both paths
    python benchmarks/bench_census.py --sizes 1e6           # one size
    python benchmarks/bench_census.py --parquet-sizes 1e6   # the Dask/Parquet path at 10^6 only
    python benchmarks/bench_census.py --parquet-sizes       # no Dask/Parquet path
    python benchmarks/bench_census.py --tiny                # smoke run (a few thousand rows, no cluster)

For each size: the synthetic IMILA-like census (6 countries' censuses, 30 strata,
enumeration areas of 50 persons, fpc) is generated in memory, then each design-based
tabulation with SEs (``remitpov.migration.census``) is timed:

* immigrant stocks by census country x origin, by origin x sex, and by origin x sex x
  education (the three-way ``by=("birth_country", "sex", "education")``: mixed-radix
  domain codes of the three columns);
* the sex ratio, the share with tertiary education, the age structure (5 groups);
* Docquier-Marfouk emigration rates from the censuses alone (all persons 25+, and the
  tertiary-educated), and by education level with the origins' resident population given
  (``emigration_rates_by_education``; the residents table is the census's own weighted
  count of natives 25+ by education, built once and not timed). The rates by education (a
  DataFrame, not a table of estimates) run in memory only.

The Dask/Parquet path writes the same census to a Parquet dataset in files of
``--file-rows`` rows (plain string columns, as a Parquet export holds them) in a temporary
directory -- after checking the free disk with ``shutil.disk_usage`` -- and deleted after;
then runs the six tabulations and the two emigration rates (``dask_census`` on the Parquet path) on a
``LocalCluster`` of ``--workers`` worker processes x 1 thread (the synchronous scheduler under
``--tiny``), and ASSERTS estimates and SEs equal to the in-memory ones to 1e-10 (relative;
rows matched on their keys). The workers import remitpov and the sampled units of the
DaskSurvey are found before the tabulations are timed (reported as their own rows).

Printed: one table (size, path, tabulation, estimates, wall s, CPU s -- this process plus the
Dask workers' --, peak RSS MiB during the call -- this process plus each worker's peak --,
1-minute load average after the call) and, for two or more sizes, the CPU scaling factor of
each (path, tabulation) from the smallest to the largest size (ratio of CPU seconds; 10.0 is
linear for a 10x step). On a shared machine the CPU seconds are the measure to compare.
Timings are measurements, not tests.
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from remitpov.migration import census as mc  # noqa: E402

#: estimates and SEs of the Dask path equal the in-memory ones to this (same sums in another order)
RTOL = 1e-10
#: Parquet bytes per census row, generous (the files take ~15-20); disk needed = 3x the dataset
BYTES_PER_ROW = 40
LABELS = ("census_country", "birth_country", "sex", "education")

#: the tabulations both paths run: name -> (estimator call on a census, key columns of its table)
BOTH = {
    "stock by country x origin": (lambda c: mc.immigrant_stock(c), ["census_country", "birth_country"]),
    "stock by origin x sex": (lambda c: mc.immigrant_stock(c, by=("birth_country", "sex")),
                              ["birth_country", "sex"]),
    "stock by origin x sex x education": (
        lambda c: mc.immigrant_stock(c, by=("birth_country", "sex", "education")),
        ["birth_country", "sex", "education"]),
    "sex ratio": (lambda c: mc.sex_ratio(c), ["census_country", "birth_country"]),
    "tertiary share": (lambda c: mc.tertiary_share(c), ["census_country", "birth_country"]),
    "age structure (5 groups)": (lambda c: mc.age_structure(c), ["census_country", "birth_country", "variable"]),
    "DM emigration rate, 25+": (lambda c: mc.emigration_rate(c), ["birth_country"]),
    "DM emigration rate, tertiary 25+": (lambda c: mc.emigration_rate(c, education="tertiary"), ["birth_country"]),
}


def _residents(cen) -> pd.DataFrame:
    """Natives aged 25+ by census country and education (weighted): the residents table of
    ``emigration_rates_by_education`` (benchmark input, not timed)."""
    d = cen.data
    nat = (d["birth_country"].astype(str) == d["census_country"].astype(str)) & (d["age"] >= 25)
    r = d.loc[nat].groupby(["census_country", "education"], observed=True)["weight"].sum().reset_index()
    return r.rename(columns={"census_country": "origin", "weight": "residents"}).astype(
        {"origin": str, "education": str})


def memory_only(cen) -> dict:
    res = _residents(cen)
    return {"DM rates by education (residents given)": lambda c: mc.emigration_rates_by_education(c, res)}


# --- measuring: CPU of this process and of the workers, peak RSS per call (Linux: VmHWM reset) ---

def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _reset_peak() -> None:
    try:  # Linux >= 4.0: "5" resets the peak resident set size (VmHWM) of the process
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_mib() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak so far (no reset)


def _warm_up() -> None:
    import remitpov.engines.dask  # noqa: F401  (what a worker imports for its first task)


def timed(fn, client=None) -> tuple[float, float, float, object]:
    """``(wall s, cpu s, peak MiB, result)`` of one call; cpu and peak include the workers."""
    gc.collect()
    _reset_peak()
    w0 = sum(client.run(_cpu).values()) if client is not None else 0.0
    if client is not None:
        client.run(_reset_peak)
    c, t = _cpu(), time.perf_counter()
    out = fn()
    wall, cpu = time.perf_counter() - t, _cpu() - c
    peak = _peak_mib()
    if client is not None:
        cpu += sum(client.run(_cpu).values()) - w0
        peak += sum(client.run(_peak_mib).values())
    return wall, cpu, peak, out


def same(a, b, keys: list[str], what: str) -> None:
    """Estimates and SEs of the in-memory table ``a`` and the Dask table ``b`` equal to RTOL."""
    fa, fb = a.to_frame(), b.to_frame()
    for f in (fa, fb):
        f[keys] = f[keys].astype(str)
    m = fa.merge(fb, on=keys, suffixes=("_m", "_d"), how="outer", indicator=True)
    if not (m["_merge"] == "both").all():
        raise AssertionError(f"{what}: rows on one path only:\n{m.loc[m['_merge'] != 'both', keys].head()}")
    np.testing.assert_allclose(m["estimate_d"], m["estimate_m"], rtol=RTOL, err_msg=what)
    np.testing.assert_allclose(m["se_d"], m["se_m"], rtol=RTOL, err_msg=what)


# --- the two paths ---

def write_parquet(df: pd.DataFrame, path: Path, file_rows: int) -> None:
    """The census in Parquet files of ``file_rows`` rows, label columns as plain strings."""
    path.mkdir(parents=True)
    for k, i in enumerate(range(0, len(df), file_rows)):
        part = df.iloc[i:i + file_rows]
        part = part.assign(**{c: part[c].astype(str) for c in LABELS})
        part.to_parquet(path / f"part-{k:05d}.parquet", index=False)


def in_memory(cen, n: int, rows: list) -> dict:
    tabs = {}
    calls = {k: f for k, (f, _) in BOTH.items()} | memory_only(cen)
    for name, f in calls.items():
        wall, cpu, peak, tab = timed(lambda: f(cen))
        tabs[name] = tab
        rows.append((n, "memory", name, len(tab.estimates) if hasattr(tab, "estimates") else len(tab),
                     wall, cpu, peak, os.getloadavg()[0]))
    return tabs


def through_dask(path: Path, n: int, tabs: dict, rows: list, workers: int, memory_limit: str, sync: bool) -> None:
    import dask

    from remitpov.engines.dask import units
    from remitpov.migration.census_dask import dask_census

    client = cluster = None
    if sync:
        dask.config.set(scheduler="synchronous")
    else:
        from distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit=memory_limit,
                               dashboard_address=None)
        client = Client(cluster)
        client.run(_warm_up)  # the workers import remitpov once: not the cost of a tabulation
    label = "dask/parquet, " + ("synchronous" if sync else f"{workers} workers")
    try:
        dc = dask_census(str(path), birth_country="birth_country", census_country="census_country",
                         weight="weight", strata="stratum", psu="psu", fpc="fpc", sex="sex", age="age",
                         education="education")
        wall, cpu, peak, _ = timed(lambda: units(dc.survey), client)  # once per DaskSurvey
        rows.append((n, label, "(sampled units, once)", "", wall, cpu, peak, os.getloadavg()[0]))
        for name, (f, keys) in BOTH.items():
            wall, cpu, peak, tab = timed(lambda: f(dc), client)
            same(tabs[name], tab, keys, f"{name} at {n:,} persons")
            rows.append((n, label, name, len(tab.estimates), wall, cpu, peak, os.getloadavg()[0]))
    finally:
        if client is not None:
            client.close()
            cluster.close()
        if sync:
            dask.config.set(scheduler=None)


def run(n: int, parquet: bool, a) -> list[tuple]:
    rows: list[tuple] = []
    wall, cpu, peak, cen = timed(lambda: mc.synthetic_census(persons_per_country=max(n // 6, 1000), seed=1))
    n = cen.n
    cols = cen.data.memory_usage(deep=True).sum() / 2**20
    rows.append((n, "memory", f"generate (columns {cols:,.0f} MiB)", "", wall, cpu, peak, os.getloadavg()[0]))
    tmp = None
    try:
        if parquet:
            base = Path(a.tmpdir or tempfile.gettempdir())
            free, need = shutil.disk_usage(base).free, 3 * n * BYTES_PER_ROW
            if free < need:
                print(f"skipping the Parquet path at {n:,}: {free / 2**30:.1f} GiB free under {base}, "
                      f"need ~{need / 2**30:.1f} GiB", flush=True)
                parquet = False
            else:
                tmp = Path(tempfile.mkdtemp(prefix="remitpov-bench-census-", dir=base))
                wall, cpu, peak, _ = timed(lambda: write_parquet(cen.data, tmp / "census", a.file_rows))
                size = sum(p.stat().st_size for p in (tmp / "census").glob("*.parquet")) / 2**20
                rows.append((n, "parquet", f"write ({size:,.0f} MiB on disk)", "", wall, cpu, peak,
                             os.getloadavg()[0]))
        tabs = in_memory(cen, n, rows)
        del cen
        gc.collect()
        if parquet:
            through_dask(tmp / "census", n, tabs, rows, a.workers, a.memory_limit, sync=a.tiny)
            print(f"{n:,} persons: Dask/Parquet estimates and SEs equal the in-memory ones to {RTOL:g}", flush=True)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return rows


def table(rows: list[tuple]) -> None:
    hdr = ("persons", "path", "tabulation", "estimates", "wall s", "cpu s", "peak RSS MiB", "load")
    print("\n| " + " | ".join(hdr) + " |\n|" + "---|" * len(hdr))
    for n, path, name, k, wall, cpu, peak, ld in rows:
        print(f"| {n:,} | {path} | {name} | {k} | {wall:.2f} | {cpu:.2f} | {peak:,.0f} | {ld:.1f} |", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", default=["1e6", "1e7"], help="census persons (in memory)")
    ap.add_argument("--parquet-sizes", nargs="*", default=None,
                    help="sizes that also run through Dask on Parquet (default: all of --sizes)")
    ap.add_argument("--file-rows", type=int, default=1_000_000, help="rows per Parquet file")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="3GiB", help="per Dask worker")
    ap.add_argument("--tmpdir", default=None, help="where the Parquet dataset is written (then deleted)")
    ap.add_argument("--tiny", action="store_true", help="smoke run: 6,000 persons, synchronous Dask scheduler")
    a = ap.parse_args(argv)
    has_dask = all(importlib.util.find_spec(m) is not None for m in ("dask", "distributed", "pyarrow"))
    if a.tiny:
        sizes, psizes, a.file_rows = [6000], {6000}, 2500
    else:
        sizes = [int(float(s)) for s in a.sizes]
        psizes = set(sizes) if a.parquet_sizes is None else {int(float(s)) for s in a.parquet_sizes}
    if psizes and not has_dask:
        print("dask, distributed or pyarrow not installed: in-memory path only (pip install -e '.[dask]')")
        psizes = set()
    print(f"start: load {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs", flush=True)
    rows = []
    for n in sizes:
        rows += run(n, n in psizes, a)
        table([r for r in rows if r[0] == rows[-1][0]])
    if len(sizes) > 1:
        table(rows)
    done = sorted({r[0] for r in rows})
    if len(done) >= 2:
        lo, hi = done[0], done[-1]
        cpu = {(r[0], r[1].split(",")[0], r[2]): r[5] for r in rows}
        print(f"\nCPU scaling {lo:,} -> {hi:,} persons (x{hi / lo:.1f} rows): cpu({hi:,}) / cpu({lo:,})\n")
        print("| path | tabulation | cpu s small | cpu s large | factor |\n|---|---|---:|---:|---:|")
        for (n, path, name), c in cpu.items():
            if n == lo and (hi, path, name) in cpu and not name.startswith(("generate", "write")):
                big = cpu[hi, path, name]
                print(f"| {path} | {name} | {c:.2f} | {big:.2f} | {big / c if c > 0 else float('nan'):.1f} |")


if __name__ == "__main__":
    main()

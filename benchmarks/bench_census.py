"""Census-scale migration tabulations in memory: time and peak memory by size.

    python benchmarks/bench_census.py                 # 10^6 and 10^7 persons
    python benchmarks/bench_census.py --sizes 1e6     # one size
    python benchmarks/bench_census.py --tiny          # smoke run (a few thousand rows)
    python benchmarks/bench_census.py --sizes 1e7 --dask   # also through Dask (2 local workers)

For each size: generating the synthetic IMILA-like census (6 countries' censuses), then
each design-based tabulation with SEs (strata x enumeration areas, fpc): immigrant stocks
by census country x origin, by origin x sex, the sex ratio, the share with tertiary
education and the age structure. Prints a table (seconds; peak resident memory of the
process in MiB, and the census's own column memory). Wall and CPU (process) seconds
are both shown: on a shared machine the CPU time is the steadier one. Timings are
measurements, not tests; run on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from remitpov.migration import census as mc  # noqa: E402


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_dask(cen, n: int, partitions: int) -> list[tuple]:
    """The same tabulations through the distributed engine (2-worker local cluster)."""
    import distributed

    from remitpov.migration.census_dask import dask_census

    d = cen.data
    plain = d.assign(**{c: d[c].astype(str) for c in ("census_country", "birth_country", "sex", "education")})
    dc = dask_census(plain, birth_country="birth_country", census_country="census_country", weight="weight",
                     strata="stratum", psu="psu", fpc="fpc", sex="sex", age="age", education="education",
                     npartitions=partitions)
    rows = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            distributed.Client(cl):
        dc = type(dc)(dc.survey.__class__(dc.survey.data.persist(), dc.survey.weight, strata=dc.survey.strata,
                                          psu=dc.survey.psu, fpc=dc.survey.fpc, lonely_psu=dc.survey.lonely_psu),
                      dc.roles)
        for name, f in {"dask: stock by country x origin": lambda: mc.immigrant_stock(dc),
                        "dask: stock by origin x sex": lambda: mc.immigrant_stock(dc, by=("birth_country", "sex")),
                        "dask: tertiary share": lambda: mc.tertiary_share(dc)}.items():
            t, c = time.perf_counter(), time.process_time()
            tab = f()
            rows.append((name, n, time.perf_counter() - t, len(tab.estimates), time.process_time() - c))
    return rows


def run(n: int, dask: bool = False) -> list[tuple]:
    per = max(n // 6, 1000)
    rows = []
    t, c = time.perf_counter(), time.process_time()
    cen = mc.synthetic_census(persons_per_country=per, seed=1)
    rows.append(("generate", n, time.perf_counter() - t, "", time.process_time() - c))
    cols_mib = cen.data.memory_usage(deep=True).sum() / 2**20
    tasks = {
        "stock by country x origin": lambda: mc.immigrant_stock(cen),
        "stock by origin x sex": lambda: mc.immigrant_stock(cen, by=("birth_country", "sex")),
        "sex ratio": lambda: mc.sex_ratio(cen),
        "tertiary share": lambda: mc.tertiary_share(cen),
        "age structure (5 groups)": lambda: mc.age_structure(cen),
    }
    for name, f in tasks.items():
        t, c = time.perf_counter(), time.process_time()
        tab = f()
        rows.append((name, n, time.perf_counter() - t, len(tab.estimates), time.process_time() - c))
    if dask:
        rows += run_dask(cen, n, partitions=max(2, n // 500_000))
    return [r + (cols_mib, peak_mib()) for r in rows]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", default=["1e6", "1e7"])
    ap.add_argument("--tiny", action="store_true", help="smoke run at a few thousand rows")
    ap.add_argument("--dask", action="store_true", help="also time the tabulations through Dask (2 workers)")
    a = ap.parse_args(argv)
    sizes = [6000] if a.tiny else [int(float(s)) for s in a.sizes]
    print(f"{'task':32s} {'persons':>11s} {'wall s':>8s} {'cpu s':>8s} {'estimates':>9s} {'columns MiB':>11s} "
          f"{'peak MiB':>9s}")
    for n in sizes:
        for name, size, sec, k, cpu, cols, peak in run(n, dask=a.dask):
            print(f"{name:32s} {size:>11,d} {sec:>8.2f} {cpu:>8.2f} {k!s:>9s} {cols:>11.0f} {peak:>9.0f}")


if __name__ == "__main__":
    main()

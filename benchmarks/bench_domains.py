#!/usr/bin/env python
"""FGT(0,1,2) by many domains (municipality-level tabulation): time and peak memory.

Issue #9.11 / #15: ``fgt(by=...)`` must scale linearly in the number of domains. One
seeded synthetic person-level survey (10,000 PSUs in 200 strata, as ``bench_fgt.py``)
with a domain variable of ``D`` equally likely labels, assigned to persons at random
(so every domain cuts across many PSUs, the hard case); a fixed line of 250.
Timed: ``rp.fgt(design, income, 250, (0, 1, 2), by=codes)`` -- point estimates and
linearised SEs of the ``4 D`` estimates (P0, P1, P2, number of poor per domain).

Every size runs in a fresh subprocess so that the peak resident memory (``ru_maxrss``)
is that of one call (data included: ~50 MiB at 10^6 rows, plus ~150 MiB of imported libraries).
Wall and CPU (process) time are both shown: on a shared machine CPU time is the steadier one. Prints a table; asserts
nothing about time (see ``tests/test_benchmarks.py`` for the smoke run).

Run::

    python benchmarks/bench_domains.py                          # 10^6 rows, D = 100 ... 10,000
    python benchmarks/bench_domains.py --rows 1e6 --domains 1000,10000
    python benchmarks/bench_domains.py --joint --domains 100,1000  # the joint covariance (before #9.11)
    python benchmarks/bench_domains.py --tiny                   # smoke run
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

N_PSU, N_STRATA, LINE = 10_000, 200, 250.0


def make(n: int, D: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    n_psu = min(N_PSU, max(n // 10, 2 * N_STRATA))
    psu = np.sort(np.concatenate([np.arange(n_psu), rng.integers(0, n_psu, n - n_psu)]))
    strata = psu // (n_psu // N_STRATA)
    w = rng.lognormal(5.0, 0.6, n)
    income = rng.lognormal(6.0, 1.0, n)
    dom = rng.integers(0, D, n)
    return w, strata, psu, income, dom


def one(n: int, D: int, repeats: int, covmat=None) -> dict:
    import remitpov as rp

    w, strata, psu, income, dom = make(n, D)
    des = rp.Design.from_arrays(w, strata, psu)
    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        tab = rp.fgt(des, income, LINE, (0, 1, 2), by=dom, covmat=covmat)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    assert tab.estimates.size == 4 * D
    return {"rows": n, "domains": D, "estimates": int(tab.estimates.size), "seconds": float(np.median(times)), "cpu": float(np.median(cpu)),
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10,
            "se_first": float(tab.se[0])}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=float, default=1e6)
    ap.add_argument("--domains", default="100,1000,3000,10000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tiny", action="store_true", help="smoke run: 20,000 rows, 10 and 300 domains, one repeat")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)  # "n,D": run one size in this process
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per size before giving up")
    ap.add_argument("--joint", action="store_true",
                    help="covmat=True: the joint covariance of all estimates (the only path before #9.11; "
                         "quadratic in the number of domains)")
    a = ap.parse_args(argv)
    if a.one:
        n, D = (int(float(x)) for x in a.one.split(","))
        print(json.dumps(one(n, D, a.repeats, True if a.joint else None)))
        return
    if a.tiny:
        a.rows, a.domains, a.repeats = 2e4, "10,300", 1
    n = int(a.rows)
    print(f"FGT(0,1,2) + number of poor by D domains, {n:,} rows, {a.repeats} runs (median); peak = max RSS of "
          f"the process (data included); covariance: {'joint (covmat=True)' if a.joint else 'default (covmat=None)'}")
    print(f"{'domains':>8} {'estimates':>10} {'wall s':>9} {'cpu s':>9} {'peak MiB':>9}  note")
    for D in (int(float(x)) for x in a.domains.split(",")):
        try:
            r = subprocess.run([sys.executable, __file__, "--one", f"{n},{D}", "--repeats", str(a.repeats)]
                               + (["--joint"] if a.joint else []),
                               capture_output=True, text=True, timeout=a.timeout)
        except subprocess.TimeoutExpired:
            print(f"{D:>8} {4 * D:>10} {'>' + format(a.timeout, 'g'):>9} {'-':>9} {'-':>9}  timed out")
            continue
        if r.returncode != 0:
            why = "killed (out of memory?)" if r.returncode < 0 else r.stderr.strip().splitlines()[-1][:80]
            print(f"{D:>8} {4 * D:>10} {'-':>9} {'-':>9} {'-':>9}  failed: {why}")
            if a.tiny:
                raise SystemExit(f"bench_domains --tiny failed at D={D}:\n{r.stderr}")
            continue
        res = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"{D:>8} {res['estimates']:>10} {res['seconds']:>9.3f} {res['cpu']:>9.3f} {res['peak_mib']:>9.0f}")


if __name__ == "__main__":
    main()

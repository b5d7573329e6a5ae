#!/usr/bin/env python
"""Census-scale benchmark: remitpov against the tools a user would otherwise pick.

One seeded synthetic person-level survey per size (10,000 PSUs nested in 200 strata,
lognormal weights and incomes with ~3 % zeros, remittances for ~15 % of rows, an urban
flag), and, side by side in one run and on the same data:

* ``remitpov``   -- Survey + ONE poverty.compare(..., by="urban", total=True) call (with vs
  without remittances, FGT(0,1,2), total and urban/rural from one pass over the rows);
  inequality.gini with its linearised SE; poverty.fgt with a
  relative line (60 % of the median, laeken's quantile rule); 500 bootstrap replicates.
* ``remitpov-ss`` -- the same table through remitpov.distributed's PSU sufficient-statistics
  engine on the in-memory DataFrame (one partition, synchronous Dask scheduler).
* ``numpy``      -- a plain vectorised kernel written here: np.bincount of w*g and w to
  PSU x urban totals (7 passes over the rows), then influence-value PSU totals and the
  stratified with-replacement formula on 10,000 rows (the floor for any Python tool).
* ``r-survey``   -- R survey: svydesign + svymean / svyby / svycontrast (benchmarks/r/bench_survey.R).
* ``laeken``     -- R laeken: gini() and arpr() point estimates (benchmarks/r/bench_laeken.R).
* ``samplics``   -- samplics' TaylorEstimator("mean") (PyPI; archived by its authors).
* ``svy``        -- svy (PyPI, Rust core): Sample(...).estimation.mean(..., by=).

Each step is timed several times and the MINIMUM is reported (wall seconds; CPU seconds
alongside): on a shared machine other jobs only ever add time, so the minimum is the
closest to the code's own cost. The remitpov table and the numpy kernel are also timed
in alternation in the same loop ("paired"), and the targets use the ratio of those
minima, so a change of load during the run affects both sides alike. R times itself with
system.time() (minimum over its runs) so R's start-up and CSV reading are not counted. The FGT
indicator columns are precomputed for R, samplics and svy (their users would build them
too; this favours the peers), while remitpov and numpy compute them from the incomes
inside the timed region. Every tool's estimates and SEs are ASSERTED equal to remitpov's
to 1e-8 (relative).

Peak memory: tracemalloc (Python/numpy allocations) for remitpov and numpy over one run
of the whole table (the caller's DataFrame is not counted: it exists before the call),
compared with the memory of the columns the table uses; R's gc() "max used" (Ncells +
Vcells) for R.

Usage::

    python benchmarks/bench_fgt.py --quick                      # 1e5 rows, remitpov + numpy, seconds
    python benchmarks/bench_fgt.py --sizes 1e6 --repeats 5      # all tools at 1e6
    python benchmarks/bench_fgt.py --sizes 1e5,1e6,5e6 --tools remitpov,numpy,r-survey,laeken,svy

Tools that are not installed are reported as skipped. ``--json FILE`` saves everything.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import remitpov as rp  # noqa: E402
from remitpov.inequality import gini  # noqa: E402
from remitpov.poverty import RelativeLine, compare, fgt  # noqa: E402

ALL_TOOLS = ("remitpov", "remitpov-ss", "numpy", "r-survey", "laeken", "samplics", "svy")
LINE = 250.0
ALPHAS = (0, 1, 2)
TOL = 1e-8  # peers: estimates and SEs written to CSV / computed by other libraries
TOL_KERNEL = 1e-12  # the numpy kernel of this script: the same numbers up to summation order
N_PSU, N_STRATA = 10_000, 200


# ====================================================================== data
def make_data(n: int, seed: int = 20240601) -> pd.DataFrame:
    """Seeded synthetic person-level survey (see module docstring)."""
    rng = np.random.default_rng(seed)
    psu = np.concatenate([np.arange(N_PSU), rng.integers(0, N_PSU, n - N_PSU)])  # every PSU present
    psu = np.sort(psu)  # survey files are usually ordered by PSU
    strata = psu // (N_PSU // N_STRATA)
    w = rng.lognormal(5.0, 0.6, n)
    income = rng.lognormal(6.0, 1.0, n)
    income[rng.random(n) < 0.03] = 0.0
    remit = np.where(rng.random(n) < 0.15, rng.lognormal(4.5, 1.0, n), 0.0)
    urban = (rng.random(n) < np.where(psu % 3 == 0, 0.8, 0.5)).astype(np.int64)
    df = pd.DataFrame({"strata": strata, "psu": psu, "w": w, "income": income, "remit": remit, "urban": urban})
    df["y0"] = df["income"] - df["remit"]  # counterfactual income without remittances
    return df


def with_indicators(df: pd.DataFrame) -> pd.DataFrame:
    """FGT indicator columns for the peers (g<a>w with, g<a>o without, d<a> difference)."""
    out = df.copy()
    for tag, col in (("w", "income"), ("o", "y0")):
        y = df[col].to_numpy()
        for a in ALPHAS:
            out[f"g{a}{tag}"] = np.where(y < LINE, ((LINE - y) / LINE) ** a, 0.0)
    for a in ALPHAS:
        out[f"d{a}"] = out[f"g{a}w"] - out[f"g{a}o"]
    return out


USED = ["income", "remit", "w", "strata", "psu", "urban"]  # the columns the table needs


# ====================================================================== timing helpers
def timed(fn, repeats: int):
    """(minimum wall s, minimum CPU s, last result) over ``repeats`` runs."""
    wall, cpu, out = [], [], None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu), out


def paired(fns: dict, repeats: int) -> dict:
    """``{name: (min wall, min cpu)}`` of several functions run in alternation (round robin),
    so that the load of a shared machine weighs on all of them alike; their ratios are
    the numbers to compare."""
    wall = {k: [] for k in fns}
    cpu = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
    return {k: (min(wall[k]), min(cpu[k])) for k in fns}


def peak_mb(fn) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


# ====================================================================== remitpov
def remitpov_table(df: pd.DataFrame, deff: bool = False):
    """Design + with/without FGT(0,1,2) + differences, total and urban/rural: ONE call
    (``total=True``: the total's PSU totals are sums of the PSU x urban totals). No design
    effects by default (remitpov's and R survey's default, as the kernel); ``deff=True``
    adds them (a second-moment pass)."""
    s = rp.Survey(df, weight="w", strata="strata", psu="psu", unit="person")
    s.design()
    inc = {"with": "income", "without": "y0"}
    return s, compare(s, inc, LINE, ALPHAS, by="urban", total=True, deff=deff)


def remitpov_values(tab, tab_by=None):
    """Arrays in the common order: total (6: g0w g1w g2w g0o g1o g2o), domain (12: domain-major),
    diff total (3), diff domain (6: domain-major). ``tab``: one ``total=True`` table, or the
    no-by table with the by-urban table in ``tab_by``."""
    if tab_by is None:
        fb = tab.to_frame()
        ft = fb[fb["urban"] == "all"]
        fb = fb[fb["urban"] != "all"]
    else:
        ft, fb = tab.to_frame(), tab_by.to_frame()
    meas = [f"fgt{a}" for a in ALPHAS]

    def pick(f, concept, urban=None):
        q = f[f["concept"] == concept]
        if urban is not None:
            q = q[q["urban"] == urban]
        q = q.set_index("measure").loc[meas]
        return q["estimate"].to_numpy(), q["se"].to_numpy()

    out = {}
    e1, s1 = pick(ft, "with")
    e2, s2 = pick(ft, "without")
    out["total"] = (np.r_[e1, e2], np.r_[s1, s2])
    dom_e, dom_s, dd_e, dd_s = [], [], [], []
    for u in (0, 1):
        a, b = pick(fb, "with", u)
        c, d = pick(fb, "without", u)
        dom_e += [a, c]
        dom_s += [b, d]
        x, y = pick(fb, "with - without", u)
        dd_e.append(x)
        dd_s.append(y)
    out["domain"] = (np.concatenate(dom_e), np.concatenate(dom_s))
    out["diff_total"] = pick(ft, "with - without")
    out["diff_domain"] = (np.concatenate(dd_e), np.concatenate(dd_s))
    return out


def remitpov_values_total(tab_total):
    """(estimates, SEs) of the 6 total rows of a no-``by`` compare table (order as remitpov_values)."""
    f = tab_total.to_frame()
    meas = [f"fgt{a}" for a in ALPHAS]
    e, se = [], []
    for c in ("with", "without"):
        q = f[f["concept"] == c].set_index("measure").loc[meas]
        e.append(q["estimate"].to_numpy())
        se.append(q["se"].to_numpy())
    return np.concatenate(e), np.concatenate(se)


def bench_remitpov(df, repeats):
    res = {}
    inc = {"with": "income", "without": "y0"}
    w_all, c_all, (s, tb) = timed(lambda: remitpov_table(df), repeats)
    res["table"] = (w_all, c_all)
    res["table, deff=True"] = timed(lambda: remitpov_table(df, deff=True), repeats)[:2]
    res["design"] = timed(lambda: rp.Survey(df, weight="w", strata="strata", psu="psu", unit="person").design(),
                          repeats)[:2]
    res["total+domain+difference"] = timed(lambda: compare(s, inc, LINE, ALPHAS, by="urban", total=True),
                                           repeats)[:2]
    # for comparison: the same table as two calls (two passes over the rows)
    res["two calls"] = timed(lambda: (compare(s, inc, LINE, ALPHAS), compare(s, inc, LINE, ALPHAS, by="urban")),
                             repeats)[:2]
    res["peak_mb"] = peak_mb(lambda: remitpov_table(df))
    res["values"] = remitpov_values(tb)
    # the one-call total equals the separate no-by call
    t0 = remitpov_values_total(compare(s, inc, LINE, ALPHAS))
    for k in (0, 1):
        np.testing.assert_allclose(res["values"]["total"][k], t0[k], rtol=1e-10)
    # Gini with linearised SE, relative-line poverty (arpr), bootstrap
    wg, cg, g = timed(lambda: gini(s, "income"), repeats)
    res["gini+se"] = (wg, cg)
    res["gini"] = (g.get().estimate, g.get().se)
    rl = RelativeLine(0.6, "median", quantile_rule="laeken")
    wa, ca, a = timed(lambda: fgt(s, "income", rl, alpha=0, headcount_total=False), repeats)
    res["arpr+se"] = (wa, ca)
    res["arpr"] = a.get(measure="fgt0").estimate
    return res


def bench_bootstrap(df, R, repeats):
    s = rp.Survey(df, weight="w", strata="strata", psu="psu", unit="person")
    s.design()

    def run():
        sr = s.with_replicates("bootstrap", R, seed=7)
        return sr, fgt(sr, "income", LINE, ALPHAS, headcount_total=False)

    w, c, (sr, t) = timed(run, repeats)
    # independent check of the replicate SEs: PSU totals by np.bincount, replicate totals
    d = sr.design()
    F = d.replicates.factors  # (P, R)
    y = df["income"].to_numpy()
    wt = df["w"].to_numpy()
    den = np.bincount(d.psu, wt, d.n_psu) @ F
    se = []
    for a in ALPHAS:
        g = np.where(y < LINE, ((LINE - y) / LINE) ** a, 0.0)
        th = (np.bincount(d.psu, wt * g, d.n_psu) @ F) / den
        se.append(np.sqrt(((th - th.mean()) ** 2).sum() / (R - 1)))
    np.testing.assert_allclose(t.se, se, rtol=TOL)
    return w, c


def bench_remitpov_ss(df, repeats):
    """remitpov.distributed (PSU sufficient statistics) on the pandas frame, no cluster."""
    try:
        import dask

        from remitpov import distributed as rd
    except ImportError as e:
        return {"skipped": f"dask not installed: {e}"}
    inc = {"with": "income", "without": "y0"}

    def table():
        with dask.config.set(scheduler="synchronous"):
            ds = rd.DaskSurvey(df[["strata", "psu", "w", "income", "y0", "urban"]], weight="w", strata="strata",
                               psu="psu", npartitions=1)
            return rd.compare(ds, inc, LINE, ALPHAS), rd.compare(ds, inc, LINE, ALPHAS, by="urban")

    w, c, (tt, tb) = timed(table, repeats)
    return {"table": (w, c), "design": (np.nan, np.nan), "peak_mb": peak_mb(table), "values": remitpov_values(tt, tb)}


# ====================================================================== numpy kernel
def numpy_design(df):
    s_codes, _ = pd.factorize(df["strata"], sort=True)
    p_codes, _ = pd.factorize(df["psu"], sort=True)
    P = int(p_codes.max()) + 1
    psu_h = np.empty(P, dtype=np.int64)
    psu_h[p_codes] = s_codes
    H = int(s_codes.max()) + 1
    n_h = np.bincount(psu_h, minlength=H).astype(float)
    return p_codes, P, psu_h, n_h, H, df["w"].to_numpy(float)


def numpy_var(des, T):
    """Stratified with-replacement variance of PSU totals T (P, k), diagonal only."""
    p, P, psu_h, n_h, H, w = des
    mh = np.stack([np.bincount(psu_h, weights=T[:, j], minlength=H) for j in range(T.shape[1])], 1) / n_h[:, None]
    Tc = T - mh[psu_h]
    return (n_h / (n_h - 1))[psu_h] @ (Tc * Tc)


def numpy_table(df):
    """The whole table from PSU x urban sums of w*g and w: 7 np.bincount passes over the rows."""
    des = numpy_design(df)
    p, P, psu_h, n_h, H, w = des
    key = p * 2 + df["urban"].to_numpy()
    S = np.empty((2 * P, 7))
    for j, col in enumerate(("income", "y0")):
        y = df[col].to_numpy()
        gap = np.where(y < LINE, (LINE - y) / LINE, 0.0)
        S[:, 3 * j] = np.bincount(key, weights=w * (y < LINE), minlength=2 * P)
        S[:, 3 * j + 1] = np.bincount(key, weights=w * gap, minlength=2 * P)
        S[:, 3 * j + 2] = np.bincount(key, weights=w * gap * gap, minlength=2 * P)
    S[:, 6] = np.bincount(key, weights=w, minlength=2 * P)
    S = S.reshape(P, 2, 7)
    res = {}
    parts = {"all": S.sum(1), 0: S[:, 0], 1: S[:, 1]}
    out = {}
    for k, D in parts.items():
        N = D[:, 6].sum()
        est = D[:, :6].sum(0) / N
        T = (D[:, :6] - est * D[:, 6:7]) / N  # PSU totals of the influence values
        Tall = np.hstack([T, T[:, :3] - T[:, 3:]])
        se = np.sqrt(numpy_var(des, Tall))
        out[k] = (est, se[:6], est[:3] - est[3:], se[6:])
    res["total"] = out["all"][:2]
    res["domain"] = (np.concatenate([out[0][0], out[1][0]]), np.concatenate([out[0][1], out[1][1]]))
    res["diff_total"] = out["all"][2:]
    res["diff_domain"] = (np.concatenate([out[0][2], out[1][2]]), np.concatenate([out[0][3], out[1][3]]))
    return res


def bench_numpy(df, repeats):
    res = {}
    w, c, vals = timed(lambda: numpy_table(df), repeats)
    res["table"] = (w, c)
    res["design"] = timed(lambda: numpy_design(df), repeats)[:2]
    res["peak_mb"] = peak_mb(lambda: numpy_table(df))
    res["values"] = vals
    # Gini point estimate: one sort (laeken's formula), the floor for the Gini
    x, wt = df["income"].to_numpy(), df["w"].to_numpy()

    def g():
        o = np.argsort(x, kind="stable")
        xs, ws = x[o], wt[o]
        return (2 * np.sum(ws * xs * np.cumsum(ws)) - np.sum(ws**2 * xs)) / (ws.sum() * (ws @ xs)) - 1

    wg, cg, gv = timed(g, repeats)
    res["gini"] = (wg, cg)
    res["gini_value"] = gv
    return res


# ====================================================================== samplics / svy
def bench_samplics(dfi, repeats):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from samplics.estimation import TaylorEstimator
            from samplics.utils.types import PopParam
    except Exception as e:  # noqa: BLE001
        return {"skipped": f"samplics not importable: {e}"}
    vars_ = [f"g{a}{t}" for t in "wo" for a in ALPHAS]
    kw = dict(samp_weight=dfi["w"], stratum=dfi["strata"], psu=dfi["psu"])

    def est(col, domain=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e = TaylorEstimator(PopParam.mean)
            e.estimate(y=dfi[col], domain=domain, **kw)
        return e

    def table():
        out = {}
        r = [est(v) for v in vars_]
        out["total"] = (np.array([x.point_est for x in r], float), np.array([x.stderror for x in r], float))
        rb = [est(v, dfi["urban"]) for v in vars_]
        out["domain"] = (np.array([rb[j].point_est[k] for k in (0, 1) for j in range(6)], float),
                         np.array([rb[j].stderror[k] for k in (0, 1) for j in range(6)], float))
        rd = [est(f"d{a}") for a in ALPHAS]
        out["diff_total"] = (np.array([x.point_est for x in rd], float), np.array([x.stderror for x in rd], float))
        rdd = [est(f"d{a}", dfi["urban"]) for a in ALPHAS]
        out["diff_domain"] = (np.array([rdd[j].point_est[k] for k in (0, 1) for j in range(3)], float),
                              np.array([rdd[j].stderror[k] for k in (0, 1) for j in range(3)], float))
        return out

    w, c, vals = timed(table, repeats)
    return {"table": (w, c), "values": vals, "design": (np.nan, np.nan)}


def bench_svy(dfi, repeats):
    try:
        import polars as pl
        import svy
    except Exception as e:  # noqa: BLE001
        return {"skipped": f"svy not importable: {e}"}
    vars_ = [f"g{a}{t}" for t in "wo" for a in ALPHAS]
    cols = ["strata", "psu", "w", "urban"] + vars_ + [f"d{a}" for a in ALPHAS]
    pdf = pl.from_pandas(dfi[cols])

    def design():
        return svy.Sample(pdf, svy.Design(stratum="strata", psu="psu", wgt="w"))

    def vals(res, by=False):
        res = res if isinstance(res, list) else [res]
        frames = [r.to_polars().to_pandas() for r in res]
        if not by:
            return np.array([f["est"].iloc[0] for f in frames]), np.array([f["se"].iloc[0] for f in frames])
        e = np.array([f.sort_values("urban")["est"].to_numpy() for f in frames])  # (vars, 2)
        s = np.array([f.sort_values("urban")["se"].to_numpy() for f in frames])
        return e.T.ravel(), s.T.ravel()

    def table():
        s = design()
        out = {"total": vals(s.estimation.mean(vars_)), "domain": vals(s.estimation.mean(vars_, by="urban"), True),
               "diff_total": vals(s.estimation.mean([f"d{a}" for a in ALPHAS])),
               "diff_domain": vals(s.estimation.mean([f"d{a}" for a in ALPHAS], by="urban"), True)}
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w, c, v = timed(table, repeats)
        dw = timed(design, repeats)[:2]
    return {"table": (w, c), "design": dw, "values": v}


# ====================================================================== R
def run_r(script: str, csv: Path, repeats: int, workdir: Path) -> dict:
    if shutil.which("Rscript") is None:
        return {"skipped": "Rscript not found"}
    out = workdir / f"{Path(script).stem}.json"
    p = subprocess.run(["Rscript", str(HERE / "r" / script), str(csv), str(repeats), str(out)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return {"skipped": f"{script} failed: {p.stderr.strip()[-400:]}"}
    return json.loads(out.read_text())


def bench_r_survey(csv, repeats, workdir):
    j = run_r("bench_survey.R", csv, repeats, workdir)
    if "skipped" in j:
        return j
    el = {k: min(np.atleast_1d(v)) for k, v in j["elapsed"].items()}
    cp = {k: min(np.atleast_1d(v)) for k, v in j["cpu"].items()}
    per_run = np.sum([np.atleast_1d(v) for v in j["elapsed"].values()], axis=0)
    per_cpu = np.sum([np.atleast_1d(v) for v in j["cpu"].values()], axis=0)
    vals = {"total": (np.array(j["total"]["estimate"]), np.array(j["total"]["se"]))}
    # svyby rows: urban 0 then 1; estimates per row in var order -> domain-major like remitpov
    vals["domain"] = (np.array(j["domain"]["estimate"]), np.array(j["domain"]["se"]))
    vals["diff_total"] = (np.array(j["diff_total"]["estimate"]), np.array(j["diff_total"]["se"]))
    vals["diff_domain"] = (np.array(j["diff_domain"]["estimate"]), np.array(j["diff_domain"]["se"]))
    return {"table": (float(np.min(per_run)), float(np.min(per_cpu))), "design": (el["design"], cp["design"]),
            "steps": el, "peak_mb": j["max_used_mb"], "values": vals, "version": j["version"], "R": j["R"]}


def bench_laeken(csv, repeats, workdir):
    j = run_r("bench_laeken.R", csv, repeats, workdir)
    if "skipped" in j:
        return j
    return {"gini": (min(np.atleast_1d(j["elapsed"]["gini"])), min(np.atleast_1d(j["cpu"]["gini"]))),
            "arpr": (min(np.atleast_1d(j["elapsed"]["arpr"])), min(np.atleast_1d(j["cpu"]["arpr"]))),
            "gini_value": j["gini"] / 100, "arpr_value": j["arpr"] / 100, "peak_mb": j["max_used_mb"],
            "version": j["version"]}


# ====================================================================== checks and report
def check_same(name, vals, ref, tol=TOL):
    for part in ("total", "domain", "diff_total", "diff_domain"):
        e, s = vals[part]
        re, rs = ref[part]
        np.testing.assert_allclose(e, re, rtol=tol, atol=1e-15, err_msg=f"{name} {part} estimates differ")
        np.testing.assert_allclose(s, rs, rtol=tol, atol=1e-15, err_msg=f"{name} {part} SEs differ")


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, ValueError):
        pass
    vers = {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
            "remitpov": getattr(rp, "__version__", "?")}
    for mod in ("scipy", "samplics", "svy", "polars", "dask"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                vers[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "load_avg": os.getloadavg(), "versions": vers}


def fmt(x, nd=3):
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    return f"{x:.{nd}f}" if x < 100 else f"{x:.0f}"


def installed_tools() -> list[str]:
    """The tools of :data:`ALL_TOOLS` that can run here (peers not installed are left out)."""
    import importlib.util

    out = ["remitpov", "numpy"]
    if importlib.util.find_spec("dask") is not None:
        out.append("remitpov-ss")
    for t, mod in (("samplics", "samplics"), ("svy", "svy")):
        if importlib.util.find_spec(mod) is not None:
            out.append(t)
    if shutil.which("Rscript"):
        for t, pkg in (("r-survey", "survey"), ("laeken", "laeken")):
            r = subprocess.run(["Rscript", "-e", f"quit(status = !requireNamespace('{pkg}', quietly = TRUE))"],
                               capture_output=True)
            if r.returncode == 0:
                out.append(t)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1e5,1e6", help="comma-separated row counts (default 1e5,1e6)")
    ap.add_argument("--tools", default=",".join(ALL_TOOLS), help=f"subset of {','.join(ALL_TOOLS)}")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates (0 = skip)")
    ap.add_argument("--quick", action="store_true",
                    help="1e5 rows, remitpov + numpy, 3 repeats, 100 bootstrap replicates")
    ap.add_argument("--tiny", action="store_true",
                    help="smoke run (the test suite's): 20,000 rows, one repeat, 20 bootstrap replicates, the Python "
                         "tools and the peers that are installed")
    ap.add_argument("--samplics-max", type=float, default=2e6, help="largest size samplics is run at")
    ap.add_argument("--workdir", default=None, help="where the CSV files for R go (default: a temp dir)")
    ap.add_argument("--json", default=None, help="write all results to this file")
    a = ap.parse_args(argv)
    if a.quick:
        a.sizes, a.tools, a.repeats, a.bootstrap = "1e5", "remitpov,remitpov-ss,numpy", 3, 100
    if a.tiny:
        a.sizes, a.tools, a.repeats, a.bootstrap = "2e4", ",".join(installed_tools()), 1, 20
    sizes = [int(float(s)) for s in a.sizes.split(",")]
    tools = [t.strip() for t in a.tools.split(",")]
    bad = set(tools) - set(ALL_TOOLS)
    if bad:
        ap.error(f"unknown tools {sorted(bad)}")
    workdir = Path(a.workdir or tempfile.mkdtemp(prefix="remitpov-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(f"machine: {info['nproc']} cores, {info['cpu']}, {info['memory']}, load {info['load_avg']}")
    print("versions:", ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    allres = {"machine": info, "sizes": {}}
    for n in sizes:
        print(f"\n=== {n:,} rows ({N_PSU} PSUs, {N_STRATA} strata), line {LINE}, {a.repeats} runs, minimum ===")
        df = make_data(n)
        used_mb = df[USED].memory_usage(index=False).sum() / 2**20
        res = {}
        if "remitpov" in tools or len(tools):
            res["remitpov"] = bench_remitpov(df, a.repeats)
        ref = res["remitpov"]["values"]
        if "numpy" in tools:
            res["numpy"] = bench_numpy(df, a.repeats)
            # the ratio targets: kernel and remitpov in alternation, same loop
            res["paired"] = paired({"kernel": lambda: numpy_table(df), "table": lambda: remitpov_table(df),
                                    "table, deff=True": lambda: remitpov_table(df, deff=True)}, 2 * a.repeats)
        if "remitpov-ss" in tools:
            res["remitpov-ss"] = bench_remitpov_ss(df, a.repeats)
        need_ind = {"r-survey", "samplics", "svy", "laeken"} & set(tools)
        if need_ind:
            dfi = with_indicators(df)
            csv = workdir / f"bench_{n}.csv"
            dfi.to_csv(csv, index=False, float_format="%.17g")
        peers = {"r-survey": lambda: bench_r_survey(csv, a.repeats, workdir),
                 "laeken": lambda: bench_laeken(csv, a.repeats, workdir),
                 "samplics": lambda: (bench_samplics(dfi, max(1, min(a.repeats, 3))) if n <= a.samplics_max
                                      else {"skipped": f"n > --samplics-max {a.samplics_max:g}"}),
                 "svy": lambda: bench_svy(dfi, a.repeats)}
        for t, fn in peers.items():
            if t in tools:
                try:
                    res[t] = fn()
                except Exception as e:  # noqa: BLE001 - a peer's failure is reported, not fatal
                    res[t] = {"skipped": f"failed: {type(e).__name__}: {e}"}
                print(f"  {t}: done", flush=True)
        if a.bootstrap:
            res["bootstrap"] = bench_bootstrap(df, a.bootstrap, max(1, min(a.repeats, 3)))
        # ---- assertions: same estimate and SE everywhere
        for t in ("remitpov-ss", "numpy", "r-survey", "samplics", "svy"):
            if t in res and "values" in res[t]:
                # the in-process kernel (same data, double precision throughout): 1e-12
                check_same(t, res[t]["values"], ref, TOL_KERNEL if t == "numpy" else TOL)
        g_rp = res["remitpov"]["gini"][0]
        if "numpy" in res:
            assert abs(res["numpy"]["gini_value"] - g_rp) <= TOL_KERNEL * g_rp, "numpy Gini differs"
        if "laeken" in res and "gini_value" in res["laeken"]:
            assert abs(res["laeken"]["gini_value"] - g_rp) <= TOL * g_rp, "laeken Gini differs"
            ar = res["remitpov"]["arpr"]
            assert abs(res["laeken"]["arpr_value"] - ar) <= TOL * ar, "laeken arpr differs"
        # ---- report
        base = res["remitpov"]["table"][0]
        print(f"columns used {USED}: {used_mb:.1f} MiB")
        print(f"{'tool':<10} {'task':<44} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'tool/remitpov':>14}")

        def row(tool, task, wc, peak=None, ref_time=base):
            w, c = wc
            ratio = w / ref_time if ref_time and np.isfinite(w) else np.nan
            print(f"{tool:<10} {task:<44} {fmt(w):>8} {fmt(c):>8} {fmt(peak, 0) if peak else '-':>9} "
                  f"{fmt(ratio, 2):>14}")

        R = res["remitpov"]
        row("remitpov", "FGT table: design+total+urban/rural+diffs", R["table"], R["peak_mb"])
        row("remitpov", "FGT table with design effects (deff=True)", R["table, deff=True"])
        row("remitpov", "  design (Survey + Design)", R["design"])
        row("remitpov", "  compare(by=urban, total=True)", R["total+domain+difference"])
        row("remitpov", "  (two calls: no by + by urban)", R["two calls"])
        for t in ("remitpov-ss", "numpy", "r-survey", "samplics", "svy"):
            if t not in res:
                continue
            if "skipped" in res[t]:
                print(f"{t:<10} skipped: {res[t]['skipped']}")
                continue
            row(t, "FGT table: design+total+urban/rural+diffs", res[t]["table"], res[t].get("peak_mb"))
            if np.isfinite(res[t]["design"][0]):
                row(t, "  design", res[t]["design"])
            for k, v in res[t].get("steps", {}).items():
                if k != "design":
                    row(t, f"  {k}", (v, np.nan))
        if "paired" in res:
            pr = res["paired"]
            for k in ("kernel", "table", "table, deff=True"):
                row("paired", f"{k} (alternating runs)", pr[k], ref_time=pr["kernel"][0])
        gbase = R["gini+se"][0]
        row("remitpov", "Gini + linearised SE", R["gini+se"], ref_time=gbase)
        if "numpy" in res:
            row("numpy", "Gini point estimate (one sort)", res["numpy"]["gini"], ref_time=gbase)
        if "laeken" in res and "skipped" not in res["laeken"]:
            row("laeken", "gini() point estimate", res["laeken"]["gini"], ref_time=gbase)
        row("remitpov", "ARPR (60% median) + SE with line variance", R["arpr+se"], ref_time=R["arpr+se"][0])
        if "laeken" in res and "skipped" not in res["laeken"]:
            row("laeken", "arpr() point estimate", res["laeken"]["arpr"], ref_time=R["arpr+se"][0])
        if "bootstrap" in res:
            row("remitpov", f"{a.bootstrap} bootstrap replicates FGT(0,1,2)", res["bootstrap"],
                ref_time=res["bootstrap"][0])
        print(f"all tools agree with remitpov to {TOL:g} (the numpy kernel to {TOL_KERNEL:g}; estimates and SEs): OK")
        # targets (issue #17; at any size, shown for orientation), on minimum wall time and CPU time
        def ratio(x, y, k):  # x / y on wall (k=0) or cpu (k=1) time
            return x[k] / y[k] if y[k] and np.isfinite(x[k]) else np.nan

        tg = []
        tb = R["table"]
        if "r-survey" in res and "table" in res["r-survey"]:
            p = res["r-survey"]["table"]
            tg.append(("FGT table >= 20x faster than R survey", ratio(p, tb, 0), ratio(p, tb, 1), ">=", 20))
        if "svy" in res and "table" in res["svy"]:
            p = res["svy"]["table"]
            tg.append(("FGT table >= 2x faster than svy", ratio(p, tb, 0), ratio(p, tb, 1), ">=", 2))
        if "paired" in res:
            pr = res["paired"]
            p = pr["kernel"]
            tg.append(("FGT table within 1.2x of the numpy kernel (paired)", ratio(pr["table"], p, 0),
                       ratio(pr["table"], p, 1), "<=", 1.2))
            q = pr["table, deff=True"]
            tg.append(("  with design effects (deff=True) within 1.35x", ratio(q, p, 0), ratio(q, p, 1), "<=", 1.35))
            if "remitpov-ss" in res and "table" in res["remitpov-ss"]:
                q = res["remitpov-ss"]["table"]
                tb_ = R["table"]
                tg.append(("  ss engine: within 1.5x of the in-memory table", ratio(q, tb_, 0), ratio(q, tb_, 1), "<=",
                           1.5))
                if "r-survey" in res and "table" in res["r-survey"]:
                    r_ = res["r-survey"]["table"]
                    tg.append(("  ss engine: >= 20x faster than R survey", ratio(r_, q, 0), ratio(r_, q, 1), ">=", 20))
        if "laeken" in res and "gini" in res["laeken"]:
            p = res["laeken"]["gini"]
            tg.append(("Gini+SE at most 1.0x laeken's gini()", ratio(R["gini+se"], p, 0), ratio(R["gini+se"], p, 1),
                       "<=", 1.0))
            p = res["laeken"]["arpr"]
            tg.append(("ARPR+SE at most 1.2x laeken's arpr()", ratio(R["arpr+se"], p, 0), ratio(R["arpr+se"], p, 1),
                       "<=", 1.2))
        if "bootstrap" in res:
            tg.append((f"{a.bootstrap} bootstrap replicates < 1 s", res["bootstrap"][0], res["bootstrap"][1], "<=", 1.0))
        tg.append(("peak memory of the table <= 1.5x the columns used", R["peak_mb"] / used_mb, np.nan, "<=", 1.5))
        if "remitpov-ss" in res and "peak_mb" in res["remitpov-ss"]:
            tg.append(("  ss engine: peak memory <= 2x the columns used", res["remitpov-ss"]["peak_mb"] / used_mb,
                       np.nan, "<=", 2.0))
        print(f"{'target':<52} {'wall':>7} {'cpu':>7}")
        for name, vw, vc, op, lim in tg:
            st = ["MET" if (v >= lim if op == ">=" else v <= lim) else "MISSED" for v in (vw, vc) if np.isfinite(v)]
            print(f"{name:<52} {vw:7.2f} {vc:7.2f}  {op} {lim:<4} {'/'.join(st)}")
        allres["sizes"][n] = {"used_mb": used_mb, "targets": tg,
                              "results": {k: {kk: vv for kk, vv in v.items() if kk != "values"} if isinstance(v, dict)
                                          else v for k, v in res.items()}}
    if a.json:
        Path(a.json).write_text(json.dumps(allres, indent=1, default=lambda o: o.tolist()
                                           if isinstance(o, np.ndarray) else float(o)))
        print(f"\nresults written to {a.json}")


if __name__ == "__main__":
    main()

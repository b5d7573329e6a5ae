#!/usr/bin/env python
"""National ENIGH from raw relational tables to coverage and poverty: time per stage.

Issue #12: the national ENIGH (90,000 households, 10,000 PSUs, 560 strata, ~400,000 income
rows) from INEGI's raw tables in seconds. Stages timed, each once:

* ``read``: :func:`remitpov.read_enigh_tables` (read three gzipped CSVs, join, classify
  every income item with the catalogue, aggregate by household and source);
* ``income``: :func:`remitpov.build_income` (monthly per capita, with / without);
* ``coverage``: :func:`remitpov.coverage.remittance_coverage` nationally and by state
  (design-based totals and SEs, 33 ratios);
* ``poverty``: :func:`remitpov.compare` with / without remittances, FGT(0,1,2) with SEs.

Data: the real tables in ``$REMITPOV_SHARED/data/enigh_national`` (2018, 2020, 2022) when
present; otherwise (and with ``--tiny``) seeded synthetic tables of the same shape written
to a temporary folder. Prints a table; asserts nothing about time.

Run::

    python benchmarks/bench_enigh_national.py            # real tables, three years
    python benchmarks/bench_enigh_national.py --synthetic 90000
    python benchmarks/bench_enigh_national.py --tiny     # smoke run (2,000 synthetic households)
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import remitpov as rp  # noqa: E402
from remitpov.config import shared_dir  # noqa: E402
from remitpov.io.enigh_tables import enigh_catalogue, read_enigh_tables  # noqa: E402

ITEMS = ["Sueldos, salarios o jornal", "Ingresos provenientes de otros países",
         "Programa para el Bienestar de las Personas Adultas Mayores", "Por negocios con tipo de actividad comercial",
         "Donativos en dinero provenientes de otros hogares", "Aguinaldo del ejercicio 2021",
         "Retiro de inversiones, ahorros, tandas, cajas de ahorro etcétera"]


def synthetic_tables(folder: Path, n_hh: int, year: int = 2022, seed: int = 3) -> Path:
    """Write seeded viviendas / hogares / ingresos tables shaped like the national ENIGH."""
    rng = np.random.default_rng(seed)
    n_psu = max(n_hh // 9, 4)
    psu = rng.integers(0, n_psu, n_hh)
    state = 1 + psu % 32
    strat = psu % max(n_psu // 18, 2)
    fv = np.char.add(np.char.zfill(state.astype(str), 2), np.char.zfill(np.arange(n_hh).astype(str), 8))
    viv = pd.DataFrame({"folioviv": fv, "tot_resid": rng.integers(1, 8, n_hh), "tot_hog": 1,
                        "ubica_geo": np.char.add(np.char.zfill(state.astype(str), 2), "001"),
                        "tam_loc": rng.integers(1, 5, n_hh), "est_dis": np.char.zfill(strat.astype(str), 3),
                        "upm": np.char.zfill(psu.astype(str), 7), "factor": rng.integers(50, 800, n_hh)})
    hog = pd.DataFrame({"folioviv": fv, "foliohog": 1})
    k = rng.poisson(3.4, n_hh) + 1
    hh = np.repeat(np.arange(n_hh), k)
    p = np.array([0.55, 0.03, 0.12, 0.1, 0.1, 0.05, 0.05])
    item = rng.choice(len(ITEMS), hh.size, p=p / p.sum())
    amt = np.round(rng.lognormal(8.5, 1.0, hh.size), 2)
    ing = pd.DataFrame({"folioviv": fv[hh], "foliohog": 1, "numren": rng.integers(1, 4, hh.size),
                        "clave": np.array(ITEMS)[item], "ing_tri": amt})
    for j in range(1, 7):
        ing[f"ing_{j}"] = np.round(amt / 3 * rng.uniform(0.9, 1.1, hh.size), 2)
    ing = ing.drop_duplicates(["folioviv", "foliohog", "numren", "clave"])
    for name, df in (("viviendas", viv), ("hogares", hog), ("ingresos", ing)):
        df.to_csv(folder / f"{name}_{year}.csv.gz", index=False)
    return folder


def run(folder: Path, year: int, label: str) -> dict:
    from remitpov.coverage import remittance_coverage
    row = {"data": label, "year": year}
    t = time.perf_counter()
    s = read_enigh_tables(folder, year=year)
    row["read s"] = time.perf_counter() - t
    row["households"] = s.n
    row["PSUs"] = s.data.upm.nunique()
    row["strata"] = s.data.est_dis.nunique()
    t = time.perf_counter()
    b = rp.build_income(s, scale="per_capita", period="month")
    row["income s"] = time.perf_counter() - t
    t = time.perf_counter()
    bop = pd.Series(1e9, index=range(1, 33))
    remittance_coverage(s, 30e9, 20.0, by_state=True, macro_by_state_usd=bop, warn=False)
    row["coverage s"] = time.perf_counter() - t
    t = time.perf_counter()
    rp.compare(b, {"with": "y_with", "without": "y_without"}, 2000.0, alpha=(0, 1, 2))
    row["poverty s"] = time.perf_counter() - t
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", help="smoke run: 2,000 synthetic households")
    ap.add_argument("--synthetic", type=float, default=None, help="synthetic households instead of the real tables")
    a = ap.parse_args(argv)
    rows = []
    real = shared_dir() / "data" / "enigh_national"
    with tempfile.TemporaryDirectory() as tmp:
        if a.tiny or a.synthetic or not real.is_dir():
            n = 2000 if a.tiny else int(a.synthetic or 90_000)
            rows.append(run(synthetic_tables(Path(tmp), n), 2022, f"synthetic {n:,}"))
        else:
            for y in (2018, 2020, 2022):
                rows.append(run(real, y, "national tables"))
    tab = pd.DataFrame(rows)
    tab["total s"] = tab[["read s", "income s", "coverage s", "poverty s"]].sum(axis=1)
    with pd.option_context("display.width", 200, "display.float_format", "{:.2f}".format):
        print(tab.to_string(index=False))
    print(f"catalogue: {len(enigh_catalogue())} item wordings")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

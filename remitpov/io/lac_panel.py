"""Loader for the Latin America and Caribbean cross-country panels (``shared/data/lac_panel``).

Two files (MIT licence, see the folder's LICENSE):

``wdi``  -- ``wdi_lac_1990_2021.csv``: World Bank WDI extract, 34 countries x 1990-2021
  (1,088 country-years). ``personal_rm`` personal remittances received (% of GDP),
  ``pov_gap`` poverty gap at $2.15 a day (2017 PPP, %), ``gov_cons_exp``,
  ``curr_acc_balance``, ``debt_s``, ``edu_exp``, ``gross_exp``, ``rd_exp``.
  Missing values are kept as NaN (WDI coverage is patchy: ``pov_gap`` exists for 398
  country-years); models drop incomplete rows only when told to.

``gini`` -- ``lac_gini_remittances_panel.csv``: 15 countries x 2000-2019 (300 rows) with
  WIID inequality (``gini``, ``theil``, ``palma``), remittances ``rm`` (% of GDP, equal
  to WDI ``personal_rm`` in 299 of 300 rows), ``gov_e``, ``debt_s``, ``ca_balance`` and the file's
  ``rm_l1``, ``rm_l3``.

Changes made by the loader (listed in ``df.attrs["load_report"]``):

* ``gini``: ``year`` is stored as a date string (``"2000-10-18"``); it is converted to
  the integer year.
* ``gini``: the file's ``rm_l1``/``rm_l3`` are **not lags**: checked against the WDI
  series they equal ``personal_rm`` of year t+1 (288 of 300 rows) and t+3 (256 of 300),
  i.e. leads (probably lagged on a descending sort). They are kept unchanged (results
  that used them stay reproducible) and the loader adds true lags ``rm_lag1``,
  ``rm_lag3`` (``personal_rm`` at t-1 and t-3, from the WDI file; NaN where WDI has no
  value) when the WDI file is present (``add_lags=True``).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import SHARED_ENV, shared_dir
from ..exceptions import InputError
from .generic import read_table

__all__ = ["read_lac_panel", "LAC_PANEL_FILES"]

LAC_PANEL_FILES = {"wdi": "wdi_lac_1990_2021.csv", "gini": "lac_gini_remittances_panel.csv"}


def _path(which: str, path) -> Path:
    if which not in LAC_PANEL_FILES:
        raise InputError(f"which={which!r}: use one of {tuple(LAC_PANEL_FILES)}")
    if path is not None:
        p = Path(path)
        if p.is_dir():
            p = p / LAC_PANEL_FILES[which]
    else:
        p = shared_dir() / "data" / "lac_panel" / LAC_PANEL_FILES[which]
    if not p.exists():
        raise FileNotFoundError(
            f"LAC panel file not found: {p}. Set the environment variable {SHARED_ENV} to the shared folder "
            f"holding data/lac_panel/{LAC_PANEL_FILES[which]}, or pass path=")
    return p


def read_lac_panel(which: str = "wdi", *, path=None, add_lags: bool = True) -> pd.DataFrame:
    """Read one of the LAC panels as a tidy DataFrame sorted by country and year.

    Parameters
    ----------
    which : {"wdi", "gini"}
    path : str or Path, optional
        The CSV file or the folder holding it (default: ``shared_dir()/data/lac_panel``).
    add_lags : bool
        ``gini`` only: add ``rm_lag1``/``rm_lag3`` (true lags of remittances from the WDI
        file, see the module docstring).

    Returns
    -------
    DataFrame
        ``country``, ``year`` (int) and the variables; ``attrs["load_report"]`` lists
        every change made, ``attrs["source"]`` the file read.

    Raises
    ------
    FileNotFoundError
        When the file is absent (names the path and the ``REMITPOV_SHARED`` setting).
    InputError
        Unknown ``which``, duplicated country-years, or a file that cannot be read
        completely (empty, header only, cut mid-row: see :func:`~remitpov.io.read_table`).
    """
    p = _path(which, path)
    df = read_table(p)[0]  # verified read: an empty, header-only or cut file is an InputError
    missing = [c for c in ("country", "year") if c not in df.columns]
    if missing:
        raise InputError(f"{p.name} has no column(s) {missing}; a LAC panel needs 'country' and 'year' "
                         f"(columns found: {sorted(map(str, df.columns))[:20]})")
    report: list[str] = []
    if which == "gini":
        yr = pd.to_numeric(df["year"].astype(str).str[:4], errors="coerce")
        if yr.isna().any():
            raise InputError(f"unreadable year values in {p.name}: {df.loc[yr.isna(), 'year'].head(3).tolist()} "
                             f"in {int(yr.isna().sum())} rows; years must start with four digits (2000 or '2000-10-18')")
        df["year"] = yr.astype(int)
        report.append("year: date strings like '2000-10-18' converted to the integer year")
        report.append("rm_l1/rm_l3 kept as stored: they are leads (personal_rm at t+1, t+3), not lags")
    else:
        yr = pd.to_numeric(df["year"], errors="coerce")
        bad = yr.isna() | (yr != yr.round())
        if bad.any():
            raise InputError(f"year must be a whole number in {p.name}; got {df.loc[bad, 'year'].head(3).tolist()} "
                             f"in {int(bad.sum())} rows -- fix or remove those rows")
        df["year"] = yr.astype(int)
    dup = df.duplicated(["country", "year"], keep=False)
    if dup.any():
        ex = df.loc[dup, ["country", "year"]].head(3).to_dict("records")
        raise InputError(f"{int(dup.sum())} duplicated country-year rows in {p.name} (e.g. {ex}); a panel needs one "
                         "row per country and year: remove or aggregate the duplicates")
    df = df.sort_values(["country", "year"], kind="stable").reset_index(drop=True)
    if which == "gini" and add_lags:
        try:
            wp = _path("wdi", p.parent if path is not None else None)
        except FileNotFoundError:
            report.append("rm_lag1/rm_lag3 not added: WDI file not found")
        else:
            w = read_table(wp, usecols=["country", "year", "personal_rm"])[0]
            w["year"] = w["year"].astype(int)
            for k in (1, 3):
                lag = w.assign(year=w["year"] + k).rename(columns={"personal_rm": f"rm_lag{k}"})
                df = df.merge(lag, on=["country", "year"], how="left", validate="one_to_one")
            n1, n3 = int(df["rm_lag1"].isna().sum()), int(df["rm_lag3"].isna().sum())
            report.append(f"rm_lag1, rm_lag3 added: WDI personal_rm at t-1 and t-3 (missing in {n1} and {n3} rows)")
    df.attrs["load_report"] = report
    df.attrs["source"] = str(p)
    return df

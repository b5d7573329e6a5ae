"""Poverty lines as data: a table by country / year / area, applied household by household.

A :class:`PovertyLines` table has columns ``country, year, area, indigence, poverty,
currency, period, source``. ``area`` is ``"urban"``, ``"rural"`` or ``"national"`` (a
national line applies to every area). ``period`` is the period of the line amounts
(``"month"``, ``"quarter"`` or ``"year"``); :meth:`PovertyLines.for_survey` converts them
to the period asked for (default per month, the period of ``y_with``).

Shipped lines (:func:`default_lines`), each with its source:

* Guatemala 2000 (ENCOVI 2000): general poverty 4,318.56 and extreme poverty 1,911.69
  quetzales per person per year, national (INE Guatemala; the ``li_gener`` / ``li_extre``
  columns of ``CONSUMO5.DTA``).
* Mexico 2010: CONEVAL "línea de bienestar mínimo" (indigence) 978.47 urban / 683.82
  rural and "línea de bienestar" (poverty) 2,113.86 urban / 1,328.51 rural pesos per
  person per month (scalars ``lp1_urb``, ``lp1_rur``, ``lp2_urb``, ``lp2_rur`` of CONEVAL's
  2010 poverty-measurement program).
* Mexico 2018: CONEVAL "línea de pobreza extrema por ingresos" 1,544.07 urban /
  1,164.75 rural and "línea de pobreza por ingresos" 3,325.40 urban / 2,316.57 rural
  pesos per person per month (same scalars of CONEVAL's 2018 program, third-edition
  methodology).

CONEVAL compares these lines with ``ictpc``, current income per adult equivalent
(scale ``"coneval"``) per month, with a strict ``income < line`` rule; rural means
localities below 2,500 inhabitants (ENIGH ``tam_loc == 4``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import InputError, describe_rows

__all__ = ["PovertyLines", "default_lines", "LINE_COLUMNS"]

LINE_COLUMNS = ("country", "year", "area", "indigence", "poverty", "currency", "period", "source")
_MONTHS = {"month": 1.0, "quarter": 3.0, "year": 12.0}

_DEFAULT = [
    ("GTM", 2000, "national", 1911.69, 4318.56, "GTQ", "year",
     "INE Guatemala, ENCOVI 2000 official lines (li_extre, li_gener in CONSUMO5.DTA)"),
    ("MEX", 2010, "urban", 978.47, 2113.86, "MXN", "month",
     "CONEVAL 2010 poverty program: bienestar minimo (lp1_urb) and bienestar (lp2_urb), August 2010 pesos"),
    ("MEX", 2010, "rural", 683.82, 1328.51, "MXN", "month",
     "CONEVAL 2010 poverty program: bienestar minimo (lp1_rur) and bienestar (lp2_rur), August 2010 pesos"),
    ("MEX", 2018, "urban", 1544.07, 3325.40, "MXN", "month",
     "CONEVAL 2018 poverty program (3rd ed. methodology): LPEI (lp1_urb) and LPI (lp2_urb)"),
    ("MEX", 2018, "rural", 1164.75, 2316.57, "MXN", "month",
     "CONEVAL 2018 poverty program (3rd ed. methodology): LPEI (lp1_rur) and LPI (lp2_rur)"),
]


class PovertyLines:
    """A table of indigence and poverty lines by country, year and area.

    Parameters
    ----------
    table : DataFrame or str or Path
        The lines, or a CSV file with the columns :data:`LINE_COLUMNS` (``source`` and
        ``currency`` may be empty; ``period`` defaults to ``"month"``).

    Notes
    -----
    Immutable: the table is copied and validated (positive lines, indigence <= poverty,
    known periods, one row per country/year/area).
    """

    def __init__(self, table):
        if isinstance(table, (str, Path)):
            p = Path(table)
            if not p.exists():
                raise InputError(f"poverty-line file not found: {str(p)!r}")
            table = pd.read_csv(p)
        if not isinstance(table, pd.DataFrame):
            raise InputError(f"PovertyLines needs a DataFrame or a CSV path, got {type(table).__name__}")
        df = table.copy()
        if "period" not in df.columns:
            df["period"] = "month"
        for c in ("currency", "source"):
            if c not in df.columns:
                df[c] = None
        missing = [c for c in LINE_COLUMNS if c not in df.columns]
        if missing:
            raise InputError(f"poverty-line table lacks column(s) {missing}; needed: {list(LINE_COLUMNS)}")
        for c in ("country", "year", "area"):
            bad = df[c].isna().to_numpy()
            if bad.any():
                raise InputError(f"poverty-line column {c!r} is missing in {describe_rows(bad)}; every line needs "
                                 "a country, a year and an area ('urban', 'rural' or 'national')")
        df["country"] = df["country"].astype(str)
        df["area"] = df["area"].astype(str)
        year = pd.to_numeric(df["year"], errors="coerce")
        bad = (year.isna() | (year != year.round())).to_numpy()
        if bad.any():
            raise InputError(f"poverty-line column 'year' must be a whole number; got "
                             f"{df.loc[bad, 'year'].head(3).tolist()} in {describe_rows(bad)}")
        df["year"] = year.astype(int)
        for c in ("indigence", "poverty"):
            df[c] = pd.to_numeric(df[c], errors="coerce")
            bad = ~(df[c] > 0).to_numpy()
            if bad.any():
                raise InputError(f"poverty-line column {c!r} is missing or not positive in {describe_rows(bad)}; "
                                 "lines are amounts per person per period, > 0")
        bad = (df["indigence"] > df["poverty"]).to_numpy()
        if bad.any():
            raise InputError(f"indigence line above the poverty line in {describe_rows(bad)}; check that the two "
                             "columns are not swapped and use the same period")
        bad = ~df["period"].isin(list(_MONTHS)).to_numpy()
        if bad.any():
            raise InputError(f"line period must be one of {tuple(_MONTHS)}; other values in {describe_rows(bad)}")
        dup = df.duplicated(["country", "year", "area"], keep=False).to_numpy()
        if dup.any():
            raise InputError(f"poverty-line table has duplicated country/year/area rows: {describe_rows(dup)}; "
                             "keep one line per country, year and area")
        self._table = df[list(LINE_COLUMNS)].reset_index(drop=True)

    @property
    def table(self) -> pd.DataFrame:
        """A copy of the table."""
        return self._table.copy()

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        return f"PovertyLines({len(self)} rows)\n{self._table.to_string(index=False)}"

    def summary(self) -> str:
        return repr(self)

    def select(self, country, year) -> pd.DataFrame:
        """Rows for one country and year (InputError if none)."""
        t = self._table
        sel = t[(t["country"] == str(country)) & (t["year"] == year)]
        if sel.empty:
            have = sorted(set(zip(t["country"], t["year"].astype(int))))
            raise InputError(f"no poverty lines for country={country!r}, year={year!r}; the table has {have}")
        return sel

    def for_survey(self, survey, country=None, year=None, *, area_col: str | None = "area",
                   period: str = "month") -> tuple[np.ndarray, np.ndarray]:
        """Indigence and poverty line of every row of ``survey`` (per person per ``period``).

        Parameters
        ----------
        survey : Survey
        country, year : optional
            Default: the survey's metadata.
        area_col : str or None
            Column with the area of each row (values as in the table's ``area``). A
            ``"national"`` line applies to rows whose area has no line of its own; with
            ``area_col=None`` only a national line can be used.
        period : {"month", "quarter", "year"}
            Period of the returned amounts.

        Returns
        -------
        (indigence, poverty) : tuple of ndarray

        Raises
        ------
        InputError
            No lines for the country/year, or an area value without a line (named).
        """
        if period not in _MONTHS:
            raise InputError(f"period must be one of {tuple(_MONTHS)}, got {period!r}")
        country = survey.metadata.country if country is None else country
        year = survey.metadata.year if year is None else year
        sel = self.select(country, year)
        conv = _MONTHS[period] / sel["period"].map(_MONTHS).to_numpy(dtype=float)
        ind = dict(zip(sel["area"], sel["indigence"].to_numpy(dtype=float) * conv))
        pov = dict(zip(sel["area"], sel["poverty"].to_numpy(dtype=float) * conv))
        if area_col is None:
            if "national" not in ind:
                raise InputError(f"no national line for {country!r} {year}; pass area_col")
            return np.full(survey.n, ind["national"]), np.full(survey.n, pov["national"])
        if area_col not in survey.data.columns:
            raise InputError(f"area column {area_col!r} not found; pass area_col=<column> or None for a national line")
        area = survey.data[area_col]
        miss = area.isna().to_numpy()
        if miss.any():
            raise InputError(f"area column {area_col!r} is missing in {describe_rows(miss, survey.id_values)}")
        key = area.astype(str)
        known = set(ind)
        fallback = "national" if "national" in known else None
        unknown = sorted(set(key) - known) if fallback is None else []
        if unknown:
            bad = key.isin(unknown).to_numpy()
            raise InputError(f"no poverty line for area {unknown[0]!r} ({country} {year}) in column {area_col!r}: "
                             f"{describe_rows(bad, survey.id_values)}; the table has areas {sorted(known)}")
        k = key.where(key.isin(known), fallback)
        return k.map(ind).to_numpy(dtype=float), k.map(pov).to_numpy(dtype=float)


def default_lines() -> PovertyLines:
    """The documented lines shipped with remitpov (see the module docstring)."""
    return PovertyLines(pd.DataFrame(_DEFAULT, columns=list(LINE_COLUMNS)))

"""Banco de México's balance-of-payments remittance series (the macro totals surveys under-capture).

The files are those of the public repository lapanquecita/remesas (data: Banxico SIE):

============================  ==========  ==================================================
file                          series      rows
============================  ==========  ==================================================
``remesas_mensuales.csv``     national    month x flow (``Ingresos`` inflows, ``Egresos``
                                          outflows): ``VALOR_USD``, ``OPERACIONES``
``remesas_entidad.csv``       state       quarter x Mexican state (``CVE_ENT`` 1-32) inflows
``remesas_pais.csv.gz``       country     month x counterpart country x flow
``remesas_usa.csv``           us_state    quarter x US state of the sender
============================  ==========  ==================================================

:func:`read_banxico_remittances` returns a tidy table whose ``period`` is the first day of
the month / quarter as a ``datetime64`` column, values in US dollars (current), and
aggregates to quarters or years on request, flagging incomplete periods (a year with fewer
than 12 months / 4 quarters published) so that they are never compared with a full-year
survey total by mistake.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import InputError
from .generic import read_table

__all__ = ["read_banxico_remittances", "BANXICO_FILES", "annual_remittances"]

#: series name -> (file name, native frequency, key columns besides the period).
BANXICO_FILES = {
    "national": ("remesas_mensuales.csv", "month", ()),
    "state": ("remesas_entidad.csv", "quarter", ("CVE_ENT", "ENTIDAD")),
    "country": ("remesas_pais.csv.gz", "month", ("ID_PAIS", "PAIS")),
    "us_state": ("remesas_usa.csv", "quarter", ("ID_ESTADO", "ESTADO")),
}
_FLOWS = {"inflows": "Ingresos", "outflows": "Egresos"}
_PER_YEAR = {"month": 12, "quarter": 4}
_RENAME = {"CVE_ENT": "state", "ENTIDAD": "state_name", "ID_PAIS": "country", "PAIS": "country_name",
           "ID_ESTADO": "us_state", "ESTADO": "us_state_name", "VALOR_USD": "value_usd", "OPERACIONES": "operations"}


def _series_of(path: Path, series: str | None) -> str:
    if series is not None:
        if series not in BANXICO_FILES:
            raise InputError(f"unknown Banxico series {series!r}: one of {list(BANXICO_FILES)}")
        return series
    for name, (fname, _, _) in BANXICO_FILES.items():
        if path.name == fname:
            return name
    raise InputError(f"cannot tell which Banxico series {path.name!r} is: pass series= one of {list(BANXICO_FILES)}")


def read_banxico_remittances(path, *, series: str | None = None, flow: str = "inflows", freq: str | None = None,
                             complete_only: bool = False) -> pd.DataFrame:
    """Read a Banxico remittance series, optionally aggregated to quarters or years.

    Parameters
    ----------
    path : str or Path
        One of :data:`BANXICO_FILES`, or the folder holding them (then ``series`` picks one).
    series : {"national", "state", "country", "us_state"}, optional
        Default: from the file name.
    flow : {"inflows", "outflows", "both"}
        For the series that carry both (national, country): remittances received by Mexico
        (default), sent from Mexico, or both (a ``flow`` column).
    freq : {None, "quarter", "year"}
        ``None`` keeps the native frequency (monthly national and country series, quarterly
        state and US-state series). Aggregation sums ``value_usd`` (and ``operations``) over
        the months/quarters published in each quarter/year; ``n_periods`` counts them and
        ``complete`` says whether all were published.
    complete_only : bool
        Drop incomplete aggregated periods (default: keep them, flagged).

    Returns
    -------
    DataFrame
        ``period`` (first day, datetime64), ``year``, keys (``state`` 1-32 and
        ``state_name``; ``country``/``country_name``; ``us_state``/``us_state_name``),
        ``value_usd`` (US dollars), ``operations`` (national series); aggregated tables add
        ``n_periods`` and ``complete``. ``attrs``: ``series``, ``source``, ``freq``.

    Raises
    ------
    InputError
        Missing file or columns, unparseable periods, duplicated period x key rows,
        negative or missing values, state codes outside 1-32, an unknown series, flow or
        frequency; ``freq="quarter"`` on a quarterly series is allowed (no change).
    """
    if flow not in ("inflows", "outflows", "both"):
        raise InputError(f"flow must be 'inflows', 'outflows' or 'both', got {flow!r}")
    if freq not in (None, "quarter", "year"):
        raise InputError(f"freq must be None, 'quarter' or 'year', got {freq!r}")
    path = Path(path)
    if path.is_dir():
        if series is None:
            raise InputError(f"{str(path)!r} is a folder: pass series= one of {list(BANXICO_FILES)}")
        path = path / BANXICO_FILES[_series_of(path, series)][0]
    series = _series_of(path, series)
    fname, native, keys = BANXICO_FILES[series]
    df, src, _ = read_table(path, dtype={k: str for k in keys if not k.startswith("CVE")})
    need = ["PERIODO", "VALOR_USD", *keys] + (["FLUJO"] if series in ("national", "country") else [])
    miss = [c for c in need if c not in df.columns]
    if miss:
        raise InputError(f"Banxico file {path.name!r} lacks column(s) {miss} (found {list(df.columns)}); is it the "
                         f"{series} series ({fname})?")
    per = pd.to_datetime(df["PERIODO"], format="%Y-%m-%d", errors="coerce")
    bad = per.isna().to_numpy()
    if bad.any():
        raise InputError(f"Banxico {series}: PERIODO not a date (YYYY-MM-DD) in {int(bad.sum())} rows, e.g. "
                         f"{df.loc[bad, 'PERIODO'].head(3).tolist()}")
    if native == "quarter" and not per.dt.month.isin([1, 4, 7, 10]).all():
        raise InputError(f"Banxico {series}: quarterly periods must start in January, April, July or October")
    df["period"] = per
    if "FLUJO" in df.columns:
        known = set(_FLOWS.values())
        unk = sorted(set(df["FLUJO"].dropna().astype(str)) - known)
        if unk:
            raise InputError(f"Banxico {series}: unknown FLUJO value(s) {unk}; expected {sorted(known)}")
        if flow != "both":
            df = df[df["FLUJO"] == _FLOWS[flow]]
        df = df.assign(flow=df["FLUJO"].map({v: k for k, v in _FLOWS.items()}))
    v = pd.to_numeric(df["VALOR_USD"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(v) | (v < 0)
    if bad.any():
        raise InputError(f"Banxico {series}: VALOR_USD missing, not a number or negative in {int(bad.sum())} rows, "
                         f"e.g. periods {df.loc[bad, 'PERIODO'].head(3).tolist()}")
    out = df.rename(columns=_RENAME)
    out["value_usd"] = v
    kcols = [_RENAME[k] for k in keys] + (["flow"] if "flow" in out.columns else [])
    if series == "state":
        st = pd.to_numeric(out["state"], errors="coerce")
        bad = ~st.isin(np.arange(1, 33)).to_numpy()
        if bad.any():
            raise InputError(f"Banxico state series: CVE_ENT outside 1-32 in {int(bad.sum())} rows: "
                             f"{sorted(set(out.loc[bad, 'state'].astype(str)))[:5]}")
        out["state"] = st.astype(np.int64)
    dup = out.duplicated(["period", *kcols], keep=False).to_numpy()
    if dup.any():
        raise InputError(f"Banxico {series}: {int(dup.sum())} rows duplicate a period x {kcols or 'series'} "
                         f"(e.g. {out.loc[dup, 'PERIODO'].head(3).tolist()}); one value per period")
    cols = ["period", *kcols, "value_usd"] + (["operations"] if "operations" in out.columns else [])
    out = out[cols].sort_values(["period", *kcols]).reset_index(drop=True)
    out.insert(1, "year", out["period"].dt.year)
    if freq is not None and not (freq == "quarter" and native == "quarter"):
        if freq == "quarter" and native == "year":  # pragma: no cover - no annual files
            raise InputError("cannot disaggregate")
        step = "Q" if freq == "quarter" else "Y"
        start = out["period"].dt.to_period(step).dt.start_time
        nat_per = 3 if (freq == "quarter" and native == "month") else _PER_YEAR[native]
        vals = ["value_usd"] + (["operations"] if "operations" in out.columns else [])
        g = out.assign(period=start).groupby(["period", *kcols], sort=True)
        agg = g[vals].sum()
        agg["n_periods"] = g.size()
        agg = agg.reset_index()
        agg.insert(1, "year", agg["period"].dt.year)
        agg["complete"] = agg["n_periods"] == nat_per
        if complete_only:
            agg = agg[agg["complete"]].reset_index(drop=True)
        out = agg
    out.attrs.update(series=series, freq=freq or native, source=f"Banco de México (SIE), via lapanquecita/remesas: "
                                                                    f"{path.name}; US dollars")
    return out


def annual_remittances(path, year: int, *, by_state: bool = False) -> float | pd.Series:
    """Remittance inflows received by Mexico in ``year`` (US dollars), national or by state.

    ``path`` is the Banxico folder (or the series file). Raises :class:`InputError` when the
    year is not fully published (fewer than 12 months / 4 quarters) or absent.
    """
    t = read_banxico_remittances(path if Path(path).is_file() else Path(path),
                                 series="state" if by_state else "national", freq="year")
    t = t[t["year"] == int(year)]
    if t.empty:
        raise InputError(f"Banxico {'state' if by_state else 'national'} series has no data for {year}")
    if not t["complete"].all():
        raise InputError(f"Banxico {'state' if by_state else 'national'} series: {year} is incomplete "
                         f"({int(t['n_periods'].min())} of {12 if not by_state else 4} periods published)")
    if by_state:
        return t.set_index("state")["value_usd"].rename(f"bop_{year}")
    return float(t["value_usd"].sum())

"""Loader for laeken's EU-SILC sample (``laeken::eusilc``, synthetic Austrian data).

Equivalisation follows laeken 0.5.2 exactly (``laeken::eqSS`` and ``laeken::eqInc``):

* equivalised household size, modified OECD scale, per household ``db030``::

      eqSS = 1 + 0.5 * (#members aged >= 14  - 1) + 0.3 * (#members aged <= 13)

* household disposable income (euro per year)::

      HY = sum(hy040n, hy050n, hy070n, hy080n, hy090n, hy110n)   # household items, once per household
           - sum(hy130n, hy145n)                                 # taxes / transfers paid
           + sum over members of (py010n, py050n, py090n, py100n, py110n, py120n, py130n, py140n)
             (missing person items, e.g. children's, count as 0)

* equivalised income ``eqIncome = HY / eqSS`` (the same value on every member row).

``hy080n`` (regular inter-household cash transfers received) is the remittance-like
item: the *without* concept is ``(HY - hy080n) / eqSS = eqIncome - hy080n / eqSS``, with no
floor (4 persons get negative income, as in the shared R reference).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import InputError, describe_rows
from ..survey import Survey, SurveyMetadata
from .generic import check_duplicate_rows, check_income, ids_of, numeric_column, read_table, report_duplicates, require_columns

__all__ = ["read_eusilc", "HPLUS", "HMINUS", "PPLUS", "EUSILC_SOURCES"]

#: Household income items added (laeken ``eqInc`` default ``hplus``).
HPLUS = ("hy040n", "hy050n", "hy070n", "hy080n", "hy090n", "hy110n")
#: Household items subtracted (``hminus``).
HMINUS = ("hy130n", "hy145n")
#: Person income items summed over household members (``pplus``).
PPLUS = ("py010n", "py050n", "py090n", "py100n", "py110n", "py120n", "py130n", "py140n")

#: Source name -> EU-SILC item (household level; person items are summed per household
#: into ``hh_<item>`` columns).
EUSILC_SOURCES = {
    "rents": "hy040n", "family_allowances": "hy050n", "housing_allowances": "hy070n",
    "remittances": "hy080n", "capital": "hy090n", "under16": "hy110n",
    "employee_cash": "py010n", "self_employment": "py050n", "unemployment": "py090n",
    "old_age": "py100n", "survivors": "py110n", "sickness": "py120n", "disability": "py130n",
    "education_allowances": "py140n",
}

_PERIOD_DIV = {"year": 1.0, "quarter": 4.0, "month": 12.0}


def read_eusilc(path, *, period: str = "year", check_shipped: bool = True, tolerance: float = 1e-8,
                duplicates: str = "error") -> Survey:
    """Read laeken's EU-SILC sample and rebuild its equivalised income.

    Parameters
    ----------
    path : str or Path
        ``eusilc.csv.gz`` (or any format :func:`~remitpov.io.generic.read_table` reads)
        with laeken's columns.
    period : {"year", "quarter", "month"}
        Period of the standard income columns (EU-SILC income is annual; laeken and the
        shared R references use ``"year"``).
    check_shipped : bool
        When the file has ``eqSS`` / ``eqIncome`` columns, compare the rebuilt values with
        them and raise :class:`InputError` if they differ by more than ``tolerance``
        (absolute, euro); the differences are reported either way.
    tolerance : float
        Absolute tolerance of that check.
    duplicates : {"error", "drop", "keep"}
        Rows that are exact copies of another row: raise (default), drop the extra
        copies (reported) or keep them (see :func:`~remitpov.io.generic.check_duplicate_rows`).

    Returns
    -------
    Survey
        Person rows (``unit="person"``), weight ``rb050``, strata ``db040``, PSU ``db030``
        (households), ids ``rb030``. Standard columns, consistent with
        :func:`remitpov.income.build_income`:

        ``y_hh``
            household disposable income HY (per ``period``);
        ``eq_scale``
            laeken's ``eqSS`` (rebuilt);
        ``income_factor``
            1 for ``period="year"`` (raw items -> ``period``);
        ``y_with``
            equivalised income, equal to laeken's ``eqIncome`` for ``period="year"``;
        ``remit_hh``, ``remit_pc``
            ``hy080n`` per household and per equivalent adult;
        ``y_without``
            ``(HY - hy080n) / eqSS`` (no floor);
        ``recipient``, ``remit_share``
            ``hy080n > 0`` and ``hy080n / HY`` (NaN where HY <= 0);
        ``hh_py010n`` ...
            person items summed over the household (sources).

        Roles: ``income="y_hh"``, ``remittances="hy080n"``, ``y_with``, ``y_without``, ...
    """
    if period not in _PERIOD_DIV:
        raise InputError(f"period must be one of {tuple(_PERIOD_DIV)}, got {period!r}")
    df, src, report = read_table(path)
    need = {"db030": "db030", "db040": "db040", "rb050": "rb050", "age": "age", "rb030": "rb030"}
    need.update({c: c for c in HPLUS + HMINUS + PPLUS})
    require_columns(df, need, "EU-SILC file")
    df, report = check_duplicate_rows(df, report, ids=["rb030"], weight="rb050", duplicates=duplicates)
    report = report_duplicates(df, ["rb030"], report)
    idv = df["rb030"].to_numpy()
    for c in ("rb050", "age") + HPLUS + HMINUS + PPLUS:  # text in a numeric item: an error naming values and rows
        df[c] = numeric_column(df, c, "EU-SILC", idv)[0].to_numpy()
    age = pd.to_numeric(df["age"], errors="coerce")
    if age.isna().any():
        raise InputError(f"EU-SILC column 'age' is missing in {describe_rows(age.isna().to_numpy(), idv)}; "
                         "laeken's eqSS needs every member's age")
    hh = df["db030"]
    # household items must be constant within the household (they are repeated on member rows)
    nun = df.groupby("db030", sort=False)[list(HPLUS + HMINUS)].nunique(dropna=False)
    bad_items = [c for c in nun.columns if (nun[c] > 1).any()]
    if bad_items:
        bad_hh = nun.index[(nun[bad_items] > 1).any(axis=1)]
        mask = hh.isin(bad_hh).to_numpy()
        raise InputError(f"EU-SILC household items {bad_items} differ between members of the same household "
                         f"db030 in {describe_rows(mask, hh.to_numpy())}")
    for c in HPLUS + HMINUS:
        miss = df[c].isna().to_numpy()
        if miss.any():
            raise InputError(f"EU-SILC household item {c!r} is missing in {describe_rows(miss, idv)}")
    adults = (age >= 14).groupby(hh).transform("sum").to_numpy(dtype=float)
    children = (age <= 13).groupby(hh).transform("sum").to_numpy(dtype=float)
    eqss = 1.0 + 0.5 * (adults - 1.0) + 0.3 * children
    pitems = df[list(PPLUS)].astype(float)
    n_na = int(pitems.isna().to_numpy().sum())
    hh_p = pitems.fillna(0.0).groupby(hh).transform("sum")
    report = report.add("missing", f"{n_na} missing person income items (children, non-respondents) "
                                   "counted as 0, as laeken does", None, n_na)
    hy = (df[list(HPLUS)].astype(float).sum(axis=1) - df[list(HMINUS)].astype(float).sum(axis=1)
          + hh_p.sum(axis=1)).to_numpy()
    div = _PERIOD_DIV[period]
    y_hh = hy / div
    rem = df["hy080n"].to_numpy(dtype=float) / div
    y_with = y_hh / eqss
    y_without = (y_hh - rem) / eqss
    out = df.copy()
    for c in PPLUS:
        out[f"hh_{c}"] = hh_p[c].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(y_hh > 0, rem / np.where(y_hh > 0, y_hh, 1.0), np.nan)
    new = {"eq_scale": eqss, "y_hh": y_hh, "income_factor": np.full(len(df), 1.0 / div), "remit_hh": rem,
           "y_with": y_with, "y_without": y_without, "remit_pc": rem / eqss, "recipient": rem > 0,
           "remit_share": share}
    for k, v in new.items():
        out[k] = v
    report = report.add("converted", "rebuilt laeken eqSS (modified OECD, age >= 14 adult, <= 13 child) and "
                                     "household income HY = hplus - hminus + sum of members' pplus items",
                        "eq_scale", len(df))
    if div != 1.0:
        report = report.add("converted", f"annual euro divided by {div:g} to per-{period} amounts", "y_with", len(df))
    notes = [f"y_with / y_without / remit_pc: euro per equivalent adult per {period} (laeken eqSS)"]
    if check_shipped:
        for shipped, rebuilt, name in (("eqSS", eqss, "eqSS"), ("eqIncome", y_with * div, "eqIncome")):
            if shipped in df.columns:
                diff = np.abs(df[shipped].to_numpy(dtype=float) - rebuilt)
                mx = float(np.nanmax(diff))
                if mx > tolerance or np.isnan(diff).any():
                    bad = ~(diff <= tolerance)
                    raise InputError(f"rebuilt {name} differs from the shipped column {shipped!r} by up to {mx:.3g} "
                                     f"in {describe_rows(bad, idv)}; the file does not follow laeken's definitions")
                report = report.add("checked", f"rebuilt {name} equals the shipped {shipped!r} "
                                               f"(max abs difference {mx:.3g})", shipped, len(df))
                notes.append(f"max |rebuilt - shipped {shipped}| = {mx:.3g}")
    neg = y_without < 0
    if neg.any():
        report = report.add("negative_income", "income without hy080n is negative (kept, no floor: the "
                                               "static counterfactual of the shared R reference)", "y_without",
                            int(neg.sum()), idv[neg][:3])
    out, report = check_income(out, report, income="y_hh", remittances=None, ids=["rb030"],
                               negative_income="keep", missing_income="error")
    over = rem > y_hh
    if over.any():
        report = report.add("remittances_exceed", "hy080n larger than household income HY (kept)", "hy080n",
                            int(over.sum()), idv[over][:3])
    rec = new["recipient"]
    report = report.add("found", f"{int(rec.sum())} persons in {int(hh[rec].nunique())} households receive hy080n",
                        "hy080n", int(rec.sum()))
    sources = {k: (f"hh_{c}" if c.startswith("py") else c) for k, c in EUSILC_SOURCES.items()}
    roles = {"income": "y_hh", "remittances": "hy080n", "y_with": "y_with", "y_without": "y_without",
             "remit_pc": "remit_pc", "recipient": "recipient", "remit_share": "remit_share",
             "scale": "eq_scale", "hh_income": "y_hh", "hh_remittances": "remit_hh",
             "income_factor": "income_factor", "sex": "rb090", "region": "db040", "household": "db030"}
    meta = SurveyMetadata(name="EU-SILC (laeken sample)", country="AT", year=None, currency="EUR",
                          income_period="year", weight_unit="person", files=(src,), loader="read_eusilc",
                          welfare="income", welfare_scale="oecd_modified",
                          notes=tuple(notes) + ("synthetic data shipped with R package laeken 0.5.2 (GPL >= 2)",))
    return Survey(out, weight="rb050", strata="db040", psu="db030", unit="person", size=None, ids=("rb030",),
                  roles=roles, sources=sources, metadata=meta, report=report)

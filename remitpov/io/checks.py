"""Validation helpers every loader shares, so that bad input gets the same message
everywhere: required columns, numeric columns (text cells), income and remittance
policies, duplicated identifiers and exact duplicate rows.

Conventions: each message names the column, the number of offending rows, example
identifiers and what to do; a policy argument (``"error"`` by default) decides the
alternative, and its effect is written to the :class:`~remitpov.survey.LoadReport`.
Data frames are never modified in place (a copy is returned when values change).
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..exceptions import InputError, describe_rows
from ..survey import LoadReport, join_ids, text_cells, text_values

__all__ = ["require_columns", "ids_of", "numeric_column", "check_income", "report_duplicates",
           "check_duplicate_rows", "INCOME_POLICIES", "DUPLICATE_POLICIES"]

#: Policies for negative / missing incomes and remittances above income.
INCOME_POLICIES = ("error", "zero", "keep")


def require_columns(df: pd.DataFrame, columns: Mapping[str, Any], what: str = "survey") -> None:
    """Raise :class:`InputError` naming every ``role -> column`` whose column is absent."""
    missing = [(k, c) for k, c in columns.items() if c is not None and c not in df.columns]
    if missing:
        desc = ", ".join(f"{k}={c!r}" for k, c in missing)
        raise InputError(f"{what}: column(s) not found: {desc}; available columns: "
                         f"{sorted(map(str, df.columns))[:60]}")


def ids_of(df: pd.DataFrame, ids) -> np.ndarray | None:
    """Row identifiers (joined with '-' for several id columns) for messages."""
    ids = [ids] if isinstance(ids, str) else list(ids or ())
    if not ids:
        return None
    if len(ids) == 1:
        return df[ids[0]].to_numpy()
    return join_ids(df, ids)


def numeric_column(df: pd.DataFrame, col: str, what: str, idv, report: LoadReport | None = None,
                   coerce_text: bool = False) -> tuple[pd.Series, LoadReport | None]:
    """Column ``col`` as floats; text that is not a number raises, or with ``coerce_text`` becomes missing.

    Parameters
    ----------
    df : DataFrame
    col : str
    what : str
        Role of the column, for the message (``"income"``, ``"weight"`` ...).
    idv : array, optional
        Row identifiers for the message.
    report : LoadReport, optional
        Extended with a ``"coerced"`` entry (count and example values) when text is coerced.
    coerce_text : bool
        ``False`` (default): :class:`InputError` listing the text values and rows.
        ``True``: the text cells become NaN (missing) and the report says how many and
        which values; the missing-value policy of the caller then applies.

    Returns
    -------
    (Series, LoadReport or None)
    """
    num, bad = text_cells(df[col])
    if bad.any():
        vals = text_values(df[col], bad)
        if not coerce_text:
            raise InputError(f"{what} column {col!r} has non-numeric values in {describe_rows(bad, idv)}: {vals}; "
                             "fix them (e.g. remove thousands separators), or pass coerce_text=True to treat "
                             "them as missing (counted in the load report)")
        if report is not None:
            report = report.add("coerced", f"{int(bad.sum())} non-numeric {what} values {vals} set to missing "
                                           "(coerce_text=True)", col, int(bad.sum()),
                                idv[bad][:3] if idv is not None else np.flatnonzero(bad)[:3])
    return num, report


def _policy(name: str, value: str, allowed=INCOME_POLICIES) -> str:
    if value not in allowed:
        raise InputError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_income(df: pd.DataFrame, report: LoadReport, *, income: str | None, remittances: str | None = None,
                 sources: Mapping[str, str] | None = None, ids=None, negative_income: str = "error",
                 missing_income: str = "error", remittances_exceed: str = "error",
                 coerce_text: bool = False) -> tuple[pd.DataFrame, LoadReport]:
    """Validate the income and remittance columns, apply the policies and report.

    Parameters
    ----------
    df : DataFrame
        The data (not modified; a copy is returned when values change).
    report : LoadReport
        Report to extend.
    income, remittances : str, optional
        Column names (household or person income in the file's own period).
    sources : mapping, optional
        Other source columns: checked for non-numeric values and missing values
        (reported, never changed).
    ids : str or list of str, optional
        Identifier columns used in messages.
    negative_income : {"error", "zero", "keep"}
        Negative income or remittances: raise, set to 0, or keep (reported either way).
    missing_income : {"error", "zero", "keep"}
        Missing (NaN) income or remittances: raise, set to 0, or keep as NaN.
    remittances_exceed : {"error", "cap", "keep"}
        Remittances larger than income (impossible when remittances are a component of
        income; usually a unit or period mismatch): raise, cap at income, or keep.
    coerce_text : bool
        Text that is not a number in these columns (``"n/a"``, ``"1,873.50"``): raise
        (default, listing the values and rows), or with ``True`` treat it as missing and
        record a ``"coerced"`` load-report entry; ``missing_income`` then applies.

    Returns
    -------
    (DataFrame, LoadReport)
    """
    _policy("negative_income", negative_income)
    _policy("missing_income", missing_income)
    _policy("remittances_exceed", remittances_exceed, ("error", "cap", "keep"))
    idv = ids_of(df, ids)
    out = df
    changed = False
    for role, col in (("income", income), ("remittances", remittances)):
        if col is None:
            continue
        require_columns(df, {role: col})
        s, report = numeric_column(df, col, role, idv, report, coerce_text)
        miss = s.isna().to_numpy()
        if miss.any():
            msg = f"{role} column {col!r} is missing in {describe_rows(miss, idv)}"
            if missing_income == "error":
                raise InputError(msg + "; fill them, drop those rows explicitly, or pass missing_income='zero' or 'keep'")
            if missing_income == "zero":
                s = s.fillna(0.0)
                report = report.add("missing", f"{role} missing set to 0 (missing_income='zero')", col,
                                    int(miss.sum()), idv[miss][:3] if idv is not None else np.flatnonzero(miss)[:3])
            else:
                report = report.add("missing", f"{role} missing kept as NaN (missing_income='keep')", col,
                                    int(miss.sum()), idv[miss][:3] if idv is not None else np.flatnonzero(miss)[:3])
        neg = (s < 0).to_numpy()
        if neg.any():
            msg = f"{role} column {col!r} is negative in {describe_rows(neg, idv)}"
            if negative_income == "error":
                raise InputError(msg + "; pass negative_income='zero' (set to 0) or 'keep' to choose a policy")
            ex = idv[neg][:3] if idv is not None else np.flatnonzero(neg)[:3]
            if negative_income == "zero":
                s = s.where(~neg, 0.0)
                report = report.add("negative_income", f"negative {role} set to 0 (negative_income='zero')", col,
                                    int(neg.sum()), ex)
            else:
                report = report.add("negative_income", f"negative {role} kept (negative_income='keep')", col,
                                    int(neg.sum()), ex)
        zero = (s == 0).to_numpy()
        if role == "income" and zero.any():
            ex = idv[zero][:3] if idv is not None else np.flatnonzero(zero)[:3]
            report = report.add("zero_income", f"{int(zero.sum())} rows with zero income (kept)", col,
                                int(zero.sum()), ex)
        if not s.equals(df[col]):
            if not changed:
                out = df.copy()
                changed = True
            out[col] = s.to_numpy()
    if income is not None and remittances is not None:
        inc = out[income].to_numpy(dtype=float)
        rem = out[remittances].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            over = (rem > 0) & (rem > inc + 1e-9 * np.maximum(1.0, np.abs(inc)))
        if over.any():
            msg = (f"remittances column {remittances!r} is larger than income column {income!r} in "
                   f"{describe_rows(over, idv)}")
            if remittances_exceed == "error":
                raise InputError(msg + "; check units and periods, or pass remittances_exceed='cap' or 'keep'")
            ex = idv[over][:3] if idv is not None else np.flatnonzero(over)[:3]
            if remittances_exceed == "cap":
                if not changed:
                    out = df.copy()
                    changed = True
                out[remittances] = np.where(over, inc, rem)
                report = report.add("converted", "remittances capped at income (remittances_exceed='cap')",
                                    remittances, int(over.sum()), ex)
            else:
                report = report.add("remittances_exceed", "remittances larger than income kept "
                                    "(remittances_exceed='keep')", remittances, int(over.sum()), ex)
    for name, col in (sources or {}).items():
        if col is None or col in (income, remittances):
            continue
        require_columns(df, {f"source {name}": col})
        s, report = numeric_column(out, col, f"source {name}", idv, report, coerce_text)
        if not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            if not changed:
                out = out.copy()
                changed = True
            out[col] = s.to_numpy()
        miss = s.isna().to_numpy()
        if miss.any():
            report = report.add("missing", f"income source {name!r} is missing (kept as NaN)", col,
                                int(miss.sum()), idv[miss][:3] if idv is not None else np.flatnonzero(miss)[:3])
    return out, report


def report_duplicates(df: pd.DataFrame, ids, report: LoadReport) -> LoadReport:
    """Raise if the id columns do not identify rows uniquely."""
    ids = [ids] if isinstance(ids, str) else list(ids or ())
    if not ids:
        return report
    dup = df.duplicated(ids, keep=False).to_numpy()
    if dup.any():
        raise InputError(f"id column(s) {ids} are duplicated in {describe_rows(dup, ids_of(df, ids))}; "
                         "every row must have a unique identifier (remove genuine duplicates, or for ENIGH "
                         "decile splits use read_enigh which collapses them)")
    return report


#: Policies for exact duplicate rows.
DUPLICATE_POLICIES = ("error", "drop", "keep")


def check_duplicate_rows(df: pd.DataFrame, report: LoadReport, *, ids=None, weight: str | None = None,
                         duplicates: str = "error") -> tuple[pd.DataFrame, LoadReport]:
    """Refuse (or drop, or keep with a report entry) rows that are exact copies of another row.

    An exact copy (every column equal, weight included) is a data-handling error (a file
    appended twice, a bad merge), not a unit of the sample: counted twice it doubles that
    unit's weight. ENIGH decile splits are not exact copies (their ``factor`` and decile
    differ) and are handled by :func:`remitpov.io.read_enigh`.

    Parameters
    ----------
    df : DataFrame
    report : LoadReport
    ids : str or list of str, optional
        Identifier columns for the message.
    weight : str, optional
        Weight column: the weight carried by the extra copies is reported.
    duplicates : {"error", "drop", "keep"}
        ``"error"`` (default): :class:`InputError` naming the rows; ``"drop"``: keep the
        first of each set of copies (load-report entry ``"dropped"`` with the count and the
        weight removed); ``"keep"``: keep them all (entry ``"duplicates_kept"``), for data
        whose rows are genuinely distinct units with identical values.

    Returns
    -------
    (DataFrame, LoadReport)
    """
    _policy("duplicates", duplicates, DUPLICATE_POLICIES)
    extra = df.duplicated(keep="first").to_numpy()
    if not extra.any():
        return df, report
    every = df.duplicated(keep=False).to_numpy()
    idv = ids_of(df, ids)
    ex = idv[extra][:3] if idv is not None else np.flatnonzero(extra)[:3]
    wtxt = ""
    if weight is not None and weight in df.columns:
        wsum = float(pd.to_numeric(df.loc[extra, weight], errors="coerce").sum())
        wtxt = f" carrying weight {wsum:,.6g}"
    n = int(extra.sum())
    if duplicates == "error":
        raise InputError(f"exact duplicate rows: every column, weight included, is duplicated in "
                         f"{describe_rows(every, idv)} ({n} extra cop{'ies' if n != 1 else 'y'}{wtxt}); counted "
                         "twice they would double those units' weight: remove them, or pass duplicates='drop' to "
                         "keep one of each (reported), or duplicates='keep' if they are distinct units with "
                         "identical values")
    if duplicates == "drop":
        report = report.add("dropped", f"{n} exact duplicate rows dropped{wtxt} (duplicates='drop'); the first "
                                       "copy of each is kept", weight, n, ex)
        return df.loc[~extra].reset_index(drop=True), report
    report = report.add("duplicates_kept", f"{n} rows identical to another row kept as distinct units "
                                           "(duplicates='keep')", weight, n, ex)
    return df, report

"""Income concepts: per-capita / equivalised income with and without remittances.

The standard columns added by :func:`build_income` (and by loaders that build them
themselves, e.g. :func:`remitpov.io.read_eusilc`) are

============== ===============================================================
``y_hh``        household income in the output period (after deflator / currency)
``eq_scale``    the divisor: household size, adult equivalents, ...
``income_factor`` per-row factor raw income -> output period / prices / currency
``remit_hh``    household remittances in the output period
``y_with``      ``y_hh / eq_scale``: income per person (or equivalent adult) per period
``y_without``   ``(y_hh - remit_hh) / eq_scale``: the static counterfactual (floor policy)
``remit_pc``    ``remit_hh / eq_scale``: remittances per person (or equivalent adult)
``recipient``   ``remit_hh > 0``
``remit_share`` ``remit_hh / y_hh`` (NaN where household income is 0 or negative)
============== ===============================================================

and the roles of the same names (``survey.role("y_with")`` ...), so later steps
(poverty, inequality, decompositions) never need to know the source file.

Static counterfactual: "income without remittances" subtracts the item and assumes
nothing else changes (no behavioural response). A household whose income becomes
negative is handled by ``floor``: ``"zero"`` (set to 0, default), ``"keep"`` (keep the
negative value) or ``"error"``; the choice and the rows are in the load report.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from .exceptions import InputError, describe_rows
from .survey import INCOME_CONCEPT_COLUMNS, ROLES, Survey

__all__ = ["equivalence_scale", "build_income", "income_without", "PERIOD_MONTHS", "CONEVAL_WEIGHTS",
           "STANDARD_COLUMNS"]

#: Months in a period.
PERIOD_MONTHS = {"month": 1.0, "quarter": 3.0, "year": 12.0}

#: CONEVAL adult-equivalent weights by age group (``tamhogesc`` in CONEVAL's poverty
#: programs, e.g. "Programa de cálculo para la medición multidimensional de la pobreza
#: 2018"): 0-5 years 0.7031, 6-12 years 0.7382, 13-18 years 0.7057, 19+ years 0.9945;
#: a one-person household counts 1.
CONEVAL_WEIGHTS = {"n_0_5": 0.7031, "n_6_12": 0.7382, "n_13_18": 0.7057, "n_19plus": 0.9945}

#: Columns added by :func:`build_income` (the same tuple as :data:`remitpov.survey.INCOME_CONCEPT_COLUMNS`).
STANDARD_COLUMNS = INCOME_CONCEPT_COLUMNS

_FLOORS = ("zero", "keep", "error")


def _positive_scalar(value, name: str, hint: str) -> float:
    """A finite number > 0 (bools and text refused), else :class:`InputError` naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name} must be a number > 0, got {value!r} ({type(value).__name__}); {hint}")
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise InputError(f"{name} must be a finite number > 0, got {value!r}; {hint}")
    return v


def _theta(theta) -> float:
    """Exponent of the power scale ``size ** theta``: a number in [0, 1]."""
    if isinstance(theta, (bool, np.bool_)) or not isinstance(theta, (int, float, np.integer, np.floating)) \
            or not np.isfinite(float(theta)) or not 0.0 <= float(theta) <= 1.0:
        raise InputError(f"theta must be a number in [0, 1] (0: household income, 0.5: square-root scale, "
                         f"1: per capita), got {theta!r}; a negative theta would multiply income by household size")
    return float(theta)


def _col_or_role(survey: Survey, value, role: str, default_cols: Sequence[str]) -> np.ndarray:
    """Values from an explicit column/array, the survey's role, or a default column name."""
    if value is not None:
        return np.asarray(pd.to_numeric(pd.Series(survey.column(value)), errors="coerce"), dtype=float)
    if role in survey.roles and survey.roles[role] is not None:
        return survey.data[survey.roles[role]].to_numpy(dtype=float)
    for c in default_cols:
        if c in survey.data.columns:
            return survey.data[c].to_numpy(dtype=float)
    raise InputError(f"equivalence scale needs {role!r}: pass {role}=<column>, set the survey role {role!r}, "
                     f"or provide a column named one of {list(default_cols)}")


def _size(survey: Survey) -> np.ndarray:
    if survey.size is None:
        if survey.unit == "person":
            return np.ones(survey.n)
        raise InputError("household rows need a size column (Survey(size=...)) for per-capita scales")
    return survey.household_size


def equivalence_scale(survey: Survey, scale="per_capita", *, adults=None, children=None,
                      age_groups: dict | None = None, theta: float = 0.5) -> np.ndarray:
    """Divisor turning household income into income per person / per equivalent adult.

    Parameters
    ----------
    survey : Survey
        Household rows (``size`` set) or person rows (size 1).
    scale : str or callable
        * ``"per_capita"``: household size (the ECLAC / Social Panorama convention);
        * ``"none"``: 1 (income already per person, e.g. ENCOVI's ``agreg3``);
        * ``"sqrt"``: ``size ** theta`` with ``theta=0.5`` (square-root scale);
        * ``"oecd_modified"``: ``1 + 0.5 (adults - 1) + 0.3 children`` where adults are
          members aged 14 or more and children members aged 0-13 (Eurostat / laeken
          convention). Columns: ``adults=`` / ``children=`` arguments, else roles
          ``n_adults`` / ``n_children``, else columns of those names. A household without
          adults counts its first child as 1;
        * ``"coneval"``: CONEVAL's age-weighted adult equivalents, weights
          :data:`CONEVAL_WEIGHTS` applied to counts of members aged 0-5, 6-12, 13-18 and
          19+ (columns/roles ``n_0_5``, ``n_6_12``, ``n_13_18``, ``n_19plus`` or the
          ``age_groups`` mapping ``{"n_0_5": column, ...}``); one-person households count 1;
        * a callable ``f(survey) -> array`` of positive divisors.
    adults, children : str or array, optional
        Member counts for ``"oecd_modified"``.
    age_groups : dict, optional
        Group -> column mapping for ``"coneval"``.
    theta : float
        Exponent of the ``"sqrt"`` (power) scale, in [0, 1] (0 = no adjustment for size,
        1 = per capita); anything else raises.

    Returns
    -------
    ndarray
        Positive divisors, one per row.

    Raises
    ------
    InputError
        Unknown scale, missing count columns, counts that do not add up to the household
        size, or a non-positive divisor.
    """
    name = scale if isinstance(scale, str) else getattr(scale, "__name__", "callable")
    theta = _theta(theta)
    if callable(scale):
        d = np.asarray(scale(survey), dtype=float)
        if d.shape != (survey.n,):
            raise InputError(f"equivalence scale function returned shape {d.shape}, expected ({survey.n},)")
    elif scale == "per_capita":
        d = _size(survey).astype(float)
    elif scale == "none":
        d = np.ones(survey.n)
    elif scale == "sqrt":
        d = _size(survey).astype(float) ** theta
    elif scale == "oecd_modified":
        a = _col_or_role(survey, adults, "n_adults", ("n_adults",))
        c = _col_or_role(survey, children, "n_children", ("n_children",))
        bad = ~np.isfinite(a) | ~np.isfinite(c) | (a < 0) | (c < 0) | (a + c <= 0)
        if bad.any():
            raise InputError(f"adult/child counts for the OECD-modified scale are missing, negative or zero in "
                             f"{describe_rows(bad, survey.id_values)}")
        if survey.size is not None:
            off = np.abs(a + c - survey.household_size) > 1e-9
            if off.any():
                raise InputError(f"adults + children differ from household size {survey.size!r} in "
                                 f"{describe_rows(off, survey.id_values)}")
        first_child = (a == 0).astype(float)
        d = 1.0 + 0.5 * np.maximum(a - 1.0, 0.0) + 0.3 * (c - first_child)
    elif scale == "coneval":
        groups = dict(age_groups or {})
        counts = {}
        for g in CONEVAL_WEIGHTS:
            counts[g] = _col_or_role(survey, groups.get(g), g, (g,))
        tot = sum(counts.values())
        bad = ~np.isfinite(tot) | (tot <= 0) | np.any([v < 0 for v in counts.values()], axis=0)
        if bad.any():
            raise InputError(f"CONEVAL age-group counts are missing, negative or zero in "
                             f"{describe_rows(bad, survey.id_values)}")
        if survey.size is not None:
            off = np.abs(tot - survey.household_size) > 1e-9
            if off.any():
                raise InputError(f"CONEVAL age-group counts differ from household size {survey.size!r} in "
                                 f"{describe_rows(off, survey.id_values)}")
        d = sum(CONEVAL_WEIGHTS[g] * counts[g] for g in CONEVAL_WEIGHTS)
        d = np.where(tot == 1, 1.0, d)
    else:
        raise InputError(f"unknown equivalence scale {scale!r}; use 'per_capita', 'none', 'sqrt', "
                         "'oecd_modified', 'coneval' or a function survey -> array")
    bad = ~np.isfinite(d) | (d <= 0)
    if bad.any():
        raise InputError(f"equivalence scale {name!r} is missing or not positive in {describe_rows(bad, survey.id_values)}")
    return d


def _period_factor(survey: Survey, period: str, income_period: str | None) -> tuple[float, str]:
    if period not in PERIOD_MONTHS:
        raise InputError(f"period must be one of {tuple(PERIOD_MONTHS)}, got {period!r}")
    src = income_period or survey.metadata.income_period
    if src is None:
        raise InputError("the survey's income period is unknown (metadata.income_period is None); pass "
                         "income_period='month'|'quarter'|'year'")
    if src not in PERIOD_MONTHS:
        raise InputError(f"income period must be one of {tuple(PERIOD_MONTHS)}, got {src!r}")
    return PERIOD_MONTHS[period] / PERIOD_MONTHS[src], src


def _array(survey: Survey, x, what: str) -> np.ndarray:
    if isinstance(x, (bool, int, float, np.bool_, np.integer, np.floating)):
        return np.full(survey.n, _positive_scalar(x, what, f"e.g. {what}=1.05 for prices 5 % above the base"))
    a = np.asarray(pd.to_numeric(pd.Series(survey.column(x)), errors="coerce"), dtype=float)
    bad = ~np.isfinite(a) | (a <= 0)
    if bad.any():
        raise InputError(f"{what} is missing or not positive in {describe_rows(bad, survey.id_values)}")
    return a


def _numeric_values(values, what: str, col, ids) -> np.ndarray:
    """Float copy of ``values``; text that is not a number raises (it is never turned into NaN)."""
    raw = pd.Series(values)
    num = pd.to_numeric(raw, errors="coerce")
    bad = (num.isna() & raw.notna()).to_numpy()
    if bad.any():
        raise InputError(f"{what} column {col!r} has non-numeric values {raw[bad].astype(str).unique()[:3].tolist()} "
                         f"in {describe_rows(bad, ids)}; convert or fix them before build_income")
    return np.array(num, dtype=float)


def _apply_floor(survey: Survey, y: np.ndarray, floor: str, column: str, what: str):
    if floor not in _FLOORS:
        raise InputError(f"floor must be one of {_FLOORS}, got {floor!r}")
    neg = y < 0
    rep = survey.report
    if neg.any():
        ids = survey.id_values
        ex = ids[neg][:3] if ids is not None else np.flatnonzero(neg)[:3]
        if floor == "error":
            raise InputError(f"{what} is negative in {describe_rows(neg, ids)}; choose floor='zero' or 'keep'")
        if floor == "zero":
            y = np.where(neg, 0.0, y)
            rep = rep.add("floor", f"{what} negative: set to 0 (floor='zero')", column, int(neg.sum()), ex)
        else:
            rep = rep.add("floor", f"{what} negative: kept (floor='keep')", column, int(neg.sum()), ex)
    return y, rep


def build_income(survey: Survey, *, income=None, remittances=None, scale="per_capita", period: str = "month",
                 income_period: str | None = None, deflator=None, currency_factor: float = 1.0,
                 floor: str = "zero", negative_income: str = "error", **scale_kwargs) -> Survey:
    """Add the standard with/without-remittances income columns.

    Parameters
    ----------
    survey : Survey
        Usually from a loader; household rows with household income columns.
    income, remittances : str or array, optional
        Household income and remittance columns (default: the survey's roles ``income``
        and ``remittances``), in the survey's income period.
    scale : str or callable
        Equivalence scale, see :func:`equivalence_scale` (default per capita).
    period : {"month", "quarter", "year"}
        Output period (default per month, the ECLAC convention).
    income_period : str, optional
        Period of the raw columns; default ``survey.metadata.income_period``.
        Quarterly -> monthly divides by 3, yearly -> monthly by 12.
    deflator : float, str or array, optional
        Price index; real income = nominal / deflator (e.g. 1.05 for prices 5 % above base).
        A number, column or array; every value must be finite and > 0.
    currency_factor : float
        Multiplies income (e.g. local currency -> dollars at PPP); finite and > 0.
    floor : {"zero", "keep", "error"}
        Policy for negative income without remittances (reported).
    negative_income : {"error", "zero", "keep"}
        Negative household income or remittances in the input: raise (default), set to 0,
        or keep (reported).
    **scale_kwargs
        Passed to :func:`equivalence_scale` (``adults=``, ``children=``, ``age_groups=``).

    Returns
    -------
    Survey
        New survey with :data:`STANDARD_COLUMNS` and roles ``y_with``, ``y_without``,
        ``remit_pc``, ``recipient``, ``remit_share``, ``scale``, ``hh_income``,
        ``hh_remittances``, ``income_factor``; every conversion is in the load report.

    Raises
    ------
    InputError
        Missing income/remittance columns or values, negative income, remittances larger
        than income, unknown period, bad deflator or scale.
    """
    currency_factor = _positive_scalar(currency_factor, "currency_factor",
                                       "it multiplies income (e.g. local currency -> dollars at PPP)")
    if deflator is not None and not isinstance(deflator, str) and np.ndim(deflator) == 0:
        _positive_scalar(deflator, "deflator", "real income = nominal / deflator (e.g. 1.05)")
    inc_name = income if isinstance(income, str) else (survey.roles.get("income") if income is None else "(array)")
    rem_name = (remittances if isinstance(remittances, str)
                else (survey.roles.get("remittances") if remittances is None else "(array)"))
    if inc_name is None:
        raise InputError("no income column: pass income=<column> or load the survey with an 'income' role")
    if rem_name is None:
        raise InputError("no remittances column: pass remittances=<column> or set the survey's 'remittances' role")
    ids = survey.id_values
    inc = _numeric_values(survey.column(income if income is not None else inc_name), "income", inc_name, ids)
    rem = _numeric_values(survey.column(remittances if remittances is not None else rem_name), "remittances",
                          rem_name, ids)
    if negative_income not in ("error", "zero", "keep"):
        raise InputError(f"negative_income must be 'error', 'zero' or 'keep', got {negative_income!r}")
    pre_report = survey.report
    for what, a, col in (("income", inc, inc_name), ("remittances", rem, rem_name)):
        miss = ~np.isfinite(a)
        if miss.any():
            raise InputError(f"{what} column {col!r} is missing in {describe_rows(miss, ids)}; fill or drop those "
                             "rows explicitly (read_survey(..., missing_income='zero'))")
        neg = a < 0
        if neg.any():
            if negative_income == "error":
                raise InputError(f"{what} column {col!r} is negative in {describe_rows(neg, ids)}; pass "
                                 "negative_income='zero' or 'keep' to choose a policy")
            ex = ids[neg][:3] if ids is not None else np.flatnonzero(neg)[:3]
            if negative_income == "zero":
                a[neg] = 0.0
            pre_report = pre_report.add("negative_income", f"negative {what} {'set to 0' if negative_income == 'zero' else 'kept'} "
                                        f"(negative_income={negative_income!r})", col, int(neg.sum()), ex)
    survey = replace(survey, report=pre_report)
    over = (rem > 0) & (rem > inc + 1e-9 * np.maximum(1.0, np.abs(inc)))
    if over.any():
        raise InputError(f"remittances {rem_name!r} larger than income {inc_name!r} in {describe_rows(over, ids)}; "
                         "check units and periods")
    pf, src_period = _period_factor(survey, period, income_period)
    factor = np.full(survey.n, pf) * float(currency_factor)
    if deflator is not None:
        factor = factor / _array(survey, deflator, "deflator")
    d = equivalence_scale(survey, scale, **scale_kwargs)
    y_hh = inc * factor
    remit_hh = rem * factor
    y_with = y_hh / d
    y_wo, rep = _apply_floor(survey, (y_hh - remit_hh) / d, floor, "y_without", "income without remittances")
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(y_hh > 0, remit_hh / np.where(y_hh > 0, y_hh, 1.0), np.nan)
    recipient = remit_hh > 0
    sname = scale if isinstance(scale, str) else getattr(scale, "__name__", "callable")
    msg = (f"income {inc_name!r} and remittances {rem_name!r}: per {src_period} -> per {period} (x {pf:.6g})")
    if currency_factor != 1.0:
        msg += f", currency factor x {currency_factor:g}"
    if deflator is not None:
        msg += f", divided by deflator {deflator if isinstance(deflator, (str, int, float)) else '(array)'}"
    rep = rep.add("converted", msg, "y_hh", survey.n)
    rep = rep.add("converted", f"equivalence scale {sname!r}: y_with = y_hh / eq_scale "
                               f"(mean divisor {float(np.mean(d)):.3f})", "eq_scale", survey.n)
    zero = y_hh == 0
    if zero.any():
        rep = rep.add("zero_income", "household income is zero (kept; remit_share is NaN)", "y_hh", int(zero.sum()),
                      ids[zero][:3] if ids is not None else np.flatnonzero(zero)[:3])
    rep = rep.add("found", f"{int(recipient.sum())} of {survey.n} rows receive remittances", "recipient",
                  int(recipient.sum()))
    cols = {"y_hh": y_hh, "eq_scale": d, "income_factor": factor, "remit_hh": remit_hh, "y_with": y_with,
            "y_without": y_wo, "remit_pc": remit_hh / d, "recipient": recipient, "remit_share": share}
    out = survey.with_columns(**cols)
    roles = dict(out.roles)
    roles.update({"y_with": "y_with", "y_without": "y_without", "remit_pc": "remit_pc", "recipient": "recipient",
                  "remit_share": "remit_share", "scale": "eq_scale", "hh_income": "y_hh",
                  "hh_remittances": "remit_hh", "income_factor": "income_factor"})
    if isinstance(income, str):
        roles["income"] = income
    if isinstance(remittances, str):
        roles["remittances"] = remittances
    meta = survey.metadata
    note = (f"y_with / y_without / remit_pc: {meta.currency or 'currency'} per "
            f"{'person' if sname in ('per_capita', 'none') else 'equivalent adult (' + str(sname) + ')'} per {period}")
    meta = replace(meta, notes=tuple(n for n in meta.notes if not n.startswith("y_with /")) + (note,),
                   welfare=meta.welfare or "income", welfare_scale=sname)
    return replace(out, roles=roles, report=rep, metadata=meta)


def _source_columns(survey: Survey, sources) -> list[str]:
    names = [sources] if isinstance(sources, str) else list(sources)
    if not names:
        raise InputError("income_without needs at least one source")
    cols = []
    for s in names:
        if s in survey.sources:
            cols.append(survey.sources[s])
        elif s in survey.roles and s not in ("y_with", "y_without"):
            cols.append(survey.roles[s])
        elif s in survey.data.columns:
            cols.append(s)
        else:
            raise InputError(f"unknown income source {s!r}; known sources: {sorted(survey.sources)} "
                             "(or pass a column name)")
    return cols


def income_without(survey: Survey, sources, *, name: str | None = None, floor: str = "zero") -> Survey:
    """Add "income without X" for any source(s), on the scale of ``y_with``.

    ``y_without_X = (y_hh - sum(X) * income_factor) / eq_scale``: the raw source columns
    are converted with the same period / deflator / currency factor as income, then
    divided by the same equivalence scale. Needs :func:`build_income` first (or a loader
    that adds the standard columns).

    Parameters
    ----------
    survey : Survey
    sources : str or sequence of str
        Source names (keys of ``survey.sources``, e.g. ``"remittances"``, ``"pensions"``,
        ``"public_transfers"``) or column names.
    name : str, optional
        New column; default ``"y_without_" + "_".join(sources)``.
    floor : {"zero", "keep", "error"}
        Policy for negative results (reported).

    Returns
    -------
    Survey
        With the new column and a role of the same name (declared in ``Survey.concepts``).
    """
    for c in ("y_hh", "eq_scale", "income_factor"):
        if c not in survey.data.columns:
            raise InputError(f"income_without needs the standard column {c!r}: run build_income(survey) first")
    cols = _source_columns(survey, sources)
    names = [sources] if isinstance(sources, str) else list(sources)
    name = name or "y_without_" + "_".join(names)
    df = survey.data
    vals = df[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    miss = ~np.isfinite(vals).all(axis=1)
    if miss.any():
        raise InputError(f"source column(s) {cols} missing in {describe_rows(miss, survey.id_values)}")
    sub = vals.sum(axis=1) * df["income_factor"].to_numpy(dtype=float)
    y = (df["y_hh"].to_numpy(dtype=float) - sub) / df["eq_scale"].to_numpy(dtype=float)
    y, rep = _apply_floor(survey, y, floor, name, f"income without {', '.join(names)}")
    rep = rep.add("converted", f"{name} = (y_hh - ({' + '.join(cols)}) x income_factor) / eq_scale", name, survey.n)
    out = survey.with_columns(**{name: y})
    concepts = out.concepts + (() if name in ROLES or name in out.concepts else (name,))
    return replace(out, roles={**out.roles, name: name}, concepts=concepts, report=rep)

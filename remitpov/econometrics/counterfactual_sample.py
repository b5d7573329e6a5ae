"""Estimation-sample rules and covariates of the selection-corrected counterfactuals.

Shared by the binary (:mod:`remitpov.econometrics.counterfactual`) and the multinomial
(:mod:`remitpov.econometrics.multinomial_counterfactual`) counterfactual so that both
models read their formulas and drop the same rows: right-hand-side-only formulas
(:func:`rhs_terms`), the log-income estimation sample with its zero/negative-income rule
and weights/design (:func:`estimation_sample`), 0/1 indicator columns, the migrant column
(``"auto"`` = the survey's ``migrant`` role), and the ENIGH rural covariates
(:data:`ENIGH_RURAL_SPEC`, :func:`enigh_covariates`, :func:`leave_one_out_share`), and the
survey with the imputed columns and what the imputation did in its load report
(:func:`imputed_survey`).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..exceptions import InputError, RemitpovWarning, describe_rows
from ..survey import Survey

__all__ = ["MEXICO_MIGRATION_REGIONS", "ENIGH_RURAL_SPEC", "enigh_covariates", "CounterfactualWarning", "rhs_terms",
           "leave_one_out_share", "estimation_sample", "indicator_column", "migrant_column", "imputed_survey"]


#: Durand & Massey's (2003) Mexican migration regions by state code (``entidad``):
#: traditional (west-centre), north (border), centre, south-southeast.
MEXICO_MIGRATION_REGIONS = {
    **{e: "traditional" for e in (1, 6, 10, 11, 14, 16, 18, 24, 32)},
    **{e: "north" for e in (2, 3, 5, 8, 19, 25, 26, 28)},
    **{e: "centre" for e in (9, 12, 13, 15, 17, 20, 21, 22, 29)},
    **{e: "southeast" for e in (4, 7, 23, 27, 30, 31)},
}

#: The specification used for ENIGH 2010 rural (see :func:`remittance_counterfactual_table`):
#: the concentrado has no head characteristics, so the income equation uses household size
#: (log and square), the indigenous-household flag, locality size class and state effects; the
#: selection equation adds the exclusion restriction ``network`` = leave-one-out weighted share
#: of remittance recipients among the OTHER sampled households of the PSU (a migration-network
#: proxy, Woodruff--Zenteno style; valid only if PSU networks affect income solely through
#: migration -- an assumption to be stated with any result).
ENIGH_RURAL_SPEC = {
    "income_formula": "log_size + I(log_size**2) + indigenous + C(region)",
    "selection_formula": "log_size + I(log_size**2) + indigenous + C(region) + network",
}


def enigh_covariates(survey: Survey, *, recipient: str = "recipient", size: str = "tot_integ",
                     state: str = "entidad", indigenous: str = "hogarindig", psu: str = "upm") -> Survey:
    """Add the covariates of :data:`ENIGH_RURAL_SPEC` to an ENIGH survey (after ``build_income``).

    ``log_size`` = log household size; ``indigenous`` = INEGI's indigenous-household flag
    (``HogarIndig``; 0 when the column is absent, reported); ``region`` = Durand--Massey
    migration region of the state; ``network`` = leave-one-out weighted share of
    recipients among the other sampled households of the PSU (state share for PSUs with
    one sampled household).
    """
    df = survey.data
    for c in (size, state, recipient):
        if c not in df.columns:
            raise InputError(f"column {c!r} not found; run build_income first / check the loader")
    st = pd.to_numeric(df[state], errors="coerce")
    reg = st.map(MEXICO_MIGRATION_REGIONS)
    if reg.isna().any():
        raise InputError(f"state code {state!r} outside 1-32 in {describe_rows(reg.isna().to_numpy(), survey.id_values)}")
    new = {"log_size": np.log(df[size].to_numpy(dtype=float)), "region": reg.to_numpy(),
           "network": leave_one_out_share(survey, recipient, psu, fallback=state)}
    out = survey
    if indigenous in df.columns:
        new["indigenous"] = df[indigenous].fillna(0).to_numpy(dtype=float)
    else:
        new["indigenous"] = np.zeros(survey.n)
        out = out.with_report("missing", f"no {indigenous!r} column: indigenous set to 0", column=indigenous)
    out = out.with_columns(**new)
    return out.with_report("derived", "counterfactual covariates log_size, indigenous, region (Durand-Massey), "
                           f"network (leave-one-out PSU share of recipients, {psu!r}, fallback {state!r})",
                           column="network")


class CounterfactualWarning(RemitpovWarning):
    """Something about a counterfactual that the user should know (excluded rows ...)."""


def rhs_terms(formula: str, what: str) -> str:
    """The right-hand side of ``formula`` (``"~ x1 + x2"`` or ``"x1 + x2"``), stripped.

    :class:`InputError` naming ``what`` when the formula has a left-hand side (the outcome
    and the selection indicator are built by the counterfactual) or is empty.
    """
    f = formula.strip()
    if "~" in f:
        lhs, rhs = f.split("~", 1)
        if lhs.strip():
            raise InputError(f"{what} must be a right-hand side only (e.g. '~ x1 + x2'); the outcome "
                             f"(log income) and the selection indicator (non-recipient) are built for you; "
                             f"got left-hand side {lhs.strip()!r}")
        f = rhs.strip()
    if not f:
        raise InputError(f"{what} is empty")
    return f


def leave_one_out_share(survey: Survey, indicator, group, *, fallback=None, level: str = "household") -> np.ndarray:
    """Weighted share of ``indicator`` among the OTHER units of each unit's ``group``.

    ``sum_{j in g, j != i} w_j d_j / sum_{j in g, j != i} w_j``; units alone in their group
    get the leave-one-out share of the ``fallback`` group (e.g. state), or the overall
    share. Used as a migration-network exclusion restriction (PSU share of recipients).
    """
    d = np.asarray(pd.to_numeric(pd.Series(survey.column(indicator)), errors="coerce"), dtype=float)
    if np.isnan(d).any():
        raise InputError(f"indicator is missing in {describe_rows(np.isnan(d), survey.id_values)}")
    w = survey.weights(level)

    def loo(g):
        codes, _ = pd.factorize(pd.Series(survey.column(g)), sort=True)
        if (codes < 0).any():
            raise InputError(f"group {g!r} is missing in {describe_rows(codes < 0, survey.id_values)}")
        num = np.bincount(codes, w * d)[codes] - w * d
        den = np.bincount(codes, w)[codes] - w
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, np.nan)

    out = loo(group)
    if fallback is not None:
        out = np.where(np.isnan(out), loo(fallback), out)
    tot = (w * d).sum()
    overall = (tot - w * d) / (w.sum() - w)
    return np.where(np.isnan(out), overall, out)


def estimation_sample(survey: Survey, income: str, base: np.ndarray, what: str, nonpositive: str,
                       weighted: bool, cov_type: str | None):
    """Log income of the ``base`` rows (the group whose income equation is estimated).

    Rows of ``base`` with missing income raise; rows with income <= 0 raise
    (``nonpositive="error"``) or get zero weight (``"exclude"``: design kept, warned and
    returned in ``notes``). Returns ``(y, logy, est_mask, notes, weights, design, cov_type)``
    with ``design`` the household design (domain-restricted when rows are excluded) if
    ``weighted``; ``cov_type`` defaults to ``"design"`` when weighted.
    """
    ids = survey.id_values
    y = np.asarray(pd.to_numeric(pd.Series(survey.column(income)), errors="coerce"), dtype=float)
    miss = base & ~np.isfinite(y)
    if miss.any():
        raise InputError(f"income {income!r} is missing for {what} rows in {describe_rows(miss, ids)}")
    nonpos = base & (y <= 0)
    notes = []
    if nonpos.any():
        if nonpositive == "error":
            raise InputError(f"income {income!r} is zero or negative for {what} rows in "
                             f"{describe_rows(nonpos, ids)}: log income is undefined; pass nonpositive='exclude'")
        msg = (f"{int(nonpos.sum())} {what} rows with {income} <= 0 excluded from the income equation "
               "(zero weight, design kept); they keep their observed income")
        warnings.warn(msg, CounterfactualWarning, stacklevel=3)
        notes.append(msg)
    est_mask = ~nonpos
    with np.errstate(divide="ignore", invalid="ignore"):
        logy = np.where(base & est_mask, np.log(np.where(y > 0, y, 1.0)), np.nan)
    w, design = None, None
    if weighted:
        d_hh = survey.design("household")
        design = d_hh.domain(est_mask) if nonpos.any() else d_hh
        w = design.weights
        cov_type = cov_type or "design"
    elif nonpos.any():
        w = est_mask.astype(float)
    return y, logy, est_mask, notes, w, design, cov_type


def indicator_column(survey: Survey, col: str, what: str) -> np.ndarray:
    """Column ``col`` as a bool array; :class:`InputError` naming ``what`` if missing or not 0/1."""
    raw = pd.Series(survey.column(col))
    if raw.isna().any():
        raise InputError(f"{what} column {col!r} is missing in {describe_rows(raw.isna().to_numpy(), survey.id_values)}")
    v = pd.to_numeric(raw.astype(float) if raw.dtype == bool else raw, errors="coerce").to_numpy(dtype=float)
    if not np.isin(v, (0.0, 1.0)).all():
        raise InputError(f"{what} column {col!r} must be 0/1 or bool; other values in "
                         f"{describe_rows(~np.isin(v, (0.0, 1.0)), survey.id_values)}")
    return v.astype(bool)


def migrant_column(survey: Survey, migrant) -> str | None:
    """``migrant="auto"``: the survey's ``migrant`` role if it has one, else None (receipt)."""
    if migrant == "auto":
        col = survey.roles.get("migrant")
        return col if col is not None and col in survey.data.columns else None
    if migrant is not None and migrant not in survey.data.columns:
        raise InputError(f"migrant column {migrant!r} not found; give the column flagging households with a "
                         "member abroad, or migrant=None to select on remittance receipt")
    return migrant


def imputed_survey(survey: Survey, new: dict, what: str, *, output: str, rows: int, notes, nonpos: np.ndarray,
                   income: str, ids) -> Survey:
    """``survey`` with the imputed columns ``new`` and its report: ``what`` (the counterfactual,
    ``rows`` imputed households, under ``output``) and, when households with zero or negative
    ``income`` were left out of the income equation (``nonpos``), that note with the first ids."""
    out = survey.with_columns(**new).with_report("counterfactual", what, column=output, rows=int(rows))
    if nonpos.any():
        msg = next(n for n in notes if "excluded from the income equation" in n)
        out = out.with_report("excluded", msg, column=income, rows=int(nonpos.sum()),
                              examples=[] if ids is None else list(ids[nonpos][:3]))
    return out

"""What every estimator does first: resolve the design, read numeric columns, code domains.

* :func:`resolve_design` -- a :class:`~remitpov.survey.Survey` (design at the requested
  weight level) or a bare :class:`~remitpov.design.Design`; an empty survey (no row with
  positive weight, e.g. a header-only file) is an :class:`InputError` here, before any
  design code runs.
* :func:`column_values` -- a column name or an array as float64 through
  :func:`remitpov.core.validate.numeric_column` (text cells raise unless coerced).
* :func:`by_codes` -- one domain variable as integer codes, sorted labels and a name.
* :func:`usable_columns` -- an estimator's columns with the ``na_rm`` rule applied (rows with
  a missing value raise, or leave every domain: zero weight, design kept).
* :func:`is_dask` -- whether an estimator got a :class:`remitpov.distributed.DaskSurvey`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..design import Design
from ..exceptions import InputError, describe_rows
from .validate import numeric_column


def resolve_design(obj, level: str) -> tuple[Design, "object | None"]:
    """``(design, survey)`` of a Survey (weights at ``level``) or ``(design, None)`` of a Design."""
    from ..survey import Survey

    if isinstance(obj, Survey):
        design, survey = obj.design(level), obj
    elif isinstance(obj, Design):
        design, survey = obj, None
    else:
        raise InputError(f"expected a Survey or Design, got {type(obj).__name__}")
    if design.n == 0 or not (design.weights > 0).any():
        raise InputError(f"the survey has {'no rows' if design.n == 0 else 'no row with a positive weight'}: "
                         "nothing to estimate (a header-only or empty file?); check the file and the loader's "
                         "report")
    return design, survey


def column_values(survey, x, name: str, coerce: bool = False) -> np.ndarray:
    """Column ``x`` of ``survey`` (or the array ``x``) as float64; see :func:`numeric_column`."""
    a = survey.column(x) if survey is not None else np.asarray(x)
    return numeric_column(a, name, None if survey is None else survey.id_values, coerce=coerce)


def usable_columns(obj, level: str, income, na_rm, extra=()):
    """``(design, survey, label, cols, miss)``: the income (and ``extra`` columns) as float64.

    A row with a missing or non-finite value in any column raises :class:`InputError`
    naming the columns and rows, unless ``na_rm``: then it is outside every domain (the
    design's weight 0, strata and PSUs kept) and its values are 0 in ``cols``. Labels: the
    column names, ``"income"`` and ``"x0", "x1", ...`` for arrays.
    """
    design, survey = resolve_design(obj, level)
    co = na_rm == "coerce"
    label = income if isinstance(income, str) else "income"
    names = [label] + [e if isinstance(e, str) else f"x{i}" for i, e in enumerate(extra)]
    cols = [column_values(survey, c, nm, coerce=co) for c, nm in zip([income, *extra], names)]
    for c, nm in zip(cols, names):
        if c.shape[0] != design.n:
            raise InputError(f"{nm!r} has {c.shape[0]} rows, the design {design.n}")
    miss = np.zeros(design.n, dtype=bool)
    for c in cols:
        miss |= ~np.isfinite(c)
    if miss.any():
        if not na_rm:
            raise InputError(f"{', '.join(map(repr, names))} missing or not finite in "
                             f"{describe_rows(miss, None if survey is None else survey.id_values)}; pass na_rm=True "
                             "to treat those rows as outside the domain (design kept), or impute them")
        design = design.domain(~miss)
        cols = [np.where(miss, 0.0, c) for c in cols]
    return design, survey, label, cols, miss


def by_codes(survey, by, n: int):
    """``(codes, labels, name)`` of one domain variable (``by=None``: one domain ``"all"``)."""
    if by is None:
        return np.zeros(n, dtype=np.int64), np.array(["all"], dtype=object), "domain"
    if survey is not None:
        codes, labels = survey.domain_codes(by)
    else:
        s = pd.Series(np.asarray(by))
        if s.isna().any():
            raise InputError(f"domain variable is missing in {describe_rows(s.isna().to_numpy())}")
        codes, labels = pd.factorize(s, sort=True)
    name = by if isinstance(by, str) else "domain"
    return codes, np.asarray(labels, dtype=object), name


def is_dask(obj) -> bool:
    """A :class:`remitpov.distributed.DaskSurvey` (checked by name: dask is not imported)."""
    return type(obj).__name__ == "DaskSurvey" and type(obj).__module__ == "remitpov.distributed"

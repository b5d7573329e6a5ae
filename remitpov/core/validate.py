"""Input checks shared by every estimator, applied at the API boundary.

One rule per input, stated once:

* ``ci_level`` -- a number strictly between 0 and 1.
* ``dist`` -- ``"t"`` (design degrees of freedom) or ``"normal"``.
* ``na_rm`` -- ``False`` (missing values raise), ``True`` (rows with a missing value are
  outside every domain: zero weight, design kept) or ``"coerce"`` (as ``True``, and text
  cells in a numeric column are counted as missing with a :class:`DataWarning`; without
  it text cells raise :class:`InputError` listing the values and rows).
* ``alpha`` (FGT) -- non-negative finite numbers.
* weights of a survey -- :func:`check_weights` (finite and > 0); columns that must be > 0
  (household sizes, ENIGH expansion factors) -- :func:`check_positive`.
* weights of a design -- finite, non-negative, and small enough that the products the estimators form
  (``N^2``, ``N x sum w y``) stay finite in double precision.

Deprecated spellings (one release, then removed) are accepted by :func:`renamed_arguments`
(an old keyword, e.g. ``obj=`` for ``survey=``) and :func:`alpha_before_by` (the old
positional order ``by, alpha``), both with a :class:`FutureWarning` naming the new spelling.
"""
from __future__ import annotations

import functools
import inspect
import warnings
from typing import Callable

import numpy as np
import pandas as pd

from ..exceptions import DataWarning, InputError, describe_rows

DISTS = ("t", "normal")
#: largest total weight accepted: its square (and N x total income) must stay finite
MAX_WEIGHT_SUM = 1e150


def check_ci_level(ci_level) -> float:
    """``ci_level`` as a float in (0, 1), else :class:`InputError`."""
    try:
        v = float(ci_level)
    except (TypeError, ValueError):
        v = np.nan
    if isinstance(ci_level, (bool, np.bool_)) or not 0 < v < 1:
        raise InputError(f"ci_level={ci_level!r}: the confidence level must be a number strictly between 0 and 1 "
                         "(e.g. 0.95)")
    return v


def check_dist(dist) -> str:
    if dist not in DISTS:
        raise InputError(f"dist={dist!r}: use 't' (design degrees of freedom) or 'normal'")
    return dist


def check_na_rm(na_rm) -> bool | str:
    if isinstance(na_rm, (bool, np.bool_)):
        return bool(na_rm)
    if isinstance(na_rm, str) and na_rm == "coerce":
        return na_rm
    raise InputError(f"na_rm={na_rm!r}: use False (missing values raise), True (rows with a missing value "
                     "are outside every domain) or 'coerce' (text cells in numeric columns count as missing too)")


def check_deff(deff) -> bool | str | None:
    """``deff``: False, True (R's ``deff=TRUE``: SRS without replacement within the domain),
    ``"replace"`` (R's ``deff="replace"``: SRS with replacement) or None (the estimator's
    default)."""
    if deff is None:
        return None
    if isinstance(deff, (bool, np.bool_)):
        return bool(deff)
    if isinstance(deff, str) and deff == "replace":
        return deff
    raise InputError(f"deff={deff!r}: use False, True (SRS without replacement, within the domain, as R's "
                     "svyby(deff=TRUE)) or 'replace' (SRS with replacement, R's deff='replace')")


def check_alphas(alpha) -> tuple[float, ...]:
    """FGT parameters: one number or a sequence of numbers, each finite and >= 0."""
    if alpha is None or isinstance(alpha, (str, bytes)):
        items = [alpha]
    else:
        items = [alpha] if np.ndim(alpha) == 0 else list(np.asarray(alpha, dtype=object).ravel())
    if not items:
        raise InputError("alpha is empty: give one or more FGT parameters, e.g. alpha=(0, 1, 2)")
    out = []
    for x in items:
        ok = isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))
        if not ok or not (np.isfinite(x) and x >= 0):
            raise InputError(f"FGT alpha must be >= 0, got {x!r}: give non-negative numbers, e.g. alpha=(0, 1, 2) "
                             "(0 headcount, 1 poverty gap, 2 severity); the Watts index is rp.watts")
        out.append(float(x))
    return tuple(out)


def check_weight_sum(w: np.ndarray, what: str = "weights") -> None:
    """Refuse weights whose total overflows the estimators' products (``N^2``, ``N T``)."""
    total = float(np.sum(w, dtype=np.float64)) if np.size(w) else 0.0
    if not np.isfinite(total) or total > MAX_WEIGHT_SUM:
        raise InputError(
            f"{what} sum to {total:.3g}: products such as N^2 and N x total income would overflow double "
            f"precision (limit {MAX_WEIGHT_SUM:.0e}) and give wrong standard errors; rescale the weights (e.g. "
            "divide them by their mean: means, ratios, poverty and inequality indices and their SEs do not "
            "depend on the scale)")


def check_positive(values, what: str, ids=None, fix: str = "") -> np.ndarray:
    """The one check of a column that must be > 0 (weights, household sizes): missing,
    zero and negative values together are an :class:`InputError` naming ``what`` (e.g.
    ``"weight column 'factor'"``), the rows (with ``ids``) and ``fix``. Returns the values
    as float."""
    v = np.asarray(values, dtype=float)
    bad = ~np.isfinite(v) | (v <= 0)
    if bad.any():
        raise InputError(f"{what} is missing, zero or negative in {describe_rows(bad, ids)}"
                         + (f"; {fix}" if fix else ""))
    return v


def check_nonnegative(values, what: str, ids=None, fix: str = "") -> np.ndarray:
    """The one check of values that must be finite and >= 0 (a design's weights, where zero
    marks a row outside a domain): an :class:`InputError` naming ``what``, the rows (with
    ``ids``) and ``fix``. Two reductions when the values are valid (a NaN makes the minimum
    NaN). Returns the values as float."""
    v = np.asarray(values, dtype=float)
    if v.size and not (v.min() >= 0 and np.isfinite(v.max())):
        bad = ~np.isfinite(v) | (v < 0)
        raise InputError(f"{what} must be finite and non-negative: {describe_rows(bad, ids)}"
                         + (f"; {fix}" if fix else ""))
    return v


def check_weights(values, column: str, ids=None) -> np.ndarray:
    """Survey weights (one per row): missing values, then zero or negative values, each an
    :class:`InputError` naming the column and the rows (zero weights are not a way to drop
    rows: drop them explicitly or use a domain). Returns the weights as float."""
    w = np.asarray(values, dtype=float)
    bad = ~np.isfinite(w)
    if bad.any():
        raise InputError(f"weight column {column!r} is missing in {describe_rows(bad, ids)}; "
                         "fix the weights or drop those rows explicitly")
    bad = w <= 0
    if bad.any():
        raise InputError(f"weight column {column!r} is zero or negative in "
                         f"{describe_rows(bad, ids)}; weights must be > 0 (drop out-of-scope rows "
                         "explicitly, or use a domain instead of zero weights)")
    return w


def numeric_column(values, name: str, ids=None, *, coerce: bool = False) -> np.ndarray:
    """A column as float64; text cells raise :class:`InputError` unless ``coerce``.

    Missing cells (NaN, None, pd.NA) stay missing (the ``na_rm`` rule decides). A cell
    that is present but not a number (``"n/a"``, ``"1,873.50"``) is an error listing the
    distinct values and rows; with ``coerce=True`` it becomes missing and a
    :class:`~remitpov.exceptions.DataWarning` counts them.
    """
    a = np.asarray(values)
    if a.dtype.kind in "fiub":  # already numeric: no pandas round trip
        return a.ravel().astype(float, copy=False)
    s = pd.Series(a.ravel())
    num = pd.to_numeric(s, errors="coerce")
    text = (num.isna() & s.notna()).to_numpy()
    if text.any():
        vals = pd.unique(s[text].astype(str))
        shown = ", ".join(repr(v) for v in vals[:5]) + (", ..." if len(vals) > 5 else "")
        where = describe_rows(text, ids)
        if not coerce:
            raise InputError(
                f"{name!r} has text in a numeric column: {int(text.sum())} cell(s) with values {shown} in {where}; "
                "clean the column (e.g. remove thousands separators: pd.to_numeric(col.str.replace(',', ''))) or "
                "pass na_rm='coerce' to count those cells as missing")
        warnings.warn(f"{name!r}: {int(text.sum())} text cell(s) ({shown}) in {where} counted as missing "
                      "(na_rm='coerce') and left out of every domain", DataWarning, stacklevel=4)
    return num.to_numpy(dtype=float, na_value=np.nan)


def checked(fn: Callable) -> Callable:
    """Validate the common estimator arguments (``ci_level``, ``dist``, ``na_rm``, ``deff``) on entry.

    Applied to every public estimator, so a bad value fails before any computation with
    an :class:`InputError` that names it (never a NaN interval or a numpy TypeError).
    """
    sig = inspect.signature(fn)
    checks = {"ci_level": check_ci_level, "dist": check_dist, "na_rm": check_na_rm, "deff": check_deff}
    names = [n for n in checks if n in sig.parameters]  # defaults are valid: only given values are checked

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = sig.bind_partial(*args, **kwargs).arguments
        for n in names:
            if n in bound:
                checks[n](bound[n])
        return fn(*args, **kwargs)

    return wrapper


def renamed_arguments(**aliases: str) -> Callable:
    """Accept deprecated keyword spellings ``old=`` for ``new=`` (``aliases = {old: new}``).

    The old keyword still works for one release with a :class:`FutureWarning` (pointing at
    the caller) naming the new one; giving both is an :class:`InputError`.
    """
    def deco(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in aliases.items():
                if old in kwargs:
                    if new in kwargs:
                        raise InputError(f"{fn.__name__}() got both {new}= and {old}= (its deprecated spelling); "
                                         f"give {new}= only")
                    warnings.warn(f"{fn.__name__}({old}=...) is deprecated and will be removed in the next release: "
                                  f"use {new}=...", FutureWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return wrapper

    return deco


def _looks_like_by(x) -> bool:
    """A domain specification (column name(s) or a row-length array), not FGT alphas."""
    if isinstance(x, str) or isinstance(x, pd.Series):
        return True
    if isinstance(x, (list, tuple)):
        return any(isinstance(v, str) for v in x) or len(x) > 16
    return np.ndim(x) == 1 and (len(x) > 16 or np.asarray(x).dtype.kind not in "iuf")


def alpha_before_by(n_fixed: int) -> Callable:
    """Accept the old positional order ``..., by, alpha`` after ``n_fixed`` leading arguments.

    The canonical order is ``f(survey, income, line, alpha=..., by=None, ...)``; a call whose
    argument in ``alpha``'s place is a domain specification (a column name, a list of
    names or a row-length array) is read in the old order, with a :class:`FutureWarning`.
    """
    def deco(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if len(args) > n_fixed and _looks_like_by(args[n_fixed]):
                if "by" in kwargs:
                    raise InputError(f"{fn.__name__}() got by= and a domain variable in alpha's place")
                warnings.warn(f"{fn.__name__}(..., by, alpha) is the old argument order and will be removed in the "
                              f"next release: give alpha= and by= as keywords (the order is now alpha, by)",
                              FutureWarning, stacklevel=2)
                rest = list(args[n_fixed:])
                kwargs["by"] = rest.pop(0)
                if rest:
                    if "alpha" in kwargs:
                        raise InputError(f"{fn.__name__}() got alpha twice")
                    kwargs["alpha"] = rest.pop(0)
                args = tuple(args[:n_fixed]) + tuple(rest)
            return fn(*args, **kwargs)

        return wrapper

    return deco

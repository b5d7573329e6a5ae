"""Domains (``by=``): the one factoriser of domain variables and the domain helpers.

Domains are zero weights on the FULL design, never subsets (R survey's ``svyby``).

* :func:`domain_keys` -- one or several domain variables as integer codes and a keys
  DataFrame (one row per observed combination, sorted); ``by=None`` is one domain
  ``"all"``.
* :func:`domain_masks` -- the (n, D) membership of usable rows with positive weight.
* :func:`check_domains` -- refuse domains with too few usable observations.
* :func:`indicator` -- the (n, D) 0/1 matrix of the codes (replicate paths).
* :func:`total_label`, :func:`with_total_key` -- the whole-sample row of ``total=``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..design import as_index_codes
from ..exceptions import InputError, describe_rows


def domain_keys(survey, by, n: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer domain codes (n,) and a keys DataFrame (one row per domain, sorted labels).

    ``by``: None, a column name, an array or a list of them (observed combinations). A
    missing label is an :class:`InputError` naming the rows.
    """
    if by is None:
        return np.zeros(n, dtype=np.int64), pd.DataFrame({"domain": ["all"]})
    items = list(by) if isinstance(by, (list, tuple)) else [by]
    cols, names = [], []
    for j, b in enumerate(items):
        if survey is not None:
            vals = pd.Series(survey.column(b))
        else:
            if isinstance(b, str):
                raise InputError(f"by={b!r} is a column name but a Design has no data: pass an array")
            vals = pd.Series(np.asarray(b))
        if len(vals) != n:
            raise InputError(f"domain variable has {len(vals)} rows, the design {n}")
        if vals.isna().any():
            raise InputError(f"domain variable {b if isinstance(b, str) else '(array)'} is missing in "
                             f"{describe_rows(vals.isna().to_numpy())}; recode missing values to a category")
        cols.append(vals.to_numpy())
        names.append(b if isinstance(b, str) else ("domain" if len(items) == 1 else f"by{j}"))
    if len(cols) == 1:
        codes, labels = as_index_codes(cols[0])  # sorted labels (integers: one bincount pass)
        return codes, pd.DataFrame({names[0]: np.asarray(labels, dtype=object)})
    mi = pd.MultiIndex.from_arrays(cols, names=names)
    codes, labels = pd.factorize(mi, sort=True)
    frame = pd.DataFrame(list(labels), columns=names)
    return codes.astype(np.int64), frame


def indicator(codes: np.ndarray, D: int) -> np.ndarray:
    """(n, D) float indicator of the domain codes."""
    return (codes[:, None] == np.arange(D)[None, :]).astype(float)


def domain_masks(codes: np.ndarray, D: int, usable: np.ndarray) -> np.ndarray:
    """(n, D) boolean membership: domain code and ``usable`` (e.g. non-missing with positive weight)."""
    m = codes[:, None] == np.arange(D)[None, :]
    return m & np.asarray(usable, dtype=bool)[:, None]


def check_domains(masks: np.ndarray, labels, byname: str, what: str, min_n: int = 1) -> None:
    """Refuse a domain with fewer than ``min_n`` usable observations (:class:`InputError`)."""
    cnt = masks.sum(0)
    bad = np.flatnonzero(cnt < min_n)
    if bad.size:
        raise InputError(
            f"{what}: domain {byname}={labels[bad[0]]!r} has {int(cnt[bad[0]])} usable observation(s) "
            f"(need {min_n}); drop the empty category or merge it with another"
        )


def total_label(total):
    """``total=`` argument -> label of the whole-sample row (None: no such row)."""
    if total is None or total is False:
        return None
    if total is True:
        return "all"
    if isinstance(total, str) and total:
        return total
    raise InputError(f"total={total!r}: use True (label 'all'), False or a non-empty label string")


def with_total_key(dkeys: pd.DataFrame, label) -> pd.DataFrame:
    """Prepend the whole-sample row (``label`` in every domain column) to the domain keys."""
    for c in dkeys.columns:
        if (dkeys[c].astype(object) == label).any():
            raise InputError(f"total={label!r} is also a value of the domain variable {c!r}; give another "
                             f"label, e.g. total='(total)'")
    top = pd.DataFrame({c: [label] for c in dkeys.columns})
    return pd.concat([top, dkeys.astype(object)], ignore_index=True)

"""Building a :class:`~remitpov.design.Design` from row-aligned arrays: weights checked
(finite, non-negative, a sum that cannot overflow), labels factorised (missing labels
refused), PSUs nested in strata, first- and second-stage fpc as sampling fractions.

Conventions (R survey's ``svydesign``): ``fpc`` is the number of PSUs in the stratum
population (values > 1) or the sampling fraction (values <= 1), constant within strata;
``fpc2`` likewise per PSU (number of SSUs or fraction); without ``psu`` every row is its
own PSU; ``nest=True`` makes PSU labels unique within strata only.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .core.validate import check_nonnegative, check_weight_sum
from .design_kernels import factorize_labels
from .exceptions import InputError, describe_rows

__all__ = ["LONELY_PSU_POLICIES", "design_fields"]

LONELY_PSU_POLICIES = ("error", "certainty", "remove", "adjust", "centred", "average")


def design_fields(weights, strata=None, psu=None, fpc=None, ssu=None, fpc2=None, *, nest: bool = False,
                  lonely_psu: str = "error") -> dict:
    """The fields of a :class:`~remitpov.design.Design` (``Design(**fields)``) from row-aligned
    arrays: the work of :meth:`Design.from_arrays <remitpov.design.Design.from_arrays>`,
    whose docstring states the arguments."""
    w = check_nonnegative(weights, "weights", fix="fix or drop those rows before building the design")
    n = w.shape[0]
    check_weight_sum(w)
    if lonely_psu not in LONELY_PSU_POLICIES:
        raise InputError(f"lonely_psu={lonely_psu!r} is not one of {LONELY_PSU_POLICIES}")
    if strata is None:
        s_codes, s_labels = np.zeros(n, dtype=np.int64), np.array(["(all)"], dtype=object)
    else:
        s_codes, s_labels = factorize_labels(strata, "strata")
    H = len(s_labels)
    clustered = psu is not None
    if psu is None:
        p_codes = np.arange(n, dtype=np.int64)
        p_labels = None
    else:
        psu_a = np.asarray(psu)  # (not a pd.Series: pandas >= 3 would copy the column)
        if nest:
            key = pd.MultiIndex.from_arrays([s_codes, psu_a])
            p_codes, p_labels = pd.factorize(key, sort=True)
            p_codes = p_codes.astype(np.int64)
            p_labels = np.asarray(p_labels, dtype=object)
        else:
            p_codes, p_labels = factorize_labels(psu_a, "psu")
    P = (len(p_labels) if p_labels is not None else n) if n else 0
    # every PSU must lie in exactly one stratum
    first = np.full(P, -1, dtype=np.int64)
    first[p_codes] = s_codes
    crossing = first[p_codes] != s_codes
    if crossing.any():
        raise InputError(
            f"PSU labels repeat across strata in {describe_rows(crossing, psu)}; "
            "pass nest=True if PSU ids are only unique within strata"
        )
    psu_stratum = first
    fpc1 = None
    if fpc is not None:
        fpc_a = np.asarray(fpc, dtype=float)
        n_h = np.bincount(psu_stratum, minlength=H).astype(float)
        per_h = pd.Series(fpc_a).groupby(s_codes).agg(["min", "max"])
        if (per_h["min"] != per_h["max"]).any():
            raise InputError("fpc must be constant within each stratum")
        val = per_h["min"].to_numpy()
        fpc1 = np.where(val <= 1, val, n_h / np.where(val > 1, val, 1.0))
        if (fpc1 > 1 + 1e-12).any() or (fpc1 < 0).any():
            raise InputError("fpc gives more sampled PSUs than the population has in some stratum")
    ssu_codes, fpc2_a = None, None
    if ssu is not None or fpc2 is not None:
        if ssu is None or fpc2 is None:
            raise InputError("two-stage fpc needs both ssu (second-stage unit labels) and fpc2")
        key = pd.MultiIndex.from_arrays([p_codes, np.asarray(ssu)])
        ssu_codes = pd.factorize(key, sort=True)[0].astype(np.int64)
        f2 = np.asarray(fpc2, dtype=float)
        m_j = np.bincount(
            p_codes[np.unique(ssu_codes, return_index=True)[1]], minlength=P
        ).astype(float)
        per_p = pd.Series(f2).groupby(p_codes).agg(["min", "max"])
        if (per_p["min"] != per_p["max"]).any():
            raise InputError("fpc2 must be constant within each PSU")
        v2 = per_p["min"].to_numpy()
        fpc2_a = np.where(v2 <= 1, v2, m_j / np.where(v2 > 1, v2, 1.0))
    return dict(
        weights=w,
        strata=s_codes,
        psu=p_codes,
        n_strata=H,
        n_psu=P,
        psu_stratum=psu_stratum,
        fpc1=fpc1,
        ssu=ssu_codes,
        fpc2=fpc2_a,
        lonely_psu=lonely_psu,
        clustered=clustered,
        strata_labels=s_labels,
        psu_labels=p_labels,
        base_n=int(np.count_nonzero(w > 0)),
    )

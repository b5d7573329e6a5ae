"""Relative median income ratio (Eurostat RMIR, R convey's ``svyrmir``).

``RMIR = Q_old / Q_young``: the weighted ``quantile`` (median) income of people aged
``agelim`` or over divided by that of people under ``agelim``. Each median is linearised
as in :func:`~remitpov.measures.convey.quantile_influence` over its age group (its ``N``
and kernel density), with ONE bandwidth from the whole domain (convey's ``h``); the ratio
by the chain rule: ``lin = lin_old / Q_young - Q_old lin_young / Q_young^2``.
"""
from __future__ import annotations

import numpy as np

from ..core.density import convey_bandwidth
from ..core.validate import checked
from ..exceptions import InputError
from ..results import EstimateTable
from .convey import check_order, estimate, quantile_influence
from .registry import Measure, register

register(Measure("rmir", "inequality", "rmir", joint=False, options=("age", "agelim", "quantile"), rank=200,
                 summary="relative median income ratio (65+ / under 65), convey svyrmir"))


@checked
def rmir(survey, income, age, by=None, *, agelim: float = 65, quantile: float = 0.5, level: str = "person",
         na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
         deff: bool | str | None = None) -> EstimateTable:
    """Relative median income ratio (age ``>= agelim`` over age ``< agelim``) with its linearised SE.

    Matches R convey's ``svyrmir`` (estimate and SE).

    Parameters
    ----------
    survey : Survey or Design
    income : str or array_like
    age : str or array_like
        Age in years (missing ages follow ``na_rm`` like missing incomes).
    by : str, optional
        Domains: both medians within the domain.
    agelim : float
        Age limit: the elderly are ``age >= agelim`` (default 65, Eurostat).
    quantile : float
        Quantile order compared (0.5: medians).
    level, na_rm, ci_level, dist
        As in :func:`remitpov.fgt`.

    Returns
    -------
    EstimateTable
        ``measure="rmir"``.
    """
    p = check_order(quantile, "quantile")
    if not np.isfinite(agelim):
        raise InputError(f"agelim={agelim!r}: give a finite age")

    def stat(y, w, w_full, a):
        pos = w > 0
        h = convey_bandwidth(y[pos], w[pos])
        old = a >= agelim
        for grp, what in ((~old, f"under {agelim:g}"), (old, f"aged {agelim:g} or over")):
            if not (pos & grp).any():
                raise InputError(f"rmir: nobody {what} with a positive weight; the ratio is undefined")
        q1, l1 = quantile_influence(y, np.where(old, 0.0, w), p, h)
        q2, l2 = quantile_influence(y, np.where(old, w, 0.0), p, h)
        if not q1 != 0:
            raise InputError(f"rmir: the p{100 * p:g} income of people under {agelim:g} is 0; the ratio is undefined")
        return q2 / q1, l2 / q1 - q2 * l1 / q1 ** 2

    return estimate(survey, income, by, stat, measure="rmir", deff=deff, level=level, na_rm=na_rm, ci_level=ci_level,
                    dist=dist, extra=(age,), title="Relative median income ratio",
                    notes=(f"p{100 * p:g} income of age >= {agelim:g} over age < {agelim:g} (convey svyrmir)",))

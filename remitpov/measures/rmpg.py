"""Relative median poverty gap (Eurostat RMPG, R convey's ``svyrmpg``).

``RMPG = (t - m) / t`` with ``t`` the at-risk-of-poverty threshold and ``m`` the median
income of the poor (:mod:`remitpov.measures.poormed`). Linearised by the chain rule
(convey's ``contrastinf``): ``lin = m / t^2 lin_t - lin_m / t``.
"""
from __future__ import annotations

from ..core.validate import checked
from ..results import EstimateTable
from .convey import check_order, check_positive, estimate
from .poormed import poor_median_influence
from .registry import Measure, register

register(Measure("rmpg", "poverty", "rmpg", joint=False, options=("quantile", "percent"), rank=190,
                 summary="relative median poverty gap, convey svyrmpg"))


@checked
def rmpg(survey, income, by=None, *, quantile: float = 0.5, percent: float = 0.6, level: str = "person",
         na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
         deff: bool | str | None = None) -> EstimateTable:
    """Relative median poverty gap ``(t - m) / t`` (0--1 scale) with its linearised SE.

    Matches R convey's ``svyrmpg`` (estimate and SE). ``t`` is the national threshold
    ``percent x Q(quantile)``, ``m`` the median income of the poor (``y <= t``) of the
    domain (:func:`remitpov.poor_median`).

    Parameters
    ----------
    survey : Survey or Design
    income : str or array_like
    by : str, optional
        Domains (threshold national, median of the poor within the domain, as convey).
    quantile, percent : float
        The at-risk-of-poverty threshold (:func:`remitpov.arpt`).
    level, na_rm, ci_level, dist
        As in :func:`remitpov.fgt`.

    Returns
    -------
    EstimateTable
        ``measure="rmpg"`` (a share; Eurostat publishes it in percent).
    """
    p, pc = check_order(quantile, "quantile"), check_positive(percent, "percent")

    def stat(y, w, w_full):
        m, m_lin, t, t_lin = poor_median_influence(y, w, w_full, p, pc)
        return (t - m) / t, m / t ** 2 * t_lin - m_lin / t

    return estimate(survey, income, by, stat, measure="rmpg", deff=deff, level=level, na_rm=na_rm, ci_level=ci_level,
                    dist=dist, title="Relative median poverty gap",
                    notes=(f"threshold {100 * pc:g}% of the national p{100 * p:g}; 0-1 scale (convey svyrmpg)",))

"""At-risk-of-poverty threshold: ``percent`` x the weighted ``p``-quantile (EU: 60 % of the median).

Matches R convey's ``svyarpt`` (point estimate and linearised SE): the quantile is the
smallest income whose weighted cdf reaches ``p``, its influence values
``-(1[y <= q] - p) / (N f(q))`` use a Gaussian kernel density with convey's bandwidth
(:mod:`remitpov.measures.convey`).
"""
from __future__ import annotations

from ..core.validate import checked
from ..results import EstimateTable
from .convey import arpt_influence, check_order, check_positive, estimate
from .registry import Measure, register

register(Measure("arpt", "poverty", "arpt", joint=False, options=("quantile", "percent"), rank=170,
                 summary="at-risk-of-poverty threshold (60 % of the median), convey svyarpt"))


@checked
def arpt(survey, income, by=None, *, quantile: float = 0.5, percent: float = 0.6, level: str = "person",
         na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
         deff: bool | str | None = None) -> EstimateTable:
    """At-risk-of-poverty threshold ``percent x Q(quantile)`` with its linearised SE (convey ``svyarpt``).

    Parameters
    ----------
    survey : Survey or Design
    income : str or array_like
        Income column (e.g. equivalised disposable income).
    by : str, optional
        Domain variable: the threshold of each domain's own income distribution (zero
        influence outside the domain, full design for the variance, as ``svyby``).
    quantile : float
        Quantile order in (0, 1); 0.5 = the median.
    percent : float
        Multiple of the quantile (0.6: the EU at-risk-of-poverty threshold).
    level, na_rm, ci_level, dist
        As in :func:`remitpov.fgt`.

    Returns
    -------
    EstimateTable
        One row per domain, ``measure="arpt"``, in the income's units.

    Notes
    -----
    The quantile is the smallest income with weighted cdf ``>= quantile`` (the ``"math"``
    rule, convey's ``oldsvyquantile(method="constant")``); laeken's rule (cdf ``>``) differs
    only when a cumulative weight share equals ``quantile`` exactly. Replicate designs
    recompute the threshold with every replicate weight column.
    """
    p, pc = check_order(quantile, "quantile"), check_positive(percent, "percent")

    def stat(y, w, w_full):
        return arpt_influence(y, w, p, pc)

    return estimate(survey, income, by, stat, measure="arpt", deff=deff, level=level, na_rm=na_rm, ci_level=ci_level,
                    dist=dist, title=f"At-risk-of-poverty threshold ({100 * pc:g}% of the p{100 * p:g})",
                    notes=("quantile: smallest income with weighted cdf >= p (convey, R survey qrule='math')",))


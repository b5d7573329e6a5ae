"""Median income of the poor: the weighted median of the incomes at or below the
at-risk-of-poverty threshold (R convey's ``svypoormed``), with its linearised SE.

The threshold is ``percent x`` the ``quantile``-quantile of the WHOLE sample (convey's
``full_design``), also when estimating by domain; the median of the poor, the rate and the
densities are the domain's. Linearisation (Osier 2009, eq. for the median of the poor;
convey 1.0.1): with ``R`` the at-risk-of-poverty rate at the estimated threshold ``t``
(influence ``lin_R``, :func:`~remitpov.measures.convey.arpr_influence`),
``lin_m = (lin_R / 2 - 1[D] (1[y <= m] - R / 2) / N) / f(m)``, ``f`` the kernel density
of the domain's incomes (convey's bandwidth).
"""
from __future__ import annotations

import numpy as np

from ..core.density import convey_bandwidth, kernel_density
from ..core.quantile import weighted_quantile
from ..core.validate import checked
from ..exceptions import InputError
from ..results import EstimateTable
from .convey import arpr_influence, arpt_influence, check_order, check_positive, estimate
from .registry import Measure, register

register(Measure("poor_median", "poverty", "poor_median", joint=False, aliases=("poormed",),
                 options=("quantile", "percent"), rank=180, summary="median income of the poor, convey svypoormed"))


def poor_median_influence(y: np.ndarray, w: np.ndarray, w_full: np.ndarray, p: float = 0.5, percent: float = 0.6,
                          where: str = "") -> tuple[float, np.ndarray, float, np.ndarray]:
    """``(median of the poor, its influence values, threshold, threshold influence values)``.

    ``w`` are the domain's weights (zero outside), ``w_full`` the whole sample's (the
    threshold is national, as convey's ``full_design``).
    """
    t, t_lin = arpt_influence(y, w_full, p, percent)
    pos = w > 0
    poor = pos & (y <= t)
    if not poor.any():
        raise InputError(f"no unit at or below the at-risk-of-poverty threshold {t:g}{where}: the median income "
                         "of the poor is undefined")
    m = float(weighted_quantile(y[poor], w[poor], 0.5, rule="math"))
    f = kernel_density(y[pos], w[pos], m, convey_bandwidth(y[pos], w[pos]))
    if not f > 0:
        raise InputError(f"the kernel density at the median of the poor {m:g} is zero{where}: cannot linearise")
    rate, rate_lin = arpr_influence(y, w, t, t_lin)
    if_m = np.where(pos, ((y <= m) - 0.5 * rate) / w.sum(), 0.0)
    return m, (0.5 * rate_lin - if_m) / f, t, t_lin


@checked
def poor_median(survey, income, by=None, *, quantile: float = 0.5, percent: float = 0.6, level: str = "person",
                na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
                deff: bool | str | None = None) -> EstimateTable:
    """Median income of the poor (at or below ``percent x Q(quantile)``) with its linearised SE.

    Matches R convey's ``svypoormed`` (estimate and SE).

    Parameters
    ----------
    survey : Survey or Design
    income : str or array_like
    by : str, optional
        Domains: the median of the domain's poor, against the NATIONAL threshold (convey).
    quantile, percent : float
        The at-risk-of-poverty threshold (:func:`remitpov.arpt`); poor means ``y <= t``.
    level, na_rm, ci_level, dist
        As in :func:`remitpov.fgt`.

    Returns
    -------
    EstimateTable
        ``measure="poor_median"``, in the income's units.
    """
    p, pc = check_order(quantile, "quantile"), check_positive(percent, "percent")

    def stat(y, w, w_full):
        return poor_median_influence(y, w, w_full, p, pc)[:2]

    return estimate(survey, income, by, stat, measure="poor_median", deff=deff, level=level, na_rm=na_rm, ci_level=ci_level,
                    dist=dist, title="Median income of the poor",
                    notes=(f"poor: income <= {100 * pc:g}% of the national p{100 * p:g} (convey svypoormed)",))

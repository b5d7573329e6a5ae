"""Zenga (2007) inequality index, R convey's ``svyzenga`` (Barabesi, Diana & Perri 2016).

On the units sorted by income (ties in data order), with ``H_k`` the cumulative weight and
``K_k = T - sum_{j<k} w_j y_j`` the income of units ``k`` and above (``T`` total income):
``Z = 1 - sum_k w_k (N - H_k)(T - K_k) / (N H_k K_k)``; the influence values are convey's
``CalcZenga_IF`` (five terms, computed with cumulative sums: O(n log n)).
"""
from __future__ import annotations

import numpy as np

from ..core.validate import checked
from ..exceptions import InputError
from ..results import EstimateTable
from .convey import check_nonnegative, estimate
from .registry import Measure, register

register(Measure("zenga", "inequality", "zenga", joint=False, rank=210, summary="Zenga index, convey svyzenga"))


def _check(y: np.ndarray, w: np.ndarray, label: str, where: str) -> None:
    check_nonnegative(y, w, label, where)
    if not (w * y).sum() > 0:
        raise InputError(f"{label!r} is 0 for everybody{where}: the Zenga index is undefined (it divides by the "
                         "income of the richer units)")


def zenga_influence(y: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Zenga index of ``y`` (units with ``w > 0``) and its influence values (zero elsewhere)."""
    idx = np.flatnonzero(w > 0)
    o = idx[np.argsort(y[idx], kind="stable")]  # R's order(): ties in data order
    ys, ws = y[o], w[o]
    N, T = ws.sum(), ws @ ys
    H = np.cumsum(ws)
    wy = ws * ys
    K = T - np.cumsum(wy) + wy
    with np.errstate(divide="ignore", invalid="ignore"):
        z = 1.0 - np.sum(ws * (N - H) * (T - K) / (N * H * K))
        a = ws * (T - K) / (H ** 2 * K)
        lin = (-(N - H) * (T - K) / (N * H * K)
               - np.sum(ws * (T - K) / K) / N ** 2
               - ys / N * np.sum(ws * (N - H) / (H * K))
               + a.sum() - np.cumsum(a) + a
               + T * ys / N * np.cumsum(ws * (N - H) / (H * K ** 2)))
    out = np.zeros(y.shape[0])
    out[o] = lin
    return float(z), out


@checked
def zenga(survey, income, by=None, *, level: str = "person", na_rm: bool = False, ci_level: float = 0.95,
          dist: str = "t", deff: bool | str | None = None) -> EstimateTable:
    """Zenga inequality index (0--1) with its linearised SE.

    Matches R convey's ``svyzenga`` (estimate and SE).

    Parameters
    ----------
    survey : Survey or Design
    income : str or array_like
        Non-negative incomes, not all zero (else :class:`~remitpov.InputError`; convey
        would return NaN).
    by : str, optional
        Domains (each domain's own distribution; zero influence outside it).
    level, na_rm, ci_level, dist
        As in :func:`remitpov.gini`.

    Returns
    -------
    EstimateTable
        ``measure="zenga"``.

    Notes
    -----
    Tied incomes are taken in data order (as convey); the index then depends slightly on
    the order of tied units with unequal weights.
    """
    return estimate(survey, income, by, lambda y, w, w_full: zenga_influence(y, w), measure="zenga", deff=deff, level=level,
                    na_rm=na_rm, ci_level=ci_level, dist=dist, check=_check,
                    title="Zenga index", notes=("Zenga (2007) index, Barabesi-Diana-Perri estimator (convey svyzenga)",))

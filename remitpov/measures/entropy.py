"""Generalised entropy indices ``GE(e)``: Theil's T (``GE(1)``) and the mean log deviation
(``GE(0)``), smooth functions of weighted totals with linearised SEs."""
from __future__ import annotations

import numpy as np

from ..core.statistic import Statistic
from ..core.validate import checked
from ..results import EstimateTable
from .registry import Measure, register, register_statistic
from .inequality_base import (Prep, check_usable, finish, keys_frame, legacy_deff, prep, require_income,
                              skips_empty_domains, smooth_statistic, usable_masks)

register(Measure("theil", "inequality", "theil", rank=40, summary="Theil's T, GE(1)"))
register(Measure("mld", "inequality", "mld", rank=50, summary="mean log deviation, GE(0)"))
register(Measure("generalized_entropy", "inequality", "generalized_entropy", aliases=("ge",), options=("epsilon",),
                 rank=60, summary="generalised entropy GE(e)"))


@checked
def generalized_entropy(survey, income, epsilon=(0.0, 1.0, 2.0), by=None, *, level: str = "person",
                        na_rm: bool = False, ci_level: float = 0.95, dist: str = "t",
                        deff: bool | str | None = None) -> EstimateTable:
    """Generalised entropy indices ``GE(epsilon)`` with linearised SEs.

    ``GE(e) = [ (1/N) sum w (y/mu)^e - 1 ] / (e (e - 1))``; ``GE(1)`` is Theil's T index
    ``(1/N) sum w (y/mu) log(y/mu)`` and ``GE(0)`` the mean log deviation
    ``(1/N) sum w log(mu/y)``. Each index is a smooth function of the weighted totals
    ``N, sum w y, sum w y^e`` (or ``sum w y log y``, ``sum w log y``); its influence
    values are ``z_i = sum_j df/dT_j Y_ij`` with the gradient computed exactly by complex
    step differentiation. Replicate designs use the totals fast path.

    Incomes must be positive for ``e <= 0``; non-negative for ``e > 0`` (Theil: a zero
    income contributes ``0 log 0 = 0``). Negative incomes raise.
    """
    p, _ = prep(survey, income, level, by, na_rm)
    return finish(p, ge_statistic(p, epsilon), ci_level, dist, legacy_deff(deff, "generalized_entropy"))


@skips_empty_domains
def ge_statistic(p: Prep, epsilon=(0.0, 1.0, 2.0)) -> Statistic:
    eps = [float(e) for e in np.atleast_1d(epsilon)]
    masks = usable_masks(p)
    check_usable(p, masks, "generalized_entropy")
    require_income(p, masks, any(e <= 0 for e in eps), "generalized_entropy")
    y = p.y
    cols = [np.ones_like(y), y]
    fns = []
    for e in eps:
        j = len(cols)
        if e == 1.0:
            cols.append(np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0))
            fns.append(lambda T, j=j: T[:, j] / T[:, 1] - np.log(T[:, 1] / T[:, 0]))
        elif e == 0.0:
            cols.append(np.log(np.where(y > 0, y, 1.0)))
            fns.append(lambda T, j=j: np.log(T[:, 1] / T[:, 0]) - T[:, j] / T[:, 0])
        else:
            cols.append(np.where(y > 0, np.power(np.where(y > 0, y, 1.0), e), 0.0))
            fns.append(lambda T, j=j, e=e: ((T[:, j] / T[:, 0]) * (T[:, 1] / T[:, 0]) ** (-e) - 1) / (e * (e - 1)))
    Y = np.column_stack(cols)

    def f(T):
        return np.column_stack([g(T) for g in fns])

    keys = keys_frame(p, "generalized_entropy", [{"epsilon": e} for e in eps])
    return smooth_statistic(p, masks, Y, f, keys, title="Generalised entropy",
                   notes=["GE(1) = Theil T, GE(0) = mean log deviation"])


def theil(survey, income, by=None, **kwargs) -> EstimateTable:
    """Theil's T index, ``GE(1)`` (see :func:`generalized_entropy`)."""
    kwargs["deff"] = legacy_deff(kwargs.get("deff"), "theil")
    return generalized_entropy(survey, income, (1.0,), by, **kwargs)


def mld(survey, income, by=None, **kwargs) -> EstimateTable:
    """Mean log deviation (Theil's L), ``GE(0)`` (see :func:`generalized_entropy`)."""
    kwargs["deff"] = legacy_deff(kwargs.get("deff"), "mld")
    return generalized_entropy(survey, income, (0.0,), by, **kwargs)


register_statistic("generalized_entropy", ge_statistic)
register_statistic("theil", lambda p: ge_statistic(p, (1.0,)))
register_statistic("mld", lambda p: ge_statistic(p, (0.0,)))

__all__ = ["generalized_entropy", "theil", "mld", "ge_statistic"]

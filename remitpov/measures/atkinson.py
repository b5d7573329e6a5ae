"""Atkinson indices ``A(e) = 1 - M_e / mu`` (equally-distributed-equivalent income ``M_e``),
smooth functions of weighted totals with linearised SEs."""
from __future__ import annotations

import numpy as np

from ..core.statistic import Statistic
from ..core.validate import checked
from ..exceptions import InputError
from ..results import EstimateTable
from .registry import Measure, register, register_statistic
from .inequality_base import (Prep, check_usable, finish, keys_frame, legacy_deff, prep, require_income,
                              skips_empty_domains, smooth_statistic, usable_masks)

register(Measure("atkinson", "inequality", "atkinson", options=("epsilon",), rank=70, summary="Atkinson A(e)"))


@checked
def atkinson(survey, income, epsilon=(0.5, 1.0, 2.0), by=None, *, level: str = "person", na_rm: bool = False,
             ci_level: float = 0.95, dist: str = "t", deff: bool | str | None = None) -> EstimateTable:
    """Atkinson indices ``A(e) = 1 - M_e / mu`` with linearised SEs.

    ``M_e = [(1/N) sum w y^(1-e)]^(1/(1-e))`` (``e != 1``) or ``exp((1/N) sum w log y)``
    (``e = 1``) is the equally-distributed-equivalent income. A smooth function of totals;
    influence values by the exact complex-step gradient, as :func:`generalized_entropy`.
    Requires ``e > 0``; incomes positive for ``e >= 1``, non-negative for ``0 < e < 1``.
    """
    p, _ = prep(survey, income, level, by, na_rm)
    return finish(p, atkinson_statistic(p, epsilon), ci_level, dist, legacy_deff(deff, "atkinson"))


@skips_empty_domains
def atkinson_statistic(p: Prep, epsilon=(0.5, 1.0, 2.0)) -> Statistic:
    eps = [float(e) for e in np.atleast_1d(epsilon)]
    if any(e <= 0 for e in eps):
        raise InputError(f"atkinson needs epsilon > 0 (inequality aversion), got {eps}")
    masks = usable_masks(p)
    check_usable(p, masks, "atkinson")
    require_income(p, masks, any(e >= 1 for e in eps), "atkinson")
    y = p.y
    ysafe = np.where(y > 0, y, 1.0)
    cols = [np.ones_like(y), y]
    fns = []
    for e in eps:
        j = len(cols)
        if e == 1.0:
            cols.append(np.log(ysafe))
            fns.append(lambda T, j=j: 1 - np.exp(T[:, j] / T[:, 0]) / (T[:, 1] / T[:, 0]))
        else:
            cols.append(np.where(y > 0, np.power(ysafe, 1 - e), 0.0))
            fns.append(lambda T, j=j, e=e: 1 - (T[:, j] / T[:, 0]) ** (1 / (1 - e)) / (T[:, 1] / T[:, 0]))
    Y = np.column_stack(cols)

    def f(T):
        return np.column_stack([g(T) for g in fns])

    keys = keys_frame(p, "atkinson", [{"epsilon": e} for e in eps])
    return smooth_statistic(p, masks, Y, f, keys, title="Atkinson index", notes=())


register_statistic("atkinson", atkinson_statistic)

__all__ = ["atkinson", "atkinson_statistic"]

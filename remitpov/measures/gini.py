"""The weighted Gini coefficient (weighted mid-ranks) with its exact linearised SE."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.inputs import is_dask as _is_dask
from ..core.ranked import Ranked, concentration_if, concentration_point
from ..core.statistic import Statistic
from ..core.validate import checked
from ..exceptions import InputError
from ..results import EstimateTable
from .registry import Measure, register, register_statistic
from .inequality_base import Prep as _Prep
from .inequality_base import check_usable as _check_domains
from .inequality_base import finish as _finish
from .inequality_base import legacy_deff
from .inequality_base import keys_frame as _keys
from .inequality_base import part as _part
from .inequality_base import prep as _prep
from .inequality_base import skips_empty_domains
from .inequality_base import usable_masks as _domain_masks

register(Measure("gini", "inequality", "gini", rank=30, summary="Gini coefficient"))


def _gini_replicate(rks: Sequence[Ranked], y: np.ndarray):
    def rep(W):
        return np.column_stack([concentration_point(r, y, y, W) for r in rks])
    return rep


@checked
def gini(survey, income, by=None, *, level: str = "person", na_rm: bool = False, ci_level: float = 0.95,
         dist: str = "t", deff: bool | str | None = None) -> EstimateTable:
    """Weighted Gini coefficient (0--1 scale) with a linearised standard error.

    ``G = 2 sum_i w_i y_i F_i / (N mu) - 1`` with ``F_i`` the weighted mid-rank (module
    docstring): identical to laeken's ``gini`` (which reports ``100 G``) and to the
    weighted covariance formula ``G = 2 cov(y, F) / mu``. Incomes are sorted once
    (O(n log n)).

    The variance uses the exact derivative of the estimator with respect to the weights
    (Langel & Tillé 2013; Osier 2009; R convey's ``svygini``), see
    :func:`remitpov.core.ranked.concentration_if`. Domains (``by``) use only the domain's units for the
    estimate, zero influence outside the domain, and the full design for the variance.
    Replicate designs: the Gini is recomputed for every replicate column with one
    cumulative sum over the sorted ``(n, r)`` weight matrix.

    Negative incomes are allowed (the mean must be positive); the Gini may then exceed 1.
    Equal incomes give 0. A domain with a single observation has ``G = 0``.

    ``deff`` : None (default: design effects computed, with a FutureWarning that the default
    becomes False), False, True or "replace" (as :func:`remitpov.mean`).
    """
    if _is_dask(survey):  # out of core: the same estimator on a DaskSurvey (remitpov.distributed)
        if deff not in (None, True):
            raise InputError("deff= other than True is not available on a DaskSurvey (its engine always computes "
                             "design effects); drop it or load the data in memory")
        from .. import distributed as _rd
        return _rd.from_memory_call("gini", gini, survey, (income, by), dict(
            level=level, na_rm=na_rm, ci_level=ci_level, dist=dist))
    p, _ = _prep(survey, income, level, by, na_rm)
    return _finish(p, gini_statistic(p), ci_level, dist, legacy_deff(deff, "gini"))


@skips_empty_domains
def gini_statistic(p: _Prep) -> Statistic:
    masks = _domain_masks(p)
    _check_domains(p, masks, "gini")
    y, w = p.y, p.design.weights
    rk = Ranked(y)
    D = masks.shape[1]
    rks = [rk.restrict(masks[:, d]) for d in range(D)]  # domain rows in the one sorted order
    est = np.empty(D)
    Z = None
    for d in range(D):
        Ty = []
        est[d], z = concentration_if(rks[d], y, y, w, check=Ty)
        if not Ty[0] > 0:
            raise InputError(f"gini: the weighted mean income of {p.label!r} is <= 0 in "
                             f"{p.byname}={p.dlabels[d]!r}; the Gini is undefined")
        if D == 1:
            Z = z[:, None]
        else:
            if Z is None:
                Z = np.zeros((p.design.n, D))
            Z[:, d] = z
    return _part(p, _keys(p, "gini"), est, Z, replicate=_gini_replicate(rks, y), title="Gini coefficient",
                 n_obs=masks.sum(0),
                 notes=("Gini on the 0-1 scale (laeken reports percent)", "weighted mid-ranks, tie-order invariant"))



register_statistic("gini", gini_statistic)

__all__ = ["gini", "gini_statistic"]

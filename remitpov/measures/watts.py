"""Watts index ``W = sum w 1[y < z] log(z / y) / sum w``: the FGT-family statistic with the
contribution ``log(z/y)`` of the poor (:mod:`remitpov.measures.fgt`, ``alpha="watts"``)."""
from __future__ import annotations

from ..core.validate import checked
from ..results import EstimateTable
from .poverty_core import poverty_table
from .relative_line import incomes_of
from .registry import Measure, register

register(Measure("watts", "poverty", "watts", rank=20, summary="Watts index"))


@checked
def watts(survey, income, line, by=None, *, level: str = "person", strict: bool = True, ci_level: float = 0.95,
          dist: str = "t", na_rm: bool = False, concept: str | None = None, total: bool | str = False,
          deff: bool | str = False, covmat: bool | None = None) -> EstimateTable:
    """Watts index ``W = sum w 1[y < z] log(z / y) / sum w`` with design SEs.

    A ratio mean like FGT (influence ``(g_i - W)/N``); with a relative line the
    influence gains ``(sum w 1[y<z]/z / N) x I_z`` (the log term is 0 at ``y = z``, so no
    density term). Raises for poor units with ``y <= 0`` (the index is undefined).
    Same parameters as :func:`remitpov.fgt` (including ``total=``, ``deff=`` and ``covmat=``).
    """
    return poverty_table(survey, incomes_of(income, concept), line, ("watts",), by, level=level, strict=strict,
                          ci_level=ci_level, dist=dist, na_rm=na_rm, headcount_total=False, title="Watts index",
                          total=total, deff=deff, covmat=covmat)

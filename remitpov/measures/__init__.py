"""Measures: the one registry of what remitpov estimates, and the shared definitions.

Every estimable measure registers itself once, in its own file
(``register(Measure(...))`` from :mod:`remitpov.measures.registry`), with its family, the
public estimator that computes it, whether :func:`remitpov.compare` can estimate it for
several income concepts jointly, its aliases and options. Importing this package imports
every module in it, so the registry is complete: :func:`remitpov.compare` (``measure=``),
:data:`remitpov.inequality.INEQUALITY_MEASURES` and the package's exports read it, and
adding a measure is one file (its estimator and its registration) plus its test.

* :mod:`remitpov.measures.fgt` -- FGT / Watts contributions, shared by the in-memory and
  the Dask engines.
* Poverty: :mod:`~remitpov.measures.relative_line` (fixed, per-unit and relative lines),
  :mod:`~remitpov.measures.poverty_core` (the FGT-family statistic with factored influence
  values: FGT, headcount total, :mod:`~remitpov.measures.watts`),
  :mod:`~remitpov.measures.sen` (Sen, SST), :mod:`~remitpov.measures.fgt_decomposition`
  (subgroup decomposition, static identity), :mod:`~remitpov.measures.poverty_curve`.
* Inequality: :mod:`~remitpov.measures.inequality_base` (preparation shared by the
  inequality measures), :mod:`~remitpov.measures.entropy` (GE, Theil, MLD),
  :mod:`~remitpov.measures.atkinson`, :mod:`~remitpov.measures.compare_inequality` (several
  income concepts jointly, from each measure's statistic builder registered here with
  :func:`register_statistic`), and the rank-based measures on the ranks of
  :mod:`remitpov.core.ranked`: :mod:`~remitpov.measures.quantile`, :mod:`~remitpov.measures.gini`,
  :mod:`~remitpov.measures.shares` (income shares, Palma, S80/S20),
  :mod:`~remitpov.measures.lorenz` (Lorenz and concentration curves),
  :mod:`~remitpov.measures.gini_decomposition` (Lerman--Yitzhaki).
* :mod:`remitpov.measures.convey` -- the shared linearisation of the Eurostat / R convey
  measures, one file each: :mod:`~remitpov.measures.arpt` (at-risk-of-poverty threshold),
  :mod:`~remitpov.measures.poormed` (median income of the poor), :mod:`~remitpov.measures.rmpg`
  (relative median poverty gap), :mod:`~remitpov.measures.rmir` (relative median income
  ratio), :mod:`~remitpov.measures.zenga` (Zenga index).

Every measure builds a :class:`~remitpov.core.statistic.Statistic` and finishes through
the one finaliser :func:`~remitpov.core.statistic.finalise`. The public modules
:mod:`remitpov.poverty` and :mod:`remitpov.inequality` re-export every function.
"""
from __future__ import annotations

import importlib
import pkgutil

from .registry import (FAMILIES, REGISTRY, Measure, get, names, register, register_statistic, statistic_builder,
                       statistics, unregister)


def _import_measure_files() -> None:
    """Import every module of this package: each measure file registers itself."""
    for info in pkgutil.iter_modules(__path__):
        if info.name != "registry":
            importlib.import_module(f"{__name__}.{info.name}")


_import_measure_files()

__all__ = ["Measure", "REGISTRY", "FAMILIES", "register", "unregister", "names", "get", "register_statistic",
           "statistic_builder", "statistics"]

"""Measures: the one registry of what remitpov estimates, and the shared definitions.

Every estimable measure is registered here once (:func:`register`), with its family,
the public estimator that computes it, whether :func:`remitpov.compare` can estimate it
for several income concepts jointly, its aliases and options. :func:`remitpov.compare`
(``measure=``), :data:`remitpov.inequality.INEQUALITY_MEASURES` and the package's
exports read this registry; adding a measure is one registration plus its estimator
and test.

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

from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable

from ..exceptions import InputError

FAMILIES = ("poverty", "inequality", "mean")


@dataclass(frozen=True)
class Measure:
    """A registered measure.

    Attributes
    ----------
    name : str
        Canonical name (the ``measure=`` value of :func:`remitpov.compare`).
    family : {"poverty", "inequality", "mean"}
    function : str
        Name of the public estimator in :mod:`remitpov` that computes it.
    joint : bool
        :func:`remitpov.compare` estimates it for two income concepts jointly (with the
        difference's SE).
    aliases : tuple of str
        Other accepted names.
    options : tuple of str
        Measure-specific keyword options (passed through ``compare(..., **options)``).
    summary : str
        One line for listings.
    """

    name: str
    family: str
    function: str
    joint: bool = True
    aliases: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    summary: str = ""


_REGISTRY: dict[str, Measure] = {}
#: canonical name -> builder of the measure's Statistic for one income (:func:`register_statistic`)
_STATISTICS: dict[str, Callable] = {}
_ALIAS: dict[str, str] = {}
#: read-only view of the registry: canonical name -> :class:`Measure`
REGISTRY = MappingProxyType(_REGISTRY)


def register(m: Measure) -> Measure:
    """Add ``m`` to the registry (names and aliases must be new)."""
    if m.family not in FAMILIES:
        raise ValueError(f"measure {m.name!r}: family {m.family!r} is not one of {FAMILIES}")
    for n in (m.name,) + m.aliases:
        if n in _REGISTRY or n in _ALIAS:
            raise ValueError(f"measure name {n!r} is already registered")
    _REGISTRY[m.name] = m
    for a in m.aliases:
        _ALIAS[a] = m.name
    return m


def names(family: str | None = None, *, joint: bool | None = None, aliases: bool = False) -> tuple[str, ...]:
    """Registered names (canonical first, then aliases if ``aliases``), in registration order."""
    ms = [m for m in _REGISTRY.values() if (family is None or m.family == family)
          and (joint is None or m.joint == joint)]
    return tuple(m.name for m in ms) + (tuple(a for m in ms for a in m.aliases) if aliases else ())


def register_statistic(name: str, builder: Callable) -> Callable:
    """Attach to the registered measure ``name`` the builder of its :class:`~remitpov.core.statistic.Statistic`
    for ONE income: ``builder(prep, **options)`` with ``prep`` a
    :class:`remitpov.measures.inequality_base.Prep`. :func:`remitpov.compare_inequality` (and
    :func:`remitpov.compare`) stack these for several income concepts; the measure's own file
    registers it. Its keyword options are the measure's options."""
    m = get(name)
    if m.name in _STATISTICS:
        raise ValueError(f"measure {m.name!r} already has a registered statistic")
    _STATISTICS[m.name] = builder
    return builder


def statistic_builder(name: str) -> Callable | None:
    """The registered statistic builder of measure ``name`` (or an alias), None if it has none."""
    return _STATISTICS.get(get(name).name)


def statistics() -> tuple[str, ...]:
    """Names of the measures with a registered statistic builder."""
    return tuple(_STATISTICS)


def get(name: str, *, what: str = "measure") -> Measure:
    """The measure called ``name`` (or an alias); :class:`InputError` listing the valid names."""
    key = _ALIAS.get(name, name) if isinstance(name, str) else None
    if key not in _REGISTRY:
        raise InputError(f"{what}={name!r}: unknown measure, not one of "
                         f"{', '.join(map(repr, names(joint=True, aliases=True)))} (estimated jointly by compare) "
                         f"or {', '.join(map(repr, names(joint=False)))} (their own functions)")
    return _REGISTRY[key]


for _m in (
    Measure("fgt", "poverty", "fgt", options=("alpha",), summary="Foster-Greer-Thorbecke P_a (headcount, gap, severity)"),
    Measure("watts", "poverty", "watts", summary="Watts index"),
    Measure("gini", "inequality", "gini", summary="Gini coefficient"),
    Measure("theil", "inequality", "theil", summary="Theil's T, GE(1)"),
    Measure("mld", "inequality", "mld", summary="mean log deviation, GE(0)"),
    Measure("generalized_entropy", "inequality", "generalized_entropy", aliases=("ge",), options=("epsilon",),
            summary="generalised entropy GE(e)"),
    Measure("atkinson", "inequality", "atkinson", options=("epsilon",), summary="Atkinson A(e)"),
    Measure("palma", "inequality", "palma", summary="Palma ratio (top 10 % / bottom 40 %)"),
    Measure("qsr", "inequality", "quantile_share_ratio", aliases=("quantile_share_ratio",),
            options=("lower", "upper", "definition"), summary="quantile share ratio S80/S20"),
    Measure("income_shares", "inequality", "income_shares", aliases=("shares",), options=("groups",),
            summary="income shares of population quantile groups"),
    Measure("quantile", "inequality", "quantile", options=("probs", "rule", "se_method", "bandwidth"),
            summary="weighted quantiles"),
    Measure("sen", "poverty", "sen", joint=False, summary="Sen index"),
    Measure("sst", "poverty", "sst", joint=False, summary="Sen-Shorrocks-Thon index"),
    Measure("mean", "mean", "mean", joint=False, summary="weighted mean"),
    Measure("total", "mean", "total", joint=False, summary="weighted total"),
    Measure("ratio", "mean", "ratio", joint=False, summary="ratio of totals"),
    # Eurostat / R convey measures, one file each (remitpov/measures/<name>.py)
    Measure("arpt", "poverty", "arpt", joint=False, options=("quantile", "percent"),
            summary="at-risk-of-poverty threshold (60 % of the median), convey svyarpt"),
    Measure("poor_median", "poverty", "poor_median", joint=False, aliases=("poormed",), options=("quantile", "percent"),
            summary="median income of the poor, convey svypoormed"),
    Measure("rmpg", "poverty", "rmpg", joint=False, options=("quantile", "percent"),
            summary="relative median poverty gap, convey svyrmpg"),
    Measure("rmir", "inequality", "rmir", joint=False, options=("age", "agelim", "quantile"),
            summary="relative median income ratio (65+ / under 65), convey svyrmir"),
    Measure("zenga", "inequality", "zenga", joint=False, summary="Zenga index, convey svyzenga"),
):
    register(_m)
del _m

__all__ = ["Measure", "REGISTRY", "FAMILIES", "register", "names", "get", "register_statistic", "statistic_builder",
           "statistics"]

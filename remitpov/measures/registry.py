"""The one registry of measures (names, families, public estimators, options).

Each measure's own file in :mod:`remitpov.measures` registers it with
``register(Measure(...))`` when imported; :mod:`remitpov.measures` imports every file of the
package, so the registry is complete as soon as :mod:`remitpov.measures` is. Order of
listings (``names()``, error messages): by ``Measure.rank``, then registration.
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
    rank : float
        Position in listings (smaller first; new measures default to the end).
    """

    name: str
    family: str
    function: str
    joint: bool = True
    aliases: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    summary: str = ""
    rank: float = 1000.0


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
    ordered = sorted(_REGISTRY.values(), key=lambda x: x.rank)  # stable: ties keep registration order
    _REGISTRY.clear()
    _REGISTRY.update((x.name, x) for x in ordered)
    return m


def unregister(name: str) -> Measure:
    """Remove a measure (and its statistic builder) from the registry (tests, plug-ins)."""
    m = _REGISTRY.pop(get(name).name)
    for a in m.aliases:
        _ALIAS.pop(a, None)
    _STATISTICS.pop(m.name, None)
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


__all__ = ["Measure", "REGISTRY", "FAMILIES", "register", "unregister", "names", "get", "register_statistic",
           "statistic_builder", "statistics"]

"""The loader protocol and the ONE registry of survey formats (format name -> loader).

Every part of remitpov that loads a survey by a format name -- the chapter spec
(``[[survey]] format = "enigh"``), ``remitpov reproduce`` and ``remitpov describe`` --
looks the name up here, so adding a loader is one file plus one :func:`register_loader`
call (and its contract test, ``tests/test_io_registry.py``, which runs over every
registered loader automatically).

The protocol
------------
A loader is a callable ``loader(path, **options) -> Survey`` (``loader(**options)`` when
``needs_file=False``) that

* returns a :class:`~remitpov.survey.Survey` whose ``report`` (a
  :class:`~remitpov.survey.LoadReport`) lists what was read and changed, and whose
  ``metadata.loader`` names the loader;
* sets every role it declares in :attr:`LoaderInfo.roles` (names from the closed
  vocabulary :class:`~remitpov.survey.Role`);
* raises :class:`~remitpov.exceptions.InputError` (never a raw reader exception) for a
  missing, unreadable, truncated or empty file, naming the file.

Recipe: add a loader
--------------------
1. Write ``remitpov/io/<name>.py`` with ``read_<name>(path, **options) -> Survey``: read
   with :func:`~remitpov.io.generic.read_table` (verified: complete file, no empty table),
   check the columns with ``require_columns``, refuse exact duplicate rows with
   ``check_duplicate_rows``, validate incomes with ``check_income``, record every change
   in the load report, set roles from :class:`~remitpov.survey.Role`.
2. Add one :func:`register_loader` call in :func:`_register_builtin` (or in your own
   package) declaring the roles it guarantees.
3. Add a sample input to ``SAMPLES`` in ``tests/test_io_registry.py``: the contract test
   then checks it; the chapter spec (``format = "<name>"``), ``reproduce`` and
   ``remitpov describe`` accept it with no other edit.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Iterator, Protocol, runtime_checkable

from ..exceptions import InputError
from ..survey import ROLES, Survey, suggest

__all__ = ["Loader", "LoaderInfo", "register_loader", "unregister_loader", "get_loader", "loader_names", "load", "LOADERS",
           "FORMAT_TARGETS", "NO_FILE_FORMATS"]


@runtime_checkable
class Loader(Protocol):
    """``loader(path, **options) -> Survey`` (see the module docstring for the contract)."""

    def __call__(self, *args: Any, **options: Any) -> Survey: ...


@dataclass(frozen=True)
class LoaderInfo:
    """One registered survey format.

    Attributes
    ----------
    name : str
        Format name used in chapter specs (``format = "enigh"``) and the CLI.
    function : Loader
        The loader.
    needs_file : bool
        ``False`` for loaders that build their data (the synthetic survey).
    roles : frozenset of str
        Roles (and design roles ``weight``, ``strata``, ``psu`` ... set as Survey fields)
        every survey it returns has.
    required_options : tuple of str
        Keyword options without a default (e.g. ``weight`` for the generic ``table``).
    description : str
        One line for listings.
    """

    name: str
    function: Callable[..., Survey]
    needs_file: bool = True
    roles: frozenset = frozenset()
    required_options: tuple[str, ...] = ()
    description: str = ""

    @property
    def target(self) -> tuple[str, str]:
        """``(module, function name)`` of the loader."""
        return self.function.__module__, self.function.__name__


_REGISTRY: dict[str, LoaderInfo] = {}
#: Read-only live view of the registry: format name -> :class:`LoaderInfo`.
LOADERS: Mapping[str, LoaderInfo] = MappingProxyType(_REGISTRY)


def register_loader(name: str, function: Callable[..., Survey], *, needs_file: bool = True, roles=(),
                    required_options=(), description: str = "", replace: bool = False) -> LoaderInfo:
    """Register ``function`` as the loader of format ``name``.

    Raises
    ------
    InputError
        ``name`` already registered (unless ``replace=True``), not a simple identifier,
        ``function`` not callable, or a declared role outside :class:`~remitpov.survey.Role`.
    """
    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise InputError(f"loader name must be a simple identifier (letters, digits, '_'), got {name!r}")
    if name in _REGISTRY and not replace:
        raise InputError(f"loader {name!r} is already registered ({_REGISTRY[name].target}); pass replace=True")
    if not callable(function):
        raise InputError(f"loader {name!r} must be callable, got {type(function).__name__}")
    roles = frozenset(roles)
    unknown = sorted(roles - ROLES)
    if unknown:
        raise InputError(f"loader {name!r} declares unknown role(s) {unknown}{suggest(unknown[0], ROLES)}; "
                         "roles come from remitpov.survey.Role")
    info = LoaderInfo(name, function, bool(needs_file), roles, tuple(required_options), description)
    _REGISTRY[name] = info
    return info


def unregister_loader(name: str) -> LoaderInfo:
    """Remove format ``name`` from the registry (returns its entry)."""
    get_loader(name)
    return _REGISTRY.pop(name)


def get_loader(name: str) -> LoaderInfo:
    """The registered loader of format ``name``; :class:`InputError` with the nearest names if unknown."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown survey format {name!r}{suggest(name, _REGISTRY)}; registered formats: "
                         f"{loader_names()}") from None


def loader_names(*, needs_file: bool | None = None) -> tuple[str, ...]:
    """Registered format names (optionally only those that do / do not read a file)."""
    return tuple(n for n, i in _REGISTRY.items() if needs_file is None or i.needs_file == needs_file)


def load(name: str, path=None, **options) -> Survey:
    """Load a survey with the loader of format ``name``: ``loader(path, **options)``."""
    info = get_loader(name)
    missing = [o for o in info.required_options if o not in options]
    if missing:
        raise InputError(f"format {name!r} needs option(s) {missing} (e.g. the weight column): pass "
                         f"{missing[0]}=...")
    if info.needs_file:
        if path is None:
            raise InputError(f"format {name!r} reads a file: pass its path")
        return info.function(path, **options)
    if path is not None:
        raise InputError(f"format {name!r} takes no input file (got {str(path)!r})")
    return info.function(**options)


class _TargetView(Mapping):
    """Live ``format -> (module, function)`` view, the shape ``report.spec.FORMATS`` always had."""

    def __getitem__(self, key: str) -> tuple[str, str]:
        return _REGISTRY[key].target

    def __iter__(self) -> Iterator[str]:
        return iter(list(_REGISTRY))

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __repr__(self) -> str:
        return f"FORMAT_TARGETS({dict(self)!r})"


class _NoFileView:
    """Live tuple-like of the formats that read no file."""

    def __contains__(self, key) -> bool:
        return key in _REGISTRY and not _REGISTRY[key].needs_file

    def __iter__(self) -> Iterator[str]:
        return iter(loader_names(needs_file=False))

    def __len__(self) -> int:
        return len(loader_names(needs_file=False))

    def __repr__(self) -> str:
        return repr(loader_names(needs_file=False))


#: ``format -> (module, function name)``, a live view of :data:`LOADERS`.
FORMAT_TARGETS: Mapping[str, tuple[str, str]] = _TargetView()
#: Formats that read no file (live).
NO_FILE_FORMATS = _NoFileView()


def _register_builtin() -> None:
    from ..synthetic import synthetic_survey
    from .encovi import read_encovi2000
    from .enigh import read_enigh
    from .enigh_tables import read_enigh_tables
    from .eusilc import read_eusilc
    from .generic import read_table_survey

    design = {"weight", "strata", "psu"}
    register_loader("enigh", read_enigh, roles=design | {"size", "income", "remittances"},
                    description="Mexico ENIGH concentradohogar (CSV, DBF, DTA, SAV)")
    register_loader("enigh_tables", read_enigh_tables, roles=design | {"size", "income", "remittances", "area", "region"},
                    description="Mexico ENIGH from INEGI's relational tables (ingresos, viviendas, hogares)")
    register_loader("encovi2000", read_encovi2000,
                    roles=design | {"size", "income", "welfare", "area", "poverty_line", "indigence_line"},
                    description="Guatemala ENCOVI 2000 CONSUMO5.DTA (file or folder)")
    register_loader("eusilc", read_eusilc,
                    roles=design | {"income", "remittances", "y_with", "y_without", "remit_pc", "recipient"},
                    description="laeken's EU-SILC sample, equivalised income rebuilt")
    register_loader("synthetic", synthetic_survey, needs_file=False,
                    roles=design | {"size", "income", "remittances", "area"},
                    description="synthetic ENIGH-like survey (remitpov.synthetic)")
    register_loader("table", read_table_survey, roles={"weight"}, required_options=("weight",),
                    description="any CSV/Parquet/DTA/SAV/DBF file, columns given as options, values unchanged")


_register_builtin()

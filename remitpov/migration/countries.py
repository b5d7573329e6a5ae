"""Countries, names and country groupings, as data.

The country table (``data/countries.csv``) holds every country or area of UN DESA's
*International Migrant Stock 2020*: the UN M49 numeric code, the ISO 3166-1 alpha-3 code,
the UN name, continent and geographic subregion, and whether it is one of ECLAC's 33
member countries in Latin America and the Caribbean. It was built once by
``scripts/make_countries.py`` from the UN workbook (M49 country codes are ISO numeric
codes).

Groupings (``data/groupings.toml``) are the subregional integration blocks with their
members by year — SICA, CARICOM, the Andean Community (CAN), MERCOSUR — and LAC. Users
can pass their own groupings (a mapping name -> list of members, or a TOML file of the
same shape as the shipped one).
"""
from __future__ import annotations

import difflib
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..exceptions import InputError

__all__ = ["country_table", "to_iso3", "Grouping", "groupings", "lac_subregions"]


@lru_cache(maxsize=1)
def country_table() -> pd.DataFrame:
    """The shipped country table (one row per country or area; a copy is returned)."""
    with resources.files(__package__).joinpath("data", "countries.csv").open("rb") as fh:
        df = pd.read_csv(fh, keep_default_na=False, dtype={"aliases": str})
    return df


def normalise_name(name: str) -> str:
    """Name for matching: ASCII, lower case, single spaces, footnote asterisks removed."""
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return " ".join(s.replace("*", " ").lower().split())


@lru_cache(maxsize=1)
def _name_index() -> Mapping[str, str]:
    t = country_table()
    idx: dict[str, str] = {}
    for iso, name, aliases in zip(t["iso3"], t["name"], t["aliases"]):
        idx[normalise_name(name)] = iso
        idx[normalise_name(iso)] = iso
        for a in filter(None, str(aliases).split(";")):
            idx[normalise_name(a)] = iso
    return MappingProxyType(idx)


def suggest(name: str, choices: Iterable[str], n: int = 3) -> str:
    """``" (did you mean 'X', 'Y'?)"`` for an unknown name, or ``""``."""
    choices = list(choices)
    close = difflib.get_close_matches(str(name), choices, n=n, cutoff=0.6)
    if not close:
        lowered = {normalise_name(c): c for c in choices}
        close = [lowered[c] for c in difflib.get_close_matches(normalise_name(name), list(lowered), n=n, cutoff=0.6)]
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def to_iso3(names, *, what: str = "country") -> np.ndarray:
    """Map UN country names (or ISO-3 codes) to ISO 3166-1 alpha-3 codes.

    Matching ignores case, accents, repeated spaces and the UN's footnote asterisks.

    Raises
    ------
    InputError
        Listing every unknown name with the closest known names.
    """
    names = pd.Series(np.asarray(names, dtype=object))
    idx = _name_index()
    uniq = pd.unique(names)
    mapped = {u: idx.get(normalise_name(u)) for u in uniq}
    bad = [u for u, v in mapped.items() if v is None]
    if bad:
        known = list(country_table()["name"])
        lines = "; ".join(f"{b!r}{suggest(b, known)}" for b in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise InputError(f"unknown {what} name{'s' if len(bad) > 1 else ''}: {lines}{more}. Use the UN "
                         "name or the ISO 3166-1 alpha-3 code (remitpov.migration.country_table() lists them)")
    return names.map(mapped).to_numpy(dtype=object)


@dataclass(frozen=True)
class Grouping:
    """A named group of countries whose membership may change over time.

    Attributes
    ----------
    name : str
    label : str
        English label; ``label_es`` the Spanish one.
    periods : mapping ISO-3 -> tuple of (since, until)
        Membership from mid-year ``since`` (inclusive, ``None`` = always) to ``until``
        (exclusive, ``None`` = still a member).
    """

    name: str
    label: str
    label_es: str
    periods: Mapping[str, tuple[tuple[int | None, int | None], ...]] = field(default_factory=dict)

    def members(self, year: int | None = None) -> frozenset[str]:
        """ISO-3 codes of the members in ``year`` (every country ever a member if ``None``)."""
        if year is None:
            return frozenset(self.periods)
        year = int(year)
        return frozenset(iso for iso, spans in self.periods.items()
                         if any((s is None or year >= s) and (u is None or year < u) for s, u in spans))

    def is_member(self, iso3, year) -> np.ndarray:
        """Vectorised membership of ISO-3 codes in years (arrays broadcast)."""
        iso3 = np.asarray(iso3, dtype=object)
        year = np.broadcast_to(np.asarray(year), iso3.shape)
        out = np.zeros(iso3.shape, dtype=bool)
        for iso, spans in self.periods.items():
            hit = iso3 == iso
            if not hit.any():
                continue
            ok = np.zeros(iso3.shape, dtype=bool)
            for s, u in spans:
                ok |= (year >= (s if s is not None else -10**9)) & (year < (u if u is not None else 10**9))
            out |= hit & ok
        return out


def _parse_members(name: str, members) -> dict[str, tuple[tuple[int | None, int | None], ...]]:
    periods: dict[str, list[tuple[int | None, int | None]]] = {}
    raw = []
    for m in members:
        if isinstance(m, Mapping):
            if "iso" not in m:
                raise InputError(f"grouping {name!r}: member {dict(m)!r} has no 'iso' key "
                                 "(write {{iso = \"MEX\", since = 1994}})")
            unknown = set(m) - {"iso", "since", "until"}
            if unknown:
                raise InputError(f"grouping {name!r}: member keys {sorted(unknown)} not understood "
                                 "(allowed: iso, since, until)")
            raw.append((m["iso"], m.get("since"), m.get("until")))
        else:
            raw.append((m, None, None))
    isos = to_iso3([r[0] for r in raw], what=f"member of grouping {name!r}") if raw else []
    for iso, (_, s, u) in zip(isos, raw):
        if s is not None and u is not None and u <= s:
            raise InputError(f"grouping {name!r}: member {iso} has until={u} <= since={s}")
        periods.setdefault(iso, []).append((s, u))
    return {k: tuple(v) for k, v in periods.items()}


def groupings(source: str | Path | Mapping | None = None) -> dict[str, Grouping]:
    """Country groupings: the shipped blocks, or the user's.

    Parameters
    ----------
    source : None, path or mapping
        ``None``: the shipped ``groupings.toml`` (LAC, SICA, CARICOM, CAN, MERCOSUR).
        A TOML path of the same shape, or a mapping ``name -> list of members`` (names or
        ISO-3 codes, or ``{"iso": ..., "since": ..., "until": ...}`` entries) or
        ``name -> {"label": ..., "members": [...]}``.

    Raises
    ------
    InputError
        For unknown members (with the closest names) or malformed entries.
    """
    if source is None:
        with resources.files(__package__).joinpath("data", "groupings.toml").open("rb") as fh:
            spec = tomllib.load(fh)
    elif isinstance(source, Mapping):
        spec = dict(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"groupings file not found: {path}")
        try:
            spec = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"groupings file {path} is not valid TOML: {exc}") from None
    out = {}
    for name, entry in spec.items():
        if isinstance(entry, Mapping):
            if "members" not in entry:
                raise InputError(f"grouping {name!r} has no 'members' list")
            members, label = entry["members"], entry.get("label", name)
            label_es = entry.get("label_es", label)
        else:
            members, label, label_es = entry, name, name
        if isinstance(members, str) or not isinstance(members, Iterable):
            raise InputError(f"grouping {name!r}: 'members' must be a list of countries, got {members!r}")
        out[name] = Grouping(name, label, label_es, MappingProxyType(_parse_members(name, list(members))))
    return out


def lac_subregions() -> dict[str, Grouping]:
    """ECLAC's subregions of Latin America and the Caribbean (UN M49 geographic subregions:
    Caribbean, Central America (with Mexico), South America), restricted to ECLAC members."""
    t = country_table()
    t = t[t["eclac_member"].astype(str).str.lower().isin(["true", "1"])]
    es = {"Caribbean": "El Caribe", "Central America": "Centroamérica y México",
          "South America": "América del Sur"}
    return {sub: Grouping(sub, sub if sub != "Central America" else "Central America and Mexico", es[sub],
                          MappingProxyType({iso: ((None, None),) for iso in g["iso3"]}))
            for sub, g in t.groupby("subregion", sort=True)}

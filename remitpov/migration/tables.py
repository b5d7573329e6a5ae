"""Tabulations of international migrant stocks: stocks and their change, corridors,
intra- and extra-block migration, the share of women, emigration rates.

Every function takes a :class:`~remitpov.migration.un.MigrantStock` (country rows only:
regional aggregates are never summed with countries) and returns a
:class:`MigrationTable` with ``to_frame()``.

Missing cells (UN DESA's ``..``/``-``) are skipped in sums, and every total says how many
of its cells were missing (column ``n_missing``); a total whose cells are all missing is NaN,
never 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import InputError
from .countries import Grouping, country_table, groupings as default_groupings
from .un import TOTAL_ORIGIN, MigrantStock

__all__ = ["MigrationTable", "stocks_by", "stock_change", "main_corridors", "block_matrix", "intra_block",
           "women_share", "emigration_rates"]


@dataclass(frozen=True, eq=False)
class MigrationTable:
    """A migration tabulation: the table, its title, notes and source."""

    table: pd.DataFrame
    title: str
    notes: tuple[str, ...] = ()
    source: str = ""

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def __repr__(self) -> str:
        return f"MigrationTable({self.title!r}, {len(self.table)} rows x {self.table.shape[1]} columns)"

    def summary(self, max_rows: int = 20) -> str:
        lines = [self.title, "=" * len(self.title), self.table.head(max_rows).to_string(index=False)]
        if len(self.table) > max_rows:
            lines.append(f"... {len(self.table) - max_rows} more rows")
        lines += [f"Note: {n}" for n in self.notes]
        if self.source:
            lines.append(f"Source: {self.source}")
        return "\n".join(lines)


def _source(stock: MigrantStock) -> str:
    name = Path(str(stock.source.path)).name if stock.source is not None else "user data"
    return f"UN DESA International Migrant Stock ({stock.layout}), {name}"


def _sum(d: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    g = d.groupby(list(by), sort=False, observed=True)["stock"]
    return pd.DataFrame({"stock": g.sum(min_count=1), "n_missing": g.size() - g.count()}).reset_index()


_NAMES = {"origin": "origin_name", "destination": "destination_name"}


def _check_by(by) -> list[str]:
    by = [by] if isinstance(by, str) else list(by)
    bad = [b for b in by if b not in ("origin", "destination", "sex", "year")]
    if bad:
        raise InputError(f"cannot tabulate by {bad}; use 'origin', 'destination', 'sex' or 'year'")
    return by


def _with_names(out: pd.DataFrame, stock: MigrantStock) -> pd.DataFrame:
    for key, name in _NAMES.items():
        if key in out.columns:
            lookup = stock.data.drop_duplicates(key).set_index(key)[name]
            out.insert(out.columns.get_loc(key) + 1, name, out[key].map(lookup))
    return out


def _needs_origins(stock: MigrantStock, what: str) -> None:
    if stock.layout != "origin_destination":
        raise InputError(f"{what} needs stocks by origin country; this table ({stock.layout}) has destinations "
                         "only. Read UN DESA's origin-destination table")


def stocks_by(stock: MigrantStock, by="origin", *, year=None, sex: str = "both", origins=None,
              destinations=None) -> MigrationTable:
    """Migrant stocks summed by origin and/or destination (and year, sex).

    Parameters
    ----------
    by : str or sequence of {"origin", "destination", "year", "sex"}
    year : int or sequence, optional
        Years to keep (all if ``None``; then ``year`` is added to ``by``).
    origins, destinations : iterable of ISO-3 codes, optional
        Restrict the countries of birth / residence (e.g. ``groupings()["LAC"].members()``).
    """
    by = _check_by(by)
    if "origin" in by:
        _needs_origins(stock, "stocks by origin")
    d = stock.select(year=year, sex=sex, origin=origins, destination=destinations)
    if year is None or np.ndim(year) > 0:
        by = by + ["year"] if "year" not in by else by
    out = _sum(d, by).sort_values(by=[c for c in by if c == "year"] + ["stock"],
                                  ascending=[True] * ("year" in by) + [False], kind="stable")
    return MigrationTable(_with_names(out.reset_index(drop=True), stock),
                          f"International migrant stock by {', '.join(by)}",
                          ("persons at mid-year; missing UN cells skipped (n_missing) and never read as 0",),
                          _source(stock))


def stock_change(stock: MigrantStock, start: int, end: int, by="origin", *, sex: str = "both", origins=None,
                 destinations=None) -> MigrationTable:
    """Change of the migrant stock between two years.

    Columns ``stock_<start>``, ``stock_<end>``, ``change`` (persons), ``pct_change`` and
    ``annual_rate`` (exponential rate ``ln(end/start)/(end-start)``, percent per year,
    UN DESA's definition of the annual rate of change).
    """
    if end <= start:
        raise InputError(f"end year {end} must be after start year {start}")
    by = _check_by(by)
    t = stocks_by(stock, by, year=[start, end], sex=sex, origins=origins, destinations=destinations).table
    key = [b for b in by if b != "year"]
    wide = t.pivot_table(index=key, columns="year", values="stock", aggfunc="first", dropna=False)
    wide = wide.reindex(columns=[start, end])
    out = pd.DataFrame({f"stock_{start}": wide[start], f"stock_{end}": wide[end]})
    out["change"] = out[f"stock_{end}"] - out[f"stock_{start}"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["pct_change"] = 100 * out["change"] / out[f"stock_{start}"]
        out["annual_rate"] = 100 * np.log(out[f"stock_{end}"] / out[f"stock_{start}"]) / (end - start)
    out = _with_names(out.reset_index(), stock).sort_values(f"stock_{end}", ascending=False, kind="stable")
    return MigrationTable(out.reset_index(drop=True), f"Change in the migrant stock, {start}-{end}",
                          ("annual_rate = 100 ln(S_end/S_start)/(end-start), UN DESA's rate of change",),
                          _source(stock))


def main_corridors(stock: MigrantStock, year: int, n: int = 10, *, origins=None, destinations=None,
                   sex: str = "both") -> MigrationTable:
    """The ``n`` largest origin -> destination corridors in ``year`` (share of the total of
    the selected origins' emigrants)."""
    _needs_origins(stock, "corridors")
    if int(n) < 1:
        raise InputError(f"n must be a positive number of corridors, got {n}")
    d = stock.select(year=year, sex=sex, origin=origins, destination=destinations)
    total = d["stock"].sum()
    out = d.nlargest(int(n), "stock")[["origin", "origin_name", "destination", "destination_name", "stock"]].copy()
    out["share_pct"] = 100 * out["stock"] / total
    return MigrationTable(out.reset_index(drop=True), f"Main migration corridors, {year}",
                          ("share_pct: percent of all emigrants of the selected origins",), _source(stock))


def _resolve_blocks(blocks) -> dict[str, Grouping]:
    if blocks is None:
        g = default_groupings()
        return {k: g[k] for k in ("SICA", "CARICOM", "CAN", "MERCOSUR")}
    if isinstance(blocks, Mapping) and all(isinstance(v, Grouping) for v in blocks.values()):
        return dict(blocks)
    return default_groupings(blocks)


def block_matrix(stock: MigrantStock, year: int, blocks=None, *, sex: str = "both") -> MigrationTable:
    """Migrants born in each block living in each block (a block x block matrix).

    Membership is taken in ``year``. A country in two blocks (e.g. Belize: SICA and
    CARICOM) counts in both rows/columns, so rows are not additive across blocks; each
    cell is a sum over distinct (origin, destination) pairs, never counted twice.
    Column ``rest_of_world`` holds emigrants living outside every listed block and
    ``total`` all emigrants of the block.
    """
    _needs_origins(stock, "a block matrix")
    blocks = _resolve_blocks(blocks)
    d = stock.select(year=year, sex=sex)
    o, dest, s = d["origin"].to_numpy(), d["destination"].to_numpy(), d["stock"].to_numpy()
    mem = {k: g.is_member(o, year) for k, g in blocks.items()}
    dmem = {k: g.is_member(dest, year) for k, g in blocks.items()}
    in_any = np.zeros(len(d), dtype=bool)
    for m in dmem.values():
        in_any |= m
    rows = []
    for bo, mo in mem.items():
        row = {"origin_block": bo}
        for bd, md in dmem.items():
            row[bd] = np.nansum(s[mo & md])
        row["rest_of_world"] = np.nansum(s[mo & ~in_any])
        row["total"] = np.nansum(s[mo])
        rows.append(row)
    return MigrationTable(pd.DataFrame(rows), f"Migrants by block of birth and block of residence, {year}",
                          (f"membership as of mid-{year}; a country in two blocks counts in both",),
                          _source(stock))


def intra_block(stock: MigrantStock, years=None, blocks=None, *, sex: str = "both") -> MigrationTable:
    """Intra- and extra-block emigration for each block and year.

    ``intra`` = migrants born in a member living in another member; ``extra`` = born in a
    member living outside the block; ``intra_share_pct`` = 100 intra / (intra + extra);
    ``members`` = number of members that year.
    """
    _needs_origins(stock, "intra-block migration")
    blocks = _resolve_blocks(blocks)
    years = stock.years if years is None else list(np.atleast_1d(years))
    d = stock.select(year=years, sex=sex)
    o, dest, yr, s = (d[c].to_numpy() for c in ("origin", "destination", "year", "stock"))
    rows = []
    for name, g in blocks.items():
        mo, md = g.is_member(o, yr), g.is_member(dest, yr)
        for y in years:
            in_y = yr == int(y)
            intra = np.nansum(s[in_y & mo & md])
            extra = np.nansum(s[in_y & mo & ~md])
            rows.append({"block": name, "year": int(y), "members": len(g.members(y)), "intra": intra,
                         "extra": extra, "intra_share_pct": 100 * intra / (intra + extra) if intra + extra else np.nan})
    return MigrationTable(pd.DataFrame(rows), "Intra- and extra-block migration",
                          ("membership by year (remitpov.migration.groupings)",), _source(stock))


def women_share(stock: MigrantStock, year: int, *, destinations=None) -> MigrationTable:
    """Women as a percentage of the migrant stock, by destination (needs stocks by sex)."""
    sexes = set(stock.data["sex"].unique())
    if not {"female", "both"} <= sexes:
        raise InputError(f"the share of women needs stocks by sex; this table ({stock.layout}) has {sorted(sexes)}. "
                         "Read UN DESA's 2020 workbook by destination and sex")
    d = stock.select(year=year, destination=destinations)
    w = d.groupby(["destination", "destination_name", "sex"], sort=False)["stock"].sum(min_count=1).unstack("sex")
    out = pd.DataFrame({"stock": w["both"], "women": w["female"]})
    out["women_pct"] = 100 * out["women"] / out["stock"]
    out = out.reset_index().sort_values("women_pct", ascending=False, kind="stable")
    return MigrationTable(out.reset_index(drop=True), f"Women in the international migrant stock, {year}",
                          ("women_pct = 100 x female stock / both-sexes stock",), _source(stock))


def emigration_rates(stock: MigrantStock, population: pd.DataFrame, year: int, *, origins=None) -> MigrationTable:
    """Emigrants as a share of the origin's population.

    ``emigrants_pct_resident`` = 100 E / P (P the resident population) and
    ``emigration_rate_pct`` = 100 E / (P + E) (Docquier–Marfouk's definition: emigrants
    as a share of the native-born population, residents plus emigrants; the resident
    population is taken as native-born, ignoring immigrants in P).

    Parameters
    ----------
    population : DataFrame
        ``country`` (ISO-3), ``year``, ``population`` (persons) and optionally ``sex``
        (``read_un_population`` returns this).
    """
    _needs_origins(stock, "emigration rates")
    need = {"country", "year", "population"}
    if not need <= set(population.columns):
        raise InputError(f"population table needs columns {sorted(need)}; it has {list(population.columns)}")
    p = population
    if "sex" in p.columns:
        p = p[p["sex"] == "both"]
    p = p[p["year"] == int(year)].set_index("country")["population"]
    if p.empty:
        raise InputError(f"the population table has no rows for {year}")
    e = stocks_by(stock, "origin", year=year, origins=origins).table.set_index("origin")
    out = e[["origin_name", "stock"]].rename(columns={"stock": "emigrants"})
    out["population"] = p.reindex(out.index)
    missing = out["population"].isna()
    out["emigrants_pct_resident"] = 100 * out["emigrants"] / out["population"]
    out["emigration_rate_pct"] = 100 * out["emigrants"] / (out["population"] + out["emigrants"])
    notes = ("emigration_rate_pct = 100 E/(P+E), Docquier-Marfouk",)
    if missing.any():
        notes += (f"no population for {int(missing.sum())} origins (rates NaN): {', '.join(out.index[missing][:10])}",)
    out = out.reset_index().sort_values("emigration_rate_pct", ascending=False, kind="stable")
    return MigrationTable(out.reset_index(drop=True), f"Emigrants as a share of the population of origin, {year}",
                          notes, _source(stock))

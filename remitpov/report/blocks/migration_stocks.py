"""Block ``migration_stocks``: emigrants of the region's countries by country of birth, their
change since the base year, and where they live (tables ``migration_stocks`` and
``migration_destinations``; figures ``migration_emigrants``, ``migration_change``,
``migration_destinations``). Source: UN DESA International Migrant Stock (``[migration] stock``);
see :mod:`remitpov.report.blocks.migration`.

Rows of ``migration_stocks`` (``domain`` = "origin", ``group`` = the country): persons born in
the country living abroad in ``year`` and ``base_year`` (indicators ``emigrants_<year>``, unit
"persons") and the annual rate of change (``annual_change_<base>_<year>``, "% per year"), countries
sorted by emigrants. ``migration_destinations``: the shares of the country's emigrants in the
United States, Spain, Latin America and the Caribbean and the rest of the world (percent).
"""
from __future__ import annotations

from ._registry import BlockOutput
from .migration import context, figures_for, long_rows, owner, register_migration

MEASURE = "migration_stocks"


def run(spec, p, ctx) -> BlockOutput:
    if not owner(spec, p, MEASURE):
        return BlockOutput()
    c = context(spec)
    em, ch = c["emigrants"].table, c["change"].table
    base = [col for col in ch.columns if col.startswith("stock_")]
    b, y = (int(col.split("_")[1]) for col in base)
    t = em[["origin", "country", "stock"]].merge(ch[["origin", f"stock_{b}", "annual_rate"]], on="origin", how="left")
    stocks = long_rows(t, "origin", t["country"], {f"emigrants_{y}": ("stock", "persons"),
                                                    f"emigrants_{b}": (f"stock_{b}", "persons"),
                                                    f"annual_change_{b}_{y}": ("annual_rate", "% per year")})
    d = c["destinations"].table
    dest = long_rows(d, "origin", d["country"], {"united_states": ("USA_pct", "percent"),
                                                 "spain": ("ESP_pct", "percent"),
                                                 "latin_america_caribbean": ("LAC_pct", "percent"),
                                                 "rest_of_world": ("other_pct", "percent")})
    return BlockOutput({"migration_stocks": stocks, "migration_destinations": dest},
                       {"migration_stocks": c["emigrants"], "migration_change": c["change"],
                        "migration_destinations": c["destinations"]})


BLOCK = register_migration(MEASURE, run, ("migration_stocks", "migration_destinations"),
                           "{sid}: migration context, emigrant stocks (UN DESA)",
                           figures_for(MEASURE, ("emigrants", "change", "destinations")))

"""Block ``migration_women``: women among the immigrants of the region's countries (table and
figure ``migration_women``), from UN DESA's stock by sex and destination
(``[migration] stock_by_sex``; the year nearest to ``year``); see :mod:`remitpov.report.blocks.migration`.

Rows (``domain`` = "destination", ``group`` = the country): the immigrant stock and the women
in it (persons) and the women's share (``women_share_<year>``, percent), countries sorted by the
share.
"""
from __future__ import annotations

from ._registry import BlockOutput
from .migration import context, figures_for, long_rows, owner, register_migration

MEASURE = "migration_women"


def run(spec, p, ctx) -> BlockOutput:
    if not owner(spec, p, MEASURE):
        return BlockOutput()
    w = context(spec)["women"]
    y = int(w.title.rsplit(" ", 1)[-1])  # the by-sex table's year (nearest to [migration] year)
    rows = long_rows(w.table, "destination", w.table["country"], {f"immigrants_{y}": ("stock", "persons"),
                                                                   f"women_{y}": ("women", "persons"),
                                                                   f"women_share_{y}": ("women_pct", "percent")})
    return BlockOutput({"migration_women": rows}, {"migration_women": w})


BLOCK = register_migration(MEASURE, run, ("migration_women",),
                           "{sid}: migration context, women among immigrants (UN DESA)",
                           figures_for(MEASURE, ("women",)))

"""Block ``migration_women``: women among the immigrants of the region's countries (table and
figure ``migration_women``), from UN DESA's stock by sex and destination
(``[migration] stock_by_sex``; the year nearest to ``year``); see :mod:`remitpov.report.blocks.migration`.

Rows (``domain`` = "destination", ``group`` = the country): the immigrant stock and the women
in it (persons) and the women's share (``women_share_<year>``, percent), countries sorted by the
share.
"""
from __future__ import annotations

from ._registry import Block, BlockOutput, register
from .migration import RANK, context, figures_of, long_rows, owner

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


def figures(spec, tables, extras, folder):
    if "migration_women" not in tables:
        return []
    return figures_of(spec, folder, ("women",))


BLOCK = register(Block(MEASURE, run, ("migration_women",), rank=RANK[MEASURE],
                       step="{sid}: migration context, women among immigrants (UN DESA)", default=False,
                       tidy=("migration_women",), figures=figures))

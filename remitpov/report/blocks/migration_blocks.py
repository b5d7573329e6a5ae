"""Block ``migration_blocks``: intra- and extra-block migration in the integration blocks
(SICA, CARICOM, the Andean Community, MERCOSUR, or ``[migration] groupings``), in the base
year and in ``year`` (table and figure ``migration_blocks``); see :mod:`remitpov.report.blocks.migration`.

Rows (``domain`` = "block", ``group`` = the block): for each year, migrants born in a member
living in another member (``intra_<year>``) or outside the block (``extra_<year>``), persons;
the intra-block share of the block's emigrants (``intra_share_<year>``, percent); the number of
members that year (``members_<year>``: membership by year, a country in two blocks counts in both).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._registry import BlockOutput
from .migration import context, figures_for, long_rows, owner, register_migration

MEASURE = "migration_blocks"


def run(spec, p, ctx) -> BlockOutput:
    if not owner(spec, p, MEASURE):
        return BlockOutput()
    c = context(spec)
    t = c["blocks"].table
    parts = []
    for y, g in t.groupby("year", sort=True):
        parts.append(long_rows(g, "block", g["block"], {f"members_{y}": ("members", "countries"),
                                                        f"intra_{y}": ("intra", "persons"),
                                                        f"extra_{y}": ("extra", "persons"),
                                                        f"intra_share_{y}": ("intra_share_pct", "percent")}))
    rows = pd.concat(parts, ignore_index=True)
    order = pd.Index(pd.unique(t["block"])).get_indexer(rows["group"])  # blocks in the table's order
    rows = rows.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    return BlockOutput({"migration_blocks": rows}, {"migration_blocks": c["blocks"]})


BLOCK = register_migration(MEASURE, run, ("migration_blocks",),
                           "{sid}: migration context, integration blocks (UN DESA)",
                           figures_for(MEASURE, ("blocks",)))

"""Chapter blocks: one file per table/figure block, one registry the spec and the chapter read.

A block is what one chapter *measure* (``[chapter] measures = [...]``) produces: for each
survey, tidy rows (:mod:`._common`, one schema) and the estimates behind them; then, over all
surveys, derived views and figures. :func:`register` puts a :class:`Block` in
:data:`BLOCKS`; :mod:`remitpov.report.spec` takes its measure names, defaults and
requirements from here, and :func:`remitpov.report.chapter.run_chapter` runs, orders,
titles and draws every registered block without naming any of them.

Adding a chapter table
----------------------
1. a file ``blocks/<name>.py`` with a ``run(spec, p, ctx) -> BlockOutput`` function (use
   :func:`._common.tidy` for the rows: keys, values x 100 once, unit) and, if it draws,
   a ``figures(spec, tables, extras, folder) -> list[Path]`` function;
2. ``register(Block(...))`` at its end, and its import in the list at the bottom of this file;
3. its title in every language in :data:`remitpov.report.i18n.TEXT` (section ``"title"``);
4. a test.
"""
from __future__ import annotations

from ._common import check_tidy
from ._registry import (BLOCKS, Block, BlockOutput, default_measures, line_measures, measures, register,
                        remittance_measures, table_order)

__all__ = ["Block", "BlockOutput", "BLOCKS", "register", "measures", "default_measures", "remittance_measures",
           "line_measures", "table_order", "check_tidy"]


# the blocks, in estimation order (importing a module registers its block)
from . import incidence, poverty, fgt, gini, decomposition, curves, counterfactual  # noqa: E402,F401,I001
from . import coverage, impact_range  # noqa: E402,F401,I001
from . import migration_stocks, migration_blocks, migration_women, migration_skilled  # noqa: E402,F401,I001
from . import migration_census_stocks, migration_sex_ratio, migration_emigration  # noqa: E402,F401,I001

"""Block ``migration_census_stocks``: immigrants by census country and country of birth, from
census microdata with design-based SEs and CIs (:func:`remitpov.migration.census.immigrant_stock`;
``[migration.census]``, see :mod:`remitpov.report.blocks.migration`). Table and figure
``migration_census_stocks``.

Rows: ``population`` = the census country, ``domain`` = "birth_country", ``group`` = the country
of birth ("Other countries" for the synthetic census's rest of the world), ``indicator`` =
``immigrants``; estimate (the weighted count of persons born abroad), SE and CI in persons;
within each census country, origins by decreasing stock. Natives are not counted.
"""
from __future__ import annotations

import numpy as np

from .migration import census_block

MEASURE = "migration_census_stocks"


def _estimate(c, ci_level):
    from ...migration.census import immigrant_stock

    return immigrant_stock(c, by=("census_country", "birth_country"), ci_level=ci_level)


def _order(rows, tab):
    """By census country (code), then by decreasing stock."""
    return np.lexsort((-rows["estimate"].to_numpy(), tab.keys["census_country"].astype(str).to_numpy()))


BLOCK = census_block(MEASURE, _estimate, "immigrants", "persons",
                     {"en": "Immigrants (thousands)", "es": "Inmigrantes (miles)"},
                     "{sid}: migration context, immigrant stocks (census microdata)", scale=1000.0, order=_order)

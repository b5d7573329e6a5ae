"""Block ``migration_sex_ratio``: men per 100 women among immigrants by census country and
country of birth, from census microdata with design-based SEs and CIs (a ratio of estimated
totals, linearised as R's ``svyratio``: :func:`remitpov.migration.census.sex_ratio`;
``[migration.census]``, see :mod:`remitpov.report.blocks.migration`). Table and figure
``migration_sex_ratio``.

Rows: ``population`` = the census country, ``domain`` = "birth_country", ``group`` = the country
of birth, ``indicator`` = ``men_per_100_women``; estimate, SE and CI in men per 100 women.
An origin without women in a census's sample has no ratio (no row; named in the estimate's
notes, ``ChapterResult.estimates``).
"""
from __future__ import annotations

from .migration import census_block

MEASURE = "migration_sex_ratio"


def _estimate(c, ci_level):
    from ...migration.census import sex_ratio

    return sex_ratio(c, by=("census_country", "birth_country"), ci_level=ci_level)


BLOCK = census_block(MEASURE, _estimate, "men_per_100_women", "men per 100 women",
                     {"en": "Men per 100 women among immigrants", "es": "Hombres por cada 100 mujeres inmigrantes"},
                     "{sid}: migration context, sex ratio of immigrants (census microdata)")

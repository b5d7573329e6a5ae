"""International migration: migrant stocks, country groupings and integration blocks.

UN DESA's International Migrant Stock tables are read into tidy long form
(:func:`read_un_migrant_stock`), countries carry ISO-3 codes and groupings are data
(:func:`groupings`: LAC, SICA, CARICOM, CAN, MERCOSUR with membership by year), and the
tabulations of ECLAC's migration chapters return :class:`MigrationTable` results.
"""
from .countries import Grouping, country_table, groupings, lac_subregions, to_iso3
from .tables import (MigrationTable, block_matrix, emigration_rates, intra_block, main_corridors,
                     stock_change, stocks_by, women_share)
from .un import MigrantStock, read_un_migrant_stock, read_un_population

__all__ = ["Grouping", "country_table", "groupings", "lac_subregions", "to_iso3", "MigrationTable",
           "block_matrix", "emigration_rates", "intra_block", "main_corridors", "stock_change", "stocks_by",
           "women_share", "MigrantStock", "read_un_migrant_stock", "read_un_population"]

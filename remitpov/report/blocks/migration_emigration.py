"""Block ``migration_emigration``: Docquier–Marfouk emigration rates of the census countries,
for all persons and for the tertiary-educated (the skilled) aged ``min_age`` or more, from
census microdata with design-based SEs and CIs (:func:`remitpov.migration.census.emigration_rate`;
``[migration.census]``, see :mod:`remitpov.report.blocks.migration`). Table and figure
``migration_emigration``.

``rate = 100 M / (N + M)``: ``M`` the persons born in the country counted in the other
censuses, ``N`` those counted in its own census (native-born residents); emigrants living in
countries whose census is not in the data are not counted (a lower bound).

Rows: ``domain`` = "birth_country", ``group`` = the country of birth (the census countries
only), ``indicator`` = ``emigration_rate_<min_age>plus`` (all) and
``emigration_rate_tertiary_<min_age>plus`` (the skilled); estimate, SE and CI in percent.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._registry import BlockOutput
from .migration import census, census_rows, census_source, ci_figure, config, owner, register_migration, title

MEASURE = "migration_emigration"

LABELS = {"en": {"x": "Emigrants (% of the native-born aged {age}+ at home and abroad)", "all": "all",
                 "tertiary": "tertiary education"},
          "es": {"x": "Emigrantes (% de los nacidos en el país de {age} años o más, dentro y fuera de él)",
                 "all": "total", "tertiary": "educación terciaria"}}


def run(spec, p, ctx) -> BlockOutput:
    from ...migration.census import emigration_rate

    if not owner(spec, p, MEASURE):
        return BlockOutput()
    c = census(spec)
    age = config(spec)["census"]["min_age"]
    parts, est, level = [], {}, []
    for edu, ind in ((None, f"emigration_rate_{age}plus"), ("tertiary", f"emigration_rate_tertiary_{age}plus")):
        tab = emigration_rate(c, min_age=age, education=edu, ci_level=spec.ci_level)
        parts.append(census_rows(spec, tab, ind, "percent"))  # in percent already
        est[ind] = tab
        level += [edu or "all"] * len(tab.estimates)
    rows = pd.concat(parts, ignore_index=True)
    order = np.argsort(pd.Index(pd.unique(rows["group"])).get_indexer(rows["group"]), kind="stable")
    rows, level = rows.iloc[order].reset_index(drop=True), np.asarray(level, dtype=object)[order]  # by country
    return BlockOutput({MEASURE: rows}, {f"{MEASURE}_{k}": v for k, v in est.items()},
                       {MEASURE: rows.assign(source=c.metadata.name, min_age=age, level=level)})


def figures(spec, tables, extras, folder):
    t = extras.get(MEASURE)
    if t is None or t.empty:
        return []
    L = LABELS.get(spec.language, LABELS["en"])
    labels = [f"{g} ({L[lv]})" for g, lv in zip(t["group"], t["level"])]
    return ci_figure(spec, t, stem=MEASURE, title=title(spec, MEASURE), labels=labels,
                     xlabel=L["x"].format(age=int(t["min_age"].iloc[0])),
                     source=census_source(spec, t["source"].iloc[0]), folder=folder)


BLOCK = register_migration(MEASURE, run, (MEASURE,),
                           "{sid}: migration context, emigration rates (census microdata)", figures)

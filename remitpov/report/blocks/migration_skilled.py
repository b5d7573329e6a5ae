"""Block ``migration_skilled``: the share with tertiary education among persons aged
``min_age`` or more (25, as Docquier–Marfouk) by census country and country of birth, from
census microdata with design-based SEs and CIs (:func:`remitpov.migration.census.tertiary_share`;
``[migration.census]``, see :mod:`remitpov.report.blocks.migration`). Table and figure ``migration_skilled``.

Rows: ``population`` = the census country, ``domain`` = "birth_country", ``group`` = the country
of birth ("Native-born" for persons born in the census country, the comparison group;
"Other countries" for the synthetic census's rest of the world), ``indicator`` =
``tertiary_<min_age>plus``; estimate, SE and CI in percent (t intervals with the
census's design degrees of freedom).
"""
from __future__ import annotations

from ._registry import BlockOutput
from .migration import census, census_rows, census_source, ci_figure, config, owner, register_migration, title

MEASURE = "migration_skilled"

LABELS = {"en": "Persons with tertiary education (% of those aged {age}+)",
          "es": "Personas con educación terciaria (% de las de {age} años o más)"}


def _estimate(spec):
    from ...migration.census import tertiary_share

    c = census(spec)
    age = config(spec)["census"]["min_age"]
    return c, age, tertiary_share(c, by=("census_country", "birth_country"), min_age=age, ci_level=spec.ci_level)


def run(spec, p, ctx) -> BlockOutput:
    if not owner(spec, p, MEASURE):
        return BlockOutput()
    c, age, tab = _estimate(spec)
    rows = census_rows(spec, tab, f"tertiary_{age}plus", "percent")  # tertiary_share is in percent already
    return BlockOutput({"migration_skilled": rows}, {"migration_skilled": tab},
                       {"migration_skilled": rows.assign(source=c.metadata.name, min_age=age)})


def figures(spec, tables, extras, folder):
    """Dots with confidence-interval whiskers, one row per census country x country of birth,
    sorted by the share; title, axis label and source in the chapter's language."""
    t = extras.get("migration_skilled")
    if t is None or t.empty:
        return []
    x = LABELS.get(spec.language, LABELS["en"]).format(age=int(t["min_age"].iloc[0]))
    return ci_figure(spec, t, stem="migration_skilled", title=title(spec, MEASURE), xlabel=x,
                     source=census_source(spec, t["source"].iloc[0]), folder=folder)


BLOCK = register_migration(MEASURE, run, ("migration_skilled",),
                           "{sid}: migration context, tertiary education of immigrants (census microdata)", figures)

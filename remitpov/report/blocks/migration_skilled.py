"""Block ``migration_skilled``: the share with tertiary education among persons aged
``min_age`` or more (25, as Docquier–Marfouk) by census country and country of birth, from
census microdata with design-based SEs and CIs (:func:`remitpov.migration.census.tertiary_share`;
``[migration.census]``, see :mod:`remitpov.report.blocks.migration`). Table and figure ``migration_skilled``.

Rows: ``population`` = the census country, ``domain`` = "birth_country", ``group`` = the country
of birth ("native-born" for persons born in the census country, the comparison group;
"other countries" for the synthetic census's rest of the world), ``indicator`` =
``tertiary_<min_age>plus``; estimate, SE and CI in percent (t intervals with the
census's design degrees of freedom).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._registry import Block, BlockOutput, register
from ._common import tidy
from .migration import RANK, TITLES, WORDS, census, config, owner

MEASURE = "migration_skilled"

LABELS = {"en": {"x": "Persons with tertiary education (% of those aged {age}+), {ci}",
                 "source": "Source: own calculations from census microdata ({name}); design-based confidence "
                           "intervals (strata and enumeration areas)."},
          "es": {"x": "Personas con educación terciaria (% de las de {age} años o más), {ci}",
                 "source": "Fuente: elaboración propia con microdatos censales ({name}); intervalos de confianza "
                           "según el diseño (estratos y áreas de empadronamiento)."}}


def _estimate(spec):
    from ...migration.census import tertiary_share

    c = census(spec)
    age = config(spec)["census"]["min_age"]
    return c, age, tertiary_share(c, by=("census_country", "birth_country"), min_age=age, ci_level=spec.ci_level)


def _rows(spec, tab, age) -> pd.DataFrame:
    from ...migration.report import country_name

    k = tab.keys
    cc, bc = k["census_country"].astype(str).to_numpy(), k["birth_country"].astype(str).to_numpy()
    lang = spec.language if spec.language in WORDS else "en"
    group = np.where(cc == bc, WORDS[lang]["natives"],
                     np.where(bc == "OTHER", WORDS[lang]["OTHER"], country_name(bc, spec.language)))
    keys = {"population": country_name(cc, spec.language), "domain": "birth_country", "group": group,
            "indicator": f"tertiary_{age}plus"}
    return tidy(keys, tab.to_frame(), "percent", scale=1.0)  # tertiary_share is in percent already


def run(spec, p, ctx) -> BlockOutput:
    if not owner(spec, p, MEASURE):
        return BlockOutput()
    c, age, tab = _estimate(spec)
    rows = _rows(spec, tab, age)
    return BlockOutput({"migration_skilled": rows}, {"migration_skilled": tab},
                       {"migration_skilled": rows.assign(source=c.metadata.name, min_age=age)})


def figures(spec, tables, extras, folder):
    """Dots with confidence-interval whiskers, one row per census country x country of birth,
    sorted by the share; title, axis label and source in the chapter's language."""
    import textwrap
    from pathlib import Path

    from ...migration.report import PALETTE, figure_style, save_figure

    t = extras.get("migration_skilled")
    if t is None or t.empty:
        return []
    lang = spec.language if spec.language in LABELS else "en"
    L = LABELS[lang]
    t = t.sort_values("estimate", kind="stable").reset_index(drop=True)
    labels = [f"{g} ({pop})" for g, pop in zip(t["group"], t["population"])]
    n = len(t)
    from ..i18n import text

    ci = text("figure", "ci", lang, level=spec.ci_level)
    ci = ci[:1].lower() + ci[1:]  # after a comma in the axis label
    with figure_style() as plt:
        fig, ax = plt.subplots(figsize=(7.0, 1.2 + 0.2 * max(n, 3)), layout="constrained")
        y = np.arange(n)
        e = t["estimate"].to_numpy(float)
        ax.errorbar(e, y, xerr=[e - t["ci_lower"].to_numpy(float), t["ci_upper"].to_numpy(float) - e], fmt="o",
                    color=PALETTE[0], ecolor=PALETTE[1], capsize=2, markersize=3)
        ax.set_yticks(y, labels)
        ax.set_xlabel(L["x"].format(age=int(t["min_age"].iloc[0]), ci=ci))
        ax.set_title(textwrap.fill(TITLES.get(lang, TITLES["en"])["migration_skilled"], 70), loc="left",
                     fontsize=10, fontweight="bold")
        ax.margins(y=0.01)
        fig.text(0.0, 0.0, textwrap.fill(L["source"].format(name=t["source"].iloc[0]), 120), fontsize=6.5, va="top",
                 ha="left")
        Path(folder).mkdir(parents=True, exist_ok=True)
        return save_figure(plt, fig, Path(folder) / "migration_skilled", spec.figures)


BLOCK = register(Block(MEASURE, run, ("migration_skilled",), rank=RANK[MEASURE],
                       step="{sid}: migration context, tertiary education of immigrants (census microdata)",
                       default=False, tidy=("migration_skilled",), figures=figures))

"""The migration context as chapter blocks (issue #13): what the four ``migration_*`` blocks share.

A chapter spec asks for the migration context with measures and one ``[migration]`` section
(the keys of ``remitpov migration``'s spec, plus a census for the skilled block)::

    [chapter]
    measures = ["migration_stocks", "migration_blocks", "migration_women", "migration_skilled",
                "migration_census_stocks", "migration_sex_ratio", "migration_emigration", "poverty"]

    [migration]
    stock = "data/migration/un_migrant_stock_origin_destination_2019.csv.gz"   # stocks, blocks
    stock_by_sex = "data/migration/undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"  # women (+ stock)
    year = 2019                     # default: the last year of `stock`
    base_year = 1990                # default: the first year
    groupings = "my_blocks.toml"    # default: the shipped blocks (SICA, CARICOM, CAN, MERCOSUR)
    [migration.census]              # skilled: census microdata (remitpov.migration.census)
    synthetic = { countries = ["ARG", "CRI", "USA"], persons_per_country = 20000, seed = 1 }
    # or: path = "census.parquet" and roles = { birth_country = "bpl", census_country = "country",
    #     weight = "perwt", sex = "sex", age = "age", education = "edu", strata = "strata", psu = "psu" }
    min_age = 25

This module holds what they share; the blocks are one file each (imported by
:mod:`remitpov.report.blocks`): ``migration_stocks`` (emigrants by country of birth, their change,
where they live; :mod:`remitpov.report.blocks.migration_stocks`), ``migration_blocks`` (intra-block migration per
integration block), ``migration_women`` (share of women among immigrants) and
``migration_skilled`` (tertiary education of immigrants from census microdata, with design
SEs), and from the census also ``migration_census_stocks`` (immigrants by census country and
country of birth), ``migration_sex_ratio`` (men per 100 women among immigrants) and
``migration_emigration`` (Docquier–Marfouk emigration rates, all and tertiary-educated; the
census blocks share :func:`census_rows`, :func:`ci_figure` and :func:`census_block`). They are about the region, not about one survey: each block's rows come once, with the
first survey that asks for it, and have no ``survey`` key. Their tables follow the tidy schema
(``domain`` = what the rows are: origin, destination, block; ``group`` = the country or block
name in the chapter's language; ``indicator`` with the year; values in the unit named); the
figures are those of ``remitpov migration`` (:func:`remitpov.migration.report.draw_figures`,
with source and notes), saved as ``figures/migration_<name>``.

:func:`parse_migration` validates the section when the spec is read (before any survey is
loaded): unknown keys, missing files, a measure without the input it needs, a section
without any migration measure.
"""
from __future__ import annotations

import re

from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ...exceptions import SpecError
from ..i18n import TEXT
from ._common import tidy

#: keys of ``[migration]`` in a chapter spec
MIGRATION_KEYS = ("stock", "stock_by_sex", "year", "base_year", "groupings", "census")
#: keys of ``[migration.census]``
CENSUS_KEYS = ("synthetic", "path", "roles", "min_age", "missing_birth")
#: measure -> inputs of ``[migration]`` it needs
NEEDS = {"migration_stocks": ("stock",), "migration_blocks": ("stock",), "migration_women": ("stock", "stock_by_sex"),
         "migration_skilled": ("census",), "migration_census_stocks": ("census",), "migration_sex_ratio": ("census",),
         "migration_emigration": ("census",)}
#: measures computed from the UN DESA context (:func:`context`; they also read ``groupings``)
CONTEXT = ("migration_stocks", "migration_blocks", "migration_women")
#: rank of the migration tables: the chapter opens with the migration context
RANK = {"migration_stocks": 1, "migration_blocks": 2, "migration_women": 3, "migration_skilled": 4,
        "migration_census_stocks": 5, "migration_sex_ratio": 6, "migration_emigration": 7}

TITLES = {
    "en": {"migration_stocks": "Emigrants by country of birth and their change (UN DESA)",
           "migration_destinations": "Where emigrants live: United States, Spain, Latin America and the Caribbean, "
                                     "rest of the world (% of the country's emigrants)",
           "migration_blocks": "Intra- and extra-block migration in the integration blocks",
           "migration_women": "Women among immigrants (% of the immigrant stock)",
           "migration_skilled": "Persons with tertiary education by country of birth (census microdata, %)",
           "migration_census_stocks": "Immigrants by census country and country of birth (census microdata, persons)",
           "migration_sex_ratio": "Sex ratio of immigrants by census country and country of birth (men per 100 "
                                  "women, census microdata)",
           "migration_emigration": "Emigration rates of the census countries: emigrants as % of the native-born at "
                                   "home and abroad, all and tertiary-educated (Docquier–Marfouk, census microdata)"},
    "es": {"migration_stocks": "Emigrantes por país de nacimiento y su variación (DAES)",
           "migration_destinations": "Dónde residen los emigrantes: Estados Unidos, España, América Latina y el "
                                     "Caribe, resto del mundo (% de los emigrantes del país)",
           "migration_blocks": "Migración intrabloque y extrabloque en los bloques de integración",
           "migration_women": "Mujeres entre los inmigrantes (% del stock de inmigrantes)",
           "migration_skilled": "Personas con educación terciaria por país de nacimiento (microdatos censales, %)",
           "migration_census_stocks": "Inmigrantes por país del censo y país de nacimiento (microdatos censales, "
                                      "personas)",
           "migration_sex_ratio": "Índice de masculinidad de los inmigrantes por país del censo y país de nacimiento "
                                  "(hombres por cada 100 mujeres, microdatos censales)",
           "migration_emigration": "Tasas de emigración de los países censados: emigrantes en % de los nacidos en el "
                                   "país, dentro y fuera de él, total y con educación terciaria (Docquier–Marfouk, "
                                   "microdatos censales)"},
}
#: words of the tables (group labels)
#: row labels of the census tables next to country names (capitalised like them)
WORDS = {"en": {"natives": "Native-born", "OTHER": "Other countries"},
         "es": {"natives": "Nativos", "OTHER": "Otros países"}}
for _lang, _sections in TEXT.items():  # the titles live in the chapter's one translation table
    _sections["title"].update(TITLES.get(_lang, TITLES["en"]))


def _fail(key: str, problem: str, fix: str) -> SpecError:
    return SpecError(f"{key}: {problem}. Fix: {fix}")  # the spec's message form (remitpov.report.spec)


def _int(raw: Mapping, k: str, key: str, lo: int, hi: int, example: str) -> int | None:
    if k not in raw:
        return None
    v = raw[k]
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise _fail(f"{key}.{k}", f"expected a whole number between {lo} and {hi}, got {v!r}", example)
    return v


def parse_migration(raw, key: str, resolve: Callable[[str, str], Path], measures) -> dict | None:
    """Validate ``[migration]`` of a chapter spec; None when absent and unused.

    ``resolve(path, key)`` is the spec's path lookup (spec folder, then the shared folder;
    :class:`SpecError` naming the key when the file does not exist); ``measures``: every
    measure the chapter's surveys ask for. Returns the section with absolute paths.
    """
    used = sorted(set(measures) & set(NEEDS))
    if raw is None:
        if used:
            raise _fail(key, f"missing (needed by measures {used})",
                        'add a [migration] section, e.g. stock = "data/migration/un_migrant_stock_origin_destination_'
                        '2019.csv.gz"')
        return None
    if not isinstance(raw, Mapping):
        raise _fail(key, "must be a table", "write [migration] with stock = \"...\"")
    if not used:
        raise _fail(key, "given, but no migration measure is asked for",
                    f"add some of {list(NEEDS)} to [chapter] measures, or run a [migration] spec alone with "
                    "`remitpov migration SPEC --out DIR`")
    unknown = sorted(set(raw) - set(MIGRATION_KEYS))
    if unknown:
        raise _fail(key, f"unknown key(s) {unknown}", f"remove them; known keys are {list(MIGRATION_KEYS)}")
    for m in used:
        for need in NEEDS[m]:
            if need not in raw:
                raise _fail(f"{key}.{need}", f"missing (needed by measure {m!r})",
                            "give the UN DESA table or the census (see remitpov.report.blocks.migration)")
    out: dict[str, Any] = {}
    for k in ("stock", "stock_by_sex", "groupings"):
        if k in raw:
            if not isinstance(raw[k], str) or not raw[k]:
                raise _fail(f"{key}.{k}", f"expected a path, got {raw[k]!r}", f'e.g. {k} = "data/migration/..."')
            out[k] = str(resolve(raw[k], f"{key}.{k}"))
    for k in ("year", "base_year"):
        v = _int(raw, k, key, 1900, 2100, f"{k} = 2019 (no quotes)")
        if v is not None:
            out[k] = v
    if "census" in raw:
        out["census"] = _parse_census(raw["census"], f"{key}.census", resolve)
    return out


def _parse_census(raw, key: str, resolve) -> dict:
    if not isinstance(raw, Mapping):
        raise _fail(key, "must be a table", "write [migration.census] with synthetic = { ... } or path = \"...\"")
    unknown = sorted(set(raw) - set(CENSUS_KEYS))
    if unknown:
        raise _fail(key, f"unknown key(s) {unknown}", f"remove them; known keys are {list(CENSUS_KEYS)}")
    if ("synthetic" in raw) == ("path" in raw):
        raise _fail(key, "give exactly one of `synthetic` and `path`",
                    "synthetic = { countries = [\"ARG\", \"USA\"] } for the seeded IMILA-like census, or path = "
                    "\"census.parquet\" with roles = { birth_country = \"...\", ... }")
    out: dict[str, Any] = {"min_age": _int(raw, "min_age", key, 0, 100, "min_age = 25") or 25}
    if "synthetic" in raw:
        syn = raw["synthetic"]
        if not isinstance(syn, Mapping):
            raise _fail(f"{key}.synthetic", f"expected a table of options, got {syn!r}",
                        "synthetic = { countries = [\"ARG\", \"USA\"], persons_per_country = 20000, seed = 1 }")
        from ...migration.census import synthetic_census
        import inspect

        allowed = set(inspect.signature(synthetic_census).parameters)
        bad = sorted(set(syn) - allowed)
        if bad:
            raise _fail(f"{key}.synthetic", f"unknown option(s) {bad}", f"use {sorted(allowed)}")
        out["synthetic"] = dict(syn)
    else:
        if not isinstance(raw["path"], str) or not raw["path"]:
            raise _fail(f"{key}.path", f"expected a path, got {raw['path']!r}", 'e.g. path = "census.parquet"')
        out["path"] = str(resolve(raw["path"], f"{key}.path"))
        roles = raw.get("roles")
        if not isinstance(roles, Mapping) or "birth_country" not in roles:
            raise _fail(f"{key}.roles", "missing or without birth_country",
                        'roles = { birth_country = "...", census_country = "...", weight = "...", age = "...", '
                        'education = "..." }')
        out["roles"] = dict(roles)
        if "missing_birth" in raw:
            out["missing_birth"] = raw["missing_birth"]
    return out


# --------------------------------------------------------------------------- running once
def owner(spec, p, measure: str) -> bool:
    """Whether ``p`` is the first survey asking for ``measure``: a regional block runs once."""
    first = next((s.id for s in spec.surveys if measure in s.measures), None)
    return first is not None and p.spec.id == first


_CACHE: dict[tuple, Any] = {}


def _cached(key: tuple, make: Callable[[], Any]):
    """``make()`` once per ``key`` (inputs are keyed by path, size and modification time)."""
    if key not in _CACHE:
        if len(_CACHE) >= 16:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = make()
    return _CACHE[key]


def _file_key(path: str | None):
    if path is None:
        return None
    st = Path(path).stat()
    return (path, st.st_size, st.st_mtime_ns)


def config(spec) -> dict:
    """The validated ``[migration]`` section of the chapter spec."""
    cfg = getattr(spec, "migration", None)
    if cfg is None:
        raise SpecError("migration: missing. Fix: add a [migration] section to the chapter spec")
    return cfg


def _un(path: str | None):
    """The UN DESA table at ``path`` (:func:`remitpov.migration.un.read_un_migrant_stock`), read once."""
    from ...migration.un import read_un_migrant_stock

    return None if path is None else _cached(("un", _file_key(path)), lambda: read_un_migrant_stock(path))


def context(spec) -> dict:
    """:func:`remitpov.migration.report.migration_context` for the spec (names in its language)."""
    from ...migration.report import migration_context

    cfg = config(spec)
    key = ("context", _file_key(cfg.get("stock")), _file_key(cfg.get("stock_by_sex")), cfg.get("year"),
           cfg.get("base_year"), _file_key(cfg.get("groupings")), spec.language)
    return _cached(key, lambda: migration_context(_un(cfg["stock"]), _un(cfg.get("stock_by_sex")),
                                                  year=cfg.get("year"), base_year=cfg.get("base_year"),
                                                  groupings=cfg.get("groupings"), language=spec.language))


def _census(c: Mapping):
    from ...migration import census as mc

    if "synthetic" in c:
        return _cached(("synthetic", tuple(sorted((k, str(v)) for k, v in c["synthetic"].items()))),
                       lambda: mc.synthetic_census(**c["synthetic"]))
    extra = {"missing_birth": c["missing_birth"]} if "missing_birth" in c else {}
    return _cached(("census", _file_key(c["path"]), tuple(sorted(c["roles"].items())), str(extra)),
                   lambda: mc.read_census(c["path"], **c["roles"], **extra))


def census(spec):
    """The census of ``[migration.census]`` (:mod:`remitpov.migration.census`)."""
    return _census(config(spec)["census"])


# --------------------------------------------------------------------------- provenance
#: input key of ``[migration]`` -> the loader that reads it
LOADERS = {"stock": "remitpov.migration.un.read_un_migrant_stock",
           "stock_by_sex": "remitpov.migration.un.read_un_migrant_stock",
           "groupings": "remitpov.migration.countries.groupings",
           "census": "remitpov.migration.census.read_census"}


def _file(path: str) -> dict:
    from ...survey import SourceFile

    f = SourceFile.from_path(path)
    return {"path": f.path, "sha256": f.sha256, "bytes": f.bytes}


def manifest_inputs(spec: Mapping) -> dict:
    """Provenance of the ``[migration]`` inputs of a chapter (``manifest.json``: ``migration_inputs``).

    ``spec`` is the chapter spec as a dict (:meth:`remitpov.report.spec.ChapterSpec.to_dict`).
    One entry per input of the section (``stock``, ``stock_by_sex``, ``groupings``, ``census``):
    ``files`` (path, sha256, bytes: what ``remitpov verify`` re-hashes; none for the synthetic
    census, whose options and seed are given instead), ``loader``, ``used_by`` (the measures that
    read it: an input given but read by no measure is hashed, not loaded) and, for the inputs
    read, what the loader reported: ``load_report`` (every missing token, mapped name,
    aggregate row set apart...), rows and, for UN tables, the layout and years. Empty when the
    spec has no ``[migration]`` section.
    """
    cfg = spec.get("migration")
    if not cfg:
        return {}
    asked = {m for s in spec.get("surveys", []) for m in s.get("measures", [])}
    out = {}
    for key in ("stock", "stock_by_sex", "groupings", "census"):
        if key not in cfg:
            continue
        used_by = sorted(m for m in asked if key in NEEDS.get(m, ()) or (key == "groupings" and m in CONTEXT))
        c = cfg[key]
        path = c.get("path") if key == "census" else c
        entry: dict[str, Any] = {"loader": LOADERS[key], "files": [] if path is None else [_file(path)],
                                 "used_by": used_by}
        if key == "census" and "synthetic" in c:
            entry.update(loader="remitpov.migration.census.synthetic_census", options=dict(c["synthetic"]))
        if key == "census":
            entry["min_age"] = c["min_age"]
            if "roles" in c:
                entry["roles"] = dict(c["roles"])
        if used_by and key in ("stock", "stock_by_sex"):
            st = _un(path)
            entry.update(layout=st.layout, rows=int(len(st.data)), aggregate_rows=int(len(st.aggregates)),
                         years=st.years, load_report=[str(x) for x in st.load_report])
        elif used_by and key == "census":
            cen = _census(c)
            entry.update(rows=int(cen.n), weight=cen.weight,
                         design={"strata": cen.strata, "psu": cen.psu, "fpc": cen.fpc},
                         load_report=[str(x) for x in cen.report])
        out[key] = entry
    return out


# --------------------------------------------------------------------------- tidy rows and figures
def long_rows(frame: pd.DataFrame, domain: str, group, indicators: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    """Tidy rows of a wide table: for every row of ``frame`` (``group`` its labels), one row per
    indicator ``name -> (column, unit)``, rows of one group together (no scaling: the UN
    tables hold persons and percentages already)."""
    names = list(indicators)
    k, n = len(names), len(frame)
    vals = np.column_stack([frame[indicators[i][0]].to_numpy(float) for i in names]).ravel()
    keys = {"domain": domain, "group": np.repeat(np.asarray(group, dtype=object), k),
            "indicator": np.tile(np.array(names, dtype=object), n)}
    out = tidy(keys, pd.DataFrame({"estimate": vals}), "", scale=1.0, values=("estimate",))
    out["unit"] = np.tile(np.array([indicators[i][1] for i in names], dtype=object), n)
    return out


def figures_of(spec, folder, keys) -> list:
    """Draw and save the migration report's figures ``keys`` as ``folder/migration_<key>``."""
    from ...migration.report import draw_figures, figure_style, save_figure

    ctx = context(spec)
    out = []
    with figure_style() as plt:
        for key, fig in draw_figures(plt, {k: ctx[k] for k in keys if k in ctx}, spec.language).items():
            Path(folder).mkdir(parents=True, exist_ok=True)
            out += save_figure(plt, fig, Path(folder) / f"migration_{key}", spec.figures)
    return out


def figures_for(measure: str, kinds) -> Callable:
    """The ``figures`` function of a UN DESA context block: when the chapter has the table
    ``measure``, draw and save the migration figures ``kinds`` (:func:`figures_of`)."""
    kinds = tuple(kinds)

    def figures(spec, tables, extras, folder):
        if measure not in tables:
            return []
        return figures_of(spec, folder, kinds)

    return figures


def register_migration(measure: str, run: Callable, tables, step: str, figures: Callable):
    """Register a migration block (never a default block; its tidy tables are ``tables``; rank
    from :data:`RANK`)."""
    from ._registry import Block, register

    tables = tuple(tables)
    return register(Block(measure, run, tables, rank=RANK[measure], step=step, default=False, tidy=tables,
                          figures=figures))


# --------------------------------------------------------------------------- census blocks
def census_groups(codes, census_country, language: str) -> np.ndarray:
    """Row labels of countries of birth: the name in ``language``; "Native-born" where the
    country of birth is the census country (``census_country``: codes, or None), "Other
    countries" for the synthetic census's rest of the world (:data:`WORDS`)."""
    from ...migration.report import country_name

    lang = language if language in WORDS else "en"
    bc = np.asarray(codes, dtype=str)
    native = np.zeros(bc.size, bool) if census_country is None else bc == np.asarray(census_country, dtype=str)
    return np.where(native, WORDS[lang]["natives"],
                    np.where(bc == "OTHER", WORDS[lang]["OTHER"], country_name(bc, language)))


def census_rows(spec, tab, indicator: str, unit: str) -> pd.DataFrame:
    """Tidy rows of a census estimate by ``census_country`` (``population``, when a key) and
    ``birth_country`` (``group``); values as estimated (no scaling)."""
    from ...migration.report import country_name

    k = tab.keys
    cc = k["census_country"].astype(str).to_numpy() if "census_country" in k.columns else None
    keys = {"domain": "birth_country",
            "group": census_groups(k["birth_country"].astype(str).to_numpy(), cc, spec.language),
            "indicator": indicator}
    if cc is not None:
        keys = {"population": country_name(cc, spec.language), **keys}
    return tidy(keys, tab.to_frame(), unit, scale=1.0)


def ci_figure(spec, t: pd.DataFrame, *, stem: str, title: str, xlabel: str, source: str, folder,
              labels=None, scale: float = 1.0) -> list:
    """Dots with confidence-interval whiskers, one row per row of ``t`` (sorted by the
    estimate; ``labels``: the y labels, default "group (population)"), the ``estimate`` /
    ``ci_lower`` / ``ci_upper`` columns divided by ``scale``; title, axis label and source
    in the chapter's language; saved as ``folder/<stem>``."""
    from ...migration.report import PALETTE, figure_style, save_figure
    from .. import figures_style as fs
    from ..i18n import text

    if t is None or t.empty:
        return []
    order = np.argsort(t["estimate"].to_numpy(float), kind="stable")
    t = t.iloc[order].reset_index(drop=True)
    if labels is None:
        labels = [f"{g} ({pop})" for g, pop in zip(t["group"], t["population"])] if "population" in t.columns \
            else list(t["group"])
    else:
        labels = list(np.asarray(labels, dtype=object)[order])
    ci = text("figure", "ci", spec.language, level=spec.ci_level)
    ci = ci[:1].lower() + ci[1:]  # after a comma in the axis label
    n = len(t)
    with figure_style() as plt:
        fig, ax = plt.subplots(figsize=(7.0, 1.2 + 0.2 * max(n, 3)), layout="constrained")
        y = np.arange(n)
        e, lo, hi = (t[c].to_numpy(float) / scale for c in ("estimate", "ci_lower", "ci_upper"))
        ax.errorbar(e, y, xerr=[e - lo, hi - e], fmt="o", color=PALETTE[0], ecolor=PALETTE[1], capsize=2,
                    markersize=3)
        ax.set_yticks(y, labels)
        ax.set_xlabel(f"{xlabel}, {ci}")
        ax.set_title(title)
        ax.margins(y=0.01)
        fs.plain_barh_axis(ax)
        fs.footnote(fig, [source])
        Path(folder).mkdir(parents=True, exist_ok=True)
        return save_figure(plt, fig, Path(folder) / stem, spec.figures)


#: source line of the census figures
CENSUS_SOURCE = {"en": "Source: own calculations from census microdata ({name}); design-based confidence intervals "
                       "(strata and enumeration areas).",
                 "es": "Fuente: elaboración propia con microdatos censales ({name}); intervalos de confianza según el "
                       "diseño (estratos y áreas de empadronamiento)."}


#: the name remitpov.migration.census.synthetic_census gives its census, in each language
SYNTHETIC_CENSUS = {"en": "synthetic IMILA-like census {year}", "es": "censo sintético de tipo IMILA, {year}"}


def census_source(spec, name: str) -> str:
    """The source line of a census figure in the chapter's language (``name``: the census's name;
    the seeded synthetic census's English name is translated)."""
    m = re.fullmatch(SYNTHETIC_CENSUS["en"].replace("{year}", r"(\d{4})"), name)
    if m:
        name = SYNTHETIC_CENSUS.get(spec.language, SYNTHETIC_CENSUS["en"]).format(year=m.group(1))
    return CENSUS_SOURCE.get(spec.language, CENSUS_SOURCE["en"]).format(name=name)


def title(spec, measure: str) -> str:
    """The title of a migration table or figure in the chapter's language."""
    return TITLES.get(spec.language, TITLES["en"])[measure]


def census_block(measure: str, estimate: Callable, indicator: str, unit: str, xlabel: Mapping[str, str], step: str,
                 *, scale: float = 1.0, order: Callable | None = None):
    """Register a census block: one table ``measure`` of ``estimate(census, ci_level)`` (an
    :class:`~remitpov.results.EstimateTable` by ``census_country`` x ``birth_country``) as
    :func:`census_rows` with ``indicator`` and ``unit`` (``order(rows, tab)``: a row order), and
    its :func:`ci_figure` (x axis ``xlabel`` in the chapter's language, values / ``scale``)."""
    from ._registry import BlockOutput

    def run(spec, p, ctx) -> BlockOutput:
        if not owner(spec, p, measure):
            return BlockOutput()
        c = census(spec)
        tab = estimate(c, spec.ci_level)
        rows = census_rows(spec, tab, indicator, unit)
        if order is not None:
            rows = rows.iloc[order(rows, tab)].reset_index(drop=True)
        return BlockOutput({measure: rows}, {measure: tab}, {measure: rows.assign(source=c.metadata.name)})

    def figures(spec, tables, extras, folder):
        t = extras.get(measure)
        if t is None or t.empty:
            return []
        return ci_figure(spec, t, stem=measure, title=title(spec, measure), xlabel=xlabel.get(spec.language,
                                                                                            xlabel["en"]),
                         source=census_source(spec, t["source"].iloc[0]), folder=folder, scale=scale)

    return register_migration(measure, run, (measure,), step, figures)

"""The migration context of the remittances chapter: tables and figures, English or Spanish.

:func:`migration_context` computes the tables ECLAC's chapters open with — emigrants by
country of origin (sorted) and their change, where they live (United States, Spain, within
Latin America and the Caribbean, elsewhere), intra-block migration per integration block,
the share of women among immigrants — and :func:`write_migration_report` writes them as
CSV tables and PNG/PDF figures (sorted horizontal bars whose height grows with the number
of countries, a colour-blind-safe palette, TrueType fonts in the PDFs) with a title,
source and notes in the chosen language, plus a ``manifest.json`` of inputs and outputs
(sha256).

The spec of ``remitpov migration SPEC.toml --out DIR`` (all keys optional except the
stock file)::

    [migration]
    title = "International migration in Latin America and the Caribbean"
    language = "es"              # "en" (default) or "es"
    stock = "data/migration/un_migrant_stock_origin_destination_2019.csv.gz"
    stock_by_sex = "data/migration/undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"
    year = 2019                  # default: the last year of `stock`
    base_year = 1990             # default: the first year
    groupings = "my_blocks.toml" # default: the shipped blocks
    figures = ["png", "pdf"]

Relative paths are looked up next to the spec, then in the shared data folder.
"""
from __future__ import annotations

import hashlib
import json
import tomllib
from contextlib import contextmanager
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..version import __version__
from ..report import figures_style as fs
from ..report.output import check_target, staged_output
from ..config import shared_dir
from ..exceptions import InputError, SpecError
from .countries import country_table, groupings as load_groupings
from .tables import MigrationTable, intra_block, stock_change, stocks_by, women_share
from .un import MigrantStock, read_un_migrant_stock

__all__ = ["migration_context", "write_migration_report", "run_migration_spec", "LABELS", "country_name"]

#: Colour-blind-safe palette (Okabe & Ito 2008) of the chapter figures, never repeated within a figure.
PALETTE = tuple(fs.PALETTE)

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "emigrants": "Emigrants by country of birth, {year}",
        "emigrants_x": "Persons born in the country living abroad (millions)",
        "change": "Change in the number of emigrants, {base}-{year}",
        "change_x": "Annual rate of change (% per year)",
        "destinations": "Where emigrants live, {year}",
        "destinations_x": "Share of the country's emigrants (%)",
        "blocks": "Intra-block migration: migrants born in a member living in another member",
        "blocks_x": "Share of the block's emigrants (%)",
        "women": "Women among immigrants, {year}",
        "women_x": "Women (% of the immigrant stock)",
        "source": "Source: {org}, International Migrant Stock ({file}).",
        "org": "United Nations, Department of Economic and Social Affairs (UN DESA), Population Division",
        "note_stock": "Persons born in the country and living in another country at mid-year; missing UN cells "
                      "are left out, never counted as zero.",
        "note_blocks": "Membership in the year shown; a country in two blocks counts in both.",
        "USA": "United States", "ESP": "Spain", "LAC": "Latin America and the Caribbean",
        "other": "Rest of the world", "country": "Country", "block": "Block", "year": "Year",
    },
    "es": {
        "emigrants": "Emigrantes por país de nacimiento, {year}",
        "emigrants_x": "Personas nacidas en el país que residen en el exterior (millones)",
        "change": "Variación del número de emigrantes, {base}-{year}",
        "change_x": "Tasa de variación anual (% por año)",
        "destinations": "Dónde residen los emigrantes, {year}",
        "destinations_x": "Porcentaje de los emigrantes del país (%)",
        "blocks": "Migración intrabloque: migrantes nacidos en un miembro que residen en otro miembro",
        "blocks_x": "Porcentaje de los emigrantes del bloque (%)",
        "women": "Mujeres entre los inmigrantes, {year}",
        "women_x": "Mujeres (% del stock de inmigrantes)",
        "source": "Fuente: {org}, International Migrant Stock ({file}).",
        "org": "Naciones Unidas, Departamento de Asuntos Económicos y Sociales (DAES), División de Población",
        "note_stock": "Personas nacidas en el país que residen en otro país a mitad de año; las celdas sin dato "
                      "de las Naciones Unidas se omiten, nunca se cuentan como cero.",
        "note_blocks": "Pertenencia en el año indicado; un país que integra dos bloques se cuenta en ambos.",
        "USA": "Estados Unidos", "ESP": "España", "LAC": "América Latina y el Caribe",
        "other": "Resto del mundo", "country": "País", "block": "Bloque", "year": "Año",
    },
}


def country_name(iso3, language: str = "en") -> np.ndarray:
    """Short country names in English or Spanish for ISO-3 codes (codes kept if unknown)."""
    t = country_table().set_index("iso3")
    col = "name_es" if language == "es" else "name_short"
    names = t[col] if col in t.columns else t["name"]
    iso3 = pd.Series(np.asarray(iso3, dtype=object))
    return iso3.map(names).fillna(iso3).to_numpy(dtype=object)


def _lang(language: str) -> dict[str, str]:
    if language not in LABELS:
        raise InputError(f"language must be one of {sorted(LABELS)}, got {language!r}")
    return LABELS[language]


def migration_context(stock: MigrantStock, stock_by_sex: MigrantStock | None = None, *, year: int | None = None,
                      base_year: int | None = None, groupings=None, language: str = "en"
                      ) -> dict[str, MigrationTable]:
    """The tables of the migration context for LAC's 33 ECLAC member countries.

    Returns ``{"emigrants", "change", "destinations", "blocks", "women"}`` (``women`` only
    with ``stock_by_sex``), each a :class:`MigrationTable` whose ``country`` column holds
    names in ``language``.
    """
    L = _lang(language)
    year = stock.years[-1] if year is None else int(year)
    base_year = stock.years[0] if base_year is None else int(base_year)
    g = load_groupings(groupings) if groupings is not None else load_groupings()
    if "LAC" not in g:
        g = {**load_groupings(), **g}
    lac = sorted(g["LAC"].members(year))
    out: dict[str, MigrationTable] = {}
    em = stocks_by(stock, "origin", year=year, origins=lac).table
    em.insert(1, "country", country_name(em["origin"], language))
    out["emigrants"] = MigrationTable(em.drop(columns=["origin_name"]), L["emigrants"].format(year=year),
                                      (L["note_stock"],), stocks_by(stock, "origin", year=year).source)
    ch = stock_change(stock, base_year, year, origins=lac).table
    ch.insert(1, "country", country_name(ch["origin"], language))
    out["change"] = MigrationTable(ch.drop(columns=["origin_name"]), L["change"].format(base=base_year, year=year),
                                   (L["note_stock"],), out["emigrants"].source)
    d = stock.select(year=year, origin=lac)
    dest = np.select([d["destination"].eq("USA"), d["destination"].eq("ESP"), d["destination"].isin(lac)],
                     ["USA", "ESP", "LAC"], "other")
    w = d.assign(where=dest).pivot_table(index="origin", columns="where", values="stock", aggfunc="sum")
    w = w.reindex(columns=["USA", "ESP", "LAC", "other"]).fillna(0.0)
    shares = 100 * w.div(w.sum(axis=1), axis=0)
    shares = shares.rename(columns={k: f"{k}_pct" for k in shares.columns}).reset_index()
    shares.insert(1, "country", country_name(shares["origin"], language))
    out["destinations"] = MigrationTable(shares.sort_values("USA_pct", ascending=False, kind="stable")
                                         .reset_index(drop=True), L["destinations"].format(year=year),
                                         (L["note_stock"],), out["emigrants"].source)
    blocks = {k: v for k, v in g.items() if k != "LAC"}
    ib = intra_block(stock, sorted({base_year, year}), blocks).table
    out["blocks"] = MigrationTable(ib, L["blocks"], (L["note_blocks"],), out["emigrants"].source)
    if stock_by_sex is not None:
        ws_year = min(stock_by_sex.years, key=lambda y: abs(y - year))
        ws = women_share(stock_by_sex, ws_year, destinations=lac).table
        ws.insert(1, "country", country_name(ws["destination"], language))
        out["women"] = MigrationTable(ws.drop(columns=["destination_name"]), L["women"].format(year=ws_year),
                                      (), women_share(stock_by_sex, ws_year).source)
    return out


#: matplotlib settings of the migration figures (TrueType fonts in PDFs, fixed SVG hash salt)
@contextmanager
def figure_style():
    """``matplotlib.pyplot`` in the chapter figures' style (:func:`remitpov.report.figures_style.style`:
    the ``[style]`` of a chapter spec when drawn inside a chapter; fonts embedded as TrueType
    in PDFs); the caller's settings are restored afterwards."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    with fs.style():
        yield plt


def _barh(plt, labels, values, *, title, xlabel, source, notes, stacked: Mapping[str, np.ndarray] | None = None,
          legend: Mapping[str, str] | None = None, decimal_comma: bool = False):
    """Sorted horizontal bars; the height grows with the rows; legend and footnotes below
    the axes, outside the data (saved with ``bbox_inches="tight"``)."""
    n = len(labels)
    fig, ax = plt.subplots(figsize=(7.0, 1.0 + 0.22 * max(n, 3)), layout="constrained")
    y = np.arange(n)[::-1]
    if stacked:
        left = np.zeros(n)
        for i, (k, v) in enumerate(stacked.items()):
            ax.barh(y, v, left=left, color=PALETTE[i % len(PALETTE)], label=(legend or {}).get(k, k), height=0.7)
            left = left + v
        fig.legend(loc="outside upper center", ncol=min(len(stacked), 4), frameon=False, fontsize=8)
    else:
        ax.barh(y, values, color=PALETTE[0], height=0.7)
    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.margins(y=0.01)
    fs.plain_barh_axis(ax)
    if decimal_comma:
        fs.decimal_comma(fig)
    fs.footnote(fig, [source, *notes])
    return fig


def draw_figures(plt, tables: Mapping[str, MigrationTable], language: str = "en") -> dict:
    """The figures of the context tables present in ``tables`` (keys ``emigrants``, ``change``,
    ``destinations``, ``blocks``, ``women``): sorted horizontal bars with title, axis label,
    source and notes in ``language`` (decimal commas in Spanish). Returns key -> Figure."""
    L = _lang(language)
    src = lambda t: L["source"].format(org=L["org"], file=Path(t.source.split(", ")[-1]).name if t.source else "")
    comma = language == "es"
    figs = {}
    if "emigrants" in tables:
        t = tables["emigrants"].table
        figs["emigrants"] = _barh(plt, t["country"], t["stock"] / 1e6, title=tables["emigrants"].title,
                                  xlabel=L["emigrants_x"], source=src(tables["emigrants"]),
                                  notes=tables["emigrants"].notes, decimal_comma=comma)
    if "change" in tables:
        t = tables["change"].table.sort_values("annual_rate", ascending=False, kind="stable")
        figs["change"] = _barh(plt, t["country"], t["annual_rate"], title=tables["change"].title,
                               xlabel=L["change_x"], source=src(tables["change"]), notes=(), decimal_comma=comma)
    if "destinations" in tables:
        t = tables["destinations"].table
        figs["destinations"] = _barh(plt, t["country"], None, title=tables["destinations"].title,
                                     xlabel=L["destinations_x"], source=src(tables["destinations"]), notes=(),
                                     stacked={k: t[f"{k}_pct"].to_numpy() for k in ("USA", "ESP", "LAC", "other")},
                                     legend={k: L[k] for k in ("USA", "ESP", "LAC", "other")}, decimal_comma=comma)
    if "blocks" in tables:
        t = tables["blocks"].table
        lab = [f"{b} {y}" for b, y in zip(t["block"], t["year"])]
        figs["blocks"] = _barh(plt, lab, t["intra_share_pct"], title=tables["blocks"].title, xlabel=L["blocks_x"],
                               source=src(tables["blocks"]), notes=tables["blocks"].notes, decimal_comma=comma)
    if "women" in tables:
        t = tables["women"].table
        figs["women"] = _barh(plt, t["country"], t["women_pct"], title=tables["women"].title,
                              xlabel=L["women_x"], source=src(tables["women"]), notes=(), decimal_comma=comma)
    return figs


def save_figure(plt, fig, stem, formats=("png", "pdf")) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` (:func:`remitpov.report.figures_style.save`: no timestamps,
    the style's dpi) with its bounding box, so the footnotes below the axes are kept; closes it."""
    return fs.save(fig, stem, formats, tight=True)


def write_migration_report(tables: Mapping[str, MigrationTable], out, *, language: str = "en",
                           figures=("png", "pdf"), inputs=(), spec_text: str = "") -> dict:
    """Write the context tables (CSV) and figures into ``out`` atomically.

    The output is built in a temporary folder next to ``out`` and moved into place only
    when complete (:mod:`remitpov.report.output`): a previous remitpov output is replaced as
    a whole, so no stale file survives; any other non-empty folder is refused.
    Returns the manifest (also written as ``manifest.json``).
    """
    _lang(language)
    bad = [f for f in figures if f not in ("png", "pdf", "svg")]
    if bad:
        raise InputError(f"figure formats {bad} not supported; use png, pdf or svg")
    target = check_target(out)
    with staged_output(target) as tmp:
        (tmp / "tables").mkdir()
        (tmp / "figures").mkdir()
        for key, t in tables.items():
            t.table.to_csv(tmp / "tables" / f"{key}.csv", index=False, lineterminator="\n")
        with figure_style() as plt:
            for key, fig in draw_figures(plt, tables, language).items():
                save_figure(plt, fig, tmp / "figures" / key, figures)
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        manifest = {
            "manifest_version": 1, "package": {"name": "remitpov", "version": __version__},
            "kind": "migration", "language": language, "spec": spec_text,
            "inputs": {Path(p).name: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in inputs},
            "outputs": {str(p.relative_to(tmp)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _resolve(path: str, spec_dir: Path) -> Path:
    p = Path(path)
    for cand in (p, spec_dir / p, shared_dir() / p):
        if cand.is_file():
            return cand
    raise InputError(f"file {path!r} not found next to the spec ({spec_dir}) nor in the shared data folder "
                     f"({shared_dir()}); set REMITPOV_SHARED or give an absolute path")


def run_migration_spec(spec_path, out) -> dict:
    """Run a ``[migration]`` spec (see the module docstring) and write the report to ``out``."""
    spec_path = Path(spec_path)
    check_target(out)  # refuse a foreign non-empty folder before reading anything
    text = spec_path.read_text(encoding="utf-8")
    spec = tomllib.loads(text)
    m = spec.get("migration")
    if not isinstance(m, dict):
        raise SpecError(f"{spec_path}: no [migration] section")
    known = {"title", "language", "stock", "stock_by_sex", "year", "base_year", "groupings", "figures"}
    unknown = sorted(set(m) - known)
    if unknown:
        raise SpecError(f"{spec_path}: unknown key(s) {unknown} in [migration]; known: {sorted(known)}")
    if "stock" not in m:
        raise SpecError(f"{spec_path}: [migration] needs `stock` (UN DESA's origin-destination table)")
    for k in ("year", "base_year"):
        if k in m and not isinstance(m[k], int):
            raise SpecError(f"{spec_path}: [migration] {k} must be a whole year, got {m[k]!r}")
    lang = m.get("language", "en")
    _lang(lang)
    stock_path = _resolve(m["stock"], spec_path.parent)
    inputs = [stock_path]
    stock = read_un_migrant_stock(stock_path)
    by_sex = None
    if "stock_by_sex" in m:
        p = _resolve(m["stock_by_sex"], spec_path.parent)
        inputs.append(p)
        by_sex = read_un_migrant_stock(p)
    groupings = _resolve(m["groupings"], spec_path.parent) if "groupings" in m else None
    tables = migration_context(stock, by_sex, year=m.get("year"), base_year=m.get("base_year"),
                               groupings=groupings, language=lang)
    return write_migration_report(tables, out, language=lang, figures=tuple(m.get("figures", ("png", "pdf"))),
                                  inputs=inputs, spec_text=text)

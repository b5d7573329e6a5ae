"""Readers for UN DESA's International Migrant Stock tables.

Two layouts are understood, detected from the file's content:

``"origin_destination"``
    The 2019 origin x destination table as a CSV (one row per ``Year`` x ``Dest``, one
    column per origin country; missing cells written ``..`` or ``-``), e.g. the cleaned
    copy of UN DESA's *International Migrant Stock 2019* in ``shared/data/migration``.
``"destination_by_sex"``
    The official UN DESA 2020 workbook by destination and sex (sheet ``Table 1``; regions,
    development groups and countries mixed in rows with their M49 location codes; the
    header after 10 title rows; three blocks of year columns: both sexes, males,
    females). ``read_un_population`` reads the same workbook's ``Table 2`` (total
    population, thousands).

Both return a :class:`MigrantStock`: a tidy long table ``origin, destination, year, sex,
stock`` with ISO-3 codes for countries, and aggregate (region/group) rows kept apart in
``aggregates`` so that nothing is ever summed twice, plus a load report of every token
read as missing and every name mapped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..exceptions import InputError
from ..survey import LoadReport, SourceFile
from .countries import country_table, suggest, to_iso3, normalise_name

__all__ = ["MigrantStock", "read_un_migrant_stock", "read_un_population", "UN_AGGREGATE_NAMES",
           "TOTAL_ORIGIN"]

#: ``origin`` code of the rows that count migrants from every country of birth.
TOTAL_ORIGIN = "ALL"

#: Tokens UN DESA writes for a missing cell.
MISSING_TOKENS = ("..", "-", "")

#: Region and group names that may appear where a country is expected (UN DESA 2019/2020).
UN_AGGREGATE_NAMES = frozenset(normalise_name(n) for n in (
    "World", "Sub-Saharan Africa", "Northern Africa and Western Asia", "Central and Southern Asia",
    "Eastern and South-Eastern Asia", "Latin America and the Caribbean",
    "Oceania (excluding Australia and New Zealand)", "Australia and New Zealand",
    "Europe and Northern America", "Developed regions", "Less developed regions",
    "Least developed countries", "Africa", "Eastern Africa", "Middle Africa", "Northern Africa",
    "Southern Africa", "Western Africa", "Asia", "Central Asia", "Eastern Asia", "South-Eastern Asia",
    "Southern Asia", "Western Asia", "Europe", "Eastern Europe", "Northern Europe", "Southern Europe",
    "Western Europe", "Caribbean", "Central America", "South America", "Northern America", "Oceania",
    "Melanesia", "Micronesia", "Polynesia"))

_SEX_BLOCKS = (("both", "both sexes"), ("female", "females"), ("male", "males"))  # "females" before "males"
_COLUMNS = ["origin", "origin_name", "destination", "destination_name", "year", "sex", "stock"]


def _codes(countries, what: str) -> list[str]:
    """Country names or ISO-3 codes (a string or any iterable) -> list of ISO-3 codes."""
    if isinstance(countries, str):
        countries = [countries]
    return list(to_iso3(list(countries), what=what))


@dataclass(frozen=True, eq=False)
class MigrantStock:
    """International migrant stocks in tidy long form.

    Attributes
    ----------
    data : DataFrame
        Country rows: ``origin`` (ISO-3, or ``"ALL"`` for every country of birth),
        ``origin_name``, ``destination`` (ISO-3), ``destination_name``, ``year``, ``sex``
        (``both``/``male``/``female``), ``stock`` (persons; NaN where UN DESA gives no
        value).
    aggregates : DataFrame
        Region and group rows (same columns plus ``m49``): kept apart so that country
        totals and regional totals are never added together.
    layout : str
        ``"origin_destination"`` or ``"destination_by_sex"``.
    source : SourceFile or None
    load_report : LoadReport
        Missing-value tokens read, names mapped, rows set apart as aggregates.
    """

    data: pd.DataFrame
    aggregates: pd.DataFrame
    layout: str
    source: SourceFile | None = None
    load_report: LoadReport = field(default_factory=LoadReport)
    unit: str = "persons"

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.data["year"].unique())

    def to_frame(self) -> pd.DataFrame:
        """A copy of the country rows."""
        return self.data.copy()

    def select(self, *, year=None, sex=None, origin=None, destination=None) -> pd.DataFrame:
        """Rows for one year/sex/origin set/destination set (``None`` = all).

        Raises
        ------
        InputError
            For a year or sex the file does not hold (listing those it holds).
        """
        d = self.data
        if year is not None:
            ys = np.atleast_1d(year).astype(int)
            missing = sorted(set(ys) - set(self.years))
            if missing:
                raise InputError(f"year {missing[0] if len(missing) == 1 else missing} not in the migrant-stock "
                                 f"table ({self.layout}); it holds {self.years}")
            d = d[d["year"].isin(ys)]
        if sex is not None:
            have = sorted(self.data["sex"].unique())
            if sex not in have:
                raise InputError(f"sex {sex!r} not in the migrant-stock table; it holds {have}")
            d = d[d["sex"] == sex]
        if origin is not None:
            d = d[d["origin"].isin(_codes(origin, "origin"))]
        if destination is not None:
            d = d[d["destination"].isin(_codes(destination, "destination"))]
        return d

    def __repr__(self) -> str:
        ys = self.years
        return (f"MigrantStock({self.layout}: {len(self.data):,} country rows, "
                f"{len(self.aggregates):,} aggregate rows, years {ys[0]}-{ys[-1]}, "
                f"sexes {sorted(self.data['sex'].unique())}, {len(self.load_report)} load-report entries)")

    def summary(self) -> str:
        src = f"\nsource: {self.source.path}" if self.source is not None else ""
        return repr(self) + src + "\n" + str(self.load_report)


def _to_numbers(values: pd.DataFrame, path: Path, report: LoadReport, where: str) -> tuple[np.ndarray, LoadReport]:
    """Cells to floats: UN missing tokens and empty cells -> NaN (reported); numbers written
    with thousands separators are converted (reported); anything else raises."""
    shape = values.shape
    cells = pd.Series(values.to_numpy(dtype=object).ravel())
    num = pd.to_numeric(cells, errors="coerce")
    na = num.isna().to_numpy()
    text = cells.where(cells.notna(), "").astype(object).map(lambda x: str(x).strip()).to_numpy(dtype=object)
    for tok in MISSING_TOKENS:
        hit = na & (text == tok)
        if hit.any():
            what = f"written {tok!r}" if tok else "empty"
            report = report.add("missing", f"{int(hit.sum())} {where} cells {what} read as missing (NaN, not 0)",
                                rows=int(hit.sum()))
    other = na & ~np.isin(text, MISSING_TOKENS)
    if other.any():
        cleaned = pd.to_numeric(pd.Series(text[other]).str.replace(r"[ ,\u00a0]", "", regex=True), errors="coerce")
        bad = cleaned.isna().to_numpy()
        if bad.any():
            pos = np.flatnonzero(other)[bad]
            r, c = np.unravel_index(pos[:5], shape)
            ex = ", ".join(f"{text[p]!r} (row {int(i) + 1}, column {values.columns[j]!r})"
                           for p, i, j in zip(pos[:5], r, c))
            raise InputError(f"{path.name}: {int(bad.sum())} non-numeric {where} cells: {ex}. UN DESA writes "
                             f"missing values as '..' or '-'; fix or remove the other cells")
        num[np.flatnonzero(other)] = cleaned.to_numpy()
        report = report.add("converted", f"{int(other.sum())} {where} cells with thousands separators "
                            "converted to numbers", rows=int(other.sum()))
    out = num.to_numpy(dtype=float).reshape(shape)
    neg = out < 0
    if neg.any():
        i, j = np.argwhere(neg)[0]
        raise InputError(f"{path.name}: {int(neg.sum())} negative {where} values (e.g. {out[i, j]:g} in row {i + 1}, "
                         f"column {values.columns[j]!r}); they cannot be negative")
    return out, report


def _read_origin_destination(path: Path, report: LoadReport) -> MigrantStock:
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (EOFError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: cannot read the migrant-stock CSV ({type(exc).__name__}: {exc})") from None
    if raw.empty:
        raise InputError(f"{path}: the migrant-stock CSV has no rows")
    year = pd.to_numeric(raw["Year"], errors="coerce")
    if year.isna().any():
        i = int(np.flatnonzero(year.isna())[0])
        raise InputError(f"{path.name}: 'Year' is not a year in row {i + 2} ({raw['Year'].iloc[i]!r})")
    dup = raw.duplicated(["Year", "Dest"], keep=False)
    if dup.any():
        ex = raw.loc[dup, ["Year", "Dest"]].head(3).to_dict("records")
        raise InputError(f"{path.name}: {int(dup.sum())} duplicated (Year, Dest) rows, e.g. {ex}; "
                         "keep one row per destination and year")
    origins = list(raw.columns[2:])
    if len(set(normalise_name(o) for o in origins)) != len(origins):
        raise InputError(f"{path.name}: duplicated origin columns")
    values, report = _to_numbers(raw[origins], path, report, "stocks")
    dest_names = raw["Dest"].to_numpy(dtype=object)
    is_agg = np.array([normalise_name(d) in UN_AGGREGATE_NAMES for d in dest_names])
    agg_names = [o for o in origins if normalise_name(o) in UN_AGGREGATE_NAMES]
    if agg_names:
        raise InputError(f"{path.name}: origin columns {agg_names} are regions; the origin-destination layout "
                         "expects one column per country of birth")
    orig_iso = to_iso3(origins, what="origin (column)")
    dest_iso = np.full(len(raw), None, dtype=object)
    dest_iso[~is_agg] = to_iso3(dest_names[~is_agg], what="destination ('Dest')")
    n_dest, n_orig = values.shape
    long = pd.DataFrame({
        "origin": np.tile(orig_iso, n_dest), "origin_name": np.tile(np.asarray(origins, dtype=object), n_dest),
        "destination": np.repeat(dest_iso, n_orig), "destination_name": np.repeat(dest_names, n_orig),
        "year": np.repeat(year.to_numpy(dtype=int), n_orig), "sex": "both", "stock": values.ravel()})
    agg_rows = np.repeat(is_agg, n_orig)
    if is_agg.any():
        names = sorted(set(dest_names[is_agg]))
        report = report.add("aggregates", f"{int(is_agg.sum())} destination rows are regions, kept apart in "
                            f"`aggregates` (never added to country totals): {', '.join(names)}", rows=int(is_agg.sum()))
    cols = _COLUMNS
    agg = long.loc[agg_rows, cols].assign(m49=np.nan).reset_index(drop=True)
    return MigrantStock(long.loc[~agg_rows, cols].reset_index(drop=True), agg, "origin_destination",
                        SourceFile.from_path(path), report)


def _find_header(t: pd.DataFrame, path: Path, sheet: str) -> int:
    col1 = t.iloc[:30, 1].astype(str).str.strip().str.lower()
    hit = np.flatnonzero(col1.str.startswith("region, development group"))
    if hit.size == 0:
        raise InputError(f"{path.name}, sheet {sheet!r}: no header row 'Region, development group, country or area' "
                         "in the first 30 rows; this is not UN DESA's International Migrant Stock 2020 "
                         "'by destination and sex' workbook layout")
    return int(hit[0])


def _read_workbook(path: Path, sheet: str, report: LoadReport, scale: float, what: str):
    try:
        t = pd.read_excel(path, sheet_name=sheet, header=None)
    except ValueError as exc:  # missing sheet
        raise InputError(f"{path.name}: no sheet {sheet!r} ({exc}); expected UN DESA's International Migrant "
                         "Stock 2020 workbook by destination and sex") from None
    except Exception as exc:  # zip/xml errors from openpyxl on a corrupt file
        raise InputError(f"{path}: cannot read the workbook ({type(exc).__name__}: {exc})") from None
    h = _find_header(t, path, sheet)
    header = t.iloc[h]
    year_cols = [j for j, v in enumerate(header) if re.fullmatch(r"\d{4}(\.0)?", str(v).strip())]
    titles = t.iloc[:h, :].astype(object).fillna("").map(str).agg(" ".join, axis=0).str.lower()
    blocks = []
    for j in year_cols:
        title = next((titles.iloc[k] for k in range(j, -1, -1) if titles.iloc[k].strip()), "")
        sex = next((s for s, key in _SEX_BLOCKS if key in title), None)
        if sex is None:
            raise InputError(f"{path.name}, sheet {sheet!r}: cannot tell the sex of year column {header.iloc[j]} "
                             "(expected block titles 'both sexes', 'males', 'females')")
        blocks.append((j, int(float(header.iloc[j])), sex))
    if not blocks:
        raise InputError(f"{path.name}, sheet {sheet!r}: no year columns in the header row")
    body = t.iloc[h + 1:].reset_index(drop=True)
    body = body[body.iloc[:, 1].notna()].reset_index(drop=True)
    names = body.iloc[:, 1].astype(str).str.strip().str.rstrip("*").str.strip()
    codes = pd.to_numeric(body.iloc[:, 3], errors="coerce")
    if codes.isna().any():
        i = int(np.flatnonzero(codes.isna())[0])
        raise InputError(f"{path.name}, sheet {sheet!r}: row {h + i + 2} ({names.iloc[i]!r}) has no location code")
    values, report = _to_numbers(body.iloc[:, [b[0] for b in blocks]], path, report, what)
    values = values * scale
    ctab = country_table()
    by_code = dict(zip(ctab["m49"].astype(int), ctab["iso3"]))
    iso = codes.astype(int).map(by_code)
    is_country = iso.notna().to_numpy()
    dup = pd.Series(codes.to_numpy()[is_country]).duplicated()
    if dup.any():
        raise InputError(f"{path.name}: location code {int(codes.to_numpy()[is_country][dup.to_numpy()][0])} "
                         "appears twice among countries")
    n, k = values.shape
    long = pd.DataFrame({
        "origin": TOTAL_ORIGIN, "origin_name": "all countries of birth",
        "destination": np.repeat(iso.to_numpy(dtype=object), k), "destination_name": np.repeat(names.to_numpy(), k),
        "year": np.tile([b[1] for b in blocks], n), "sex": np.tile([b[2] for b in blocks], n),
        "stock": values.ravel(), "m49": np.repeat(codes.to_numpy(dtype=int), k)})
    cmask = np.repeat(is_country, k)
    report = report.add("aggregates", f"{int((~is_country).sum())} rows are regions or groups (location codes "
                        "not in the country table), kept apart in `aggregates`", rows=int((~is_country).sum()))
    return long, cmask, report


def read_un_migrant_stock(path, *, layout: str = "auto") -> MigrantStock:
    """Read a UN DESA International Migrant Stock table into tidy long form.

    Parameters
    ----------
    path : str or Path
        The 2019 origin-destination CSV (optionally gzipped) or the 2020 workbook by
        destination and sex (``.xlsx``).
    layout : {"auto", "origin_destination", "destination_by_sex"}
        ``"auto"`` decides from the file: a ``.xlsx`` is the workbook, a CSV whose first
        two columns are ``Year, Dest`` is the origin-destination table.

    Returns
    -------
    MigrantStock
        Country rows with ISO-3 codes; aggregates apart; a load report.

    Raises
    ------
    InputError
        Missing file, unknown layout, unknown country names (with the closest names),
        duplicated rows, negative or non-numeric stocks.

    Notes
    -----
    Missing cells (UN DESA writes ``..`` or ``-``) are NaN and counted in the load
    report; they are never read as zero.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"migrant-stock file not found: {path}")
    report = LoadReport()
    if layout == "auto":
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            layout = "destination_by_sex"
        else:
            try:
                head = pd.read_csv(path, nrows=0)
            except Exception as exc:
                raise InputError(f"{path}: cannot read as CSV ({type(exc).__name__}: {exc})") from None
            if list(head.columns[:2]) != ["Year", "Dest"]:
                raise InputError(f"{path.name}: unknown migrant-stock layout: the first columns are "
                                 f"{list(head.columns[:2])}, expected ['Year', 'Dest'] (origin-destination CSV) "
                                 "or an .xlsx UN DESA 2020 workbook")
            layout = "origin_destination"
    if layout == "origin_destination":
        return _read_origin_destination(path, report)
    if layout == "destination_by_sex":
        long, cmask, report = _read_workbook(path, "Table 1", report, 1.0, "stocks")
        cols = _COLUMNS
        return MigrantStock(long.loc[cmask, cols].reset_index(drop=True), long.loc[~cmask].reset_index(drop=True),
                            layout, SourceFile.from_path(path), report)
    raise InputError(f"unknown layout {layout!r}; use 'auto', 'origin_destination' or 'destination_by_sex'")


def read_un_population(path) -> pd.DataFrame:
    """Total population by country, year and sex from the UN DESA 2020 workbook (Table 2).

    Returns a tidy table ``country, country_name, year, sex, population`` (persons: the
    workbook's thousands x 1000), countries only.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"population workbook not found: {path}")
    long, cmask, _ = _read_workbook(path, "Table 2", LoadReport(), 1000.0, "population")
    out = long.loc[cmask, ["destination", "destination_name", "year", "sex", "stock"]]
    return out.rename(columns={"destination": "country", "destination_name": "country_name",
                               "stock": "population"}).reset_index(drop=True)

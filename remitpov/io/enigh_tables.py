"""Mexico's ENIGH from INEGI's relational tables (``ingresos``, ``viviendas``, ``hogares``).

INEGI distributes the ENIGH as one CSV per table. :func:`read_enigh_tables` builds the
household-level :class:`~remitpov.survey.Survey` from three of them, without the household
summary file (``concentradohogar``) or the person table (``poblacion``):

1. reads ``viviendas`` (dwellings: design, expansion factor, location, residents),
   ``hogares`` (households) and ``ingresos`` (one row per person and income item);
2. identifiers as text, ``folioviv`` zero-padded to INEGI's 10 digits (some copies lost the
   leading zero of states 01-09: reported);
3. checks the join: every household has a dwelling, every income row a household
   (:class:`~remitpov.exceptions.InputError` otherwise, naming the ids);
4. classifies every income item with INEGI's income-item catalogue carried as package data
   (``remitpov/io/data/enigh_catalogue.csv``, :func:`enigh_catalogue`): the ``clave`` column
   may hold INEGI's code (``P041``; the catalogue carries the codes P001-P108 with their
   sources) or the item's description (as in the tidyenigh copies, where some 2018
   descriptions carry 2016 wording); a code shared by several wordings is read with the
   wording of the survey year; descriptions are compared after
   case-folding and collapsing white space (and the space after commas). Every description
   that matches nothing is listed in the load report with its rows and expanded amount
   (``unknown_items="report"``, default) and kept in the column ``unclassified``, outside
   current income -- or refused (``"error"``);
5. sums the quarterly amounts ``ing_tri`` (pesos per quarter, deflated by INEGI to the
   survey's reference month) per household and source.

Income columns (pesos per household per quarter)
------------------------------------------------
``labour`` (wages, bonuses, other work), ``business``, ``property`` (rents, interest,
dividends), ``transfers`` = ``pensions`` + ``pensions_abroad`` + ``government`` +
``remittances`` + ``between_households`` + ``institutions`` (scholarships and donations from
private institutions and NGOs, insurance indemnities P034), ``other_current`` (no item of the
2016-2022 catalogue since P049 left current income; kept for user catalogues and old wordings);
``ing_mon`` = current monetary income = labour + business + property + transfers +
other_current. Which items are current follows CONEVAL's current monetary income ``ing_mon``
of its poverty-measurement programs (codes P001-P009, P011-P016, P018-P048, P067-P081,
P101-P108; checked item by item against CONEVAL's ENIGH 2022 program by a test), so that
``ing_mon`` is the monetary part of the income CONEVAL compares with its lines. Not current
income (catalogue ``current = 0``: loans, loan repayments, asset sales, savings withdrawals,
inheritances, life-insurance payouts, lotteries, dividends P050 and other income not elsewhere
classified P049) goes to ``capital``. Current income here is MONETARY only:
the in-kind items and imputed rent of INEGI's ``ing_cor`` are in tables this loader does not
read, so ``ing_mon`` is below INEGI's ``ing_cor``.

Household size
--------------
The person table is absent: size comes from the dwelling's residents ``tot_resid`` for
dwellings with one household (98.5 %). For dwellings with several households
(``tot_hog > 1``) the policy ``multi_household`` decides, and the report says how many
households it touched: ``"split"`` (default) gives each household ``tot_resid / tot_hog``
(fractional sizes, an average), ``"dwelling"`` gives each household all the dwelling's
residents (over-counts persons), ``"error"`` refuses.

Roles: weight ``factor`` (households; shared by the households of a dwelling), strata
``est_dis``, PSU ``upm``, size ``size``, ``income = "ing_mon"``, ``remittances``,
``area`` (``"rural"`` when ``tam_loc`` is 4 / "less than 2,500 inhabitants") and
``region = "state"`` (1-32, the first two digits of ``ubica_geo``, else of ``folioviv``).
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.validate import check_weights
from ..exceptions import InputError, describe_rows
from ..survey import LoadReport, Survey, SurveyMetadata
from .generic import ids_of, read_table

__all__ = ["read_enigh_tables", "enigh_catalogue", "coneval_lines", "coneval_lines_file", "ENIGH_TABLE_SOURCES",
           "TRANSFER_SOURCES", "TABLES"]

#: The three tables read, in this order.
TABLES = ("viviendas", "hogares", "ingresos")
#: Sub-groups of transfers (catalogue ``subsource`` -> output column).
TRANSFER_SOURCES = ("remittances", "pensions_abroad", "pensions", "government", "between_households",
                    "institutions")
#: Income sources of the output (``Survey.sources``): name -> column.
ENIGH_TABLE_SOURCES = {c: c for c in ("labour", "business", "property", "transfers", *TRANSFER_SOURCES,
                                      "other_current")}

_VIV_COLS = ["folioviv", "tot_resid", "tot_hog", "ubica_geo", "tam_loc", "est_dis", "upm", "factor"]
_ING_COLS = ["folioviv", "foliohog", "numren", "clave", "ing_1", "ing_2", "ing_3", "ing_4", "ing_5", "ing_6",
             "ing_tri"]
_TEXT = {"folioviv": str, "foliohog": str, "numren": str, "clave": str, "ubica_geo": str, "tam_loc": str,
         "est_dis": str, "upm": str}
_IDS = ["folioviv", "foliohog"]
_MULTI = ("split", "dwelling", "error")
_DUP = ("auto", "error", "drop", "keep")
_RURAL_LABEL = re.compile(r"menos de 2\s?500")
_URBAN_LABEL = re.compile(r"(?:2\s?500 a 14\s?999|15\s?000 a 99\s?999|100\s?000 y m[aá]s)")


def _norm(s: pd.Series) -> pd.Series:
    """Case-fold, collapse white space and drop the space after commas (how descriptions are compared)."""
    return (s.astype(str).str.casefold().str.replace(r"\s+", " ", regex=True).str.replace(", ", ",", regex=False)
            .str.strip())


@lru_cache(maxsize=1)
def _catalogue() -> pd.DataFrame:
    with resources.files(__package__).joinpath("data", "enigh_catalogue.csv").open("rb") as fh:
        cat = pd.read_csv(fh, dtype={"code": str, "years": str, "code_basis": str, "note": str},
                          keep_default_na=False, comment="#")
    cat["current"] = cat["current"].astype(int).astype(bool)
    cat["key"] = _norm(cat["description"])
    if cat["key"].duplicated().any():  # pragma: no cover - guarded by a test on the shipped file
        raise InputError(f"ENIGH catalogue has duplicated descriptions: {cat.loc[cat.key.duplicated(), 'description'].tolist()}")
    return cat


def _code_rows(cat: pd.DataFrame, year: int | None) -> pd.Series:
    """INEGI code (case-folded) -> catalogue row; a code shared by several wordings of different
    years points to the wording of ``year`` (else the first: all wordings of a code share its
    group, which a test checks on the shipped file)."""
    codes = cat["code"].str.split(";").explode().str.strip().str.casefold()
    codes = codes[codes != ""]
    yrs = cat["years"].reindex(codes.index).to_numpy()
    fits = np.array([y == "all" or str(year) in y.split(";") for y in yrs]) if year is not None else np.ones(len(yrs), bool)
    codes = codes.iloc[np.argsort(~fits, kind="stable")]  # rows of the year first, then catalogue order
    first = ~codes.duplicated(keep="first")
    return pd.Series(codes.index[first.to_numpy()], index=codes[first].to_numpy())


def enigh_catalogue() -> pd.DataFrame:
    """INEGI's ENIGH income-item catalogue as carried by remitpov.

    Returns
    -------
    DataFrame
        One row per item wording: ``code`` (INEGI's ``clave``, e.g. ``P041``; two codes joined
        by ``;`` where INEGI uses one wording for the main and the secondary job, e.g.
        ``P009;P016`` for the Christmas bonus; empty where a code could not be verified -- such
        items are matched by description only), ``code_basis`` (``"stated"``: a cited source
        names the code with the item; ``"order"``: the code follows from INEGI's catalogue order
        within a cited code range; ``"range"``: code and group known from a cited code range but
        not the wording -- P018-P020, rows with a bracketed placeholder description that match
        codes only; the file's header lists the sources),
        ``description`` (the wording of the years in ``years``, ``"all"`` or e.g.
        ``"2016;2018"``), ``source`` (labour, business, property, transfers, other, capital),
        ``subsource`` (within transfers: remittances, pensions_abroad, pensions, government,
        between_households, institutions), ``current`` (CONEVAL's current monetary income: False
        for loans, loan repayments, asset sales, savings withdrawals, inheritances, life-insurance
        payouts, lotteries -- INEGI's *percepciones financieras y de capital* -- and for dividends
        P050 and other income P049, which CONEVAL's programs leave out), ``note``.
    """
    return _catalogue().drop(columns="key").copy()


def coneval_lines():
    """CONEVAL's income poverty lines for the ENIGH 2018, 2020 and 2022, as package data.

    Returns
    -------
    remitpov.lines.PovertyLines
        Country ``MEX``, years 2018, 2020, 2022, areas ``urban`` and ``rural``:
        ``indigence`` = CONEVAL's *línea de pobreza extrema por ingresos* (LPEI, value of the
        food basket) and ``poverty`` = *línea de pobreza por ingresos* (LPI, food + non-food
        basket), pesos per person per month, current pesos of August of the survey year (the
        month to which CONEVAL deflates ENIGH income). Source of each row in ``source``; the
        file (``remitpov/io/data/coneval_lines.csv``) documents where the values were read.

    Notes
    -----
    CONEVAL compares these lines with *current total* income (monetary and in kind) per
    adult equivalent (``ictpc``), strictly below the line, rural = ``tam_loc`` 4. The ENIGH
    tables read by :func:`read_enigh_tables` have neither in-kind income nor ages, so a
    chapter that applies these lines to ``ing_mon`` per capita measures a different (higher)
    poverty than CONEVAL's official figures: say so wherever the numbers are shown.
    In a chapter spec: ``[survey.lines] from = "coneval"`` with ``country = "MEX"`` and the
    survey ``year``.
    """
    from ..lines import PovertyLines

    return PovertyLines(pd.read_csv(coneval_lines_file(), comment="#"))


def coneval_lines_file() -> Path:
    """Path of the CSV behind :func:`coneval_lines` (hashed in chapter manifests)."""
    return Path(str(resources.files(__package__).joinpath("data", "coneval_lines.csv")))


def _year_of(path: Path) -> int | None:
    m = re.search(r"(19|20)\d{2}", path.name)
    return int(m.group(0)) if m else None


def _resolve_paths(folder_or_paths, year) -> tuple[dict[str, Path], int | None]:
    if isinstance(folder_or_paths, dict):
        paths = {k: Path(v) for k, v in folder_or_paths.items()}
        unknown = sorted(set(paths) - set(TABLES))
        if unknown:
            raise InputError(f"unknown ENIGH table name(s) {unknown}: pass a mapping with keys {list(TABLES)}")
    elif isinstance(folder_or_paths, (list, tuple)):
        paths = {}
        for p in map(Path, folder_or_paths):
            name = next((t for t in TABLES if p.name.lower().startswith(t)), None)
            if name is None:
                raise InputError(f"cannot tell which ENIGH table {str(p)!r} is: file names start with one of "
                                 f"{list(TABLES)} (or pass a mapping table -> path)")
            if name in paths:
                raise InputError(f"two files for ENIGH table {name!r}: {str(paths[name])!r} and {str(p)!r}")
            paths[name] = p
    else:
        folder = Path(folder_or_paths)
        if not folder.is_dir():
            raise InputError(f"ENIGH tables folder {str(folder)!r} not found (or not a folder): pass the folder "
                             f"holding {', '.join(t + '_<year>.csv[.gz]' for t in TABLES)}, or a list of the files")
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().startswith(TABLES))
        years = sorted({y for y in map(_year_of, files) if y is not None})
        if year is None:
            if len(years) != 1:
                raise InputError(f"folder {str(folder)!r} holds ENIGH tables of years {years or 'none'} (no data for "
                                 f"one year): pass year=<one of {years}>" if years else
                                 f"folder {str(folder)!r} holds no data: no ENIGH tables "
                                 f"({', '.join(t + '_<year>.csv[.gz]' for t in TABLES)}) found")
            year = years[0]
        paths = {}
        for t in TABLES:
            cand = [p for p in files if p.name.lower().startswith(t) and _year_of(p) == int(year)]
            if len(cand) > 1:
                raise InputError(f"several files for ENIGH table {t!r} of {year} in {str(folder)!r}: "
                                 f"{[p.name for p in cand]}")
            if cand:
                paths[t] = cand[0]
    missing = [t for t in TABLES if t not in paths]
    if missing:
        raise InputError(f"ENIGH table(s) {missing} missing{' for ' + str(year) if year else ''} (no data for them): "
                         f"the household survey needs {list(TABLES)} ({', '.join(str(p) for p in paths.values()) or 'none found'})")
    years = {t: _year_of(p) for t, p in paths.items()}
    named = {y for y in years.values() if y is not None}
    if len(named) > 1:
        raise InputError(f"ENIGH tables from different years mixed: {', '.join(f'{t}={y}' for t, y in years.items())}; "
                         "the tables of one survey year join on ids that are only meaningful within that year")
    if named:
        fy = named.pop()
        if year is not None and int(year) != fy:
            raise InputError(f"year={year} but the ENIGH table files are of {fy} ({[p.name for p in paths.values()]})")
        year = fy
    return paths, (int(year) if year is not None else None)


def _ids(df: pd.DataFrame, table: str, report: LoadReport) -> LoadReport:
    for c in [c for c in _IDS if c in df.columns]:
        miss = df[c].isna().to_numpy()
        if miss.any():
            raise InputError(f"ENIGH table {table!r}: id column {c!r} is missing in {describe_rows(miss)}")
        df[c] = df[c].astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    short = df["folioviv"].str.len() < 10
    if short.any():
        df["folioviv"] = df["folioviv"].str.zfill(10)
        report = report.add("converted", f"{table}: {int(short.sum())} folioviv with fewer than 10 digits zero-padded "
                                         "(their leading 0 -- states 01-09 -- had been lost)", "folioviv",
                            int(short.sum()))
    if "foliohog" in df.columns:
        df["foliohog"] = df["foliohog"].str.lstrip("0").replace("", "0")
    return report


def _rows(df: pd.DataFrame, mask: np.ndarray, cols=("folioviv", "foliohog")) -> str:
    cols = [c for c in cols if c in df.columns]
    ex = df.loc[mask, cols].head(5).astype(str).agg("/".join, axis=1).tolist()
    return f"{int(mask.sum())} row(s) (e.g. {', '.join(ex)})"


def _numeric(df: pd.DataFrame, col: str, table: str) -> np.ndarray:
    v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(v) & df[col].notna().to_numpy()
    if bad.any():
        raise InputError(f"ENIGH table {table!r}: column {col!r} holds text that is not a number in "
                         f"{_rows(df, bad)}, values {df.loc[bad, col].head(3).tolist()}")
    return v


def _area(tam: pd.Series) -> np.ndarray:
    t = tam.astype(str).str.strip()
    num = pd.to_numeric(t, errors="coerce").to_numpy(dtype=float)
    rural = num == 4
    lab = np.isnan(num)
    if lab.any():
        low = t.str.casefold()
        rl = low.str.contains(_RURAL_LABEL).to_numpy()
        ul = low.str.contains(_URBAN_LABEL).to_numpy()
        bad = lab & ~rl & ~ul
        if bad.any():
            raise InputError(f"ENIGH viviendas: tam_loc value(s) {sorted(set(t[bad]))[:5]} are neither INEGI's codes "
                             "1-4 nor its locality-size labels; fix them (4 = localities below 2,500 inhabitants)")
        rural = rural | (lab & rl)
    badn = ~lab & ~np.isin(num, [1, 2, 3, 4])
    if badn.any():
        raise InputError(f"ENIGH viviendas: tam_loc codes {sorted(set(num[badn]))[:5]} outside 1-4")
    return np.where(rural, "rural", "urban")


def read_enigh_tables(folder_or_paths, *, year: int | None = None, multi_household: str = "split",
                      unknown_items: str = "report", negative_amounts: str = "error",
                      duplicates: str = "auto", duplicate_share: float = 0.01) -> Survey:
    """Household-level ENIGH survey from INEGI's relational tables.

    Parameters
    ----------
    folder_or_paths : str, Path, list or dict
        A folder holding ``viviendas_<year>.csv[.gz]``, ``hogares_<year>...`` and
        ``ingresos_<year>...``; or a list of the three files (table by file-name prefix); or
        a mapping ``{"viviendas": path, "hogares": path, "ingresos": path}``.
    year : int, optional
        Survey year: picks the tables in a folder holding several years (required then);
        must agree with the years in the file names.
    multi_household : {"split", "dwelling", "error"}
        Household size in dwellings with several households (see the module docstring;
        reported).
    unknown_items : {"report", "error"}
        Income-item descriptions not in the catalogue: listed in the load report and
        summed in ``unclassified`` (outside current income), or refused.
    negative_amounts : {"error", "keep"}
        Negative ``ing_tri``: refused (default), or kept (reported).
    duplicates : {"auto", "error", "drop", "keep"}
        Income rows identical in every column read (ids, person, item, the six monthly
        amounts and ``ing_tri``). In the tidyenigh copies INEGI's distinct codes of the main
        and secondary job (e.g. two Christmas bonuses of the same amount) share one
        description, so a few identical rows are genuine: ``"auto"`` keeps them (reported)
        when they are at most ``duplicate_share`` of the rows and refuses more (a table
        appended twice); ``"error"`` refuses any; ``"drop"`` keeps one of each (reported);
        ``"keep"`` keeps all (reported).
    duplicate_share : float
        Threshold of ``duplicates="auto"`` (default 1 %).

    Returns
    -------
    Survey
        One row per household (ids ``folioviv``, ``foliohog``); quarterly income columns
        per household (module docstring), ``capital``, ``unclassified``, ``n_items``,
        ``households`` (1 per row: its expanded total is the number of households),
        ``state`` (1-32), ``area``, ``tot_resid``, ``tot_hog``, ``size``; design weight
        ``factor``, strata ``est_dis``, PSU ``upm``; ``metadata.income_period = "quarter"``.

    Raises
    ------
    InputError
        Missing tables or columns, tables of different years, households without a dwelling,
        income rows without a household, duplicated households or dwellings, duplicated
        income rows (policy), unknown items (policy), negative or non-numeric amounts,
        missing or non-positive weights, a state code outside 1-32, a bad ``tam_loc``.
    """
    if multi_household not in _MULTI:
        raise InputError(f"multi_household must be one of {_MULTI}, got {multi_household!r}")
    if unknown_items not in ("report", "error"):
        raise InputError(f"unknown_items must be 'report' or 'error', got {unknown_items!r}")
    if negative_amounts not in ("error", "keep"):
        raise InputError(f"negative_amounts must be 'error' or 'keep', got {negative_amounts!r}")
    if duplicates not in _DUP:
        raise InputError(f"duplicates must be one of {_DUP}, got {duplicates!r}")
    paths, year = _resolve_paths(folder_or_paths, year)
    report = LoadReport()
    sources = []
    frames = {}
    for t, cols in (("viviendas", _VIV_COLS), ("hogares", _IDS), ("ingresos", _ING_COLS)):
        p = paths[t]
        try:
            head = pd.read_csv(p, nrows=0).columns
        except Exception:  # unreadable / empty: read_table gives the clear message
            head = pd.Index(cols)
        need = [c for c in cols if c not in ("ubica_geo", "ing_1", "ing_2", "ing_3", "ing_4", "ing_5", "ing_6")]
        miss = [c for c in need if c not in head]
        if miss and len(head):
            raise InputError(f"ENIGH table {t!r} ({p.name}) lacks column(s) {miss}; is it the {t} table?")
        use = [c for c in cols if c in head] or cols
        df, src, report = read_table(p, report=report, usecols=use,
                                     dtype={c: v for c, v in _TEXT.items() if c in use})
        frames[t] = df
        sources.append(src)
    viv, hog, ing = frames["viviendas"], frames["hogares"], frames["ingresos"]
    for name, df in frames.items():
        report = _ids(df, name, report)
    # --- dwellings and households -------------------------------------------------------------
    dup = viv.duplicated("folioviv", keep=False).to_numpy()
    if dup.any():
        raise InputError(f"ENIGH viviendas: folioviv duplicated in {_rows(viv, dup, ('folioviv',))}; one row per dwelling")
    dup = hog.duplicated(_IDS, keep=False).to_numpy()
    if dup.any():
        raise InputError(f"ENIGH hogares: (folioviv, foliohog) duplicated in {_rows(hog, dup)}; one row per household")
    orphan = pd.Index(viv["folioviv"]).get_indexer(hog["folioviv"]) < 0
    if orphan.any():
        raise InputError(f"ENIGH hogares: households without a dwelling in viviendas: {_rows(hog, orphan)}; the "
                         "tables must be of the same survey and complete")
    hh = hog.merge(viv, on="folioviv", how="left", validate="m:1")
    empty = pd.Index(hog["folioviv"].unique()).get_indexer(viv["folioviv"]) < 0
    if empty.any():
        report = report.add("dropped", f"{int(empty.sum())} dwellings of viviendas have no household in hogares and "
                                       "are not in the survey (their factor is not counted)", "folioviv",
                            int(empty.sum()), viv.loc[empty, "folioviv"].head(3).tolist())
    hh["factor"] = check_weights(_numeric(hh, "factor", "viviendas"), "factor", ids_of(hh, _IDS))
    for c in ("est_dis", "upm"):
        miss = hh[c].isna().to_numpy()
        if miss.any():
            raise InputError(f"ENIGH viviendas: design column {c!r} missing in {_rows(hh, miss)}")
    # state
    geo = hh["ubica_geo"].astype(str).str.zfill(5) if "ubica_geo" in hh.columns else hh["folioviv"]
    st = pd.to_numeric(geo.str[:2], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(st, np.arange(1, 33))
    if bad.any():
        raise InputError(f"ENIGH viviendas: state code (first two digits of "
                         f"{'ubica_geo' if 'ubica_geo' in hh.columns else 'folioviv'}) outside 1-32 in "
                         f"{_rows(hh, bad)}: values {sorted(set(geo[bad].str[:2]))[:5]}")
    hh["state"] = st.astype(np.int64)
    hh["area"] = _area(hh["tam_loc"])
    # size
    res = _numeric(hh, "tot_resid", "viviendas")
    nh = _numeric(hh, "tot_hog", "viviendas")
    n_in = hh.groupby("folioviv")["foliohog"].transform("size").to_numpy()
    nh = np.where(np.isnan(nh), n_in, nh)
    bad = ~np.isfinite(res) | (res < 1)
    if bad.any():
        raise InputError(f"ENIGH viviendas: tot_resid missing or below 1 in {_rows(hh, bad)}")
    if (nh != n_in).any():
        m = nh != n_in
        report = report.add("note", f"{int(m.sum())} households are in dwellings whose tot_hog differs from the number "
                                    "of their households in hogares; the hogares count is used", "tot_hog",
                            int(m.sum()), hh.loc[m, "folioviv"].head(3).tolist())
        nh = n_in
    multi = nh > 1
    size = res.copy()
    if multi.any():
        nm = int(multi.sum())
        share = 1 - np.unique(hh.loc[multi, "folioviv"]).size / hh["folioviv"].nunique()
        if multi_household == "error":
            raise InputError(f"{nm} households live in dwellings with several households, where the tables give only "
                             f"the dwelling's residents (tot_resid): pass multi_household='split' or 'dwelling'")
        if multi_household == "split":
            size = np.where(multi, res / np.maximum(nh, 1), res)
            msg = ("each gets tot_resid / tot_hog (an average: sizes may be fractional; person-weighted totals of "
                   "the dwelling are right)")
        else:
            msg = "each gets all the dwelling's residents tot_resid (persons over-counted in those dwellings)"
        report = report.add("size_policy", f"household size = tot_resid for households alone in their dwelling "
                                           f"({100 * share:.1f} % of dwellings); {nm} households share a dwelling "
                                           f"(multi_household={multi_household!r}): {msg}", "size", nm,
                            hh.loc[multi, "folioviv"].drop_duplicates().head(3).tolist())
    else:
        report = report.add("size_policy", "household size = tot_resid (every dwelling has one household)", "size",
                            len(hh))
    hh["size"] = size
    hh["tot_resid"], hh["tot_hog"] = res, nh
    # --- income items ------------------------------------------------------------------------
    amt = _numeric(ing, "ing_tri", "ingresos")
    miss = np.isnan(amt)
    if miss.any():
        raise InputError(f"ENIGH ingresos: ing_tri missing in {_rows(ing, miss)}; every income item has a quarterly "
                         "amount")
    neg = amt < 0
    if neg.any():
        if negative_amounts == "error":
            raise InputError(f"ENIGH ingresos: negative ing_tri in {_rows(ing, neg)} (values {amt[neg][:3].tolist()}); "
                             "income items are amounts received: fix them, or pass negative_amounts='keep'")
        report = report.add("negative", f"{int(neg.sum())} negative ing_tri kept (negative_amounts='keep')", "ing_tri",
                            int(neg.sum()))
    dcols = [c for c in _ING_COLS if c in ing.columns]
    extra = ing.duplicated(dcols, keep="first").to_numpy()
    if extra.any():
        n = int(extra.sum())
        share = n / len(ing)
        pol = duplicates if duplicates != "auto" else ("keep" if share <= duplicate_share else "error")
        ex = ing.loc[extra, ["folioviv", "foliohog", "clave"]].head(3).astype(str).agg("/".join, axis=1).tolist()
        if pol == "error":
            raise InputError(f"ENIGH ingresos: {n} rows ({100 * share:.2f} %) are exact copies of another row (ids, "
                             f"person, item and every amount), e.g. {ex}"
                             + (f"; more than duplicate_share={duplicate_share:g} looks like a table appended twice"
                                if duplicates == "auto" else "")
                             + ": remove them, or pass duplicates='drop' (keep one of each) or 'keep'")
        if pol == "drop":
            ing, amt = ing.loc[~extra].reset_index(drop=True), amt[~extra]
            report = report.add("dropped", f"{n} ingresos rows identical to another row dropped (duplicates='drop')",
                                "ing_tri", n, ex)
        else:
            report = report.add("duplicates_kept", f"{n} ingresos rows ({100 * share:.2f} %) identical to another row "
                                                   "kept: one description can stand for INEGI's distinct codes of the "
                                                   "main and the secondary job (e.g. two equal Christmas bonuses)",
                                "ing_tri", n, ex)
    key = pd.MultiIndex.from_frame(hh[_IDS])
    pos = key.get_indexer(pd.MultiIndex.from_frame(ing[_IDS]))
    orphan = pos < 0
    if orphan.any():
        raise InputError(f"ENIGH ingresos: income rows whose household is not in hogares: {_rows(ing, orphan)}; the "
                         "tables must be of the same survey year (mixed years?) and complete")
    # classify: codes, then descriptions
    cat = _catalogue()
    clave = ing["clave"].astype("category")
    levels = pd.Series(clave.cat.categories)
    normed = _norm(levels)
    by_key = pd.Series(np.arange(len(cat)), index=cat["key"])
    idx = by_key.reindex(normed.to_numpy()).to_numpy()
    idc = _code_rows(cat, year).reindex(normed.to_numpy()).to_numpy(dtype=float)
    idx = np.where(np.isnan(idx), idc, idx)
    lvl_n = np.bincount(clave.cat.codes.to_numpy(), minlength=len(levels))
    unknown = np.isnan(idx)
    if unknown.any():
        wsum = np.bincount(clave.cat.codes.to_numpy(), weights=amt * hh["factor"].to_numpy()[pos], minlength=len(levels))
        lines = [f"{levels[i]!r} ({lvl_n[i]} rows, {wsum[i]:,.0f} pesos/quarter expanded)" for i in np.flatnonzero(unknown)]
        if unknown_items == "error":
            raise InputError(f"ENIGH ingresos: {int(unknown.sum())} item description(s) not in remitpov's ENIGH "
                             f"catalogue: {'; '.join(lines[:10])}; pass unknown_items='report' to keep them in "
                             "'unclassified' (outside current income)")
        report = report.add("unmatched", f"{int(unknown.sum())} income-item description(s) not in the catalogue, "
                                         f"summed in 'unclassified' (not in ing_mon): {'; '.join(lines)}", "clave",
                            int(lvl_n[unknown].sum()), levels[unknown].head(3).tolist())
    if year is not None:
        yrs = cat["years"].to_numpy()
        other = [i for i in np.flatnonzero(~unknown)
                 if yrs[int(idx[i])] != "all" and str(year) not in yrs[int(idx[i])].split(";")]
        if other:
            report = report.add("note", f"{len(other)} item description(s) carry another year's wording and were "
                                        "matched by it: " + "; ".join(f"{levels[i]!r} (catalogue years "
                                                                     f"{yrs[int(idx[i])]})" for i in other),
                                "clave", int(lvl_n[other].sum()))
    # output column of each level
    target = np.where(cat["source"] == "transfers", cat["subsource"], cat["source"]).astype(object)
    target = np.where(cat["source"] == "other", "other_current", target)
    target = np.where(cat["current"], target, "capital")
    lvl_target = np.where(unknown, "unclassified", target[np.nan_to_num(idx, nan=0).astype(int)])
    outcols = ("labour", "business", "property", *TRANSFER_SOURCES, "other_current", "capital", "unclassified")
    col_code = pd.Categorical(lvl_target, categories=outcols).codes
    if (col_code < 0).any():  # pragma: no cover - the catalogue's groups are checked by a test
        raise InputError(f"ENIGH catalogue groups {sorted(set(lvl_target[col_code < 0]))} have no output column")
    row_col = col_code[clave.cat.codes.to_numpy()]
    nhh = len(hh)
    mat = np.bincount(pos * len(outcols) + row_col, weights=amt, minlength=nhh * len(outcols)).reshape(nhh, len(outcols))
    for j, c in enumerate(outcols):
        hh[c] = mat[:, j]
    hh["transfers"] = hh[list(TRANSFER_SOURCES)].sum(axis=1)
    hh["ing_mon"] = hh[["labour", "business", "property", "transfers", "other_current"]].sum(axis=1)
    hh["n_items"] = np.bincount(pos, minlength=nhh)
    hh["households"] = 1.0  # its expanded total is the number of households
    none = hh["n_items"].to_numpy() == 0
    report = report.add("aggregated", f"{len(ing)} income rows -> {nhh} households ({int(none.sum())} with no income "
                                      f"item: zero income); {int((lvl_n[~unknown]).sum())} rows matched the catalogue "
                                      f"({len(levels) - int(unknown.sum())} descriptions); ing_tri summed by source "
                                      "(pesos per household per quarter); current monetary income ing_mon excludes "
                                      "'capital' (loans, sales, savings withdrawals ...) and in-kind income",
                        "ing_mon", nhh)
    keep = ["folioviv", "foliohog", "state", "area", "tam_loc", "ubica_geo", "est_dis", "upm", "factor", "tot_resid",
            "tot_hog", "size", "ing_mon", "labour", "business", "property", "transfers", *TRANSFER_SOURCES,
            "other_current", "capital", "unclassified", "n_items", "households"]
    data = hh[[c for c in keep if c in hh.columns]]
    meta = SurveyMetadata(name=f"ENIGH {year} (relational tables)" if year else "ENIGH (relational tables)",
                          country="MEX", year=year, currency="MXN", income_period="quarter",
                          weight_unit="household", files=tuple(sources), loader="read_enigh_tables",
                          notes=("income: current MONETARY income from the ingresos items (no in-kind income, no "
                                 "imputed rent), pesos per household per quarter",))
    return Survey(data, weight="factor", strata="est_dis", psu="upm", size="size", ids=tuple(_IDS),
                  roles={"income": "ing_mon", "remittances": "remittances", "area": "area", "region": "state"},
                  sources=dict(ENIGH_TABLE_SOURCES), metadata=meta, report=report,
                  fractional_size=multi_household == "split")

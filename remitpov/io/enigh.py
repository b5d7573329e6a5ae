"""Loader for Mexico's ENIGH household summary file (``concentradohogar``).

What :func:`read_enigh` does, in order, each step written to the load report:

1. reads CSV, DBF, DTA or SAV (by extension);
2. normalises column names: case-insensitive, and the 2010-era / alternative names to
   the 2008+ names used here (:data:`ENIGH_ALIASES`, e.g. ``ingcor -> ing_cor``,
   ``remesa -> remesas``, ``factor_hog -> factor``);
3. identifiers ``folioviv``/``foliohog`` as text (numeric ids such as ``123028.0`` become
   ``"123028"``);
4. collapses rows split at decile cuts: INEGI's tabulation files sometimes hold one
   household in two rows with ``factor`` divided between them. Rows with the same
   (``folioviv``, ``foliohog``) are merged, summing ``factor``; every other column must be
   identical, except the decile helper columns (:data:`DECILE_HELPERS`: ``DECIL``,
   ``ACUMULA``, ``ACUMULA2``, ``MAXT``, ``tam_dec``, ``Nhog``), whose first value is kept.
   A duplicate whose other columns differ is a genuine duplicate -> :class:`InputError`;
5. undoes a state price deflator: when a ``Deflactore`` column is present, money
   columns were divided by a state price index, so original pesos = value x
   ``Deflactore`` / 100 (:data:`MONEY_COLUMNS` present in the file);
6. urban/rural ``area`` from ``tam_loc`` (4 = rural: localities below 2,500
   inhabitants; 1-3 = urban); when ``tam_loc`` is absent (e.g. the 2018 Aguascalientes
   extract) there is no ``area`` and the report says so;
7. checks income / remittances (missing, negative, remittances > income: policies).

Design: strata ``est_dis`` x PSUs ``upm``, weight ``factor`` (households), size
``tot_integ``. ENIGH income is current income per household per quarter.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..core.validate import check_positive
from ..exceptions import InputError, describe_rows
from ..survey import Survey, SurveyMetadata
from .generic import (check_duplicate_rows, check_income, file_format, ids_of, numeric_column, read_table,
                      require_columns)

__all__ = ["read_enigh", "ENIGH_ALIASES", "ENIGH_SOURCES", "MONEY_COLUMNS", "DECILE_HELPERS"]

#: canonical (2008+) name -> alternative names found in other years / releases.
ENIGH_ALIASES = {
    "folioviv": ("folio",), "foliohog": (), "tot_integ": ("tam_hog", "totinteg"),
    "ing_cor": ("ingcor", "ing_corr"), "ingtrab": ("ing_trab",), "trabajo": (), "negocio": (),
    "otros_trab": ("otrostrab",), "rentas": ("renta",), "utilidad": (), "arrenda": (),
    "transfer": ("transferencias", "transfe"), "jubilacion": ("jubilacio", "jubila"), "becas": ("beca",),
    "donativos": ("donativo",), "remesas": ("remesa",), "bene_gob": ("benegob", "bene_gobie"),
    "transf_hog": ("transfhog",), "trans_inst": ("transinst",), "estim_alqu": ("estim_alq", "estimalqu"),
    "otros_ing": ("otrosing", "otros_ingr"), "factor": ("factor_hog", "factorhog"), "upm": (),
    "est_dis": ("estrato_dis",), "tam_loc": ("tamloc",), "deflactore": ("deflactor",),
}

#: Income sources (name -> canonical column), the ENIGH ``ing_cor`` components.
ENIGH_SOURCES = {
    "labour": "ingtrab", "rents": "rentas", "pensions": "jubilacion", "scholarships": "becas",
    "donations": "donativos", "remittances": "remesas", "public_transfers": "bene_gob",
    "domestic_transfers": "transf_hog", "institutional_transfers": "trans_inst", "imputed_rent": "estim_alqu",
    "other": "otros_ing",
}

#: Money columns converted back to original pesos when a deflator column is present.
MONEY_COLUMNS = ("ing_cor", "ingtrab", "trabajo", "negocio", "otros_trab", "rentas", "utilidad", "arrenda",
                 "transfer", "jubilacion", "becas", "donativos", "remesas", "bene_gob", "transf_hog", "trans_inst",
                 "estim_alqu", "otros_ing", "maxt")

#: Columns INEGI adds to build deciles; they legitimately differ between split rows.
DECILE_HELPERS = ("decil", "acumula", "acumula2", "maxt", "tam_dec", "nhog")

_IDS = ["folioviv", "foliohog"]


def _normalise_names(df: pd.DataFrame, report):
    lower = {}
    for c in df.columns:
        lower.setdefault(str(c).lower(), c)
    rename = {}
    notes = []
    for canon, alts in ENIGH_ALIASES.items():
        for cand in (canon,) + tuple(alts):
            if cand in lower:
                orig = lower[cand]
                if orig != canon:
                    rename[orig] = canon
                    notes.append(f"{orig}->{canon}")
                break
    # other columns: lower-case too, unless it would clash
    taken = set(rename.values()) | {c for c in df.columns if c not in rename}
    lowered = []
    for c in df.columns:
        lc = str(c).lower()
        if c not in rename and lc != c and lc not in taken and lc not in rename.values():
            rename[c] = lc
            taken.add(lc)
            lowered.append(c)
    out = df.rename(columns=rename)
    if notes:
        report = report.add("renamed", "ENIGH names normalised to the 2008+ set: " + ", ".join(notes), None, len(out))
    if lowered:
        report = report.add("renamed", f"other column names lower-cased: {lowered}", None, len(out))
    return out, report


def _id_text(s: pd.Series) -> tuple[pd.Series, bool]:
    if pd.api.types.is_numeric_dtype(s):
        v = s.to_numpy(dtype=float)
        if np.all(np.isfinite(v)) and np.all(v == np.round(v)):
            return pd.Series(v.astype(np.int64).astype(str), index=s.index), True
        return s.astype(str), True
    return s.astype(str).str.strip(), False


def _collapse(df: pd.DataFrame, report, weight: str):
    dup = df.duplicated(_IDS, keep=False).to_numpy()
    if not dup.any():
        return df, report
    helpers = [c for c in df.columns if c in DECILE_HELPERS]
    check = [c for c in df.columns if c not in _IDS + [weight] + helpers]
    sub = df.loc[dup]
    nun = sub.groupby(_IDS, sort=False)[check].nunique(dropna=False)
    differ = nun > 1
    if differ.to_numpy().any():
        bad_keys = differ.index[differ.any(axis=1)]
        bad_cols = [c for c in check if differ[c].any()]
        key = pd.MultiIndex.from_frame(df[_IDS])
        mask = key.isin(bad_keys)
        raise InputError(f"duplicated household ids (folioviv, foliohog) whose columns {bad_cols[:8]} differ: "
                         f"{describe_rows(mask, ids_of(df, _IDS))}; these are genuine duplicates, not decile "
                         "splits (which differ only in factor and the decile helper columns) -- remove them")
    if "decil" in df.columns:
        # a decile split puts the household's copies in different deciles
        g = sub.groupby(_IDS, sort=False)["decil"]
        same = (g.transform("nunique") < g.transform("size")).to_numpy()
        if same.any():
            mask = np.zeros(len(df), dtype=bool)
            mask[np.flatnonzero(dup)[same]] = True
            raise InputError(f"duplicated household ids (folioviv, foliohog) in the same decile: "
                             f"{describe_rows(mask, ids_of(df, _IDS))}; a decile split puts the copies of a "
                             "household in different deciles (decil), so these are genuine duplicates -- remove "
                             "them")
    n_before = len(df)
    agg = {c: "first" for c in df.columns if c not in _IDS}
    agg[weight] = "sum"
    out = df.groupby(_IDS, sort=False, as_index=False).agg(agg)[list(df.columns)]
    n_dup_hh = int(sub.groupby(_IDS, sort=False).ngroups)
    ex = ids_of(sub.drop_duplicates(_IDS), _IDS)[:3]
    report = report.add("collapsed", f"{n_before} rows -> {len(out)} households: {int(dup.sum())} rows of "
                                     f"{n_dup_hh} households split at decile cuts merged on (folioviv, foliohog), "
                                     f"'{weight}' summed (total unchanged: {df[weight].sum():,.6g})",
                        weight, int(dup.sum()), ex)
    hdiff = [c for c in helpers if (sub.groupby(_IDS, sort=False)[c].nunique(dropna=False) > 1).any()]
    if hdiff:
        report = report.add("collapsed", f"decile helper columns {hdiff} differ between the split rows; the first "
                                         "row's value is kept (they describe the tabulation, not the household)",
                            None, n_dup_hh, ex)
    return out, report


def read_enigh(path, *, collapse_splits: bool = True, undo_deflator: bool = True, year: int | None = None,
               negative_income: str = "error", missing_income: str = "error", remittances_exceed: str = "error",
               require_design: bool = True, coerce_text: bool = False, duplicates: str = "error") -> Survey:
    """Read an ENIGH ``concentradohogar`` file (CSV, DBF, DTA or SAV).

    Parameters
    ----------
    path : str or Path
        The file; format by extension.
    collapse_splits : bool
        Merge rows split at decile cuts (see module docstring). With ``False`` the split
        rows are kept (estimates are unchanged because ``factor`` is divided between
        them) and the report says so.
    undo_deflator : bool
        When a ``Deflactore`` column exists, convert money columns back to original
        pesos (value x Deflactore / 100). With ``False`` values stay deflated (reported).
    year : int, optional
        Survey year for the metadata (and for poverty lines).
    negative_income, missing_income, remittances_exceed : str
        Policies of :func:`~remitpov.io.generic.check_income` (default: raise).
    require_design : bool
        Raise if ``est_dis`` or ``upm`` is absent (default). With ``False`` the survey has
        no strata/PSU (SRS-like variance) and the report says so.
    coerce_text : bool
        Text that is not a number in income, remittance or source columns: raise
        (default, listing values and rows) or treat as missing (reported).
    duplicates : {"error", "drop", "keep"}
        Rows that are exact copies of another row (every column equal, ``factor``
        included): raise (default), drop the extra copies (reported), or keep them. Only
        rows of one household that differ in the decile split are merged (step 4).

    Returns
    -------
    Survey
        Household rows; weight ``factor``, strata ``est_dis``, PSU ``upm``, size
        ``tot_integ``, ids ``folioviv``/``foliohog``; roles ``income="ing_cor"``
        (pesos per household per quarter), ``remittances="remesas"``, ``area`` (when
        ``tam_loc`` exists); sources :data:`ENIGH_SOURCES` present in the file.

    Raises
    ------
    InputError
        Unknown format, missing columns (named), genuine duplicates, bad weights, sizes,
        design values, deflators, incomes (see the policies).
    """
    kwargs = {}
    if file_format(path) in ("csv", "tsv"):
        # codes keep their leading zeros (folioviv "0100062803", upm "0000236", est_dis "007")
        codes = ("folioviv", "foliohog", "upm", "est_dis", "ubica_geo", "entidad", "folio")
        kwargs["dtype"] = {v: str for c in codes for v in (c, c.upper())}
    df, src, report = read_table(path, **kwargs)
    df, report = _normalise_names(df, report)
    need = {c: c for c in ("folioviv", "foliohog", "tot_integ", "ing_cor", "remesas", "factor")}
    require_columns(df, need, "ENIGH concentradohogar")
    design_cols = [c for c in ("est_dis", "upm") if c not in df.columns]
    if design_cols and require_design:
        raise InputError(f"ENIGH design column(s) {design_cols} not found (strata est_dis, PSU upm); pass "
                         "require_design=False to load without the design (standard errors would ignore it)")
    converted = []
    for c in _IDS + [c for c in ("est_dis", "upm") if c in df.columns]:
        miss = df[c].isna().to_numpy()
        if miss.any():
            raise InputError(f"ENIGH column {c!r} is missing in {describe_rows(miss, ids_of(df, _IDS) if c not in _IDS else None)}")
        df[c], conv = _id_text(df[c])
        if conv:
            converted.append(c)
    if converted:
        report = report.add("converted", f"numeric codes {converted} converted to text", None, len(df))
    # weights must be valid before summing them
    check_positive(numeric_column(df, "factor", "weight", ids_of(df, _IDS))[0], "weight column 'factor'",
                   ids_of(df, _IDS), "weights must be > 0")
    df, report = check_duplicate_rows(df, report, ids=_IDS, weight="factor", duplicates=duplicates)
    if collapse_splits:
        df, report = _collapse(df, report, "factor")
    else:
        dup = df.duplicated(_IDS, keep=False).to_numpy()
        if dup.any():
            report = report.add("duplicates_kept", "rows with the same (folioviv, foliohog) kept as they are "
                                                   "(collapse_splits=False); factor is split between them",
                                "factor", int(dup.sum()), ids_of(df.loc[dup], _IDS)[:3])
    # deflator
    if "deflactore" in df.columns:
        d = pd.to_numeric(df["deflactore"], errors="coerce").to_numpy(dtype=float)
        if undo_deflator:
            bad = ~np.isfinite(d) | (d <= 0)
            if bad.any():
                raise InputError(f"deflator column 'Deflactore' is missing or not positive in "
                                 f"{describe_rows(bad, ids_of(df, _IDS))}; fix those values, or pass "
                                 "undo_deflator=False to keep the deflated amounts")
            cols = [c for c in MONEY_COLUMNS if c in df.columns]
            df = df.copy()
            idv = ids_of(df, _IDS)
            for c in cols:  # non-numeric text raises (naming the rows) instead of becoming NaN
                df[c] = numeric_column(df, c, "ENIGH money", idv)[0].to_numpy() * d / 100.0
            report = report.add("deflator_undone", f"money columns {cols} x Deflactore / 100 -> original pesos "
                                                   f"(Deflactore from {np.min(d):.4g} to {np.max(d):.4g})",
                                "deflactore", len(df))
        else:
            report = report.add("deflator_kept", "Deflactore present but undo_deflator=False: money columns stay "
                                                 "divided by the state price index", "deflactore", len(df))
    # area
    roles = {"income": "ing_cor", "remittances": "remesas"}
    if "tam_loc" in df.columns:
        t = pd.to_numeric(df["tam_loc"], errors="coerce")
        bad = ~t.isin([1, 2, 3, 4]).to_numpy()
        if bad.any():
            raise InputError(f"tam_loc must be 1-4; other or missing values {sorted(map(str, df.loc[bad, 'tam_loc'].unique()))[:5]} "
                             f"in {describe_rows(bad, ids_of(df, _IDS))}; recode them (1-3 urban, 4 rural) or drop "
                             "the tam_loc column to load without an area")
        df = df.copy()
        df["area"] = np.where(t.to_numpy() == 4, "rural", "urban")
        roles["area"] = "area"
        report = report.add("converted", f"area from tam_loc (4 = rural, < 2,500 inhabitants): "
                                         f"{int((t == 4).sum())} rural, {int((t != 4).sum())} urban households",
                            "area", len(df))
    else:
        report = report.add("missing", "no tam_loc column: urban/rural area not available (area-specific poverty "
                                       "lines need an area column)", "tam_loc", len(df))
    sources = {k: v for k, v in ENIGH_SOURCES.items() if v in df.columns}
    absent = sorted(set(ENIGH_SOURCES.values()) - set(sources.values()))
    if absent:
        report = report.add("missing", f"income source columns not in the file: {absent}", None, 0)
    df, report = check_income(df, report, income="ing_cor", remittances="remesas", sources=sources, ids=_IDS,
                              negative_income=negative_income, missing_income=missing_income,
                              remittances_exceed=remittances_exceed, coerce_text=coerce_text)
    nest = False
    if "est_dis" in df.columns and "upm" in df.columns:
        per = df.groupby("upm")["est_dis"].nunique()
        if (per > 1).any():
            nest = True
            report = report.add("design", f"{int((per > 1).sum())} upm codes occur in more than one est_dis; PSUs "
                                          "nested in strata (nest=True)", "upm", int((per > 1).sum()),
                                per.index[per > 1][:3])
    elif not require_design:
        report = report.add("design", f"design columns {design_cols} absent: no strata/PSUs (require_design=False)")
    rec = pd.to_numeric(df["remesas"]).to_numpy(dtype=float) > 0
    report = report.add("found", f"{int(rec.sum())} of {len(df)} households receive remittances (remesas > 0)",
                        "remesas", int(rec.sum()))
    meta = SurveyMetadata(name=f"ENIGH {year}" if year else "ENIGH", country="MEX", year=year, currency="MXN",
                          income_period="quarter", weight_unit="household", files=(src,), loader="read_enigh",
                          welfare="income", welfare_scale="none",  # ing_cor: per household (build_income divides)
                          notes=("ing_cor: current income, pesos per household per quarter",))
    return Survey(df, weight="factor", strata="est_dis" if "est_dis" in df.columns else None,
                  psu="upm" if "upm" in df.columns else None, unit="household", size="tot_integ",
                  ids=tuple(_IDS), roles=roles, sources=sources, metadata=meta, report=report, nest=nest)

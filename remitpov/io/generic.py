"""Reading survey files of any format, and :func:`read_survey` for a new country's survey.

The data file is read by :func:`~remitpov.io.files.read_table` (any supported format,
verified complete: :mod:`remitpov.io.files`); the validation helpers every loader shares
(:func:`~remitpov.io.checks.require_columns`, :func:`~remitpov.io.checks.check_income`,
:func:`~remitpov.io.checks.check_duplicate_rows`, ...) are in :mod:`remitpov.io.checks`, so
that bad input gets the same message everywhere. This module maps roles to columns
(:data:`ROLE_KEYS`) and builds the :class:`~remitpov.survey.Survey`; it re-exports the
reader and the helpers under their old import path.
"""
from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..exceptions import InputError, SpecError, describe_rows
from ..survey import LoadReport, SourceFile, Survey, SurveyMetadata
from .checks import (DUPLICATE_POLICIES, INCOME_POLICIES, check_duplicate_rows, check_income, ids_of, numeric_column,
                     report_duplicates, require_columns)
from .files import file_format, read_table

__all__ = ["read_table", "read_survey", "read_table_survey", "require_columns", "check_income", "check_duplicate_rows",
           "numeric_column", "ROLE_KEYS", "INCOME_POLICIES", "DUPLICATE_POLICIES", "ids_of"]

#: Keys accepted in a :func:`read_survey` spec.
ROLE_KEYS = ("weight", "strata", "psu", "fpc", "ssu", "fpc2", "unit", "size", "ids", "income", "remittances",
             "area", "sources", "metadata", "roles", "nest", "lonely_psu", "area_codes", "fractional_size")


def _load_spec(spec) -> dict:
    if isinstance(spec, (str, Path)):
        p = Path(spec)
        if not p.exists():
            raise SpecError(f"spec file not found: {str(p)!r}")
        try:
            with open(p, "rb") as fh:
                spec = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"spec file {str(p)!r} is not valid TOML: {exc}") from None
        spec["_spec_path"] = str(p)
    if not isinstance(spec, Mapping):
        raise SpecError(f"spec must be a mapping of roles to columns or a TOML file path, got {type(spec).__name__}")
    return dict(spec)


def read_survey(source, spec, *, negative_income: str = "error", missing_income: str = "error",
                remittances_exceed: str = "error", coerce_text: bool = False, duplicates: str = "error",
                columns=None, **read_kwargs) -> Survey:
    """Build a :class:`~remitpov.survey.Survey` from any table plus a role mapping.

    This is how a user brings a new country's survey.

    Parameters
    ----------
    source : DataFrame or str or Path
        The data, or a CSV / Parquet / DTA / SAV / DBF file (format by extension).
        A DataFrame is copied, never modified.
    spec : mapping or str or Path
        Roles -> columns, as a dict or a TOML file. Keys (see :data:`ROLE_KEYS`):

        * ``weight`` (required): expansion factor of a row;
        * ``strata``, ``psu``, ``fpc``, ``ssu``, ``fpc2``: design columns;
          ``nest`` (bool): PSU codes repeat across strata; ``lonely_psu``: policy;
        * ``unit``: ``"household"`` (default) or ``"person"``; ``size``: household size column
          (whole numbers unless ``fractional_size = true``, which the load report records);
        * ``ids``: identifier column or list of columns (must be unique);
        * ``income``, ``remittances``, ``area``: columns;
          ``area_codes``: mapping of raw area codes to labels (e.g. ``{1 = "urban", 2 = "rural"}``);
        * ``sources``: table ``name -> column`` of income sources;
        * ``roles``: table of further named columns (names from :class:`remitpov.survey.Role`);
        * ``metadata``: table with ``name``, ``country``, ``year``, ``currency``,
          ``income_period`` (``"month"``, ``"quarter"`` or ``"year"``), ``notes``.

        TOML example (``fixtures/spec_example.toml``)::

            weight = "factor"
            strata = "est_dis"
            psu = "upm"
            size = "tot_integ"
            ids = ["folioviv", "foliohog"]
            income = "ing_cor"
            remittances = "remesas"
            [sources]
            labour = "ingtrab"
            [metadata]
            country = "MEX"
            year = 2018
            currency = "MXN"
            income_period = "quarter"

        ``data = "file.csv"`` in a TOML spec names the data file (relative to the spec)
        when ``source`` is None.
    negative_income, missing_income, remittances_exceed : str
        Policies of :func:`check_income` (default: raise).
    coerce_text : bool
        Text in the income, remittance and source columns: raise (default) or treat as
        missing with a load-report entry (see :func:`check_income`).
    duplicates : {"error", "drop", "keep"}
        Rows that are exact copies of another row (see :func:`check_duplicate_rows`).
    columns : sequence of str, optional
        Keep only these columns (each must exist; exact duplicate rows are judged on all
        columns as read, before this selection).
    **read_kwargs
        Passed to :func:`read_table`.

    Returns
    -------
    Survey
        ``metadata.loader = "read_survey"``; every change is in ``survey.report``.

    Raises
    ------
    InputError
        Unknown role keys or columns, bad weights/design/sizes, duplicated ids,
        missing or negative incomes (unless a policy is given), unknown file format.
    """
    spec = _load_spec(spec)
    spec_path = spec.pop("_spec_path", None)
    data_entry = spec.pop("data", None)
    unknown = [k for k in spec if k not in ROLE_KEYS]
    if unknown:
        raise InputError(f"unknown key(s) in the survey spec: {unknown}; allowed keys: {list(ROLE_KEYS)}")
    if "weight" not in spec:
        raise InputError("the survey spec needs a 'weight' key naming the expansion-factor column")
    report = LoadReport()
    files: tuple[SourceFile, ...] = ()
    if source is None and data_entry is not None:
        source = Path(data_entry)
        if spec_path is not None and not source.is_absolute():
            source = Path(spec_path).parent / source
    if isinstance(source, pd.DataFrame):
        if len(source) == 0:
            raise InputError(f"the DataFrame has no rows: expected at least one row, found 0 rows and "
                             f"{source.shape[1]} column(s)")
        df = source.copy()
        report = report.add("read", f"{len(df)} rows x {df.shape[1]} columns from a DataFrame (copied)", rows=len(df))
    elif isinstance(source, (str, Path)):
        df, src, report = read_table(source, report=report, **read_kwargs)
        files = (src,)
    else:
        raise InputError(f"source must be a DataFrame or a file path, got {type(source).__name__}")
    if spec_path is not None:
        files = files + (SourceFile.from_path(spec_path),)

    ids = spec.get("ids") or ()
    ids = [ids] if isinstance(ids, str) else list(ids)
    sources = dict(spec.get("sources") or {})
    roles = dict(spec.get("roles") or {})
    for r in ("income", "remittances", "area"):
        if spec.get(r) is not None:
            roles[r] = spec[r]
    cols = {"weight": spec["weight"]}
    for k in ("strata", "psu", "fpc", "ssu", "fpc2", "size"):
        if spec.get(k) is not None:
            cols[k] = spec[k]
    cols.update({f"ids[{i}]": c for i, c in enumerate(ids)})
    cols.update(roles)
    cols.update({f"sources.{k}": v for k, v in sources.items()})
    bad_types = [k for k, v in cols.items() if not isinstance(v, str)]
    if bad_types:
        raise InputError(f"spec key(s) {bad_types} must name a column (a string)")
    require_columns(df, cols, "read_survey spec")
    # exact copies are judged on the rows as read (a subset of columns can repeat legitimately)
    df, report = check_duplicate_rows(df, report, ids=ids, weight=spec["weight"], duplicates=duplicates)
    if columns is not None:
        require_columns(df, {f"columns[{i}]": c for i, c in enumerate(columns)}, "read_survey columns")
        df = df[list(columns)]
    report = report_duplicates(df, ids, report)

    if spec.get("area_codes") is not None and "area" in roles:
        codes = {str(k): v for k, v in dict(spec["area_codes"]).items()}
        raw = df[roles["area"]]
        # map the distinct values, not the rows: integral numbers as "1" (1, 1.0 -> "1"), others str()
        inv, uniq = pd.factorize(raw, use_na_sentinel=False)
        keys = np.array([str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) and not pd.isna(v)
                         and float(v).is_integer() else str(v) for v in uniq], dtype=object)
        lab = pd.Series(keys[inv] if len(uniq) else np.array([], dtype=object), index=df.index).map(codes)
        bad = lab.isna().to_numpy()
        if bad.any():
            unknown = sorted(set(keys[inv[bad]]))
            raise InputError(f"area column {roles['area']!r} has codes {unknown[:10]} not in area_codes "
                             f"{sorted(codes)} in {describe_rows(bad, ids_of(df, ids))}; add them to area_codes "
                             "in the spec or recode the column")
        df["area"] = lab.to_numpy()
        report = report.add("converted", f"area codes of {roles['area']!r} recoded to labels {codes} in column "
                                         "'area'", "area", len(df))
        roles["area"] = "area"

    df, report = check_income(df, report, income=roles.get("income"), remittances=roles.get("remittances"),
                              sources=sources, ids=ids, negative_income=negative_income,
                              missing_income=missing_income, remittances_exceed=remittances_exceed,
                              coerce_text=coerce_text)
    meta_in = dict(spec.get("metadata") or {})
    unknown_meta = [k for k in meta_in if k not in ("name", "country", "year", "currency", "income_period",
                                                     "weight_unit", "notes")]
    if unknown_meta:
        raise InputError(f"unknown metadata key(s) {unknown_meta} in the survey spec")
    period = meta_in.get("income_period")
    if period is not None and period not in ("month", "quarter", "year"):
        raise InputError(f"metadata income_period must be 'month', 'quarter' or 'year', got {period!r}")
    unit = spec.get("unit", "household")
    meta = SurveyMetadata(
        name=str(meta_in.get("name", "survey")), country=meta_in.get("country"), year=meta_in.get("year"),
        currency=meta_in.get("currency"), income_period=period,
        weight_unit=meta_in.get("weight_unit", unit), files=files, loader="read_survey",
        notes=tuple(meta_in.get("notes", ())),
    )
    return Survey(df, weight=spec["weight"], strata=spec.get("strata"), psu=spec.get("psu"), fpc=spec.get("fpc"),
                  ssu=spec.get("ssu"), fpc2=spec.get("fpc2"), unit=unit, size=spec.get("size"), ids=tuple(ids),
                  roles=roles, sources=sources, metadata=meta, report=report, nest=bool(spec.get("nest", False)),
                  lonely_psu=spec.get("lonely_psu", "error"), fractional_size=bool(spec.get("fractional_size", False)))


def read_table_survey(path, *, weight: str, unit: str = "household", strata: str | None = None,
                      psu: str | None = None, fpc: str | None = None, size: str | None = None, ids=(),
                      roles: Mapping[str, str] | None = None, sources: Mapping[str, str] | None = None,
                      name: str | None = None, nest: bool = False, lonely_psu: str = "error",
                      income_period: str | None = None, columns=None, duplicates: str = "error",
                      coerce_text: bool = False) -> Survey:
    """Read a file into a Survey with its columns named as options, values unchanged (format ``"table"``).

    The generic format of chapter specs and ``reproduce`` targets, meant for documented
    reference computations (e.g. published-figure targets). It is :func:`read_survey`
    with the roles given as keyword options and the policies that change no value:
    negative or missing incomes and remittances above income are kept (each recorded in
    the load report). Everything :func:`read_table` and :func:`read_survey` verify still
    applies (complete files, text in numeric columns, exact duplicate rows, weights,
    design columns).

    Parameters
    ----------
    path : str or Path
        CSV (optionally compressed), Parquet, Stata, SPSS or dBase file.
    weight, unit, strata, psu, fpc, size, ids, roles, sources, nest, lonely_psu
        As in :class:`~remitpov.survey.Survey`.
    name : str, optional
        Survey name (default: the file name without extension).
    income_period : {"month", "quarter", "year"}, optional
        Period of the income columns (metadata).
    columns : sequence of str, optional
        Keep only these columns.
    duplicates, coerce_text
        As in :func:`read_survey`.

    Returns
    -------
    Survey
        ``metadata.loader = "table"``.
    """
    p = Path(path)
    spec = {"weight": weight, "unit": unit, "strata": strata, "psu": psu, "fpc": fpc, "size": size,
            "ids": list(ids), "roles": dict(roles or {}), "sources": dict(sources or {}), "nest": nest,
            "lonely_psu": lonely_psu, "metadata": {"name": name or p.stem, "income_period": income_period}}
    s = read_survey(p, {k: v for k, v in spec.items() if v is not None}, negative_income="keep",
                    missing_income="keep", remittances_exceed="keep", coerce_text=coerce_text,
                    duplicates=duplicates, columns=columns)
    return s.replace(metadata=replace(s.metadata, loader="table"))

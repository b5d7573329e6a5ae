"""Loader for Guatemala's ENCOVI 2000 consumption file (INE / World Bank LSMS).

``CONSUMO5.DTA`` has one row per household (7,276) with the welfare aggregate
``agreg3`` (consumption per capita per year, quetzales, geographically price-adjusted),
the official lines ``li_gener`` (general poverty, 4,318.56) and ``li_extre`` (extreme
poverty, 1,911.69) per person per year, household size ``thogar`` and the weights:

* ``factor``: expansion factor related to ``lista_p`` (persons with information);
* ``factor2``: expansion factor related to ``thogar`` -- the household weight used here;
* ``factor3 = factor2 x thogar``: the person weight of the official figures.

So ``Survey.weights("person") = factor2 x thogar = factor3`` (up to float32 storage,
< 0.001 persons in total) and the weighted population is 11,385,441 persons.
The published poverty rates (56.2 % general, 15.7 % extreme, persons) are
``agreg3 < line`` (strict) with these person weights.

Design: strata ``estrato`` x PSUs ``upm``. Four ``upm`` codes occur in two strata, so the
design is built with ``nest=True`` (a PSU is a (stratum, upm) pair) and this is reported.
There are no remittances in these files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import InputError, describe_rows
from ..survey import Survey, SurveyMetadata
from .generic import check_duplicate_rows, check_income, read_table, report_duplicates, require_columns

__all__ = ["read_encovi2000", "ENCOVI2000_LINES"]

#: Official ENCOVI 2000 lines, quetzales per person per year (shared README / file columns).
ENCOVI2000_LINES = {"indigence": 1911.69, "poverty": 4318.56}


def _find(folder: Path, name: str) -> Path | None:
    for p in folder.iterdir():
        if p.name.lower() == name.lower():
            return p
    return None


def read_encovi2000(path_or_dir, *, hogares: bool = True) -> Survey:
    """Read ENCOVI 2000 ``CONSUMO5.DTA`` (a file, or the folder holding it).

    Parameters
    ----------
    path_or_dir : str or Path
        ``CONSUMO5.DTA`` or its folder.
    hogares : bool
        When ``HOGARES.DTA`` sits next to it, check that its households, sizes and
        weights match (``hogar``, ``thogar``, ``factor2``, ``factor3``) and record its
        sha256. Nothing is merged (CONSUMO5 already has every needed column).

    Returns
    -------
    Survey
        Household rows; weight ``factor2`` (household), size ``thogar``; strata
        ``estrato``, PSU ``upm`` with ``nest=True``; id ``hogar``. Columns added:
        ``area`` (``"urban"``/``"rural"`` from codes 1/2; the code is kept in ``area_code``),
        ``poor`` / ``extreme_poor`` (``agreg3 < li_gener`` / ``< li_extre``).
        Roles: ``income="agreg3"`` (consumption per capita per year, already per person:
        use ``scale="none"`` with :func:`~remitpov.income.build_income`),
        ``poverty_line="li_gener"``, ``indigence_line="li_extre"``, ``area``.
    """
    p = Path(path_or_dir)
    if not p.exists():
        raise InputError(f"ENCOVI 2000 input not found: {str(p)!r}; expected CONSUMO5.DTA or the folder holding it")
    if p.is_dir():
        f = _find(p, "CONSUMO5.DTA")
        if f is None:
            raise InputError(f"no CONSUMO5.DTA in folder {str(p)!r}")
        p = f
    df, src, report = read_table(p)
    cols = {c: c for c in ("hogar", "agreg3", "li_gener", "li_extre", "factor2", "factor3", "thogar", "upm",
                           "estrato", "area")}
    require_columns(df, cols, "ENCOVI 2000 consumption file")
    df, report = check_duplicate_rows(df, report, ids=["hogar"], weight="factor2")
    report = report_duplicates(df, ["hogar"], report)
    idv = df["hogar"].to_numpy()
    files = (src,)
    if hogares:
        h = _find(p.parent, "HOGARES.DTA")
        if h is not None:
            hd, hsrc, report = read_table(h, report=report)
            require_columns(hd, {c: c for c in ("hogar", "thogar", "factor2", "factor3")}, "ENCOVI 2000 HOGARES")
            m = df[["hogar", "thogar", "factor2", "factor3"]].merge(hd[["hogar", "thogar", "factor2", "factor3"]],
                                                                     on="hogar", how="outer", indicator=True,
                                                                     suffixes=("", "_h"))
            unmatched = (m["_merge"] != "both").to_numpy()
            if unmatched.any():
                raise InputError(f"HOGARES.DTA and CONSUMO5.DTA households differ: {describe_rows(unmatched, m['hogar'].to_numpy())}")
            for c in ("thogar", "factor2", "factor3"):
                diff = ~np.isclose(m[c].to_numpy(dtype=float), m[c + "_h"].to_numpy(dtype=float))
                if diff.any():
                    raise InputError(f"column {c!r} differs between HOGARES.DTA and CONSUMO5.DTA in "
                                     f"{describe_rows(diff, m['hogar'].to_numpy())}")
            report = report.add("checked", "HOGARES.DTA has the same households, sizes and weights", None, len(hd))
            files = files + (hsrc,)
    out = df.copy()
    code = pd.to_numeric(out["area"], errors="coerce")
    bad = ~code.isin([1, 2]).to_numpy()
    if bad.any():
        raise InputError(f"ENCOVI column 'area' must be 1 (urban) or 2 (rural); other values in {describe_rows(bad, idv)}")
    out["area_code"] = code.to_numpy()
    out["area"] = np.where(code.to_numpy() == 1, "urban", "rural")
    report = report.add("converted", "area codes 1/2 recoded to 'urban'/'rural' (codes kept in 'area_code')",
                        "area", len(out))
    # design: PSU codes repeated across strata?
    per = out.groupby("upm")["estrato"].nunique()
    shared_psu = per.index[per > 1]
    if len(shared_psu):
        mask = out["upm"].isin(shared_psu).to_numpy()
        report = report.add("design", f"{len(shared_psu)} upm codes occur in more than one estrato; PSUs are "
                                      "nested in strata (nest=True)", "upm", int(mask.sum()), shared_psu[:3])
    # weights: person weight factor3 = factor2 * thogar
    f3 = out["factor2"].to_numpy(dtype=float) * out["thogar"].to_numpy(dtype=float)
    dmax = float(np.max(np.abs(f3 - out["factor3"].to_numpy(dtype=float))))
    report = report.add("checked", f"household weight factor2 x size thogar reproduces the person weight factor3 "
                                   f"(max abs difference {dmax:.3g}, float32 storage)", "factor3", len(out))
    if dmax > 0.5:
        raise InputError(f"factor2 x thogar differs from factor3 by up to {dmax:.3g}; unexpected ENCOVI weights")
    out, report = check_income(out, report, income="agreg3", ids=["hogar"])
    out["poor"] = out["agreg3"] < out["li_gener"]
    out["extreme_poor"] = out["agreg3"] < out["li_extre"]
    lines = ([float(v) for v in sorted(set(np.round(out["li_gener"].unique(), 2)))],
             [float(v) for v in sorted(set(np.round(out["li_extre"].unique(), 2)))])
    report = report.add("found", f"official lines per person per year: li_gener {lines[0]}, li_extre {lines[1]} "
                                 "(float32 in the file); poor = agreg3 < line (strict)", "li_gener", len(out))
    meta = SurveyMetadata(name="ENCOVI 2000", country="GTM", year=2000, currency="GTQ", income_period="year",
                          weight_unit="household", files=files, loader="read_encovi2000",
                          welfare="consumption", welfare_scale="per_capita",
                          notes=("agreg3: consumption per capita per year (quetzales), already per person",
                                 "person weight = factor2 x thogar = factor3",
                                 "no remittance variables in CONSUMO5/HOGARES"))
    roles = {"income": "agreg3", "welfare": "agreg3", "poverty_line": "li_gener", "indigence_line": "li_extre",
             "area": "area", "poor": "poor", "extreme_poor": "extreme_poor"}
    return Survey(out, weight="factor2", strata="estrato", psu="upm", unit="household", size="thogar",
                  ids=("hogar",), roles=roles, sources={}, metadata=meta, report=report, nest=True)

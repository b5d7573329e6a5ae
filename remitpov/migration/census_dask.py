"""Census tabulations on a Dask DataFrame or Parquet dataset (out of core, or a cluster).

:func:`dask_census` wraps a :class:`~remitpov.distributed.DaskSurvey` with the census roles;
:func:`remitpov.migration.census.immigrant_stock`, :func:`~remitpov.migration.census.sex_ratio`,
:func:`~remitpov.migration.census.tertiary_share` and
:func:`~remitpov.migration.census.age_structure`, the Docquier-Marfouk
:func:`~remitpov.migration.census.emigration_rate` and
:func:`~remitpov.migration.census.emigration_rates_by_education` accept it and compute the same estimators
through the distributed engine's per-PSU sufficient statistics (``remitpov.distributed``):
the same numbers as in memory (to rounding), whatever the number of partitions or workers,
and by default (``covmat=False``) the same within-domain covariance blocks (a sparse ``vcov``).

Domains are the combinations of the ``by`` columns, labelled ``a/b`` in one lazily built
string column; rows outside the population (natives, men for the women's denominator...)
have missing values and ``na_rm=True`` puts them outside every domain, as in memory.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from ..exceptions import InputError
from ..results import EstimateTable

__all__ = ["DaskCensus", "dask_census"]

_SEP = "\x1f"


@dataclass(frozen=True, eq=False)
class DaskCensus:
    """A census held in Dask: the :class:`~remitpov.distributed.DaskSurvey` and its roles."""

    survey: object
    roles: Mapping[str, str]

    def role(self, name: str) -> str:
        col = self.roles.get(name)
        if col is None:
            raise InputError(f"this census declares no {name!r} column; pass {name}=... to dask_census")
        return col


def dask_census(data, *, birth_country: str, census_country: str, weight: str, psu: str, strata: str | None = None,
                fpc: str | None = None, sex: str | None = None, age: str | None = None, education: str | None = None,
                lonely_psu: str = "adjust", npartitions: int = 8) -> DaskCensus:
    """Census person records in Dask (a dask or pandas DataFrame, or a Parquet path).

    Values must already be clean (ISO-3 codes, ``male``/``female``, the education levels of
    :data:`remitpov.migration.census.EDUCATION_LEVELS`): check a sample with
    :func:`~remitpov.migration.census.read_census` first. A missing country of birth is an
    error at estimation time (the distributed engine refuses missing domain labels).
    """
    from ..distributed import DaskSurvey

    ds = DaskSurvey(data, weight, strata=strata, psu=psu, fpc=fpc, lonely_psu=lonely_psu, npartitions=npartitions)
    roles = {k: v for k, v in {"birth_country": birth_country, "census_country": census_country, "sex": sex,
                               "age": age, "education": education}.items() if v is not None}
    cols = set(map(str, ds.data.columns))
    missing = sorted(v for v in roles.values() if v not in cols)
    if missing:
        raise InputError(f"census columns {missing} not found; available: {sorted(cols)[:40]}")
    return DaskCensus(ds, roles)


def _label(dc: DaskCensus, by: Sequence[str]):
    d = dc.survey.data
    cols = [dc.roles.get(b, b) for b in by]
    bad = [b for b, c in zip(by, cols) if c not in set(map(str, d.columns))]
    if bad:
        raise InputError(f"cannot tabulate by {bad}: no such role or column; roles: {sorted(dc.roles)}")
    lab = d[cols[0]].astype(str)
    for c in cols[1:]:
        lab = lab + _SEP + d[c].astype(str)
    return lab


def _immigrant(dc: DaskCensus):
    d = dc.survey.data
    return d[dc.role("birth_country")].astype(str) != d[dc.role("census_country")].astype(str)


def _finish(tab: EstimateTable, by: Sequence[str], variable: str | None, title: str,
            positive: bool = False) -> EstimateTable:
    keys = tab.keys.copy()
    col = next(c for c in keys.columns if c not in ("measure", "variable"))
    parts = keys[col].astype(str).str.split(_SEP, expand=True, regex=False)
    keys = keys.drop(columns=[col])
    for i, b in enumerate(by):
        keys[b] = parts[i].to_numpy()
    if variable is not None:
        keys["variable"] = variable
    ok = np.isfinite(tab.estimates)
    if positive:  # domains with no member of the population (e.g. natives) are left out, as in memory
        ok &= tab.estimates > 0
    keep = np.flatnonzero(ok)
    extra = tab.extra.iloc[keep].reset_index(drop=True) if tab.extra is not None else None
    V = tab.vcov[keep][:, keep] if sparse.issparse(tab.vcov) else np.asarray(tab.vcov)[np.ix_(keep, keep)]
    return replace(tab, keys=keys.iloc[keep].reset_index(drop=True), estimates=tab.estimates[keep],
                   vcov=V, extra=extra, title=title)


def immigrant_stock(dc: DaskCensus, by, include_natives: bool, ci_level: float, covmat=False) -> EstimateTable:
    from .. import distributed

    y = _immigrant(dc).astype(float) if not include_natives else None
    ds = dc.survey.assign(_dom=_label(dc, by), _y=(y.where(y > 0) if y is not None else 1.0))
    tab = distributed.total(ds, "_y", by="_dom", na_rm=True, ci_level=ci_level, covmat=covmat)
    return _finish(tab, by, "persons" if include_natives else "immigrants",
                   "Persons by country of birth" + ("" if include_natives else " (immigrants)"), positive=True)


def sex_ratio(dc: DaskCensus, by, ci_level: float, covmat=False) -> EstimateTable:
    from .. import distributed

    d = dc.survey.data
    imm = _immigrant(dc)
    sx = d[dc.role("sex")].astype(str)
    m = (100.0 * (sx == "male")).where(imm)
    f = (sx == "female").astype(float).where(imm)
    ds = dc.survey.assign(_dom=_label(dc, by), _m=m, _f=f)
    # a domain with immigrant men but no women in the sample has a zero denominator: its
    # ratio is +inf (its variance NaN, within that domain only); it leaves the table and is
    # named in the notes, as in memory (no floating-point warning)
    with np.errstate(divide="ignore", invalid="ignore"):
        tab = distributed.ratio(ds, "_m", "_f", by="_dom", na_rm=True, ci_level=ci_level, covmat=covmat)
    col = next(c for c in tab.keys.columns if c not in ("measure", "variable"))
    names = sorted(str(v).replace(_SEP, "/") for v in tab.keys[col].to_numpy()[np.isinf(tab.estimates)])
    if names:
        tab = replace(tab, notes=tab.notes + (no_women_note(names),))
    return _finish(tab, by, "men_per_100_women", "Sex ratio of immigrants (men per 100 women)")


def no_women_note(names: Sequence[str]) -> str:
    """The note naming the domains without women (the first ten, sorted)."""
    return f"no women in the sample, sex ratio not estimated for: {', '.join(sorted(names)[:10])}"


def tertiary_share(dc: DaskCensus, by, min_age: int, include_natives: bool, ci_level: float,
                   covmat=False) -> EstimateTable:
    from .. import distributed

    d = dc.survey.data
    keep = d[dc.role("age")] >= min_age
    if not include_natives:
        keep = keep & _immigrant(dc)
    y = (100.0 * (d[dc.role("education")].astype(str) == "tertiary")).where(keep)
    ds = dc.survey.assign(_dom=_label(dc, by), _t=y)
    tab = distributed.mean(ds, "_t", by="_dom", na_rm=True, ci_level=ci_level, covmat=covmat)
    return _finish(tab, by, "tertiary_pct", f"Tertiary education, persons aged {min_age}+ (%)")


def age_structure(dc: DaskCensus, by, groups: Sequence[int], ci_level: float, covmat=False) -> EstimateTable:
    from .. import distributed

    d = dc.survey.data
    imm = _immigrant(dc)
    age = d[dc.role("age")]
    edges = list(groups) + [np.inf]
    cols = {}
    for lo, hi in zip(edges[:-1], edges[1:]):
        name = f"age_{lo}_{'plus' if hi == np.inf else int(hi) - 1}"
        cols[name] = (100.0 * ((age >= lo) & (age < hi))).where(imm)
    ds = dc.survey.assign(_dom=_label(dc, by), **cols)
    tab = distributed.mean(ds, list(cols), by="_dom", na_rm=True, ci_level=ci_level, covmat=covmat)
    return _finish(tab, by, None, "Age structure of immigrants (%)")


def check_origins(origins: Sequence[str]) -> None:
    """Emigration rates need two or more census countries (emigrants are counted abroad)."""
    if len(origins) < 2:
        raise InputError(f"emigration rates need the censuses of two or more countries (emigrants are counted in the "
                         f"other countries' censuses); this census has {list(origins)}")


def emigration_rate(dc: DaskCensus, min_age: int, education: str | None, ci_level: float, covmat=False,
                    title: str = "Emigration rate") -> EstimateTable:
    """:func:`remitpov.migration.census.emigration_rate` on Dask: the ratio, by country of birth,
    of the persons counted abroad (x 100) to all persons born there, among those born in a
    census country, aged ``min_age``+ (with ``education``); one pass for the census
    countries, one for the ratio."""
    from .. import distributed

    d = dc.survey.data
    bc, cc = d[dc.role("birth_country")].astype(str), d[dc.role("census_country")].astype(str)
    age = d[dc.role("age")]
    origins = sorted(cc.dropna().unique().compute())
    check_origins(origins)
    keep = bc.isin(origins) & (age >= min_age)
    if education is not None:
        keep = keep & (d[dc.role("education")].astype(str) == education)
    num = (100.0 * (bc != cc)).where(keep)
    den = keep.astype(float).where(keep)
    # rows outside the population go to an origin's domain (their values are missing, outside
    # every domain under na_rm), as in memory: no empty domains with 0/0 coefficients
    ds = dc.survey.assign(_dom=_label(dc, ["birth_country"]).where(keep, origins[0]), _e=num, _p=den)
    tab = distributed.ratio(ds, "_e", "_p", by="_dom", na_rm=True, ci_level=ci_level, covmat=covmat)
    return _finish(tab, ["birth_country"], "emigration_rate_pct", title)


def emigrants_by_level(dc: DaskCensus, min_age: int, dm: Mapping[str, str], ci_level: float) -> pd.DataFrame:
    """Immigrants aged ``min_age``+ by country of birth and Docquier-Marfouk level (``dm``
    maps the census levels to low/medium/high): ``origin, education, emigrants, emigrants_se``
    as :func:`remitpov.migration.census.emigration_rates_by_education` uses them."""
    from .. import distributed

    d = dc.survey.data
    keep = _immigrant(dc) & (d[dc.role("age")] >= min_age)
    level = d[dc.role("education")].astype(str).map(dict(dm), meta=(None, object))
    lab = d[dc.role("birth_country")].astype(str) + _SEP + level.fillna("?")
    ds = dc.survey.assign(_dom=lab, _y=keep.astype(float).where(keep))
    tab = _finish(distributed.total(ds, "_y", by="_dom", na_rm=True, ci_level=ci_level, covmat=False),
                  ["origin", "education"], None, "Emigrants", positive=True)
    f = tab.keys[["origin", "education"]].assign(emigrants=tab.estimates, emigrants_se=tab.se)
    return f[f["education"].isin(["low", "medium", "high"])].reset_index(drop=True)

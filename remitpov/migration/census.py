"""Census microdata on international migration (IMILA-style person records).

ECLAC/CELADE's IMILA data bank tabulates the foreign-born population of the region's
censuses by country of birth, sex, age, schooling and year of arrival. Here a census is a
person-level :class:`~remitpov.survey.Survey` whose roles say which column is the country
of birth (``birth_country``, ISO-3), the country of the census (``census_country``),
``sex`` (``"male"``/``"female"``), ``age``, ``education`` (``none``/``primary``/
``secondary``/``tertiary``) and, for immigrants, ``year_arrival``. Several countries'
censuses can sit in one Survey: each census is then a set of strata (strata nested in
countries), so the samples are independent and a pooled estimate (e.g. every census's
emigrants from one origin) gets the right variance from the one variance engine.

Estimators (all design-based, returning :class:`~remitpov.results.EstimateTable`):
:func:`immigrant_stock` (totals by origin), :func:`sex_ratio`, :func:`age_structure`,
:func:`tertiary_share`, :func:`emigration_rate` (Docquier–Marfouk, from the censuses alone) and
:func:`emigration_rates_by_education` (Docquier–Marfouk, residents given). A
complete count (no sample) is a Survey with weight 1 and no design: SEs are then those
of a with-replacement sample of the census and should be read as zero.

:func:`synthetic_census` generates a seeded IMILA-like multi-country sample census for
examples, tests and benchmarks.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from .. import estimation
from ..exceptions import InputError, describe_rows
from ..results import EstimateTable
from ..survey import LoadReport, Survey
from . import census_dask
from .countries import to_iso3

__all__ = ["EDUCATION_LEVELS", "CENSUS_ROLES", "synthetic_census", "read_census", "immigrant_stock", "sex_ratio",
           "age_structure", "tertiary_share", "emigration_rate", "emigration_rates_by_education"]

#: Education levels (ISCED-like groups used by Docquier–Marfouk: primary = low, secondary
#: = medium, tertiary = high; ``none`` counts as low).
EDUCATION_LEVELS = ("none", "primary", "secondary", "tertiary")
#: Roles a census Survey may declare.
CENSUS_ROLES = ("birth_country", "census_country", "sex", "age", "education", "year_arrival")
_NATIVE = "native"

# (foreign-born share, {origin: share of the foreign-born}) for each census country; the
# mixes are rounded from the 2000-round censuses as published by CELADE (IMILA) and the US
# census, to make realistic test data -- not to report.
_MIX: dict[str, tuple[float, dict[str, float]]] = {
    "ARG": (0.042, {"PRY": .21, "BOL": .15, "CHL": .14, "URY": .08, "PER": .06, "BRA": .02, "ITA": .14,
                    "ESP": .12, "DEU": .02, "OTHER": .06}),
    "CHL": (0.012, {"ARG": .26, "PER": .21, "BOL": .06, "ECU": .05, "ESP": .05, "BRA": .03, "USA": .04,
                    "DEU": .03, "OTHER": .27}),
    "CRI": (0.078, {"NIC": .76, "COL": .03, "PAN": .03, "USA": .03, "SLV": .02, "CHN": .01, "OTHER": .12}),
    "MEX": (0.005, {"USA": .69, "GTM": .05, "ESP": .04, "CUB": .01, "ARG": .01, "COL": .01, "OTHER": .19}),
    "USA": (0.111, {"MEX": .30, "SLV": .03, "CUB": .03, "DOM": .02, "GTM": .02, "COL": .02, "JAM": .02,
                    "CHN": .05, "IND": .05, "PHL": .05, "VNM": .03, "KOR": .03, "CAN": .03, "DEU": .02,
                    "OTHER": .30}),
    "ESP": (0.053, {"ECU": .12, "COL": .08, "ARG": .05, "PER": .03, "BOL": .03, "MAR": .14, "ROU": .12,
                    "GBR": .07, "DEU": .05, "OTHER": .31}),
}
# share of women among immigrants, by origin (default 0.5), and tertiary share (age 25+)
_WOMEN = {"NIC": .50, "PER": .57, "PRY": .55, "BOL": .50, "DOM": .53, "COL": .54, "ECU": .51, "MEX": .45,
          "SLV": .50, "PHL": .58}
_TERTIARY = {"ARG": .25, "CHL": .22, "USA": .40, "IND": .65, "ESP": .25, "NIC": .05, "MEX": .06, "BOL": .10,
             "PRY": .05, "PER": .15, "COL": .20, "ECU": .12, "DEU": .35, "GBR": .35, "CHN": .40, "KOR": .45,
             "CAN": .40, "PHL": .45, "VNM": .20, "CUB": .20, "SLV": .06, "GTM": .05, "DOM": .10, "MAR": .06,
             "ROU": .10, "URY": .12, "BRA": .20, "ITA": .08, "JAM": .15, "PAN": .15, "OTHER": .25}
_NATIVE_TERTIARY = {"ARG": .14, "CHL": .12, "CRI": .10, "MEX": .10, "USA": .28, "ESP": .20}


def synthetic_census(countries: Sequence[str] = ("ARG", "CHL", "CRI", "MEX", "USA", "ESP"),
                     persons_per_country: int = 100_000, *, year: int = 2000, sample_fraction: float = 0.1,
                     regions: int = 5, psu_size: int = 50, seed: int = 2000) -> Survey:
    """A seeded IMILA-like multi-country sample census (person records).

    Each country's census is a stratified cluster sample: ``regions`` strata per country,
    enumeration areas (PSUs) of about ``psu_size`` persons, sampled at ``sample_fraction``
    (weights ``1/sample_fraction`` with a little non-response adjustment, ``fpc`` = the
    stratum's number of enumeration areas). Immigrants cluster in enumeration areas
    (PSU-level Beta shares), so design effects are realistic.

    Columns: ``census_country``, ``birth_country`` (ISO-3; ``"OTHER"`` for the rest of
    the world), ``immigrant`` (0/1), ``sex``, ``age``, ``years_schooling``, ``education``,
    ``year_arrival`` (NaN for natives), ``weight``, ``stratum``, ``psu`` (integer codes,
    unique across countries), ``fpc``. Country, sex and education columns are pandas
    categoricals (memory: a 10^7-person census is about 0.5 GB).
    Deterministic for a seed; nothing here is real data.
    """
    if persons_per_country < psu_size * regions * 2:
        raise InputError(f"persons_per_country={persons_per_country} is too small for {regions} regions of "
                         f"enumeration areas of {psu_size} persons (need at least {psu_size * regions * 2})")
    if not 0 < sample_fraction <= 1:
        raise InputError(f"sample_fraction must be in (0, 1], got {sample_fraction}")
    unknown = [c for c in countries if c not in _MIX]
    if unknown:
        raise InputError(f"no synthetic origin mix for census countries {unknown}; available: {sorted(_MIX)}")
    rng = np.random.default_rng(seed)
    cats = list(dict.fromkeys(list(countries) + [o for c in countries for o in _MIX[c][1]]))
    cat_index = {c: i for i, c in enumerate(cats)}
    parts = []
    for ci, c in enumerate(countries):
        n = int(persons_per_country)
        share, mix = _MIX[c]
        n_psu = n // psu_size
        psu = np.repeat(np.arange(n_psu), psu_size)
        psu = np.concatenate([psu, rng.integers(0, n_psu, n - psu.size)])
        stratum = psu % regions
        # immigrants cluster: PSU shares ~ Beta with mean `share` (concentration 8)
        psu_share = rng.beta(8 * share, 8 * (1 - share), n_psu)
        imm = rng.random(n) < psu_share[psu]
        origins = list(mix)
        p = np.array(list(mix.values()), dtype=float)
        # o_codes: index into origins, len(origins) for natives
        o_codes = np.where(imm, rng.choice(p.size, n, p=p / p.sum()), len(origins))
        women = np.array([_WOMEN.get(o, 0.5) for o in origins] + [0.51])
        to_global = np.array([cat_index[o] for o in origins] + [cat_index[c]])
        female = rng.random(n) < women[o_codes]
        # age: natives young, immigrants of working age
        age = np.where(imm, rng.gamma(9.0, 4.2, n), rng.gamma(2.2, 13.0, n)).clip(0, 99).astype(int)
        tert = np.array([_TERTIARY.get(o, .25) for o in origins] + [_NATIVE_TERTIARY[c]])
        u = rng.random(n)
        adult = age >= 25
        p_t = tert[o_codes]
        level = np.select([u < p_t, u < p_t + (1 - p_t) * 0.45, u < p_t + (1 - p_t) * 0.9], [3, 2, 1], 0)
        level = np.where(age < 6, 0, np.where((age < 25) & (level == 3), 2, level))
        edu = np.array(EDUCATION_LEVELS, dtype=object)[level]
        school = np.array([0, 6, 11, 16])[level] + rng.integers(0, 3, n)
        school = np.minimum(school, np.maximum(age - 5, 0))
        arrival = np.where(imm, year - np.minimum(rng.exponential(12, n), age).astype(int), np.nan)
        w = (1 / sample_fraction) * rng.uniform(0.95, 1.05, n)
        parts.append(pd.DataFrame({
            "census_country": pd.Categorical.from_codes(np.full(n, ci), categories=list(countries)),
            "birth_country": to_global[o_codes],
            "immigrant": imm.astype(np.int8),
            "sex": pd.Categorical.from_codes(female.astype(np.int8), categories=["male", "female"]),
            "age": age, "years_schooling": school,
            "education": pd.Categorical.from_codes(level, categories=list(EDUCATION_LEVELS)),
            "year_arrival": arrival, "weight": w,
            "stratum": ci * regions + stratum, "psu": ci * (n_psu + 1) + psu}))
    df = pd.concat(parts, ignore_index=True)
    df["birth_country"] = pd.Categorical.from_codes(df["birth_country"].to_numpy(), categories=cats)
    # fpc in PSUs: number of enumeration areas of the stratum in the population
    n_psu_s = df.groupby("stratum")["psu"].transform("nunique").to_numpy()
    df["fpc"] = np.round(n_psu_s / sample_fraction)
    return read_census(df, birth_country="birth_country", census_country="census_country", sex="sex", age="age",
                       education="education", year_arrival="year_arrival", weight="weight", strata="stratum",
                       psu="psu", fpc="fpc", name=f"synthetic IMILA-like census {year}", check_countries=False)


def read_census(source, *, birth_country: str, weight: str | None = None, census_country: str | None = None,
                sex: str | None = None, age: str | None = None, education: str | None = None,
                year_arrival: str | None = None, strata: str | None = None, psu: str | None = None,
                fpc: str | None = None, missing_birth: str = "error", check_countries: bool = True,
                name: str = "census") -> Survey:
    """Census person records (a DataFrame or a file) as a person-level :class:`Survey`.

    Parameters
    ----------
    source : DataFrame or path
        Person records; files are read with the package's generic reader
        (CSV/Parquet/Stata/SPSS/DBF).
    birth_country : str
        Column with the country of birth (UN names or ISO-3 codes; ``"OTHER"`` allowed).
    weight : str, optional
        Expansion factor; ``None`` for a complete count (weight 1 for every person).
    census_country, sex, age, education, year_arrival : str, optional
        Role columns. ``sex`` values must be ``male``/``female`` (or 1/2, M/F, H/M);
        ``education`` one of :data:`EDUCATION_LEVELS`.
    strata, psu, fpc : str, optional
        Design of a sample census.
    missing_birth : {"error", "unknown", "drop"}
        Rows without a country of birth: raise (default, listing rows), keep them as
        ``"unknown"`` (a domain of their own, so totals still add up), or drop them.
        Kept or dropped rows are counted in the load report: never silent.
    check_countries : bool
        Map names to ISO-3 codes (unknown names raise with the closest names).

    Raises
    ------
    InputError
        Missing columns, missing countries of birth (under ``"error"``), unknown names,
        sexes or education levels, negative ages.
    """
    report, files = LoadReport(), ()
    if isinstance(source, pd.DataFrame):
        df = source.copy()
    else:
        from ..io import generic
        path = Path(source)
        if not path.is_file():
            raise InputError(f"census file not found: {path}")
        df, src, report = generic.read_table(path, report=report)  # read completely, or an InputError
        files = (src,)
    cols = {"birth_country": birth_country, "census_country": census_country, "sex": sex, "age": age,
            "education": education, "year_arrival": year_arrival, "weight": weight, "strata": strata,
            "psu": psu, "fpc": fpc}
    for role, col in cols.items():
        if col is not None and col not in df.columns:
            raise InputError(f"census column {col!r} ({role}) not found; available: {sorted(map(str, df.columns))[:40]}")
    if weight is None:
        df["_weight"] = 1.0
        weight = "_weight"
        report = report.add("weight", "no weight column: a complete count (weight 1 for every person)")
    miss = df[birth_country].isna().to_numpy() | (df[birth_country].astype(str).str.strip() == "").to_numpy()
    if miss.any():
        if missing_birth == "error":
            raise InputError(f"country of birth {birth_country!r} is missing in {describe_rows(miss)}; choose "
                             "read_census(..., missing_birth='unknown') to keep them as a domain 'unknown', or "
                             "'drop' to remove them (both are recorded in the load report)")
        if missing_birth == "unknown":
            df.loc[miss, birth_country] = "unknown"
            report = report.add("missing", f"country of birth missing: kept as 'unknown'", birth_country,
                                int(miss.sum()))
        elif missing_birth == "drop":
            df = df.loc[~miss].reset_index(drop=True)
            report = report.add("dropped", "rows without a country of birth dropped", birth_country, int(miss.sum()))
        else:
            raise InputError(f"missing_birth must be 'error', 'unknown' or 'drop', got {missing_birth!r}")
    if check_countries:
        for col in filter(None, (birth_country, census_country)):
            codes, uniq = pd.factorize(df[col])
            uniq = np.asarray(uniq, dtype=object)
            special = np.isin(uniq, ["OTHER", "unknown"])
            mapped = uniq.copy()
            mapped[~special] = to_iso3(uniq[~special].astype(str), what=f"country in {col!r}")
            changed_u = mapped != uniq
            if changed_u.any():
                n_changed = int(np.isin(codes, np.flatnonzero(changed_u)).sum())
                report = report.add("mapped", f"{n_changed} country names mapped to ISO-3 codes "
                                    f"({int(changed_u.sum())} distinct)", col, n_changed)
            ucodes, cats = pd.factorize(mapped)  # unique value -> category code
            df[col] = pd.Categorical.from_codes(ucodes[codes], categories=cats)
    if sex is not None:
        norm = {"male": "male", "m": "male", "1": "male", "h": "male", "hombre": "male", "man": "male",
                "female": "female", "f": "female", "2": "female", "mujer": "female", "woman": "female"}
        codes, uniq = pd.factorize(df[sex], use_na_sentinel=True)
        mapped = np.array([norm.get(str(u).strip().lower()) for u in uniq], dtype=object)
        bad_u = np.array([m is None for m in mapped], dtype=bool)
        bad = (codes < 0) | (bad_u[codes] if bad_u.size else np.zeros(len(codes), bool))
        if bad.any():
            vals = sorted({str(u) for u, b in zip(uniq, bad_u) if b} | ({"<missing>"} if (codes < 0).any() else set()))[:5]
            raise InputError(f"sex column {sex!r} has values {vals} in {describe_rows(bad)}; use male/female "
                             "(or 1/2, M/F)")
        df[sex] = pd.Categorical(mapped[codes], categories=["male", "female"])
    if age is not None:
        a = pd.to_numeric(df[age], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(a) | (a < 0) | (a > 130)
        if bad.any():
            raise InputError(f"age column {age!r} is missing, negative or above 130 in {describe_rows(bad)}")
    if education is not None:
        bad = ~df[education].isin(EDUCATION_LEVELS).to_numpy()
        if bad.any():
            vals = sorted(set(df.loc[bad, education].astype(str)))[:5]
            raise InputError(f"education column {education!r} has values {vals} in {describe_rows(bad)}; use "
                             f"{list(EDUCATION_LEVELS)}")
    roles = {r: c for r, c in cols.items() if r in CENSUS_ROLES and c is not None}
    from ..survey import SurveyMetadata
    meta = SurveyMetadata(name=name, files=files, loader="remitpov.migration.census.read_census")
    return Survey(df, weight=weight, strata=strata, psu=psu, fpc=fpc, unit="person", roles=roles, metadata=meta,
                  report=report, nest=False, lonely_psu="adjust")


def _is_dask(census) -> bool:
    return isinstance(census, census_dask.DaskCensus)


def _dask():
    return census_dask


def _role(census: Survey, role: str) -> str:
    col = census.roles.get(role)
    if col is None:
        raise InputError(f"this census declares no {role!r} column; pass {role}=... to read_census")
    return col


def _factor(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and labels of a column (categoricals without a pass over the values)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy(dtype=np.int64), np.asarray(s.cat.categories, dtype=object)
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniq, dtype=object)


def _equal(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Row-wise equality of two label columns (categoricals with different categories too)."""
    ca, la = _factor(a)
    cb, lb = _factor(b)
    b_in_a = pd.Index(la).get_indexer(lb)
    return (ca >= 0) & (cb >= 0) & (ca == np.where(cb >= 0, b_in_a[cb], -2))


def _domains(census: Survey, by: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One integer domain code per row for the combination of ``by`` columns (roles or
    column names), and the labels of each column; codes are mixed-radix, so a code
    decodes to one label per column without string work on the rows."""
    code = np.zeros(census.n, dtype=np.int64)
    labels = []
    for b in by:
        col = census.roles.get(b, b)
        if col not in census.data.columns:
            raise InputError(f"cannot tabulate by {b!r}: no such role or column; roles: {sorted(census.roles)}")
        c, lab = _factor(census.data[col])
        if (c < 0).any():
            raise InputError(f"domain column {col!r} is missing in {describe_rows(c < 0)}")
        code = code * len(lab) + c
        labels.append(lab)
    return code, labels


def _split(tab: EstimateTable, by: Sequence[str], labels: Sequence[np.ndarray], variable: str | None = None
           ) -> EstimateTable:
    keys = tab.keys.copy()
    col = next(c for c in keys.columns if c not in ("measure", "variable"))
    code = keys[col].to_numpy(dtype=np.int64)
    keys = keys.drop(columns=[col])
    for b, lab in reversed(list(zip(by, labels))):
        keys.insert(len(keys.columns), b, lab[code % len(lab)])
        code = code // len(lab)
    keys = keys[[c for c in keys.columns if c not in by] + list(by)]
    if variable is not None:
        keys["variable"] = variable
    return dataclasses.replace(tab, keys=keys)


def _fold(dom: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Put rows outside the population (their values are NaN, outside every domain under
    ``na_rm``) into an existing domain, so that no domain is empty."""
    if keep.any() and not keep.all():
        dom = dom.copy()
        dom[~keep] = dom[np.flatnonzero(keep)[0]]
    return dom


def _eq_value(s: pd.Series, value: str) -> np.ndarray:
    """``s == value`` row-wise, through the codes for a categorical."""
    codes, labels = _factor(s)
    hit = np.flatnonzero(labels == value)
    return codes == (hit[0] if hit.size else -2)


def immigrant_stock(census: Survey, by: Sequence[str] | str = ("census_country", "birth_country"), *,
                    include_natives: bool = False, ci_level: float = 0.95,
                    covmat: bool | None = False) -> EstimateTable:
    """Estimated number of persons by country of birth (and other roles), with design SEs.

    Natives (born in the census country) are left out unless ``include_natives``.
    ``census`` may be a :class:`~remitpov.migration.census_dask.DaskCensus` (same numbers).
    ``covmat``: covariances between domains, as :func:`remitpov.estimation.mean` -- by
    default (``False``) within each domain only (R's ``svyby`` without ``covmat=TRUE``: a
    sparse ``vcov``, time and memory linear in the number of domains); ``True`` or
    ``None`` for the joint covariance (the SEs are the same); the same on a ``DaskCensus``.
    """
    by = [by] if isinstance(by, str) else list(by)
    if _is_dask(census):
        return _dask().immigrant_stock(census, by, include_natives, ci_level, covmat)
    bc, cc = _role(census, "birth_country"), census.roles.get("census_country")
    native = _equal(census.data[bc], census.data[cc]) if cc else np.zeros(census.n, bool)
    y = np.where(native & ~include_natives, np.nan, 1.0)
    dom, labels = _domains(census, by)
    dom = _fold(dom, np.isfinite(y))
    tab = estimation.total(census, y, by=dom, na_rm=True, ci_level=ci_level, covmat=covmat)
    tab = _split(tab, by, labels, "persons" if include_natives else "immigrants")
    keep = np.isfinite(tab.estimates) & (tab.estimates > 0)
    return _subset_rows(tab, keep, "Persons by country of birth" + ("" if include_natives else " (immigrants)"))


def _subset_rows(tab: EstimateTable, keep: np.ndarray, title: str) -> EstimateTable:
    idx = np.flatnonzero(keep)
    extra = tab.extra.iloc[idx].reset_index(drop=True) if tab.extra is not None else None
    V = tab.vcov[idx][:, idx] if sparse.issparse(tab.vcov) else tab.vcov[np.ix_(idx, idx)]
    return dataclasses.replace(tab, keys=tab.keys.iloc[idx].reset_index(drop=True), estimates=tab.estimates[idx],
                               vcov=V, extra=extra, title=title)


def _immigrants(census: Survey) -> np.ndarray:
    bc, cc = _role(census, "birth_country"), _role(census, "census_country")
    return ~_equal(census.data[bc], census.data[cc])


def sex_ratio(census: Survey, by: Sequence[str] | str = ("census_country", "birth_country"), *,
              ci_level: float = 0.95, covmat: bool | None = False) -> EstimateTable:
    """Men per 100 women among immigrants, by domain (ratio of estimated totals,
    linearised as R's ``svyratio``). Accepts a ``DaskCensus``; ``covmat`` as
    :func:`immigrant_stock`."""
    by = [by] if isinstance(by, str) else list(by)
    if _is_dask(census):
        return _dask().sex_ratio(census, by, ci_level, covmat)
    s = census.data[_role(census, "sex")]
    imm = _immigrants(census)
    m = np.where(imm, 100.0 * _eq_value(s, "male"), np.nan)
    f = np.where(imm, _eq_value(s, "female").astype(float), np.nan)
    dom, labels = _domains(census, by)
    # a domain without women in the sample has no sex ratio: its rows leave the population
    # (named in the notes) instead of reaching the variance engine with a zero denominator
    w = census.weights("person")
    women = np.bincount(dom, weights=np.where(imm, w * _eq_value(s, "female"), 0.0), minlength=int(dom.max()) + 1)
    has_imm = np.bincount(dom, weights=imm.astype(float), minlength=women.size) > 0
    no_women = has_imm & (women <= 0)
    if no_women.any():
        out_rows = no_women[dom]
        m = np.where(out_rows, np.nan, m)
        f = np.where(out_rows, np.nan, f)
    keep = np.isfinite(m)
    dom = _fold(dom, keep)
    tab = estimation.ratio(census, m, f, by=dom, na_rm=True, ci_level=ci_level, covmat=covmat)
    tab = _split(tab, by, labels, "men_per_100_women")
    notes = tab.notes
    if no_women.any():
        names = []
        for c in np.flatnonzero(no_women):  # over the domains without women, not rows
            parts, k = [], int(c)
            for lab in reversed(labels):
                parts.append(str(lab[k % len(lab)]))
                k //= len(lab)
            names.append("/".join(reversed(parts)))
        notes = notes + (census_dask.no_women_note(names),)
    tab = dataclasses.replace(tab, notes=notes)
    return _subset_rows(tab, np.isfinite(tab.estimates), "Sex ratio of immigrants (men per 100 women)")


def age_structure(census: Survey, by: Sequence[str] | str = ("census_country", "birth_country"), *,
                  groups: Sequence[int] = (0, 15, 30, 45, 65), ci_level: float = 0.95,
                  covmat: bool | None = False) -> EstimateTable:
    """Percentage of immigrants in each age group (``[g_i, g_{i+1})``, last open), by domain.
    Accepts a ``DaskCensus``; ``covmat`` as :func:`immigrant_stock` (the age groups of one
    domain always have their joint covariance)."""
    by = [by] if isinstance(by, str) else list(by)
    groups = list(groups)
    if groups != sorted(groups) or groups[0] != 0:
        raise InputError(f"age groups must be increasing and start at 0, got {groups}")
    if _is_dask(census):
        return _dask().age_structure(census, by, groups, ci_level, covmat)
    age = census.data[_role(census, "age")].to_numpy(dtype=float)
    imm = _immigrants(census)
    edges = groups + [np.inf]
    cols = {}
    for lo, hi in zip(edges[:-1], edges[1:]):
        name = f"age_{lo}_{'plus' if hi == np.inf else int(hi) - 1}"
        cols[name] = np.where(imm, 100.0 * ((age >= lo) & (age < hi)), np.nan)
    dom, labels = _domains(census, by)
    dom = _fold(dom, imm)
    tab = estimation.mean(census, list(cols.values()), by=dom, na_rm=True, ci_level=ci_level, covmat=covmat)
    tab = _split(tab, by, labels)
    names = dict(zip([f"x{i}" for i in range(len(cols))], cols))
    tab = dataclasses.replace(tab, keys=tab.keys.assign(variable=tab.keys["variable"].map(names)))
    return _subset_rows(tab, np.isfinite(tab.estimates), "Age structure of immigrants (%)")


def tertiary_share(census: Survey, by: Sequence[str] | str = ("census_country", "birth_country"), *,
                   min_age: int = 25, include_natives: bool = True, ci_level: float = 0.95,
                   covmat: bool | None = False) -> EstimateTable:
    """Percentage with tertiary education among persons aged ``min_age`` or more (25, as
    Docquier–Marfouk), by domain; natives included as their own domain by default. Accepts
    a ``DaskCensus``; ``covmat`` as :func:`immigrant_stock`."""
    by = [by] if isinstance(by, str) else list(by)
    if _is_dask(census):
        return _dask().tertiary_share(census, by, min_age, include_natives, ci_level, covmat)
    age = census.data[_role(census, "age")].to_numpy(dtype=float)
    edu = census.data[_role(census, "education")]
    keep = age >= min_age
    if not include_natives:
        keep &= _immigrants(census)
    y = np.where(keep, 100.0 * _eq_value(edu, "tertiary"), np.nan)
    dom, labels = _domains(census, by)
    dom = _fold(dom, keep)
    tab = estimation.mean(census, y, by=dom, na_rm=True, ci_level=ci_level, covmat=covmat)
    tab = _split(tab, by, labels, "tertiary_pct")
    return _subset_rows(tab, np.isfinite(tab.estimates), f"Tertiary education, persons aged {min_age}+ (%)")


def emigration_rate(census: Survey, *, min_age: int = 25, education: str | None = None, ci_level: float = 0.95,
                    covmat: bool | None = False) -> EstimateTable:
    """Docquier–Marfouk emigration rates of the census countries, from the censuses alone.

    For each origin ``o`` among the census countries of ``census``:
    ``m_o = 100 M_o / (N_o + M_o)`` with ``M_o`` the persons born in ``o`` aged ``min_age``
    or more counted in the *other* censuses (emigrants) and ``N_o`` those counted in ``o``'s
    own census (native-born residents): the share of ``o``'s native-born population, at home
    or abroad, that lives abroad. With ``education`` (e.g. ``"tertiary"``: the rate of the
    skilled) both counts are restricted to persons with that level. Estimated as a ratio of
    design-based totals by country of birth (R's ``svyratio``; the censuses are independent
    samples, strata nested in countries), linearised SEs and t intervals with the design
    degrees of freedom.

    Conventions: emigrants are counted only in the destinations whose censuses are in
    ``census`` (a lower bound of the true rate when others are missing); residents are the
    native-born (Docquier–Marfouk's resident population also counts immigrants: the rates
    here are the native-born version of their formula, as :func:`remitpov.migration.tables.emigration_rates`).
    Countries of birth that are not census countries (``"OTHER"``, origins without a census)
    have no rate and no row. ``census`` may be a
    :class:`~remitpov.migration.census_dask.DaskCensus` (same numbers; one more pass over its
    census-country column); ``covmat`` as :func:`immigrant_stock`.

    Raises
    ------
    InputError
        No ``census_country``/``age`` (or ``education``) role, an unknown education level,
        a census of one country only (nobody can be counted abroad).
    """
    if education is not None and education not in EDUCATION_LEVELS:
        raise InputError(f"education must be one of {list(EDUCATION_LEVELS)} or None, got {education!r}")
    who = f"persons aged {min_age}+" + ("" if education is None else f" with {education} education")
    title = f"Emigration rate (Docquier-Marfouk), {who} (%)"
    if _is_dask(census):
        return _dask().emigration_rate(census, min_age, education, ci_level, covmat, title)
    bc, cc = _role(census, "birth_country"), _role(census, "census_country")
    age = census.data[_role(census, "age")].to_numpy(dtype=float)
    ccodes, clab = _factor(census.data[cc])
    origins = clab[np.unique(ccodes[ccodes >= 0])]
    census_dask.check_origins(origins)
    bcodes, blab = _factor(census.data[bc])
    keep = (bcodes >= 0) & np.isin(blab, origins)[np.maximum(bcodes, 0)] & (age >= min_age)
    if education is not None:
        keep &= _eq_value(census.data[_role(census, "education")], education)
    abroad = ~_equal(census.data[bc], census.data[cc])
    num = np.where(keep, 100.0 * abroad, np.nan)
    den = np.where(keep, 1.0, np.nan)
    dom = _fold(np.maximum(bcodes, 0), keep)
    tab = estimation.ratio(census, num, den, by=dom, na_rm=True, ci_level=ci_level, covmat=covmat)
    tab = _split(tab, ["birth_country"], [blab], "emigration_rate_pct")
    return _subset_rows(tab, np.isfinite(tab.estimates), title)


def emigration_rates_by_education(census: Survey, residents: pd.DataFrame, *, min_age: int = 25,
                                  ci_level: float = 0.95) -> pd.DataFrame:
    """Docquier–Marfouk emigration rates by education level.

    ``m_{o,e} = M_{o,e} / (N_{o,e} + M_{o,e})``: emigrants aged ``min_age`` or older born in
    ``o`` with education ``e`` counted in every destination census of ``census``
    (``M``, a design-based total: the censuses are independent samples, so their
    variances add) over the origin's resident population with that education (``N``,
    given in ``residents`` and treated as fixed). SE by the delta method,
    ``se(m) = N / (N + M)^2 se(M)``; the CI is normal (``m`` is a smooth function of one
    total). Education ``none`` is pooled with ``primary`` (Docquier–Marfouk's *low*).

    Parameters
    ----------
    residents : DataFrame
        Columns ``origin`` (ISO-3), ``education`` (``low``/``medium``/``high`` or the
        levels of :data:`EDUCATION_LEVELS`) and ``residents`` (persons aged ``min_age`` or older).

    ``census`` may be a :class:`~remitpov.migration.census_dask.DaskCensus` (same numbers).
    """
    need = {"origin", "education", "residents"}
    if not need <= set(residents.columns):
        raise InputError(f"residents table needs columns {sorted(need)}; it has {list(residents.columns)}")
    dm = {"none": "low", "primary": "low", "secondary": "medium", "tertiary": "high",
          "low": "low", "medium": "medium", "high": "high"}
    r = residents.assign(education=residents["education"].map(dm))
    if r["education"].isna().any():
        raise InputError(f"residents' education must be low/medium/high or {list(EDUCATION_LEVELS)}")
    r = r.groupby(["origin", "education"], as_index=False)["residents"].sum()
    if _is_dask(census):
        f = _dask().emigrants_by_level(census, min_age, dm, ci_level)
    else:
        age = census.data[_role(census, "age")].to_numpy(dtype=float)
        ecodes, elab = _factor(census.data[_role(census, "education")])
        dm_lab = np.array([dm.get(str(e)) for e in elab], dtype=object)
        imm = _immigrants(census) & (age >= min_age)
        y = np.where(imm, 1.0, np.nan)
        ocodes, olab = _factor(census.data[_role(census, "birth_country")])
        levels = np.array(["low", "medium", "high"], dtype=object)
        lvl = pd.Index(levels).get_indexer(dm_lab)[ecodes]
        dom = _fold(ocodes * 3 + lvl, imm)
        tab = estimation.total(census, y, by=dom, na_rm=True, ci_level=ci_level, covmat=False)  # SEs only
        keys = tab.keys
        col = next(c for c in keys.columns if c not in ("measure", "variable"))
        code = keys[col].to_numpy(dtype=np.int64)
        f = pd.DataFrame({"origin": olab[code // 3], "education": levels[code % 3], "emigrants": tab.estimates,
                          "emigrants_se": tab.se})
    out = r.merge(f, on=["origin", "education"], how="left")
    out[["emigrants", "emigrants_se"]] = out[["emigrants", "emigrants_se"]].fillna(0.0)
    tot = out["residents"] + out["emigrants"]
    out["rate_pct"] = 100 * out["emigrants"] / tot
    out["rate_se"] = 100 * out["residents"] / tot**2 * out["emigrants_se"]
    from scipy.stats import norm
    z = norm.ppf(0.5 + ci_level / 2)
    out["ci_lower"], out["ci_upper"] = out["rate_pct"] - z * out["rate_se"], out["rate_pct"] + z * out["rate_se"]
    return out

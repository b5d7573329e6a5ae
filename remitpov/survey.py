"""The :class:`Survey`: unit-level data + sampling design + metadata + load report.

A Survey is immutable. Methods that change it (``with_columns``, ``with_replicates``,
...) return a new Survey; the caller's DataFrame is copied on the way in and never
mutated.

Units and weights
-----------------
``unit`` says what one row is (``"household"`` or ``"person"``) and ``weight`` is that
row's expansion factor. For household rows with household weights, person-level
results (the Social Panorama convention: "percentage of persons") weight every
household by ``weight x size`` (``size`` = number of members). ``Survey.design(level=...)``
returns the design at either level.
"""
from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from enum import Enum
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .core.validate import check_positive, check_weights
from .design import Design
from .exceptions import InputError, describe_rows

_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3

LEVELS = ("person", "household")


class Role(str, Enum):
    """The closed vocabulary of column roles a :class:`Survey` knows.

    Design roles are :class:`Survey` fields (``Survey(weight=..., strata=...)``); every
    other role goes in ``Survey.roles``. An unknown role name is an :class:`InputError`
    (with the nearest known names), so a typo such as ``"remitances"`` cannot silently
    leave a block without its column. Income concepts made by
    :func:`remitpov.income_without` under a name of the caller's choice are declared in
    ``Survey.concepts`` and are roles too.
    """

    # design (Survey fields)
    WEIGHT = "weight"
    STRATA = "strata"
    PSU = "psu"
    FPC = "fpc"
    SSU = "ssu"
    FPC2 = "fpc2"
    SIZE = "size"
    # income as loaded (the file's period and unit)
    INCOME = "income"
    REMITTANCES = "remittances"
    WELFARE = "welfare"
    INTERNAL_REMITTANCES = "internal_remittances"
    # income concepts (remitpov.income.build_income)
    Y_WITH = "y_with"
    Y_WITHOUT = "y_without"
    REMIT_PC = "remit_pc"
    RECIPIENT = "recipient"
    REMIT_SHARE = "remit_share"
    SCALE = "scale"
    HH_INCOME = "hh_income"
    HH_REMITTANCES = "hh_remittances"
    INCOME_FACTOR = "income_factor"
    # lines and flags
    POVERTY_LINE = "poverty_line"
    INDIGENCE_LINE = "indigence_line"
    POOR = "poor"
    EXTREME_POOR = "extreme_poor"
    # domains and household structure
    AREA = "area"
    REGION = "region"
    SEX = "sex"
    HOUSEHOLD = "household"
    N_ADULTS = "n_adults"
    N_CHILDREN = "n_children"
    N_0_5 = "n_0_5"
    N_6_12 = "n_6_12"
    N_13_18 = "n_13_18"
    N_19PLUS = "n_19plus"
    # econometric counterfactuals
    MIGRANT = "migrant"
    MIGRATION_STATUS = "migration_status"
    INSTRUMENT = "instrument"
    INSTRUMENT_INTERNAL = "instrument_internal"
    # Monte Carlo truth of the synthetic survey (income had nobody migrated)
    INCOME_NOMIG = "income_nomig"
    # census microdata on international migration (remitpov.migration.census)
    BIRTH_COUNTRY = "birth_country"
    CENSUS_COUNTRY = "census_country"
    AGE = "age"
    EDUCATION = "education"
    YEAR_ARRIVAL = "year_arrival"


#: Every role name (the values of :class:`Role`).
ROLES = frozenset(r.value for r in Role)
#: Roles carried by Survey fields, not by ``Survey.roles``.
DESIGN_ROLES = frozenset({"weight", "strata", "psu", "fpc", "ssu", "fpc2", "size"})
#: Roles whose column must hold numbers (text in them is an error when the Survey is built).
NUMERIC_ROLES = frozenset({"income", "income_nomig", "age", "year_arrival", "remittances", "welfare", "internal_remittances", "y_with", "y_without",
                           "remit_pc", "remit_share", "scale", "hh_income", "hh_remittances", "income_factor",
                           "poverty_line", "indigence_line", "n_adults", "n_children", "n_0_5", "n_6_12",
                           "n_13_18", "n_19plus"})
#: Columns (and roles) made by :func:`remitpov.income.build_income`.
INCOME_CONCEPT_COLUMNS = ("y_hh", "eq_scale", "income_factor", "remit_hh", "y_with", "y_without", "remit_pc",
                          "recipient", "remit_share")


def suggest(name, candidates, n: int = 3) -> str:
    """``"; did you mean 'a' or 'b'?"`` for the closest names (empty string when none is close)."""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=n, cutoff=0.6)
    if not close:
        low = str(name).lower()
        close = [str(c) for c in candidates if str(c).lower() == low][:n]
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else ""


@dataclass(frozen=True)
class Change:
    """One thing a loader found or changed in the data."""

    kind: str  # e.g. "collapsed", "converted", "zero_income", "missing", "deflator_undone"
    message: str
    column: str | None = None
    rows: int = 0
    examples: tuple = ()

    def __str__(self) -> str:
        col = f"[{self.column}] " if self.column else ""
        ex = f" (e.g. {', '.join(map(str, self.examples))})" if self.examples else ""
        return f"{self.kind}: {col}{self.message}{ex}"


@dataclass(frozen=True)
class LoadReport:
    """Everything a loader changed or found: rows collapsed, values converted, zeros...

    Immutable; :meth:`add` returns a new report.
    """

    changes: tuple[Change, ...] = ()

    def add(self, kind: str, message: str, column: str | None = None, rows: int = 0, examples=()) -> "LoadReport":
        return LoadReport(self.changes + (Change(kind, message, column, int(rows), tuple(examples)[:3]),))

    def find(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"kind": c.kind, "column": c.column, "rows": c.rows, "message": c.message,
              "examples": ", ".join(map(str, c.examples))} for c in self.changes],
            columns=["kind", "column", "rows", "message", "examples"],
        )

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self):
        return iter(self.changes)

    def __str__(self) -> str:
        if not self.changes:
            return "load report: no changes"
        return "load report:\n" + "\n".join(f"  - {c}" for c in self.changes)


@dataclass(frozen=True)
class SourceFile:
    path: str
    sha256: str
    bytes: int

    @classmethod
    def from_path(cls, path) -> "SourceFile":
        p = Path(path)
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return cls(str(p), h.hexdigest(), p.stat().st_size)


@dataclass(frozen=True)
class SurveyMetadata:
    """Descriptive metadata carried to every report and manifest."""

    name: str = "survey"
    country: str | None = None
    year: int | None = None
    currency: str | None = None
    income_period: str | None = None  # period of the income columns as loaded: "month", "quarter", "year"
    weight_unit: str = "household"  # what the weight expands: households or persons
    files: tuple[SourceFile, ...] = ()
    loader: str | None = None
    notes: tuple[str, ...] = ()
    #: what the loaded income/welfare column measures: "income" or "consumption" (None: not stated, income)
    welfare: str | None = None
    #: equivalence scale already applied to the welfare concept the survey carries ("none": per household,
    #: "per_capita", "oecd_modified", ...; :func:`remitpov.income.build_income` sets it); None when not stated
    welfare_scale: str | None = None

    def to_dict(self) -> dict:
        return {
            "name": self.name, "country": self.country, "year": self.year, "currency": self.currency,
            "income_period": self.income_period, "weight_unit": self.weight_unit, "loader": self.loader,
            "files": [{"path": f.path, "sha256": f.sha256, "bytes": f.bytes} for f in self.files],
            "notes": list(self.notes), "welfare": self.welfare, "welfare_scale": self.welfare_scale,
        }


def join_ids(df: pd.DataFrame, ids: Sequence[str]) -> np.ndarray:
    """Several id columns joined with '-' for messages (vectorised ``str.cat``, no loop over rows).

    A missing id shows as ``NA``.
    """
    first = df[ids[0]].astype(str)
    return first.str.cat([df[c].astype(str) for c in ids[1:]], sep="-", na_rep="NA").to_numpy(dtype=object)


def text_cells(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """``(numbers, mask)``: the column as numbers and the cells holding text that is not a number.

    Missing cells are not text; ``"n/a"``, ``"1,873.50"`` (thousands separator) or ``"x"``
    are. Numeric and boolean columns have no text cells.
    """
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype(float), np.zeros(len(s), dtype=bool)
    conv = pd.to_numeric(s, errors="coerce")
    return conv.astype(float), (conv.isna() & s.notna()).to_numpy()


def text_values(s: pd.Series, mask, max_values: int = 5) -> list[str]:
    """The distinct text values of ``s[mask]`` (at most ``max_values``) for messages."""
    return pd.Series(s.to_numpy()[np.asarray(mask, dtype=bool)]).astype(str).unique()[:max_values].tolist()


def _check_numeric(df: pd.DataFrame, col: str, role: str, ids=None) -> np.ndarray:
    if col not in df.columns:
        raise InputError(f"{role} column {col!r} not found; available columns: {sorted(map(str, df.columns))[:40]}")
    num, bad = text_cells(df[col])
    if bad.any():
        raise InputError(f"{role} column {col!r} has non-numeric values {text_values(df[col], bad)} in "
                         f"{describe_rows(bad, ids)}; convert or fix them (e.g. remove thousands separators)")
    return num.to_numpy(dtype=float)


@dataclass(frozen=True, eq=False)
class Survey:
    """Unit-level survey data with its design, metadata and load report.

    Parameters
    ----------
    data : DataFrame
        One row per unit (household or person). Copied.
    weight : str
        Column with the row's expansion factor (must be finite and > 0).
    strata, psu, fpc : str, optional
        Design columns. ``psu`` without ``strata`` is a one-stage cluster design.
    ssu, fpc2 : str, optional
        Second-stage units and their population size, for two-stage fpc.
    unit : {"household", "person"}
        What one row is.
    size : str, optional
        Household size column (persons per household) for household rows; person-level
        estimates weight each household by ``weight * size``.
    ids : sequence of str
        Identifier columns (used in error messages and reports).
    roles : mapping
        Other named columns, e.g. ``{"income": "ing_cor", "remittances": "remesas",
        "area": "area"}``. Names come from the closed vocabulary :class:`Role` (or
        ``concepts``); columns of :data:`NUMERIC_ROLES` must hold numbers.
    concepts : sequence of str
        Income concepts added under names of the caller's choice (by
        :func:`remitpov.income_without`); each is also a role.
    fractional_size : bool
        Household sizes must be whole numbers unless this is ``True`` (e.g. sizes that are
        averages); non-whole sizes are then recorded in the load report.
    sources : mapping
        Income sources ``name -> column`` (labour, pensions, remittances, ...).
    nest : bool
        PSU ids unique only within strata.
    lonely_psu : str
        Singleton-PSU policy passed to the design.
    replicate_weights : sequence of str, optional
        Columns holding published replicate weights (with ``replicate_kind``,
        ``replicate_scale``, ``replicate_rscales``).
    """

    data: pd.DataFrame
    weight: str
    strata: str | None = None
    psu: str | None = None
    fpc: str | None = None
    ssu: str | None = None
    fpc2: str | None = None
    unit: str = "household"
    size: str | None = None
    ids: tuple[str, ...] = ()
    roles: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    metadata: SurveyMetadata = field(default_factory=SurveyMetadata)
    report: LoadReport = field(default_factory=LoadReport)
    nest: bool = False
    lonely_psu: str = "error"
    replicate_weights: tuple[str, ...] = ()
    replicate_kind: str = "other"
    replicate_scale: float = 1.0
    replicate_rscales: tuple[float, ...] | None = None
    generated_replicates: tuple | None = None  # (kind, R, seed, rho, mse) for with_replicates
    concepts: tuple[str, ...] = ()
    fractional_size: bool = False

    def __post_init__(self):
        if not isinstance(self.data, pd.DataFrame):
            raise InputError(f"Survey data must be a pandas DataFrame, got {type(self.data).__name__}")
        # pandas >= 3 copies on write: the reset frame is already independent of the caller's
        # (a deep copy would only cost time and the columns' memory again)
        object.__setattr__(self, "data", self.data.reset_index(drop=True).copy(deep=not _COPY_ON_WRITE))
        object.__setattr__(self, "ids", tuple(self.ids))
        # read-only mappings: a Survey is immutable (use with_roles / replace to change them)
        object.__setattr__(self, "roles", MappingProxyType(dict(self.roles)))
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))
        object.__setattr__(self, "replicate_weights", tuple(self.replicate_weights))
        object.__setattr__(self, "concepts", tuple(self.concepts))
        self._check_roles()
        if self.unit not in LEVELS:
            raise InputError(f"unit must be 'household' or 'person', got {self.unit!r}")
        df = self.data
        for c in self.ids:
            if c not in df.columns:
                raise InputError(f"id column {c!r} not found")
        check_weights(_check_numeric(df, self.weight, "weight", self.id_values), self.weight, self.id_values)
        for role, col in (("strata", self.strata), ("psu", self.psu), ("fpc", self.fpc), ("ssu", self.ssu),
                          ("fpc2", self.fpc2)):
            if col is None:
                continue
            if col not in df.columns:
                raise InputError(f"design column {col!r} ({role}) not found; available: {sorted(map(str, df.columns))[:40]}")
            miss = df[col].isna().to_numpy()
            if miss.any():
                raise InputError(f"design column {col!r} ({role}) is missing in {describe_rows(miss, self.id_values)}")
        if self.size is not None:
            sz = check_positive(_check_numeric(df, self.size, "household size", self.id_values),
                                f"household size column {self.size!r}", self.id_values,
                                "every household needs at least one member")
            frac = sz != np.round(sz)
            if frac.any():
                if not self.fractional_size:
                    raise InputError(f"household size column {self.size!r} is not a whole number in "
                                     f"{describe_rows(frac, self.id_values)} (e.g. {sz[frac][:3].tolist()}); sizes "
                                     "count members: fix them, or declare fractional sizes with "
                                     "fractional_size=True (recorded in the load report)")
                if not self.report.find("fractional_size"):
                    ids = self.id_values
                    object.__setattr__(self, "report", self.report.add(
                        "fractional_size", f"household sizes that are not whole numbers accepted "
                                           f"(fractional_size=True; e.g. {sz[frac][:3].tolist()})", self.size,
                        int(frac.sum()), ids[frac][:3] if ids is not None else np.flatnonzero(frac)[:3]))
        for name, col in list(self.roles.items()) + list(self.sources.items()):
            if col is not None and col not in df.columns:
                raise InputError(f"column {col!r} for {name!r} not found in the data"
                                 f"{suggest(col, df.columns)}")
        for name, col in self.roles.items():
            if col is not None and name in NUMERIC_ROLES:
                _check_numeric(df, col, f"{name} (role)", self.id_values)
        for col in self.replicate_weights:
            if col not in df.columns:
                raise InputError(f"replicate weight column {col!r} not found")

    def _check_roles(self) -> None:
        bad = [k for k in self.roles if not isinstance(k, str)]
        if bad:
            raise InputError(f"role names must be strings, got {bad}")
        design = sorted(set(self.roles) & DESIGN_ROLES)
        if design:
            raise InputError(f"role(s) {design} are design roles: pass them as Survey({design[0]}=...) (or the "
                             "spec's top-level keys), not in roles")
        unknown = sorted(set(self.roles) - ROLES - set(self.concepts))
        if unknown:
            hints = "".join(f" {u!r}{suggest(u, ROLES - DESIGN_ROLES, 2) or ': no close match;'}" for u in unknown)
            raise InputError(f"unknown role(s) {unknown}:{hints} known roles: {sorted(ROLES - DESIGN_ROLES)} "
                             "(see remitpov.survey.Role); for an income concept of your own use "
                             "remitpov.income_without or Survey(concepts=...)")

    def missing_column_message(self, col, what: str = "column") -> str:
        """``"column 'x' not found; ..."`` with the nearest names and what makes the column."""
        msg = f"{what} {col!r} not found"
        if col in INCOME_CONCEPT_COLUMNS:
            msg += ("; it is an income concept made by remitpov.build_income(survey): call build_income first "
                    "(or income_without for a source other than remittances)")
        elif isinstance(col, str) and col in self.roles and self.roles[col] in self.data.columns:
            msg += f"; {col!r} is a role of this survey, its column is {self.roles[col]!r}"
        msg += suggest(col, list(self.data.columns))
        return msg + f"; available: {sorted(map(str, self.data.columns))[:40]}"

    def __getstate__(self):  # pickling (multiprocessing, caching): proxies as plain dicts
        state = dict(self.__dict__)
        state["roles"], state["sources"] = dict(self.roles), dict(self.sources)
        return state

    def __setstate__(self, state):
        state = dict(state)
        state["roles"] = MappingProxyType(state["roles"])
        state["sources"] = MappingProxyType(state["sources"])
        self.__dict__.update(state)

    # ------------------------------------------------------------------ basics
    @property
    def n(self) -> int:
        return len(self.data)

    @property
    def id_values(self) -> np.ndarray | None:
        if not self.ids:
            return None
        if len(self.ids) == 1:
            return self.data[self.ids[0]].to_numpy()
        return join_ids(self.data, self.ids)

    @property
    def household_size(self) -> np.ndarray:
        """Members per row: the ``size`` column, or 1 for person rows."""
        if self.size is None:
            if self.unit == "household":
                raise InputError("household rows need a size column for person-level estimates; "
                                 "pass size=... or use level='household'")
            return np.ones(self.n)
        return self.data[self.size].to_numpy(dtype=float)

    def weights(self, level: str = "person") -> np.ndarray:
        """Row weights at ``level``: person weight = household weight x size."""
        if level not in LEVELS:
            raise InputError(f"level must be 'person' or 'household', got {level!r}")
        w = self.data[self.weight].to_numpy(dtype=float)
        if level == "person" and self.unit == "household":
            return w * self.household_size
        if level == "household" and self.unit == "person":
            raise InputError("person rows cannot give household-level estimates; aggregate to households first")
        return w

    @cached_property
    def _base_design(self) -> Design:
        df = self.data
        d = Design.from_arrays(
            self.data[self.weight].to_numpy(dtype=float),
            strata=None if self.strata is None else df[self.strata].to_numpy(),
            psu=None if self.psu is None else df[self.psu].to_numpy(),
            fpc=None if self.fpc is None else df[self.fpc].to_numpy(dtype=float),
            ssu=None if self.ssu is None else df[self.ssu].to_numpy(),
            fpc2=None if self.fpc2 is None else df[self.fpc2].to_numpy(dtype=float),
            nest=self.nest,
            lonely_psu=self.lonely_psu,
        )
        if self.replicate_weights:
            rs = None if self.replicate_rscales is None else np.asarray(self.replicate_rscales)
            d = d.with_replicate_weights(df[list(self.replicate_weights)].to_numpy(dtype=float),
                                         kind=self.replicate_kind, scale=self.replicate_scale, rscales=rs)
        elif self.generated_replicates is not None:
            kind, R, seed, rho, mse = self.generated_replicates
            d = d.with_replicates(kind, R, seed, rho=rho, mse=mse)
        return d

    def design(self, level: str = "person") -> Design:
        """The sampling design with weights at ``level`` (see :meth:`weights`)."""
        d = self._base_design
        if level == "household" and self.unit == "household":
            return d
        return d.reweight(self.weights(level))

    def column(self, col) -> np.ndarray:
        """A column by name, or an array of length n passed through (validated)."""
        if isinstance(col, str):
            if col not in self.data.columns:
                raise InputError(self.missing_column_message(col))
            return self.data[col].to_numpy()
        a = np.asarray(col)
        if a.shape[0] != self.n:
            raise InputError(f"array has {a.shape[0]} rows, the survey {self.n}")
        return a

    def numeric(self, col, what: str = "column") -> np.ndarray:
        """Column (or array) ``col`` as floats; text that is not a number is an :class:`InputError`.

        Missing values stay NaN (the estimator's ``na_rm`` rule applies to them); text such
        as ``"n/a"`` or ``"1,873.50"`` is never turned into a missing value here: the error
        lists the values and the rows. For estimators' column lookups.
        """
        a = self.column(col)
        if a.dtype.kind in "fiub":
            return a.astype(float, copy=False)
        s = pd.Series(a)
        num, bad = text_cells(s)
        if bad.any():
            name = col if isinstance(col, str) else "(array)"
            raise InputError(f"{what} {name!r} has non-numeric values {text_values(s, bad)} in "
                             f"{describe_rows(bad, self.id_values)}; fix them, or load with coerce_text=True "
                             "to treat them as missing (reported)")
        return num.to_numpy(dtype=float)

    def role(self, name: str) -> str:
        """Column playing role ``name`` (``income``, ``remittances``, ``area`` ...)."""
        if name in self.roles and self.roles[name] is not None:
            return self.roles[name]
        if name in self.sources:
            return self.sources[name]
        hint = (" (y_with, y_without, remit_pc ... are made by remitpov.build_income(survey): call build_income "
                "first)" if name in INCOME_CONCEPT_COLUMNS or name in ("scale", "hh_income", "hh_remittances") else "")
        raise InputError(f"this survey has no {name!r} column{hint}{suggest(name, list(self.roles) + list(self.sources))}"
                         f"; known roles: {sorted(self.roles)}, sources: {sorted(self.sources)}")

    # ------------------------------------------------------------------ transforms
    def replace(self, **changes) -> "Survey":
        return replace(self, **changes)

    def with_columns(self, **columns) -> "Survey":
        """New Survey with columns added or replaced (arrays of length n or Series)."""
        df = self.data.copy()
        for k, v in columns.items():
            df[k] = v.to_numpy() if isinstance(v, pd.Series) else v
        return replace(self, data=df)

    def with_roles(self, **roles) -> "Survey":
        r = dict(self.roles)
        r.update(roles)
        return replace(self, roles=r)

    def with_report(self, kind: str, message: str, column: str | None = None, rows: int = 0, examples=()) -> "Survey":
        return replace(self, report=self.report.add(kind, message, column, rows, examples))

    def with_replicates(self, kind: str = "bootstrap", replicates: int = 500, seed: int | None = 0,
                        rho: float = 0.5, mse: bool = False) -> "Survey":
        """Use replicate weights built from the design (bootstrap, jk1, jkn, brr, fay)."""
        s = replace(self, generated_replicates=(kind, int(replicates), seed, rho, mse), replicate_weights=())
        s._base_design  # build now: fail early
        return s

    def with_lonely_psu(self, policy: str) -> "Survey":
        return replace(self, lonely_psu=policy)

    def domain_codes(self, by) -> tuple[np.ndarray, np.ndarray]:
        """Integer codes and labels of a domain variable (column name or array)."""
        vals = pd.Series(self.column(by))
        if vals.isna().any():
            raise InputError(f"domain variable {by if isinstance(by, str) else '(array)'} is missing in "
                             f"{describe_rows(vals.isna().to_numpy(), self.id_values)}; recode missing values "
                             "to an explicit category")
        codes, labels = pd.factorize(vals, sort=True)
        return codes, np.asarray(labels)

    def population(self, level: str = "person") -> float:
        return float(self.weights(level).sum())

    def __repr__(self) -> str:
        m = self.metadata
        des = []
        if self.strata:
            des.append(f"strata={self.strata!r}")
        if self.psu:
            des.append(f"psu={self.psu!r}")
        if self.fpc:
            des.append(f"fpc={self.fpc!r}")
        return (f"Survey({m.name!r}, {self.n} {self.unit} rows, weight={self.weight!r}"
                f"{', ' + ', '.join(des) if des else ''}, {len(self.report)} load-report entries)")

    def summary(self) -> str:
        lines = [repr(self), f"metadata: {self.metadata.to_dict()}", str(self.report)]
        return "\n".join(lines)

    @classmethod
    def from_frame(cls, data: pd.DataFrame, weight: str, **kwargs) -> "Survey":
        return cls(data=data, weight=weight, **kwargs)

"""What every chapter block shares: the chapter's column names, the tidy output schema and
the helpers that turn an :class:`~remitpov.results.EstimateTable` into tidy rows.

The tidy schema
---------------
Every estimate table a block writes has the columns, in this order:

* keys: a subsequence of :data:`KEY_ORDER` (``survey`` first, then ``method``,
  ``population``, ``domain``, ``group``, ``indicator``, ``measure``, ``concept``,
  ``multiple``) -- only those that vary in the block;
* values: a prefix-free subset of :data:`VALUE_COLUMNS` (``estimate``, ``se``,
  ``ci_lower``, ``ci_upper``), scaled ONCE by :func:`tidy` (x 100 for rates in percent);
* ``unit``: the unit of the values, one of :data:`UNITS` (below).

Units
-----
One vocabulary for every poverty/inequality table (:data:`UNITS`), the same numbers the
estimators return, scaled once:

* ``percent``: rates (headcount, FGT1, FGT2, shares of persons or households, coverage)
  x 100 -- on the 0--100 scale. Rows whose ``concept`` is a difference ("difference",
  "with (survey) - without", ...) are differences of two such rates: **percentage points**
  (the unit says the scale of the quantities differenced);
* ``Gini x 100``: the Gini coefficient x 100 (0--100 scale, so that rates and the Gini share
  a scale in the tidy files); differences in Gini points x 100. The publication tables
  (:mod:`remitpov.report.publication`) show the Gini on the 0--1 scale;
* ``percentage points``: a quantity that is itself a difference of rates (the ``identity``
  view);
* ``ratio``: a pure number on its natural scale (Lerman--Yitzhaki shares, Gini correlations,
  contributions, marginal effects: 0--1);
* ``currency per person``: the survey's currency (``manifest.json``: ``surveys.<id>.currency``)
  per person -- or equivalent adult, per the survey's welfare scale -- per income period
  (``[income] period``, default month);
* ``million USD``: millions of US dollars per year (``coverage``).

Migration tables (:mod:`.migration`) carry their own units (persons, rates per 1,000, ...).

Views (``poverty_layout``, ``identity``, ``decomposition``) are wide tables derived from
estimates for reading; they keep their own columns (see each block).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

# column names the chapter adds to every survey
Y_WITH, Y_WITHOUT, REMIT, RECIPIENT = "y_with", "y_without", "remit_pc", "recipient"
AREA, QUINTILE, DECILE, RECIP_LABEL = "_area", "_quintile", "_decile", "_recipient"
HH_FIRST = "_hh_first"
Z_POV, Z_IND = "_z_poverty", "_z_indigence"
#: per-capita income without ALL migrants' transfers (the multinomial counterfactual's static concept)
Y_STATIC = "y_static"

#: key columns of the tidy schema, in their one order
KEY_ORDER = ("survey", "method", "population", "domain", "group", "indicator", "measure", "concept", "multiple")
#: value columns of the tidy schema
VALUE_COLUMNS = ("estimate", "se", "ci_lower", "ci_upper")
#: the units of the poverty, inequality and remittance tables (see "Units" in the module docstring)
UNITS = {"percent": "x 100 (0-100 scale); difference rows: percentage points",
         "Gini x 100": "Gini coefficient x 100; difference rows: Gini points x 100",
         "percentage points": "difference of two rates in percent",
         "ratio": "pure number on its natural (0-1) scale",
         "currency per person": "survey currency per person (or equivalent adult) per income period",
         "million USD": "millions of US dollars per year"}


def tidy(keys: Mapping[str, Any], frame: pd.DataFrame, unit: str, *, scale: float = 100.0,
         values: Sequence[str] = VALUE_COLUMNS) -> pd.DataFrame:
    """Tidy rows: ``keys`` (scalars or arrays, in :data:`KEY_ORDER`) + ``values`` of ``frame`` x ``scale`` + unit.

    The one place where rates become percent (``scale=100``, the default) -- the numbers are
    exactly ``scale`` x the estimators' results.
    """
    order = [k for k in KEY_ORDER if k in keys]
    if list(keys) != order or set(keys) - set(KEY_ORDER):
        raise ValueError(f"tidy keys {list(keys)} are not a subsequence of {KEY_ORDER}")
    out = pd.DataFrame(dict(keys))
    for c in values:
        out[c] = frame[c].to_numpy(float) * scale
    out["unit"] = unit
    return out


def check_tidy(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Raise if ``frame`` does not follow the tidy schema (see the module docstring)."""
    cols = list(frame.columns)
    if not cols or cols[-1] != "unit":
        raise ValueError(f"table {name!r}: the last column must be 'unit', got {cols}")
    keys = [c for c in cols[:-1] if c not in VALUE_COLUMNS]
    vals = [c for c in cols[:-1] if c in VALUE_COLUMNS]
    if keys != [k for k in KEY_ORDER if k in keys] or set(keys) - set(KEY_ORDER) or cols[:-1] != keys + vals \
            or vals != [v for v in VALUE_COLUMNS if v in vals] or not vals:
        raise ValueError(f"table {name!r}: columns {cols} do not follow the tidy schema "
                         f"(keys from {KEY_ORDER}, then values from {VALUE_COLUMNS}, then 'unit')")
    return frame


def incomes(p) -> dict:
    """Income concepts of a prepared survey: with/without remittances, or the total only."""
    return {"with": Y_WITH, "without": Y_WITHOUT} if p.has_remittances else {"total": Y_WITH}


def domain_specs(spec, p):
    """``[(domain name, column or None)]``: the total, then the areas/quintiles/deciles asked for."""
    out = [("total", None)]
    if "area" in spec.domains and AREA in p.survey.data.columns:
        out.append(("area", AREA))
    if "quintile" in spec.domains:
        out.append(("quintile", QUINTILE))
    if "decile" in spec.domains:
        out.append(("decile", DECILE))
    return out


def group_labels(frame: pd.DataFrame, by: str | None):
    """The ``group`` key: the domain values as text, or "all" for the whole population."""
    return frame[by].astype(str).to_numpy() if by is not None else np.full(len(frame), "all", dtype=object)


def rename_domain(t, by):
    """Design-based mean() with an array domain labels the column 'domain'; rename to ``by``."""
    from ...results import EstimateTable

    keys = t.keys.rename(columns={"domain": by})
    return EstimateTable(keys, t.estimates, t.vcov, t.df, t.level, t.dist, t.design, t.title, t.notes, t.extra)


def split_total(t, by: str, label) -> dict:
    """A ``total=label`` table -> {"total": the whole-sample rows as a no-``by`` table would key
    them (column ``domain`` = "all"), "area": the domain rows}."""
    from ...results import EstimateTable

    is_total = (t.keys[by] == label).to_numpy()

    def part(idx, keys):
        extra = None if t.extra is None else t.extra.iloc[idx].reset_index(drop=True)
        return EstimateTable(keys.reset_index(drop=True), t.estimates[idx], t.vcov[np.ix_(idx, idx)], t.df,
                             t.level, t.dist, t.design, t.title, t.notes, extra)

    it, ia = np.flatnonzero(is_total), np.flatnonzero(~is_total)
    kt = t.keys.iloc[it].drop(columns=[by]).assign(domain="all")
    return {"total": part(it, kt), "area": part(ia, t.keys.iloc[ia])}


def curve_frame(obj):
    """(p, value) arrays of a Lorenz/concentration curve result."""
    fr = obj.to_frame() if hasattr(obj, "to_frame") else pd.DataFrame(obj)
    pcol = next(c for c in ("p", "population_share", "x") if c in fr.columns)
    vcol = next(c for c in ("L", "lorenz", "value", "ordinate", "estimate", "concentration", "y") if c in fr.columns)
    return fr[pcol].to_numpy(float), fr[vcol].to_numpy(float)

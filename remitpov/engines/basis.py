"""Row-level bases of the linear measures, in numpy and in SQL, from one definition.

Every estimate an engine computes from per-PSU sums is a ratio ``sum w b_num / sum w
b_den`` (a mean, an FGT index, a ratio) or a total ``sum w b_num`` of row-level *basis*
variables ``b``. A :class:`Term` is one basis variable: its numpy value (the one the
in-memory estimators use, e.g. :func:`remitpov.measures.fgt.contribution`) and the same
value as a SQL expression for the database engine (:mod:`remitpov.engines.duckdb`).
``tests/test_engines.py`` evaluates both on the same rows and checks they agree.

Conventions: poor if ``y < z`` (``strict=True``) or ``y <= z``; lines are positive
(checked by the engines before any term is evaluated); SQL identifiers are quoted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..measures.fgt import contribution

__all__ = ["Term", "one", "column", "fgt", "cdf", "quote", "sql_number"]


def quote(name: str) -> str:
    """A SQL identifier (double quotes, embedded quotes doubled)."""
    return '"' + str(name).replace('"', '""') + '"'


def sql_number(x: float) -> str:
    """A float literal that round-trips exactly (``repr`` of a Python float)."""
    v = float(x)
    if not np.isfinite(v):
        raise ValueError(f"not a finite number: {x!r}")
    return f"CAST({v!r} AS DOUBLE)"


@dataclass(frozen=True)
class Term:
    """One basis variable.

    Attributes
    ----------
    kind : {"one", "column", "fgt", "cdf"}
    income : str, optional
        Column of ``y``.
    alpha : float or "watts", optional
        FGT parameter (``kind="fgt"``).
    line : float or str, optional
        Poverty line (number or column name; ``kind="fgt"``) or threshold (``kind="cdf"``).
    strict : bool
        ``y < z`` (True) or ``y <= z``.
    """

    kind: str
    income: str | None = None
    alpha: float | str | None = None
    line: float | str | None = None
    strict: bool = True

    @property
    def columns(self) -> tuple[str, ...]:
        """Data columns the term reads."""
        out = () if self.income is None else (self.income,)
        return out + ((self.line,) if isinstance(self.line, str) else ())

    def values(self, cols: Mapping[str, np.ndarray], n: int, cache: dict | None = None) -> np.ndarray:
        """The term on ``n`` rows; ``cols`` maps column names to float arrays.

        FGT terms are :func:`remitpov.measures.fgt.contribution` (the one definition). With a
        ``cache`` dict shared by the terms of one chunk, the numeric-``alpha`` terms of one
        (income, line, strict) share one pass: the indicator ``poor`` and the normalised gap
        ``g = max(z - y, 0)/z`` are computed once, and ``alpha = 0`` is ``poor``, ``1`` is
        ``g``, ``2`` is ``g * g`` and any other ``alpha`` is ``g ** alpha`` -- the same
        numbers as ``contribution`` (where ``y`` is poor, ``z - y > 0`` and ``max(z - y, 0)/z``
        is ``(z - y)/z``; elsewhere both are 0: ``g = 0`` at ``y >= z`` and ``poor`` is False at
        ``y > z``; ``x ** 2`` is numpy's ``x * x``), bit for bit (``tests/test_engines.py``).
        """
        if self.kind == "one":
            return np.ones(n)
        y = cols[self.income]
        if self.kind == "column":
            return y
        z = cols[self.line] if isinstance(self.line, str) else float(self.line)
        if self.kind == "cdf":
            return (y <= z).astype(float)
        a = self.alpha
        if cache is None or isinstance(a, str):
            return contribution(y, z, a, self.strict)  # the one FGT definition (remitpov.measures.fgt)
        key = (self.income, self.line, self.strict)
        if key not in cache:
            gap = np.subtract(z, y)
            np.maximum(gap, 0.0, out=gap)
            gap /= z
            cache[key] = ((y < z) if self.strict else (y <= z)), gap
        poor, gap = cache[key]
        if a == 0:
            return poor
        if a == 1:
            return gap
        return gap * gap if a == 2 else gap ** a

    def support(self, cols: Mapping[str, np.ndarray]):
        """Rows where the term can be non-zero (bool array), or None (any row: the constant, a column)."""
        if self.kind in ("one", "column"):
            return None
        y = cols[self.income]
        z = cols[self.line] if isinstance(self.line, str) else float(self.line)
        if self.kind == "cdf":
            return y <= z
        return (y < z) if self.strict else (y <= z)  # the poor: FGT and Watts contributions vanish elsewhere

    def sql(self) -> str:
        """The same value as a SQL expression (DuckDB dialect) of the quoted columns."""
        if self.kind == "one":
            return "CAST(1.0 AS DOUBLE)"
        y = quote(self.income)
        if self.kind == "column":
            return f"CAST({y} AS DOUBLE)"
        z = quote(self.line) if isinstance(self.line, str) else sql_number(self.line)
        if self.kind == "cdf":
            return f"CASE WHEN {y} <= {z} THEN 1.0 ELSE 0.0 END"
        poor = f"{y} {'<' if self.strict else '<='} {z}"
        a = self.alpha
        if a == "watts":
            return f"CASE WHEN {poor} THEN ln(CAST({z} AS DOUBLE) / {y}) ELSE 0.0 END"
        if a == 0:
            return f"CASE WHEN {poor} THEN 1.0 ELSE 0.0 END"
        gap = f"greatest((CAST({z} AS DOUBLE) - {y}) / {z}, 0.0)"
        if a == 1:
            return f"CASE WHEN {poor} THEN {gap} ELSE 0.0 END"
        if a == 2:  # x * x: what numpy's ** 2 computes (exactly rounded square)
            return f"CASE WHEN {poor} THEN {gap} * {gap} ELSE 0.0 END"
        return f"CASE WHEN {poor} THEN pow({gap}, {sql_number(a)}) ELSE 0.0 END"


def one() -> Term:
    """The constant 1 (denominator of means and FGT indices, population counts)."""
    return Term("one")


def column(name: str) -> Term:
    """A numeric column as it is (means, totals, ratios)."""
    return Term("column", income=name)


def fgt(income: str, line, alpha, strict: bool = True) -> Term:
    """FGT contribution ``1[y<z]((z-y)/z)^a`` (``alpha="watts"``: ``1[y<z] log(z/y)``)."""
    return Term("fgt", income=income, alpha=alpha, line=line, strict=strict)


def cdf(income: str, threshold: float) -> Term:
    """``1[y <= q]`` (the cdf at ``q``: Woodruff intervals of quantiles)."""
    return Term("cdf", income=income, line=float(threshold))

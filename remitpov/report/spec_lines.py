"""Poverty lines of the chapter spec: ``[lines]`` / ``[survey.lines]`` parsed into
:class:`LineSpec`, and the checks that run once the survey is loaded (every area has a line,
line columns exist, the lines' declared period is the income concept's).

See :mod:`remitpov.report.spec` for the spec as a whole.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from . import blocks as _blocks
from .spec_common import fail as _fail, number as _number, resolve_path, year as _year

__all__ = ["LineSpec", "LINE_KINDS", "LINE_PERIODS", "RELATIVE_LINE_KEYS", "parse_line", "parse_lines",
           "check_lines_cover", "check_line_columns", "check_line_period"]

LINE_KINDS = ("indigence", "poverty")
#: periods a line may declare (``[survey.lines] period = "month"``); must match the income concept's
LINE_PERIODS = ("month", "quarter", "year")
RELATIVE_LINE_KEYS = ("fraction_of_median", "fraction_of_mean")


@dataclass(frozen=True)
class LineSpec:
    """One poverty line: a number, a mapping area -> number, or a relative line.

    ``relative`` is ``("median"|"mean", fraction, concept)``: the line is ``fraction`` x the
    weighted (person-level) median/mean of the income concept ``concept`` ("with" by default),
    and the SAME (anchored) line is used for the income without remittances.
    """

    key: str
    value: float | None = None
    by_area: Mapping[str, float] | None = None
    relative: tuple[str, float, str] | None = None
    column: str | None = None  # a column (or role, e.g. "poverty_line") of the loaded survey
    table: tuple[str, Any, Any] | None = None  # (source, country, year): remitpov.lines.PovertyLines

    def describe(self) -> Any:
        if self.value is not None:
            return self.value
        if self.column is not None:
            return {"column": self.column}
        if self.table is not None:
            return {"from": self.table[0], "country": self.table[1], "year": self.table[2]}
        if self.by_area is not None:
            return dict(self.by_area)
        stat, frac, concept = self.relative
        return {f"fraction_of_{stat}": frac, "concept": concept}


def parse_line(value, key: str) -> LineSpec:
    if isinstance(value, Mapping):
        rel = [k for k in value if k in RELATIVE_LINE_KEYS]
        if rel:
            extra = set(value) - set(RELATIVE_LINE_KEYS) - {"concept"}
            if len(rel) > 1 or extra:
                raise _fail(key, f"a relative line takes one of {list(RELATIVE_LINE_KEYS)} and optionally "
                            f"'concept', got keys {sorted(value)}", "e.g. {fraction_of_median = 0.6}")
            frac = _number(value[rel[0]], f"{key}.{rel[0]}")
            concept = value.get("concept", "with")
            if concept not in ("with", "without"):
                raise _fail(f"{key}.concept", f"unknown income concept {concept!r}", "use 'with' or 'without'")
            return LineSpec(key, relative=(rel[0].removeprefix("fraction_of_"), frac, concept))
        if not value:
            raise _fail(key, "empty line table", "give one number, or one number per area")
        return LineSpec(key, by_area={str(a): _number(v, f"{key}.{a}") for a, v in value.items()})
    if isinstance(value, str):
        if not value:
            raise _fail(key, "empty column name", "give a number, a table by area, or a column/role name")
        return LineSpec(key, column=value)
    return LineSpec(key, value=_number(value, key))


def parse_lines(raw: Mapping[str, Any], key: str, base: Path | None,
                measures) -> tuple[dict[str, LineSpec], str | None]:
    """``[survey.lines]`` (already merged over the chapter's ``[lines]``) of survey ``key``:
    ``(lines by kind, declared period or None)``.

    ``from`` (with ``country``/``year``) takes both lines from a line table; otherwise each kind
    is a number, a table by area, a relative line or a column/role name (:func:`parse_line`).
    ``measures`` are the survey's: a poverty line is required when one of them needs it.
    """
    lines_raw = dict(raw)
    line_period = lines_raw.pop("period", None)
    if line_period is not None and line_period not in LINE_PERIODS:
        raise _fail(f"{key}.lines.period", f"unknown period {line_period!r}", f"use one of {list(LINE_PERIODS)}")
    table_src = None
    if "from" in lines_raw and line_period is not None:
        raise _fail(f"{key}.lines.period", "given with 'from' (a line table declares the period of each line)",
                    "remove period: table lines are converted to the income concept's period")
    if "from" in lines_raw:
        src = lines_raw.pop("from")
        country, year = lines_raw.pop("country", None), lines_raw.pop("year", None)
        if year is not None:
            year = _year(year, f"{key}.lines.year")
        if src not in ("default", "coneval"):  # "coneval": remitpov.io.enigh_tables.coneval_lines()
            src = str(resolve_path(src, f"{key}.lines.from", base))
        if any(k in lines_raw for k in LINE_KINDS):
            raise _fail(f"{key}.lines", "both 'from' (a line table) and explicit lines given",
                        "keep one of them")
        table_src = (src, country, year)
        lines_raw = {k: None for k in LINE_KINDS}
    unknown = sorted(set(lines_raw) - set(LINE_KINDS))
    if unknown:
        raise _fail(f"{key}.lines", f"unknown line(s) {unknown}", f"use {list(LINE_KINDS)}")
    needs_lines = set(_blocks.line_measures()) & set(measures)
    if needs_lines and "poverty" not in lines_raw:
        raise _fail(f"{key}.lines.poverty", f"missing (needed by measures {sorted(needs_lines)})",
                    "add [survey.lines] poverty = <number> or a table {area = number}")
    if table_src is not None:
        return {k: LineSpec(f"{key}.lines", table=table_src) for k in LINE_KINDS}, line_period
    return {k: parse_line(v, f"{key}.lines.{k}") for k, v in lines_raw.items()}, line_period


def check_lines_cover(spec, area_values) -> None:
    """After loading (before estimation): every area in the data needs a line."""
    present = sorted({str(a) for a in area_values})
    for kind, line in spec.lines.items():
        if line.by_area is None:
            continue
        missing = [a for a in present if a not in line.by_area]
        if missing:
            raise _fail(line.key, f"no line for area(s) {missing} (lines given for {sorted(line.by_area)}, "
                        f"areas in the data: {present})",
                        f"add {', '.join(f'{a} = <number>' for a in missing)} to [{spec.key}.lines] {kind}, "
                        "or give a single number for all areas")


def check_line_columns(spec, survey) -> None:
    """After loading: lines given as a column or role name must exist in the data."""
    for kind, line in spec.lines.items():
        if line.column is None:
            continue
        col = survey.roles.get(line.column, line.column)
        if col not in survey.data.columns:
            raise _fail(line.key, f"no column or role {line.column!r} in the loaded survey",
                        f"use a number, or one of the roles {sorted(survey.roles)}")


def check_line_period(spec, income_period: str | None) -> None:
    """After building the income concept: declared lines' period must be the income's.

    ``income_period`` is the period of the chapter's income concept (``[income] period`` when
    :func:`remitpov.income.build_income` built it, else the survey metadata's
    ``income_period``). Lines that declare no period are assumed to be in the income's
    period (the plausibility check of :func:`remitpov.report.chapter.rate_warnings` then
    flags the usual mistakes).
    """
    lp = spec.line_period
    if lp is None or income_period is None or lp == income_period:
        return
    raise _fail(f"{spec.key}.lines.period", f"the lines are per {lp} but the income concept of survey "
                f"{spec.id!r} is per {income_period}: every rate would be wrong (an annual line against monthly "
                "income puts almost everyone below it)",
                f"give the lines per {income_period}, or set [income] period = {lp!r} so income is per {lp}")

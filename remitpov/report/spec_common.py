"""Shared checks of the chapter spec parser (:mod:`remitpov.report.spec` and its parts).

Every failure is a :class:`~remitpov.exceptions.SpecError` worded ``"KEY: problem. Fix: fix"``,
naming the spec key (e.g. ``survey[1].lines.poverty``) and what to write instead.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import numpy as np

from ..config import shared_dir
from ..exceptions import InputError, SpecError
from ..formula import check_formula

__all__ = ["fail", "str_list", "number", "year", "formula", "check_keys", "resolve_path"]


def fail(key: str, problem: str, fix: str) -> SpecError:
    return SpecError(f"{key}: {problem}. Fix: {fix}")


def str_list(value, key: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise fail(key, f"expected a list of {what}, got {value!r}", f"write e.g. {key.split('.')[-1]} = {list(allowed[:2])}")
    out = []
    for v in value:
        if v not in allowed:
            raise fail(key, f"unknown {what[:-1] if what.endswith('s') else what} {v!r}",
                        f"use one of {list(allowed)}")
        if v not in out:
            out.append(v)
    return tuple(out)


def number(value, key: str, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(key, f"expected a number, got {value!r}", "give the line as a number in the units of the "
                    "income concept (e.g. monthly per-capita income)")
    v = float(value)
    if not np.isfinite(v) or (positive and v <= 0):
        raise fail(key, f"the value {value!r} is not a positive finite number", "give a positive line")
    return v


def year(value, key: str) -> int:
    """A survey year: a whole number between 1900 and 2100 (not a string, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 2100:
        raise fail(key, f"expected a year (a whole number between 1900 and 2100), got {value!r}",
                    "write e.g. year = 2018 (no quotes)")
    return value


def formula(value, key: str, columns=None) -> list[str]:
    """Check a formula from the spec with :func:`remitpov.formula.check_formula` (no evaluation)."""
    try:
        return check_formula(value, columns)
    except InputError as e:
        raise SpecError(f"{key}: {e}") from None


def resolve_path(raw: str, key: str, base: Path | None) -> Path:
    p = Path(os.path.expanduser(str(raw)))
    tried = []
    if p.is_absolute():
        tried.append(p)
    else:
        if base is not None:
            tried.append((base / p).resolve())
        tried.append((shared_dir() / p).resolve())
        tried.append(p.resolve())
    for t in tried:
        if t.exists():
            return t
    raise fail(key, f"input file not found: {raw!r} (tried {', '.join(str(t) for t in tried)})",
                "correct the path (relative paths are looked up next to the spec file, then in the shared "
                "data folder $REMITPOV_SHARED)")


def check_keys(table: Mapping, allowed: set, key: str):
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise fail(key, f"unknown key(s) {unknown}", f"remove them; known keys are {sorted(allowed)}")

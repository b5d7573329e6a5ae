"""Block ``coverage``: survey remittances against the balance of payments (table ``coverage``),
figures ``coverage_by_state_<survey>`` (:func:`by_state`: percent, the table's CIs) and
``coverage_time_series`` (national totals and coverage across the chapter's surveys).

Spec keys, under the survey (shared with the ``impact_range`` block)::

    [survey.coverage]
    banxico = "data/banxico"     # Banxico folder (national + state series), or the national file
    exchange_rate = 20.13        # optional: local currency per USD (default: remitpov.coverage.MXN_PER_USD)
    year = 2022                  # optional: default the survey's metadata.year
    by_state = true              # optional: default true for a folder, false for a file
    state = "state"              # optional: the state column (codes 1-32); default the survey's region role
    macro_se = 0.0               # optional: SE of the BoP total (USD); default 0 (known)
    method = "proportional"      # impact_range only: "proportional" | "impute"
    extra_recipients = 0.25      # impact_range only, method = "impute"
    seed = 2026                  # impact_range only: default the chapter seed

:func:`parse_coverage` validates them when the spec is read (unknown keys refused, the
Banxico path must exist, a rate must be > 0).

Tidy rows (``survey``, ``domain`` = "national"/"state", ``group`` = "all"/state name,
``indicator``): ``survey_usd`` and ``bop_usd`` (million US dollars: the survey's annual
design-based total and the BoP total) and ``coverage`` (percent, 100 x
:func:`remitpov.coverage.remittance_coverage`'s ratio with its SE and t-based CI).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ...exceptions import SpecError
from ._registry import Block, BlockOutput, register
from ._common import tidy

#: keys of ``[survey.coverage]``
COVERAGE_KEYS = ("banxico", "exchange_rate", "year", "by_state", "state", "macro_se", "method", "extra_recipients",
                 "seed")
#: million: the unit of the totals in the tables
MILLION = 1e6


def _fail(key: str, problem: str, fix: str) -> SpecError:
    return SpecError(f"{key}: {problem}. Fix: {fix}")  # the spec's message form (remitpov.report.spec)


def parse_coverage(raw, key: str, resolve: Callable[[str, str], Path], measures) -> dict | None:
    """Validate ``[survey.coverage]`` (``key`` = "survey[i].coverage"); None when absent and unused.

    ``resolve(path, key)`` is the spec's path lookup (spec folder, then the shared folder;
    :class:`SpecError` naming the key and the places tried when the path does not exist).
    Raises :class:`~remitpov.exceptions.SpecError` naming the key: a measure ``coverage`` or
    ``impact_range`` without the table, unknown keys, a Banxico path that does not exist,
    a non-positive exchange rate, ``by_state`` with the national file only, bad types.
    """
    users = sorted(set(measures) & {"coverage", "impact_range"})
    if raw is None:
        if users:
            raise _fail(key, f"missing (needed by measures {users})",
                        "add [survey.coverage] banxico = \"data/banxico\" (the Banco de México folder)")
        return None
    if not isinstance(raw, Mapping):
        raise _fail(key, "must be a table", "write [survey.coverage] with banxico = \"data/banxico\"")
    unknown = sorted(set(raw) - set(COVERAGE_KEYS))
    if unknown:
        raise _fail(key, f"unknown key(s) {unknown}", f"remove them; known keys are {list(COVERAGE_KEYS)}")
    if "banxico" not in raw:
        raise _fail(f"{key}.banxico", "missing", "give the Banco de México folder, e.g. banxico = \"data/banxico\"")
    if not isinstance(raw["banxico"], str) or not raw["banxico"]:
        raise _fail(f"{key}.banxico", f"expected a path, got {raw['banxico']!r}", "e.g. banxico = \"data/banxico\"")
    out: dict[str, Any] = {"banxico": str(resolve(raw["banxico"], f"{key}.banxico"))}
    is_dir = Path(out["banxico"]).is_dir()
    by_state = raw.get("by_state", is_dir)
    if not isinstance(by_state, bool):
        raise _fail(f"{key}.by_state", f"expected true/false, got {by_state!r}", "by_state = true")
    if by_state and not is_dir:
        raise _fail(f"{key}.by_state", f"true with a file ({out['banxico']}): the state totals are in "
                    "remesas_entidad.csv", "give the Banxico folder as banxico, or set by_state = false")
    out["by_state"] = by_state
    if "state" in raw:
        if not isinstance(raw["state"], str) or not raw["state"]:
            raise _fail(f"{key}.state", f"expected a column name, got {raw['state']!r}", "e.g. state = \"state\"")
        out["state"] = raw["state"]
    if "exchange_rate" in raw:
        out["exchange_rate"] = _num(raw["exchange_rate"], f"{key}.exchange_rate", True,
                                    "give local currency per US dollar, e.g. exchange_rate = 20.13, or remove it to "
                                    "use the package's table (remitpov.coverage.MXN_PER_USD)")
    if "year" in raw:
        y = raw["year"]
        if isinstance(y, bool) or not isinstance(y, int) or not 1900 <= y <= 2100:
            raise _fail(f"{key}.year", f"expected a year (a whole number between 1900 and 2100), got {y!r}",
                        "e.g. year = 2022, or remove it to use the survey's year")
        out["year"] = y
    if "macro_se" in raw:
        out["macro_se"] = _num(raw["macro_se"], f"{key}.macro_se", False, "macro_se = 0 (the BoP total treated as known)")
    method = raw.get("method", "proportional")
    if method not in ("proportional", "impute"):
        raise _fail(f"{key}.method", f"unknown method {method!r}", "use 'proportional' or 'impute'")
    out["method"] = method
    extra = _num(raw.get("extra_recipients", 0.0), f"{key}.extra_recipients", False, "e.g. extra_recipients = 0.25")
    if method == "impute" and extra == 0:
        raise _fail(f"{key}.extra_recipients", "method 'impute' needs extra_recipients > 0",
                    "e.g. extra_recipients = 0.25 (a quarter more recipients)")
    out["extra_recipients"] = float(extra)
    if "seed" in raw:
        sd = raw["seed"]
        if isinstance(sd, bool) or not isinstance(sd, int) or sd < 0:
            raise _fail(f"{key}.seed", f"expected a non-negative integer, got {sd!r}", "e.g. seed = 2026")
        out["seed"] = sd
    return out


def _num(value, key: str, positive: bool, fix: str) -> float:
    """A finite number, > 0 (``positive``) or >= 0, else :class:`SpecError` naming ``key``."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and np.isfinite(value)
    if not ok or (value <= 0 if positive else value < 0):
        raise _fail(key, f"expected a finite number {'> 0' if positive else '>= 0'}, got {value!r}", fix)
    return float(value)


def coverage_of(p, spec=None):
    """:func:`remitpov.coverage.remittance_coverage` with the survey's ``[survey.coverage]`` options."""
    from ...coverage import remittance_coverage

    c = p.spec.coverage
    return remittance_coverage(p.survey, c["banxico"], c.get("exchange_rate"), year=c.get("year"),
                               macro_se=c.get("macro_se", 0.0), by_state=c["by_state"], state=c.get("state"),
                               ci_level=0.95 if spec is None else spec.ci_level)


def coverage_rows(label: str, cov, macro_se: float = 0.0) -> pd.DataFrame:
    """Tidy rows of a :class:`remitpov.coverage.Coverage`: totals (million USD) and the ratio (percent).

    ``macro_se``: the national BoP total's SE in USD (as passed to ``remittance_coverage``;
    state totals are treated as known there, SE 0)."""
    from ...coverage import MX_STATES

    t = cov.table
    national = (t["domain"] == "national").to_numpy()
    names = MX_STATES if cov.country == "MEX" else {}
    group = np.where(national, "all", [str(names.get(d, d)) for d in t["domain"]])
    keys = {"survey": label, "domain": np.where(national, "national", "state"), "group": group}
    q = stats.t.ppf(0.5 + cov.ci_level / 2, t["df"].to_numpy(float))
    frames = []
    for ind, est, se, scale, unit in (("survey_usd", "survey_usd", "survey_usd_se", 1 / MILLION, "million USD"),
                                      ("bop_usd", "macro_usd", None, 1 / MILLION, "million USD")):
        e = t[est].to_numpy(float)
        s = t[se].to_numpy(float) if se else np.where(national, float(macro_se), 0.0)
        fr = pd.DataFrame({"estimate": e, "se": s, "ci_lower": e - q * s, "ci_upper": e + q * s})
        frames.append(tidy({**keys, "indicator": ind}, fr, unit, scale=scale))
    frames.append(tidy({**keys, "indicator": "coverage"},
                       t.rename(columns={"coverage": "estimate", "coverage_se": "se"}), "percent"))
    out = pd.concat(frames, ignore_index=True)
    order = {"survey_usd": 0, "bop_usd": 1, "coverage": 2}
    rank = out["indicator"].map(order).to_numpy() + 3 * (out["domain"] == "state").to_numpy()
    return out.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


def run(spec, p, ctx) -> BlockOutput:
    """Coverage of one survey: national (and by state with ``by_state``), tidy rows + extras for figures."""
    cov = coverage_of(p, spec)
    extra = cov.table.assign(survey=p.spec.label, sid=p.spec.id, year=cov.year, rate=cov.rate,
                             annualise=cov.annualise, ci_level=cov.ci_level, country=cov.country)
    return BlockOutput({"coverage": coverage_rows(p.spec.label, cov, p.spec.coverage.get("macro_se", 0.0))}, {"coverage": cov}, {"coverage": extra})


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", str(s)).strip("_") or "survey"


def figures(spec, tables, extras, folder):
    """One by-state bar chart per survey with state rows; the national time series when >= 1 survey."""
    ex = extras.get("coverage")
    if ex is None or ex.empty:
        return []
    out = []
    for sid, fr in ex.groupby("sid", sort=False):
        if (fr["domain"] != "national").sum() == 0:
            continue
        out += by_state(fr, folder / f"coverage_by_state_{_slug(sid)}", spec.language, spec.figures)
    nat = ex[ex["domain"] == "national"].sort_values("year", kind="stable")
    out += time_series(nat, folder / "coverage_time_series", spec.language, spec.figures)
    return out


def by_state(fr: pd.DataFrame, stem, language: str, formats) -> list:
    """Coverage by state in percent, the numbers of the ``coverage`` table (symmetric t-based
    CI, cut at 0 and marked; national line with its CI band): drawn by
    :func:`remitpov.report.figures.coverage_by_state`.

    ``fr``: one survey's rows of the block's ``coverage`` extra (national row + state rows).
    """
    from ...coverage import MX_STATES
    from .. import figures as F

    names = MX_STATES if fr["country"].iloc[0] == "MEX" else {}
    return F.coverage_by_state(fr, stem, language=language, formats=formats, names=names)


def time_series(nat: pd.DataFrame, stem, language: str, formats) -> list:
    """Survey vs BoP remittances (million USD) and coverage (%) with its CI by year:
    :func:`remitpov.report.figures.coverage_time_series`."""
    from .. import figures as F

    return F.coverage_time_series(nat, stem, language=language, formats=formats)


BLOCK = register(Block("coverage", run, ("coverage",), rank=80, step="{sid}: remittance coverage (balance of payments)",
                       needs_remittances=True, default=False, tidy=("coverage",), figures=figures))

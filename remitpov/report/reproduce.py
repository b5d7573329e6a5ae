"""Check published figures against fresh computations (``remitpov reproduce TARGETS.toml``).

A targets file lists published numbers with their unit, tolerance, citation and how to
compute them with remitpov's estimators:

.. code-block:: toml

    [[target]]
    id = "gt2000-poverty"
    description = "Guatemala ENCOVI 2000, general poverty, % of persons"
    value = 56.2
    unit = "percent"        # "percent" (computed x 100), "proportion", "value", "percentage points"
    tolerance = 0.05        # absolute, in `unit` (here: half the last published digit)
    source = "INE Guatemala, ENCOVI 2000 ..."
    [target.compute]
    measure = "fgt"         # see target_measures()
    survey = { format = "encovi2000", path = "data/encovi2000_gt" }
    income = "agreg3"
    line = 4318.56          # number, column/role name, or {fraction_of_median = 0.6}
    alpha = 0

A target passes when ``|computed - value| <= tolerance``. The file is validated before
anything is computed (:class:`~remitpov.exceptions.SpecError` naming ``target[i].key``).

Measures (``compute.measure``, :func:`target_measures`):

* every measure of the one registry (:mod:`remitpov.measures`: ``fgt``, ``gini``,
  ``quantile``, ``qsr``, ``mean``, ``total``, ``ratio``, ``arpt``, ``rmpg``, ...): its public
  function is called with the ``[target.compute]`` keys named as its parameters (``income``,
  ``line``, ``alpha``, ``rule``, ``definition``, ``epsilon``, ``na_rm``, ...; spelled
  ``variable`` for ``variables`` and ``prob`` (one number) for ``probs``: :data:`SPELLINGS`);
  the parameters without a default are required. A ``line`` is a number, a column/role name
  or ``{fraction_of_median = 0.6}``; ``fgt`` runs without the headcount total. The table
  must have one row for the target (give one ``alpha``, ``prob``, ``epsilon``).
* checks that are not measures (:data:`TARGET_CHECKS`): ``arpr`` (``fgt`` with
  ``alpha = 0``; default line 60 % of the median, laeken's quantile rule);
  ``static_identity``: the chapter's with/without poverty on a survey (``line``); the
  computed value is ``change in the total rate - recipients' share x change among
  recipients`` (zero under the static counterfactual); ``published_identity``: the same
  check on a published with/without table (``table = {total_with, total_without,
  recipients_with, recipients_without, recipient_share}``, all in percent); the tolerance
  should reflect the rounding.

Every measure takes ``stat = "estimate"`` (default) or ``"se"``, ``level``
(``"person"``/``"household"``), ``strict`` and an optional ``domain = {column, value}``.
"""
from __future__ import annotations

import inspect
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .. import measures
from ..exceptions import RemitpovError, SpecError
from .spec import FORMATS, NO_FILE_FORMATS, resolve_path

#: targets that are not measures of the registry: name -> the ``[target.compute]`` keys they need
TARGET_CHECKS = {"arpr": ("income",), "static_identity": ("line",), "published_identity": ("table",)}
#: a measure function's parameter -> its spelling in ``[target.compute]``
SPELLINGS = {"variables": "variable", "probs": "prob"}
#: options a target sets differently from the measure function's default
_TARGET_DEFAULTS = {"headcount_total": False}
UNITS = ("percent", "proportion", "value", "percentage points")
_TABLE_KEYS = ("total_with", "total_without", "recipients_with", "recipients_without", "recipient_share")


@dataclass(frozen=True)
class Target:
    index: int
    id: str
    description: str
    value: float
    unit: str
    tolerance: float
    source: str
    compute: Mapping[str, Any]

    @property
    def key(self) -> str:
        return f"target[{self.index}]"


def target_measures() -> tuple[str, ...]:
    """Valid ``compute.measure`` values: the registry's measures (and aliases), then :data:`TARGET_CHECKS`."""
    return measures.names(aliases=True) + tuple(TARGET_CHECKS)


def measure_function(m: str):
    """The public function of registry measure ``m``: ``Measure.function`` in its family's public
    module (:mod:`remitpov.poverty`, :mod:`remitpov.inequality`, :mod:`remitpov.estimation`)."""
    from .. import estimation, inequality, poverty

    meas = measures.get(m)
    return getattr({"poverty": poverty, "inequality": inequality, "mean": estimation}[meas.family], meas.function)


def _parameters(m: str) -> list[inspect.Parameter]:
    """The parameters of a registry measure's public function after ``survey``."""
    return list(inspect.signature(measure_function(m)).parameters.values())[1:]


def _required(m: str) -> tuple[str, ...]:
    """The ``[target.compute]`` keys measure ``m`` needs (a check's, or its function's parameters without a default)."""
    if m in TARGET_CHECKS:
        return TARGET_CHECKS[m]
    return tuple(SPELLINGS.get(p.name, p.name) for p in _parameters(m)
                 if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD)


def _fail(key, problem, fix):
    return SpecError(f"{key}: {problem}. Fix: {fix}")


def _num(v, key, nonneg=False):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or (nonneg and v < 0):
        raise _fail(key, f"expected a {'non-negative ' if nonneg else ''}number, got {v!r}", "give a number")
    return float(v)


def _check_survey(sv, key, base):
    if not isinstance(sv, Mapping):
        raise _fail(key, "must be a table", "survey = {format = 'eusilc', path = '...'}")
    fmt = sv.get("format")
    if fmt not in FORMATS:
        raise _fail(f"{key}.format", f"unknown survey format {fmt!r}", f"use one of {list(FORMATS)}")
    out = dict(sv)
    if fmt not in NO_FILE_FORMATS:
        if "path" not in sv:
            raise _fail(f"{key}.path", "missing", "give the input file")
        out["path"] = str(resolve_path(sv["path"], f"{key}.path", base))
    if fmt == "table" and "weight" not in sv.get("options", {}):
        raise _fail(f"{key}.options.weight", "missing", "the 'table' format needs options.weight")
    return out


def parse_targets(data: Mapping[str, Any], base_dir=None) -> list[Target]:
    """Validate a parsed targets file (before any computation)."""
    base = None if base_dir is None else Path(base_dir)
    raw = data.get("target")
    if not raw:
        raise _fail("target", "no target given", "add [[target]] tables")
    out, ids = [], set()
    for i, t in enumerate(raw):
        key = f"target[{i}]"
        for k in ("id", "value", "unit", "tolerance", "source", "compute"):
            if k not in t:
                raise _fail(f"{key}.{k}", "missing", "every target needs id, value, unit, tolerance, source "
                            "(citation) and a [target.compute] table")
        if t["id"] in ids:
            raise _fail(f"{key}.id", f"duplicate id {t['id']!r}", "give every target a distinct id")
        ids.add(t["id"])
        if t["unit"] not in UNITS:
            raise _fail(f"{key}.unit", f"unknown unit {t['unit']!r}", f"use one of {list(UNITS)}")
        c = dict(t["compute"])
        m = c.get("measure")
        if m not in target_measures():
            raise _fail(f"{key}.compute.measure", f"unknown measure {m!r}", f"use one of {list(target_measures())}")
        for r in _required(m):
            if r not in c:
                raise _fail(f"{key}.compute.{r}", "missing", f"measure {m!r} needs {list(_required(m))}")
        if c.get("stat", "estimate") not in ("estimate", "se"):
            raise _fail(f"{key}.compute.stat", f"unknown stat {c['stat']!r}", "use 'estimate' or 'se'")
        if m == "published_identity":
            tab = c["table"]
            miss = [k for k in _TABLE_KEYS if k not in tab]
            if miss:
                raise _fail(f"{key}.compute.table", f"missing {miss}", f"give {list(_TABLE_KEYS)} (percent)")
            for k in _TABLE_KEYS:
                _num(tab[k], f"{key}.compute.table.{k}")
        else:
            if "survey" not in c:
                raise _fail(f"{key}.compute.survey", "missing", "survey = {format = ..., path = ...}")
            c["survey"] = _check_survey(c["survey"], f"{key}.compute.survey", base)
        out.append(Target(i, str(t["id"]), str(t.get("description", "")), _num(t["value"], f"{key}.value"),
                          t["unit"], _num(t["tolerance"], f"{key}.tolerance", nonneg=True), str(t["source"]), c))
    return out


def load_targets(path) -> list[Target]:
    p = Path(path)
    if not p.exists():
        raise _fail("targets", f"file not found: {p}", "give the path of a targets TOML file")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise _fail("targets", f"{p} is not valid TOML ({e})", "fix the TOML syntax") from None
    return parse_targets(data, p.resolve().parent)


# --------------------------------------------------------------------------- computing
class _Surveys:
    """Load each distinct survey once."""

    def __init__(self, seed: int = 2026):
        self.cache: dict[str, Any] = {}
        self.seed = seed

    def get(self, sv: Mapping[str, Any]):
        k = json.dumps(sv, sort_keys=True, default=str)
        if k not in self.cache:
            from .chapter import load_survey
            from .spec import SurveySpec

            spec = SurveySpec(0, "target", "target", sv["format"], None if "path" not in sv else Path(sv["path"]),
                              dict(sv.get("options", {})), {}, {}, (), None)
            self.cache[k] = load_survey(spec, self.seed)
        return self.cache[k]


def _line(line, survey, income):
    from ..poverty import RelativeLine

    if isinstance(line, Mapping):
        if "fraction_of_median" in line:
            return RelativeLine(share=float(line["fraction_of_median"]), of="median",
                                income=line.get("income"), quantile_rule=line.get("quantile_rule", "laeken"))
        if "fraction_of_mean" in line:
            return RelativeLine(share=float(line["fraction_of_mean"]), of="mean", income=line.get("income"))
        raise SpecError(f"line {dict(line)}: use a number, a column or {{fraction_of_median = 0.6}}")
    if isinstance(line, str):
        return survey.roles.get(line, line)
    return float(line)


def _by(c, survey):
    d = c.get("domain")
    if d is None:
        return None, {}
    col = survey.roles.get(d["column"], d["column"])
    return col, {col: d["value"]}


def _pick(table, stat, sel):
    fr = table.to_frame()
    for k, v in sel.items():
        fr = fr[fr[k].astype(str) == str(v)]
    if len(fr) != 1:
        raise SpecError(f"{len(fr)} rows match the selection {sel}; check the domain value")
    return float(fr.iloc[0][stat])


def compute_target(t: Target, surveys: _Surveys | None = None) -> float:
    """Fresh computation of one target, in the target's unit."""
    c = t.compute
    m = c["measure"]
    stat = c.get("stat", "estimate")
    scale = float(c.get("scale", 100.0 if t.unit in ("percent",) else 1.0))
    if m == "published_identity":
        tab = c["table"]
        return (tab["total_with"] - tab["total_without"]) - tab["recipient_share"] / 100 * (
            tab["recipients_with"] - tab["recipients_without"])
    if m == "static_identity":
        return _static_identity(t)
    surveys = surveys or _Surveys()
    sv = surveys.get(c["survey"])
    level = c.get("level", "person")
    by, sel = _by(c, sv)
    if m == "arpr":
        c = dict(c, measure="fgt", alpha=0, line=c.get("line", {"fraction_of_median": 0.6}))
    return scale * _pick(_measure_table(c, sv, by, level), stat, sel)


def _measure_table(c: Mapping[str, Any], sv, by, level: str):
    """The table of the registry measure ``c["measure"]``: its public function with the target's keys
    named as its parameters (module docstring), design effects off (a target reads estimates or SEs)."""
    fn = measure_function(c["measure"])
    kwargs: dict[str, Any] = {}
    params = _parameters(c["measure"])
    for p in params:
        key = SPELLINGS.get(p.name, p.name)
        if p.name in ("by", "level") or p.kind is not p.POSITIONAL_OR_KEYWORD and p.kind is not p.KEYWORD_ONLY:
            continue
        if key in c:
            v = c[key]
            if p.name == "line":
                v = _line(v, sv, c.get("income"))
            elif p.name == "probs":
                v = (float(v),)
            kwargs[p.name] = v
        elif p.name in _TARGET_DEFAULTS:
            kwargs[p.name] = _TARGET_DEFAULTS[p.name]
    if any(p.name == "deff" or p.kind is p.VAR_KEYWORD for p in params):
        kwargs["deff"] = False
    return fn(sv, by=by, level=level, **kwargs)


def _static_identity(t: Target) -> float:
    from .blocks import BLOCKS
    from .chapter import prepare_survey
    from .spec import parse_spec

    c = t.compute
    s = dict(c["survey"])
    s.update({"id": "target", "measures": ["poverty"], "lines": {"poverty": c["line"]}})
    spec = parse_spec({"chapter": {"measures": ["poverty"]}, "survey": [s]})
    p = prepare_survey(spec.surveys[0], spec.seed)
    ident = BLOCKS["poverty"].run(spec, p, {}).tables["identity"]
    return float(ident.loc[ident["indicator"] == "poverty", "discrepancy"].iloc[0])


@dataclass(frozen=True)
class ReproduceResult:
    table: pd.DataFrame

    @property
    def ok(self) -> bool:
        return bool((self.table["status"] == "pass").all())

    def summary(self) -> str:
        fr = self.table[["id", "value", "computed", "difference", "tolerance", "unit", "status"]]
        with pd.option_context("display.width", 160, "display.max_colwidth", 40):
            body = fr.to_string(index=False, float_format=lambda v: f"{v:.6g}")
        n_pass = int((self.table["status"] == "pass").sum())
        return f"{body}\n{n_pass}/{len(self.table)} targets reproduced"


def reproduce(targets, *, seed: int = 2026) -> ReproduceResult:
    """Compute every target (path, dict or list of :class:`Target`) and compare."""
    if isinstance(targets, (str, Path)):
        targets = load_targets(targets)
    elif isinstance(targets, Mapping):
        targets = parse_targets(targets)
    cache = _Surveys(seed)
    rows = []
    for t in targets:
        try:
            v = compute_target(t, cache)
            diff = v - t.value
            status = "pass" if abs(diff) <= t.tolerance else "FAIL"
            err = ""
        except (RemitpovError, ValueError, LookupError, OSError, ArithmeticError) as e:
            # a target that cannot be computed (bad data, missing file, estimator refusal) is an
            # ERROR row with the reason; programming errors (TypeError, AttributeError...)
            # propagate with their traceback instead of hiding as a row
            v, diff, status, err = np.nan, np.nan, "ERROR", f"{type(e).__name__}: {e}"
        rows.append({"id": t.id, "description": t.description, "value": t.value, "computed": v, "difference": diff,
                     "tolerance": t.tolerance, "unit": t.unit, "status": status, "source": t.source, "error": err})
    return ReproduceResult(pd.DataFrame(rows))

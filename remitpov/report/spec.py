"""Chapter specification: a TOML file describing the surveys, income concept, lines and outputs.

A chapter spec is parsed and validated *before* anything is loaded or estimated. Every
problem raises :class:`~remitpov.exceptions.SpecError` naming the key (e.g.
``survey[1].lines.poverty``) and the fix. Validation happens in two stages:

1. :func:`load_spec` / :func:`parse_spec` check the file itself: known survey formats,
   input files exist, known measures/domains/formats/language, line values are numbers;
   :func:`remitpov.report.output.check_target` checks the output folder (writable; new, empty
   or a previous chapter output).
2. :func:`check_lines_cover` runs after the surveys are *loaded* (reading files is not
   estimation) and before any estimate: every area value in the data must have a line;
   :func:`check_line_period`: lines that declare their period (``[survey.lines] period``)
   must be in the income concept's period (``[income] period`` when income is built, else
   the survey metadata's ``income_period``).

Example
-------
.. code-block:: toml

    [chapter]
    title = "Remittances and poverty"
    language = "en"                    # "en" or "es"
    seed = 2026
    measures = ["incidence", "poverty", "fgt", "gini", "decomposition"]
    domains = ["area", "quintile", "decile", "recipient"]
    tables = ["csv", "xlsx", "md", "tex"]
    figures = ["png", "pdf"]
    report = "html"                    # report.html (one self-contained page) or "none"
    text = "An introduction."          # Markdown (paragraphs, # headings, *emphasis*, - lists)

    [income]                           # defaults for every survey (build_income options)
    scale = "per_capita"
    period = "month"

    [[survey]]
    id = "mex2018"
    label = "Mexico 2018 (Aguascalientes)"
    format = "enigh"                   # enigh | encovi2000 | eusilc | synthetic | table
    path = "data/enigh2018_ags/ConcAguascalientes.dbf"   # spec folder, then $REMITPOV_SHARED
    [survey.lines]
    period = "month"                                     # optional: the lines' period; must be the income's
    indigence = { urban = 1516.62, rural = 1085.02 }     # or one number, {fraction_of_median=0.4},
                                                         # or a column/role name, e.g. "indigence_line"
    # or both lines from a remitpov.lines.PovertyLines table ("default" = the shipped one, "coneval" =
    # CONEVAL's ENIGH 2018/2020/2022 lines, remitpov.io.enigh_tables.coneval_lines(), or a CSV):
    # [survey.lines]
    # from = "default"
    # country = "MEX"
    # year = 2018
    poverty = { urban = 3001.17, rural = 1941.35 }
    [survey.counterfactual]            # optional: "static" (default), "heckman" or "multinomial"
    method = "multinomial"             # no migrants / internal / international (BFG 2007)
    status = "migration_status"        # column or role; base = its no-migrant category
    base = "none"
    correction = "bfg"                 # lee | dmf | dmf1 | bfg (remitpov.econometrics.multinomial.METHODS)
    income_formula = "head_educ + head_age + head_female + C(area)"
    selection_formula = "head_educ + head_age + head_female + C(area) + mig_network + int_network"
    binary_selection_formula = "head_educ + head_age + head_female + C(area) + mig_network"  # optional
    draws = 20                         # 0 = deterministic, >= 2 = imputations (Rubin's rules)
    static_sources = ["remittances", "internal_transfers"]  # static = income without ALL of these

Relative paths are resolved against the spec file's folder first and then against the
shared data folder (:func:`remitpov.config.shared_dir`).

Formulas (``income_formula``, ``selection_formula``, ``binary_selection_formula``) are never
evaluated while the spec is checked: :func:`remitpov.formula.check_formula` accepts only
variables, numbers, formula operators and a whitelist of functions (``np.log``, ``np.exp``,
``np.sqrt``, ..., ``C()``, ``I()``) and refuses anything else naming the token; once the
survey is loaded every variable must be one of its columns.

The measures a spec may ask for, and which of them need remittances or a poverty line, come
from the chapter block registry (:mod:`remitpov.report.blocks`).
"""
from __future__ import annotations

import copy
import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..config import shared_dir
from ..exceptions import InputError, SpecError
from ..formula import check_formula
from . import blocks as _blocks

#: survey formats -> (module, function) of the loader: a live view of the one loader registry
#: (remitpov.io.registry); formats that need no input file likewise.
from ..io.registry import FORMAT_TARGETS as FORMATS, NO_FILE_FORMATS  # noqa: E402

#: chapter measures, from the block registry (remitpov.report.blocks: one file per block)
MEASURES = _blocks.measures()
#: measures that need a remittance column in the survey
REMITTANCE_MEASURES = _blocks.remittance_measures()
#: measures that need a poverty line
LINE_MEASURES = _blocks.line_measures()
DOMAINS = ("area", "quintile", "decile", "recipient")
TABLE_FORMATS = ("csv", "xlsx", "md", "tex")
FIGURE_FORMATS = ("png", "pdf", "svg")
from .i18n import LANGUAGES  # noqa: E402  (the languages of the translation table)
LINE_KINDS = ("indigence", "poverty")
#: periods a line may declare (``[survey.lines] period = "month"``); must match the income concept's
LINE_PERIODS = ("month", "quarter", "year")
RELATIVE_LINE_KEYS = ("fraction_of_median", "fraction_of_mean")
COUNTERFACTUAL_METHODS = ("static", "heckman", "multinomial")
#: presets of remitpov.econometrics.counterfactual: covariates builder + formulas
COUNTERFACTUAL_PRESETS = ("enigh_rural",)
_COUNTERFACTUAL_KEYS = {"method", "preset", "income_formula", "selection_formula", "draws", "seed", "kind",
                        "estimator", "weighted", "nonpositive"}
#: keys of ``method = "multinomial"`` (remitpov.econometrics.multinomial.multinomial_counterfactual_table)
_MULTINOMIAL_KEYS = {"method", "status", "base", "correction", "income_formula", "selection_formula",
                     "binary_selection_formula", "draws", "seed", "static_sources", "kind", "weighted",
                     "nonpositive"}
#: defaults of ``method = "multinomial"``; ``static_sources`` are names of income sources
#: (``survey.sources``), roles or columns: the static concept is income without ALL of them.
MULTINOMIAL_DEFAULTS = {"status": "migration_status", "base": "none", "correction": "dmf", "draws": 20,
                        "static_sources": ["remittances", "internal_remittances"], "kind": "conditional"}

from .publication import parse_publication  # noqa: E402
from .figures import parse_style  # noqa: E402

#: output sections -> their checks (remitpov.report.publication, remitpov.report.figures)
_OUTPUT_SECTIONS = {"publication": parse_publication, "style": parse_style}

_CHAPTER_KEYS = {"title", "language", "seed", "ci_level", "measures", "domains", "tables", "figures",
                 "strict", "out", "curve_points", "curve_max", "progress", "report", "text"}
_SURVEY_KEYS = {"id", "label", "format", "path", "options", "lines", "income", "measures",
                "counterfactual", "area", "lonely_psu", "coverage"}


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


@dataclass(frozen=True)
class SurveySpec:
    """One survey of the chapter (see module docstring for the keys)."""

    index: int
    id: str
    label: str
    format: str
    path: Path | None
    options: Mapping[str, Any]
    lines: Mapping[str, LineSpec]
    income: Mapping[str, Any]
    measures: tuple[str, ...]
    counterfactual: Mapping[str, Any] | None
    area: str | None = None  # column name of the area (default: the survey's "area" role)
    lonely_psu: str | None = None  # singleton-PSU policy passed to Survey.with_lonely_psu
    line_period: str | None = None  # period the lines are expressed in ([survey.lines] period), if declared
    coverage: Mapping[str, Any] | None = None  # [survey.coverage]: balance of payments (blocks/coverage.py)

    @property
    def key(self) -> str:
        return f"survey[{self.index}]"

    def to_dict(self) -> dict:
        return {
            "id": self.id, "label": self.label, "format": self.format,
            "path": None if self.path is None else str(self.path),
            "options": dict(self.options), "lines": {k: v.describe() for k, v in self.lines.items()},
            "income": dict(self.income), "measures": list(self.measures),
            "counterfactual": None if self.counterfactual is None else dict(self.counterfactual),
            "area": self.area, "lonely_psu": self.lonely_psu, "line_period": self.line_period,
            **({} if self.coverage is None else {"coverage": dict(self.coverage)}),
        }


@dataclass(frozen=True)
class ChapterSpec:
    """A validated chapter specification."""

    title: str
    language: str
    seed: int
    ci_level: float
    measures: tuple[str, ...]
    domains: tuple[str, ...]
    tables: tuple[str, ...]
    figures: tuple[str, ...]
    strict: bool
    surveys: tuple[SurveySpec, ...]
    income: Mapping[str, Any] = field(default_factory=dict)
    out: Path | None = None
    curve_points: int = 41
    curve_max: float = 2.0
    source: Path | None = None  # the TOML file, if any
    source_sha256: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    migration: Mapping[str, Any] | None = None  # [migration]: the migration_* blocks (blocks/migration.py)

    def to_dict(self) -> dict:
        return {
            "title": self.title, "language": self.language, "seed": self.seed, "ci_level": self.ci_level,
            "measures": list(self.measures), "domains": list(self.domains), "tables": list(self.tables),
            "figures": list(self.figures), "strict": self.strict, "income": dict(self.income),
            "curve_points": self.curve_points, "curve_max": self.curve_max,
            "surveys": [s.to_dict() for s in self.surveys],
            **({} if self.migration is None else {"migration": dict(self.migration)}),
        }


# --------------------------------------------------------------------------- helpers
def _fail(key: str, problem: str, fix: str) -> SpecError:
    return SpecError(f"{key}: {problem}. Fix: {fix}")


def _str_list(value, key: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise _fail(key, f"expected a list of {what}, got {value!r}", f"write e.g. {key.split('.')[-1]} = {list(allowed[:2])}")
    out = []
    for v in value:
        if v not in allowed:
            raise _fail(key, f"unknown {what[:-1] if what.endswith('s') else what} {v!r}",
                        f"use one of {list(allowed)}")
        if v not in out:
            out.append(v)
    return tuple(out)


def _number(value, key: str, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(key, f"expected a number, got {value!r}", "give the line as a number in the units of the "
                    "income concept (e.g. monthly per-capita income)")
    v = float(value)
    if not np.isfinite(v) or (positive and v <= 0):
        raise _fail(key, f"the value {value!r} is not a positive finite number", "give a positive line")
    return v


def _year(value, key: str) -> int:
    """A survey year: a whole number between 1900 and 2100 (not a string, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 2100:
        raise _fail(key, f"expected a year (a whole number between 1900 and 2100), got {value!r}",
                    "write e.g. year = 2018 (no quotes)")
    return value


def _formula(value, key: str, columns=None) -> list[str]:
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
    raise _fail(key, f"input file not found: {raw!r} (tried {', '.join(str(t) for t in tried)})",
                "correct the path (relative paths are looked up next to the spec file, then in the shared "
                "data folder $REMITPOV_SHARED)")


def _parse_line(value, key: str) -> LineSpec:
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


def _check_keys(table: Mapping, allowed: set, key: str):
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _fail(key, f"unknown key(s) {unknown}", f"remove them; known keys are {sorted(allowed)}")


def _parse_multinomial(cf: Mapping[str, Any], key: str) -> dict:
    """Validate ``[survey.counterfactual] method = "multinomial"``; returns the table with defaults.

    Keys (defaults in :data:`MULTINOMIAL_DEFAULTS`): ``status`` (column or role of the
    migration status), ``base`` (its no-migrant category), ``correction`` (one of
    :data:`remitpov.econometrics.multinomial.METHODS`), ``income_formula`` and
    ``selection_formula`` (required right-hand sides), ``binary_selection_formula``
    (optional: adds the binary Heckman row), ``draws`` (0 or >= 2), ``seed`` (default: the
    chapter seed), ``static_sources`` (income sources removed for the static concept),
    ``kind`` ("conditional" (default, status-specific)|"unconditional"), ``weighted``, ``nonpositive``.
    """
    try:
        from ..econometrics.multinomial import METHODS
    except ImportError as e:  # pragma: no cover - the module ships with remitpov
        raise _fail(f"{key}.method", f"'multinomial' needs remitpov.econometrics.multinomial ({e})",
                    "update remitpov, or use method = 'static'") from None
    out = {**copy.deepcopy(MULTINOMIAL_DEFAULTS), **dict(cf)}
    for k in ("status", "base"):
        v = out[k]
        if not isinstance(v, str) or not v:
            raise _fail(f"{key}.{k}", f"expected a non-empty string, got {v!r}",
                        f"e.g. {k} = {MULTINOMIAL_DEFAULTS[k]!r}")
    if out["correction"] not in METHODS:
        raise _fail(f"{key}.correction", f"unknown correction {out['correction']!r}",
                    f"use one of {list(METHODS)} (remitpov.econometrics.multinomial.METHODS)")
    for k in ("income_formula", "selection_formula"):
        if k not in out:
            raise _fail(f"{key}.{k}", "missing (method 'multinomial' has no preset)",
                        f"give {k} as a right-hand side, e.g. {k} = 'head_educ + head_age'")
    for k in ("income_formula", "selection_formula", "binary_selection_formula"):
        if k in out:
            v = out[k]
            if not isinstance(v, str) or not v.strip().lstrip("~").strip():
                raise _fail(f"{key}.{k}", f"expected a non-empty formula string, got {v!r}",
                            "give a right-hand side, e.g. 'head_educ + head_age + mig_network'")
            if "~" in v and v.split("~", 1)[0].strip():
                raise _fail(f"{key}.{k}", f"give a right-hand side only, got left-hand side "
                            f"{v.split('~', 1)[0].strip()!r}",
                            "drop the outcome: log income and the status are built for you")
            _formula(v, f"{key}.{k}")
    d = out["draws"]
    if isinstance(d, bool) or not isinstance(d, int) or d < 0 or d == 1:
        raise _fail(f"{key}.draws", f"expected 0 or an integer >= 2, got {d!r}",
                    "draws = 20 (multiple imputation, Rubin's rules) or 0 (deterministic)")
    if "seed" in out:
        sd = out["seed"]
        if isinstance(sd, bool) or not isinstance(sd, int) or sd < 0:
            raise _fail(f"{key}.seed", f"expected a non-negative integer, got {sd!r}", "e.g. seed = 2026")
    src = out["static_sources"]
    if isinstance(src, str):
        src = [src]
    if (not isinstance(src, (list, tuple)) or not src
            or not all(isinstance(x, str) and x for x in src)):
        raise _fail(f"{key}.static_sources", f"expected a non-empty list of source names, got {src!r}",
                    "e.g. static_sources = ['remittances', 'internal_transfers']")
    out["static_sources"] = list(src)
    if out["kind"] not in ("unconditional", "conditional"):
        raise _fail(f"{key}.kind", f"unknown prediction {out['kind']!r}", "use 'unconditional' or 'conditional'")
    if "weighted" in out and not isinstance(out["weighted"], bool):
        raise _fail(f"{key}.weighted", f"expected true/false, got {out['weighted']!r}", "weighted = true")
    if "nonpositive" in out and out["nonpositive"] not in ("exclude", "error"):
        raise _fail(f"{key}.nonpositive", f"unknown policy {out['nonpositive']!r}", "use 'exclude' or 'error'")
    return out


def check_counterfactual_columns(spec: SurveySpec, survey) -> None:
    """After loading (before estimation): the multinomial counterfactual's columns exist.

    Checks the status column (a column or role name) and its base category, the
    ``static_sources`` and every variable of the formulas.
    """
    cf = spec.counterfactual or {}
    if cf.get("method") != "multinomial":
        return
    key = f"{spec.key}.counterfactual"
    cols = survey.data.columns
    status = survey.roles.get(cf["status"], cf["status"])
    if status not in cols:
        raise _fail(f"{key}.status", f"no column or role {cf['status']!r} in the loaded survey (the multinomial "
                    "counterfactual needs a migration status with a no-migrant category)",
                    "set status = '<column>' (e.g. synthetic options migration_types = true add "
                    "'migration_status'), or use method = 'heckman'")
    values = sorted(map(str, survey.data[status].dropna().unique()))
    if cf["base"] not in values:
        raise _fail(f"{key}.base", f"category {cf['base']!r} not in the status column {status!r} "
                    f"(values {values})", f"set base to one of {values}")
    if len(values) < 2:
        raise _fail(f"{key}.status", f"the status column {status!r} has a single category {values}",
                    "use a status with a base and at least one migrant category")
    for src in cf["static_sources"]:
        if src not in survey.sources and src not in survey.roles and src not in cols:
            raise _fail(f"{key}.static_sources", f"unknown income source {src!r}",
                        f"use source names {sorted(survey.sources)}, roles or column names")
    for k in ("income_formula", "selection_formula", "binary_selection_formula"):
        if k in cf:  # only the loaded survey's columns and the allowed functions (remitpov.formula)
            _formula(cf[k].split("~", 1)[-1], f"{key}.{k}", cols)


# --------------------------------------------------------------------------- parsing
def parse_spec(data: Mapping[str, Any], base_dir: Path | str | None = None, *, source: Path | None = None,
               source_sha256: str | None = None) -> ChapterSpec:
    """Validate a spec given as a dict (the parsed TOML). Raises :class:`SpecError`."""
    base = None if base_dir is None else Path(base_dir)
    data = copy.deepcopy(dict(data))
    top_unknown = sorted(set(data) - {"chapter", "income", "survey", "lines", "migration", *_OUTPUT_SECTIONS})
    if top_unknown:
        raise _fail("(top level)", f"unknown section(s) {top_unknown}",
                    "use [chapter], [income], [lines], [[survey]], [migration], [publication] and [style] sections")
    if "migration" in data and "survey" not in data:
        raise _fail("(top level)", "a [migration] section without [[survey]]",
                    "a [migration] spec alone runs with `remitpov migration SPEC --out DIR`; in a chapter, add "
                    "[[survey]] tables and migration measures (remitpov.report.blocks.migration)")
    for name, check in _OUTPUT_SECTIONS.items():  # publication layout, figure style: checked here, read at write time
        check(data.get(name), name)
    ch = data.get("chapter", {})
    if not isinstance(ch, Mapping):
        raise _fail("chapter", "must be a table", "write a [chapter] section")
    _check_keys(ch, _CHAPTER_KEYS, "chapter")
    language = ch.get("language", "en")
    if language not in LANGUAGES:
        raise _fail("chapter.language", f"unknown language {language!r}", f"use one of {list(LANGUAGES)}")
    seed = ch.get("seed", 2026)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise _fail("chapter.seed", f"expected a non-negative integer, got {seed!r}", "e.g. seed = 2026")
    ci = ch.get("ci_level", 0.95)
    if isinstance(ci, bool) or not isinstance(ci, (int, float)) or not 0 < ci < 1:
        raise _fail("chapter.ci_level", f"expected a number in (0, 1), got {ci!r}", "e.g. ci_level = 0.95")
    all_measures = _blocks.measures()  # read at parse time: a block registered later is known
    measures = _str_list(ch.get("measures", list(_blocks.default_measures())), "chapter.measures", all_measures,
                         "measures")
    domains = _str_list(ch.get("domains", list(DOMAINS)), "chapter.domains", DOMAINS, "domains")
    tables = _str_list(ch.get("tables", list(TABLE_FORMATS)), "chapter.tables", TABLE_FORMATS, "table formats")
    figures = _str_list(ch.get("figures", ["png", "pdf"]), "chapter.figures", FIGURE_FORMATS, "figure formats")
    strict = ch.get("strict", True)
    if not isinstance(strict, bool):
        raise _fail("chapter.strict", f"expected true/false, got {strict!r}", "strict = true means poor if y < z")
    cp = ch.get("curve_points", 41)
    if isinstance(cp, bool) or not isinstance(cp, int) or cp < 3:
        raise _fail("chapter.curve_points", f"expected an integer >= 3, got {cp!r}", "e.g. curve_points = 41")
    cm = _number(ch.get("curve_max", 2.0), "chapter.curve_max")
    if ch.get("report", "html") not in ("html", "none"):  # remitpov.report.html.REPORT_FORMATS
        raise _fail("chapter.report", f"unknown report format {ch['report']!r}", "report = \"html\" or \"none\"")
    if not isinstance(ch.get("text", ""), str):
        raise _fail("chapter.text", f"expected a string (Markdown), got {type(ch['text']).__name__}",
                    "text = '''...''' (Markdown: paragraphs, # headings, *emphasis*, - lists)")
    out = ch.get("out")
    if out is not None:
        out = Path(out) if Path(out).is_absolute() or base is None else base / out
    income = data.get("income", {})
    if not isinstance(income, Mapping):
        raise _fail("income", "must be a table", "write an [income] section with build_income options")
    default_lines = data.get("lines", {})

    surveys_raw = data.get("survey")
    if not surveys_raw:
        raise _fail("survey", "no survey given", "add at least one [[survey]] table with format and path")
    if isinstance(surveys_raw, Mapping):
        surveys_raw = [surveys_raw]
    surveys, ids = [], set()
    for i, s in enumerate(surveys_raw):
        key = f"survey[{i}]"
        if not isinstance(s, Mapping):
            raise _fail(key, "must be a table", "write [[survey]] sections")
        _check_keys(s, _SURVEY_KEYS, key)
        fmt = s.get("format")
        if fmt is None:
            raise _fail(f"{key}.format", "missing", f"add format = one of {list(FORMATS)}")
        if fmt not in FORMATS:
            raise _fail(f"{key}.format", f"unknown survey format {fmt!r}", f"use one of {list(FORMATS)}")
        sid = str(s.get("id", f"{fmt}{i}"))
        if not sid.replace("_", "").replace("-", "").isalnum():
            raise _fail(f"{key}.id", f"{sid!r} is not a simple identifier", "use letters, digits, '-' or '_'")
        if sid in ids:
            raise _fail(f"{key}.id", f"duplicate survey id {sid!r}", "give every survey a distinct id")
        ids.add(sid)
        path = None
        if fmt in NO_FILE_FORMATS:
            if "path" in s:
                raise _fail(f"{key}.path", f"format {fmt!r} takes no input file", "remove the path")
        else:
            if "path" not in s:
                raise _fail(f"{key}.path", "missing", f"give the input file of the {fmt!r} survey")
            path = resolve_path(s["path"], f"{key}.path", base)
        options = s.get("options", {})
        if not isinstance(options, Mapping):
            raise _fail(f"{key}.options", "must be a table", "write [survey.options] with loader keyword arguments")
        if "year" in options:
            _year(options["year"], f"{key}.options.year")
        if fmt == "table" and "weight" not in options:
            raise _fail(f"{key}.options.weight", "missing", "the generic 'table' format needs options.weight "
                        "(the weight column)")
        lines_raw = dict(default_lines)
        lines_raw.update(s.get("lines", {}))
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
        s_measures = _str_list(s.get("measures", list(measures)), f"{key}.measures", all_measures, "measures")
        needs_lines = set(_blocks.line_measures()) & set(s_measures)
        if needs_lines and "poverty" not in lines_raw:
            raise _fail(f"{key}.lines.poverty", f"missing (needed by measures {sorted(needs_lines)})",
                        "add [survey.lines] poverty = <number> or a table {area = number}")
        if table_src is not None:
            lines = {k: LineSpec(f"{key}.lines", table=table_src) for k in LINE_KINDS}
        else:
            lines = {k: _parse_line(v, f"{key}.lines.{k}") for k, v in lines_raw.items()}
        inc = dict(income)
        s_inc = s.get("income", {})
        if not isinstance(s_inc, Mapping):
            raise _fail(f"{key}.income", "must be a table", "write [survey.income] with build_income options")
        inc.update(s_inc)
        cf = s.get("counterfactual")
        if cf is not None:
            if not isinstance(cf, Mapping):
                raise _fail(f"{key}.counterfactual", "must be a table", "e.g. counterfactual = {method = 'heckman'}")
            m = cf.get("method", "static")
            if m not in COUNTERFACTUAL_METHODS:
                raise _fail(f"{key}.counterfactual.method", f"unknown method {m!r}",
                            f"use one of {list(COUNTERFACTUAL_METHODS)}")
            cf = dict(cf)
            cf["method"] = m
            allowed = _MULTINOMIAL_KEYS if m == "multinomial" else _COUNTERFACTUAL_KEYS
            unknown = sorted(set(cf) - allowed)
            if unknown:
                raise _fail(f"{key}.counterfactual", f"unknown key(s) {unknown} for method {m!r}",
                            f"use {sorted(allowed)}")
            if m == "multinomial":
                cf = _parse_multinomial(cf, f"{key}.counterfactual")
            if m == "heckman":
                preset = cf.get("preset")
                if preset is not None and preset not in COUNTERFACTUAL_PRESETS:
                    raise _fail(f"{key}.counterfactual.preset", f"unknown preset {preset!r}",
                                f"use one of {list(COUNTERFACTUAL_PRESETS)} or give income_formula and "
                                "selection_formula")
                if preset is None and not ("income_formula" in cf and "selection_formula" in cf):
                    raise _fail(f"{key}.counterfactual", "method 'heckman' needs income_formula and "
                                "selection_formula (or a preset)", "e.g. preset = 'enigh_rural'")
                for k in ("income_formula", "selection_formula"):
                    if k in cf:
                        _formula(cf[k], f"{key}.counterfactual.{k}")
                d = cf.get("draws", 20)
                if isinstance(d, bool) or not isinstance(d, int) or d < 0 or d == 1:
                    raise _fail(f"{key}.counterfactual.draws", f"expected 0 or an integer >= 2, got {d!r}",
                                "draws = 20 (multiple imputation) or 0 (deterministic)")
            if "counterfactual" not in s_measures:
                s_measures = s_measures + ("counterfactual",)
        elif "counterfactual" in s_measures:
            cf = {"method": "static"}
        area = s.get("area")
        lonely = s.get("lonely_psu")
        if lonely is not None:
            from ..design import LONELY_PSU_POLICIES

            if lonely not in LONELY_PSU_POLICIES:
                raise _fail(f"{key}.lonely_psu", f"unknown policy {lonely!r}", f"use one of {list(LONELY_PSU_POLICIES)}")
        coverage = _blocks.coverage.parse_coverage(s.get("coverage"), f"{key}.coverage",
                                                   lambda raw, k: resolve_path(raw, k, base), s_measures)
        surveys.append(SurveySpec(i, sid, str(s.get("label", sid)), fmt, path, dict(options), lines, inc,
                                  s_measures, cf, area, lonely, line_period, coverage))
    migration = _blocks.migration.parse_migration(  # [migration]: the migration_* blocks
        data.get("migration"), "migration", lambda raw, k: resolve_path(raw, k, base),
        set(measures).union(*(s.measures for s in surveys)))
    return ChapterSpec(str(ch.get("title", "Remittances, poverty and inequality")), language, int(seed), float(ci),
                       measures, domains, tables, figures, strict, tuple(surveys), dict(income), out, cp, cm,
                       source, source_sha256, data, migration)


def load_spec(path) -> ChapterSpec:
    """Read and validate a chapter spec TOML file. Raises :class:`SpecError`."""
    p = Path(path)
    if not p.exists():
        raise _fail("spec", f"spec file not found: {p}", "give the path of an existing TOML file")
    raw = p.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise _fail("spec", f"{p} is not valid TOML ({e})", "fix the TOML syntax") from None
    return parse_spec(data, p.resolve().parent, source=p.resolve(), source_sha256=hashlib.sha256(raw).hexdigest())


def check_lines_cover(spec: SurveySpec, area_values) -> None:
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


def check_line_columns(spec: SurveySpec, survey) -> None:
    """After loading: lines given as a column or role name must exist in the data."""
    for kind, line in spec.lines.items():
        if line.column is None:
            continue
        col = survey.roles.get(line.column, line.column)
        if col not in survey.data.columns:
            raise _fail(line.key, f"no column or role {line.column!r} in the loaded survey",
                        f"use a number, or one of the roles {sorted(survey.roles)}")


def check_line_period(spec: SurveySpec, income_period: str | None) -> None:
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


def check_remittances(spec: SurveySpec, has_remittances: bool) -> None:
    """After loading: measures that need remittances need a remittance column."""
    if has_remittances:
        return
    remit = _blocks.remittance_measures()
    need = [m for m in spec.measures if m in remit]
    if need:
        keep = [m for m in spec.measures if m not in remit]
        raise _fail(f"{spec.key}.measures", f"the {spec.format!r} survey has no remittance income, but measures "
                    f"{need} need it", f"set measures = {keep} for this survey")


# --------------------------------------------------------------------------- generic table loader
#: the generic "table" format: the package's one generic reader (remitpov.io.generic)
from ..io.generic import read_table_survey  # noqa: E402,F401

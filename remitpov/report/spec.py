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

    [labels.figure]                    # optional: replace any text the chapter writes (remitpov.report.i18n)
    with = "With private transfers"    # sections title, header, figure, pub, report; same placeholders
    paired_title = "{indicator} with and without private transfers"

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
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from . import blocks as _blocks
# the spec's parts (one module each; every name is importable from here as before):
from .spec_common import (check_keys as _check_keys, fail as _fail, number as _number, resolve_path,  # noqa: F401
                          str_list as _str_list, year as _year)
from .spec_counterfactual import (COUNTERFACTUAL_METHODS, COUNTERFACTUAL_PRESETS, MULTINOMIAL_DEFAULTS,  # noqa: F401
                                  check_counterfactual_columns, parse_counterfactual)
from .spec_lines import (LINE_KINDS, LINE_PERIODS, RELATIVE_LINE_KEYS, LineSpec, check_line_columns,  # noqa: F401
                         check_line_period, check_lines_cover, parse_lines)

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

from .publication import parse_publication  # noqa: E402
from .figures import parse_style  # noqa: E402

#: output sections -> their checks (remitpov.report.publication, remitpov.report.figures)
from .labels import parse_labels  # noqa: E402

_OUTPUT_SECTIONS = {"publication": parse_publication, "style": parse_style, "labels": parse_labels}

_CHAPTER_KEYS = {"title", "language", "seed", "ci_level", "measures", "domains", "tables", "figures",
                 "strict", "out", "curve_points", "curve_max", "progress", "report", "text"}
_SURVEY_KEYS = {"id", "label", "format", "path", "options", "lines", "income", "measures",
                "counterfactual", "area", "lonely_psu", "coverage"}


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


# --------------------------------------------------------------------------- parsing
def parse_spec(data: Mapping[str, Any], base_dir: Path | str | None = None, *, source: Path | None = None,
               source_sha256: str | None = None) -> ChapterSpec:
    """Validate a spec given as a dict (the parsed TOML). Raises :class:`SpecError`."""
    base = None if base_dir is None else Path(base_dir)
    data = copy.deepcopy(dict(data))
    top_unknown = sorted(set(data) - {"chapter", "income", "survey", "lines", "migration", *_OUTPUT_SECTIONS})
    if top_unknown:
        raise _fail("(top level)", f"unknown section(s) {top_unknown}",
                    "use [chapter], [income], [lines], [[survey]], [migration], [publication], [style] and [labels] sections")
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
        s_measures = _str_list(s.get("measures", list(measures)), f"{key}.measures", all_measures, "measures")
        lines, line_period = parse_lines({**default_lines, **s.get("lines", {})}, key, base, s_measures)
        inc = dict(income)
        s_inc = s.get("income", {})
        if not isinstance(s_inc, Mapping):
            raise _fail(f"{key}.income", "must be a table", "write [survey.income] with build_income options")
        inc.update(s_inc)
        cf, s_measures = parse_counterfactual(s.get("counterfactual"), key, s_measures)
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
